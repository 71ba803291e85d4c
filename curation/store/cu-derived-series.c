/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-derived-series.c — a catalogued series in as a volume, a processed volume out as a new
 * DICOM series of the same study (cu-derived-series.h).
 *
 * The derived series is written as classic single-frame images (MR or CT Image Storage after
 * the source's modality, Secondary Capture otherwise), one file per slice and time point, so
 * every reader — Curata's own series plan, dcm2niix, 3D Slicer, pydicom — rebuilds the same
 * geometry from ImagePositionPatient/ImageOrientationPatient/PixelSpacing (PS3.3 C.7.6.2).
 *
 * What is copied from the source is a fixed list of attributes (patient, study, equipment and
 * acquisition parameters, the de-identification record), read from its first instance. A
 * fixed list and not "everything but the pixels" because the derived series must never carry
 * more than its source had checked: private groups, free-text comments and sequences of
 * unknown content stay behind. The written files go through the importer like any other, so
 * the pseudonymization gate checks them too.
 *
 * The folder's lifecycle. A series is written into objects/derived/<uid>.partial, renamed to
 * <uid> when complete, catalogued by the importer (its own transactions) and then given its
 * lineage row; only the lineage row makes it finished. A process killed on the way (kill -9,
 * power cut) leaves a .partial folder, or a complete folder with or without catalog rows but
 * without lineage. Nothing in that chain can be made one transaction (the importer commits by
 * itself), so leftovers are swept instead: each writer holds an flock(2) on
 * objects/derived/<uid>.lock from before its folder exists until the lineage row is committed
 * or its own failure is cleaned up, and the next derived write, under the workspace's write
 * lock, removes every folder that no lineage row names and whose lock it can take — its writer
 * is dead — together with the catalog rows of a series that was catalogued but never finished.
 * flock and not fcntl locks: those belong to the process and any close() of the file drops
 * them, and SQLite uses them for the database. Folders without a lock file (written before
 * writers took one) are removed only when nothing is catalogued from them and after a day.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cu-derived-series.h"
#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"
#include "cu-dicom-writer.h"
#include "cu-series-plan.h"
#include "cu-store-private.h"

#define T(g, e) CU_DICOM_TAG (0x##g, 0x##e)

#define CU_DICOM_CT_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.2"
#define CU_DICOM_SC_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.7"

/* ---- Loading ---------------------------------------------------------------------- */

CuVolume *
cu_store_load_series_volume (CuStore      *self,
                             const char   *series_uid,
                             CuProgress   *progress,
                             GCancellable *cancellable,
                             GError      **error)
{
  g_autofree char *full_uid = NULL;
  g_auto(GStrv) files = NULL;
  g_autoptr(CuSeriesPlan) plan = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (series_uid != NULL, NULL);

  full_uid = cu_store_resolve_series (self, series_uid, error);
  if (full_uid == NULL)
    return NULL;
  files = cu_store_get_series_files (self, full_uid, error);
  if (files == NULL)
    return NULL;
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, cancellable, error);
  if (plan == NULL)
    return NULL;
  return cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), progress, cancellable,
                              error);
}

/* ---- What is copied from the source ----------------------------------------------- */

/* Top-level text attributes carried over when the source has them. */
static const guint32 copied_tags[] = {
  /* Patient (pseudonymized by the site) and the record of that de-identification */
  T (0010, 0010), T (0010, 0020), T (0010, 0030), T (0010, 0040), T (0010, 1010),
  T (0010, 1020), T (0010, 1030), T (0012, 0062), T (0012, 0063),
  /* Study */
  T (0020, 000D), T (0008, 0020), T (0008, 0030), T (0008, 0050), T (0008, 0090),
  T (0008, 1030), T (0020, 0010),
  /* Series timing kept on the source's (possibly shifted) time line */
  T (0008, 0021), T (0008, 0031),
  /* Equipment and acquisition: what protocol checks and readers rely on */
  T (0008, 0060), T (0008, 0070), T (0008, 1090), T (0018, 0015), T (0018, 5100),
  T (0018, 0020), T (0018, 0021), T (0018, 0022), T (0018, 0023), T (0018, 0050),
  T (0018, 0080), T (0018, 0081), T (0018, 0082), T (0018, 0087), T (0018, 0091),
  T (0018, 1314), T (0020, 0052),
};

typedef struct
{
  char vr[3];
  char *text;
} CopiedValue;

typedef struct
{
  GHashTable *values;   /* tag (GUINT_TO_POINTER) → CopiedValue */
  GPtrArray *codes;     /* (0012,0064) items as CuDicomCode-like triples, strings owned */
  char *image_type;     /* (0008,0008), backslash-separated, or NULL */
} SourceAttributes;

static void
copied_value_free (gpointer data)
{
  CopiedValue *v = data;

  g_free (v->text);
  g_free (v);
}

static void
source_attributes_clear (SourceAttributes *src)
{
  g_clear_pointer (&src->values, g_hash_table_unref);
  g_clear_pointer (&src->codes, g_ptr_array_unref);
  g_clear_pointer (&src->image_type, g_free);
}

static gboolean
is_copied (guint32 tag)
{
  for (guint i = 0; i < G_N_ELEMENTS (copied_tags); i++)
    if (copied_tags[i] == tag)
      return TRUE;
  return FALSE;
}

/* Items of DeidentificationMethodCodeSequence: three strings per item in src->codes. */
static void
collect_code (SourceAttributes *src, const CuDicomElement *e)
{
  const char *prefix = "(0012,0064)[";
  const char *rest;
  char *end = NULL;
  guint64 item;
  guint slot;

  if (e->depth != 1 || e->text == NULL || !g_str_has_prefix (e->tag_path, prefix))
    return;
  rest = e->tag_path + strlen (prefix);
  item = g_ascii_strtoull (rest, &end, 10);
  if (end == rest || item > 64)
    return;
  if (e->group == 0x0008 && (e->element == 0x0100 || e->element == 0x0119))
    slot = 0;
  else if (e->group == 0x0008 && e->element == 0x0102)
    slot = 1;
  else if (e->group == 0x0008 && e->element == 0x0104)
    slot = 2;
  else
    return;
  while (src->codes->len < (item + 1) * 3)
    g_ptr_array_add (src->codes, NULL);
  g_free (src->codes->pdata[item * 3 + slot]);
  src->codes->pdata[item * 3 + slot] = g_strdup (e->text);
}

static gboolean
visit_source (const CuDicomElement *e, gpointer user_data)
{
  SourceAttributes *src = user_data;
  guint32 tag = CU_DICOM_TAG (e->group, e->element);

  /* ImageType, which the derived series rewrites rather than copies, comes from the same
   * walk, so the source file is parsed once. */
  if (e->depth == 0 && e->text != NULL && tag == T (0008, 0008))
    {
      g_free (src->image_type);
      src->image_type = g_strdup (e->text);
    }
  if (e->depth == 0 && e->text != NULL && is_copied (tag))
    {
      CopiedValue *v = g_new0 (CopiedValue, 1);

      memcpy (v->vr, e->vr, sizeof v->vr);
      v->text = g_strdup (e->text);
      g_hash_table_replace (src->values, GUINT_TO_POINTER (tag), v);
    }
  else
    collect_code (src, e);
  return TRUE;
}

static gboolean
read_source_attributes (const char *path, SourceAttributes *src, GError **error)
{
  src->values = g_hash_table_new_full (NULL, NULL, NULL, copied_value_free);
  src->codes = g_ptr_array_new_with_free_func (g_free);
  return cu_dicom_walk_file (path, visit_source, src, error);
}

static const char *
source_text (const SourceAttributes *src, guint32 tag)
{
  CopiedValue *v = g_hash_table_lookup (src->values, GUINT_TO_POINTER (tag));

  return v != NULL ? v->text : NULL;
}

/* ---- Pixel encoding --------------------------------------------------------------- */

typedef struct
{
  double slope, intercept;
  double window_center, window_width;
} Encoding;

/* 8 significant digits: "-1.2345678e-05" is 14 characters, within DS's 16. */
static void
ds_text (double value, char buffer[G_ASCII_DTOSTR_BUF_SIZE])
{
  g_ascii_formatd (buffer, G_ASCII_DTOSTR_BUF_SIZE, "%.8g", value);
}

static double
round_to_ds (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  ds_text (value, buffer);
  return g_ascii_strtod (buffer, NULL);
}

/* Signed 16-bit with the narrowest rescale that covers [min, max]; integer volumes that fit
 * are stored exactly (slope 1, intercept 0), so a derived copy of integer data round-trips. */
static void
choose_encoding (const CuVolume *volume, Encoding *enc)
{
  gsize n = cu_volume_n_voxels_3d (volume) * (gsize) volume->dims[3];
  float min = INFINITY, max = -INFINITY;
  gboolean integral = TRUE;

  for (gsize i = 0; i < n; i++)
    {
      float v = volume->voxels[i];

      if (isnan (v))
        continue;
      if (v < min)
        min = v;
      if (v > max)
        max = v;
      if (integral && v != floorf (v))
        integral = FALSE;
    }
  if (!(min <= max))
    min = max = 0;

  if (integral && min >= -32768 && max <= 32767)
    {
      enc->slope = 1;
      enc->intercept = 0;
    }
  else
    {
      enc->intercept = 0.5 * ((double) min + max);
      enc->slope = ((double) max - min) / 65534.0;
      if (!(enc->slope > 0))
        enc->slope = 1;
      /* DS holds 16 characters: round the values the way the file stores them (ds_text), so
       * that encoding uses exactly what a reader will decode with. */
      enc->slope = round_to_ds (enc->slope);
      enc->intercept = round_to_ds (enc->intercept);
    }

  {
    float lo = cu_volume_percentile (volume, 0, 1.0);
    float hi = cu_volume_percentile (volume, 0, 99.5);

    if (!(hi > lo))
      {
        lo = min;
        hi = max > min ? max : min + 1;
      }
    enc->window_center = 0.5 * ((double) lo + hi);
    enc->window_width = (double) hi - lo;
  }
}

static void
encode_slice (const float *in, gsize n, const Encoding *enc, gint16 *out)
{
  for (gsize i = 0; i < n; i++)
    {
      double v = isnan (in[i]) ? enc->intercept : ((double) in[i] - enc->intercept) / enc->slope;
      long s = lround (v);

      if (s < -32768)
        s = -32768;
      else if (s > 32767)
        s = 32767;
      out[i] = GINT16_TO_LE ((gint16) s);
    }
}

/* ---- Writing ---------------------------------------------------------------------- */

typedef struct
{
  const CuDerivedSeriesSpec *spec;
  const CuVolume *volume;
  const SourceAttributes *src;
  const char *series_uid;
  const char *sop_class;
  const char *frame_of_reference;
  const char *description;
  char *image_type;
  int series_number;
  Encoding enc;
  /* The instances of the source and reference series, (SOP class, SOP instance) pairs: a
   * Referenced Series Sequence item must list them (Referenced Instance Sequence is Type 1
   * there, PS3.3 C.12.2), or validators reject every derived image. */
  GPtrArray *source_refs, *reference_refs;
} WriteContext;

/* The instances of a catalogued series as (SOP class, SOP instance) pairs, in slice order. */
static GPtrArray *
series_instance_refs (CuStore *self, const char *series_uid, GError **error)
{
  g_autoptr(GPtrArray) refs = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  int rc;

  stmt = _cu_store_prepare (self->db,
                            "SELECT i.sop_class_uid, i.sop_instance_uid FROM instance i"
                            "  JOIN series se ON i.series_ref = se.id WHERE se.series_uid = ?1"
                            "  ORDER BY i.instance_number, i.sop_instance_uid", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *cls = (const char *) sqlite3_column_text (stmt, 0);
      const char *uid = (const char *) sqlite3_column_text (stmt, 1);

      if (cls == NULL || *cls == '\0' || uid == NULL || *uid == '\0')
        continue;
      g_ptr_array_add (refs, g_strdup (cls));
      g_ptr_array_add (refs, g_strdup (uid));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the source series' instances failed"));
      return NULL;
    }
  return g_steal_pointer (&refs);
}

/* A Referenced Series Sequence item: the series and every instance of it. */
static CuDicomDataset *
referenced_series_item (const char *series_uid, const GPtrArray *refs)
{
  CuDicomDataset *item = cu_dicom_dataset_new ();
  guint n = refs != NULL ? refs->len / 2 : 0;

  cu_dicom_dataset_add_string (item, T (0020, 000E), "UI", series_uid);
  if (n > 0)
    {
      g_autofree CuDicomDataset **instances = g_new0 (CuDicomDataset *, n);

      for (guint i = 0; i < n; i++)
        {
          instances[i] = cu_dicom_dataset_new ();
          cu_dicom_dataset_add_string (instances[i], T (0008, 1150), "UI", refs->pdata[2 * i]);
          cu_dicom_dataset_add_string (instances[i], T (0008, 1155), "UI", refs->pdata[2 * i + 1]);
        }
      cu_dicom_dataset_add_sequence (item, T (0008, 114A), instances, n);
    }
  return item;
}

static void
add_copied (CuDicomDataset *ds, const SourceAttributes *src, guint32 tag, const char *vr)
{
  CopiedValue *v = g_hash_table_lookup (src->values, GUINT_TO_POINTER (tag));

  if (v != NULL)
    cu_dicom_dataset_add_string (ds, tag, v->vr[0] != '\0' ? v->vr : vr, v->text);
}

static CuDicomDataset *
build_instance (const WriteContext *w, int k, int t, const gint16 *pixels)
{
  const CuVolume *vol = w->volume;
  CuDicomDataset *ds = cu_dicom_dataset_new ();
  g_autofree char *sop_uid = cu_dicom_uid_new ();
  double ipp[3], iop[6], ps[2], v;
  guint n_codes = w->src->codes->len / 3;

  for (int c = 0; c < 3; c++)
    {
      ipp[c] = vol->origin[c] + vol->direction[c * 3 + 2] * vol->spacing[2] * k;
      iop[c] = vol->direction[c * 3 + 0];
      iop[3 + c] = vol->direction[c * 3 + 1];
    }
  ps[0] = vol->spacing[1];   /* PixelSpacing: row spacing (between rows) first */
  ps[1] = vol->spacing[0];

  for (guint i = 0; i < G_N_ELEMENTS (copied_tags); i++)
    if (copied_tags[i] != T (0020, 0052) && copied_tags[i] != T (0018, 0050))
      add_copied (ds, w->src, copied_tags[i], "LO");

  cu_dicom_dataset_add_string (ds, T (0008, 0008), "CS", w->image_type);
  cu_dicom_dataset_add_string (ds, T (0008, 0016), "UI", w->sop_class);
  cu_dicom_dataset_add_string (ds, T (0008, 0018), "UI", sop_uid);
  if (source_text (w->src, T (0008, 0060)) == NULL)
    cu_dicom_dataset_add_string (ds, T (0008, 0060), "CS", vol->modality != NULL ? vol->modality : "OT");
  if (source_text (w->src, T (0008, 0020)) != NULL)
    cu_dicom_dataset_add_string (ds, T (0008, 0023), "DA", source_text (w->src, T (0008, 0020)));
  cu_dicom_dataset_add_string (ds, T (0008, 103E), "LO", w->description);
  if (w->spec->derivation_description != NULL)
    cu_dicom_dataset_add_string (ds, T (0008, 2111), "ST", w->spec->derivation_description);

  /* The series it was derived from (and the reference it was aligned to). */
  {
    CuDicomDataset *items[2];
    guint n_items = 0;

    items[n_items++] = referenced_series_item (w->spec->source_series_uid, w->source_refs);
    if (w->spec->reference_series_uid != NULL)
      items[n_items++] = referenced_series_item (w->spec->reference_series_uid,
                                                 w->reference_refs);
    cu_dicom_dataset_add_sequence (ds, T (0008, 1115), items, n_items);
  }
  /* Source Image Sequence: the images this one was computed from. A volumetric method
   * (filtering, resampling, motion correction) reads the whole source series for every output
   * image, so every source instance is listed; this is also what makes the Referenced Series
   * Sequence above valid (an instance that names a series must reference its instances). */
  if (w->source_refs != NULL && w->source_refs->len >= 2)
  {
    guint n = w->source_refs->len / 2;
    g_autofree CuDicomDataset **images = g_new0 (CuDicomDataset *, n);

    for (guint i = 0; i < n; i++)
      {
        images[i] = cu_dicom_dataset_new ();
        cu_dicom_dataset_add_string (images[i], T (0008, 1150), "UI", w->source_refs->pdata[2 * i]);
        cu_dicom_dataset_add_string (images[i], T (0008, 1155), "UI",
                                     w->source_refs->pdata[2 * i + 1]);
      }
    cu_dicom_dataset_add_sequence (ds, T (0008, 2112), images, n);
  }

  if (n_codes > 0)
    {
      g_autofree CuDicomDataset **items = g_new0 (CuDicomDataset *, n_codes);
      guint n = 0;

      for (guint i = 0; i < n_codes; i++)
        {
          const char *value = w->src->codes->pdata[i * 3];
          const char *scheme = w->src->codes->pdata[i * 3 + 1];
          const char *meaning = w->src->codes->pdata[i * 3 + 2];

          if (value == NULL || scheme == NULL || meaning == NULL)
            continue;
          items[n] = cu_dicom_dataset_new ();
          /* Code values longer than SH's 16 characters (some vendors write their own, e.g.
           * "replace_recognizable") belong in Long Code Value (PS3.3 8.8). */
          if (strlen (value) > 16)
            cu_dicom_dataset_add_string (items[n], T (0008, 0119), "UC", value);
          else
            cu_dicom_dataset_add_string (items[n], T (0008, 0100), "SH", value);
          cu_dicom_dataset_add_string (items[n], T (0008, 0102), "SH", scheme);
          cu_dicom_dataset_add_string (items[n], T (0008, 0104), "LO", meaning);
          n++;
        }
      if (n > 0)
        cu_dicom_dataset_add_sequence (ds, T (0012, 0064), items, n);
    }

  /* Slice thickness: the source's when known (the acquisition did not change), else the
   * spacing; spacing between slices is what the volume has now. */
  if (source_text (w->src, T (0018, 0050)) != NULL)
    add_copied (ds, w->src, T (0018, 0050), "DS");
  else
    cu_dicom_dataset_add_ds (ds, T (0018, 0050), &vol->spacing[2], 1);
  cu_dicom_dataset_add_ds (ds, T (0018, 0088), &vol->spacing[2], 1);
  cu_dicom_dataset_add_printf (ds, T (0018, 1020), "LO", "Curata %s", PACKAGE_VERSION);

  cu_dicom_dataset_add_string (ds, T (0020, 000E), "UI", w->series_uid);
  cu_dicom_dataset_add_printf (ds, T (0020, 0011), "IS", "%d", w->series_number);
  cu_dicom_dataset_add_string (ds, T (0020, 0012), "IS", "1");
  cu_dicom_dataset_add_printf (ds, T (0020, 0013), "IS", "%d", t * vol->dims[2] + k + 1);
  if (vol->dims[3] > 1)
    {
      cu_dicom_dataset_add_printf (ds, T (0020, 0100), "IS", "%d", t + 1);
      cu_dicom_dataset_add_printf (ds, T (0020, 0105), "IS", "%d", vol->dims[3]);
    }
  cu_dicom_dataset_add_ds (ds, T (0020, 0032), ipp, 3);
  cu_dicom_dataset_add_ds (ds, T (0020, 0037), iop, 6);
  if (w->frame_of_reference != NULL)
    cu_dicom_dataset_add_string (ds, T (0020, 0052), "UI", w->frame_of_reference);
  cu_dicom_dataset_add_string (ds, T (0020, 1040), "LO", "");
  {
    double normal[3];

    cu_volume_get_normal (vol, normal);
    v = ipp[0] * normal[0] + ipp[1] * normal[1] + ipp[2] * normal[2];
    cu_dicom_dataset_add_ds (ds, T (0020, 1041), &v, 1);
  }

  cu_dicom_dataset_add_us (ds, T (0028, 0002), 1);
  cu_dicom_dataset_add_string (ds, T (0028, 0004), "CS", "MONOCHROME2");
  cu_dicom_dataset_add_us (ds, T (0028, 0010), (guint16) vol->dims[1]);
  cu_dicom_dataset_add_us (ds, T (0028, 0011), (guint16) vol->dims[0]);
  cu_dicom_dataset_add_ds (ds, T (0028, 0030), ps, 2);
  cu_dicom_dataset_add_us (ds, T (0028, 0100), 16);
  cu_dicom_dataset_add_us (ds, T (0028, 0101), 16);
  cu_dicom_dataset_add_us (ds, T (0028, 0102), 15);
  cu_dicom_dataset_add_us (ds, T (0028, 0103), 1);
  cu_dicom_dataset_add_ds (ds, T (0028, 1050), &w->enc.window_center, 1);
  cu_dicom_dataset_add_ds (ds, T (0028, 1051), &w->enc.window_width, 1);
  {
    char buffer[G_ASCII_DTOSTR_BUF_SIZE];

    ds_text (w->enc.intercept, buffer);
    cu_dicom_dataset_add_string (ds, T (0028, 1052), "DS", buffer);
    ds_text (w->enc.slope, buffer);
    cu_dicom_dataset_add_string (ds, T (0028, 1053), "DS", buffer);
  }
  cu_dicom_dataset_add_string (ds, T (0028, 1054), "LO", "US");
  cu_dicom_dataset_add_bytes (ds, T (7FE0, 0010), "OW", pixels,
                              (gsize) vol->dims[0] * vol->dims[1] * sizeof (gint16));
  return ds;
}

static const char *
sop_class_for (const char *modality)
{
  if (g_strcmp0 (modality, "MR") == 0)
    return CU_DICOM_MR_IMAGE_STORAGE;
  if (g_strcmp0 (modality, "CT") == 0)
    return CU_DICOM_CT_IMAGE_STORAGE;
  return CU_DICOM_SC_IMAGE_STORAGE;
}

/* "ORIGINAL\PRIMARY\M\ND" → "DERIVED\SECONDARY\M\ND": values 3 and later say what the image
 * shows (ADC, DIFFUSION, …), which still holds for a processed copy. */
static char *
derived_image_type (const char *source)
{
  g_auto(GStrv) values = NULL;
  GString *s = g_string_new ("DERIVED\\SECONDARY");

  if (source != NULL)
    {
      values = g_strsplit (source, "\\", -1);
      for (guint i = 0; values[i] != NULL && i < 16; i++)
        if (i >= 2)
          g_string_append_printf (s, "\\%s", values[i]);
    }
  return g_string_free (s, FALSE);
}

static int
next_series_number (CuStore *self, const char *study_uid, int source_number)
{
  sqlite3_stmt *stmt;
  int max = 0;

  stmt = _cu_store_prepare (self->db,
                            "SELECT max (se.series_number) FROM series se"
                            " JOIN study st ON se.study_ref = st.id WHERE st.study_uid = ?1",
                            NULL);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        max = sqlite3_column_int (stmt, 0);
      sqlite3_finalize (stmt);
    }
  /* Derived series number from 1000 upwards, like scanners number their reconstructions,
   * so they sort after the acquired ones. */
  return MAX (max + 1, 1000 + MAX (source_number, 0));
}

static void
remove_tree (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* Undo a partly catalogued derived series: its rows, then its files. A failed delete
 * leaves the rows, and then the files must stay too, or the catalogue would name files
 * that no longer exist. */
static gboolean
forget_series (CuStore *self, const char *series_uid, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db,
                                          "DELETE FROM series WHERE series_uid = ?1", error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_TRANSIENT);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Removing the incomplete derived series failed"));
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
record_lineage (CuStore *self, const CuDerivedSeriesSpec *spec, const char *series_uid,
                GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;
  gboolean ok;

  stmt = _cu_store_prepare (self->db,
                            "INSERT INTO derived_series (series_uid, source_series_uid,"
                            " reference_series_uid, method, parameters, result, user, time)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                            error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, spec->source_series_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, spec->reference_series_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, spec->method, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, spec->parameters_json, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, spec->result_json, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 8, now, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Recording the derived series failed"));
  sqlite3_finalize (stmt);
  if (!ok)
    return FALSE;

  /* The audit entry says what was made from what, with the parameters verbatim. */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, spec->method);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, spec->source_series_uid);
  if (spec->reference_series_uid != NULL)
    {
      json_builder_set_member_name (b, "reference");
      json_builder_add_string_value (b, spec->reference_series_uid);
    }
  if (spec->parameters_json != NULL)
    {
      JsonNode *params = json_from_string (spec->parameters_json, NULL);

      if (params != NULL)
        {
          json_builder_set_member_name (b, "parameters");
          json_builder_add_value (b, params);
        }
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  detail = json_to_string (root, FALSE);
  return cu_store_audit (self, "derive-series", series_uid, detail, error);
}

/* ---- Leftovers of killed writers ---------------------------------------------------- */

#define PARTIAL_SUFFIX ".partial"
#define LOCK_SUFFIX    ".lock"
/* Folders that have no lock file are left alone for this long: their writer may be an older
 * Curata still running. */
#define LOCKLESS_GRACE_SECONDS (24 * 3600)

/* Series this process is writing. flock is per open file, so this is only needed where flock
 * falls back to per-process fcntl locks (NFS); it also spares a syscall. */
G_LOCK_DEFINE_STATIC (writing);
static GHashTable *writing;

static void
set_writing (const char *series_uid, gboolean on)
{
  G_LOCK (writing);
  if (writing == NULL)
    writing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (on)
    g_hash_table_add (writing, g_strdup (series_uid));
  else
    g_hash_table_remove (writing, series_uid);
  G_UNLOCK (writing);
}

static gboolean
is_writing (const char *series_uid)
{
  gboolean found;

  G_LOCK (writing);
  found = writing != NULL && g_hash_table_contains (writing, series_uid);
  G_UNLOCK (writing);
  return found;
}

/* The writer's lock: created, then held (blocking: a sweeper that opened the fresh file first
 * lets go at once). -1 with error when the file cannot be made. */
static int
take_writer_lock (const char *lock_path, const char *workspace, GError **error)
{
  int fd = g_open (lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0 || flock (fd, LOCK_EX) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      if (saved == ENOSPC || saved == EDQUOT)
        _cu_store_set_disk_full_error (error, _("Cannot write the derived series"), workspace);
      else
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO, _("Cannot create %s: %s"),
                     lock_path, g_strerror (saved));
      return -1;
    }
  return fd;
}

static void
release_writer_lock (const char *lock_path, int fd)
{
  if (fd < 0)
    return;
  g_unlink (lock_path);
  close (fd);
}

typedef struct
{
  char *uid;
  int lock_fd;        /* the dead writer's lock, held until its leftovers are gone; or -1 */
  gboolean catalogued;
} Leftover;

static void
leftover_free (gpointer data)
{
  Leftover *l = data;

  if (l->lock_fd >= 0)
    close (l->lock_fd);
  g_free (l->uid);
  g_free (l);
}

static gboolean
uid_exists (CuStore *self, const char *sql, const char *uid, gboolean *exists, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  *exists = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    _cu_store_set_db_error (self->db, error, _("Looking for unfinished derived series failed"));
  sqlite3_finalize (stmt);
  return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

/* Seconds since the newest of the folder's (or .partial folder's) modification times. */
static gint64
folder_age (const char *derived_dir, const char *uid)
{
  const char *suffixes[] = { "", PARTIAL_SUFFIX };
  gint64 newest = 0;

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (derived_dir, G_DIR_SEPARATOR_S, uid, suffixes[i], NULL);
      GStatBuf st;

      if (g_stat (path, &st) == 0)
        newest = MAX (newest, (gint64) st.st_mtime);
    }
  return g_get_real_time () / G_USEC_PER_SEC - newest;
}

/* Remove what killed writers left in derived_dir (see the top of this file). Returns FALSE
 * with error only when the workspace could not be read or written; a folder that cannot be
 * removed is left for the next time. */
static gboolean
sweep_leftovers (CuStore *self, const char *derived_dir, GError **error)
{
  g_autoptr(GDir) dir = g_dir_open (derived_dir, 0, NULL);
  g_autoptr(GHashTable) uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) leftovers = g_ptr_array_new_with_free_func (leftover_free);
  g_autoptr(CuStoreDeid) deid = NULL;
  GHashTableIter iter;
  gpointer key;
  const char *name;

  if (dir == NULL)
    return TRUE;

  /* 1. Without any lock: which names might be unfinished. A finished series is a <uid>
   * folder with a lineage row and nothing else; that is the common case and costs one
   * query each. */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (g_str_has_suffix (name, PARTIAL_SUFFIX))
        g_hash_table_add (uids, g_strndup (name, strlen (name) - strlen (PARTIAL_SUFFIX)));
      else if (g_str_has_suffix (name, LOCK_SUFFIX))
        g_hash_table_add (uids, g_strndup (name, strlen (name) - strlen (LOCK_SUFFIX)));
      else
        g_hash_table_add (uids, g_strdup (name));
    }
  g_hash_table_iter_init (&iter, uids);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autofree char *partial = g_strconcat (derived_dir, G_DIR_SEPARATOR_S, key, PARTIAL_SUFFIX, NULL);
      g_autofree char *lock = g_strconcat (derived_dir, G_DIR_SEPARATOR_S, key, LOCK_SUFFIX, NULL);
      gboolean finished = FALSE;

      if (is_writing (key))
        continue;
      if (!uid_exists (self, "SELECT 1 FROM derived_series WHERE series_uid = ?1", key, &finished,
                       error))
        return FALSE;
      if (!finished || g_file_test (partial, G_FILE_TEST_EXISTS)
          || g_file_test (lock, G_FILE_TEST_EXISTS))
        g_ptr_array_add (candidates, g_strdup (key));
    }
  if (candidates->len == 0)
    return TRUE;

  /* 2. Under the write lock, so that no writer commits a lineage row or a catalog row of
   * these series while they are judged. */
  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint i = 0; i < candidates->len; i++)
    {
      const char *uid = candidates->pdata[i];
      g_autofree char *lock = g_strconcat (derived_dir, G_DIR_SEPARATOR_S, uid, LOCK_SUFFIX, NULL);
      gboolean finished = FALSE, catalogued = FALSE;
      Leftover *l;
      int fd;

      if (!uid_exists (self, "SELECT 1 FROM derived_series WHERE series_uid = ?1", uid, &finished,
                       error)
          || !uid_exists (self, "SELECT 1 FROM series WHERE series_uid = ?1", uid, &catalogued,
                          error))
        goto fail;

      fd = g_open (lock, O_RDWR | O_CLOEXEC, 0);
      if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) != 0)
        {
          close (fd);    /* a live writer */
          continue;
        }
      if (fd < 0 && (finished || catalogued
                     || folder_age (derived_dir, uid) < LOCKLESS_GRACE_SECONDS))
        continue;        /* no lock file: someone else's, or too recent to tell */

      l = g_new0 (Leftover, 1);
      l->uid = g_strdup (uid);
      l->lock_fd = fd;
      /* A writer that died after its lineage row left only its lock file. */
      l->catalogued = catalogued && !finished;
      if (finished)
        {
          g_unlink (lock);
          leftover_free (l);
          continue;
        }
      g_ptr_array_add (leftovers, l);
    }

  for (guint i = 0; i < leftovers->len; i++)
    {
      Leftover *l = leftovers->pdata[i];
      sqlite3_stmt *stmt;
      int rc;

      if (!l->catalogued)
        continue;
      /* Its files counted in its study's gate: the gate is recomputed without them. */
      if (deid == NULL && (deid = _cu_store_deid_new (self, error)) == NULL)
        goto fail;
      stmt = _cu_store_prepare (self->db,
                                "SELECT i.id FROM instance i JOIN series se ON i.series_ref = se.id"
                                " WHERE se.series_uid = ?1", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, l->uid, -1, SQLITE_STATIC);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        _cu_store_deid_touch_instance (deid, sqlite3_column_int64 (stmt, 0));
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE)
        {
          _cu_store_set_db_error (self->db, error, _("Removing an unfinished derived series failed"));
          goto fail;
        }
      stmt = _cu_store_prepare (self->db, "DELETE FROM series WHERE series_uid = ?1", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, l->uid, -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (rc != SQLITE_DONE)
        {
          _cu_store_set_db_error (self->db, error, _("Removing an unfinished derived series failed"));
          goto fail;
        }
      if (!cu_store_audit (self, "derive-series-unfinished", l->uid, NULL, error))
        goto fail;
    }
  if ((deid != NULL && !_cu_store_deid_update_gates (deid, error))
      || !_cu_store_exec (self->db, "COMMIT", error))
    goto fail;

  /* 3. Files last: a crash here leaves folders that the next sweep finds again. */
  for (guint i = 0; i < leftovers->len; i++)
    {
      Leftover *l = leftovers->pdata[i];
      g_autofree char *folder = g_build_filename (derived_dir, l->uid, NULL);
      g_autofree char *partial = g_strconcat (folder, PARTIAL_SUFFIX, NULL);
      g_autofree char *lock = g_strconcat (folder, LOCK_SUFFIX, NULL);

      remove_tree (partial);
      remove_tree (folder);
      if (l->lock_fd >= 0)
        g_unlink (lock);
    }
  return TRUE;

fail:
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return FALSE;
}

char *
cu_store_write_derived_series (CuStore                   *self,
                               const CuDerivedSeriesSpec *spec,
                               const CuVolume            *volume,
                               CuProgress                *progress,
                               GCancellable              *cancellable,
                               GError                   **error)
{
  g_auto(GStrv) files = NULL;
  g_autoptr(CuSeriesRecord) record = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autofree char *series_uid = NULL;
  g_autofree char *derived_dir = NULL;
  g_autofree char *final_dir = NULL;
  g_autofree char *partial_dir = NULL;
  g_autofree char *lock_path = NULL;
  g_autofree char *description = NULL;
  g_autofree gint16 *pixels = NULL;
  SourceAttributes src = { 0 };
  WriteContext w = { 0 };
  gsize slice_voxels;
  int nz, nt, written = 0;
  const char *paths[2] = { NULL, NULL };
  gboolean catalogued = FALSE;
  int lock_fd = -1;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (spec != NULL && spec->source_series_uid != NULL && spec->method != NULL, NULL);
  g_return_val_if_fail (volume != NULL, NULL);

  if (volume->voxels == NULL || volume->dims[0] < 1 || volume->dims[1] < 1
      || volume->dims[0] > 65535 || volume->dims[1] > 65535)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("A derived series needs a volume with voxels and at most 65535 rows and columns"));
      return NULL;
    }

  /* First what an earlier, killed writer left, so that its series is gone before this one
   * is numbered; not being able to sweep stops no new work. */
  derived_dir = g_build_filename (cu_store_get_path (self), CU_STORE_OBJECTS_DIR, "derived", NULL);
  {
    g_autoptr(GError) sweep_error = NULL;

    if (!sweep_leftovers (self, derived_dir, &sweep_error))
      g_warning ("Unfinished derived series were not removed: %s", sweep_error->message);
  }

  files = cu_store_get_series_files (self, spec->source_series_uid, error);
  if (files == NULL)
    return NULL;
  if (files[0] == NULL)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   _("Series %s has no instances to derive from"), spec->source_series_uid);
      return NULL;
    }
  record = cu_store_get_series (self, spec->source_series_uid, error);
  if (record == NULL)
    return NULL;
  if (!read_source_attributes (files[0], &src, error))
    {
      source_attributes_clear (&src);
      return NULL;
    }

  series_uid = cu_dicom_uid_new ();
  description = spec->series_description != NULL
                  ? g_strdup (spec->series_description)
                  : g_strdup_printf ("%s (%s)",
                                     record->series_description != NULL && record->series_description[0]
                                       ? record->series_description : _("Series"),
                                     spec->method);
  w.spec = spec;
  w.volume = volume;
  w.src = &src;
  w.series_uid = series_uid;
  w.sop_class = sop_class_for (source_text (&src, T (0008, 0060)) != NULL
                                 ? source_text (&src, T (0008, 0060)) : volume->modality);
  w.frame_of_reference = spec->frame_of_reference_uid != NULL ? spec->frame_of_reference_uid
                                                               : source_text (&src, T (0020, 0052));
  w.description = description;
  w.image_type = derived_image_type (src.image_type);
  w.series_number = next_series_number (self, record->study_uid, record->series_number);
  choose_encoding (volume, &w.enc);
  w.source_refs = series_instance_refs (self, spec->source_series_uid, error);
  if (w.source_refs == NULL)
    goto fail;
  if (spec->reference_series_uid != NULL)
    {
      w.reference_refs = series_instance_refs (self, spec->reference_series_uid, error);
      if (w.reference_refs == NULL)
        goto fail;
    }

  final_dir = g_build_filename (derived_dir, series_uid, NULL);
  partial_dir = g_strconcat (final_dir, PARTIAL_SUFFIX, NULL);
  lock_path = g_strconcat (final_dir, LOCK_SUFFIX, NULL);
  set_writing (series_uid, TRUE);
  if (g_mkdir_with_parents (derived_dir, 0755) != 0
      || (lock_fd = take_writer_lock (lock_path, cu_store_get_path (self), error)) < 0
      || g_mkdir_with_parents (partial_dir, 0755) != 0)
    {
      int saved = errno;

      if (lock_fd >= 0 || (error != NULL && *error == NULL))
        {
          const char *folder = lock_fd >= 0 ? partial_dir : derived_dir;

          if (saved == ENOSPC || saved == EDQUOT)
            _cu_store_set_disk_full_error (error, _("Cannot write the derived series"),
                                           cu_store_get_path (self));
          else
            g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO, _("Cannot create folder %s: %s"),
                         folder, g_strerror (saved));
        }
      goto fail;
    }

  nz = volume->dims[2];
  nt = volume->dims[3] > 0 ? volume->dims[3] : 1;
  slice_voxels = (gsize) volume->dims[0] * volume->dims[1];
  pixels = g_new (gint16, slice_voxels);
  for (int t = 0; t < nt; t++)
    for (int k = 0; k < nz; k++)
      {
        g_autoptr(CuDicomDataset) ds = NULL;
        g_autoptr(GError) write_error = NULL;
        g_autofree char *name = NULL;
        g_autofree char *path = NULL;

        if (g_cancellable_set_error_if_cancelled (cancellable, error))
          goto fail;
        encode_slice (cu_volume_frame (volume, t) + (gsize) k * slice_voxels, slice_voxels,
                      &w.enc, pixels);
        ds = build_instance (&w, k, t, pixels);
        name = g_strdup_printf ("%05d.dcm", t * nz + k + 1);
        path = g_build_filename (partial_dir, name, NULL);
        if (!cu_dicom_dataset_write_file (ds, path, &write_error))
          {
            if (_cu_store_error_is_disk_full (write_error))
              _cu_store_set_disk_full_error (error, _("Cannot write the derived series"),
                                             cu_store_get_path (self));
            else
              g_propagate_error (error, g_steal_pointer (&write_error));
            goto fail;
          }
        written++;
        cu_progress_report_count (progress, (guint64) written, (guint64) nz * nt,
                                  _("Writing the derived series"));
      }

  /* Complete folders only ever carry the final name, so a crash leaves a ".partial" folder
   * that no import picks up as a finished series. */
  if (g_rename (partial_dir, final_dir) != 0)
    {
      int saved = errno;
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO, _("Cannot rename %s: %s"),
                   partial_dir, g_strerror (saved));
      goto fail;
    }
  g_clear_pointer (&partial_dir, g_free);

  paths[0] = final_dir;
  report = cu_store_import (self, paths, NULL, cancellable, error);
  catalogued = TRUE;
  if (report == NULL)
    goto fail;
  if (report->n_imported != (guint) written)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO,
                   _("Only %u of the %d files of the derived series in %s could be catalogued"),
                   report->n_imported, written, final_dir);
      goto fail;
    }
  if (!record_lineage (self, spec, series_uid, error))
    goto fail;

  release_writer_lock (lock_path, lock_fd);
  set_writing (series_uid, FALSE);
  g_free (w.image_type);
  g_clear_pointer (&w.source_refs, g_ptr_array_unref);
  g_clear_pointer (&w.reference_refs, g_ptr_array_unref);
  source_attributes_clear (&src);
  return g_steal_pointer (&series_uid);

fail:
  if (catalogued)
    {
      g_autoptr(GError) forget_error = NULL;

      if (!forget_series (self, series_uid, &forget_error))
        {
          /* Keep the files the catalogue still names, and say so after the first failure. */
          if (error != NULL && *error != NULL)
            {
              char *message = g_strdup_printf (_("%s; the incomplete series %s stays in %s: %s"),
                                               (*error)->message, series_uid, final_dir,
                                               forget_error->message);
              g_free ((*error)->message);
              (*error)->message = message;
            }
          g_clear_pointer (&final_dir, g_free);
        }
    }
  if (partial_dir != NULL)
    remove_tree (partial_dir);
  else if (final_dir != NULL)
    remove_tree (final_dir);
  release_writer_lock (lock_path, lock_fd);
  if (series_uid != NULL)
    set_writing (series_uid, FALSE);
  g_free (w.image_type);
  g_clear_pointer (&w.source_refs, g_ptr_array_unref);
  g_clear_pointer (&w.reference_refs, g_ptr_array_unref);
  source_attributes_clear (&src);
  return NULL;
}

/* ---- Lineage ---------------------------------------------------------------------- */

void
cu_derived_series_info_free (CuDerivedSeriesInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->series_uid);
  g_free (info->source_series_uid);
  g_free (info->reference_series_uid);
  g_free (info->method);
  g_free (info->parameters_json);
  g_free (info->result_json);
  g_free (info->user);
  g_free (info->time);
  g_free (info);
}

static char *
column_text (sqlite3_stmt *stmt, int i)
{
  const unsigned char *text = sqlite3_column_text (stmt, i);

  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static CuDerivedSeriesInfo *
info_from_row (sqlite3_stmt *stmt)
{
  CuDerivedSeriesInfo *info = g_new0 (CuDerivedSeriesInfo, 1);

  info->series_uid = column_text (stmt, 0);
  info->source_series_uid = column_text (stmt, 1);
  info->reference_series_uid = column_text (stmt, 2);
  info->method = column_text (stmt, 3);
  info->parameters_json = column_text (stmt, 4);
  info->result_json = column_text (stmt, 5);
  info->user = column_text (stmt, 6);
  info->time = column_text (stmt, 7);
  return info;
}

#define LINEAGE_COLUMNS \
  "series_uid, source_series_uid, reference_series_uid, method, parameters, result, user, time"

CuDerivedSeriesInfo *
cu_store_get_derived_series (CuStore *self, const char *series_uid, GError **error)
{
  sqlite3_stmt *stmt;
  CuDerivedSeriesInfo *info = NULL;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (series_uid != NULL, NULL);

  stmt = _cu_store_prepare (self->db,
                            "SELECT " LINEAGE_COLUMNS " FROM derived_series WHERE series_uid = ?1",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    info = info_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("Series %s is not a derived series"), series_uid);
  else
    _cu_store_set_db_error (self->db, error, _("Reading the derived series failed"));
  sqlite3_finalize (stmt);
  return info;
}

GPtrArray *
cu_store_list_derived_series (CuStore *self, const char *source_series_uid, GError **error)
{
  sqlite3_stmt *stmt;
  GPtrArray *list;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  stmt = _cu_store_prepare (self->db,
                            "SELECT " LINEAGE_COLUMNS " FROM derived_series"
                            " WHERE ?1 IS NULL OR source_series_uid = ?1 ORDER BY time, rowid",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, source_series_uid, -1, SQLITE_STATIC);
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_derived_series_info_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, info_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the derived series failed"));
      g_clear_pointer (&list, g_ptr_array_unref);
    }
  sqlite3_finalize (stmt);
  return list;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-writer.c — a checked release written as one package (cu-release-writer.h).
 *
 * One pass over the plan (cu_release_check, run again here so that nothing decided since the
 * curator looked slips through): the images through one CuAnonymizer session, so that every
 * UID maps the same way in every object; then per series with a segmentation a DICOM SEG and
 * an SR TID 1500 built from the ANONYMIZED headers of that series (new UIDs, shifted dates,
 * the release identity), so their references resolve inside the package and no source
 * identifier can be in them; then the clinical data with the same identity and offset per
 * patient; the optional nnU-Net layout; and the manifest last.
 *
 * All or nothing. Everything goes under OUT.partial-XXXXXX beside OUT (same file system, so
 * the final rename is atomic), each file and folder fsynced, the manifest written last, the
 * folder renamed to OUT with RENAME_NOREPLACE (never over a folder that appeared meanwhile),
 * and only then the ledger updated (cu_release_mark_written). A failure or cancellation
 * removes the partial folder. A process killed on the way leaves a partial folder without a
 * manifest (it never looks like a package); its writer held an flock(2) on
 * CU_RELEASE_WRITER_LOCK inside it, which the kernel drops at death, so the next write
 * removes every partial folder beside it whose lock it can take (as derived-series leftovers
 * are swept, cu-derived-series.c). A folder without the lock file is left alone: it is not
 * ours, or its writer is between mkdtemp and taking the lock.
 *
 * Choices the header leaves open:
 *  - a file the plan lets through but that cannot be rewritten (damaged, BurnedInAnnotation
 *    YES: such pixels never leave) fails the whole package, naming the file: the curator
 *    holds its series at the quality gate and writes again;
 *  - segmentations: the adjudicated ("final") version of a series when there is one, else the
 *    latest version of each reader; readers become "Reader 1", "Reader 2"… (numbered in the
 *    order met, readers sorted by name within a series) in anonymized mode, "Adjudicated" for
 *    the final version; labels keep only their coded meaning there (a name a reader typed
 *    could identify), and the SR copies no label name;
 *  - nnU-Net: one case per released series with a segmentation, named <identity>_<NNN>, the
 *    series as its only channel (0000) and the adjudicated (else the first reader's) map as
 *    its label image; dataset.json names the labels by value (coded meaning, else label_N);
 *  - the manifest's provenance lists, per released study, its pseudonymization gate (passed,
 *    or the override with its reason, time and curator), the QC decisions of its released
 *    series (state, time, curator; the remark only in pseudonymized mode), and the flags of
 *    its patient that were corrected, accepted or withdrawn (rule, states, time: never a
 *    value); every UID in it is the package's new one, every patient its release identity;
 *  - what stayed is counted per hold kind, never named.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cu-release-writer.h"
#include "cu-anonymizer.h"
#include "cu-clinical-export.h"
#include "cu-derived-series.h"
#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"
#include "cu-dicom-writer.h"
#include "cu-flags.h"
#include "cu-nifti.h"
#include "cu-seg-dicom.h"
#include "cu-seg-nifti.h"
#include "cu-seg-sr.h"
#include "cu-series-plan.h"
#include "cu-store-audit.h"
#include "cu-store-qc.h"
#include "cu-store-seg.h"

#define CU_RELEASE_WRITER_LOCK ".curata-writing"
#define CU_RELEASE_MANIFEST "manifest.json"
#define PARTIAL_INFIX ".partial-"

void
cu_release_write_report_free (CuReleaseWriteReport *report)
{
  if (report == NULL)
    return;
  g_free (report->out_dir);
  g_free (report->manifest_sha256);
  g_free (report);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* ---- Files -------------------------------------------------------------------------- */

static gboolean
set_io_error (GError **error, const char *path, const char *what, int saved)
{
  /* Translators: "PATH: cannot create the folder (No space left on device)" */
  g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_OUTPUT, _("%s: %s (%s)"), path, what,
               g_strerror (saved));
  return FALSE;
}

/* Remove a folder and everything in it; best effort (used on failure paths and sweeps). */
static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static gboolean
fsync_path (const char *path, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    return set_io_error (error, path, _("cannot be opened"), errno);
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      int saved = errno;
      close (fd);
      return set_io_error (error, path, _("cannot be written to disk"), saved);
    }
  close (fd);
  return TRUE;
}

typedef struct
{
  char *rel;        /* path relative to the package, '/' separated */
  gint64 size;
  char *sha256;
} PackageFile;

static void
package_file_free (gpointer data)
{
  PackageFile *f = data;

  g_free (f->rel);
  g_free (f->sha256);
  g_free (f);
}

/* Read a file once: its SHA-256 and size for the manifest, then fsync it from the same
 * descriptor (a late ENOSPC or EIO of delayed allocation shows here, not after the rename). */
static PackageFile *
digest_and_sync (const char *path, const char *rel, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  PackageFile *f;
  guint8 buf[65536];
  gint64 size = 0;
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    {
      set_io_error (error, path, _("cannot be opened"), errno);
      return NULL;
    }
  for (;;)
    {
      ssize_t n = read (fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          set_io_error (error, path, _("cannot be read"), saved);
          return NULL;
        }
      if (n == 0)
        break;
      g_checksum_update (sum, buf, (gsize) n);
      size += n;
    }
  if (fsync (fd) != 0)
    {
      int saved = errno;
      close (fd);
      set_io_error (error, path, _("cannot be written to disk"), saved);
      return NULL;
    }
  close (fd);
  f = g_new0 (PackageFile, 1);
  f->rel = g_strdup (rel);
  f->size = size;
  f->sha256 = g_strdup (g_checksum_get_string (sum));
  return f;
}

/* Every file under root (except the writer's lock), digested and synced, then every folder
 * synced, deepest first. files receives PackageFile, sorted by path. */
static gboolean
sync_tree (const char *root, const char *rel, GPtrArray *files, GCancellable *cancellable,
           GError **error)
{
  g_autofree char *path = rel[0] != '\0' ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open (path, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (dir);
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = names->pdata[i];
      g_autofree char *child_rel = rel[0] != '\0' ? g_strconcat (rel, "/", n, NULL) : g_strdup (n);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (rel[0] == '\0' && strcmp (n, CU_RELEASE_WRITER_LOCK) == 0)
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          if (!sync_tree (root, child_rel, files, cancellable, error))
            return FALSE;
        }
      else
        {
          PackageFile *f = digest_and_sync (child, child_rel, error);
          if (f == NULL)
            return FALSE;
          g_ptr_array_add (files, f);
        }
    }
  return fsync_path (path, error);
}

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    return set_io_error (error, path, _("cannot create the folder"), errno);
  return TRUE;
}

/* ---- Leftovers of killed writers ---------------------------------------------------- */

/* Remove the partial folders beside out_dir whose writer is gone (see the top). */
static void
sweep_partials (const char *out_dir)
{
  g_autofree char *parent = g_path_get_dirname (out_dir);
  GDir *dir = g_dir_open (parent, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      const char *infix = g_strrstr (name, PARTIAL_INFIX);
      g_autofree char *folder = NULL, *lock = NULL;
      int fd;

      if (infix == NULL || strlen (infix + strlen (PARTIAL_INFIX)) != 6)
        continue;
      folder = g_build_filename (parent, name, NULL);
      lock = g_build_filename (folder, CU_RELEASE_WRITER_LOCK, NULL);
      fd = g_open (lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
      if (fd < 0)
        continue;
      if (flock (fd, LOCK_EX | LOCK_NB) == 0)
        {
          /* Its writer died: nothing else can hold this lock. Lock file last, so that a
           * crash during the removal leaves a folder the next sweep finds again. */
          GDir *inner = g_dir_open (folder, 0, NULL);
          const char *entry;

          if (inner != NULL)
            {
              while ((entry = g_dir_read_name (inner)) != NULL)
                {
                  g_autofree char *child = g_build_filename (folder, entry, NULL);
                  if (strcmp (entry, CU_RELEASE_WRITER_LOCK) == 0)
                    continue;
                  if (g_file_test (child, G_FILE_TEST_IS_DIR))
                    remove_tree (child);
                  else
                    g_unlink (child);
                }
              g_dir_close (inner);
            }
          g_unlink (lock);
          g_rmdir (folder);
        }
      close (fd);
    }
  g_dir_close (dir);
}

/* ---- The write ---------------------------------------------------------------------- */

typedef struct
{
  char *patient_id, *patient_name;   /* source (the workspace's) */
  char *identity;                    /* in the package */
  int offset_days;
  char *digest;                      /* ledger, of the source identity */
} PatientOut;

static void
patient_out_free (gpointer data)
{
  PatientOut *p = data;

  g_free (p->patient_id);
  g_free (p->patient_name);
  g_free (p->identity);
  g_free (p->digest);
  g_free (p);
}

typedef struct
{
  CuStore *store;
  CuReleasePlan *plan;             /* owned */
  CuReleaseMode mode;
  CuReleaseLayout layout;
  CuProgress *progress;
  GCancellable *cancellable;
  CuAnonymizer *anon;
  char *out_dir;                   /* canonical */
  char *partial;
  char *dicom_dir;
  int lock_fd;

  GPtrArray *patients;             /* PatientOut */
  GPtrArray *ledger_strings;       /* owned strings of ledger */
  GArray *ledger;                  /* CuLedgerEntry */
  GHashTable *written_of;          /* source path → anonymized path */
  GHashTable *reader_label;        /* reader → "Reader N" (anonymized mode) */
  guint n_readers;
  guint n_instances_done, n_instances_total;
  guint n_seg, n_sr, n_clinical_rows, n_nnunet_cases;
  GHashTable *studies_out, *series_out;   /* new UIDs */

  JsonBuilder *provenance;         /* array of events, built as the write goes */
  GPtrArray *nnunet_cases;         /* char *: case ids */
  GHashTable *nnunet_label_names;  /* value (GUINT) → name */
  char *nnunet_modality;
  char *manifest_sha256;
} Writer;

static void
writer_clear (Writer *w)
{
  g_clear_pointer (&w->plan, cu_release_plan_free);
  g_clear_pointer (&w->anon, cu_anonymizer_free);
  g_clear_pointer (&w->out_dir, g_free);
  g_clear_pointer (&w->partial, g_free);
  g_clear_pointer (&w->dicom_dir, g_free);
  if (w->lock_fd >= 0)
    close (w->lock_fd);
  w->lock_fd = -1;
  g_clear_pointer (&w->patients, g_ptr_array_unref);
  g_clear_pointer (&w->ledger_strings, g_ptr_array_unref);
  g_clear_pointer (&w->ledger, g_array_unref);
  g_clear_pointer (&w->written_of, g_hash_table_unref);
  g_clear_pointer (&w->reader_label, g_hash_table_unref);
  g_clear_pointer (&w->studies_out, g_hash_table_unref);
  g_clear_pointer (&w->series_out, g_hash_table_unref);
  g_clear_object (&w->provenance);
  g_clear_pointer (&w->nnunet_cases, g_ptr_array_unref);
  g_clear_pointer (&w->nnunet_label_names, g_hash_table_unref);
  g_clear_pointer (&w->nnunet_modality, g_free);
  g_clear_pointer (&w->manifest_sha256, g_free);
}

static void
ledger_add (Writer *w, const char *kind, char *digest)
{
  CuLedgerEntry e = { kind, digest };

  g_ptr_array_add (w->ledger_strings, digest);
  g_array_append_val (w->ledger, e);
}

/* The identity of a patient in the package (see cu-release-writer.h). */
static gboolean
prepare_patient (Writer *w, const CuReleasePatientPlan *pp, GError **error)
{
  PatientOut *p = g_new0 (PatientOut, 1);

  p->patient_id = g_strdup (pp->patient_id);
  p->patient_name = g_strdup (pp->patient_name);
  g_ptr_array_add (w->patients, p);
  p->digest = cu_release_patient_digest (w->store, pp->patient_id, pp->patient_name, error);
  if (p->digest == NULL)
    return FALSE;
  if (w->mode == CU_RELEASE_PSEUDONYMIZED && pp->patient_id != NULL && pp->patient_id[0] != '\0')
    {
      p->identity = g_strdup (pp->patient_id);
      p->offset_days = 0;
      if (w->plan->release->shift_dates
          && !cu_release_patient_offset (w->store, pp->patient_id, pp->patient_name,
                                         &p->offset_days, error))
        return FALSE;
      cu_anonymizer_set_patient (w->anon, pp->patient_id, pp->patient_name, p->identity,
                                 p->offset_days);
    }
  /* Anonymized mode: the anonymizer draws both when the patient's first file goes
   * (cu_anonymizer_lookup_patient afterwards). */
  return TRUE;
}

static gboolean
write_series_images (Writer *w, PatientOut *p, const CuReleaseSeriesPlan *sp, GError **error)
{
  g_auto(GStrv) files = cu_store_get_series_files (w->store, sp->series_uid, error);

  if (files == NULL)
    return FALSE;
  for (guint f = 0; files[f] != NULL; f++)
    {
      g_autoptr(CuDicomHeader) h = NULL;
      g_autofree char *out = NULL;

      if (g_cancellable_set_error_if_cancelled (w->cancellable, error))
        return FALSE;
      cu_progress_report_count (w->progress, w->n_instances_done, w->n_instances_total,
                                _("Writing the release"));
      h = cu_dicom_header_read (files[f], error);
      if (h == NULL)
        return FALSE;
      /* All or nothing: a file the plan let through but that cannot be rewritten (burned-in
       * annotation, damaged) fails the package; the curator holds its series at QC. */
      if (!cu_anonymizer_anonymize_file (w->anon, files[f], w->dicom_dir, &out, error))
        return FALSE;
      g_hash_table_insert (w->written_of, g_strdup (files[f]), g_steal_pointer (&out));
      ledger_add (w, "instance", cu_release_digest (w->store, "instance", h->sop_instance_uid,
                                                    strlen (h->sop_instance_uid), error));
      if (g_array_index (w->ledger, CuLedgerEntry, w->ledger->len - 1).digest == NULL)
        return FALSE;
      /* Pixels no decoder here reads have no digest; the instance is still in the ledger by
       * its UID, and the gate has already judged the series. */
      if (h->has_pixels)
        {
          char *pixels = cu_release_pixel_digest (w->store, h->sop_instance_uid, NULL);
          if (pixels != NULL)
            ledger_add (w, "pixels", pixels);
        }
      w->n_instances_done++;
    }
  if (p->identity == NULL)
    {
      const char *id = NULL;
      int offset = 0;
      if (cu_anonymizer_lookup_patient (w->anon, p->patient_id != NULL ? p->patient_id : "", &id,
                                        &offset))
        {
          p->identity = g_strdup (id);
          p->offset_days = offset;
        }
    }
  return TRUE;
}

/* ---- Segmentations ------------------------------------------------------------------ */


/* Which versions go: the adjudicated "final" one when there is one, else each reader's
 * latest (sorted by reader, so that "Reader N" numbers do not depend on save times). */
static GPtrArray *
pick_versions (CuStore *store, const char *series_uid, GError **error)
{
  g_autoptr(GPtrArray) latest = cu_store_seg_list (store, series_uid, NULL, TRUE, error);
  GPtrArray *picked;

  if (latest == NULL)
    return NULL;
  picked = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < latest->len; i++)
    {
      CuSegVersionInfo *v = latest->pdata[i];
      if (strcmp (v->reader, CU_STORE_SEG_FINAL) == 0)
        {
          g_ptr_array_set_size (picked, 0);
          g_ptr_array_add (picked, g_strdup (v->reader));
          return picked;
        }
      g_ptr_array_add (picked, g_strdup (v->reader));
    }
  g_ptr_array_sort (picked, compare_strings);
  return picked;
}

static const char *
reader_label (Writer *w, const char *reader)
{
  char *label = g_hash_table_lookup (w->reader_label, reader);

  if (label != NULL)
    return label;
  if (strcmp (reader, CU_STORE_SEG_FINAL) == 0)
    label = g_strdup ("Adjudicated");
  else if (w->mode == CU_RELEASE_ANONYMIZED)
    /* Never a user name in an anonymized package. Not translated: it goes into DICOM. */
    label = g_strdup_printf ("Reader %u", ++w->n_readers);
  else
    label = g_strdup (reader);
  g_hash_table_insert (w->reader_label, g_strdup (reader), label);
  return label;
}

/* Anonymized mode: a label keeps only its coded meaning; a name a reader typed could
 * identify. */
static CuLabelMap *
package_map (Writer *w, CuLabelMap *map)
{
  CuLabelMap *copy;

  if (w->mode != CU_RELEASE_ANONYMIZED)
    return cu_label_map_ref (map);
  copy = cu_label_map_copy (map);
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      g_autoptr(CuLabel) l = cu_label_copy (cu_label_map_get_label_at (map, i));

      g_free (l->name);
      l->name = l->type_meaning != NULL && l->type_meaning[0] != '\0'
                ? g_strdup (l->type_meaning) : g_strdup_printf ("Segment %u", l->value);
      cu_label_map_set_label (copy, l);
    }
  return copy;
}

static void
nnunet_note_labels (Writer *w, const CuLabelMap *map)
{
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      if (!g_hash_table_contains (w->nnunet_label_names, GUINT_TO_POINTER (l->value)))
        g_hash_table_insert (w->nnunet_label_names, GUINT_TO_POINTER (l->value),
                             g_strdup (l->name != NULL ? l->name : ""));
    }
}

/* One nnU-Net case: the series as channel 0000 and the map as its label image. */
static gboolean
write_nnunet_case (Writer *w, PatientOut *p, const CuVolume *image, const CuLabelMap *map,
                   guint *n_cases_of_patient, GError **error)
{
  g_autofree char *case_id = NULL, *images = NULL, *labels = NULL, *img = NULL, *lab = NULL;
  g_autofree char *img_name = NULL, *lab_name = NULL;

  case_id = g_strdup_printf ("%s_%03u", p->identity, ++*n_cases_of_patient);
  g_strcanon (case_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", '_');
  images = g_build_filename (w->partial, "nnunet", "imagesTr", NULL);
  labels = g_build_filename (w->partial, "nnunet", "labelsTr", NULL);
  if (!make_dir (images, error) || !make_dir (labels, error))
    return FALSE;
  img_name = g_strconcat (case_id, "_0000.nii.gz", NULL);
  lab_name = g_strconcat (case_id, ".nii.gz", NULL);
  img = g_build_filename (images, img_name, NULL);
  lab = g_build_filename (labels, lab_name, NULL);
  if (!cu_nifti_write (image, img, error) || !cu_seg_nifti_write (map, lab, error))
    return FALSE;
  /* nnU-Net reads one label per voxel: overlapping labels were flattened (the higher value
   * kept, cu_label_map_top). The DICOM SEG beside it keeps them; the provenance says which
   * labels lost voxels in which case, and the progress shows it, never silently. */
  {
    g_autoptr(GArray) overlaps = cu_label_map_overlaps (map);
    g_autofree char *warning = cu_label_map_flatten_warning (map);
    JsonBuilder *b = w->provenance;

    if (overlaps->len > 0)
      {
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "event");
        json_builder_add_string_value (b, "nnunet-labels-flattened");
        json_builder_set_member_name (b, "case");
        json_builder_add_string_value (b, case_id);
        json_builder_set_member_name (b, "rule");
        json_builder_add_string_value (b, "where labels overlap the higher label value is "
                                          "written; the DICOM SEG keeps every segment");
        json_builder_set_member_name (b, "overlaps");
        json_builder_begin_array (b);
        for (guint i = 0; i < overlaps->len; i++)
          {
            const CuLabelOverlap *o = &g_array_index (overlaps, CuLabelOverlap, i);
            json_builder_begin_object (b);
            json_builder_set_member_name (b, "labels");
            json_builder_begin_array (b);
            json_builder_add_int_value (b, o->a);
            json_builder_add_int_value (b, o->b);
            json_builder_end_array (b);
            json_builder_set_member_name (b, "voxels");
            json_builder_add_int_value (b, (gint64) o->n_voxels);
            json_builder_end_object (b);
          }
        json_builder_end_array (b);
        json_builder_end_object (b);
        {
          g_autofree char *message = g_strdup_printf ("%s: %s", case_id, warning);
          cu_progress_report (w->progress, -1, message);
        }
      }
  }
  g_ptr_array_add (w->nnunet_cases, g_steal_pointer (&case_id));
  nnunet_note_labels (w, map);
  if (w->nnunet_modality == NULL && image->modality != NULL)
    w->nnunet_modality = g_strdup (image->modality);
  return TRUE;
}

static gboolean
write_series_segs (Writer *w, PatientOut *p, const CuReleaseSeriesPlan *sp,
                   guint *n_cases_of_patient, GError **error)
{
  g_autoptr(GPtrArray) readers = pick_versions (w->store, sp->series_uid, error);
  g_auto(GStrv) files = NULL;
  g_autoptr(CuSeriesPlan) splan = NULL;
  g_autoptr(GHashTable) headers = NULL;
  g_autoptr(CuVolume) image = NULL;
  g_autofree const char **classes = NULL, **instances = NULL;
  g_autofree int *frames = NULL;
  CuDicomHeader *first = NULL;
  const CuVolume *grid;
  guint main_stack;
  int nz;
  g_autofree char *deid_method = NULL;
  g_autoptr (GPtrArray) deid_codes = NULL;
  gboolean ok = FALSE;

  if (readers == NULL)
    return FALSE;
  if (readers->len == 0)
    return TRUE;
  files = cu_store_get_series_files (w->store, sp->series_uid, error);
  if (files == NULL)
    return FALSE;
  splan = cu_series_plan_new_from_files ((const char *const *) files, NULL, w->cancellable, error);
  if (splan == NULL)
    return FALSE;
  main_stack = cu_series_plan_get_main_stack (splan);
  grid = cu_series_plan_get_geometry (splan, main_stack);
  nz = grid->dims[2];
  headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify) cu_dicom_header_free);
  classes = g_new0 (const char *, nz);
  instances = g_new0 (const char *, nz);
  frames = g_new0 (int, nz);
  /* The references of every slice, read from the anonymized files: new UIDs only. */
  for (int k = 0; k < nz; k++)
    {
      int frame = 0;
      const char *file = cu_series_plan_get_source (splan, main_stack, (guint) k, 0, &frame);
      const char *written;
      CuDicomHeader *h;

      if (file == NULL)
        continue;
      written = g_hash_table_lookup (w->written_of, file);
      if (written == NULL)
        continue;
      h = g_hash_table_lookup (headers, written);
      if (h == NULL)
        {
          h = cu_dicom_header_read (written, error);
          if (h == NULL)
            return FALSE;
          g_hash_table_insert (headers, g_strdup (written), h);
        }
      if (first == NULL)
        first = h;
      classes[k] = h->sop_class_uid;
      instances[k] = h->sop_instance_uid;
      frames[k] = h->number_of_frames > 1 ? frame + 1 : 0;
    }
  if (first == NULL)
    return TRUE;   /* nothing of the series went (an object without images) */

  image = cu_store_load_series_volume (w->store, sp->series_uid, NULL, w->cancellable, NULL);
  if (g_cancellable_set_error_if_cancelled (w->cancellable, error))
    return FALSE;

  deid_codes = cu_seg_dicom_read_deid_record (first->path, &deid_method);

  for (guint r = 0; r < readers->len; r++)
    {
      const char *reader = readers->pdata[r];
      const char *label = reader_label (w, reader);
      g_autoptr(CuLabelMap) stored = NULL;
      g_autoptr(CuLabelMap) map = NULL;
      g_autofree char *seg_series = cu_dicom_uid_new ();
      g_autofree char *sr_series = cu_dicom_uid_new ();
      g_autofree char *sr_sop = cu_dicom_uid_new ();
      g_autofree char *seg_sop = cu_dicom_uid_new ();
      g_autofree char *description = NULL, *seg_dir = NULL, *seg_path = NULL;
      g_autofree char *sr_dir = NULL, *sr_path = NULL, *seg_name = NULL, *sr_name = NULL;
      guint8 segment_of_label[256] = { 0 };
      guint n_segments = 0;
      CuSegDicomSpec seg = { 0 };
      CuSegSrSpec sr = { 0 };

      stored = cu_store_seg_load (w->store, sp->series_uid, reader, 0, NULL, error);
      if (stored == NULL)
        goto out;
      if (!cu_label_map_same_grid (stored, grid))
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID,
                       _("The segmentation is not on the grid of series %s"), sp->series_uid);
          goto out;
        }
      map = package_map (w, stored);
      n_segments = cu_seg_dicom_segment_numbers (map, segment_of_label);
      if (n_segments == 0)
        continue;   /* an empty segmentation says nothing */

      /* OUT/dicom/<patient>/<study>/<series>/<instance>.dcm, in the annotated study. */
      {
        g_autofree char *rel = g_path_get_dirname (first->path);
        g_autofree char *study_dir = g_path_get_dirname (rel);
        seg_dir = g_build_filename (study_dir, seg_series, NULL);
        sr_dir = g_build_filename (study_dir, sr_series, NULL);
      }
      if (!make_dir (seg_dir, error) || !make_dir (sr_dir, error))
        goto out;
      description = g_strdup_printf ("Segmentation (%s)", label);
      seg.source = first;
      seg.slice_sop_class = classes;
      seg.slice_sop_instance = instances;
      seg.slice_frame = frames;
      seg.series_description = description;
      seg.content_creator = label;
      seg.series_uid = seg_series;
      seg.sop_instance_uid = seg_sop;
      seg.deid_method = deid_method;
      seg.deid_codes = (const char *const *) deid_codes->pdata;
      seg_name = g_strconcat (seg_sop, ".dcm", NULL);
      seg_path = g_build_filename (seg_dir, seg_name, NULL);
      if (!cu_seg_dicom_write (map, &seg, seg_path, error))
        goto out;
      w->n_seg++;

      sr.source = first;
      sr.slice_sop_class = classes;
      sr.slice_sop_instance = instances;
      sr.seg_sop_instance_uid = seg_sop;
      sr.seg_series_uid = seg_series;
      sr.segment_of_label = segment_of_label;
      sr.image = image != NULL && cu_label_map_same_grid (map, image) ? image : NULL;
      sr.observer = label;
      sr.copy_label_names = w->mode != CU_RELEASE_ANONYMIZED;
      sr.series_uid = sr_series;
      sr.sop_instance_uid = sr_sop;
      sr.deid_method = deid_method;
      sr.deid_codes = (const char *const *) deid_codes->pdata;
      sr_name = g_strconcat (sr_sop, ".dcm", NULL);
      sr_path = g_build_filename (sr_dir, sr_name, NULL);
      if (!cu_seg_sr_write (map, &sr, sr_path, error))
        goto out;
      w->n_sr++;

      /* nnU-Net: one case per series, the adjudicated map or the first reader's. */
      if ((w->layout & CU_RELEASE_LAYOUT_NNUNET) && r == 0 && image != NULL
          && cu_label_map_same_grid (map, image))
        {
          if (!write_nnunet_case (w, p, image, map, n_cases_of_patient, error))
            goto out;
        }
    }
  ok = TRUE;
out:
  return ok;
}

/* ---- Provenance --------------------------------------------------------------------- */

static const char *
new_uid_or_null (Writer *w, const char *uid)
{
  return uid != NULL ? cu_anonymizer_lookup_uid (w->anon, uid) : NULL;
}

/* The study's pseudonymization gate and override, and every QC decision of its series that
 * went, from the audit log; UIDs as they are in the package, free text of QC decisions only
 * in pseudonymized mode (a remark typed by a curator could name the patient). */
static gboolean
provenance_study (Writer *w, const CuReleaseStudyPlan *st, GError **error)
{
  JsonBuilder *b = w->provenance;
  const char *study = new_uid_or_null (w, st->study_uid);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, st->override_reason != NULL ? "deid-override" : "deid-passed");
  json_builder_set_member_name (b, "study");
  json_builder_add_string_value (b, study != NULL ? study : "");
  /* The override is named with its reason (the curator wrote it to justify letting the study
   * leave: the receiver must read it). In anonymized mode the curators' user names stay home:
   * they are personal data the receiver does not need. */
  if (st->override_reason != NULL)
    {
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, st->override_reason);
      json_builder_set_member_name (b, "time");
      json_builder_add_string_value (b, st->override_time != NULL ? st->override_time : "");
      if (w->mode == CU_RELEASE_PSEUDONYMIZED)
        {
          json_builder_set_member_name (b, "user");
          json_builder_add_string_value (b, st->override_user != NULL ? st->override_user : "");
        }
    }
  json_builder_end_object (b);

  for (guint s = 0; s < st->series->len; s++)
    {
      const CuReleaseSeriesPlan *sp = st->series->pdata[s];
      CuAuditFilter filter = { 0 };
      g_autoptr(GPtrArray) rows = NULL;
      const char *series = new_uid_or_null (w, sp->series_uid);

      if (!sp->go || series == NULL)
        continue;
      filter.series_uid = sp->series_uid;
      filter.action = "qc-decision";
      rows = cu_store_audit_list (w->store, &filter, error);
      if (rows == NULL)
        return FALSE;
      for (guint i = 0; i < rows->len; i++)
        {
          const CuAuditEntry *e = rows->pdata[i];
          g_autoptr(JsonParser) parser = json_parser_new ();
          const char *state = NULL;

          if (e->detail != NULL && json_parser_load_from_data (parser, e->detail, -1, NULL)
              && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
            state = json_object_get_string_member_with_default (
              json_node_get_object (json_parser_get_root (parser)), "state", NULL);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "event");
          json_builder_add_string_value (b, "qc-decision");
          json_builder_set_member_name (b, "series");
          json_builder_add_string_value (b, series);
          json_builder_set_member_name (b, "state");
          json_builder_add_string_value (b, state != NULL ? state : "");
          json_builder_set_member_name (b, "time");
          json_builder_add_string_value (b, e->time != NULL ? e->time : "");
          if (w->mode == CU_RELEASE_PSEUDONYMIZED)
            {
              json_builder_set_member_name (b, "user");
              json_builder_add_string_value (b, e->user != NULL ? e->user : "");
            }
          if (w->mode == CU_RELEASE_PSEUDONYMIZED && e->reason != NULL)
            {
              json_builder_set_member_name (b, "reason");
              json_builder_add_string_value (b, e->reason);
            }
          json_builder_end_object (b);
        }
    }
  return TRUE;
}

/* The consistency flags of a patient that were corrected, accepted or withdrawn before the
 * release: rule, final state, time. Never the values (a corrected date is a date). */
static gboolean
provenance_flags (Writer *w, const PatientOut *p, GError **error)
{
  CuFlagFilter filter = { 0 };
  g_autoptr(GPtrArray) flags = NULL;

  if (p->patient_id == NULL || p->identity == NULL)
    return TRUE;
  filter.person_id = p->patient_id;
  flags = cu_flags_list (w->store, &filter, error);
  if (flags == NULL)
    return FALSE;
  for (guint i = 0; i < flags->len; i++)
    {
      const CuFlag *f = flags->pdata[i];
      g_autoptr(GPtrArray) events = NULL;

      if (cu_flag_state_is_active (f->state))
        continue;
      events = cu_flags_events (w->store, f->id, error);
      if (events == NULL)
        return FALSE;
      for (guint e = 0; e < events->len; e++)
        {
          const CuFlagEvent *ev = events->pdata[e];

          if (ev->from_state == NULL || g_strcmp0 (ev->from_state, ev->to_state) == 0)
            continue;
          json_builder_begin_object (w->provenance);
          json_builder_set_member_name (w->provenance, "event");
          json_builder_add_string_value (w->provenance, "flag");
          json_builder_set_member_name (w->provenance, "patient");
          json_builder_add_string_value (w->provenance, p->identity);
          json_builder_set_member_name (w->provenance, "rule");
          json_builder_add_string_value (w->provenance, f->rule_id != NULL ? f->rule_id : "");
          json_builder_set_member_name (w->provenance, "from");
          json_builder_add_string_value (w->provenance, ev->from_state);
          json_builder_set_member_name (w->provenance, "to");
          json_builder_add_string_value (w->provenance, ev->to_state != NULL ? ev->to_state : "");
          json_builder_set_member_name (w->provenance, "corrected");
          json_builder_add_boolean_value (w->provenance, ev->corrected_value != NULL
                                                          && ev->corrected_value[0] != '\0');
          json_builder_set_member_name (w->provenance, "time");
          json_builder_add_string_value (w->provenance, ev->time != NULL ? ev->time : "");
          json_builder_end_object (w->provenance);
        }
    }
  return TRUE;
}

/* ---- Clinical data and nnU-Net ------------------------------------------------------ */

static gboolean
write_clinical (Writer *w, GError **error)
{
  g_autofree CuClinicalExportPatient *patients = g_new0 (CuClinicalExportPatient, w->patients->len);
  g_autofree char *dir = g_build_filename (w->partial, "clinical", NULL);
  g_autoptr(CuClinicalExportReport) report = NULL;
  guint n = 0;

  for (guint i = 0; i < w->patients->len; i++)
    {
      const PatientOut *p = w->patients->pdata[i];
      if (p->identity == NULL || p->patient_id == NULL)
        continue;
      patients[n].person_id = p->patient_id;
      patients[n].new_person_id = p->identity;
      patients[n].offset_days = p->offset_days;
      n++;
    }
  if (n == 0)
    return TRUE;
  report = cu_clinical_export_write (w->store, patients, n, dir, error);
  if (report == NULL)
    return FALSE;
  w->n_clinical_rows = report->n_rows;
  /* A folder with nothing in it says nothing; the manifest lists what is there. */
  g_rmdir (dir);
  return TRUE;
}

static gboolean
write_nnunet_dataset (Writer *w, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *dir = g_build_filename (w->partial, "nnunet", NULL);
  g_autofree char *path = g_build_filename (dir, "dataset.json", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GHashTable) used = g_hash_table_new (g_str_hash, g_str_equal);

  if (!make_dir (dir, error))
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, w->plan->release->name);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, "Curata release: one channel per case, the series the "
                                    "segmentation is drawn on");
  json_builder_set_member_name (b, "channel_names");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "0");
  json_builder_add_string_value (b, w->nnunet_modality != NULL ? w->nnunet_modality : "image");
  json_builder_end_object (b);
  /* nnU-Net v2: label name → value; every name once. */
  json_builder_set_member_name (b, "labels");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "background");
  json_builder_add_int_value (b, 0);
  g_hash_table_add (used, (gpointer) "background");
  for (guint v = 1; v < 256; v++)
    {
      const char *name = g_hash_table_lookup (w->nnunet_label_names, GUINT_TO_POINTER (v));
      g_autofree char *unique = NULL;

      if (name == NULL)
        continue;
      unique = name[0] != '\0' && !g_hash_table_contains (used, name)
               ? g_strdup (name) : g_strdup_printf ("label_%u", v);
      json_builder_set_member_name (b, unique);
      json_builder_add_int_value (b, v);
      g_hash_table_add (used, (gpointer) g_hash_table_lookup (w->nnunet_label_names,
                                                              GUINT_TO_POINTER (v)));
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "numTraining");
  json_builder_add_int_value (b, w->nnunet_cases->len);
  json_builder_set_member_name (b, "file_ending");
  json_builder_add_string_value (b, ".nii.gz");
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_file_set_contents (path, text, -1, error);
}

/* ---- The manifest ------------------------------------------------------------------- */

static void
count_holds (GHashTable *counts, GPtrArray *holds)
{
  for (guint i = 0; holds != NULL && i < holds->len; i++)
    {
      const CuReleaseHold *h = holds->pdata[i];
      const char *kind = cu_release_hold_kind_to_string (h->kind);
      g_hash_table_replace (counts, (gpointer) kind,
                            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, kind)) + 1));
    }
}

static void
add_count (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static char *
manifest_text (Writer *w, GPtrArray *files, CuDeidOptions options, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) provenance = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *options_text = cu_deid_options_to_string (options);
  g_autoptr(GHashTable) held = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GList) kinds = NULL;
  const CuRelease *release = w->plan->release;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "curata-release");
  add_count (b, "version", 1);
  json_builder_set_member_name (b, "release");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, release->name);
  add_count (b, "version", release->version);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, cu_release_mode_to_string (release->mode));
  json_builder_set_member_name (b, "shift_dates");
  json_builder_add_boolean_value (b, release->mode == CU_RELEASE_ANONYMIZED || release->shift_dates);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, created);
  json_builder_set_member_name (b, "software");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, "Curata");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "deidentification");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "profile");
  json_builder_add_string_value (b, "PS3.15 Basic Application Level Confidentiality Profile");
  json_builder_set_member_name (b, "options");
  json_builder_add_string_value (b, options_text);
  json_builder_set_member_name (b, "patient_identity");
  json_builder_add_string_value (b, release->mode == CU_RELEASE_ANONYMIZED
                                    ? "new random identifier, no correspondence table kept"
                                    : "the site's pseudonym");
  json_builder_end_object (b);

  json_builder_set_member_name (b, "counts");
  json_builder_begin_object (b);
  add_count (b, "patients", w->patients->len);
  add_count (b, "studies", g_hash_table_size (w->studies_out));
  add_count (b, "series", g_hash_table_size (w->series_out));
  add_count (b, "instances", w->n_instances_done);
  add_count (b, "seg", w->n_seg);
  add_count (b, "sr", w->n_sr);
  add_count (b, "clinical_rows", w->n_clinical_rows);
  add_count (b, "nnunet_cases", w->nnunet_cases->len);
  add_count (b, "files", files->len + 1);   /* and the manifest itself */
  json_builder_end_object (b);

  /* What stayed: counts per reason, never which patient or study. */
  for (guint i = 0; i < w->plan->patients->len; i++)
    {
      const CuReleasePatientPlan *pp = w->plan->patients->pdata[i];
      count_holds (held, pp->holds);
      for (guint s = 0; s < pp->studies->len; s++)
        {
          const CuReleaseStudyPlan *st = pp->studies->pdata[s];
          count_holds (held, st->holds);
          for (guint k = 0; k < st->series->len; k++)
            count_holds (held, ((const CuReleaseSeriesPlan *) st->series->pdata[k])->holds);
        }
    }
  json_builder_set_member_name (b, "held");
  json_builder_begin_object (b);
  add_count (b, "series", w->plan->n_series_held);
  json_builder_set_member_name (b, "reasons");
  json_builder_begin_object (b);
  kinds = g_hash_table_get_keys (held);
  kinds = g_list_sort (kinds, (GCompareFunc) g_strcmp0);
  for (GList *l = kinds; l != NULL; l = l->next)
    add_count (b, l->data, GPOINTER_TO_UINT (g_hash_table_lookup (held, l->data)));
  json_builder_end_object (b);
  json_builder_end_object (b);

  /* Pseudonymized mode: withdrawn since the last package, for the receiver to delete. */
  if (release->mode == CU_RELEASE_PSEUDONYMIZED)
    {
      json_builder_set_member_name (b, "withdrawn");
      json_builder_begin_array (b);
      for (guint i = 0; w->plan->withdrawn != NULL && w->plan->withdrawn[i] != NULL; i++)
        json_builder_add_string_value (b, w->plan->withdrawn[i]);
      json_builder_end_array (b);
    }

  json_builder_end_array (w->provenance);
  provenance = json_builder_get_root (w->provenance);
  json_builder_set_member_name (b, "provenance");
  json_builder_add_value (b, g_steal_pointer (&provenance));

  if (!cu_store_audit_add_head_json (w->store, b, error))
    return NULL;

  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < files->len; i++)
    {
      const PackageFile *f = files->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, f->rel);
      add_count (b, "size", f->size);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, f->sha256);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* ---- The whole ---------------------------------------------------------------------- */

static gboolean
write_everything (Writer *w, GError **error)
{
  CuDeidOptions options = CU_ANONYMIZER_OPTIONS;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (package_file_free);
  g_autofree char *manifest = NULL, *manifest_path = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  w->anon = cu_anonymizer_new (NULL, error);
  if (w->anon == NULL || !cu_anonymizer_keep_derived_descriptions (w->anon, w->store, error))
    return FALSE;
  if (w->mode == CU_RELEASE_PSEUDONYMIZED && !w->plan->release->shift_dates)
    {
      cu_anonymizer_set_dates_kept (w->anon, TRUE);
      options = CU_DEID_RETAIN_LONG_FULL_DATES | CU_DEID_RETAIN_PATIENT_CHARS;
    }
  w->dicom_dir = g_build_filename (w->partial, "dicom", NULL);
  if (!make_dir (w->dicom_dir, error))
    return FALSE;
  w->n_instances_total = w->plan->n_instances_go;

  /* The images, patient by patient. */
  for (guint i = 0; i < w->plan->patients->len; i++)
    {
      const CuReleasePatientPlan *pp = w->plan->patients->pdata[i];
      PatientOut *p;

      if (!pp->go)
        continue;
      if (!prepare_patient (w, pp, error))
        return FALSE;
      p = w->patients->pdata[w->patients->len - 1];
      for (guint s = 0; s < pp->studies->len; s++)
        {
          const CuReleaseStudyPlan *st = pp->studies->pdata[s];
          gboolean any = FALSE;

          if (!st->go)
            continue;
          for (guint k = 0; k < st->series->len; k++)
            {
              const CuReleaseSeriesPlan *sp = st->series->pdata[k];
              const char *new_series;

              if (!sp->go)
                continue;
              if (!write_series_images (w, p, sp, error))
                return FALSE;
              new_series = cu_anonymizer_lookup_uid (w->anon, sp->series_uid);
              if (new_series != NULL)
                {
                  g_hash_table_add (w->series_out, g_strdup (new_series));
                  any = TRUE;
                }
            }
          if (any)
            {
              char *digest = cu_release_digest (w->store, "study", st->study_uid,
                                                strlen (st->study_uid), error);
              if (digest == NULL)
                return FALSE;
              ledger_add (w, "study", digest);
              g_hash_table_add (w->studies_out,
                                g_strdup (cu_anonymizer_lookup_uid (w->anon, st->study_uid)));
            }
        }
      if (p->identity != NULL)
        ledger_add (w, "patient", g_steal_pointer (&p->digest));
    }
  cu_progress_report_count (w->progress, w->n_instances_done, w->n_instances_total,
                            _("Writing the release"));

  /* Segmentations (SEG + SR) and nnU-Net cases, from the anonymized headers; the provenance
   * of what went. */
  w->provenance = json_builder_new ();
  json_builder_begin_array (w->provenance);
  for (guint i = 0, pi = 0; i < w->plan->patients->len; i++)
    {
      const CuReleasePatientPlan *pp = w->plan->patients->pdata[i];
      PatientOut *p;
      guint n_cases = 0;

      if (!pp->go)
        continue;
      p = w->patients->pdata[pi++];
      if (p->identity == NULL)
        continue;
      for (guint s = 0; s < pp->studies->len; s++)
        {
          const CuReleaseStudyPlan *st = pp->studies->pdata[s];

          if (!st->go || cu_anonymizer_lookup_uid (w->anon, st->study_uid) == NULL)
            continue;
          cu_progress_report (w->progress, -1, _("Writing segmentations and reports"));
          for (guint k = 0; k < st->series->len; k++)
            {
              const CuReleaseSeriesPlan *sp = st->series->pdata[k];
              if (g_cancellable_set_error_if_cancelled (w->cancellable, error))
                return FALSE;
              if (sp->go && !write_series_segs (w, p, sp, &n_cases, error))
                return FALSE;
            }
          if (!provenance_study (w, st, error))
            return FALSE;
        }
      if (!provenance_flags (w, p, error))
        return FALSE;
    }
  /* Patients none of whose files went (nothing to anonymize) have no identity: drop them. */
  for (guint i = w->patients->len; i-- > 0;)
    if (((PatientOut *) w->patients->pdata[i])->identity == NULL)
      g_ptr_array_remove_index (w->patients, i);

  if (g_cancellable_set_error_if_cancelled (w->cancellable, error))
    return FALSE;
  cu_progress_report (w->progress, -1, _("Writing the clinical data"));
  if (!write_clinical (w, error))
    return FALSE;
  if ((w->layout & CU_RELEASE_LAYOUT_NNUNET) && !write_nnunet_dataset (w, error))
    return FALSE;

  /* Everything on disk, then the manifest that lists it. */
  cu_progress_report (w->progress, -1, _("Writing the manifest"));
  if (!sync_tree (w->partial, "", files, w->cancellable, error))
    return FALSE;
  manifest = manifest_text (w, files, options, error);
  if (manifest == NULL)
    return FALSE;
  manifest_path = g_build_filename (w->partial, CU_RELEASE_MANIFEST, NULL);
  if (!g_file_set_contents_full (manifest_path, manifest, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, error))
    return FALSE;
  if (!fsync_path (w->partial, error))
    return FALSE;
  g_checksum_update (sum, (const guchar *) manifest, strlen (manifest));
  w->manifest_sha256 = g_strdup (g_checksum_get_string (sum));
  return TRUE;
}

/* rename(2) that never replaces: an empty folder created at OUT meanwhile would otherwise be
 * overwritten silently. */
static gboolean
rename_noreplace (const char *from, const char *to, GError **error)
{
#ifdef RENAME_NOREPLACE
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return TRUE;
  if (errno != EINVAL && errno != ENOSYS)
    return set_io_error (error, to, _("the release cannot be put in place"), errno);
#endif
  if (g_file_test (to, G_FILE_TEST_EXISTS))
    return set_io_error (error, to, _("the release cannot be put in place"), EEXIST);
  if (g_rename (from, to) != 0)
    return set_io_error (error, to, _("the release cannot be put in place"), errno);
  return TRUE;
}

CuReleaseWriteReport *
cu_release_write (CuStore *store, const char *name, const char *out_dir, CuReleaseLayout layout,
                  CuProgress *progress, GCancellable *cancellable, GError **error)
{
  Writer w = { 0 };
  g_autofree char *parent = NULL, *lock = NULL;
  g_autoptr(CuReleaseWriteReport) report = NULL;
  GStatBuf st;
  gboolean renamed = FALSE;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL && out_dir != NULL, NULL);

  w.lock_fd = -1;
  w.store = store;
  w.layout = layout;
  w.progress = progress;
  w.cancellable = cancellable;

  if (g_lstat (out_dir, &st) == 0)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_OUTPUT,
                   _("%s exists: a release is never written over an existing folder"), out_dir);
      return NULL;
    }
  w.plan = cu_release_check (store, name, progress, cancellable, error);
  if (w.plan == NULL)
    return NULL;
  if (w.plan->release->written_at != NULL)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_FROZEN,
                   _("Release “%s” version %d was written on %s to %s; create a new version "
                     "to release again"), w.plan->release->name, w.plan->release->version,
                   w.plan->release->written_at,
                   w.plan->release->written_to != NULL ? w.plan->release->written_to : "?");
      writer_clear (&w);
      return NULL;
    }
  if (w.plan->n_instances_go == 0)
    {
      g_set_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND,
                   _("Nothing of release “%s” passes the gate: there is nothing to write"),
                   w.plan->release->name);
      writer_clear (&w);
      return NULL;
    }
  w.mode = w.plan->release->mode;

  w.out_dir = g_canonicalize_filename (out_dir, NULL);
  parent = g_path_get_dirname (w.out_dir);
  if (!make_dir (parent, error))
    {
      writer_clear (&w);
      return NULL;
    }
  sweep_partials (w.out_dir);
  w.partial = g_strconcat (w.out_dir, PARTIAL_INFIX, "XXXXXX", NULL);
  if (g_mkdtemp_full (w.partial, 0755) == NULL)
    {
      set_io_error (error, w.partial, _("cannot create the folder"), errno);
      writer_clear (&w);
      return NULL;
    }
  lock = g_build_filename (w.partial, CU_RELEASE_WRITER_LOCK, NULL);
  w.lock_fd = g_open (lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w.lock_fd < 0 || flock (w.lock_fd, LOCK_EX) != 0)
    {
      set_io_error (error, lock, _("cannot be created"), errno);
      remove_tree (w.partial);
      writer_clear (&w);
      return NULL;
    }

  w.patients = g_ptr_array_new_with_free_func (patient_out_free);
  w.ledger_strings = g_ptr_array_new_with_free_func (g_free);
  w.ledger = g_array_new (FALSE, FALSE, sizeof (CuLedgerEntry));
  w.written_of = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  w.reader_label = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  w.studies_out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  w.series_out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  w.nnunet_cases = g_ptr_array_new_with_free_func (g_free);
  w.nnunet_label_names = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);

  if (!write_everything (&w, error))
    goto fail;
  /* The lock goes before the rename (it is no part of the package); the descriptor stays
   * open, so the partial folder stays ours until it is OUT. */
  g_unlink (lock);
  if (!rename_noreplace (w.partial, w.out_dir, error))
    goto fail;
  renamed = TRUE;
  if (!fsync_path (parent, error))
    goto fail;

  report = g_new0 (CuReleaseWriteReport, 1);
  report->manifest_sha256 = g_strdup (w.manifest_sha256);
  if (!cu_release_mark_written (store, name, w.out_dir, report->manifest_sha256, w.ledger, error))
    goto fail;
  report->out_dir = g_strdup (w.out_dir);
  report->n_patients = w.patients->len;
  report->n_studies = g_hash_table_size (w.studies_out);
  report->n_series = g_hash_table_size (w.series_out);
  report->n_instances = w.n_instances_done;
  report->n_seg = w.n_seg;
  report->n_sr = w.n_sr;
  report->n_clinical_rows = w.n_clinical_rows;
  writer_clear (&w);
  return g_steal_pointer (&report);

fail:
  /* Nothing of a failed write may look like a package: the partial folder goes, and after
   * the rename (the ledger could not be updated) the package itself, since the workspace
   * would not know it left. */
  remove_tree (renamed ? w.out_dir : w.partial);
  writer_clear (&w);
  return NULL;
}

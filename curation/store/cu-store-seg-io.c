/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-seg-io.c — segmentation export and import through the workspace
 * (cu-store-seg-io.h).
 *
 * The DICOM SEG needs what only the catalog knows: the instance behind every slice of the grid
 * (for the per-frame source references and the Common Instance Reference module) and the
 * patient/study/frame-of-reference attributes of the source, read from its first instance.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cu-store-seg-io.h"
#include "cu-store-private.h"
#include "cu-derived-series.h"
#include "cu-series-plan.h"
#include "cu-dicom-walk.h"
#include "cu-seg-dicom.h"
#include "cu-seg-sr.h"
#include "cu-dicom-writer.h"
#include "cu-seg-nifti.h"
#include "cu-seg-report.h"
#include "cu-seg-form.h"

gboolean
cu_seg_format_from_string (const char *name, CuSegFormat *format)
{
  if (g_strcmp0 (name, "nifti") == 0)
    *format = CU_SEG_FORMAT_NIFTI;
  else if (g_strcmp0 (name, "dicom-seg") == 0)
    *format = CU_SEG_FORMAT_DICOM_SEG;
  else if (g_strcmp0 (name, "dicom-seg+sr") == 0)
    *format = CU_SEG_FORMAT_DICOM_SEG_SR;
  else
    return FALSE;
  return TRUE;
}

static CuSeriesPlan *
open_plan (CuStore *self, const char *series_uid, GError **error)
{
  g_auto(GStrv) files = cu_store_get_series_files (self, series_uid, error);

  if (files == NULL)
    return NULL;
  return cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, error);
}

CuVolume *
cu_store_seg_series_grid (CuStore *self, const char *series_uid, GError **error)
{
  g_autoptr(CuSeriesPlan) plan = open_plan (self, series_uid, error);
  CuVolume *grid;

  if (plan == NULL)
    return NULL;
  grid = cu_volume_copy (cu_series_plan_get_geometry (plan, cu_series_plan_get_main_stack (plan)), FALSE);
  grid->dims[3] = 1;
  return grid;
}


char *
cu_seg_sr_path_for (const char *seg_path)
{
  g_autofree char *stem = cu_seg_path_stem (seg_path);
  return g_strconcat (stem, "-sr.dcm", NULL);
}

/* The SEG at path, and with sr_path the Measurement Report beside it (image given: the mean
 * intensity of each segment). */
static gboolean
write_dicom (CuStore *self, const char *series_uid, const char *reader, const CuLabelMap *map,
             const char *path, const char *sr_path, const CuVolume *image, GError **error)
{
  g_autoptr(CuSeriesPlan) plan = open_plan (self, series_uid, error);
  g_autoptr(GHashTable) headers = NULL;
  g_autofree const char **classes = NULL, **instances = NULL;
  g_autofree int *frames = NULL;
  g_autofree char *description = NULL;
  g_autofree char *seg_uid = cu_dicom_uid_new (), *seg_series_uid = cu_dicom_uid_new ();
  CuDicomHeader *first = NULL;
  CuSegDicomSpec spec = { 0 };
  guint main_stack;
  int nz = map->dims[2];

  if (plan == NULL)
    return FALSE;
  main_stack = cu_series_plan_get_main_stack (plan);
  if (!cu_label_map_same_grid (map, cu_series_plan_get_geometry (plan, main_stack)))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID,
                   _("The segmentation is not on the grid of series %s"), series_uid);
      return FALSE;
    }
  headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cu_dicom_header_free);
  classes = g_new0 (const char *, nz);
  instances = g_new0 (const char *, nz);
  frames = g_new0 (int, nz);
  for (int k = 0; k < nz; k++)
    {
      int frame = 0;
      const char *file = cu_series_plan_get_source (plan, main_stack, (guint) k, 0, &frame);
      CuDicomHeader *h;

      if (file == NULL)
        continue;
      h = g_hash_table_lookup (headers, file);
      if (h == NULL)
        {
          h = cu_dicom_header_read (file, error);
          if (h == NULL)
            return FALSE;
          g_hash_table_insert (headers, g_strdup (file), h);
        }
      if (first == NULL)
        first = h;
      classes[k] = h->sop_class_uid;
      instances[k] = h->sop_instance_uid;
      frames[k] = h->number_of_frames > 1 ? frame + 1 : 0;
    }
  if (first == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID, _("Series %s has no image to refer to"),
                   series_uid);
      return FALSE;
    }
  /* The source's de-identification record goes with the patient it describes. */
  {
    g_autofree char *deid_method = NULL;
    g_autoptr (GPtrArray) deid_codes = NULL;
    gboolean ok;

    deid_codes = cu_seg_dicom_read_deid_record (first->path, &deid_method);
    description = g_strdup_printf ("Segmentation (%s)", reader);
    spec.source = first;
    spec.slice_sop_class = classes;
    spec.slice_sop_instance = instances;
    spec.slice_frame = frames;
    spec.series_description = description;
    spec.content_creator = reader;
    spec.deid_method = deid_method;
    spec.deid_codes = (const char *const *) deid_codes->pdata;
    spec.sop_instance_uid = seg_uid;
    spec.series_uid = seg_series_uid;
    ok = cu_seg_dicom_write (map, &spec, path, error);
    if (ok && sr_path != NULL)
      {
        CuSegSrSpec sr = { 0 };
        guint8 segment_of_label[256];

        cu_seg_dicom_segment_numbers (map, segment_of_label);
        sr.source = first;
        sr.slice_sop_class = classes;
        sr.slice_sop_instance = instances;
        sr.seg_sop_instance_uid = seg_uid;
        sr.seg_series_uid = seg_series_uid;
        sr.segment_of_label = segment_of_label;
        sr.image = image;
        sr.observer = reader;
        /* A reader's own export: the names are the reader's, as in the SEG beside it. */
        sr.copy_label_names = TRUE;
        sr.deid_method = deid_method;
        sr.deid_codes = (const char *const *) deid_codes->pdata;
        ok = cu_seg_sr_write (map, &sr, sr_path, error);
      }
    return ok;
  }
}

gboolean
cu_store_seg_export_map (CuStore *self, const char *series_uid, const char *reader, int version,
                         const CuLabelMap *map, CuSegFormat format, const char *path,
                         GCancellable *cancellable, GError **error)
{
  g_autofree char *stem = cu_seg_path_stem (path);
  g_autoptr(CuVolume) image = NULL;
  g_autoptr(CuSegForm) form = cu_seg_form_load ("pirads-v2.1", NULL);
  g_autoptr(GError) image_error = NULL;
  g_autofree char *detail = NULL;
  CuSegReportSpec report = { series_uid, reader, version, NULL, form };
  g_autofree char *parent = g_path_get_dirname (path);

  if (g_mkdir_with_parents (parent, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _("%s: cannot create the folder: %s"),
                   parent, g_strerror (saved));
      return FALSE;
    }
  if (format == CU_SEG_FORMAT_NIFTI)
    {
      if (!g_str_has_suffix (path, ".nii") && !g_str_has_suffix (path, ".nii.gz"))
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                       _("%s: a NIfTI file name ends in .nii or .nii.gz"), path);
          return FALSE;
        }
      if (!cu_seg_nifti_write (map, path, error))
        return FALSE;
    }

  /* ROI statistics need the pixels; an export still succeeds without them. */
  image = cu_store_load_series_volume (self, series_uid, NULL, cancellable, &image_error);
  if (image != NULL && cu_label_map_same_grid (map, image))
    report.image = image;
  if (format != CU_SEG_FORMAT_NIFTI)
    {
      g_autofree char *sr_path = format == CU_SEG_FORMAT_DICOM_SEG_SR ? cu_seg_sr_path_for (path) : NULL;

      if (!write_dicom (self, series_uid, reader, map, path, sr_path, report.image, error))
        return FALSE;
    }
  if (!cu_seg_report_write (map, &report, stem, error))
    return FALSE;

  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "series_uid");
    json_builder_add_string_value (b, series_uid);
    json_builder_set_member_name (b, "reader");
    json_builder_add_string_value (b, reader);
    json_builder_set_member_name (b, "version");
    json_builder_add_int_value (b, version);
    json_builder_set_member_name (b, "format");
    json_builder_add_string_value (b, format == CU_SEG_FORMAT_NIFTI ? "nifti"
                                      : format == CU_SEG_FORMAT_DICOM_SEG ? "dicom-seg" : "dicom-seg+sr");
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    detail = json_to_string (root, FALSE);
  }
  return cu_store_audit (self, "export-seg", path, detail, error);
}

gboolean
cu_store_seg_export (CuStore *self, const char *series_uid, const char *reader, int version,
                     CuSegFormat format, const char *path, GCancellable *cancellable,
                     GError **error)
{
  g_autoptr(CuSegVersionInfo) info = NULL;
  g_autoptr(CuLabelMap) map = cu_store_seg_load (self, series_uid, reader, version, &info, error);

  if (map == NULL)
    return FALSE;
  return cu_store_seg_export_map (self, series_uid, reader, info->version, map, format, path,
                                  cancellable, error);
}

static gboolean
is_dicom_file (const char *path)
{
  char magic[132];
  FILE *f = fopen (path, "rb");
  gboolean yes = FALSE;

  if (f == NULL)
    return FALSE;
  yes = fread (magic, 1, sizeof magic, f) == sizeof magic && memcmp (magic + 128, "DICM", 4) == 0;
  fclose (f);
  return yes;
}

int
cu_store_seg_import (CuStore *self, const char *series_uid, const char *path, const char *reader,
                     gboolean *resampled, GError **error)
{
  return cu_store_seg_import_from (self, series_uid, path, reader, NULL, CU_LABEL_ORIGIN_MANUAL,
                                   resampled, error);
}

int
cu_store_seg_import_from (CuStore *self, const char *series_uid, const char *path,
                          const char *reader, const char *algorithm, CuLabelOrigin origin,
                          gboolean *resampled, GError **error)
{
  g_autoptr(CuVolume) grid = NULL;
  g_autoptr(CuLabelMap) map = NULL;
  g_autofree char *note = NULL;

  if (!cu_store_seg_check_reader (reader, CU_SEG_KIND_IMPORTED, error))
    return -1;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND, _("%s: no such file"), path);
      return -1;
    }
  grid = cu_store_seg_series_grid (self, series_uid, error);
  if (grid == NULL)
    return -1;
  if (is_dicom_file (path))
    map = cu_seg_dicom_read (path, grid, resampled, error);
  else
    map = cu_seg_nifti_read (path, grid, resampled, error);
  if (map == NULL)
    return -1;
  if (algorithm != NULL)
    {
      if (origin == CU_LABEL_ORIGIN_MANUAL || algorithm[0] == '\0')
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                       _("An algorithm's output is automatic or semiautomatic, and the algorithm has a name"));
          return -1;
        }
      /* It becomes SegmentAlgorithmName, one DICOM LO value. */
      if (!g_utf8_validate (algorithm, -1, NULL) || strlen (algorithm) > 64 || strchr (algorithm, '\\') != NULL)
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                       _("The algorithm name “%s” is not a DICOM name: at most 64 bytes of UTF-8, "
                         "without backslashes"), algorithm);
          return -1;
        }
      for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
        {
          g_autoptr(CuLabel) l = cu_label_copy (cu_label_map_get_label_at (map, i));
          l->origin = origin;
          g_free (l->algorithm_name);
          l->algorithm_name = g_strdup (algorithm);
          cu_label_map_set_label (map, l);
        }
    }
  note = g_strdup_printf ("imported from %s", path);
  return cu_store_seg_save (self, series_uid, reader, CU_SEG_KIND_IMPORTED, map, note, error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-derived-series.c — loading a catalogued series as a volume and writing a processed one
 * back as a derived DICOM series: the demo study and a real de-identified prostate ADC series
 * and a GE 3D T1 from the shared corpus; values round-trip within half a quantisation step (exactly for
 * integer data), geometry is unchanged, the study's gate still passes, lineage and audit are
 * recorded, 4D volumes keep their time points, and a cancelled write leaves nothing behind.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-store-private.h"

typedef struct
{
  char *tmp;
  char *workspace;
  CuStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->store = curation_test_open_workspace ("cu-test-derived-XXXXXX", &f->tmp, &f->workspace);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  curation_test_close_workspace (&f->store, &f->tmp, &f->workspace);
}

static void
import_path (CuStore *store, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuImportReport) report =
    cu_store_import (store, (const char *const[]) { path, NULL }, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_cmpuint (report->n_imported, >, 0);
}

static void
import_demo (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_auto(GStrv) written = cu_demo_write (demo, NULL, &error);

  g_assert_no_error (error);
  import_path (f->store, demo);
}

/* The series with the given number (the demo: 3 = T2 axial, 7 = ADC oblique). */
static char *
series_by_number (CuStore *store, int number)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = cu_store_list_series (store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < all->len; i++)
    {
      CuSeriesRecord *r = all->pdata[i];
      if (r->series_number == number)
        return g_strdup (r->series_uid);
    }
  g_assert_not_reached ();
}

static void
assert_same_geometry (const CuVolume *a, const CuVolume *b)
{
  for (int c = 0; c < 4; c++)
    g_assert_cmpint (a->dims[c], ==, b->dims[c]);
  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat_with_epsilon (a->spacing[c], b->spacing[c], 1e-4);
      g_assert_cmpfloat_with_epsilon (a->origin[c], b->origin[c], 1e-3);
    }
  for (int c = 0; c < 9; c++)
    g_assert_cmpfloat_with_epsilon (a->direction[c], b->direction[c], 1e-5);
}

static gint64
count_rows (CuStore *store, const char *sql, const char *arg)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db, sql, NULL);
  gint64 n;

  g_assert_nonnull (stmt);
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* A float result (what denoising gives) round-trips within half a quantisation step. */
static void
test_float_roundtrip (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *t2 = NULL;
  g_autofree char *derived = NULL;
  g_autoptr(CuVolume) source = NULL;
  g_autoptr(CuVolume) processed = NULL;
  g_autoptr(CuVolume) back = NULL;
  g_autoptr(CuSeriesRecord) src_rec = NULL;
  g_autoptr(CuSeriesRecord) rec = NULL;
  g_autoptr(CuDerivedSeriesInfo) info = NULL;
  g_autoptr(CuStudyGate) gate = NULL;
  g_autoptr(GPtrArray) list = NULL;
  CuDerivedSeriesSpec spec = { 0 };
  float lo, hi;
  double max_err = 0, step;
  gsize n;

  import_demo (f);
  t2 = series_by_number (f->store, 3);
  source = cu_store_load_series_volume (f->store, t2, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (source->voxels);
  g_assert_cmpstr (source->series_uid, ==, t2);

  /* A non-integer transform of the voxels, like a filter would produce. */
  processed = cu_volume_copy (source, TRUE);
  n = cu_volume_n_voxels_3d (processed);
  for (gsize i = 0; i < n; i++)
    processed->voxels[i] = sqrtf (processed->voxels[i] + 1.0f) * 3.3f - 0.7f;

  spec.source_series_uid = t2;
  spec.method = "test-sqrt";
  spec.derivation_description = "Square root transform for a test";
  spec.parameters_json = "{\"scale\": 3.3}";
  spec.result_json = "{\"ok\": true}";
  derived = cu_store_write_derived_series (f->store, &spec, processed, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (derived);
  g_assert_cmpstr (derived, !=, t2);

  /* Same study, a new series, catalogued with every slice. */
  src_rec = cu_store_get_series (f->store, t2, &error);
  g_assert_no_error (error);
  rec = cu_store_get_series (f->store, derived, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (rec->study_uid, ==, src_rec->study_uid);
  g_assert_cmpstr (rec->patient_id, ==, src_rec->patient_id);
  g_assert_cmpint (rec->n_instances, ==, processed->dims[2]);
  g_assert_cmpint (rec->series_number, >=, 1000);
  g_assert_cmpstr (rec->modality, ==, "MR");
  g_assert_nonnull (strstr (rec->series_description, "test-sqrt"));

  /* Without a frame of reference in the spec the source's is kept, and ImageType says
   * DERIVED\SECONDARY followed by the source's own values after its first two. */
  {
    g_auto(GStrv) src_files = cu_store_get_series_files (f->store, t2, &error);
    g_auto(GStrv) out_files = cu_store_get_series_files (f->store, derived, &error);
    g_autoptr(CuDicomHeader) src_header = NULL;
    g_autoptr(CuDicomHeader) out_header = NULL;
    const char *src_rest;

    g_assert_no_error (error);
    src_header = cu_dicom_header_read (src_files[0], &error);
    g_assert_no_error (error);
    out_header = cu_dicom_header_read (out_files[0], &error);
    g_assert_no_error (error);
    g_assert_nonnull (src_header->frame_of_reference_uid);
    g_assert_cmpstr (out_header->frame_of_reference_uid, ==, src_header->frame_of_reference_uid);
    g_assert_nonnull (src_header->image_type);
    src_rest = strchr (strchr (src_header->image_type, '\\') + 1, '\\');
    g_assert_true (g_str_has_prefix (out_header->image_type, "DERIVED\\SECONDARY"));
    if (src_rest != NULL)
      g_assert_cmpstr (out_header->image_type + strlen ("DERIVED\\SECONDARY"), ==, src_rest);
  }

  /* The derived files carry nothing the gate objects to. */
  gate = cu_store_get_study_gate (f->store, rec->study_uid, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gate->state, ==, CU_GATE_PASSED);

  back = cu_store_load_series_volume (f->store, derived, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_geometry (processed, back);
  cu_volume_get_range (processed, &lo, &hi);
  step = ((double) hi - lo) / 65534.0;
  for (gsize i = 0; i < n; i++)
    max_err = MAX (max_err, fabs ((double) processed->voxels[i] - back->voxels[i]));
  g_assert_cmpfloat (max_err, <=, 0.5 * step * 1.01 + 1e-6);

  /* Lineage and audit. */
  info = cu_store_get_derived_series (f->store, derived, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->source_series_uid, ==, t2);
  g_assert_cmpstr (info->method, ==, "test-sqrt");
  g_assert_cmpstr (info->parameters_json, ==, "{\"scale\": 3.3}");
  g_assert_cmpstr (info->result_json, ==, "{\"ok\": true}");
  g_assert_null (info->reference_series_uid);
  g_assert_nonnull (info->user);
  list = cu_store_list_derived_series (f->store, t2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpint (count_rows (f->store, "SELECT count(*) FROM audit_log WHERE action = "
                               "'derive-series' AND object = ?1", derived), ==, 1);

  /* The original series is not derived, and its files are untouched. */
  g_clear_pointer (&info, cu_derived_series_info_free);
  info = cu_store_get_derived_series (f->store, t2, &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_assert_null (info);
}

/* Integer data is stored exactly; 4D volumes keep their time points; registration output
 * records its reference and frame of reference. */
static void
test_integer_4d (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *adc = NULL;
  g_autofree char *t2 = NULL;
  g_autofree char *derived = NULL;
  g_autoptr(CuVolume) source = NULL;
  g_autoptr(CuVolume) series4d = NULL;
  g_autoptr(CuVolume) back = NULL;
  g_autoptr(CuDerivedSeriesInfo) info = NULL;
  g_auto(GStrv) files = NULL;
  g_autoptr(CuDicomHeader) header = NULL;
  CuDerivedSeriesSpec spec = { 0 };
  const char *for_uid = "1.2.826.0.1.3680043.10.1234.99";
  gsize n;

  import_demo (f);
  adc = series_by_number (f->store, 7);
  t2 = series_by_number (f->store, 3);
  source = cu_store_load_series_volume (f->store, adc, NULL, NULL, &error);
  g_assert_no_error (error);

  series4d = cu_volume_new (source->dims[0], source->dims[1], source->dims[2], 3, TRUE, &error);
  g_assert_no_error (error);
  memcpy (series4d->spacing, source->spacing, sizeof source->spacing);
  memcpy (series4d->origin, source->origin, sizeof source->origin);
  memcpy (series4d->direction, source->direction, sizeof source->direction);
  n = cu_volume_n_voxels_3d (source);
  for (int t = 0; t < 3; t++)
    for (gsize i = 0; i < n; i++)
      cu_volume_frame (series4d, t)[i] = roundf (source->voxels[i]) + 100 * t - 50;

  spec.source_series_uid = adc;
  spec.method = "register";
  spec.reference_series_uid = t2;
  spec.frame_of_reference_uid = for_uid;
  spec.series_description = "ADC registered";
  derived = cu_store_write_derived_series (f->store, &spec, series4d, NULL, NULL, &error);
  g_assert_no_error (error);

  back = cu_store_load_series_volume (f->store, derived, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_geometry (series4d, back);
  g_assert_cmpint (back->dims[3], ==, 3);
  g_assert_cmpint (memcmp (back->voxels, series4d->voxels, n * 3 * sizeof (float)), ==, 0);

  files = cu_store_get_series_files (f->store, derived, &error);
  g_assert_no_error (error);
  header = cu_dicom_header_read (files[0], &error);
  g_assert_no_error (error);
  g_assert_cmpstr (header->frame_of_reference_uid, ==, for_uid);
  g_assert_cmpstr (header->series_description, ==, "ADC registered");
  g_assert_true (g_str_has_prefix (header->image_type, "DERIVED\\SECONDARY"));
  g_assert_cmpstr (header->patient_id, ==, CU_DEMO_PATIENT_ID);

  info = cu_store_get_derived_series (f->store, derived, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->reference_series_uid, ==, t2);
}

/* A real de-identified MR series from the shared corpus (oblique or not, with its own
 * rescale): a derived copy of the loaded volume has the same geometry and values. */
static void
test_real_series (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  const char *root = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *dir = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autofree char *derived = NULL;
  g_autoptr(CuVolume) source = NULL;
  g_autoptr(CuVolume) back = NULL;
  CuDerivedSeriesSpec spec = { 0 };
  const char *uid;
  double max_err = 0;
  float lo, hi;

  if (root == NULL)
    {
      g_test_skip ("CU_SHARED_DICOM is not set");
      return;
    }
  dir = g_build_filename (root, "mr", (const char *) data, NULL);
  import_path (f->store, dir);
  all = cu_store_list_series (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (all->len, >=, 1);
  uid = ((CuSeriesRecord *) all->pdata[0])->series_uid;

  source = cu_store_load_series_volume (f->store, uid, NULL, NULL, &error);
  g_assert_no_error (error);
  spec.source_series_uid = uid;
  spec.method = "copy";
  derived = cu_store_write_derived_series (f->store, &spec, source, NULL, NULL, &error);
  g_assert_no_error (error);
  back = cu_store_load_series_volume (f->store, derived, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_same_geometry (source, back);
  cu_volume_get_range (source, &lo, &hi);
  for (gsize i = 0; i < cu_volume_n_voxels_3d (source); i++)
    max_err = MAX (max_err, fabs ((double) source->voxels[i] - back->voxels[i]));
  g_assert_cmpfloat (max_err, <=, MAX (0.5 * ((double) hi - lo) / 65534.0 * 1.01, 1e-6));
}

static void
test_cancelled (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *t2 = NULL;
  g_autofree char *derived = NULL;
  g_autofree char *derived_dir = NULL;
  g_autoptr(CuVolume) source = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GDir) d = NULL;
  CuDerivedSeriesSpec spec = { 0 };

  import_demo (f);
  t2 = series_by_number (f->store, 3);
  source = cu_store_load_series_volume (f->store, t2, NULL, NULL, &error);
  g_assert_no_error (error);
  before = cu_store_list_series (f->store, &error);

  spec.source_series_uid = t2;
  spec.method = "cancelled";
  g_cancellable_cancel (cancellable);
  derived = cu_store_write_derived_series (f->store, &spec, source, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (derived);
  g_clear_error (&error);

  after = cu_store_list_series (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, before->len);
  g_assert_cmpint (count_rows (f->store, "SELECT count(*) FROM derived_series", NULL), ==, 0);
  derived_dir = g_build_filename (f->workspace, "objects", "derived", NULL);
  d = g_dir_open (derived_dir, 0, NULL);
  g_assert_true (d == NULL || g_dir_read_name (d) == NULL);

  /* A source that is not catalogued is an error naming it. */
  spec.source_series_uid = "1.2.3.4.5.6.7";
  derived = cu_store_write_derived_series (f->store, &spec, source, NULL, NULL, &error);
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_assert_null (derived);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/derived-series/float-roundtrip", Fixture, NULL, fixture_setup,
              test_float_roundtrip, fixture_teardown);
  g_test_add ("/derived-series/integer-4d-registration", Fixture, NULL, fixture_setup,
              test_integer_4d, fixture_teardown);
  g_test_add ("/derived-series/real-series/prostate-adc", Fixture, "prostate_adc_ge",
              fixture_setup, test_real_series, fixture_teardown);
  /* GE writes its own de-identification code values, longer than a Code Value may be. */
  g_test_add ("/derived-series/real-series/ge-t1-3d", Fixture, "ge_t1_3d_deidentified",
              fixture_setup, test_real_series, fixture_teardown);
  g_test_add ("/derived-series/cancelled", Fixture, NULL, fixture_setup,
              test_cancelled, fixture_teardown);
  return g_test_run ();
}

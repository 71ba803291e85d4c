/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-anonymize.c — the step-2 anonymized export on real PHI-bearing files.
 *
 * A workspace imports the Philips head phantom CT (28 slices + localizer, fake PHI), the two GE
 * fMRI series of one study, the liver CT with its two SEG objects, the demo study, and a second
 * study of the demo patient written here 200 days after the first. The whole workspace is
 * exported once; the tests then check, against identifiers read independently with pydicom
 * (anon-identifiers.py):
 *  - no original identifier (names, IDs, institution, accession, dates, instance UIDs) occurs
 *    in the bytes of any exported file outside its pixel values;
 *  - every date of a patient moved by that patient's offset, intervals unchanged;
 *  - Curata's own checker passes the export under the Modified Dates options;
 *  - the SEG objects still reference exported CT instances and frame of reference;
 *  - every series loads as the same volume (geometry and voxels);
 *  - patients get distinct identifiers and offsets, and a second session other identifiers.
 */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-dicom-walk.h"

typedef struct
{
  char *tmp;
  char *out;
  CuStore *store;
  CuAnonymizer *anonymizer;
  CuAnonymizeReport *report;
  GPtrArray *originals;      /* JsonObject *, one per original file */
  GPtrArray *exported;       /* JsonObject *, one per exported file */
  char *demo_study_date;     /* of the demo study, and of the second study written here */
  char *demo2_study_date;
} Fixture;

static Fixture fx;

#define DEMO2_INTERVAL_DAYS 200

/* ---- helpers ------------------------------------------------------------------------ */

static char **
python_environ (void)
{
  char **env = g_get_environ ();

  /* meson's MALLOC_PERTURB_ slows Python down by an order of magnitude. */
  env = g_environ_unsetenv (env, "MALLOC_PERTURB_");
  env = g_environ_unsetenv (env, "MALLOC_CHECK_");
  return env;
}

/* pydicom's view of files: one JsonObject per file (see anon-identifiers.py). */
static GPtrArray *
identifiers_of (GPtrArray *paths)
{
  const char *root = g_getenv ("CU_SOURCE_ROOT");
  g_autofree char *script = g_build_filename (root, "tests", "curation", "deid",
                                              "anon-identifiers.py", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) env = python_environ ();
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  for (guint i = 0; i < paths->len; i++)
    g_ptr_array_add (argv, paths->pdata[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));

  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (JsonNode) node = NULL;
      if (*lines[i] == '\0')
        continue;
      node = json_from_string (lines[i], &error);
      g_assert_no_error (error);
      g_ptr_array_add (records, json_object_ref (json_node_get_object (node)));
    }
  g_assert_cmpuint (records->len, ==, paths->len);
  return records;
}

static const char *
str_of (JsonObject *o, const char *member)
{
  return json_object_get_string_member (o, member);
}

static gboolean
array_has (JsonArray *a, const char *value)
{
  for (guint i = 0; i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_array_get_string_element (a, i), value) == 0)
      return TRUE;
  return FALSE;
}

static char *
shift_da (const char *da, int days)
{
  char *s = cu_anonymizer_shift_date (da, FALSE, days);
  g_assert_nonnull (s);
  return s;
}

static int
days_between (const char *a, const char *b)
{
  GDate da, db;
  int ya, ma, dda, yb, mb, ddb;

  g_assert_cmpint (sscanf (a, "%4d%2d%2d", &ya, &ma, &dda), ==, 3);
  g_assert_cmpint (sscanf (b, "%4d%2d%2d", &yb, &mb, &ddb), ==, 3);
  g_date_clear (&da, 1);
  g_date_clear (&db, 1);
  g_date_set_dmy (&da, dda, ma, ya);
  g_date_set_dmy (&db, ddb, mb, yb);
  return g_date_days_between (&da, &db);
}

/* A second study of the demo patient, a few small MR slices, DEMO2_INTERVAL_DAYS after the
 * demo study: the patient then has two studies whose interval the export must keep. */
static void
write_second_demo_study (const char *dir, const char *date, gboolean burned_in)
{
  g_autofree char *study_uid = cu_dicom_uid_new ();
  g_autofree char *series_uid = cu_dicom_uid_new ();
  g_autofree char *for_uid = cu_dicom_uid_new ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int k = 0; k < 3; k++)
    {
      g_autoptr (CuDicomDataset) ds = cu_dicom_dataset_new ();
      g_autofree char *sop_uid = cu_dicom_uid_new ();
      g_autofree char *path = g_strdup_printf ("%s/slice%d.dcm", dir, k);
      const double ipp[3] = { -16.0, -16.0, 10.0 + 5.0 * k };
      const double iop[6] = { 1, 0, 0, 0, 1, 0 };
      const double spacing[2] = { 4.0, 4.0 };
      guint16 pixels[8 * 8];

      for (int i = 0; i < 64; i++)
        pixels[i] = (guint16) (100 * k + i);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0016), "UI",
                                   CU_DICOM_MR_IMAGE_STORAGE);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0018), "UI", sop_uid);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0020), "DA", date);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0021), "DA", date);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0023), "DA", date);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0030), "TM", "091500");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0050), "SH", "");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0060), "CS", "MR");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0090), "PN", "");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0010), "PN", "DEMO^PSEUDONYM");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0020), "LO", CU_DEMO_PATIENT_ID);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0030), "DA", "");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0040), "CS", "M");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0012, 0x0062), "CS", "YES");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0012, 0x0063), "LO",
                                   "Synthetic follow-up written by a test");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x000D), "UI", study_uid);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x000E), "UI", series_uid);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x0010), "SH", "");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x0011), "IS", "1");
      cu_dicom_dataset_add_printf (ds, CU_DICOM_TAG (0x0020, 0x0013), "IS", "%d", k + 1);
      cu_dicom_dataset_add_ds (ds, CU_DICOM_TAG (0x0020, 0x0032), ipp, 3);
      cu_dicom_dataset_add_ds (ds, CU_DICOM_TAG (0x0020, 0x0037), iop, 6);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x0052), "UI", for_uid);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0002), 1);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0028, 0x0004), "CS", "MONOCHROME2");
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0010), 8);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0011), 8);
      cu_dicom_dataset_add_ds (ds, CU_DICOM_TAG (0x0028, 0x0030), spacing, 2);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0100), 16);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0101), 12);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0102), 11);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0103), 0);
      if (burned_in)
        cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0028, 0x0301), "CS", "YES");
      cu_dicom_dataset_add_bytes (ds, CU_DICOM_TAG (0x7FE0, 0x0010), "OW", pixels, sizeof pixels);
      g_assert_true (cu_dicom_dataset_write_file (ds, path, &error));
      g_assert_no_error (error);
    }
}

static GPtrArray *
all_original_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = cu_store_list_series (fx.store, &error);
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      CuSeriesRecord *r = records->pdata[i];
      g_auto (GStrv) files = cu_store_get_series_files (fx.store, r->series_uid, &error);
      g_assert_no_error (error);
      for (guint k = 0; files[k] != NULL; k++)
        g_ptr_array_add (paths, g_strdup (files[k]));
    }
  return paths;
}

static gboolean
fixture_setup (void)
{
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_autoptr (GError) error = NULL;
  g_autofree char *demo = NULL, *demo2 = NULL, *ws = NULL;
  g_autofree char *philips = NULL, *fmri = NULL, *liver = NULL;
  g_auto (GStrv) demo_files = NULL;
  g_autoptr (CuDicomHeader) h = NULL;
  g_autoptr (CuImportReport) import = NULL;
  g_autoptr (GPtrArray) originals = NULL;

  if (shared == NULL || g_getenv ("CU_SOURCE_ROOT") == NULL
      || !g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    return FALSE;
  philips = g_build_filename (shared, "ct", "philips_ingenuity_head_phantom", NULL);
  fmri = g_build_filename (shared, "mr", "ge_fmri_study", NULL);
  liver = g_build_filename (shared, "seg_sr", "liver_ct_3slice_with_seg", NULL);
  if (!g_file_test (philips, G_FILE_TEST_IS_DIR) || !g_file_test (fmri, G_FILE_TEST_IS_DIR)
      || !g_file_test (liver, G_FILE_TEST_IS_DIR))
    return FALSE;

  fx.tmp = g_dir_make_tmp ("cu-anonymize-XXXXXX", &error);
  g_assert_no_error (error);
  fx.out = g_build_filename (fx.tmp, "out", NULL);
  demo = g_build_filename (fx.tmp, "demo", NULL);
  demo2 = g_build_filename (fx.tmp, "demo-follow-up", NULL);
  ws = g_build_filename (fx.tmp, "workspace", NULL);

  demo_files = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  h = cu_dicom_header_read (demo_files[0], &error);
  g_assert_no_error (error);
  fx.demo_study_date = g_strdup (h->study_date);
  fx.demo2_study_date = shift_da (h->study_date, DEMO2_INTERVAL_DAYS);
  write_second_demo_study (demo2, fx.demo2_study_date, FALSE);

  fx.store = cu_store_open (ws, &error);
  g_assert_no_error (error);
  {
    const char *paths[] = { demo, demo2, philips, fmri, liver, NULL };
    import = cu_store_import (fx.store, paths, NULL, NULL, &error);
    g_assert_no_error (error);
    /* only the demo's clinical.csv is not DICOM */
    for (guint i = 0; i < import->rejected->len; i++)
      g_assert_true (g_str_has_suffix (((CuImportRejection *) import->rejected->pdata[i])->path,
                                       ".csv"));
  }

  /* The gate: corpus studies carry PHI and are quarantined on import; they do not leave
   * until a curator overrides. One is tried first, alone, by a UID prefix. */
  {
    g_autoptr (GPtrArray) gates = cu_store_list_gates (fx.store, &error);
    g_autoptr (CuAnonymizer) early = cu_anonymizer_new (NULL, &error);
    g_autofree char *held_out = g_build_filename (fx.tmp, "held", NULL);
    guint n_quarantined = 0;

    g_assert_no_error (error);
    for (guint i = 0; i < gates->len; i++)
      {
        CuStudyGate *gate = gates->pdata[i];
        g_assert_cmpint (gate->state, !=, CU_GATE_PENDING);
        if (gate->state != CU_GATE_QUARANTINED)
          continue;
        if (n_quarantined++ == 0)
          {
            g_autofree char *prefix = g_strndup (gate->study_uid, strlen (gate->study_uid) - 2);
            const char *studies[] = { prefix, NULL };
            g_autoptr (CuAnonymizeReport) held = NULL;

            held = cu_anonymizer_export_store (early, fx.store, studies, held_out, NULL, NULL,
                                               &error);
            g_assert_no_error (error);
            g_assert_cmpuint (held->n_files, ==, 0);
            g_assert_cmpuint (held->held->len, ==, 1);
            g_assert_cmpstr (((CuAnonymizeHeld *) held->held->pdata[0])->study_uid, ==,
                             gate->study_uid);
          }
        g_assert_true (cu_store_override_study (fx.store, gate->study_uid,
                                                "Accepted for the anonymization test", &error));
        g_assert_no_error (error);
      }
    /* Philips, GE and the liver study carry fake PHI. */
    g_assert_cmpuint (n_quarantined, >=, 3);
  }

  /* Nobody has reviewed a series yet: the export holds every one of them, names each and
   * writes nothing (the release gate's rule, which the quick path obeys). */
  {
    g_autoptr (CuAnonymizer) unreviewed = cu_anonymizer_new (NULL, &error);
    g_autofree char *early_out = g_build_filename (fx.tmp, "unreviewed", NULL);
    g_autoptr (CuAnonymizeReport) held = NULL;
    g_autoptr (GPtrArray) series = cu_store_list_series (fx.store, &error);

    g_assert_no_error (error);
    held = cu_anonymizer_export_store (unreviewed, fx.store, NULL, early_out, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (held->n_files, ==, 0);
    g_assert_cmpuint (held->held->len, ==, series->len);
    for (guint i = 0; i < held->held->len; i++)
      g_assert_nonnull (strstr (((CuAnonymizeHeld *) held->held->pdata[i])->reason,
                                "not been reviewed"));
  }
  curation_test_accept_all_series (fx.store);

  fx.anonymizer = cu_anonymizer_new (NULL, &error);
  g_assert_no_error (error);
  fx.report = cu_anonymizer_export_store (fx.anonymizer, fx.store, NULL, fx.out, NULL, NULL,
                                          &error);
  g_assert_no_error (error);
  g_assert_nonnull (fx.report);

  originals = all_original_files ();
  g_assert_cmpuint (fx.report->failed->len, ==, 0);
  g_assert_cmpuint (fx.report->held->len, ==, 0);
  g_assert_cmpuint (fx.report->n_files, ==, originals->len);
  fx.originals = identifiers_of (originals);
  fx.exported = identifiers_of (fx.report->files);
  return TRUE;
}

static void
fixture_teardown (void)
{
  g_clear_pointer (&fx.report, cu_anonymize_report_free);
  g_clear_pointer (&fx.anonymizer, cu_anonymizer_free);
  g_clear_object (&fx.store);
  g_clear_pointer (&fx.originals, g_ptr_array_unref);
  g_clear_pointer (&fx.exported, g_ptr_array_unref);
  if (fx.tmp != NULL)
    curation_test_rm_rf (fx.tmp);
  g_clear_pointer (&fx.tmp, g_free);
  g_clear_pointer (&fx.out, g_free);
  g_clear_pointer (&fx.demo_study_date, g_free);
  g_clear_pointer (&fx.demo2_study_date, g_free);
}

/* The new identifier and offset of the original patient of an original record. */
static void
patient_of (JsonObject *original, const char **new_id, int *offset)
{
  g_assert_true (cu_anonymizer_lookup_patient (fx.anonymizer, str_of (original, "patient_id"),
                                               new_id, offset));
}

/* ---- tests -------------------------------------------------------------------------- */

static void
test_shift_date (void)
{
  struct { const char *in; gboolean dt; int days; const char *out; } cases[] = {
    { "20240314", FALSE, 200, "20240930" },
    { "20240301", FALSE, -1, "20240229" },           /* leap year */
    { "20230101", FALSE, -1, "20221231" },
    { "2024.03.14", FALSE, 1, "20240315" },          /* ACR-NEMA form */
    { "20240314\\20240315", FALSE, 365, "20250314\\20250315" },
    { "20240101-20240131", FALSE, 31, "20240201-20240302" },
    { "20240314101500.25+0100", TRUE, -14, "20240229101500.25+0100" },
    { "202403", TRUE, 31, "202404" },                /* month precision: from the 15th */
    { "2024", TRUE, 365, "2025" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *s = cu_anonymizer_shift_date (cases[i].in, cases[i].dt, cases[i].days);
      g_assert_cmpstr (s, ==, cases[i].out);
    }
  /* Not dates: the caller must empty them rather than keep them. */
  g_assert_null (cu_anonymizer_shift_date ("yesterday", FALSE, 10));
  g_assert_null (cu_anonymizer_shift_date ("20241345", FALSE, 10));
  g_assert_null (cu_anonymizer_shift_date ("2024", FALSE, 10));
}

/* Does needle occur in hay[from, to) as a whole token (not inside a longer UID or word)? */
static gboolean
occurs (const guint8 *hay, gsize from, gsize to, const char *needle)
{
  gsize n = strlen (needle);

  if (n == 0 || to - from < n)
    return FALSE;
  for (gsize i = from; i + n <= to; i++)
    {
      if (hay[i] != (guint8) needle[0] || memcmp (hay + i, needle, n) != 0)
        continue;
      gboolean before = i == 0 || !(g_ascii_isalnum (hay[i - 1]) || hay[i - 1] == '.');
      gboolean after = i + n >= to || !(g_ascii_isalnum (hay[i + n]) || hay[i + n] == '.');
      if (before && after)
        return TRUE;
    }
  return FALSE;
}

static void
test_no_original_identifiers (void)
{
  g_autoptr (GHashTable) texts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) uids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) dates = g_hash_table_new (g_str_hash, g_str_equal);
  /* shifted dates of each new patient: a coincidence with another original date is no leak */
  g_autoptr (GHashTable) allowed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                          (GDestroyNotify) g_hash_table_unref);
  guint n_checked = 0;

  for (guint i = 0; i < fx.originals->len; i++)
    {
      JsonObject *o = fx.originals->pdata[i];
      JsonArray *a;
      const char *new_id;
      int offset;
      GHashTable *shifted;

      a = json_object_get_array_member (o, "texts");
      for (guint k = 0; k < json_array_get_length (a); k++)
        if (strlen (json_array_get_string_element (a, k)) >= 4)
          g_hash_table_add (texts, (gpointer) json_array_get_string_element (a, k));
      a = json_object_get_array_member (o, "uids");
      for (guint k = 0; k < json_array_get_length (a); k++)
        g_hash_table_add (uids, (gpointer) json_array_get_string_element (a, k));
      patient_of (o, &new_id, &offset);
      shifted = g_hash_table_lookup (allowed, new_id);
      if (shifted == NULL)
        {
          shifted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_insert (allowed, g_strdup (new_id), shifted);
        }
      a = json_object_get_array_member (o, "dates");
      for (guint k = 0; k < json_array_get_length (a); k++)
        {
          const char *d = json_array_get_string_element (a, k);
          g_hash_table_add (dates, (gpointer) d);
          g_hash_table_add (shifted, shift_da (d, offset));
        }
    }
  /* The corpus does carry what we look for. */
  g_assert_true (g_hash_table_contains (texts, "PLASTIC"));
  g_assert_true (g_hash_table_contains (texts, "Test^Regression"));
  g_assert_true (g_hash_table_contains (texts, CU_DEMO_PATIENT_ID));
  g_assert_cmpuint (g_hash_table_size (uids), >, fx.originals->len);
  g_assert_cmpuint (g_hash_table_size (dates), >=, 4);

  for (guint i = 0; i < fx.report->files->len; i++)
    {
      const char *path = fx.report->files->pdata[i];
      JsonObject *e = fx.exported->pdata[i];
      GHashTable *shifted = g_hash_table_lookup (allowed, str_of (e, "patient_id"));
      g_autofree char *bytes = NULL;
      gsize len = 0, pix_from, pix_to;
      g_autoptr (GError) error = NULL;
      g_autoptr (CuDicomHeader) h = NULL;
      GHashTableIter it;
      gpointer key;

      g_assert_nonnull (shifted);
      g_assert_true (g_file_get_contents (path, &bytes, &len, &error));
      h = cu_dicom_header_read (path, &error);
      g_assert_no_error (error);
      /* Pixel values are not metadata: skip them (their bytes could spell anything). */
      pix_from = pix_to = len;
      if (h->pixel_offset > 0)
        {
          pix_from = (gsize) h->pixel_offset;
          pix_to = h->pixel_length >= 0 ? MIN (len, pix_from + (gsize) h->pixel_length) : len;
        }

#define SCAN(table, what)                                                                   \
      g_hash_table_iter_init (&it, table);                                                  \
      while (g_hash_table_iter_next (&it, &key, NULL))                                      \
        {                                                                                   \
          if ((table) == dates && g_hash_table_contains (shifted, key))                     \
            continue;                                                                       \
          if (occurs ((const guint8 *) bytes, 0, pix_from, key)                             \
              || occurs ((const guint8 *) bytes, pix_to, len, key))                         \
            g_error ("%s: original %s “%s” found in the export", path, what,                \
                     (const char *) key);                                                   \
          n_checked++;                                                                      \
        }
      SCAN (texts, "identifier");
      SCAN (uids, "UID");
      SCAN (dates, "date");
#undef SCAN
    }
  g_assert_cmpuint (n_checked, >, 0);
}

static void
test_dates_shifted_per_patient (void)
{
  g_autoptr (GHashTable) demo_study_dates = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                                   g_free, NULL);
  const char *demo_new_id;
  int demo_offset;

  g_assert_true (cu_anonymizer_lookup_patient (fx.anonymizer, CU_DEMO_PATIENT_ID, &demo_new_id,
                                               &demo_offset));

  /* Every date in the files of a patient is one of that patient's original dates moved by
   * the patient's offset. */
  g_autoptr (GHashTable) expected_by_id = g_hash_table_new_full (
    g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_hash_table_unref);
  for (guint k = 0; k < fx.originals->len; k++)
    {
      JsonObject *o = fx.originals->pdata[k];
      JsonArray *od = json_object_get_array_member (o, "dates");
      GHashTable *expected;
      const char *id;
      int off;

      patient_of (o, &id, &off);
      g_assert_cmpint (ABS (off), >=, CU_ANONYMIZER_MIN_OFFSET_DAYS);
      g_assert_cmpint (ABS (off), <=, CU_ANONYMIZER_MAX_OFFSET_DAYS);
      expected = g_hash_table_lookup (expected_by_id, id);
      if (expected == NULL)
        {
          expected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_insert (expected_by_id, (gpointer) id, expected);
        }
      for (guint d = 0; d < json_array_get_length (od); d++)
        g_hash_table_add (expected, shift_da (json_array_get_string_element (od, d), off));
    }
  for (guint i = 0; i < fx.exported->len; i++)
    {
      JsonObject *e = fx.exported->pdata[i];
      JsonArray *dates = json_object_get_array_member (e, "dates");
      const char *new_id = str_of (e, "patient_id");
      GHashTable *expected = g_hash_table_lookup (expected_by_id, new_id);

      g_assert_nonnull (expected);
      for (guint d = 0; d < json_array_get_length (dates); d++)
        {
          const char *date = json_array_get_string_element (dates, d);
          if (!g_hash_table_contains (expected, date))
            g_error ("%s: date %s is not an original date of the patient, moved",
                     str_of (e, "path"), date);
        }
      if (strcmp (new_id, demo_new_id) == 0)
        g_hash_table_add (demo_study_dates, g_strdup (str_of (e, "study_date")));
    }

  /* The demo patient's two studies: both moved by the same offset, 200 days apart still. */
  {
    g_autofree char *first = shift_da (fx.demo_study_date, demo_offset);
    g_autofree char *second = shift_da (fx.demo2_study_date, demo_offset);

    g_assert_cmpuint (g_hash_table_size (demo_study_dates), ==, 2);
    g_assert_true (g_hash_table_contains (demo_study_dates, first));
    g_assert_true (g_hash_table_contains (demo_study_dates, second));
    g_assert_cmpstr (first, !=, fx.demo_study_date);
    g_assert_cmpint (days_between (first, second), ==, DEMO2_INTERVAL_DAYS);
    g_assert_cmpint (days_between (fx.demo_study_date, first), ==, demo_offset);
  }
}

static void
test_checker_passes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuDeidProfile) profile = cu_deid_profile_new_default (&error);
  CuDeidConfig config = { CU_DEID_OPTIONS_EXPORT, (char *) CU_ANONYMIZER_PSEUDONYM_PATTERN };
  g_autoptr (CuDeidChecker) checker = NULL;
  g_autoptr (GPtrArray) findings = g_ptr_array_new_with_free_func (
    (GDestroyNotify) cu_deid_finding_free);
  g_autoptr (GHashTable) studies = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                          (GDestroyNotify) g_ptr_array_unref);
  guint n_errors = 0;
  GHashTableIter it;
  gpointer key, value;

  g_assert_no_error (error);
  checker = cu_deid_checker_new (profile, &config, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < fx.report->files->len; i++)
    {
      JsonObject *e = fx.exported->pdata[i];
      GPtrArray *pairs;

      g_assert_true (cu_deid_check_file (checker, fx.report->files->pdata[i], findings, &error));
      g_assert_no_error (error);
      pairs = g_hash_table_lookup (studies, str_of (e, "study"));
      if (pairs == NULL)
        {
          pairs = g_ptr_array_new ();
          g_hash_table_insert (studies, (gpointer) str_of (e, "study"), pairs);
        }
      /* PatientName is the same pseudonym as PatientID (checked in the bytes too). */
      g_ptr_array_add (pairs, (gpointer) str_of (e, "patient_id"));
      g_ptr_array_add (pairs, (gpointer) str_of (e, "patient_id"));
    }
  g_hash_table_iter_init (&it, studies);
  while (g_hash_table_iter_next (&it, &key, &value))
    {
      GPtrArray *pairs = value;
      cu_deid_check_study (checker, key, (const char *const *) pairs->pdata, pairs->len / 2,
                           findings);
    }

  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      if (f->severity != CU_DEID_SEVERITY_ERROR)
        continue;
      n_errors++;
      g_printerr ("%s %s %s [%s]: expected %s, found %s\n", f->path, f->tag_path,
                  f->keyword != NULL ? f->keyword : "", f->rule, f->expected, f->found);
    }
  g_assert_cmpuint (n_errors, ==, 0);
}

static void
test_references_resolve (void)
{
  g_autoptr (GHashTable) ct_sops = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) ct_for = g_hash_table_new (g_str_hash, g_str_equal);
  guint n_segs = 0;

  for (guint i = 0; i < fx.exported->len; i++)
    {
      JsonObject *e = fx.exported->pdata[i];
      g_autoptr (CuDicomHeader) h = cu_dicom_header_read (str_of (e, "path"), NULL);
      g_assert_nonnull (h);
      /* MediaStorageSOPInstanceUID follows the new SOPInstanceUID */
      g_assert_true (array_has (json_object_get_array_member (e, "uids"), str_of (e, "sop")));
      if (g_strcmp0 (h->modality, "CT") == 0)
        {
          g_hash_table_add (ct_sops, (gpointer) str_of (e, "sop"));
          g_hash_table_add (ct_for, (gpointer) str_of (e, "frame_of_reference"));
        }
    }
  for (guint i = 0; i < fx.exported->len; i++)
    {
      JsonObject *e = fx.exported->pdata[i];
      JsonArray *refs = json_object_get_array_member (e, "refs");
      g_autoptr (CuDicomHeader) h = cu_dicom_header_read (str_of (e, "path"), NULL);

      if (g_strcmp0 (h->modality, "SEG") != 0)
        continue;
      n_segs++;
      g_assert_cmpuint (json_array_get_length (refs), >, 0);
      for (guint k = 0; k < json_array_get_length (refs); k++)
        if (!g_hash_table_contains (ct_sops, json_array_get_string_element (refs, k)))
          g_error ("%s: ReferencedSOPInstanceUID %s is no exported CT instance",
                   str_of (e, "path"), json_array_get_string_element (refs, k));
      g_assert_true (g_hash_table_contains (ct_for, str_of (e, "frame_of_reference")));
    }
  g_assert_cmpuint (n_segs, ==, 2);
}

typedef struct
{
  CuVolume *volume;
  gboolean matched;
} Loaded;

static void
loaded_free (gpointer data)
{
  Loaded *l = data;
  cu_volume_unref (l->volume);
  g_free (l);
}

static Loaded *
load_series (GPtrArray *paths)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) with_null = g_ptr_array_copy (paths, NULL, NULL);
  g_autoptr (CuSeriesPlan) plan = NULL;
  Loaded *l;

  g_ptr_array_add (with_null, NULL);
  plan = cu_series_plan_new_from_files ((const char *const *) with_null->pdata, NULL, NULL,
                                        &error);
  if (plan == NULL)
    return NULL;
  l = g_new0 (Loaded, 1);
  l->volume = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL,
                                   &error);
  if (l->volume == NULL)
    {
      g_free (l);
      return NULL;
    }
  return l;
}

static gboolean
same_volume (const CuVolume *a, const CuVolume *b)
{
  return memcmp (a->dims, b->dims, sizeof a->dims) == 0
         && memcmp (a->spacing, b->spacing, sizeof a->spacing) == 0
         && memcmp (a->origin, b->origin, sizeof a->origin) == 0
         && memcmp (a->direction, b->direction, sizeof a->direction) == 0
         && memcmp (a->voxels, b->voxels,
                    cu_volume_n_voxels_3d (a) * (gsize) a->dims[3] * sizeof (float)) == 0;
}

static void
test_volumes_identical (void)
{
  g_autoptr (GHashTable) original_series = g_hash_table_new_full (
    g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GHashTable) exported_series = g_hash_table_new_full (
    g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
  g_autoptr (GPtrArray) originals = g_ptr_array_new_with_free_func (loaded_free);
  g_autoptr (GPtrArray) exported = g_ptr_array_new_with_free_func (loaded_free);
  GHashTableIter it;
  gpointer value;

  for (int pass = 0; pass < 2; pass++)
    {
      GPtrArray *records = pass == 0 ? fx.originals : fx.exported;
      GHashTable *by_series = pass == 0 ? original_series : exported_series;
      for (guint i = 0; i < records->len; i++)
        {
          JsonObject *r = records->pdata[i];
          GPtrArray *paths = g_hash_table_lookup (by_series, str_of (r, "series"));
          if (paths == NULL)
            {
              paths = g_ptr_array_new ();
              g_hash_table_insert (by_series, (gpointer) str_of (r, "series"), paths);
            }
          g_ptr_array_add (paths, (gpointer) str_of (r, "path"));
        }
    }
  g_assert_cmpuint (g_hash_table_size (original_series), ==, g_hash_table_size (exported_series));

  g_hash_table_iter_init (&it, original_series);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Loaded *l = load_series (value);
      if (l != NULL)
        g_ptr_array_add (originals, l);
    }
  g_hash_table_iter_init (&it, exported_series);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Loaded *l = load_series (value);
      if (l != NULL)
        g_ptr_array_add (exported, l);
    }
  /* demo (2 series), follow-up, Philips (2), fMRI (2), liver CT at least */
  g_assert_cmpuint (originals->len, >=, 8);
  g_assert_cmpuint (exported->len, ==, originals->len);

  /* Each original volume has an exported twin: same geometry, same voxels. */
  for (guint i = 0; i < originals->len; i++)
    {
      Loaded *o = originals->pdata[i];
      gboolean found = FALSE;
      for (guint k = 0; k < exported->len && !found; k++)
        {
          Loaded *e = exported->pdata[k];
          if (!e->matched && same_volume (o->volume, e->volume))
            found = e->matched = TRUE;
        }
      if (!found)
        g_error ("series %s (%d×%d×%d×%d) has no identical exported volume",
                 o->volume->series_uid, o->volume->dims[0], o->volume->dims[1],
                 o->volume->dims[2], o->volume->dims[3]);
    }
}

static void
test_patients_distinct (void)
{
  const char *patient_ids[] = { CU_DEMO_PATIENT_ID, "PLASTIC", "DEV", "99000" };
  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) offsets = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GRegex) pattern = g_regex_new (CU_ANONYMIZER_PSEUDONYM_PATTERN, 0, 0, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuAnonymizer) second = NULL;
  g_autofree char *second_out = g_build_filename (fx.tmp, "second-session", NULL);
  g_autofree char *written = NULL;
  g_autoptr (CuDicomHeader) h = NULL;
  JsonObject *demo_original = NULL;
  const char *first_id;

  for (guint i = 0; i < G_N_ELEMENTS (patient_ids); i++)
    {
      const char *new_id;
      int offset;
      g_assert_true (cu_anonymizer_lookup_patient (fx.anonymizer, patient_ids[i], &new_id,
                                                   &offset));
      g_assert_true (g_regex_match (pattern, new_id, 0, NULL));
      g_assert_true (g_hash_table_add (ids, (gpointer) new_id));
      g_assert_true (g_hash_table_add (offsets, GINT_TO_POINTER (offset)));
    }
  g_assert_cmpuint (fx.report->n_patients, ==, G_N_ELEMENTS (patient_ids));
  g_assert_false (cu_anonymizer_lookup_patient (fx.anonymizer, "NOBODY", NULL, NULL));

  /* A second session knows nothing of the first: other identifier, other UIDs. */
  for (guint i = 0; i < fx.originals->len && demo_original == NULL; i++)
    if (g_strcmp0 (str_of (fx.originals->pdata[i], "patient_id"), CU_DEMO_PATIENT_ID) == 0)
      demo_original = fx.originals->pdata[i];
  g_assert_nonnull (demo_original);
  second = cu_anonymizer_new (NULL, &error);
  g_assert_no_error (error);
  g_assert_true (cu_anonymizer_anonymize_file (second, str_of (demo_original, "path"),
                                               second_out, &written, &error));
  g_assert_no_error (error);
  h = cu_dicom_header_read (written, &error);
  g_assert_no_error (error);
  g_assert_true (cu_anonymizer_lookup_patient (fx.anonymizer, CU_DEMO_PATIENT_ID, &first_id,
                                               NULL));
  g_assert_cmpstr (h->patient_id, !=, first_id);
  g_assert_cmpstr (h->patient_name, ==, h->patient_id);
  g_assert_cmpstr (h->patient_identity_removed, ==, "YES");
  for (guint i = 0; i < fx.exported->len; i++)
    {
      JsonObject *e = fx.exported->pdata[i];
      g_assert_cmpstr (str_of (e, "sop"), !=, h->sop_instance_uid);
      g_assert_cmpstr (str_of (e, "study"), !=, h->study_uid);
    }
}

static gboolean
count_overlay_elements (const CuDicomElement *el, gpointer user_data)
{
  if (el->group >= 0x6000 && el->group <= 0x601E && (el->group & 1) == 0)
    (*(guint *) user_data)++;
  return TRUE;
}

static void
test_bad_files (void)
{
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_autoptr (CuAnonymizer) anonymizer = cu_anonymizer_new (NULL, NULL);
  g_autofree char *out = g_build_filename (fx.tmp, "bad", NULL);
  g_autofree char *text = g_build_filename (fx.tmp, "notes.txt", NULL);
  const char *odd[] = { "no_meta.dcm", "bad_sequence.dcm",
                        "emri_small_jpeg_2k_lossless_too_short.dcm" };

  g_assert_true (g_file_set_contents (text, "not DICOM\n", -1, NULL));
  /* Burned-in annotation: the pixels may show identifiers; nothing is written. */
  {
    g_autofree char *dir = g_build_filename (fx.tmp, "burned-in", NULL);
    g_autofree char *file = g_build_filename (dir, "slice0.dcm", NULL);
    g_autofree char *written = NULL;
    g_autoptr (GError) error = NULL;

    write_second_demo_study (dir, "20200101", TRUE);
    g_assert_false (cu_anonymizer_anonymize_file (anonymizer, file, out, &written, &error));
    g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED);
    g_assert_null (written);
  }
  /* Overlay planes: Overlay Data is removed (X), and the rest of the plane with it. */
  {
    g_autofree char *path = g_build_filename (shared, "single",
                                              "MR-SIEMENS-DICOM-WithOverlays.dcm", NULL);
    g_autofree char *written = NULL;
    g_autoptr (GError) error = NULL;
    guint n_before = 0, n_after = 0;

    g_assert_true (cu_dicom_walk_file (path, count_overlay_elements, &n_before, &error));
    g_assert_cmpuint (n_before, >, 1);
    g_assert_true (cu_anonymizer_anonymize_file (anonymizer, path, out, &written, &error));
    g_assert_no_error (error);
    g_assert_true (cu_dicom_walk_file (written, count_overlay_elements, &n_after, &error));
    g_assert_cmpuint (n_after, ==, 0);
  }
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (cu_anonymizer_anonymize_file (anonymizer, text, out, NULL, &error));
    g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_NOT_DICOM);
  }
  /* Damaged files: an error or a file, never a crash; what is written is readable. */
  for (guint i = 0; i < G_N_ELEMENTS (odd); i++)
    {
      g_autofree char *path = g_build_filename (shared, "odd", odd[i], NULL);
      g_autofree char *written = NULL;
      g_autoptr (GError) error = NULL;

      if (cu_anonymizer_anonymize_file (anonymizer, path, out, &written, &error))
        {
          g_autoptr (CuDicomHeader) h = cu_dicom_header_read (written, &error);
          g_assert_no_error (error);
          g_assert_cmpstr (h->patient_identity_removed, ==, "YES");
        }
      else
        g_assert_true (error != NULL && error->domain == CU_DICOM_ERROR);
    }
}


static const char *curata_cli;

/* Run curata-cli on the fixture's workspace; returns the exit status, *out its stdout. */
static int
run_cli (char **out, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *ws = g_build_filename (fx.tmp, "workspace", NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  va_list args;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) curata_cli);
  g_ptr_array_add (argv, (gpointer) "--workspace");
  g_ptr_array_add (argv, ws);
  va_start (args, out);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

static void
test_cli (void)
{
  g_autofree char *out_dir = g_build_filename (fx.tmp, "cli-out", NULL);
  g_autofree char *held_dir = g_build_filename (fx.tmp, "cli-held", NULL);
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *o;
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *phi = g_build_filename (shared, "single", "CT_small.dcm", NULL);
  g_autoptr (CuDicomHeader) h = NULL;
  const char *paths[] = { phi, NULL };
  g_autoptr (CuImportReport) import = NULL;

  if (curata_cli == NULL)
    {
      g_test_skip ("curata-cli not given");
      return;
    }

  /* The whole workspace again, as JSON. The library export above recorded every study in the
   * release ledger, so exporting them a second time gives no patient a second identity: every
   * study is held (exit status 3), naming the earlier export, and nothing is written. */
  g_assert_cmpint (run_cli (&out, "anonymize", "--out", out_dir, "--json", NULL), ==, 3);
  root = json_from_string (out, &error);
  g_assert_no_error (error);
  o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "studies"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "files"), ==, 0);
  {
    JsonArray *held = json_object_get_array_member (o, "held");
    g_autoptr (GHashTable) studies = g_hash_table_new (g_str_hash, g_str_equal);

    for (guint i = 0; i < json_array_get_length (held); i++)
      {
        JsonObject *e = json_array_get_object_element (held, i);
        g_hash_table_add (studies, (gpointer) json_object_get_string_member (e, "study_uid"));
        g_assert_nonnull (strstr (json_object_get_string_member (e, "reason"),
                                  CU_ANONYMIZER_RELEASE));
      }
    g_assert_cmpuint (g_hash_table_size (studies), ==, fx.report->n_studies);
    /* The held list names studies by their workspace UID (that is what the curator acts on);
     * the rest of the report pairs nothing old with anything new. */
    json_object_remove_member (o, "held");
    g_clear_pointer (&out, g_free);
    out = json_to_string (root, FALSE);
  }
  for (guint i = 0; i < fx.originals->len; i++)
    {
      JsonObject *r = fx.originals->pdata[i];
      g_assert_null (strstr (out, str_of (r, "study")));
      g_assert_null (strstr (out, str_of (r, "sop")));
      /* Short original IDs (a few digits) can occur by chance inside the new random UIDs:
       * what must not appear is the ID as a value of its own, i.e. as a JSON string. */
      g_autofree char *quoted = g_strdup_printf ("\"%s\"", str_of (r, "patient_id"));
      g_assert_null (strstr (out, quoted));
    }
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (run_cli (&out, "anonymize", "--out", out_dir, "9.9.9.9", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (&out, "anonymize", NULL), ==, 1);
  g_clear_pointer (&out, g_free);

  /* A newly imported study with PHI is quarantined: held back, exit status 3. */
  import = cu_store_import (fx.store, paths, NULL, NULL, &error);
  g_assert_no_error (error);
  h = cu_dicom_header_read (phi, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run_cli (&out, "anonymize", "--out", held_dir, h->study_uid, NULL), ==, 3);
  g_assert_nonnull (strstr (out, h->study_uid));
  {
    /* nothing written for it */
    g_autoptr (GDir) dir = g_dir_open (held_dir, 0, NULL);
    g_assert_true (dir == NULL || g_dir_read_name (dir) == NULL);
  }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  curata_cli = argc > 1 ? argv[1] : NULL;
  g_test_add_func ("/anonymize/shift-date", test_shift_date);
  if (!fixture_setup ())
    {
      g_test_skip ("needs $CU_SHARED_DICOM, $CU_SOURCE_ROOT and /usr/bin/python3 with pydicom");
      return g_test_run ();
    }
  g_test_add_func ("/anonymize/no-original-identifiers", test_no_original_identifiers);
  g_test_add_func ("/anonymize/dates-shifted-per-patient", test_dates_shifted_per_patient);
  g_test_add_func ("/anonymize/checker-passes", test_checker_passes);
  g_test_add_func ("/anonymize/references-resolve", test_references_resolve);
  g_test_add_func ("/anonymize/volumes-identical", test_volumes_identical);
  g_test_add_func ("/anonymize/patients-distinct", test_patients_distinct);
  g_test_add_func ("/anonymize/bad-files", test_bad_files);
  g_test_add_func ("/anonymize/cli", test_cli);
  status = g_test_run ();
  fixture_teardown ();
  return status;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-anonymizer-identity.c — what a release needs of an anonymizer session beyond the quick
 * export: a patient's identity and offset set from outside (pseudonymized releases), the dates
 * kept as they are, the UID map read back for the SEG and SR written beside the images, and
 * Curata's own derived series keeping SeriesDescription and DerivationDescription with the
 * source referenced by its new UID.
 *
 * The demo study is imported and its T2 series smoothed into a derived series
 * (cu_store_write_derived_series); each is anonymized in one session and read back.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-dicom-walk.h"

typedef struct
{
  char *tmp, *workspace;
  CuStore *store;
  char *t2;          /* the demo's T2 series */
  char *derived;     /* its derived copy */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = NULL;
  g_auto(GStrv) files = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) series = NULL;
  g_autoptr(CuVolume) volume = NULL;
  const char *paths[2] = { NULL, NULL };
  CuDerivedSeriesSpec spec = { 0 };

  f->store = curation_test_open_workspace ("cu-anon-identity-XXXXXX", &f->tmp, &f->workspace);
  demo = g_build_filename (f->tmp, "demo", NULL);
  files = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  paths[0] = demo;
  report = cu_store_import (f->store, paths, NULL, NULL, &error);
  g_assert_no_error (error);
  series = cu_store_list_series (f->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < series->len; i++)
    {
      CuSeriesRecord *r = series->pdata[i];
      if (r->series_description != NULL && strstr (r->series_description, "t2") != NULL)
        f->t2 = g_strdup (r->series_uid);
    }
  g_assert_nonnull (f->t2);
  volume = cu_store_load_series_volume (f->store, f->t2, NULL, NULL, &error);
  g_assert_no_error (error);
  spec.source_series_uid = f->t2;
  spec.method = "test-copy";
  spec.series_description = "T2 smoothed (test-copy)";
  spec.derivation_description = "test-copy: the source's voxels, unchanged";
  f->derived = cu_store_write_derived_series (f->store, &spec, volume, NULL, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_free (f->t2);
  g_free (f->derived);
  curation_test_close_workspace (&f->store, &f->tmp, &f->workspace);
}

typedef struct
{
  char *series_description, *derivation_description, *referenced_series;
} Seen;

static gboolean
collect (const CuDicomElement *e, gpointer data)
{
  Seen *s = data;

  if (e->depth == 0 && e->group == 0x0008 && e->element == 0x103E)
    s->series_description = g_strdup (e->text);
  else if (e->depth == 0 && e->group == 0x0008 && e->element == 0x2111)
    s->derivation_description = g_strdup (e->text);
  else if (e->depth == 1 && e->group == 0x0020 && e->element == 0x000E
           && g_str_has_prefix (e->tag_path, "(0008,1115)") && s->referenced_series == NULL)
    s->referenced_series = g_strdup (e->text);
  return TRUE;
}

/* Anonymize every file of series into out; returns the header of the first one written. */
static CuDicomHeader *
anonymize_series (CuAnonymizer *a, CuStore *store, const char *series, const char *out,
                  char **first_path)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) files = cu_store_get_series_files (store, series, &error);
  CuDicomHeader *h = NULL;

  g_assert_no_error (error);
  for (guint i = 0; files[i] != NULL; i++)
    {
      g_autofree char *written = NULL;
      g_assert_true (cu_anonymizer_anonymize_file (a, files[i], out, &written, &error));
      g_assert_no_error (error);
      if (h == NULL)
        {
          h = cu_dicom_header_read (written, &error);
          g_assert_no_error (error);
          *first_path = g_steal_pointer (&written);
        }
    }
  return h;
}

static void
test_identity_from_outside (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuAnonymizer) a = cu_anonymizer_new (NULL, &error);
  g_autofree char *out = g_build_filename (f->tmp, "out-identity", NULL);
  g_autofree char *first = NULL;
  g_autoptr(CuDicomHeader) source = NULL;
  g_autoptr(CuDicomHeader) h = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) files = cu_store_get_series_files (f->store, f->t2, &error);
  const char *id = NULL;
  int offset = 0;

  g_assert_no_error (error);
  source = cu_dicom_header_read (files[0], &error);
  g_assert_no_error (error);
  g_assert_nonnull (source->study_date);
  cu_anonymizer_set_patient (a, source->patient_id, source->patient_name, "SITE-PSEUDO-7", 400);
  g_assert_null (cu_anonymizer_lookup_uid (a, source->sop_instance_uid));
  h = anonymize_series (a, f->store, f->t2, out, &first);
  g_assert_cmpstr (h->patient_id, ==, "SITE-PSEUDO-7");
  g_assert_cmpstr (h->patient_name, ==, "SITE-PSEUDO-7");
  expected = cu_anonymizer_shift_date (source->study_date, FALSE, 400);
  g_assert_cmpstr (h->study_date, ==, expected);
  g_assert_true (cu_anonymizer_lookup_patient (a, source->patient_id, &id, &offset));
  g_assert_cmpstr (id, ==, "SITE-PSEUDO-7");
  g_assert_cmpint (offset, ==, 400);
  /* The UID map, read back: the file's own UIDs are the mapped ones. */
  g_assert_cmpstr (cu_anonymizer_lookup_uid (a, source->sop_instance_uid), ==,
                   h->sop_instance_uid);
  g_assert_cmpstr (cu_anonymizer_lookup_uid (a, source->study_uid), ==, h->study_uid);
  g_assert_cmpstr (cu_anonymizer_lookup_uid (a, source->frame_of_reference_uid), ==,
                   h->frame_of_reference_uid);
  g_assert_cmpstr (cu_anonymizer_map_uid (a, source->series_uid), ==, h->series_uid);
  g_assert_null (cu_anonymizer_lookup_uid (a, "1.2.3.4.5.6.7.8.9"));
  g_assert_cmpstr (h->patient_identity_removed, ==, "YES");
}

static gboolean
collect_marks (const CuDicomElement *e, gpointer data)
{
  GString *s = data;

  if ((e->group == 0x0028 && e->element == 0x0303) || (e->group == 0x0008 && e->element == 0x0100))
    g_string_append_printf (s, "%s;", e->text != NULL ? e->text : "");
  return TRUE;
}

static void
test_dates_kept (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuAnonymizer) a = cu_anonymizer_new (NULL, &error);
  g_autofree char *out = g_build_filename (f->tmp, "out-kept", NULL);
  g_autofree char *first = NULL;
  g_autoptr(CuDicomHeader) source = NULL;
  g_autoptr(CuDicomHeader) h = NULL;
  g_autoptr(GString) marks = g_string_new (NULL);
  g_auto(GStrv) files = cu_store_get_series_files (f->store, f->t2, &error);

  g_assert_no_error (error);
  source = cu_dicom_header_read (files[0], &error);
  g_assert_no_error (error);
  cu_anonymizer_set_dates_kept (a, TRUE);
  cu_anonymizer_set_patient (a, source->patient_id, source->patient_name, source->patient_id, 0);
  h = anonymize_series (a, f->store, f->t2, out, &first);
  g_assert_cmpstr (h->study_date, ==, source->study_date);
  g_assert_cmpstr (h->patient_id, ==, source->patient_id);
  cu_dicom_walk_file (first, collect_marks, marks, NULL);
  /* UNMODIFIED and the Full Dates option code, never the Modified Dates one. */
  g_assert_nonnull (strstr (marks->str, "UNMODIFIED;"));
  g_assert_nonnull (strstr (marks->str, "113106;"));
  g_assert_null (strstr (marks->str, "113107;"));
}

static void
test_derived_descriptions (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuAnonymizer) a = cu_anonymizer_new (NULL, &error);
  g_autoptr(CuAnonymizer) plain = cu_anonymizer_new (NULL, &error);
  g_autofree char *out = g_build_filename (f->tmp, "out-derived", NULL);
  g_autofree char *out_plain = g_build_filename (f->tmp, "out-plain", NULL);
  g_autofree char *src_first = NULL, *derived_first = NULL, *plain_src = NULL, *plain_der = NULL;
  g_autoptr(CuDicomHeader) src = NULL, der = NULL, psrc = NULL, pder = NULL;
  Seen seen = { 0 }, seen_src = { 0 }, seen_plain = { 0 };

  g_assert_true (cu_anonymizer_keep_derived_descriptions (a, f->store, &error));
  g_assert_no_error (error);
  src = anonymize_series (a, f->store, f->t2, out, &src_first);
  der = anonymize_series (a, f->store, f->derived, out, &derived_first);
  cu_dicom_walk_file (derived_first, collect, &seen, NULL);
  g_assert_cmpstr (seen.series_description, ==, "T2 smoothed (test-copy)");
  g_assert_cmpstr (seen.derivation_description, ==, "test-copy: the source's voxels, unchanged");
  /* The source by its new UID, which is the anonymized source series' own. */
  g_assert_cmpstr (seen.referenced_series, ==, src->series_uid);
  g_assert_cmpstr (seen.referenced_series, !=, f->t2);
  /* The source series itself is no exception: its description goes as the profile says. */
  cu_dicom_walk_file (src_first, collect, &seen_src, NULL);
  g_assert_true (seen_src.series_description == NULL || seen_src.series_description[0] == '\0');

  /* A session that was not told keeps nothing of either. */
  psrc = anonymize_series (plain, f->store, f->t2, out_plain, &plain_src);
  pder = anonymize_series (plain, f->store, f->derived, out_plain, &plain_der);
  cu_dicom_walk_file (plain_der, collect, &seen_plain, NULL);
  g_assert_true (seen_plain.series_description == NULL || seen_plain.series_description[0] == '\0');
  g_assert_null (seen_plain.derivation_description);
  g_assert_cmpstr (seen_plain.referenced_series, ==, psrc->series_uid);

  g_free (seen.series_description);
  g_free (seen.derivation_description);
  g_free (seen.referenced_series);
  g_free (seen_src.series_description);
  g_free (seen_src.derivation_description);
  g_free (seen_src.referenced_series);
  g_free (seen_plain.series_description);
  g_free (seen_plain.derivation_description);
  g_free (seen_plain.referenced_series);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/anonymizer/identity-from-outside", Fixture, NULL, fixture_set_up,
              test_identity_from_outside, fixture_tear_down);
  g_test_add ("/anonymizer/dates-kept", Fixture, NULL, fixture_set_up, test_dates_kept,
              fixture_tear_down);
  g_test_add ("/anonymizer/derived-descriptions", Fixture, NULL, fixture_set_up,
              test_derived_descriptions, fixture_tear_down);
  return g_test_run ();
}

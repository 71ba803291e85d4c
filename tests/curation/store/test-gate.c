/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-gate.c — the pseudonymization gate of the workspace on real files: the demo study
 * passes, a PHI-bearing Philips fMRI series from the shared corpus is quarantined with its
 * identifying attributes named (values masked), a fixed copy (rewritten at test time without
 * the flagged attributes) lifts the quarantine whether it replaces the file or arrives at
 * another path, an override needs a reason, is audited, survives re-reading the same files
 * and yields to a new finding; the gate decided again from the files when the stored state
 * and findings were changed by hand; schema migration from version 1; configuration.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-dicom-walk.h"
#include "cu-store-private.h"

#define PHI_SERIES "mr/philips_fmri_epi"
#define N_PHI_FILES 3
#define FIXED_ID "CUR-FIX-0001"

typedef struct
{
  char *tmp;
  char *workspace;
  CuStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->store = curation_test_open_workspace ("cu-test-gate-XXXXXX", &f->tmp, &f->workspace);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  curation_test_close_workspace (&f->store, &f->tmp, &f->workspace);
}

static CuImportReport *
import (CuStore *store, const char *path)
{
  g_autoptr(GError) error = NULL;
  CuImportReport *report = cu_store_import (store, (const char *const[]) { path, NULL }, NULL,
                                            NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

static char *
study_of (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuDicomHeader) h = cu_dicom_header_read (path, &error);

  g_assert_no_error (error);
  return g_strdup (h->study_uid);
}

static CuGateState
gate_state (CuStore *store, const char *study_uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStudyGate) gate = cu_store_get_study_gate (store, study_uid, &error);

  g_assert_no_error (error);
  return gate->state;
}

static guint
count_errors (GPtrArray *findings)
{
  guint n = 0;

  for (guint i = 0; i < findings->len; i++)
    n += ((CuDeidFinding *) findings->pdata[i])->severity == CU_DEID_SEVERITY_ERROR;
  return n;
}

static gboolean
has_error_for (GPtrArray *findings, const char *keyword)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const CuDeidFinding *f = findings->pdata[i];
      if (f->severity == CU_DEID_SEVERITY_ERROR && g_strcmp0 (f->keyword, keyword) == 0)
        return TRUE;
    }
  return FALSE;
}

static int
query_int (CuStore *store, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  int value = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

/* ---- Fixing a file the way a site would: drop what the check flagged ------------------ */

typedef struct
{
  GHashTable *remove;   /* top-level tags (guint32) flagged by an error finding */
  gboolean replace_ids;
} FixData;

static guint32
top_level_tag (const char *tag_path)
{
  unsigned group, element;

  if (tag_path == NULL || sscanf (tag_path, "(%4x,%4x)", &group, &element) != 2)
    return 0;
  return (group << 16) | element;
}

static CuDicomEdit
fix_edit (const CuDicomElement *e, char **replacement, gpointer user_data)
{
  FixData *fix = user_data;
  guint32 tag = ((guint32) e->group << 16) | e->element;

  if (e->depth == 0 && fix->replace_ids && (tag == 0x00100020 || tag == 0x00100010))
    {
      *replacement = g_strdup (FIXED_ID);
      return CU_DICOM_EDIT_REPLACE;
    }
  if (e->depth == 0 && g_hash_table_contains (fix->remove, GUINT_TO_POINTER (tag)))
    return CU_DICOM_EDIT_REMOVE;
  /* no Retain Safe Private: private groups go as a whole, not only their flagged creator */
  if (e->depth == 0 && (e->group & 1) != 0)
    return CU_DICOM_EDIT_REMOVE;
  return CU_DICOM_EDIT_KEEP;
}

static CuDicomEdit
keep_all (const CuDicomElement *e, char **replacement, gpointer user_data)
{
  return CU_DICOM_EDIT_KEEP;
}

/* Rewrite path (in place) until the checker finds no error in it; a few rounds at most,
 * because removing one attribute never adds another. */
#define FIX_OPTIONS (CU_DEID_OPTIONS_SITE_DEFAULT | CU_DEID_RETAIN_UIDS)

static void
fix_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuDeidProfile) profile = cu_deid_profile_new_default (&error);
  CuDeidConfig config = { FIX_OPTIONS, (char *) CU_STORE_DEFAULT_PSEUDONYM_PATTERN };
  g_autoptr(CuDeidChecker) checker = NULL;
  const CuDicomInsert inserts[] = {
    { 0x00120062, "CS", "YES" },
    { 0x00120063, "LO", "Attributes flagged by the check removed" },
  };

  g_assert_no_error (error);
  checker = cu_deid_checker_new (profile, &config, &error);
  g_assert_no_error (error);

  for (int round = 0; round < 6; round++)
    {
      g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_autoptr(GHashTable) remove = g_hash_table_new (NULL, NULL);
      g_autofree char *out = g_strconcat (path, ".fixed", NULL);
      FixData fix = { remove, TRUE };
      gboolean ok;

      g_assert_true (cu_deid_check_file (checker, path, findings, &error));
      g_assert_no_error (error);
      if (count_errors (findings) == 0)
        return;
      for (guint i = 0; i < findings->len; i++)
        {
          const CuDeidFinding *f = findings->pdata[i];
          guint32 tag = top_level_tag (f->tag_path);
          /* the identifiers are replaced, the marker inserted, the UIDs kept (the site
           * retains UIDs, FIX_OPTIONS): never removed */
          if (f->severity == CU_DEID_SEVERITY_ERROR && tag != 0 && tag != 0x00100010
              && tag != 0x00100020 && tag != 0x00120062 && tag != 0x00080018
              && tag != 0x0020000D && tag != 0x0020000E)
            g_hash_table_add (remove, GUINT_TO_POINTER (tag));
        }
      ok = cu_dicom_rewrite_file (path, out, fix_edit, &fix, inserts, G_N_ELEMENTS (inserts),
                                  NULL, 0, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpint (g_rename (out, path), ==, 0);
    }
  g_assert_not_reached ();
}

/* The fixed copy a site sends after de-identifying again with Retain UIDs off: new Study,
 * Series, SOP Instance and Frame of Reference UIDs (2.25 UUID-derived, the same for the same
 * input), the pseudonym, and the remaining flagged attributes removed until the workspace's
 * default configuration finds no error. Dates and series numbers stay. */
static CuDicomEdit
remap_edit (const CuDicomElement *e, char **replacement, gpointer user_data)
{
  guint32 tag = ((guint32) e->group << 16) | e->element;

  if (e->depth == 0 && e->text != NULL
      && (tag == 0x00080018 || tag == 0x0020000D || tag == 0x0020000E || tag == 0x00200052))
    {
      g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_MD5, e->text, -1);
      /* 2.25 + the digest's first 15 hex digits as a decimal: a valid UUID-derived UID */
      digest[15] = '\0';
      *replacement = g_strdup_printf ("2.25.%" G_GUINT64_FORMAT "1",
                                      g_ascii_strtoull (digest, NULL, 16));
      return CU_DICOM_EDIT_REPLACE;
    }
  return fix_edit (e, replacement, user_data);
}

static void
fix_file_remapped (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuDeidProfile) profile = cu_deid_profile_new_default (&error);
  CuDeidConfig config = { CU_DEID_OPTIONS_SITE_DEFAULT, (char *) CU_STORE_DEFAULT_PSEUDONYM_PATTERN };
  g_autoptr(CuDeidChecker) checker = NULL;
  const CuDicomInsert inserts[] = {
    { 0x00120062, "CS", "YES" },
    { 0x00120063, "LO", "Re-identified attributes removed, UIDs remapped" },
  };
  gboolean remapped = FALSE;

  g_assert_no_error (error);
  checker = cu_deid_checker_new (profile, &config, &error);
  g_assert_no_error (error);
  for (int round = 0; round < 6; round++)
    {
      g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_autoptr(GHashTable) remove = g_hash_table_new (NULL, NULL);
      g_autofree char *out = g_strconcat (path, ".fixed", NULL);
      FixData fix = { remove, TRUE };

      g_assert_true (cu_deid_check_file (checker, path, findings, &error));
      if (remapped && count_errors (findings) == 0)
        return;
      for (guint i = 0; i < findings->len; i++)
        {
          const CuDeidFinding *f = findings->pdata[i];
          guint32 tag = top_level_tag (f->tag_path);
          if (f->severity == CU_DEID_SEVERITY_ERROR && tag != 0 && tag != 0x00100010
              && tag != 0x00100020 && tag != 0x00120062 && tag != 0x00080018
              && tag != 0x0020000D && tag != 0x0020000E && tag != 0x00200052)
            g_hash_table_add (remove, GUINT_TO_POINTER (tag));
        }
      g_assert_true (cu_dicom_rewrite_file (path, out, remapped ? fix_edit : remap_edit, &fix,
                                            inserts, G_N_ELEMENTS (inserts), NULL, 0, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_rename (out, path), ==, 0);
      remapped = TRUE;
    }
  g_assert_not_reached ();
}

static int
audit_count (CuStore *store, const char *action, const char *object)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM audit_log WHERE action = '%s'"
                                          " AND (%d OR object = '%s')", action,
                                          object == NULL, object != NULL ? object : "");
  return query_int (store, sql);
}

/* ---- Tests -------------------------------------------------------------------------- */

/* A fixed copy keeps the instances' identity only when the site retains UIDs: with remapped
 * UIDs it is another study. The fixed-copy tests configure the workspace that way. */
static void
retain_uids (CuStore *store)
{
  g_autoptr(GError) error = NULL;
  CuDeidConfig config = { FIX_OPTIONS, (char *) CU_STORE_DEFAULT_PSEUDONYM_PATTERN };

  g_assert_true (cu_store_set_deid_config (store, &config, &error));
  g_assert_no_error (error);
}

static void
test_default_pattern (void)
{
  /* The built-in demo is pseudonymized the way the default pattern describes. */
  g_assert_true (g_regex_match_simple (CU_STORE_DEFAULT_PSEUDONYM_PATTERN, CU_DEMO_PATIENT_ID, 0, 0));
  g_assert_true (g_regex_match_simple (CU_STORE_DEFAULT_PSEUDONYM_PATTERN, FIXED_ID, 0, 0));
  /* what a hospital sends by mistake does not */
  g_assert_false (g_regex_match_simple (CU_STORE_DEFAULT_PSEUDONYM_PATTERN, "12345678", 0, 0));
  g_assert_false (g_regex_match_simple (CU_STORE_DEFAULT_PSEUDONYM_PATTERN, "Doe^John", 0, 0));
}

static void
test_config (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  CuDeidConfig config = { 0 };
  CuDeidConfig wanted = { CU_DEID_RETAIN_LONG_MODIF_DATES | CU_DEID_RETAIN_UIDS, (char *) "^SITE[0-9]+$" };
  CuDeidConfig invalid = { 0, (char *) "([" };

  g_assert_true (cu_store_get_deid_config (f->store, &config, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (config.options, ==, CU_DEID_OPTIONS_SITE_DEFAULT);
  g_assert_cmpstr (config.pseudonym_pattern, ==, CU_STORE_DEFAULT_PSEUDONYM_PATTERN);
  g_clear_pointer (&config.pseudonym_pattern, g_free);

  g_assert_true (cu_store_set_deid_config (f->store, &wanted, &error));
  g_assert_no_error (error);
  g_assert_true (cu_store_get_deid_config (f->store, &config, &error));
  g_assert_cmpuint (config.options, ==, wanted.options);
  g_assert_cmpstr (config.pseudonym_pattern, ==, wanted.pseudonym_pattern);
  g_clear_pointer (&config.pseudonym_pattern, g_free);

  g_assert_false (cu_store_set_deid_config (f->store, &invalid, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* no pattern at all is a choice too, not "use the default" */
  wanted.pseudonym_pattern = NULL;
  g_assert_true (cu_store_set_deid_config (f->store, &wanted, &error));
  g_assert_true (cu_store_get_deid_config (f->store, &config, &error));
  g_assert_null (config.pseudonym_pattern);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM audit_log WHERE action = 'deid-config'"),
                   ==, 2);
}

static void
test_demo_passes (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_auto(GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) gates = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GPtrArray) records = NULL;

  g_assert_no_error (error);
  report = import (f->store, demo);
  g_assert_cmpuint (report->n_imported, >, 0);
  gates = cu_store_list_gates (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (gates->len, ==, 1);
  findings = cu_store_list_findings (f->store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_errors (findings), ==, 0);
  g_assert_cmpint (((CuStudyGate *) gates->pdata[0])->state, ==, CU_GATE_PASSED);
  g_assert_nonnull (((CuStudyGate *) gates->pdata[0])->checked_at);
  g_assert_true (cu_store_study_can_annotate (f->store, ((CuStudyGate *) gates->pdata[0])->study_uid));

  /* the browser's records carry the gate */
  records = cu_store_list_series (f->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    g_assert_cmpint (((CuSeriesRecord *) records->pdata[i])->study_gate, ==, CU_GATE_PASSED);
}

static void
test_phi_quarantined (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autofree char *study = study_of (files->pdata[0]);
  g_autoptr(CuImportReport) report = import (f->store, dir);
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuDicomHeader) h = cu_dicom_header_read (files->pdata[0], &error);
  g_autoptr(CuStudyGate) gate = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (report->n_imported, ==, N_PHI_FILES);
  gate = cu_store_get_study_gate (f->store, study, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gate->state, ==, CU_GATE_QUARANTINED);
  g_assert_cmpint (gate->n_errors, >, 0);
  g_assert_false (cu_store_study_can_annotate (f->store, study));

  findings = cu_store_list_findings (f->store, study, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_errors (findings), ==, (guint) gate->n_errors);
  /* MANIFEST.tsv lists these as non-empty identifying fields of the series; the profile
   * wants the birth date empty (Z) and the institution removed (X) under the site options */
  g_assert_true (has_error_for (findings, "PatientBirthDate"));
  g_assert_true (has_error_for (findings, "InstitutionName"));
  /* every file is named, and no value appears: only masked descriptions */
  for (guint i = 0; i < findings->len; i++)
    {
      const CuDeidFinding *fd = findings->pdata[i];

      g_assert_nonnull (fd->rule);
      if (fd->found != NULL && h->patient_birth_date != NULL && strlen (h->patient_birth_date) >= 6)
        g_assert_null (strstr (fd->found, h->patient_birth_date));
      if (fd->found != NULL && h->patient_name != NULL && strlen (h->patient_name) >= 4)
        g_assert_null (strstr (fd->found, h->patient_name));
    }
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *sql = NULL;
      g_autofree char *quoted = g_strdup (files->pdata[i]);
      sql = g_strdup_printf ("SELECT count(*) FROM deid_finding WHERE path = '%s' AND severity = 2",
                             quoted);
      g_assert_cmpint (query_int (f->store, sql), >, 0);
    }
  /* the quarantine is in the audit log */
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM audit_log WHERE action = 'deid-gate'"
                                        " AND detail LIKE '%quarantined%'"), ==, 1);
}

static void
test_fixed_copy_in_place (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autofree char *study = study_of (files->pdata[0]);
  g_autoptr(CuImportReport) first = (retain_uids (f->store), import (f->store, dir));
  g_autoptr(CuImportReport) second = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);

  /* fix all but the last file: still quarantined, fewer findings */
  for (guint i = 0; i + 1 < files->len; i++)
    fix_file (files->pdata[i]);
  second = import (f->store, dir);
  g_assert_cmpuint (second->n_updated, ==, N_PHI_FILES - 1);
  g_assert_cmpuint (second->n_unchanged, ==, 1);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
  findings = cu_store_list_findings (f->store, study, &error);
  /* file findings only in the unfixed file; the study now has two pseudonyms, which the
   * study-level check reports */
  for (guint i = 0; i < findings->len; i++)
    {
      const CuDeidFinding *fd = findings->pdata[i];
      if (g_strcmp0 (fd->rule, "pseudonym-consistency") == 0)
        continue;
      if (fd->severity == CU_DEID_SEVERITY_ERROR)
        g_assert_cmpstr (fd->path, ==, files->pdata[N_PHI_FILES - 1]);
    }
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* the last one too: the quarantine is lifted */
  fix_file (files->pdata[N_PHI_FILES - 1]);
  g_clear_pointer (&second, cu_import_report_free);
  second = import (f->store, dir);
  g_assert_cmpuint (second->n_updated, ==, 1);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_PASSED);
  findings = cu_store_list_findings (f->store, study, &error);
  g_assert_cmpuint (count_errors (findings), ==, 0);
  g_assert_true (cu_store_study_can_annotate (f->store, study));
}

static void
test_fixed_copy_elsewhere (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autofree char *fixed_dir = g_build_filename (f->tmp, "fixed", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autoptr(GPtrArray) fixed = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, fixed_dir);
  g_autofree char *study = study_of (files->pdata[0]);
  g_autoptr(CuImportReport) first = (retain_uids (f->store), import (f->store, dir));
  g_autoptr(CuImportReport) again = NULL;
  g_autoptr(CuImportReport) second = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) paths = NULL;
  g_autoptr(GPtrArray) records = NULL;

  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
  /* an unfixed copy elsewhere is a plain duplicate */
  again = import (f->store, fixed_dir);
  g_assert_cmpuint (again->n_duplicates, ==, N_PHI_FILES);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);

  /* the site's fixed copy, same instances, another folder: the instances move to it */
  for (guint i = 0; i < fixed->len; i++)
    fix_file (fixed->pdata[i]);
  second = import (f->store, fixed_dir);
  g_assert_cmpuint (second->n_duplicates, ==, 0);
  g_assert_cmpuint (second->n_updated, ==, N_PHI_FILES);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_PASSED);

  records = cu_store_list_series (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  paths = cu_store_get_series_files (f->store, ((CuSeriesRecord *) records->pdata[0])->series_uid,
                                     &error);
  g_assert_no_error (error);
  for (guint i = 0; paths[i] != NULL; i++)
    g_assert_true (g_str_has_prefix (paths[i], fixed_dir));
}

static void
test_override (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autofree char *study = study_of (files->pdata[0]);
  g_autoptr(CuImportReport) first = import (f->store, dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStudyGate) gate = NULL;
  const char *reason = "Phantom data; the institution agreed to share its name";
  g_autofree char *sql = NULL;
  g_autofree char *future = NULL;

  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);

  /* a reason is required */
  g_assert_false (cu_store_override_study (f->store, study, "  \t", &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_store_override_study (f->store, study, NULL, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_store_override_study (f->store, "1.2.3.4", reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM audit_log WHERE action = 'deid-override'"),
                   ==, 0);

  g_assert_true (cu_store_override_study (f->store, study, reason, &error));
  g_assert_no_error (error);
  gate = cu_store_get_study_gate (f->store, study, &error);
  g_assert_cmpint (gate->state, ==, CU_GATE_OVERRIDDEN);
  {
    /* Checked again from the files, the override on record still covers every finding. */
    CuGateState now = CU_GATE_PENDING;
    guint n_errors = 99;

    g_assert_true (cu_store_verify_study_gate (f->store, study, &now, &n_errors, &error));
    g_assert_no_error (error);
    g_assert_cmpint (now, ==, CU_GATE_OVERRIDDEN);
    g_assert_cmpuint (n_errors, ==, 0);
  }
  g_assert_cmpstr (gate->reason, ==, reason);
  g_assert_cmpstr (gate->user, ==, g_get_user_name ());
  g_assert_nonnull (gate->time);
  g_assert_true (cu_store_study_can_annotate (f->store, study));
  sql = g_strdup_printf ("SELECT count(*) FROM audit_log WHERE action = 'deid-override'"
                         " AND object = '%s' AND user = '%s' AND time = '%s'"
                         " AND instr (detail, '%s') > 0",
                         study, g_get_user_name (), gate->time, reason);
  g_assert_cmpint (query_int (f->store, sql), ==, 1);

  /* overriding twice: not quarantined any more */
  g_assert_false (cu_store_override_study (f->store, study, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* re-reading the same content (new mtime) finds the same findings: still overridden */
  future = g_strdup (files->pdata[0]);
  {
    g_autofree char *contents = NULL;
    gsize length;
    g_autoptr(CuImportReport) again = NULL;

    g_file_get_contents (future, &contents, &length, &error);
    g_assert_no_error (error);
    g_usleep (20000);
    g_file_set_contents (future, contents, length, &error);
    g_assert_no_error (error);
    again = import (f->store, dir);
    g_assert_cmpuint (again->n_updated, ==, 1);
    g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_OVERRIDDEN);
  }

  /* a new finding (an identifier the override did not see) quarantines again */
  {
    const CuDicomInsert add[] = { { 0x00080090, "PN", "NEWPHYSICIAN^ADDED" },
                                  { 0x00101040, "LO", "1 Main Street, Springfield" } };
    g_autofree char *out = g_strconcat (future, ".new", NULL);
    g_autoptr(CuImportReport) again = NULL;

    g_assert_true (cu_dicom_rewrite_file (future, out, keep_all, NULL, add, G_N_ELEMENTS (add),
                                          NULL, 0, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_rename (out, future), ==, 0);
    again = import (f->store, dir);
    g_assert_cmpuint (again->n_updated, ==, 1);
    g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
    g_assert_false (cu_store_study_can_annotate (f->store, study));
  }
}

/* The stored gate is a row that anyone holding the workspace file can change: set to passed
 * by hand, with the findings deleted too, the study's files still say quarantined. */
static void
test_verify_tampered (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autofree char *study = study_of (files->pdata[0]);
  g_autoptr(CuImportReport) first = import (f->store, dir);
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_auto(GStrv) written = NULL;
  g_autoptr(CuImportReport) demo_report = NULL;
  g_autoptr(GPtrArray) gates = NULL;
  g_autoptr(GError) error = NULL;
  CuGateState now = CU_GATE_PENDING;
  guint n_errors = 0;

  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  demo_report = import (f->store, demo);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
  g_assert_true (cu_store_verify_study_gate (f->store, study, &now, &n_errors, &error));
  g_assert_no_error (error);
  g_assert_cmpint (now, ==, CU_GATE_QUARANTINED);
  g_assert_cmpuint (n_errors, >, 0);

  g_assert_true (_cu_store_exec (f->store->db,
                                 "UPDATE study_gate SET state = 'passed', n_errors = 0;"
                                 "DELETE FROM deid_finding;", &error));
  g_assert_no_error (error);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_PASSED);
  now = CU_GATE_PENDING;
  g_assert_true (cu_store_verify_study_gate (f->store, study, &now, &n_errors, &error));
  g_assert_no_error (error);
  g_assert_cmpint (now, ==, CU_GATE_QUARANTINED);
  g_assert_cmpuint (n_errors, >, 0);

  /* The demo study passes, checked again or not. */
  gates = cu_store_list_gates (f->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < gates->len; i++)
    {
      const CuStudyGate *g = gates->pdata[i];

      if (strcmp (g->study_uid, study) == 0)
        continue;
      g_assert_true (cu_store_verify_study_gate (f->store, g->study_uid, &now, &n_errors, &error));
      g_assert_no_error (error);
      g_assert_cmpint (now, ==, CU_GATE_PASSED);
      g_assert_cmpuint (n_errors, ==, 0);
    }
  g_assert_false (cu_store_verify_study_gate (f->store, "1.2.3.4", &now, NULL, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
}

static void
test_migration_from_v1 (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_auto(GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(GPtrArray) gates = NULL;

  g_assert_no_error (error);
  report = import (f->store, demo);

  /* Make it a version-1 workspace again: what versions 2 and later added is dropped
   * (each later migration adds its tables to this list). */
  g_assert_true (_cu_store_exec (f->store->db,
                                 "DROP TABLE setting; DROP TABLE deid_finding;"
                                 " DROP TABLE instance_pseudonym; DROP TABLE study_gate;"
                                 " DROP TABLE derived_series;"
                                 " DROP TABLE clinical_history; DROP TABLE clinical_value;"
                                 " DROP TABLE clinical_person; DROP TABLE flag_bundle_item;"
                                 " DROP TABLE flag_bundle; DROP TABLE flag_event; DROP TABLE flag;"
                                 " DROP TABLE qc_run; DROP TABLE qc_finding; DROP TABLE qc_metric;"
                                 " DROP TABLE qc_decision;"
                                 " DROP TABLE segmentation;"
                                 " DROP TABLE study_superseded;"
                                 " DROP TABLE series_class;"
                                 " ALTER TABLE audit_log DROP COLUMN hash;"
                                 " DROP TABLE seg_stroke;"
                                 " DROP TABLE release_item; DROP TABLE release_ledger;"
                                 " DROP TABLE release_withdrawal; DROP TABLE release_patient_offset;"
                                 " DROP TABLE dicomweb_push; DROP TABLE dicomweb_server;"
                                 " DROP TABLE instance_pixel_digest; DROP TABLE release;"
                                 " DROP TABLE workspace_pack; DROP TABLE measurement;"
                                 " PRAGMA user_version = 1;", &error));
  g_assert_no_error (error);
  g_clear_object (&f->store);

  f->store = cu_store_open (f->workspace, &error);
  g_assert_no_error (error);
  g_assert_cmpint (cu_store_get_schema_version (f->store), ==, _cu_store_latest_version ());
  gates = cu_store_list_gates (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (gates->len, ==, 1);
  /* catalogued before the gate existed: not checked, so not open for annotation */
  g_assert_cmpint (((CuStudyGate *) gates->pdata[0])->state, ==, CU_GATE_PENDING);
  g_assert_false (cu_store_study_can_annotate (f->store, ((CuStudyGate *) gates->pdata[0])->study_uid));
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM instance_pseudonym"), ==,
                   query_int (f->store, "SELECT count(*) FROM instance"));
  /* the import's audit rows were sealed by the migration */
  {
    g_autoptr(CuAuditCheck) check = cu_store_audit_verify (f->store, &error);
    g_assert_no_error (error);
    g_assert_cmpint (check->state, ==, CU_AUDIT_INTACT);
    g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM audit_log WHERE action = 'audit-chain-start'"),
                     ==, 1);
  }

  /* checking the catalogued files decides */
  g_assert_true (cu_store_deid_recheck (f->store, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&gates, g_ptr_array_unref);
  gates = cu_store_list_gates (f->store, &error);
  g_assert_cmpint (((CuStudyGate *) gates->pdata[0])->state, ==, CU_GATE_PASSED);
}

/* A quarantined study whose fixed copy came back with remapped UIDs (a new study) is retired
 * by it: superseded, never annotated, never exported; the rules refuse what is not a fixed
 * copy; removing the replacement gives the old study its own gate back. */
static void
test_supersede (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autofree char *fixed_dir = g_build_filename (f->tmp, "fixed", NULL);
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_autofree char *out = g_build_filename (f->tmp, "export", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autoptr(GPtrArray) fixed = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, fixed_dir);
  g_autofree char *old_uid = study_of (files->pdata[0]);
  g_autofree char *new_uid = NULL;
  g_autofree char *demo_uid = NULL;
  g_autoptr(CuImportReport) r1 = NULL, r2 = NULL, r3 = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(CuStudyGate) gate = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr(CuAnonymizer) anonymizer = NULL;
  g_autoptr(CuAnonymizeReport) exported = NULL;
  const char *reason = "Site re-sent the study de-identified again (ticket 42)";

  g_assert_no_error (error);
  for (guint i = 0; i < fixed->len; i++)
    fix_file_remapped (fixed->pdata[i]);
  new_uid = study_of (fixed->pdata[0]);
  g_assert_cmpstr (new_uid, !=, old_uid);

  r1 = import (f->store, dir);
  r2 = import (f->store, fixed_dir);
  r3 = import (f->store, demo);
  g_assert_cmpuint (r2->n_imported, ==, N_PHI_FILES);
  g_assert_cmpint (gate_state (f->store, old_uid), ==, CU_GATE_QUARANTINED);
  g_assert_cmpint (gate_state (f->store, new_uid), ==, CU_GATE_PASSED);
  demo_uid = study_of (written[0]);
  /* the old study's PatientID is not a pseudonym: the fixed copy may carry another one */
  findings = cu_store_list_findings (f->store, old_uid, &error);
  g_assert_true (has_error_for (findings, "PatientID"));

  /* the import's offer: of the studies just imported, the fixed copy replaces the old one */
  {
    g_autoptr(GPtrArray) pairs = cu_store_find_fixed_copies (f->store,
                                                             (const char *const[]) { demo_uid, new_uid, NULL },
                                                             &error);
    g_assert_no_error (error);
    g_assert_cmpuint (pairs->len, ==, 2);
    g_assert_cmpstr (pairs->pdata[0], ==, old_uid);
    g_assert_cmpstr (pairs->pdata[1], ==, new_uid);
    g_clear_pointer (&pairs, g_ptr_array_unref);
    pairs = cu_store_find_fixed_copies (f->store, (const char *const[]) { demo_uid, NULL }, &error);
    g_assert_cmpuint (pairs->len, ==, 0);
  }

  /* the store offers the fixed copy, not the demo (another date, other series) */
  candidates = cu_store_list_supersede_candidates (f->store, old_uid, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (candidates->len, ==, 1);
  g_assert_cmpstr (((CuSupersedeCandidate *) candidates->pdata[0])->study_uid, ==, new_uid);
  g_assert_false (((CuSupersedeCandidate *) candidates->pdata[0])->same_pseudonym);

  /* refusals, each with nothing recorded */
  g_assert_false (cu_store_supersede_study (f->store, old_uid, new_uid, " ", &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_store_supersede_study (f->store, old_uid, old_uid, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_store_supersede_study (f->store, old_uid, demo_uid, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, demo_uid));
  g_clear_error (&error);
  /* a passed study is not retired */
  g_assert_false (cu_store_supersede_study (f->store, new_uid, old_uid, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_store_supersede_study (f->store, "1.2.3.4", new_uid, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (audit_count (f->store, "study-superseded", NULL), ==, 0);
  g_assert_cmpint (gate_state (f->store, old_uid), ==, CU_GATE_QUARANTINED);

  g_assert_true (cu_store_supersede_study (f->store, old_uid, new_uid, reason, &error));
  g_assert_no_error (error);
  gate = cu_store_get_study_gate (f->store, old_uid, &error);
  g_assert_cmpint (gate->state, ==, CU_GATE_SUPERSEDED);
  g_assert_cmpstr (gate->superseded_by, ==, new_uid);
  g_assert_cmpstr (gate->reason, ==, reason);
  g_assert_cmpstr (gate->user, ==, g_get_user_name ());
  g_assert_nonnull (gate->time);
  g_assert_cmpint (gate->n_errors, >, 0);   /* the findings stay, for the record */
  g_assert_false (cu_store_study_can_annotate (f->store, old_uid));
  g_assert_true (cu_store_study_can_annotate (f->store, new_uid));
  g_assert_cmpint (audit_count (f->store, "study-superseded", old_uid), ==, 1);
  /* nothing more to override, and not twice */
  g_assert_false (cu_store_override_study (f->store, old_uid, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_store_supersede_study (f->store, old_uid, new_uid, reason, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* the browser's records say so */
  records = cu_store_list_series (f->store, &error);
  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *r = records->pdata[i];
      if (g_strcmp0 (r->study_uid, old_uid) == 0)
        g_assert_cmpint (r->study_gate, ==, CU_GATE_SUPERSEDED);
    }

  /* the export leaves it out and says why; its replacement goes */
  anonymizer = cu_anonymizer_new (NULL, &error);
  g_assert_no_error (error);
  curation_test_accept_all_series (f->store);
  exported = cu_anonymizer_export_store (anonymizer, f->store,
                                         (const char *const[]) { old_uid, new_uid, NULL }, out,
                                         NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (exported->held->len, ==, 1);
  g_assert_cmpstr (((CuAnonymizeHeld *) exported->held->pdata[0])->study_uid, ==, old_uid);
  g_assert_nonnull (strstr (((CuAnonymizeHeld *) exported->held->pdata[0])->reason, new_uid));
  g_assert_cmpuint (exported->n_files, ==, N_PHI_FILES);

  /* a recheck (or a configuration change) does not bring it back */
  g_assert_true (cu_store_deid_recheck (f->store, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gate_state (f->store, old_uid), ==, CU_GATE_SUPERSEDED);

  /* removing the replacement: refused while it supersedes a study, then forced; the old
   * study has its own gate again */
  g_assert_false (cu_store_remove_study (f->store, new_uid, "wrong study", FALSE, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IN_USE);
  g_assert_nonnull (strstr (error->message, "supersedes"));
  g_clear_error (&error);
  g_assert_true (cu_store_remove_study (f->store, new_uid, "wrong study", TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gate_state (f->store, old_uid), ==, CU_GATE_QUARANTINED);
}

/* Removing a study from the catalog: its rows go, its files stay; curation work attached
 * makes the store refuse and say what it is, unless forced. */
static void
test_remove_study (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autofree char *study = study_of (files->pdata[0]);
  g_autoptr(CuImportReport) first = import (f->store, dir);
  g_autoptr(CuImportReport) again = NULL;
  g_autoptr(GPtrArray) gates = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *sql = NULL;
  g_autofree char *work_text = NULL;
  CuStudyWork work;
  int n_audit_before;

  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
  g_assert_true (cu_store_get_study_work (f->store, study, &work, &error));
  g_assert_null (cu_study_work_describe (&work));

  /* a curator's quality decision on its series */
  sql = g_strdup_printf ("INSERT INTO qc_decision (series_uid, state, reason, user, time)"
                         " SELECT series_uid, 'rejected', 'motion', 'tester', 'now' FROM series");
  g_assert_true (_cu_store_exec (f->store->db, sql, &error));
  g_assert_true (cu_store_get_study_work (f->store, study, &work, &error));
  g_assert_cmpuint (work.n_qc_decisions, ==, 1);
  work_text = cu_study_work_describe (&work);
  g_assert_nonnull (work_text);

  g_assert_false (cu_store_remove_study (f->store, study, "", TRUE, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID);
  g_clear_error (&error);
  n_audit_before = audit_count (f->store, "study-removed", NULL);
  g_assert_false (cu_store_remove_study (f->store, study, "site will not fix it", FALSE, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IN_USE);
  g_assert_nonnull (strstr (error->message, work_text));
  g_clear_error (&error);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
  g_assert_cmpint (audit_count (f->store, "study-removed", NULL), ==, n_audit_before);

  g_assert_true (cu_store_remove_study (f->store, study, "site will not fix it", TRUE, &error));
  g_assert_no_error (error);
  gates = cu_store_list_gates (f->store, &error);
  g_assert_cmpuint (gates->len, ==, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM instance"), ==, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM deid_finding"), ==, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM qc_decision"), ==, 0);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM patient"), ==, 0);
  g_assert_cmpint (audit_count (f->store, "study-removed", study), ==, 1);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM audit_log WHERE action = 'study-removed'"
                                        " AND instr (detail, 'site will not fix it') > 0"
                                        " AND instr (detail, '\"forced\":true') > 0"), ==, 1);
  g_assert_false (cu_store_remove_study (f->store, study, "again", FALSE, &error));
  g_assert_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* the files were not touched: importing them again catalogues them again */
  for (guint i = 0; i < files->len; i++)
    g_assert_true (g_file_test (files->pdata[i], G_FILE_TEST_IS_REGULAR));
  again = import (f->store, dir);
  g_assert_cmpuint (again->n_imported, ==, N_PHI_FILES);
  g_assert_cmpint (gate_state (f->store, study), ==, CU_GATE_QUARANTINED);
}

/* A configuration change makes every gate pending (findings kept) until the recheck decides
 * under the new configuration; an override carries over to the findings it accepted, not to
 * new ones. */
static void
test_config_stale (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (f->tmp, "phi", NULL);
  g_autofree char *demo = g_build_filename (f->tmp, "demo", NULL);
  g_autoptr(GPtrArray) files = curation_test_copy_corpus_files (PHI_SERIES, N_PHI_FILES, dir);
  g_autofree char *phi_uid = study_of (files->pdata[0]);
  g_autofree char *demo_uid = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr(CuImportReport) r1 = import (f->store, dir);
  g_autoptr(CuImportReport) r2 = import (f->store, demo);
  g_autoptr(CuStudyGate) gate = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  CuDeidConfig site_pattern = { CU_DEID_OPTIONS_SITE_DEFAULT, (char *) "^SITE[0-9]+$" };
  CuDeidConfig no_chars = { CU_DEID_OPTIONS_SITE_DEFAULT & ~CU_DEID_RETAIN_PATIENT_CHARS,
                            (char *) "^SITE[0-9]+$" };
  const char *reason = "Phantom; the institution agreed";
  int n_findings;

  g_assert_no_error (error);
  demo_uid = study_of (written[0]);
  g_assert_cmpint (gate_state (f->store, demo_uid), ==, CU_GATE_PASSED);
  g_assert_true (cu_store_override_study (f->store, phi_uid, reason, &error));
  n_findings = query_int (f->store, "SELECT count(*) FROM deid_finding");

  /* a pattern the demo's pseudonym does not match */
  g_assert_false (g_regex_match_simple (site_pattern.pseudonym_pattern, CU_DEMO_PATIENT_ID, 0, 0));
  g_assert_true (cu_store_set_deid_config (f->store, &site_pattern, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gate_state (f->store, demo_uid), ==, CU_GATE_PENDING);
  g_assert_cmpint (gate_state (f->store, phi_uid), ==, CU_GATE_PENDING);
  g_assert_false (cu_store_study_can_annotate (f->store, demo_uid));
  g_assert_false (cu_store_study_can_annotate (f->store, phi_uid));
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM deid_finding"), ==, n_findings);
  g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM audit_log WHERE action = 'deid-config'"
                                        " AND instr (detail, 'gates_reopened=2') > 0"), ==, 1);

  g_assert_true (cu_store_deid_recheck (f->store, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  /* the demo's pseudonym no longer fits: quarantined for its PatientID */
  g_assert_cmpint (gate_state (f->store, demo_uid), ==, CU_GATE_QUARANTINED);
  findings = cu_store_list_findings (f->store, demo_uid, &error);
  g_assert_true (has_error_for (findings, "PatientID"));
  g_clear_pointer (&findings, g_ptr_array_unref);
  /* the PHI study finds what it found before (its PatientID failed the old pattern too):
   * the override still covers it */
  gate = cu_store_get_study_gate (f->store, phi_uid, &error);
  g_assert_cmpint (gate->state, ==, CU_GATE_OVERRIDDEN);
  g_assert_cmpstr (gate->reason, ==, reason);
  g_clear_pointer (&gate, cu_study_gate_free);

  /* the same configuration again changes nothing */
  g_assert_true (cu_store_set_deid_config (f->store, &site_pattern, &error));
  g_assert_cmpint (gate_state (f->store, demo_uid), ==, CU_GATE_QUARANTINED);

  /* without Retain Patient Characteristics, sex, age and weight are new findings the
   * override never saw: quarantined again */
  g_assert_true (cu_store_set_deid_config (f->store, &no_chars, &error));
  g_assert_cmpint (gate_state (f->store, phi_uid), ==, CU_GATE_PENDING);
  /* a cancelled re-check decides nothing: the gates stay pending, the findings stay */
  {
    g_autoptr(GCancellable) cancelled = g_cancellable_new ();
    int n_before = query_int (f->store, "SELECT count(*) FROM deid_finding");

    g_cancellable_cancel (cancelled);
    g_assert_false (cu_store_deid_recheck (f->store, NULL, NULL, cancelled, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_cmpint (gate_state (f->store, phi_uid), ==, CU_GATE_PENDING);
    g_assert_cmpint (gate_state (f->store, demo_uid), ==, CU_GATE_PENDING);
    g_assert_false (cu_store_study_can_annotate (f->store, phi_uid));
    g_assert_cmpint (query_int (f->store, "SELECT count(*) FROM deid_finding"), ==, n_before);
  }
  g_assert_true (cu_store_deid_recheck (f->store, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gate_state (f->store, phi_uid), ==, CU_GATE_QUARANTINED);
  findings = cu_store_list_findings (f->store, phi_uid, &error);
  g_assert_true (has_error_for (findings, "PatientAge"));
  g_assert_true (has_error_for (findings, "PatientWeight"));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  g_test_add_func ("/store/gate/default-pattern", test_default_pattern);
  ADD ("/store/gate/config", test_config);
  ADD ("/store/gate/demo-passes", test_demo_passes);
  ADD ("/store/gate/phi-quarantined", test_phi_quarantined);
  ADD ("/store/gate/fixed-copy-in-place", test_fixed_copy_in_place);
  ADD ("/store/gate/fixed-copy-elsewhere", test_fixed_copy_elsewhere);
  ADD ("/store/gate/override", test_override);
  ADD ("/store/gate/verify-tampered", test_verify_tampered);
  ADD ("/store/gate/migration-from-v1", test_migration_from_v1);
  ADD ("/store/gate/supersede", test_supersede);
  ADD ("/store/gate/remove-study", test_remove_study);
  ADD ("/store/gate/config-stale", test_config_stale);
#undef ADD
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-audit.c — the tamper-evident audit trail through curata-cli, on a real workspace:
 * the demo study and a PHI-bearing Philips fMRI series of ../shared/dicom imported, quality
 * decisions and a gate override made with reasons, clinical data imported, a flag bundle sent
 * and an anonymized export written (both manifests carry the trail's head).
 *
 * Then the trail is attacked with plain SQL, as anyone with the file could: a reason changed,
 * a middle row deleted, rows inserted (without a hash, and with a correctly chained forged
 * one), two rows swapped, and the whole chain recomputed after an edit (only the heads in
 * the manifests written earlier see that). `audit verify` must exit 3 naming the first row
 * that is not as written. Two processes appending at once keep one chain; a workspace at the
 * previous schema version migrates and verifies, and its old rows are protected from then on.
 *
 * Usage: test-cli-audit CURATA-CLI  (meson passes the built executable)
 */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sqlite3.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cu-store-private.h"
#include "cli-test-util.h"

#define PHI_SERIES "mr/philips_fmri_epi"
#define REASON_REJECT "Slices 3-5 motion-corrupted; ask for a repeat"
#define REASON_OVERRIDE "Phantom scan; identifiers are fake and approved for the project"
#define N_CONCURRENT 200

static const char clinical_csv[] =
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type,"
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date,"
  "observation_start_date\n"
  "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,"
  "2024-05-21,2025-09-30,alive,,no,,2024-02-01\n"
  "PX-0099,M,1960,prostate,2020-01-10,5.5,2020-01-02,4,3,7,2,,,,,radiotherapy,2020-03-01,"
  "2021-06-01,alive,,,,\n";

/* The workspace every test starts from (built once), and what it holds. */
static struct
{
  char *tmp;
  char *golden;          /* workspace folder */
  char *bundle_manifest; /* flags export, before the decisions below */
  char *t2_uid, *adc_uid, *demo_study, *phi_study, *phi_series;
  char *self_exe;        /* this program, which is also the concurrent writer */
} g;

typedef struct
{
  char *tmp;
  char *ws;
  char *db;
} Fixture;

/* ---- Helpers ------------------------------------------------------------------------ */

static void
copy_file (const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &contents, &len, &error));
  g_assert_true (g_file_set_contents (to, contents, (gssize) len, &error));
  g_assert_no_error (error);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *golden_db = g_build_filename (g.golden, "workspace.sqlite", NULL);

  f->tmp = g_dir_make_tmp ("cu-test-cli-audit-XXXXXX", &error);
  g_assert_no_error (error);
  f->ws = g_build_filename (f->tmp, "ws", NULL);
  g_assert_cmpint (g_mkdir (f->ws, 0700), ==, 0);
  f->db = g_build_filename (f->ws, "workspace.sqlite", NULL);
  /* Every curata-cli run has ended: the WAL is checkpointed into the main file. */
  copy_file (golden_db, f->db);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->ws);
  g_free (f->db);
}

static sqlite3 *
open_db (const char *path)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 10000);
  return db;
}

static void
exec_sql (const char *path, const char *sql)
{
  sqlite3 *db = open_db (path);
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
  sqlite3_close (db);
}

static gint64
query_int (const char *path, const char *sql)
{
  sqlite3 *db = open_db (path);
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return v;
}

/* Rewrite every hash from the first row on, as an attacker who knows the format would. */
static void
recompute_chain (const char *path)
{
  sqlite3 *db = open_db (path);
  sqlite3_stmt *rows = NULL, *update = NULL;
  g_autofree char *prev = NULL;

  g_assert_cmpint (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, time, user, action, object, detail"
                                           " FROM audit_log ORDER BY id", -1, &rows, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "UPDATE audit_log SET hash = ?1 WHERE id = ?2", -1,
                                       &update, NULL), ==, SQLITE_OK);
  while (sqlite3_step (rows) == SQLITE_ROW)
    {
      char *hash = _cu_audit_row_hash (sqlite3_column_int64 (rows, 0),
                                       (const char *) sqlite3_column_text (rows, 1),
                                       (const char *) sqlite3_column_text (rows, 2),
                                       (const char *) sqlite3_column_text (rows, 3),
                                       (const char *) sqlite3_column_text (rows, 4),
                                       (const char *) sqlite3_column_text (rows, 5), prev);
      sqlite3_bind_text (update, 1, hash, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (update, 2, sqlite3_column_int64 (rows, 0));
      g_assert_cmpint (sqlite3_step (update), ==, SQLITE_DONE);
      sqlite3_reset (update);
      g_free (prev);
      prev = hash;
    }
  sqlite3_finalize (rows);
  sqlite3_finalize (update);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static JsonNode *
verify_json (const char *ws, const char *against, int expected_status)
{
  g_autofree char *out = NULL, *err = NULL;
  int status;

  if (against != NULL)
    status = cli_run (&out, &err, "--workspace", ws, "audit", "verify", "--json", "--against", against, NULL);
  else
    status = cli_run (&out, &err, "--workspace", ws, "audit", "verify", "--json", NULL);
  if (status != expected_status)
    g_error ("audit verify: exit %d (expected %d): %s %s", status, expected_status, out, err);
  return cli_parse_json (out);
}

/* audit verify exits 3, its message names row, and the JSON says state and row. */
static void
assert_altered (const char *ws, const char *against, const char *state, gint64 row)
{
  g_autofree char *out = NULL;
  g_autofree char *needle = g_strdup_printf ("row %lld", (long long) row);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *v;
  int status;

  if (against != NULL)
    status = cli_run (&out, NULL, "--workspace", ws, "audit", "verify", "--against", against, NULL);
  else
    status = cli_run (&out, NULL, "--workspace", ws, "audit", "verify", NULL);
  g_assert_cmpint (status, ==, 3);
  if (strstr (out, needle) == NULL)
    g_error ("“%s” does not name %s", out, needle);

  root = verify_json (ws, against, 3);
  v = json_object_get_object_member (json_node_get_object (root), "verification");
  g_assert_cmpstr (json_object_get_string_member (v, "state"), ==, state);
  g_assert_cmpint (json_object_get_int_member (v, "row"), ==, row);
  g_assert_false (json_object_get_boolean_member (v, "intact"));
  g_assert_nonnull (strstr (json_object_get_string_member (v, "message"), needle));
}

static void
assert_intact (const char *ws, const char *against)
{
  g_autoptr (JsonNode) root = verify_json (ws, against, 0);
  JsonObject *v = json_object_get_object_member (json_node_get_object (root), "verification");

  g_assert_cmpstr (json_object_get_string_member (v, "state"), ==, "intact");
  g_assert_true (json_object_get_boolean_member (v, "intact"));
}

/* Rows of audit list --json with the given options (NULL-terminated). */
static JsonArray *
list_rows (JsonNode **keep, const char *ws, const char *opt1, const char *val1, const char *opt2,
           const char *val2)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = cli_run (&out, &err, "--workspace", ws, "audit", "list", "--json",
                        opt1, val1, opt2, val2, NULL);

  if (status != 0)
    g_error ("audit list: exit %d: %s", status, err);
  *keep = cli_parse_json (out);
  return json_object_get_array_member (json_node_get_object (*keep), "rows");
}

static gint64
row_of (const char *db, const char *where)
{
  g_autofree char *sql = g_strdup_printf ("SELECT min(id) FROM audit_log WHERE %s", where);
  gint64 id = query_int (db, sql);

  g_assert_cmpint (id, >, 0);
  return id;
}

/* ---- The golden workspace ----------------------------------------------------------- */

static void
build_golden (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *demo = NULL, *phi = NULL, *csv = NULL, *bundle = NULL, *err = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) records = NULL;

  g.tmp = g_dir_make_tmp ("cu-test-cli-audit-golden-XXXXXX", &error);
  g_assert_no_error (error);
  g.golden = g_build_filename (g.tmp, "ws", NULL);
  demo = g_build_filename (g.tmp, "demo", NULL);
  phi = g_build_filename (shared, PHI_SERIES, NULL);
  csv = g_build_filename (g.tmp, "ecrf.csv", NULL);
  bundle = g_build_filename (g.tmp, "bundle", NULL);
  g.bundle_manifest = g_build_filename (bundle, "manifest.json", NULL);

  g_assert_cmpint (cli_run (NULL, NULL, "demo", demo, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", g.golden, "import", demo, phi, NULL), ==, 0);

  store = cu_store_open (g.golden, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      CuSeriesRecord *r = records->pdata[i];
      if (g_strcmp0 (r->patient_id, CU_DEMO_PATIENT_ID) == 0)
        {
          g_free (g.demo_study);
          g.demo_study = g_strdup (r->study_uid);
          if (g_strcmp0 (r->modality, "MR") == 0 && r->series_description != NULL
              && strstr (r->series_description, "ADC") != NULL)
            g.adc_uid = g_strdup (r->series_uid);
          else if (g.t2_uid == NULL)
            g.t2_uid = g_strdup (r->series_uid);
        }
      else
        {
          g.phi_study = g_strdup (r->study_uid);
          g.phi_series = g_strdup (r->series_uid);
        }
    }
  g_clear_object (&store);
  g_assert_nonnull (g.t2_uid);
  g_assert_nonnull (g.adc_uid);
  g_assert_nonnull (g.phi_study);

  /* A flag bundle for the site: its manifest records the head as it is now. */
  g_assert_true (g_file_set_contents (csv, clinical_csv, -1, &error));
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", g.golden, "clinical", "import", csv, "--site",
                            "SITE-A", NULL), ==, 0);
  cli_run (NULL, NULL, "--workspace", g.golden, "flags", "check", NULL);   /* 3: flags open */
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", g.golden, "flags", "export", "--site", "SITE-A",
                            "--out", bundle, NULL), ==, 0);

  /* Audited decisions, with reasons. */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", g.golden, "decide", g.t2_uid, "--state", "rejected",
                            "--reason", REASON_REJECT, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", g.golden, "override", g.phi_study, "--reason",
                            REASON_OVERRIDE, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", g.golden, "decide", g.adc_uid, "--state", "ask-site",
                            "--reason", "ADC map looks scaled ×1000", NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", g.golden, "decide", g.t2_uid, "--state", "accepted",
                            "--reason", "Repeat received; fine", NULL), ==, 0);
}

/* ---- Tests -------------------------------------------------------------------------- */

static void
test_intact_and_list (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) all_node = NULL, node = NULL, export_root = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *export_path = g_build_filename (f->tmp, "trail.json", NULL);
  JsonArray *all, *rows;
  gboolean found = FALSE;

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->ws, "audit", "verify", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "intact"));
  assert_intact (f->ws, NULL);
  /* the manifests written earlier still find their heads */
  assert_intact (f->ws, g.bundle_manifest);

  /* every row: who, when, what, and why for the decisions */
  all = list_rows (&all_node, f->ws, NULL, NULL, NULL, NULL);
  g_assert_cmpint (json_array_get_length (all), ==,
                   query_int (f->db, "SELECT count(*) FROM audit_log"));
  for (guint i = 0; i < json_array_get_length (all); i++)
    {
      JsonObject *o = json_array_get_object_element (all, i);
      g_assert_cmpstr (json_object_get_string_member (o, "user"), ==, g_get_user_name ());
      g_assert_true (g_str_has_suffix (json_object_get_string_member (o, "time"), "Z"));
      g_assert_cmpuint (strlen (json_object_get_string_member (o, "hash")), ==, 64);
      if (g_strcmp0 (json_object_get_string_member (o, "action"), "qc-decision") == 0
          && g_strcmp0 (json_object_get_string_member (o, "reason"), REASON_REJECT) == 0)
        {
          g_assert_cmpstr (json_object_get_string_member (o, "object"), ==, g.t2_uid);
          /* the detail stays structured JSON */
          g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "detail"), "state"),
                           ==, "rejected");
          found = TRUE;
        }
    }
  g_assert_true (found);

  /* filters */
  rows = list_rows (&node, f->ws, "--series", g.t2_uid, NULL, NULL);
  g_assert_cmpuint (json_array_get_length (rows), ==, 2);
  g_clear_pointer (&node, json_node_unref);
  rows = list_rows (&node, f->ws, "--action", "qc-decision", NULL, NULL);
  g_assert_cmpuint (json_array_get_length (rows), ==, 3);
  g_clear_pointer (&node, json_node_unref);
  rows = list_rows (&node, f->ws, "--study", g.phi_study, "--action", "deid-override");
  g_assert_cmpuint (json_array_get_length (rows), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (rows, 0), "reason"), ==,
                   REASON_OVERRIDE);
  g_clear_pointer (&node, json_node_unref);
  /* a study's history holds its series' rows too: the three decisions of the demo study */
  rows = list_rows (&node, f->ws, "--study", g.demo_study, "--action", "qc-decision");
  g_assert_cmpuint (json_array_get_length (rows), ==, 3);
  g_clear_pointer (&node, json_node_unref);
  rows = list_rows (&node, f->ws, "--patient", CU_DEMO_PATIENT_ID, "--action", "qc-decision");
  g_assert_cmpuint (json_array_get_length (rows), ==, 3);
  g_clear_pointer (&node, json_node_unref);
  rows = list_rows (&node, f->ws, "--since", "2000-01-01", NULL, NULL);
  g_assert_cmpuint (json_array_get_length (rows), ==, json_array_get_length (all));
  g_clear_pointer (&node, json_node_unref);
  rows = list_rows (&node, f->ws, "--since", "2999-01-01", NULL, NULL);
  g_assert_cmpuint (json_array_get_length (rows), ==, 0);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "audit", "list", "--since", "yesterday", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "yesterday"));

  /* export: the trail with its verification, through json-glib */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->ws, "audit", "export", "--json", export_path,
                            "--series", g.t2_uid, NULL), ==, 0);
  {
    g_autofree char *text = NULL;
    JsonObject *o;

    g_assert_true (g_file_get_contents (export_path, &text, NULL, NULL));
    export_root = cli_parse_json (text);
    o = json_node_get_object (export_root);
    g_assert_cmpstr (json_object_get_string_member (o, "format"), ==, "curata-audit-trail");
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "filter"), "series"),
                     ==, g.t2_uid);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "verification"), "state"),
                     ==, "intact");
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "rows")), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (
                       json_object_get_array_member (o, "rows"), 1), "reason"), ==, "Repeat received; fine");
  }
}

static void
test_changed_reason (Fixture *f, gconstpointer data)
{
  gint64 row = row_of (f->db, "action = 'qc-decision' AND instr (detail, 'motion-corrupted') > 0");
  g_autofree char *sql = g_strdup_printf ("UPDATE audit_log SET detail = replace (detail, 'motion-corrupted',"
                                          " 'fine') WHERE id = %lld", (long long) row);

  assert_intact (f->ws, NULL);
  exec_sql (f->db, sql);
  assert_altered (f->ws, NULL, "changed", row);
}

static void
test_removed_row (Fixture *f, gconstpointer data)
{
  gint64 row = row_of (f->db, "action = 'deid-override'");
  g_autofree char *sql = g_strdup_printf ("DELETE FROM audit_log WHERE id = %lld", (long long) row);

  g_assert_cmpint (query_int (f->db, "SELECT max(id) FROM audit_log"), >, row);   /* a middle row */
  exec_sql (f->db, sql);
  assert_altered (f->ws, NULL, "removed", row);
}

static void
test_inserted_row (Fixture *f, gconstpointer data)
{
  gint64 last = query_int (f->db, "SELECT max(id) FROM audit_log");

  /* as the code before the chain wrote rows: no hash */
  exec_sql (f->db, "INSERT INTO audit_log (time, user, action, object, detail)"
                   " VALUES ('2026-01-01T00:00:00.000Z', 'mallory', 'qc-decision', 'x',"
                   " '{\"state\":\"accepted\",\"reason\":\"looks fine\"}')");
  assert_altered (f->ws, NULL, "inserted", last + 1);
}

/* A forged row slipped into the middle with a hash chained correctly to its predecessor, the
 * later rows renumbered to make room: the row after it no longer follows, and the diagnosis
 * names the forged row. */
static void
test_inserted_forged_row (Fixture *f, gconstpointer data)
{
  gint64 at = row_of (f->db, "action = 'deid-override'");
  g_autofree char *prev = NULL, *hash = NULL, *sql = NULL;
  sqlite3 *db = open_db (f->db);
  sqlite3_stmt *stmt = NULL;
  const char *detail = "{\"state\":\"accepted\",\"reason\":\"back-dated approval\"}";

  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT hash FROM audit_log WHERE id = ?1", -1, &stmt, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_int64 (stmt, 1, at - 1);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  prev = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  hash = _cu_audit_row_hash (at, "2026-01-01T00:00:00.000Z", "mallory", "qc-decision", g.t2_uid, detail,
                             prev);
  sql = g_strdup_printf ("UPDATE audit_log SET id = id + 100000 WHERE id >= %1$lld;"
                         "UPDATE audit_log SET id = id - 100000 + 1 WHERE id >= 100000;"
                         "INSERT INTO audit_log (id, time, user, action, object, detail, hash)"
                         " VALUES (%1$lld, '2026-01-01T00:00:00.000Z', 'mallory', 'qc-decision', '%2$s',"
                         " '%3$s', '%4$s');", (long long) at, g.t2_uid, detail, hash);
  exec_sql (f->db, sql);
  assert_altered (f->ws, NULL, "inserted", at);
}

static void
test_swapped_rows (Fixture *f, gconstpointer data)
{
  gint64 a = row_of (f->db, "action = 'deid-override'");
  g_autofree char *sql = g_strdup_printf (
    "CREATE TEMP TABLE t AS SELECT * FROM audit_log WHERE id IN (%1$lld, %2$lld);"
    "UPDATE audit_log SET (time, user, action, object, detail, hash) ="
    " (SELECT time, user, action, object, detail, hash FROM t WHERE t.id = %2$lld) WHERE id = %1$lld;"
    "UPDATE audit_log SET (time, user, action, object, detail, hash) ="
    " (SELECT time, user, action, object, detail, hash FROM t WHERE t.id = %1$lld) WHERE id = %2$lld;",
    (long long) a, (long long) (a + 1));

  exec_sql (f->db, sql);
  g_assert_cmpint (query_int (f->db, "SELECT min(id) FROM audit_log WHERE action = 'deid-override'"), ==, a + 1);
  assert_altered (f->ws, NULL, "changed", a);
}

/* The chain recomputed after an edit verifies by itself; the heads recorded in the bundle and
 * export manifests written before the edit do not match any more. */
static void
test_rewritten_history (Fixture *f, gconstpointer data)
{
  g_autofree char *out_dir = g_build_filename (f->tmp, "export", NULL);
  g_autofree char *manifest = g_build_filename (out_dir, CU_ANONYMIZER_MANIFEST, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *head_hash = NULL;
  g_autofree char *sql = NULL;
  gint64 head = 0, bundle_head = 0, edited;

  /* Exit 3: the export obeys the release gate, and the ADC series the site was asked about
   * stays; the rest is exported with its manifest. */
  /* The export obeys the release gate: the patients' open error flags would hold everything
   * back, so they are accepted first (audited rows too, before the export's); the ADC series
   * the site was asked about still stays, hence exit 3. */
  {
    g_autofree char *flags_json = NULL;
    g_autoptr (JsonNode) flags_root = NULL;
    JsonArray *flags;

    g_assert_cmpint (cli_run (&flags_json, NULL, "--workspace", f->ws, "flags", "list", "--state",
                              "active", "--severity", "error", "--json", NULL), ==, 0);
    flags_root = cli_parse_json (flags_json);
    flags = json_object_get_array_member (json_node_get_object (flags_root), "flags");
    g_assert_cmpuint (json_array_get_length (flags), >, 0);
    for (guint i = 0; i < json_array_get_length (flags); i++)
      {
        g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (
          json_array_get_object_element (flags, i), "id"));
        g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "set", "accepted", id,
                                  "--comment", "known for this test", NULL), ==, 0);
      }
  }
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "anonymize", "--out", out_dir, NULL), ==, 3);
  g_assert_true (cu_audit_head_from_manifest (manifest, &head, &head_hash, &error));
  g_assert_no_error (error);
  /* the export's own row is covered */
  g_assert_cmpint (head, ==, row_of (f->db, "action = 'anonymize-export'"));
  g_assert_cmpuint (strlen (head_hash), ==, 64);
  {
    g_autofree char *h = NULL;
    g_assert_true (cu_audit_head_from_manifest (g.bundle_manifest, &bundle_head, &h, &error));
    g_assert_cmpint (bundle_head, >, 0);
    g_assert_cmpint (bundle_head, <, head);
  }
  /* later actions do not disturb a recorded head */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "decide", g.adc_uid, "--state", "accepted",
                            NULL), ==, 0);
  assert_intact (f->ws, manifest);

  /* rewrite a row written before both hand-offs, then the whole chain */
  edited = row_of (f->db, "action = 'deid-gate'");
  g_assert_cmpint (edited, <, bundle_head);
  sql = g_strdup_printf ("UPDATE audit_log SET user = 'someone-else' WHERE id = %lld", (long long) edited);
  exec_sql (f->db, sql);
  assert_altered (f->ws, NULL, "changed", edited);
  recompute_chain (f->db);
  assert_intact (f->ws, NULL);
  assert_altered (f->ws, manifest, "head-differs", head);
  assert_altered (f->ws, g.bundle_manifest, "head-differs", bundle_head);

  /* cutting the trail back before the head (and re-chaining) is seen too */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("DELETE FROM audit_log WHERE id >= %lld", (long long) head);
  exec_sql (f->db, sql);
  recompute_chain (f->db);
  assert_intact (f->ws, NULL);
  assert_altered (f->ws, manifest, "head-missing", head);

  /* a file that is no manifest is an error, not a verdict */
  {
    g_autofree char *err = NULL;
    g_autofree char *csv = g_build_filename (f->tmp, "not-a-manifest.json", NULL);
    g_assert_true (g_file_set_contents (csv, "{\"format\": \"something\"}", -1, NULL));
    g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "audit", "verify", "--against", csv, NULL), ==, 2);
    g_assert_nonnull (strstr (err, "not-a-manifest.json"));
  }
  /* nor is a hostile one nested 100 000 levels deep (it used to overflow the parser's stack) */
  {
    g_autofree char *err = NULL;
    g_autofree char *deep = g_build_filename (f->tmp, "deep-manifest.json", NULL);
    GString *text = g_string_new ("{\"audit_head\": ");

    for (guint i = 0; i < 100000; i++)
      g_string_append_c (text, '[');
    for (guint i = 0; i < 100000; i++)
      g_string_append_c (text, ']');
    g_string_append_c (text, '}');
    g_assert_true (g_file_set_contents (deep, text->str, (gssize) text->len, NULL));
    g_string_free (text, TRUE);
    g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "audit", "verify", "--against", deep, NULL), ==, 2);
    g_assert_nonnull (strstr (err, "deep-manifest.json"));
  }
}

/* Two processes append at once, each in its own transactions: one linear chain. They start
 * together (each opens the workspace, says it is ready, and waits for "go"), so that their
 * appends really interleave. */
static void
test_concurrent_appends (Fixture *f, gconstpointer data)
{
  gint64 before = query_int (f->db, "SELECT count(*) FROM audit_log");
  g_autofree char *go = g_build_filename (f->tmp, "go", NULL);
  GPid pids[2];

  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GError) error = NULL;
      const char *argv[] = { g.self_exe, "--append", f->ws, f->tmp, NULL };
      g_assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                    &pids[i], &error));
      g_assert_no_error (error);
    }
  for (int waited = 0;; waited++)
    {
      g_autoptr (GDir) d = g_dir_open (f->tmp, 0, NULL);
      const char *name;
      guint ready = 0;

      while ((name = g_dir_read_name (d)) != NULL)
        ready += g_str_has_prefix (name, "ready-");
      if (ready == 2)
        break;
      g_assert_cmpint (waited, <, 3000);   /* 30 s */
      g_usleep (10000);
    }
  g_assert_true (g_file_set_contents (go, "", 0, NULL));
  for (guint i = 0; i < 2; i++)
    {
      int status = 0;
      g_assert_cmpint (waitpid (pids[i], &status, 0), ==, pids[i]);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
      g_spawn_close_pid (pids[i]);
    }
  g_assert_cmpint (query_int (f->db, "SELECT count(*) FROM audit_log"), ==, before + 2 * N_CONCURRENT);
  /* both really ran at the same time: their rows interleave */
  g_assert_cmpint (query_int (f->db, "SELECT count(*) FROM audit_log a JOIN audit_log b ON b.id = a.id + 1"
                                     " WHERE a.action = 'test-append' AND b.action = 'test-append'"
                                     " AND a.object <> b.object"), >, 0);
  assert_intact (f->ws, NULL);
}

static int
append_main (const char *ws, const char *sync_dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = cu_store_open (ws, &error);
  g_autofree char *me = g_strdup_printf ("writer-%d", (int) getpid ());
  g_autofree char *ready = g_strdup_printf ("%s/ready-%d", sync_dir, (int) getpid ());
  g_autofree char *go = g_build_filename (sync_dir, "go", NULL);

  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_file_set_contents (ready, "", 0, NULL);
  for (int waited = 0; !g_file_test (go, G_FILE_TEST_EXISTS); waited++)
    {
      if (waited > 6000)
        return 1;
      g_usleep (5000);
    }
  for (guint i = 0; i < N_CONCURRENT; i++)
    {
      g_autofree char *detail = g_strdup_printf ("{\"n\": %u}", i);
      if (!cu_store_audit (store, "test-append", me, detail, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  return 0;
}

/* A workspace as the previous schema version left it (the same rows, no hash column, the
 * version before) migrates: every row is sealed as found, the trail verifies, and from then
 * on an edit of an old row is caught like any other. */
static void
test_migration (Fixture *f, gconstpointer data)
{
  /* The last version without the chain (migration 9 brought it). */
  int previous = 8;
  g_autofree char *fresh = g_build_filename (f->tmp, "fresh.sqlite", NULL);
  g_autofree char *set_version = g_strdup_printf ("PRAGMA user_version = %d", previous);
  g_autofree char *old_schema = NULL, *fresh_schema = NULL;
  g_autoptr (JsonNode) before_node = NULL, after_node = NULL, start_node = NULL;
  g_autoptr (GError) error = NULL;
  JsonArray *before, *after, *start;
  gint64 n_old;

  /* the previous version, built by the migrations themselves, for comparison */
  {
    sqlite3 *db = NULL;
    g_assert_cmpint (sqlite3_open (fresh, &db), ==, SQLITE_OK);
    g_assert_cmpint (_cu_store_migrate_to (db, previous, &error), ==, previous);
    g_assert_no_error (error);
    sqlite3_close (db);
  }
  /* the golden workspace as a build of the previous version would have it */
  exec_sql (f->db, "DELETE FROM audit_log WHERE action = 'audit-chain-start';"
                   "ALTER TABLE audit_log DROP COLUMN hash;"
                   /* what the versions after 9 added (segmentation sessions: 10, releases: 11) */
                   "DROP TABLE seg_stroke;"
                   "ALTER TABLE segmentation DROP COLUMN based_on;"
                   "ALTER TABLE segmentation DROP COLUMN undo;"
                   "ALTER TABLE segmentation DROP COLUMN redo;"
                   /* DICOMweb servers and pushes (12) */
                   "DROP TABLE dicomweb_push; DROP TABLE dicomweb_server;"
                   /* releases (11) */
                   "DROP TABLE release_item; DROP TABLE release_ledger;"
                   "DROP TABLE release_withdrawal; DROP TABLE release_patient_offset;"
                   "DROP TABLE instance_pixel_digest; DROP TABLE release;"
                   /* every question to the site a flag (13) */
                   "DROP INDEX flag_kind; DROP INDEX flag_series;"
                   "ALTER TABLE flag DROP COLUMN kind; ALTER TABLE flag DROP COLUMN urgent;"
                   "ALTER TABLE flag DROP COLUMN position;"
                   /* layered segmentations (14) */
                   "ALTER TABLE segmentation DROP COLUMN n_layers;"
                   /* project packs (15) */
                   "DROP TABLE workspace_pack;"
                   /* measurements (16) */
                   "DROP INDEX measurement_series; DROP TABLE measurement;");
  exec_sql (f->db, set_version);
  {
    sqlite3 *a = open_db (f->db), *b = open_db (fresh);
    sqlite3_stmt *s = NULL;
    const char *q = "SELECT group_concat (sql, ';') FROM (SELECT sql FROM sqlite_master"
                    " WHERE tbl_name = 'audit_log' ORDER BY name)";

    g_assert_cmpint (sqlite3_prepare_v2 (a, q, -1, &s, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
    old_schema = g_strdup ((const char *) sqlite3_column_text (s, 0));
    sqlite3_finalize (s);
    g_assert_cmpint (sqlite3_prepare_v2 (b, q, -1, &s, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_step (s), ==, SQLITE_ROW);
    fresh_schema = g_strdup ((const char *) sqlite3_column_text (s, 0));
    sqlite3_finalize (s);
    sqlite3_close (a);
    sqlite3_close (b);
  }
  g_assert_cmpstr (old_schema, ==, fresh_schema);
  n_old = query_int (f->db, "SELECT count(*) FROM audit_log");
  g_assert_cmpint (n_old, >=, 8);
  {
    /* what the rows said before, read without Curata */
    sqlite3 *db = open_db (f->db);
    sqlite3_stmt *s = NULL;
    g_autoptr (JsonBuilder) b = json_builder_new ();

    g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, time, user, action, object, detail FROM audit_log"
                                             " ORDER BY id", -1, &s, NULL), ==, SQLITE_OK);
    json_builder_begin_array (b);
    while (sqlite3_step (s) == SQLITE_ROW)
      {
        json_builder_begin_array (b);
        json_builder_add_int_value (b, sqlite3_column_int64 (s, 0));
        for (int c = 1; c < 6; c++)
          if (sqlite3_column_type (s, c) == SQLITE_NULL)
            json_builder_add_null_value (b);
          else
            json_builder_add_string_value (b, (const char *) sqlite3_column_text (s, c));
        json_builder_end_array (b);
      }
    json_builder_end_array (b);
    sqlite3_finalize (s);
    sqlite3_close (db);
    before_node = json_builder_get_root (b);
    before = json_node_get_array (before_node);
  }

  /* curata-cli migrates on open */
  assert_intact (f->ws, NULL);
  g_assert_cmpint (query_int (f->db, "PRAGMA user_version"), ==, _cu_store_latest_version ());
  after = list_rows (&after_node, f->ws, NULL, NULL, NULL, NULL);
  g_assert_cmpuint (json_array_get_length (after), ==, n_old + 1);
  for (guint i = 0; i < json_array_get_length (before); i++)
    {
      JsonArray *was = json_array_get_array_element (before, i);
      JsonObject *now = json_array_get_object_element (after, i);
      g_assert_cmpint (json_object_get_int_member (now, "id"), ==, json_array_get_int_element (was, 0));
      g_assert_cmpstr (json_object_get_string_member (now, "time"), ==, json_array_get_string_element (was, 1));
      g_assert_cmpstr (json_object_get_string_member (now, "action"), ==, json_array_get_string_element (was, 3));
    }
  /* the last row says the chain starts there, and how many rows it sealed */
  start = list_rows (&start_node, f->ws, "--action", "audit-chain-start", NULL, NULL);
  g_assert_cmpuint (json_array_get_length (start), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (json_array_get_object_element (start, 0),
                                                                              "detail"), "sealed_rows"), ==, n_old);

  /* the chain goes on, and old rows are protected from now on */
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "decide", g.adc_uid, "--state", "accepted",
                            NULL), ==, 0);
  assert_intact (f->ws, NULL);
  {
    gint64 row = row_of (f->db, "action = 'deid-override'");
    g_autofree char *sql = g_strdup_printf ("UPDATE audit_log SET user = 'someone-else' WHERE id = %lld",
                                            (long long) row);
    exec_sql (f->db, sql);
    assert_altered (f->ws, NULL, "changed", row);
  }
}

int
main (int argc, char **argv)
{
  int status;

  if (argc == 4 && strcmp (argv[1], "--append") == 0)
    return append_main (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);
  cli_test_program = argc > 1 ? argv[1] : NULL;
  g.self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_assert_nonnull (g.self_exe);
  build_golden ();

#define ADD(path, func) g_test_add ("/cli/audit/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("intact-and-list", test_intact_and_list);
  ADD ("tamper/changed-reason", test_changed_reason);
  ADD ("tamper/removed-row", test_removed_row);
  ADD ("tamper/inserted-row", test_inserted_row);
  ADD ("tamper/inserted-forged-row", test_inserted_forged_row);
  ADD ("tamper/swapped-rows", test_swapped_rows);
  ADD ("tamper/rewritten-history", test_rewritten_history);
  ADD ("concurrent-appends", test_concurrent_appends);
  ADD ("migration", test_migration);
#undef ADD

  status = g_test_run ();
  cli_remove_tree (g.tmp);
  return status;
}

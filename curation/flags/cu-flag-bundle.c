/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-bundle.c — exporting flags to a site as a bundle and applying its answers.
 *
 * The manifest's checksum is a SHA-256 over the bundle's identity (bundle id, workspace id,
 * site, flag ids) and the exported files' digests; the workspace keeps it. A returned bundle
 * is applied only when its manifest names this workspace, matches the checksum recorded at
 * export, and has not been applied before: a bundle cannot be applied to the wrong workspace
 * or twice. answers.csv is expected to change (the collectors fill it in), so its digest in
 * the manifest describes what was sent, and the digest of what came back is recorded when
 * it is applied.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-csv.h"
#include "cu-flag-bundle.h"
#include "cu-flags-private.h"
#include "cu-store-private.h"

#define BUNDLE_FORMAT "curata-flag-bundle"
#define BUNDLE_VERSION 1

static const char *const answer_columns[] = {
  "bundle_id", "flag_id", "person_id", "study_date", "rule", "severity", "variable",
  "current_value", "question", "answer", "corrected_value", "comment", NULL
};

void
cu_flag_bundle_free (CuFlagBundle *bundle)
{
  if (bundle == NULL)
    return;
  g_free (bundle->bundle_id);
  g_free (bundle->site);
  g_free (bundle->dir);
  g_free (bundle);
}

void
cu_flag_import_report_free (CuFlagImportReport *report)
{
  if (report == NULL)
    return;
  g_free (report->bundle_id);
  g_clear_pointer (&report->issues, g_ptr_array_unref);
  g_clear_pointer (&report->check, cu_flag_check_report_free);
  g_free (report);
}

static char *
manifest_checksum (const char *bundle_id, const char *workspace_id, const char *site,
                   JsonArray *flag_ids, const char *report_sha, const char *answers_sha)
{
  g_autoptr(GString) s = g_string_new (NULL);

  g_string_append_printf (s, "%s\n%s\n%s\n%s\n", BUNDLE_FORMAT, bundle_id, workspace_id, site);
  for (guint i = 0; i < json_array_get_length (flag_ids); i++)
    g_string_append_printf (s, "%lld,", (long long) json_array_get_int_element (flag_ids, i));
  g_string_append_printf (s, "\n%s\n%s\n", report_sha, answers_sha);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, s->str, s->len);
}

static char *
study_date_of (CuStore *store, const char *study_uid)
{
  sqlite3_stmt *stmt;
  char *date = NULL;

  if (study_uid == NULL)
    return NULL;
  stmt = _cu_store_prepare (store->db, "SELECT study_date FROM study WHERE study_uid = ?1", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    {
      const char *d = (const char *) sqlite3_column_text (stmt, 0);
      date = strlen (d) >= 8 ? g_strdup_printf ("%.4s-%.2s-%.2s", d, d + 4, d + 6) : g_strdup (d);
    }
  sqlite3_finalize (stmt);
  return date;
}

static void
html_cell (GString *s, const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text != NULL ? text : "", -1);
  g_string_append_printf (s, "<td>%s</td>", escaped);
}

static const char *
severity_label (const char *severity)
{
  if (g_strcmp0 (severity, "error") == 0)
    return _("must be fixed");
  if (g_strcmp0 (severity, "warning") == 0)
    return _("please check");
  return _("for information");
}

static char *
build_report (CuStore *store, GPtrArray *flags, const char *site, const char *bundle_id,
              const char *workspace_id, const char *now, guint *n_persons)
{
  GString *s = g_string_new (NULL);
  g_autofree char *title = g_strdup_printf (_("Questions about the clinical data of site %s"), site);
  g_autofree char *title_html = g_markup_escape_text (title, -1);
  const char *person = NULL;

  *n_persons = 0;
  g_string_append_printf (s,
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n"
    "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;width:100%%}td,th{border:1px solid #ccc;padding:.3em .5em;"
    "text-align:left;vertical-align:top}th{background:#f0f0f0}"
    ".must-be-fixed{color:#a00;font-weight:bold}.meta{color:#555;font-size:.9em}</style>\n"
    "</head><body>\n<h1>%s</h1>\n", title_html, title_html);
  g_string_append_printf (s, "<p>%s</p>\n<p>%s</p>\n",
    _("Each question below concerns one patient, named by the pseudonym only. Please look the "
      "patient up with your pseudonym key and the source records, then answer in the file "
      "answers.csv of this bundle: one row per question, identified by its flag number."),
    _("Write your answer in the column “answer”. If a value in the clinical data is wrong, put "
      "the right value in “corrected_value”, in the same format as the current value (dates as "
      "YYYY-MM-DD). Use “comment” for anything else. Do not change the other columns, and send "
      "the whole folder back."));

  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      g_autofree char *current = f->variable != NULL
                                   ? cu_clinical_get_value (store, f->person_id, f->variable) : NULL;
      g_autofree char *date = study_date_of (store, f->study_uid);
      g_autofree char *flag_no = g_strdup_printf ("%lld", (long long) f->id);

      if (person == NULL || strcmp (person, f->person_id) != 0)
        {
          g_autofree char *p = g_markup_escape_text (f->person_id, -1);

          if (person != NULL)
            g_string_append (s, "</table>\n");
          person = f->person_id;
          (*n_persons)++;
          g_string_append_printf (s, "<h2>%s %s</h2>\n<table><tr><th>%s</th><th>%s</th><th>%s</th>"
                                  "<th>%s</th><th>%s</th><th>%s</th></tr>\n",
                                  _("Patient"), p, _("Flag"), _("Question"), _("Importance"),
                                  _("Variable"), _("Current value"), _("Imaging study"));
        }
      g_string_append (s, "<tr>");
      html_cell (s, flag_no);
      {
        g_autofree char *q = g_markup_escape_text (f->message, -1);
        g_autofree char *t = g_markup_escape_text (f->title != NULL ? f->title : f->rule_id, -1);
        g_string_append_printf (s, "<td><b>%s</b> (%s)<br>%s</td>", t, f->rule_id, q);
      }
      g_string_append_printf (s, "<td class=\"%s\">%s</td>",
                              g_strcmp0 (f->severity, "error") == 0 ? "must-be-fixed" : "",
                              severity_label (f->severity));
      html_cell (s, f->variable != NULL ? f->variable : "—");
      html_cell (s, current != NULL ? current : (f->variable != NULL ? _("(missing)") : "—"));
      html_cell (s, date != NULL ? date : "—");
      g_string_append (s, "</tr>\n");
    }
  if (person != NULL)
    g_string_append (s, "</table>\n");
  g_string_append_printf (s, "<p class=\"meta\">%s %s · %s %s · %s %s</p>\n</body></html>\n",
                          _("Bundle"), bundle_id, _("workspace"), workspace_id, _("written"), now);
  return g_string_free (s, FALSE);
}

static char *
build_answers_csv (CuStore *store, GPtrArray *flags, const char *bundle_id)
{
  GString *s = g_string_new (NULL);

  g_string_append (s, "\xEF\xBB\xBF");   /* spreadsheets then open it as UTF-8 */
  for (guint c = 0; answer_columns[c] != NULL; c++)
    g_string_append_printf (s, "%s%s", c ? "," : "", answer_columns[c]);
  g_string_append (s, "\r\n");
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      g_autofree char *current = f->variable != NULL
                                   ? cu_clinical_get_value (store, f->person_id, f->variable) : NULL;
      g_autofree char *date = study_date_of (store, f->study_uid);
      g_autofree char *id = g_strdup_printf ("%lld", (long long) f->id);
      const char *fields[] = { bundle_id, id, f->person_id, date, f->rule_id, f->severity,
                               f->variable, current, f->message, "", "", "" };

      for (guint c = 0; c < G_N_ELEMENTS (fields); c++)
        {
          g_autofree char *q = cu_csv_quote (fields[c] != NULL ? fields[c] : "", ',');
          g_string_append_printf (s, "%s%s", c ? "," : "", q);
        }
      g_string_append (s, "\r\n");
    }
  return g_string_free (s, FALSE);
}

CuFlagBundle *
cu_flag_bundle_export (CuStore *store, const char *site, const char *out_dir, GError **error)
{
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(CuFlagBundle) bundle = g_new0 (CuFlagBundle, 1);
  g_autofree char *workspace_id = NULL;
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *report = NULL, *answers = NULL, *report_sha = NULL, *answers_sha = NULL;
  g_autofree char *checksum = NULL, *manifest_text = NULL, *detail = NULL;
  g_autofree char *report_path = NULL, *answers_path = NULL, *manifest_path = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonArray) ids = json_array_new ();
  CuFlagFilter filter = { .site = site, .state = "active" };
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  g_return_val_if_fail (site != NULL && out_dir != NULL, NULL);

  candidates = cu_flags_list (store, &filter, error);
  if (candidates == NULL)
    return NULL;
  /* Answered flags wait for the curator, not for the site. */
  flags = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_free);
  for (guint i = 0; i < candidates->len; i++)
    if (((CuFlag *) candidates->pdata[i])->state != CU_FLAG_ANSWERED)
      g_ptr_array_add (flags, g_steal_pointer (&candidates->pdata[i]));
  if (flags->len == 0)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                   _("Site “%s” has no open flag to send"), site);
      return NULL;
    }
  workspace_id = cu_flags_workspace_id (store, error);
  if (workspace_id == NULL)
    return NULL;

  bundle->bundle_id = g_uuid_string_random ();
  bundle->site = g_strdup (site);
  bundle->dir = g_strdup (out_dir);
  bundle->n_flags = flags->len;
  for (guint i = 0; i < flags->len; i++)
    json_array_add_int_element (ids, ((CuFlag *) flags->pdata[i])->id);

  report = build_report (store, flags, site, bundle->bundle_id, workspace_id, now, &bundle->n_persons);
  answers = build_answers_csv (store, flags, bundle->bundle_id);
  report_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, report, -1);
  answers_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, answers, -1);
  checksum = manifest_checksum (bundle->bundle_id, workspace_id, site, ids, report_sha, answers_sha);

  json_builder_begin_object (b);
#define STR(name, v) json_builder_set_member_name (b, name); json_builder_add_string_value (b, v)
  STR ("format", BUNDLE_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, BUNDLE_VERSION);
  STR ("bundle_id", bundle->bundle_id);
  STR ("workspace_id", workspace_id);
  STR ("site", site);
  STR ("created_at", now);
  STR ("created_by", g_get_user_name ());
  json_builder_set_member_name (b, "flags");
  json_builder_add_value (b, json_node_init_array (json_node_alloc (), ids));
  json_builder_set_member_name (b, "files");
  json_builder_begin_object (b);
  STR (CU_FLAG_BUNDLE_REPORT, report_sha);
  STR (CU_FLAG_BUNDLE_ANSWERS, answers_sha);
  json_builder_end_object (b);
  STR ("checksum", checksum);
#undef STR
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  {
    g_autoptr(JsonGenerator) gen = json_generator_new ();
    json_generator_set_pretty (gen, TRUE);
    json_generator_set_root (gen, root);
    manifest_text = json_generator_to_data (gen, NULL);
  }

  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create the folder %s: %s"), out_dir, g_strerror (saved));
      return NULL;
    }
  report_path = g_build_filename (out_dir, CU_FLAG_BUNDLE_REPORT, NULL);
  answers_path = g_build_filename (out_dir, CU_FLAG_BUNDLE_ANSWERS, NULL);
  manifest_path = g_build_filename (out_dir, CU_FLAG_BUNDLE_MANIFEST, NULL);

  /* Record first, in a transaction; files are written before the commit so that a failed
   * write leaves no "sent" flags behind. */
  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return NULL;
  stmt = _cu_store_prepare (store->db,
    "INSERT INTO flag_bundle (bundle_id, site, checksum, created_at, created_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, bundle->bundle_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, site, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, checksum, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, g_get_user_name (), -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Recording the bundle failed"));
      sqlite3_finalize (stmt);
      goto fail;
    }
  sqlite3_finalize (stmt);
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];

      stmt = _cu_store_prepare (store->db, "INSERT INTO flag_bundle_item (bundle_id, flag_ref)"
                                           " VALUES (?1, ?2)", error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, bundle->bundle_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (stmt, 2, f->id);
      sqlite3_step (stmt);
      sqlite3_finalize (stmt);
      if (!_cu_flags_transition (store, f->id, CU_FLAG_SENT, _("sent to the site in a bundle"),
                                 NULL, NULL, bundle->bundle_id, TRUE, error))
        goto fail;
    }
  detail = g_strdup_printf ("{\"bundle\":\"%s\",\"site\":\"%s\",\"flags\":%u}", bundle->bundle_id,
                            site, flags->len);
  if (!cu_store_audit (store, "flags-export", out_dir, detail, error))
    goto fail;
  if (!g_file_set_contents (report_path, report, -1, error)
      || !g_file_set_contents (answers_path, answers, -1, error)
      || !g_file_set_contents (manifest_path, manifest_text, -1, error))
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return g_steal_pointer (&bundle);

fail:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return NULL;
}

/* ---- Import ------------------------------------------------------------------------- */

static gboolean
refuse (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
refuse (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_BUNDLE, message);
  return FALSE;
}

/* Check the manifest against this workspace; sets bundle_id. */
static gboolean
check_manifest (CuStore *store, const char *manifest_path, char **bundle_id, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *workspace_id = NULL;
  g_autofree char *recomputed = NULL;
  g_autofree char *recorded = NULL;
  JsonObject *m, *files;
  JsonArray *ids;
  const char *format, *bid, *wid, *site, *checksum;
  sqlite3_stmt *stmt;

  if (!json_parser_load_from_file (parser, manifest_path, error))
    return FALSE;
  m = JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
        ? json_node_get_object (json_parser_get_root (parser)) : NULL;
  format = m != NULL ? json_object_get_string_member_with_default (m, "format", NULL) : NULL;
  if (g_strcmp0 (format, BUNDLE_FORMAT) != 0)
    return refuse (error, _("%s is not the manifest of a flag bundle"), manifest_path);
  bid = json_object_get_string_member_with_default (m, "bundle_id", "");
  wid = json_object_get_string_member_with_default (m, "workspace_id", "");
  site = json_object_get_string_member_with_default (m, "site", "");
  checksum = json_object_get_string_member_with_default (m, "checksum", "");
  ids = json_object_has_member (m, "flags") ? json_object_get_array_member (m, "flags") : NULL;
  files = json_object_has_member (m, "files") ? json_object_get_object_member (m, "files") : NULL;
  if (ids == NULL || files == NULL)
    return refuse (error, _("%s is incomplete"), manifest_path);

  workspace_id = cu_flags_workspace_id (store, error);
  if (workspace_id == NULL)
    return FALSE;
  if (strcmp (wid, workspace_id) != 0)
    return refuse (error, _("This bundle was made by another workspace (%s), not by this one (%s): "
                            "it is not applied"), wid, workspace_id);
  recomputed = manifest_checksum (bid, wid, site, ids,
                                  json_object_get_string_member_with_default (files, CU_FLAG_BUNDLE_REPORT, ""),
                                  json_object_get_string_member_with_default (files, CU_FLAG_BUNDLE_ANSWERS, ""));
  if (strcmp (recomputed, checksum) != 0)
    return refuse (error, _("The manifest of bundle %s has been altered (its checksum does not "
                            "match): it is not applied"), bid);
  stmt = _cu_store_prepare (store->db, "SELECT checksum FROM flag_bundle WHERE bundle_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, bid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    recorded = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  if (recorded == NULL)
    return refuse (error, _("Bundle %s was not exported from this workspace"), bid);
  if (strcmp (recorded, checksum) != 0)
    return refuse (error, _("The manifest of bundle %s differs from the one exported: it is not "
                            "applied"), bid);
  *bundle_id = g_strdup (bid);
  return TRUE;
}

static void
add_row_issue (GPtrArray *issues, const char *file, guint line, const char *column,
               const char *value, const char *reason)
{
  CuClinicalIssue *is = g_new0 (CuClinicalIssue, 1);

  is->file = g_strdup (file);
  is->line = line;
  is->column = g_strdup (column);
  is->value = g_strdup (value);
  is->reason = g_strdup (reason);
  g_ptr_array_add (issues, is);
}

static int
find_column (const CuCsvRow *header, const char *name)
{
  for (guint i = 0; i < header->n_fields; i++)
    if (strcmp (g_strstrip (header->fields[i]), name) == 0)
      return (int) i;
  return -1;
}

typedef struct
{
  gint64 flag_id;
  char *answer, *corrected, *comment;
} Answer;

static void
answer_free (Answer *a)
{
  g_free (a->answer);
  g_free (a->corrected);
  g_free (a->comment);
  g_free (a);
}

CuFlagImportReport *
cu_flag_bundle_import (CuStore *store, const char *path, GError **error)
{
  g_autoptr(CuFlagImportReport) report = g_new0 (CuFlagImportReport, 1);
  g_autofree char *dir = NULL, *answers_path = NULL, *manifest_path = NULL;
  g_autofree char *text = NULL, *answers_sha = NULL, *bundle_id = NULL;
  g_autofree char *applied_at = NULL, *applied_by = NULL, *detail = NULL, *source = NULL;
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autoptr(CuCsvTable) table = NULL;
  g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func ((GDestroyNotify) answer_free);
  g_autoptr(GHashTable) in_bundle = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) item_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  const CuCsvRow *header;
  int c_bundle, c_flag, c_answer, c_corrected, c_comment;
  gsize len = 0;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);

  report->issues = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_clinical_issue_free);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      dir = g_strdup (path);
      answers_path = g_build_filename (path, CU_FLAG_BUNDLE_ANSWERS, NULL);
    }
  else
    {
      dir = g_path_get_dirname (path);
      answers_path = g_strdup (path);
    }
  manifest_path = g_build_filename (dir, CU_FLAG_BUNDLE_MANIFEST, NULL);

  if (!g_file_get_contents (answers_path, &text, &len, error))
    return NULL;
  answers_sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text, len);
  if (g_file_test (manifest_path, G_FILE_TEST_EXISTS))
    {
      if (!check_manifest (store, manifest_path, &bundle_id, error))
        return NULL;
    }
  else if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      refuse (error, _("%s has no %s: it is not a flag bundle"), path, CU_FLAG_BUNDLE_MANIFEST);
      return NULL;
    }

  table = cu_csv_parse (text, len, 0, error);
  if (table == NULL)
    {
      g_prefix_error (error, "%s: ", answers_path);
      return NULL;
    }
  header = table->rows->pdata[0];
  c_bundle = find_column (header, "bundle_id");
  c_flag = find_column (header, "flag_id");
  c_answer = find_column (header, "answer");
  c_corrected = find_column (header, "corrected_value");
  c_comment = find_column (header, "comment");
  if (c_flag < 0 || c_answer < 0 || c_corrected < 0 || c_comment < 0 || c_bundle < 0)
    {
      refuse (error, _("%s lacks one of the columns bundle_id, flag_id, answer, corrected_value, "
                       "comment"), answers_path);
      return NULL;
    }

  /* answers.csv alone: the bundle is the one its rows name, and it must be ours. */
  if (bundle_id == NULL)
    {
      for (guint i = 1; i < table->rows->len && bundle_id == NULL; i++)
        {
          const CuCsvRow *row = table->rows->pdata[i];
          if ((guint) c_bundle < row->n_fields && row->fields[c_bundle][0] != '\0')
            bundle_id = g_strdup (g_strstrip (row->fields[c_bundle]));
        }
      if (bundle_id == NULL)
        {
          refuse (error, _("%s names no bundle"), answers_path);
          return NULL;
        }
    }

  stmt = _cu_store_prepare (store->db, "SELECT applied_at, applied_by FROM flag_bundle WHERE bundle_id = ?1",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      refuse (error, _("Bundle %s was not exported from this workspace: it is not applied"), bundle_id);
      return NULL;
    }
  if (sqlite3_column_text (stmt, 0) != NULL)
    {
      applied_at = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      applied_by = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  sqlite3_finalize (stmt);
  if (applied_at != NULL)
    {
      refuse (error, _("Bundle %s was already applied on %s by %s: nothing changed"), bundle_id,
              applied_at, applied_by);
      return NULL;
    }
  report->bundle_id = g_strdup (bundle_id);

  stmt = _cu_store_prepare (store->db, "SELECT flag_ref FROM flag_bundle_item WHERE bundle_id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (item_ids, id);
    }
  sqlite3_finalize (stmt);
  for (guint i = 0; i < item_ids->len; i++)
    g_hash_table_add (in_bundle, &g_array_index (item_ids, gint64, i));

  /* Validate every row before anything changes. */
  for (guint i = 1; i < table->rows->len; i++)
    {
      const CuCsvRow *row = table->rows->pdata[i];
      g_autoptr(CuFlag) flag = NULL;
      g_autoptr(GError) local = NULL;
      Answer *a;
      char *end = NULL;
      gint64 id;

      report->n_rows++;
      if (row->n_fields != header->n_fields)
        {
          g_autofree char *reason = g_strdup_printf (_("the row has %u fields, the header %u"),
                                                     row->n_fields, header->n_fields);
          add_row_issue (report->issues, answers_path, row->line, NULL, NULL, reason);
          continue;
        }
      if (strcmp (g_strstrip (row->fields[c_bundle]), bundle_id) != 0)
        {
          add_row_issue (report->issues, answers_path, row->line, "bundle_id", row->fields[c_bundle],
                         _("the row belongs to another bundle"));
          continue;
        }
      id = g_ascii_strtoll (g_strstrip (row->fields[c_flag]), &end, 10);
      if (end == row->fields[c_flag] || *end != '\0' || !g_hash_table_contains (in_bundle, &id))
        {
          add_row_issue (report->issues, answers_path, row->line, "flag_id", row->fields[c_flag],
                         _("this flag is not part of the bundle"));
          continue;
        }
      flag = cu_flags_get (store, id, error);
      if (flag == NULL)
        return NULL;
      a = g_new0 (Answer, 1);
      a->flag_id = id;
      a->answer = g_strstrip (g_strdup (row->fields[c_answer]));
      a->corrected = g_strstrip (g_strdup (row->fields[c_corrected]));
      a->comment = g_strstrip (g_strdup (row->fields[c_comment]));
      g_ptr_array_add (answers, a);
      if (a->corrected[0] != '\0')
        {
          g_autofree char *norm = NULL;

          if (flag->variable == NULL)
            {
              add_row_issue (report->issues, answers_path, row->line, "corrected_value", a->corrected,
                             _("this question is not about a clinical value: answer it in “answer”"));
              continue;
            }
          norm = cu_clinical_normalize (flag->variable, a->corrected, FALSE, &local);
          if (norm == NULL)
            {
              g_autofree char *reason = g_strdup_printf ("%s: %s", flag->variable, local->message);
              add_row_issue (report->issues, answers_path, row->line, "corrected_value", a->corrected,
                             reason);
              continue;
            }
          g_free (a->corrected);
          a->corrected = g_steal_pointer (&norm);
        }
    }
  if (report->issues->len > 0)
    return g_steal_pointer (&report);

  /* Apply: one transaction for the corrections, the lifecycle moves, the bundle record and
   * the re-run of the rules. */
  source = g_strdup_printf ("bundle:%s", bundle_id);
  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return NULL;
  for (guint i = 0; i < answers->len; i++)
    {
      Answer *a = answers->pdata[i];
      g_autoptr(CuFlag) flag = cu_flags_get (store, a->flag_id, error);
      gboolean has_answer = a->answer[0] || a->corrected[0] || a->comment[0];
      g_autofree char *reason = NULL;
      g_autofree char *comment = NULL;

      if (flag == NULL)
        goto fail;
      if (!has_answer)
        {
          report->n_unanswered++;
          continue;
        }
      report->n_answered++;
      if (a->corrected[0] != '\0')
        {
          reason = g_strdup_printf ("site answer to flag %lld", (long long) a->flag_id);
          if (!cu_clinical_set_value (store, flag->person_id, flag->variable, a->corrected, source,
                                      reason, error))
            goto fail;
          report->n_corrected++;
        }
      comment = a->comment[0] ? g_strdup (a->comment) : NULL;
      /* A flag the curator closed meanwhile keeps its state; the answer is still recorded. */
      if (!_cu_flags_transition (store, a->flag_id,
                                 cu_flag_state_is_active (flag->state) ? CU_FLAG_ANSWERED : flag->state,
                                 comment, a->answer[0] ? a->answer : NULL,
                                 a->corrected[0] ? a->corrected : NULL, bundle_id, TRUE, error))
        goto fail;
    }
  stmt = _cu_store_prepare (store->db, "UPDATE flag_bundle SET applied_at = ?2, applied_by = ?3,"
                                       " answers_sha256 = ?4 WHERE bundle_id = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, bundle_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, answers_sha, -1, SQLITE_STATIC);
  sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  detail = g_strdup_printf ("{\"bundle\":\"%s\",\"rows\":%u,\"answered\":%u,\"corrected\":%u,"
                            "\"answers_sha256\":\"%s\"}", bundle_id, report->n_rows,
                            report->n_answered, report->n_corrected, answers_sha);
  if (!cu_store_audit (store, "flags-import", answers_path, detail, error))
    goto fail;
  report->check = _cu_flags_check_locked (store, error);
  if (report->check == NULL)
    goto fail;
  if (!_cu_store_exec (store->db, "COMMIT", error))
    goto fail;
  return g_steal_pointer (&report);

fail:
  _cu_store_exec (store->db, "ROLLBACK", NULL);
  return NULL;
}

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
#include "cu-json-limits.h"
#include "cu-flag-rules.h"
#include "cu-flags-private.h"
#include "cu-translation.h"
#include "cu-store-private.h"
#include "cu-store-audit.h"

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
  g_free (bundle->language);
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

/* ---- The report, in the site's language ---------------------------------------------- */

/* What the report needs to say a flag in another language: the rules (their English
 * templates) and the catalogue. */
typedef struct
{
  CuTranslation *tr;
  GHashTable *rules;     /* id → CuFlagRule (owned by rule_list) */
  GPtrArray *rule_list;
} Speaker;

static void
speaker_init (Speaker *sp, CuStore *store, const char *lang)
{
  sp->tr = cu_translation_new (lang);
  sp->rules = g_hash_table_new (g_str_hash, g_str_equal);
  /* A broken project rule must not stop the export: the flags' stored English text is
   * used instead. */
  sp->rule_list = cu_flag_rules_load (cu_store_get_path (store), NULL);
  for (guint i = 0; sp->rule_list != NULL && i < sp->rule_list->len; i++)
    {
      CuFlagRule *rule = sp->rule_list->pdata[i];
      g_hash_table_insert (sp->rules, rule->id, rule);
    }
}

static void
speaker_clear (Speaker *sp)
{
  g_clear_pointer (&sp->tr, cu_translation_free);
  g_clear_pointer (&sp->rules, g_hash_table_unref);
  g_clear_pointer (&sp->rule_list, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Speaker, speaker_clear)

/* A string of this file, in the report's language. */
#define TR(sp, text) cu_translation_get ((sp)->tr, NULL, text)

/* The flag's title and message in the report's language: the rule's template for the flag's
 * variant, translated when the catalogue has it (for that rule id and that English text),
 * filled with the values the rule returned. Falls back to the stored English message when the
 * rule is gone. */
static void
speak_flag (Speaker *sp, const CuFlag *f, char **title, char **message)
{
  const CuFlagRule *rule = g_hash_table_lookup (sp->rules, f->rule_id);
  g_autoptr(GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(JsonNode) node = f->details != NULL ? json_from_string (f->details, NULL) : NULL;
  const char *variant = NULL, *english;
  g_autofree char *context = NULL, *title_context = NULL;

  if (rule == NULL)
    {
      *title = g_strdup (f->title != NULL ? f->title : f->rule_id);
      *message = g_strdup (f->message);
      return;
    }
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (o);

      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *v = json_object_get_member (o, l->data);
          g_hash_table_insert (values, g_strdup (l->data),
                               JSON_NODE_HOLDS_VALUE (v) ? g_strdup (json_node_get_string (v)) : NULL);
        }
      if (json_object_has_member (o, "variant"))
        variant = json_object_get_string_member (o, "variant");
    }
  g_hash_table_insert (values, g_strdup ("person_id"), g_strdup (f->person_id));
  if (f->study_uid != NULL)
    g_hash_table_insert (values, g_strdup ("study_uid"), g_strdup (f->study_uid));
  if (f->series_uid != NULL)
    g_hash_table_insert (values, g_strdup ("series_uid"), g_strdup (f->series_uid));
  if (f->variable != NULL)
    g_hash_table_insert (values, g_strdup ("variable"), g_strdup (f->variable));

  english = cu_flag_rule_template (rule, variant);
  if (variant != NULL && english != rule->message)
    {
      g_autofree char *field = g_strconcat ("message.", variant, NULL);
      context = cu_flag_rule_context (rule->id, field);
    }
  else
    context = cu_flag_rule_context (rule->id, "message");
  title_context = cu_flag_rule_context (rule->id, "title");
  *message = cu_flag_rule_format (cu_translation_get (sp->tr, context, english), values);
  *title = g_strdup (cu_translation_get (sp->tr, title_context, rule->title));
}

static const char *
severity_label (Speaker *sp, const char *severity)
{
  if (g_strcmp0 (severity, "error") == 0)
    return TR (sp, N_("Must be fixed"));
  if (g_strcmp0 (severity, "warning") == 0)
    return TR (sp, N_("Please check"));
  return TR (sp, N_("For information"));
}

static const char *
severity_class (const char *severity)
{
  if (g_strcmp0 (severity, "error") == 0)
    return "error";
  if (g_strcmp0 (severity, "warning") == 0)
    return "warning";
  return "info";
}

static void
append_escaped (GString *s, const char *text)
{
  g_autofree char *e = g_markup_escape_text (text != NULL ? text : "", -1);
  g_string_append (s, e);
}

/* Printf into the report with every argument escaped first (format: only %s). */
static void
append_html (GString *s, const char *format, ...)
{
  va_list ap;
  const char *p;

  va_start (ap, format);
  for (p = format; *p != '\0'; p++)
    {
      if (p[0] == '%' && p[1] == 's')
        {
          append_escaped (s, va_arg (ap, const char *));
          p++;
        }
      else
        g_string_append_c (s, *p);
    }
  va_end (ap);
}

/* The stylesheet: a plain document that prints well (A4, no page break inside a question,
 * severity shown by a word and a border, not by colour alone). */
static const char report_css[] =
  "body{font:11pt/1.45 'Cantarell','Noto Sans','DejaVu Sans',sans-serif;color:#1d1d1d;"
  "margin:0 auto;padding:2.2em 2.5em;max-width:54em;background:#fff}"
  "header{border-bottom:3px solid #1c71d8;padding-bottom:.8em;margin-bottom:1.2em}"
  "h1{font-size:1.55em;margin:0 0 .2em}"
  ".sub{color:#555;margin:0}"
  ".how{background:#f4f7fb;border:1px solid #c8d6ea;border-radius:6px;padding:.8em 1.2em;margin:1.2em 0}"
  ".how h2{font-size:1.05em;margin:.2em 0 .4em;border:0}"
  ".how ol{margin:.2em 0 .2em 1.2em;padding:0}.how li{margin:.25em 0}"
  "code{font-family:'DejaVu Sans Mono',monospace;font-size:.92em;background:#e9eef5;padding:0 .25em;"
  "border-radius:3px}"
  "table.summary{border-collapse:collapse;margin:.6em 0 1.4em;min-width:60%}"
  "table.summary th,table.summary td{border:1px solid #ccd;padding:.25em .7em;text-align:left}"
  "table.summary th{background:#eef1f5;font-weight:600}table.summary td.n{text-align:right}"
  "section.patient{margin-top:1.6em}"
  "section.patient>h2{font-size:1.2em;margin:0 0 .5em;padding:.3em .5em;background:#eef1f5;"
  "border-left:5px solid #1c71d8;break-after:avoid;page-break-after:avoid}"
  ".q{border:1px solid #ccd;border-left:5px solid #888;border-radius:4px;padding:.6em .9em;"
  "margin:.7em 0;break-inside:avoid;page-break-inside:avoid}"
  ".q.error{border-left-color:#c01c28}.q.warning{border-left-color:#e5a50a}.q.info{border-left-color:#1c71d8}"
  ".q h3{font-size:1em;margin:0 0 .3em;display:flex;gap:.6em;align-items:baseline;flex-wrap:wrap}"
  ".num{font-weight:700;white-space:nowrap}"
  ".sev{font-size:.8em;font-weight:700;text-transform:uppercase;letter-spacing:.03em;padding:.05em .45em;"
  "border-radius:3px;border:1px solid currentColor;white-space:nowrap}"
  ".sev.error{color:#a51d2d}.sev.warning{color:#9c6a00}.sev.info{color:#1a5fb4}"
  ".rule{color:#666;font-size:.85em;margin-left:auto}"
  ".msg{margin:.2em 0 .5em;font-size:1.05em}"
  "dl{display:grid;grid-template-columns:11em 1fr;gap:.1em 1em;margin:.3em 0;font-size:.93em}"
  "dt{color:#555}dd{margin:0}"
  ".reply{margin-top:.5em;border-top:1px dashed #bbb;padding-top:.4em;font-size:.9em;color:#444}"
  ".reply .line{display:grid;grid-template-columns:11em 1fr;gap:1em;margin:.35em 0}"
  ".reply .blank{border-bottom:1px solid #999;min-height:1.2em}"
  "footer{margin-top:2em;border-top:1px solid #ccc;padding-top:.6em;color:#666;font-size:.85em}"
  "@media print{body{padding:0;max-width:none;font-size:10pt}"
  "@page{size:A4;margin:16mm 14mm 18mm}.how{background:none}section.patient>h2{background:none}"
  "a{color:inherit;text-decoration:none}}";

typedef struct
{
  const char *person;
  guint n[3];   /* error, warning, info */
} PersonCount;

static char *
build_report (CuStore *store, Speaker *sp, GPtrArray *flags, const char *site, const char *bundle_id,
              const char *workspace_id, const char *now, guint *n_persons)
{
  GString *s = g_string_new (NULL);
  g_autofree char *title = g_strdup_printf (TR (sp, N_("Questions about the clinical data of site %s")),
                                            site);
  g_autoptr(GArray) persons = g_array_new (FALSE, TRUE, sizeof (PersonCount));
  g_autofree char *date = g_strndup (now, 10);
  g_autofree char *n_text = NULL;
  const char *person = NULL;

  /* Counts per patient for the summary (flags come sorted by person). */
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      PersonCount *pc;
      const char *cls = severity_class (f->severity);

      if (persons->len == 0 || strcmp (g_array_index (persons, PersonCount, persons->len - 1).person,
                                       f->person_id) != 0)
        {
          PersonCount add = { f->person_id, { 0, 0, 0 } };
          g_array_append_val (persons, add);
        }
      pc = &g_array_index (persons, PersonCount, persons->len - 1);
      pc->n[strcmp (cls, "error") == 0 ? 0 : strcmp (cls, "warning") == 0 ? 1 : 2]++;
    }
  *n_persons = persons->len;

  append_html (s, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>%s</title>\n",
               cu_translation_get_language (sp->tr), title);
  g_string_append_printf (s, "<style>%s</style>\n</head><body>\n", report_css);
  append_html (s, "<header><h1>%s</h1>\n", title);
  n_text = g_strdup_printf (TR (sp, N_("%u questions about %u patients · prepared on %s")),
                            flags->len, persons->len, date);
  append_html (s, "<p class=\"sub\">%s</p></header>\n", n_text);

  append_html (s, "<div class=\"how\"><h2>%s</h2><ol>", TR (sp, N_("How to answer")));
  append_html (s, "<li>%s</li>",
               TR (sp, N_("Each question concerns one patient, named by the pseudonym only. Look the "
                          "patient up with your pseudonym key and check the source records.")));
  g_string_append (s, "<li>");
  {
    g_auto(GStrv) parts = g_strsplit (TR (sp, N_("Open the file %s of this folder with a spreadsheet: "
                                                 "it has one row per question, found by its number "
                                                 "(column flag_id).")), "%s", 2);
    append_escaped (s, parts[0]);
    if (parts[1] != NULL)
      {
        g_string_append (s, "<code>" CU_FLAG_BUNDLE_ANSWERS "</code>");
        append_escaped (s, parts[1]);
      }
  }
  g_string_append (s, "</li>");
  append_html (s, "<li>%s</li>",
               TR (sp, N_("Write your answer in the column “answer”. If a value of the clinical data "
                          "is wrong, write the right value in “corrected_value”, in the same format "
                          "as the current value (dates as YYYY-MM-DD, a point for decimals). Use "
                          "“comment” for anything else.")));
  append_html (s, "<li>%s</li></ol></div>\n",
               TR (sp, N_("Do not change the other columns. Save the file as CSV (UTF-8) and send "
                          "the whole folder back.")));

  append_html (s, "<table class=\"summary\"><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
               TR (sp, N_("Patient")), TR (sp, N_("Must be fixed")), TR (sp, N_("Please check")),
               TR (sp, N_("For information")));
  for (guint i = 0; i < persons->len; i++)
    {
      PersonCount *pc = &g_array_index (persons, PersonCount, i);
      g_autofree char *anchor = g_uri_escape_string (pc->person, NULL, FALSE);
      g_autofree char *n0 = pc->n[0] ? g_strdup_printf ("%u", pc->n[0]) : g_strdup ("");
      g_autofree char *n1 = pc->n[1] ? g_strdup_printf ("%u", pc->n[1]) : g_strdup ("");
      g_autofree char *n2 = pc->n[2] ? g_strdup_printf ("%u", pc->n[2]) : g_strdup ("");

      append_html (s, "<tr><td><a href=\"#p-%s\">%s</a></td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                   anchor, pc->person, n0, n1, n2);
    }
  g_string_append (s, "</table>\n");

  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      g_autofree char *current = f->variable != NULL
                                   ? cu_clinical_get_value (store, f->person_id, f->variable) : NULL;
      g_autofree char *study = study_date_of (store, f->study_uid);
      g_autofree char *number = g_strdup_printf (TR (sp, N_("Question %lld")), (long long) f->id);
      g_autofree char *flag_title = NULL, *message = NULL;
      const char *cls = severity_class (f->severity);

      if (person == NULL || strcmp (person, f->person_id) != 0)
        {
          g_autofree char *anchor = g_uri_escape_string (f->person_id, NULL, FALSE);
          g_autofree char *heading = g_strdup_printf (TR (sp, N_("Patient %s")), f->person_id);

          if (person != NULL)
            g_string_append (s, "</section>\n");
          person = f->person_id;
          append_html (s, "<section class=\"patient\" id=\"p-%s\"><h2>%s</h2>\n", anchor, heading);
        }
      speak_flag (sp, f, &flag_title, &message);
      append_html (s, "<div class=\"q %s\"><h3><span class=\"num\">%s</span>", cls, number);
      append_html (s, "<span class=\"sev %s\">%s</span><span>%s</span><span class=\"rule\">%s</span></h3>\n",
                   cls, severity_label (sp, f->severity), flag_title, f->rule_id);
      append_html (s, "<p class=\"msg\">%s</p>\n<dl>", message);
      if (f->variable != NULL)
        {
          append_html (s, "<dt>%s</dt><dd><code>%s</code></dd>", TR (sp, N_("Variable")), f->variable);
          append_html (s, "<dt>%s</dt><dd>%s</dd>", TR (sp, N_("Current value")),
                       current != NULL ? current : TR (sp, N_("(missing)")));
        }
      if (study != NULL)
        append_html (s, "<dt>%s</dt><dd>%s</dd>", TR (sp, N_("Imaging study of")), study);
      g_string_append (s, "</dl>\n<div class=\"reply\">");
      append_html (s, "<div class=\"line\"><span>%s</span><span class=\"blank\"></span></div>",
                   TR (sp, N_("Answer")));
      if (f->variable != NULL)
        append_html (s, "<div class=\"line\"><span>%s</span><span class=\"blank\"></span></div>",
                     TR (sp, N_("Corrected value")));
      g_string_append (s, "</div></div>\n");
    }
  if (person != NULL)
    g_string_append (s, "</section>\n");
  {
    g_autofree char *meta = g_strdup_printf (TR (sp, N_("Bundle %s · workspace %s · written %s · "
                                                        "the answers go in %s")),
                                             bundle_id, workspace_id, now, CU_FLAG_BUNDLE_ANSWERS);
    append_html (s, "<footer>%s</footer>\n</body></html>\n", meta);
  }
  return g_string_free (s, FALSE);
}

static char *
build_answers_csv (CuStore *store, Speaker *sp, GPtrArray *flags, const char *bundle_id)
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
      g_autofree char *title = NULL, *message = NULL;
      const char *fields[12];

      speak_flag (sp, f, &title, &message);
      fields[0] = bundle_id, fields[1] = id, fields[2] = f->person_id, fields[3] = date;
      fields[4] = f->rule_id, fields[5] = f->severity, fields[6] = f->variable, fields[7] = current;
      fields[8] = message, fields[9] = "", fields[10] = "", fields[11] = "";
      for (guint c = 0; c < G_N_ELEMENTS (fields); c++)
        {
          g_autofree char *q = cu_csv_quote_cell (fields[c] != NULL ? fields[c] : "", ',');
          g_string_append_printf (s, "%s%s", c ? "," : "", q);
        }
      g_string_append (s, "\r\n");
    }
  return g_string_free (s, FALSE);
}

static int
severity_rank (const char *severity)
{
  return g_strcmp0 (severity, "error") == 0 ? 0 : g_strcmp0 (severity, "warning") == 0 ? 1 : 2;
}

static int
compare_for_report (gconstpointer pa, gconstpointer pb)
{
  const CuFlag *a = *(CuFlag **) pa, *b = *(CuFlag **) pb;
  int c = strcmp (a->person_id, b->person_id);

  if (c == 0)
    c = severity_rank (a->severity) - severity_rank (b->severity);
  if (c == 0)
    c = a->id < b->id ? -1 : a->id > b->id;
  return c;
}

static char *
site_language_key (const char *site)
{
  return g_strconcat ("site_language:", site, NULL);
}

char *
cu_flag_bundle_site_language (CuStore *store, const char *site)
{
  g_autofree char *key = NULL;
  sqlite3_stmt *stmt;
  char *lang = NULL;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  if (site != NULL)
    {
      key = site_language_key (site);
      stmt = _cu_store_prepare (store->db, "SELECT value FROM setting WHERE key = ?1", NULL);
      if (stmt != NULL)
        {
          sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
          if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
            lang = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          sqlite3_finalize (stmt);
        }
    }
  return lang != NULL ? lang : cu_translation_default_language ();
}

CuFlagBundle *
cu_flag_bundle_export (CuStore *store, const char *site, const char *out_dir, const char *lang,
                       GError **error)
{
  g_auto(Speaker) sp = { NULL };
  g_autofree char *language = NULL;
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
  /* Grouped by patient, and within a patient what must be fixed first. */
  g_ptr_array_sort (flags, compare_for_report);
  for (guint i = 0; i < flags->len; i++)
    json_array_add_int_element (ids, ((CuFlag *) flags->pdata[i])->id);

  /* The site's language: as asked, else the one used for this site last time, else the
   * curator's. */
  language = lang != NULL && lang[0] != '\0' ? g_strdup (lang) : cu_flag_bundle_site_language (store, site);
  speaker_init (&sp, store, language);
  bundle->language = g_strdup (cu_translation_get_language (sp.tr));
  report = build_report (store, &sp, flags, site, bundle->bundle_id, workspace_id, now, &bundle->n_persons);
  answers = build_answers_csv (store, &sp, flags, bundle->bundle_id);
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
  STR ("language", bundle->language);
  json_builder_set_member_name (b, "flags");
  json_builder_add_value (b, json_node_init_array (json_node_alloc (), ids));
  json_builder_set_member_name (b, "files");
  json_builder_begin_object (b);
  STR (CU_FLAG_BUNDLE_REPORT, report_sha);
  STR (CU_FLAG_BUNDLE_ANSWERS, answers_sha);
  json_builder_end_object (b);
  STR ("checksum", checksum);
#undef STR
  /* The audit trail's head as it was when the bundle left: history rewritten afterwards no
   * longer contains it (curata-cli audit verify --against). */
  if (!cu_store_audit_add_head_json (store, b, error))
    return NULL;
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
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Recording the bundle failed"));
          sqlite3_finalize (stmt);
          goto fail;
        }
      sqlite3_finalize (stmt);
      if (!_cu_flags_transition (store, f->id, CU_FLAG_SENT, _("sent to the site in a bundle"),
                                 NULL, NULL, bundle->bundle_id, TRUE, error))
        goto fail;
    }
  if (lang != NULL && lang[0] != '\0')
    {
      g_autofree char *key = site_language_key (site);

      stmt = _cu_store_prepare (store->db, "INSERT OR REPLACE INTO setting (key, value) VALUES (?1, ?2)",
                                error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, lang, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        {
          _cu_store_set_db_error (store->db, error, _("Recording the bundle failed"));
          sqlite3_finalize (stmt);
          goto fail;
        }
      sqlite3_finalize (stmt);
    }
  /* The site name is the user's text: JSON-escaped by the builder. */
  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "bundle");
    json_builder_add_string_value (db, bundle->bundle_id);
    json_builder_set_member_name (db, "site");
    json_builder_add_string_value (db, site);
    json_builder_set_member_name (db, "flags");
    json_builder_add_int_value (db, flags->len);
    json_builder_set_member_name (db, "language");
    json_builder_add_string_value (db, bundle->language);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
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

/* A manifest is three levels deep and a few kilobytes per thousand flags: its text is checked
 * before json-glib parses it (cu-json-limits.h), and its size before it is read at all. */
#define MANIFEST_MAX_DEPTH 32
/* answers.csv holds a few hundred bytes per flag: 64 MB is some 200,000 flags. */
#define BUNDLE_FILE_MAX_SIZE (64 * 1024 * 1024)

/* Read a file of a returned bundle. It came from outside: a link to /dev/zero or a FIFO in
 * its place would be read forever, and a huge one read whole into memory. */
static gboolean
read_bundle_file (const char *path, char **text, gsize *len, GError **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return g_file_get_contents (path, text, len, error);   /* its error says why */
  if (!S_ISREG (st.st_mode))
    return refuse (error, _("%s is not a regular file: it cannot be part of a flag bundle"), path);
  if (st.st_size > BUNDLE_FILE_MAX_SIZE)
    {
      g_autofree char *size = g_format_size ((guint64) st.st_size);
      return refuse (error, _("%s is too large (%s) to be part of a flag bundle"), path, size);
    }
  return g_file_get_contents (path, text, len, error);
}

/* The manifest's text before json-glib parses it (cu-json-limits.h). */
static gboolean
check_manifest_text (const char *path, const char *text, gsize len, GError **error)
{
  g_autofree char *reason = NULL;

  if (cu_json_text_within (text, len, MANIFEST_MAX_DEPTH, &reason))
    return TRUE;
  /* TRANSLATORS: %s is a file, then why it is not a bundle manifest */
  return refuse (error, _("%s is not the manifest of a flag bundle: %s"), path, reason);
}

/* The string value of member name, or NULL when it is absent or not a string. */
static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The array of flag ids, or NULL when flags is absent or holds anything but integers. */
static JsonArray *
member_flag_ids (JsonObject *o)
{
  JsonNode *node = json_object_get_member (o, "flags");
  JsonArray *ids;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  ids = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *id = json_array_get_element (ids, i);
      if (!JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_INT64)
        return NULL;
    }
  return ids;
}

/* Check the manifest against this workspace; sets bundle_id. */
static gboolean
check_manifest (CuStore *store, const char *manifest_path, char **bundle_id, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *workspace_id = NULL;
  g_autofree char *recomputed = NULL;
  g_autofree char *recorded = NULL;
  g_autofree char *text = NULL;
  JsonObject *m, *files = NULL;
  JsonNode *root, *files_node;
  JsonArray *ids;
  const char *format, *bid, *wid, *site, *checksum, *report_sha, *answers_sha;
  sqlite3_stmt *stmt;
  gsize len;

  if (!read_bundle_file (manifest_path, &text, &len, error))
    return FALSE;
  if (!check_manifest_text (manifest_path, text, len, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, text, (gssize) len, error))
    {
      g_prefix_error (error, "%s: ", manifest_path);
      return FALSE;
    }
  /* An empty file parses, into no root at all. */
  root = json_parser_get_root (parser);
  m = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  format = m != NULL ? member_string (m, "format") : NULL;
  if (g_strcmp0 (format, BUNDLE_FORMAT) != 0)
    return refuse (error, _("%s is not the manifest of a flag bundle"), manifest_path);
  bid = member_string (m, "bundle_id");
  wid = member_string (m, "workspace_id");
  site = member_string (m, "site");
  checksum = member_string (m, "checksum");
  ids = member_flag_ids (m);
  files_node = json_object_get_member (m, "files");
  if (files_node != NULL && JSON_NODE_HOLDS_OBJECT (files_node))
    files = json_node_get_object (files_node);
  report_sha = files != NULL ? member_string (files, CU_FLAG_BUNDLE_REPORT) : NULL;
  answers_sha = files != NULL ? member_string (files, CU_FLAG_BUNDLE_ANSWERS) : NULL;
  if (bid == NULL || wid == NULL || site == NULL || checksum == NULL || ids == NULL
      || report_sha == NULL || answers_sha == NULL)
    return refuse (error, _("%s is incomplete"), manifest_path);

  workspace_id = cu_flags_workspace_id (store, error);
  if (workspace_id == NULL)
    return FALSE;
  if (strcmp (wid, workspace_id) != 0)
    return refuse (error, _("This bundle was made by another workspace (%s), not by this one (%s): "
                            "it is not applied"), wid, workspace_id);
  recomputed = manifest_checksum (bid, wid, site, ids, report_sha, answers_sha);
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
  int rc;

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

  if (!read_bundle_file (answers_path, &text, &len, error))
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
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (item_ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the bundle failed"));
      sqlite3_finalize (stmt);
      return NULL;
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
  /* Without this row the answers could be applied a second time: it must be written, or
   * nothing is. */
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Recording the bundle as applied failed"));
      sqlite3_finalize (stmt);
      goto fail;
    }
  sqlite3_finalize (stmt);
  if (sqlite3_changes (store->db) != 1)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                   _("Recording the bundle as applied failed: bundle %s is no longer recorded"),
                   bundle_id);
      goto fail;
    }
  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "bundle");
    json_builder_add_string_value (db, bundle_id);
    json_builder_set_member_name (db, "rows");
    json_builder_add_int_value (db, report->n_rows);
    json_builder_set_member_name (db, "answered");
    json_builder_add_int_value (db, report->n_answered);
    json_builder_set_member_name (db, "corrected");
    json_builder_add_int_value (db, report->n_corrected);
    json_builder_set_member_name (db, "answers_sha256");
    json_builder_add_string_value (db, answers_sha);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
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

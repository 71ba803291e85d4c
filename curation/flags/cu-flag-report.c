/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-report.c — the site's view of a flag bundle: report.html and answers.csv.
 *
 * The report is one self-contained HTML file (styles and thumbnails inline, so a collector
 * can open or print it from a USB stick): a header, how to answer, a summary per patient, the
 * pseudonymizer's leftovers per attribute, then the questions grouped by patient, each saying
 * what the site is asked to do. Only pseudonyms, study dates, series numbers and descriptions,
 * masked values and pixels leave the workspace: no UID, no file path, no header value in the
 * pictures.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-clinical.h"
#include "cu-csv.h"
#include "cu-flag-bundle.h"
#include "cu-flag-report.h"
#include "cu-flag-rules.h"
#include "cu-store-packs.h"
#include "cu-flag-thumbnail.h"
#include "cu-store-flags.h"
#include "cu-translation.h"

#define THUMBNAIL_SIZE 192

const char *const cu_flag_report_answer_columns[] = {
  "bundle_id", "flag_id", "person_id", "study_date", "rule", "severity", "variable",
  "current_value", "question", "answer", "corrected_value", "comment",
  "kind", "urgent", "series", "position", "action", NULL
};

/* A string of this file, in the report's language. */
#define TR(sp, text) cu_translation_get ((sp)->tr, NULL, text)

static const char *kind_title (struct _CuFlagReport *sp, const CuFlag *f);
static char *deid_message (struct _CuFlagReport *sp, const CuFlag *f);
static char *lesion_message (struct _CuFlagReport *sp, const CuFlag *f);

/* What the report needs to say a flag in another language: the rules (their English
 * templates) and the catalogue. */
struct _CuFlagReport
{
  CuStore *store;        /* borrowed */
  CuTranslation *tr;
  GHashTable *rules;     /* id → CuFlagRule (owned by rule_list) */
  GPtrArray *rule_list;
};
typedef struct _CuFlagReport Speaker;

CuFlagReport *
cu_flag_report_new (CuStore *store, const char *lang)
{
  Speaker *sp = g_new0 (Speaker, 1);

  sp->store = store;
  sp->tr = cu_translation_new (lang);
  sp->rules = g_hash_table_new (g_str_hash, g_str_equal);
  /* A broken project rule must not stop the export: the flags' stored English text is
   * used instead. */
  {
    g_autoptr(CuPackSet) packs = cu_store_get_packs (store);
    sp->rule_list = cu_flag_rules_load_packs (packs, cu_store_get_path (store), NULL);
  }
  for (guint i = 0; sp->rule_list != NULL && i < sp->rule_list->len; i++)
    {
      CuFlagRule *rule = sp->rule_list->pdata[i];
      g_hash_table_insert (sp->rules, rule->id, rule);
    }
  return sp;
}

void
cu_flag_report_free (CuFlagReport *sp)
{
  if (sp == NULL)
    return;
  g_clear_pointer (&sp->tr, cu_translation_free);
  g_clear_pointer (&sp->rules, g_hash_table_unref);
  g_clear_pointer (&sp->rule_list, g_ptr_array_unref);
  g_free (sp);
}

const char *
cu_flag_report_get_language (CuFlagReport *sp)
{
  return cu_translation_get_language (sp->tr);
}

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

  if (f->kind != CU_FLAG_KIND_RULE)
    {
      /* A person's words (or a quality decision's reason) are sent as written; the pseudonymization
       * flag is said in the report's language from its values. */
      *title = g_strdup (kind_title (sp, f));
      *message = lesion_message (sp, f);
      if (*message != NULL)
        return;
      *message = deid_message (sp, f);
      if (*message == NULL)
        *message = g_strdup (f->message);
      else if (!g_str_has_prefix (f->message, "The site's pseudonymization left"))
        {
          /* the curator's own note, as written, after what the gate found */
          char *both = g_strconcat (*message, " — ", f->message, NULL);
          g_free (*message);
          *message = both;
        }
      return;
    }
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
  ".todo{margin:.3em 0 .5em;padding:.35em .7em;background:#fdf6e3;border:1px solid #e6d7a8;"
  "border-radius:4px;font-size:.95em}.todo b{margin-right:.4em}"
  ".q.urgent{border:2px solid #c01c28;border-left-width:6px}"
  ".tag{font-size:.8em;font-weight:700;color:#fff;background:#c01c28;padding:.05em .45em;"
  "border-radius:3px;white-space:nowrap}"
  ".alert{border:2px solid #c01c28;background:#fdecec;border-radius:6px;padding:.6em 1em;margin:1em 0}"
  "figure{margin:.5em 0;display:flex;gap:.8em;align-items:flex-start}"
  "figure img{width:160px;max-width:40%;height:auto;border:1px solid #999;background:#000;"
  "image-rendering:auto}"
  "figcaption{font-size:.88em;color:#444}"
  "table.deid{border-collapse:collapse;margin:.6em 0 1.2em;width:100%}"
  "table.deid th,table.deid td{border:1px solid #ccd;padding:.25em .6em;text-align:left;font-size:.93em}"
  "table.deid th{background:#eef1f5}table.deid td.n{text-align:right}"
  "@media print{body{padding:0;max-width:none;font-size:10pt}"
  "@page{size:A4;margin:16mm 14mm 18mm}.how{background:none}section.patient>h2{background:none}"
  /* A patient's questions stay on one page when they fit; a patient with more than a page
   * still breaks between questions, never inside one. */
  "section.patient{break-inside:avoid-page;page-break-inside:avoid}"
  "figure img{width:42mm}.alert{background:none}"
  "a{color:inherit;text-decoration:none}}";

static const char *
kind_title (Speaker *sp, const CuFlag *f)
{
  switch (f->kind)
    {
    case CU_FLAG_KIND_IMAGE:
      if (g_strcmp0 (f->rule_id, "qc-ask-site") == 0)
        return TR (sp, N_("Question about a series"));
      if (g_strcmp0 (f->rule_id, "qc-finding") == 0)
        return f->series_uid != NULL ? TR (sp, N_("Quality finding in a series"))
                                     : TR (sp, N_("Protocol series missing or out of range"));
      return TR (sp, N_("Images to send again"));
    case CU_FLAG_KIND_QUESTION: return TR (sp, N_("Question from the curators"));
    case CU_FLAG_KIND_INCIDENTAL: return TR (sp, N_("Incidental finding"));
    case CU_FLAG_KIND_DEID: return TR (sp, N_("Study to send again after fixing the pseudonymization"));
    case CU_FLAG_KIND_RULE: break;
    }
  return f->title != NULL ? f->title : f->rule_id;
}

/* A flag about a lesion in the report's language, from the values it recorded
 * (cu-flag-sources.c), then the curator's note as written. */
static char *
lesion_message (Speaker *sp, const CuFlag *f)
{
  g_autoptr(JsonNode) node = f->details != NULL ? json_from_string (f->details, NULL) : NULL;
  g_autofree char *about = NULL;
  JsonObject *o;
  const char *note;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node)
      || !json_object_has_member ((o = json_node_get_object (node)), "lesion"))
    return NULL;
  about = g_strdup_printf (TR (sp, N_("Lesion %d “%s” (%.2f mL, longest diameter %.1f mm)")),
                           (int) json_object_get_int_member_with_default (o, "lesion", 0),
                           json_object_get_string_member_with_default (o, "lesion_name", ""),
                           json_object_get_double_member_with_default (o, "volume_ml", 0),
                           json_object_get_double_member_with_default (o, "longest_diameter_mm", 0));
  note = json_object_get_string_member_with_default (o, "note", "");
  if (note[0] == '\0')
    return g_steal_pointer (&about);
  return g_strdup_printf ("%s: %s", about, note);
}

/* The pseudonymization flag in the report's language, from the values it recorded. */
static char *
deid_message (Speaker *sp, const CuFlag *f)
{
  g_autoptr(JsonNode) node = NULL;
  JsonObject *o;

  if (f->kind != CU_FLAG_KIND_DEID || f->details == NULL)
    return NULL;
  node = json_from_string (f->details, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  o = json_node_get_object (node);
  return g_strdup_printf (TR (sp, N_("Your pseudonymization left identifying data in this study "
                                     "(%d findings: %s). Fix the pseudonymization and send the "
                                     "study again.")),
                          (int) json_object_get_int_member_with_default (o, "errors", 0),
                          json_object_get_string_member_with_default (o, "attributes", ""));
}

const char *
cu_flag_report_action_code (const CuFlag *f)
{
  switch (f->kind)
    {
    case CU_FLAG_KIND_RULE: return f->variable != NULL ? "answer-or-correct" : "answer";
    case CU_FLAG_KIND_IMAGE: return "send-fixed-copy";
    case CU_FLAG_KIND_QUESTION: return "answer";
    case CU_FLAG_KIND_INCIDENTAL: return "confirm-physician-informed";
    case CU_FLAG_KIND_DEID: return "fix-pseudonymization-and-resend";
    }
  return "answer";
}

/* What the site is asked to do, for people. */
static const char *
action_text (Speaker *sp, const CuFlag *f)
{
  switch (f->kind)
    {
    case CU_FLAG_KIND_RULE:
      return f->variable != NULL
             ? TR (sp, N_("Check the source records; write the right value in “corrected_value”, "
                          "or explain in “answer”."))
             : TR (sp, N_("Check the source records and answer in “answer”."));
    case CU_FLAG_KIND_IMAGE:
      if (f->series_uid == NULL && g_strcmp0 (f->rule_id, "qc-finding") == 0)
        return TR (sp, N_("Send the series the study's protocol asks for, pseudonymized as before; "
                          "or say in “answer” why they cannot be sent."));
      return TR (sp, N_("Export the series again from the source and send the fixed copy through "
                        "the usual channel, pseudonymized as before; or say in “answer” why it "
                        "cannot be sent."));
    case CU_FLAG_KIND_QUESTION:
      return TR (sp, N_("Answer the question in “answer”."));
    case CU_FLAG_KIND_INCIDENTAL:
      return TR (sp, N_("Urgent: pass this finding to the patient's treating physician, then "
                        "confirm in “answer” that it was passed on, with the date."));
    case CU_FLAG_KIND_DEID:
      return TR (sp, N_("Fix the pseudonymization tool (see “What your pseudonymization left "
                        "behind”), pseudonymize the study again and send it again."));
    }
  return "";
}

/* "Series 5 · MR · ADC": how the site finds a series without its UID. */
static char *
series_label (Speaker *sp, const char *series_uid)
{
  g_autoptr(CuSeriesRecord) rec = NULL;
  g_autoptr(GString) s = NULL;

  if (series_uid == NULL)
    return NULL;
  rec = cu_store_get_series (sp->store, series_uid, NULL);
  if (rec == NULL)
    return NULL;
  s = g_string_new (NULL);
  g_string_printf (s, TR (sp, N_("Series %d")), rec->series_number);
  if (rec->modality != NULL && rec->modality[0] != '\0')
    g_string_append_printf (s, " · %s", rec->modality);
  if (rec->series_description != NULL && rec->series_description[0] != '\0')
    g_string_append_printf (s, " · %s", rec->series_description);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
position_text (const CuFlag *f)
{
  char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE], z[G_ASCII_DTOSTR_BUF_SIZE];

  if (!f->has_position)
    return NULL;
  /* LPS: x grows to the patient's left, y to posterior, z to superior. */
  return g_strdup_printf ("%s %s, %s %s, %s %s",
                          f->position[0] < 0 ? "R" : "L", g_ascii_formatd (x, sizeof x, "%.1f", fabs (f->position[0])),
                          f->position[1] < 0 ? "A" : "P", g_ascii_formatd (y, sizeof y, "%.1f", fabs (f->position[1])),
                          f->position[2] < 0 ? "I" : "S", g_ascii_formatd (z, sizeof z, "%.1f", fabs (f->position[2])));
}

/* ---- What the site's pseudonymizer left behind ---- */

typedef struct
{
  char *attribute;
  GHashTable *files;    /* paths (never written out): counted */
  GHashTable *studies;
  char *example;        /* masked by the checker */
} Leftover;

static void
leftover_free (Leftover *l)
{
  g_free (l->attribute);
  g_hash_table_unref (l->files);
  g_hash_table_unref (l->studies);
  g_free (l->example);
  g_free (l);
}

/* Leftover elements, by attribute, over the studies of the pseudonymization flags. */
/* The masked value alone ("1******9"): the finding says it in the curator's language at
 * check time ("present, 8 characters: 1******9"), and the report is in the site's. A finding
 * with no masked value is shown as it was written. */
static char *
masked_example (const char *found)
{
  const char *colon = g_strrstr (found, ": ");

  if (colon != NULL && strchr (colon + 2, '*') != NULL)
    return g_strdup (colon + 2);
  return g_strdup (found);
}

static GPtrArray *
collect_leftovers (Speaker *sp, GPtrArray *flags)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) leftover_free);

  for (guint i = 0; i < flags->len; i++)
    {
      const CuFlag *f = flags->pdata[i];
      g_autoptr(GPtrArray) findings = NULL;

      if (f->kind != CU_FLAG_KIND_DEID || f->study_uid == NULL)
        continue;
      findings = cu_store_list_findings (sp->store, f->study_uid, NULL);
      for (guint j = 0; findings != NULL && j < findings->len; j++)
        {
          CuDeidFinding *d = findings->pdata[j];
          const char *name = d->keyword != NULL ? d->keyword
                             : d->tag_path != NULL && d->tag_path[0] ? d->tag_path : d->rule;
          Leftover *l;

          if (d->severity != CU_DEID_SEVERITY_ERROR || name == NULL)
            continue;
          l = g_hash_table_lookup (by_name, name);
          if (l == NULL)
            {
              l = g_new0 (Leftover, 1);
              l->attribute = g_strdup (name);
              l->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
              l->studies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
              g_hash_table_insert (by_name, l->attribute, l);
              g_ptr_array_add (out, l);
            }
          g_hash_table_add (l->files, g_strdup (d->path != NULL ? d->path : f->study_uid));
          g_hash_table_add (l->studies, g_strdup (f->study_uid));
          if (l->example == NULL && d->found != NULL)
            l->example = masked_example (d->found);
        }
    }
  return out;
}

static void
append_leftovers (Speaker *sp, GString *s, GPtrArray *leftovers)
{
  if (leftovers->len == 0)
    return;
  append_html (s, "<section class=\"deid\" id=\"deid\"><h2>%s</h2><p>%s</p>",
               TR (sp, N_("What your pseudonymization left behind")),
               TR (sp, N_("These attributes kept identifying data in the files you sent. Please fix "
                          "the settings of your pseudonymization tool for all studies, not only "
                          "the ones listed below. Values are masked.")));
  append_html (s, "<table class=\"deid\"><tr><th>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>\n",
               TR (sp, N_("Attribute")), TR (sp, N_("Files")), TR (sp, N_("Studies")),
               TR (sp, N_("Example (masked)")));
  for (guint i = 0; i < leftovers->len; i++)
    {
      Leftover *l = leftovers->pdata[i];
      g_autofree char *nf = g_strdup_printf ("%u", g_hash_table_size (l->files));
      g_autofree char *ns = g_strdup_printf ("%u", g_hash_table_size (l->studies));

      append_html (s, "<tr><td><code>%s</code></td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                   "<td>%s</td></tr>\n", l->attribute, nf, ns, l->example != NULL ? l->example : "");
    }
  g_string_append (s, "</table></section>\n");
}

/* ---- The report ---- */

typedef struct
{
  const char *person;
  guint n[3];   /* error, warning, info */
  guint urgent;
} PersonCount;

static gboolean
thumbnail (Speaker *sp, GString *s, const CuFlag *f)
{
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *b64 = NULL, *label = NULL, *where = NULL;

  if (f->series_uid == NULL)
    return FALSE;
  label = series_label (sp, f->series_uid);
  png = cu_flag_thumbnail_png (sp->store, f->series_uid, f->has_position ? f->position : NULL,
                               THUMBNAIL_SIZE, &error);
  if (png == NULL)
    {
      /* A series that cannot be decoded is often why it is flagged: say so, do not stop. */
      append_html (s, "<figure class=\"none\"><figcaption>%s — %s</figcaption></figure>\n",
                   label != NULL ? label : "", TR (sp, N_("no picture: the images could not be decoded")));
      return FALSE;
    }
  b64 = g_base64_encode (g_bytes_get_data (png, NULL), g_bytes_get_size (png));
  where = position_text (f);
  g_string_append (s, "<figure><img src=\"data:image/png;base64,");
  g_string_append (s, b64);
  append_html (s, "\" alt=\"%s\"><figcaption>%s", label != NULL ? label : "", label != NULL ? label : "");
  if (where != NULL)
    append_html (s, "<br>%s %s", f->has_position ? TR (sp, N_("Marked point (LPS, mm):")) : "", where);
  else
    append_html (s, "<br>%s", TR (sp, N_("Middle slice")));
  g_string_append (s, "</figcaption></figure>\n");
  return TRUE;
}

char *
cu_flag_report_html (CuFlagReport *sp, GPtrArray *flags, const char *site, const char *bundle_id,
                     const char *workspace_id, const char *now, guint *n_persons, guint *n_thumbnails)
{
  GString *s = g_string_new (NULL);
  gboolean only_rules = TRUE;
  g_autofree char *title = NULL;
  g_autoptr(GArray) persons = g_array_new (FALSE, TRUE, sizeof (PersonCount));
  g_autoptr(GPtrArray) leftovers = NULL;
  g_autofree char *date = g_strndup (now, 10);
  g_autofree char *n_text = NULL;
  const char *person = NULL;
  guint n_urgent = 0, n_pictures = 0;

  /* Counts per patient for the summary (flags come sorted by person). */
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      PersonCount *pc;
      const char *cls = severity_class (f->severity);

      only_rules = only_rules && f->kind == CU_FLAG_KIND_RULE;
      if (persons->len == 0 || strcmp (g_array_index (persons, PersonCount, persons->len - 1).person,
                                       f->person_id) != 0)
        {
          PersonCount add = { f->person_id, { 0, 0, 0 }, 0 };
          g_array_append_val (persons, add);
        }
      pc = &g_array_index (persons, PersonCount, persons->len - 1);
      pc->n[strcmp (cls, "error") == 0 ? 0 : strcmp (cls, "warning") == 0 ? 1 : 2]++;
      if (f->urgent)
        {
          pc->urgent++;
          n_urgent++;
        }
    }
  *n_persons = persons->len;
  title = only_rules ? g_strdup_printf (TR (sp, N_("Questions about the clinical data of site %s")), site)
                     : g_strdup_printf (TR (sp, N_("Questions for site %s")), site);

  append_html (s, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>%s</title>\n",
               cu_translation_get_language (sp->tr), title);
  g_string_append_printf (s, "<style>%s</style>\n</head><body>\n", report_css);
  append_html (s, "<header><h1>%s</h1>\n", title);
  n_text = g_strdup_printf (TR (sp, N_("%u questions about %u patients · prepared on %s")),
                            flags->len, persons->len, date);
  append_html (s, "<p class=\"sub\">%s</p></header>\n", n_text);
  if (n_urgent > 0)
    {
      g_autofree char *urgent = g_strdup_printf (TR (sp, N_("Incidental findings that must reach the "
                                                            "treating physicians now: %u (marked "
                                                            "URGENT below).")), n_urgent);
      append_html (s, "<div class=\"alert\" role=\"alert\"><strong>%s</strong></div>\n", urgent);
    }

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
  if (!only_rules)
    append_html (s, "<li>%s</li>",
                 TR (sp, N_("Each question says what you are asked to do: answer it, send a fixed "
                            "copy of a series, confirm that an incidental finding reached the "
                            "treating physician, or fix your pseudonymization and send a study "
                            "again.")));
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

      append_html (s, "<tr><td><a href=\"#p-%s\">%s</a>%s%s</td><td class=\"n\">%s</td>"
                   "<td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n",
                   anchor, pc->person, pc->urgent ? " " : "", pc->urgent ? TR (sp, N_("URGENT")) : "",
                   n0, n1, n2);
    }
  g_string_append (s, "</table>\n");

  leftovers = collect_leftovers (sp, flags);
  append_leftovers (sp, s, leftovers);

  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      g_autofree char *current = f->variable != NULL
                                   ? cu_clinical_get_value (sp->store, f->person_id, f->variable) : NULL;
      g_autofree char *study = cu_store_study_date_iso (sp->store, f->study_uid);
      g_autofree char *series = series_label (sp, f->series_uid);
      g_autofree char *where = position_text (f);
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
      append_html (s, "<div class=\"q %s%s\" data-flag=\"%s\" data-kind=\"%s\"><h3><span class=\"num\">%s</span>",
                   cls, f->urgent ? " urgent" : "", number + strcspn (number, "0123456789"),
                   cu_flag_kind_to_string (f->kind), number);
      if (f->urgent)
        append_html (s, "<span class=\"tag\">%s</span>", TR (sp, N_("URGENT")));
      append_html (s, "<span class=\"sev %s\">%s</span><span>%s</span><span class=\"rule\">%s</span></h3>\n",
                   cls, severity_label (sp, f->severity), flag_title, f->rule_id);
      append_html (s, "<p class=\"msg\">%s</p>\n", message);
      if (f->kind != CU_FLAG_KIND_RULE)
        append_html (s, "<p class=\"todo\"><b>%s</b>%s</p>\n", TR (sp, N_("What to do:")), action_text (sp, f));
      g_string_append (s, "<dl>");
      if (f->variable != NULL)
        {
          append_html (s, "<dt>%s</dt><dd><code>%s</code></dd>", TR (sp, N_("Variable")), f->variable);
          append_html (s, "<dt>%s</dt><dd>%s</dd>", TR (sp, N_("Current value")),
                       current != NULL ? current : TR (sp, N_("(missing)")));
        }
      if (study != NULL)
        append_html (s, "<dt>%s</dt><dd>%s</dd>", TR (sp, N_("Imaging study of")), study);
      if (series != NULL)
        append_html (s, "<dt>%s</dt><dd>%s</dd>", TR (sp, N_("Series")), series);
      if (where != NULL)
        append_html (s, "<dt>%s</dt><dd>%s</dd>", TR (sp, N_("Position (LPS, mm)")), where);
      g_string_append (s, "</dl>\n");
      if ((f->kind == CU_FLAG_KIND_IMAGE || f->kind == CU_FLAG_KIND_INCIDENTAL
           || f->kind == CU_FLAG_KIND_QUESTION) && thumbnail (sp, s, f))
        n_pictures++;
      g_string_append (s, "<div class=\"reply\">");
      append_html (s, "<div class=\"line\"><span>%s</span><span class=\"blank\"></span></div>",
                   f->kind == CU_FLAG_KIND_INCIDENTAL ? TR (sp, N_("Passed on (date, by whom)"))
                                                      : TR (sp, N_("Answer")));
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
  if (n_thumbnails != NULL)
    *n_thumbnails = n_pictures;
  return g_string_free (s, FALSE);
}

char *
cu_flag_report_answers_csv (CuFlagReport *sp, GPtrArray *flags, const char *bundle_id)
{
  GString *s = g_string_new (NULL);

  g_string_append (s, "\xEF\xBB\xBF");   /* spreadsheets then open it as UTF-8 */
  for (guint c = 0; cu_flag_report_answer_columns[c] != NULL; c++)
    g_string_append_printf (s, "%s%s", c ? "," : "", cu_flag_report_answer_columns[c]);
  g_string_append (s, "\r\n");
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      g_autofree char *current = f->variable != NULL
                                   ? cu_clinical_get_value (sp->store, f->person_id, f->variable) : NULL;
      g_autofree char *date = cu_store_study_date_iso (sp->store, f->study_uid);
      g_autofree char *id = g_strdup_printf ("%lld", (long long) f->id);
      g_autofree char *series = series_label (sp, f->series_uid);
      g_autofree char *where = position_text (f);
      g_autofree char *title = NULL, *message = NULL;
      const char *fields[17];

      speak_flag (sp, f, &title, &message);
      fields[0] = bundle_id, fields[1] = id, fields[2] = f->person_id, fields[3] = date;
      fields[4] = f->rule_id, fields[5] = f->severity, fields[6] = f->variable, fields[7] = current;
      fields[8] = message, fields[9] = "", fields[10] = "", fields[11] = "";
      fields[12] = cu_flag_kind_to_string (f->kind), fields[13] = f->urgent ? "yes" : "";
      fields[14] = series, fields[15] = where, fields[16] = action_text (sp, f);
      G_STATIC_ASSERT (G_N_ELEMENTS (fields) + 1 == G_N_ELEMENTS (cu_flag_report_answer_columns));
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
    c = (int) b->urgent - (int) a->urgent;
  if (c == 0)
    c = severity_rank (a->severity) - severity_rank (b->severity);
  if (c == 0)
    c = a->id < b->id ? -1 : a->id > b->id;
  return c;
}

void
cu_flag_report_sort (GPtrArray *flags)
{
  g_ptr_array_sort (flags, compare_for_report);
}

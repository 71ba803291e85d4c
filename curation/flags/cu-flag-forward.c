/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-forward.c — a quality finding the curator sends on to the site as an image flag.
 *
 * The quality gate finds what is wrong with a series (slices missing, spacing that disagrees
 * with the header, motion) and what is missing from a study (a protocol series). Only the
 * site can send a corrected or missing series, so the curator forwards the finding: it
 * becomes an image flag, with the same lifecycle, bundle, thumbnails and fixed-copy matching
 * as an "ask the site" decision. One flag per series (or study) and finding code: forwarding
 * again refreshes its text instead of asking the site twice.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-flags-private.h"
#include "cu-store-flags.h"
#include "cu-store-qc.h"

#define FORWARD_RULE "qc-finding"

static gboolean
code_wanted (const char *const *codes, const CuQcFinding *f)
{
  if (codes == NULL || codes[0] == NULL)
    return f->severity != CU_QC_SEVERITY_INFO;   /* notes are not questions for the site */
  return g_strv_contains (codes, f->code);
}

/* One code's findings, in the order the gate gave them. */
typedef struct
{
  char *code;
  CuQcSeverity severity;   /* the worst */
  GString *text;
} Group;

static void
group_free (Group *g)
{
  g_free (g->code);
  g_string_free (g->text, TRUE);
  g_free (g);
}

/* A protocol finding is about one requirement of the protocol ("axial T2", "high b-value
 * DWI"): its group is "protocol:KEY", so that each requirement is its own question and closes
 * when that requirement is met, whatever else the study still lacks. */
static char *
group_code (const CuQcFinding *f, gboolean study_level)
{
  if (study_level)
    return g_strconcat (CU_QC_PROTOCOL ":", f->attribute != NULL ? f->attribute : "", NULL);
  return g_strdup (f->code);
}

static void
group_add (GPtrArray *groups, const CuQcFinding *f, gboolean study_level)
{
  g_autofree char *code = group_code (f, study_level);
  Group *g = NULL;

  for (guint i = 0; i < groups->len && g == NULL; i++)
    if (strcmp (((Group *) groups->pdata[i])->code, code) == 0)
      g = groups->pdata[i];
  if (g == NULL)
    {
      g = g_new0 (Group, 1);
      g->code = g_steal_pointer (&code);
      g->severity = f->severity;
      g->text = g_string_new (NULL);
      g_ptr_array_add (groups, g);
    }
  if (f->severity > g->severity)
    g->severity = f->severity;
  if (g->text->len > 0)
    g_string_append_c (g->text, '\n');
  if (study_level)
    /* TRANSLATORS: a finding about the study as a whole, forwarded to the site */
    g_string_append_printf (g->text, _("Study protocol: %s"), f->message);
  else if (f->slice >= 0)
    /* TRANSLATORS: a finding about one slice, forwarded to the site; %d is 1-based */
    g_string_append_printf (g->text, _("Slice %d: %s"), f->slice + 1, f->message);
  else
    g_string_append (g->text, f->message);
}

/* Whether codes name the protocol: "protocol" or "protocol:KEY". */
static gboolean
asks_protocol (const char *const *codes)
{
  const gsize n = strlen (CU_QC_PROTOCOL);

  for (guint i = 0; codes != NULL && codes[i] != NULL; i++)
    if (strncmp (codes[i], CU_QC_PROTOCOL, n) == 0 && (codes[i][n] == '\0' || codes[i][n] == ':'))
      return TRUE;
  return FALSE;
}

static const char *
severity_string (CuQcSeverity s)
{
  return s == CU_QC_SEVERITY_ERROR ? "error" : s == CU_QC_SEVERITY_WARNING ? "warning" : "info";
}

guint
cu_flags_forward_qc (CuStore *store, const char *series, const char *const *codes, const char *note,
                     GError **error)
{
  g_autofree char *uid = NULL;
  g_autoptr (CuSeriesRecord) rec = NULL;
  g_autoptr (CuQcReport) report = NULL;
  g_autoptr (GPtrArray) protocol = NULL;
  g_autoptr (GPtrArray) series_groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  g_autoptr (GPtrArray) study_groups = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);
  g_autofree char *trimmed = g_strstrip (g_strdup (note != NULL ? note : ""));
  const char *comment = _("raised by a quality finding the curator forwarded");
  guint n = 0;

  g_return_val_if_fail (CU_IS_STORE (store) && series != NULL, 0);

  uid = cu_store_resolve_series (store, series, error);
  if (uid == NULL || (rec = cu_store_get_series (store, uid, error)) == NULL)
    return 0;
  report = cu_store_qc_load (store, uid, error);
  if (report == NULL)
    return 0;
  for (guint i = 0; i < report->findings->len; i++)
    {
      const CuQcFinding *f = report->findings->pdata[i];
      if (code_wanted (codes, f))
        group_add (series_groups, f, FALSE);
    }
  /* The study's protocol findings ("missing: DWI b ≥ 1400") are forwarded only when asked
   * for by their code, "protocol" (all) or "protocol:KEY" (one requirement): they concern the
   * study, not the series shown. */
  if (rec->study_uid != NULL && asks_protocol (codes))
    {
      protocol = cu_store_qc_check_protocol (store, rec->study_uid, error);
      if (protocol == NULL)
        return 0;
      for (guint j = 0; j < protocol->len; j++)
        {
          const CuQcStudyConformance *c = protocol->pdata[j];
          for (guint k = 0; k < c->findings->len; k++)
            {
              const CuQcFinding *f = c->findings->pdata[k];
              g_autofree char *code = group_code (f, TRUE);
              if (f->severity != CU_QC_SEVERITY_INFO
                  && (g_strv_contains (codes, CU_QC_PROTOCOL) || g_strv_contains (codes, code)))
                group_add (study_groups, f, TRUE);
            }
        }
    }
  for (guint i = 0; codes != NULL && codes[i] != NULL; i++)
    {
      gboolean found = FALSE;
      for (guint k = 0; k < series_groups->len && !found; k++)
        found = strcmp (((Group *) series_groups->pdata[k])->code, codes[i]) == 0;
      for (guint k = 0; k < study_groups->len && !found; k++)
        found = strcmp (((Group *) study_groups->pdata[k])->code, codes[i]) == 0
                || strcmp (codes[i], CU_QC_PROTOCOL) == 0;
      if (!found)
        {
          g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                       _("The quality check of series %s has no finding “%s” to forward"),
                       uid, codes[i]);
          return 0;
        }
    }
  if (series_groups->len == 0 && study_groups->len == 0)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                   _("The quality check of series %s has no warning or error to forward"), uid);
      return 0;
    }

  if (!cu_store_begin_write (store, error))
    return 0;
  for (guint pass = 0; pass < 2; pass++)
    {
      GPtrArray *groups = pass == 0 ? series_groups : study_groups;
      for (guint i = 0; i < groups->len; i++)
        {
          Group *g = groups->pdata[i];
          g_autofree char *key = g_strjoin ("\x1f", FORWARD_RULE, pass == 0 ? uid : rec->study_uid,
                                            g->code, NULL);
          g_autofree char *message = NULL;
          g_autofree char *details = NULL;
          CuStoreFlagSpec spec = { 0 };

          if (trimmed[0] != '\0')
            /* TRANSLATORS: the findings, then the curator's note to the site */
            message = g_strdup_printf (_("%s\nCurator’s note: %s"), g->text->str, trimmed);
          else
            message = g_strdup (g->text->str);
          spec.kind = "image";
          spec.rule_id = FORWARD_RULE;
          spec.severity = severity_string (g->severity);
          spec.title = pass == 0 ? "Quality finding in a series" : "Protocol series missing or out of range";
          spec.key = key;
          spec.person_id = rec->patient_id;
          spec.study_uid = rec->study_uid;
          spec.series_uid = pass == 0 ? uid : NULL;
          spec.message = message;
          if (pass == 1)
            {
              /* What closes it: the requirement met (cu_flags_match_fixed_copies). */
              g_autoptr (JsonBuilder) b = json_builder_new ();
              g_autoptr (JsonNode) root = NULL;

              json_builder_begin_object (b);
              json_builder_set_member_name (b, "requirement");
              json_builder_add_string_value (b, g->code + strlen (CU_QC_PROTOCOL ":"));
              json_builder_end_object (b);
              root = json_builder_get_root (b);
              details = json_to_string (root, FALSE);
              spec.details = details;
            }
          if (cu_store_flag_raise (store, &spec, comment, NULL, error) == 0)
            {
              cu_store_rollback (store);
              return 0;
            }
          n++;
        }
    }
  if (!cu_store_commit (store, error))
    {
      cu_store_rollback (store);
      return 0;
    }
  return n;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-qc.c — curata-cli qc [SERIES…] and curata-cli decide SERIES --state S --reason TEXT.
 *
 * qc runs every check and metric of the quality gate on the given series (all catalogued
 * series when none is given), stores the results in the workspace and prints them; --stored
 * prints what was stored without running again. Exit status 3 when any series has a finding
 * of error severity, 2 when a series could not be checked at all.
 *
 * decide records a curator's decision (audited). Series that are not accepted cannot be
 * opened for annotation.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
add_report_json (JsonBuilder *b, const CuQcReport *r, const CuQcDecision *d)
{
  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "series_uid", r->series_uid);
  cu_cli_json_set_string (b, "modality", r->modality);
  cu_cli_json_set_string (b, "sequence", r->sequence);
  cu_cli_json_set_string (b, "plane", r->plane);
  cu_cli_json_set_string (b, "scanner", r->scanner);
  cu_cli_json_set_string (b, "stack", r->stack_label);
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, r->n_errors);
  json_builder_set_member_name (b, "warnings");
  json_builder_add_int_value (b, r->n_warnings);
  json_builder_set_member_name (b, "info");
  json_builder_add_int_value (b, r->n_info);
  json_builder_set_member_name (b, "mask_threshold");
  if (isfinite (r->mask_threshold))
    json_builder_add_double_value (b, r->mask_threshold);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "findings");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->findings->len; i++)
    {
      const CuQcFinding *f = r->findings->pdata[i];
      g_autofree char *display = f->path != NULL ? g_filename_display_name (f->path) : NULL;
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "code", f->code);
      cu_cli_json_set_string (b, "severity", cu_qc_severity_to_string (f->severity));
      cu_cli_json_set_string (b, "message", f->message);
      json_builder_set_member_name (b, "slice");
      if (f->slice >= 0)
        json_builder_add_int_value (b, f->slice + 1);
      else
        json_builder_add_null_value (b);
      cu_cli_json_set_string (b, "attribute", f->attribute);
      cu_cli_json_set_string (b, "path", display);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "metrics");
  json_builder_begin_object (b);
  for (guint i = 0; i < r->metrics->len; i++)
    {
      const CuQcMetric *m = &g_array_index (r->metrics, CuQcMetric, i);
      json_builder_set_member_name (b, m->name);
      if (isfinite (m->value))
        json_builder_add_double_value (b, m->value);
      else
        json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "decision");
  json_builder_begin_object (b);
  cu_cli_json_set_string (b, "state", cu_qc_decision_to_string (d != NULL ? d->state : CU_QC_DECISION_NOT_REVIEWED));
  cu_cli_json_set_string (b, "reason", d != NULL ? d->reason : NULL);
  cu_cli_json_set_string (b, "user", d != NULL ? d->user : NULL);
  cu_cli_json_set_string (b, "time", d != NULL ? d->time : NULL);
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
print_report (const CuQcReport *r, const CuQcDecision *d)
{
  g_autofree char *counts = cu_cli_counts (r->n_errors, r->n_warnings, r->n_info);

  printf ("%s\n", r->series_uid);
  /* TRANSLATORS: e.g. "  MR T2W axial (axial, 24 slices) — 0 errors, 1 warning, 0 notes — Not reviewed" */
  printf (_("  %s %s %s (%s) — %s — %s\n"),
          r->modality ? r->modality : "?", r->sequence ? r->sequence : "", r->plane ? r->plane : "",
          r->stack_label ? r->stack_label : "", counts,
          cu_qc_decision_to_label (d != NULL ? d->state : CU_QC_DECISION_NOT_REVIEWED));
  for (guint i = 0; i < r->findings->len; i++)
    {
      const CuQcFinding *f = r->findings->pdata[i];
      g_autofree char *where = f->slice >= 0 ? g_strdup_printf (_("slice %d"), f->slice + 1)
                                             : g_strdup (f->attribute ? f->attribute : "–");
      printf ("  %-8s %-28s %-22s %s\n", cu_qc_severity_to_label (f->severity), f->code, where,
              f->message);
    }
  if (r->metrics->len > 0)
    {
      printf ("  ");
      for (guint i = 0; i < r->metrics->len; i++)
        {
          const CuQcMetric *m = &g_array_index (r->metrics, CuQcMetric, i);
          printf ("%s=%.4g%s", m->name, m->value, i + 1 < r->metrics->len ? " " : "\n");
        }
    }
}

/* qc --cohort: robust outliers of the stored metrics, per sequence type. */
static int
print_cohort (CuStore *store, double threshold, gboolean json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) outliers = cu_store_qc_cohort_outliers (store, threshold, &error);

  if (outliers == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "threshold");
      json_builder_add_double_value (b, threshold);
      json_builder_set_member_name (b, "outliers");
      json_builder_begin_array (b);
      for (guint i = 0; i < outliers->len; i++)
        {
          const CuQcOutlier *o = outliers->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "series_uid", o->series_uid);
          cu_cli_json_set_string (b, "sequence", o->sequence);
          cu_cli_json_set_string (b, "scanner", o->scanner);
          cu_cli_json_set_string (b, "metric", o->metric);
          json_builder_set_member_name (b, "value");
          json_builder_add_double_value (b, o->value);
          json_builder_set_member_name (b, "median");
          json_builder_add_double_value (b, o->median);
          json_builder_set_member_name (b, "z");
          json_builder_add_double_value (b, o->z);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      if (outliers->len == 0)
        printf (_("No outliers (|z| > %.1f) among the checked series\n"), threshold);
      for (guint i = 0; i < outliers->len; i++)
        {
          const CuQcOutlier *o = outliers->pdata[i];
          /* TRANSLATORS: series, sequence type, metric, value, median of its group, robust z */
          printf (_("%s  %-5s %-8s %.4g (median %.4g, z = %+.1f)  %s\n"), o->series_uid,
                  o->sequence ? o->sequence : "", o->metric, o->value, o->median, o->z,
                  o->scanner ? o->scanner : "");
        }
    }
  return outliers->len > 0 ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

int
cu_cli_qc (CuCli *cli, int argc, char **argv)
{
  gboolean json = FALSE, stored = FALSE, cohort = FALSE;
  double threshold = CU_QC_OUTLIER_Z;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "stored", 0, 0, G_OPTION_ARG_NONE, &stored, N_("Print the stored results without checking again"), NULL },
    { "cohort", 0, 0, G_OPTION_ARG_NONE, &cohort,
      N_("Print the series whose metrics are robust outliers (median/MAD z-score) within their sequence type"), NULL },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, N_("|z| above which a series is an outlier (3.5)"), N_("Z") },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("qc", _("[SERIES…]"),
                           N_("Check series (all when none is given): geometry, completeness, decoding, "
                              "consistency and image quality metrics. Exit status 3 when a finding of "
                              "error severity exists."),
                           entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) uids = g_ptr_array_new_with_free_func (g_free);
  /* Whole workspace: series without images (SR, RT structures, SEG, waveforms…) are outside
   * the image checks; they are listed as skipped, and do not make the run an error. A series
   * named on the command line is checked whatever it is, so asking for an SR still says why it
   * cannot be checked. */
  g_autoptr (GPtrArray) skipped = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_summary_free);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (CuProgress) progress = NULL;
  int status = CU_CLI_EXIT_OK;
  gboolean any_error_finding = FALSE;

  if (!cu_cli_parse (context, "qc", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (cohort)
    return print_cohort (store, threshold, json);

  if (argc > 1)
    for (int i = 1; i < argc; i++)
      {
        g_autoptr (GError) error = NULL;
        char *uid = cu_store_resolve_series (store, argv[i], &error);
        if (uid == NULL)
          {
            cu_cli_error (NULL, "%s", error->message);
            return CU_CLI_EXIT_ERROR;
          }
        g_ptr_array_add (uids, uid);
      }
  else
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) list = cu_store_qc_list (store, &error);
      if (list == NULL)
        {
          cu_cli_error (NULL, "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
      for (guint i = 0; i < list->len; i++)
        {
          CuQcSummary *s = list->pdata[i];
          if (s->has_images)
            g_ptr_array_add (uids, g_strdup (s->series_uid));
          else
            g_ptr_array_add (skipped, g_steal_pointer (&list->pdata[i]));
        }
    }

  progress = cu_cli_progress_new (cli);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "series");
  json_builder_begin_array (b);
  for (guint i = 0; i < uids->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CuQcReport) r = NULL;
      g_autoptr (CuQcDecision) d = NULL;
      const char *uid = uids->pdata[i];

      r = stored ? cu_store_qc_load (store, uid, &error)
                 : cu_store_qc_run (store, uid, progress, cli->cancellable, &error);
      if (r == NULL)
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              cu_cli_progress_done (cli);
              cu_cli_error (NULL, "%s", error->message);
              return CU_CLI_EXIT_ERROR;
            }
          /* One series that cannot be checked does not hide the others. */
          cu_cli_error (NULL, "%s: %s", uid, error->message);
          status = CU_CLI_EXIT_ERROR;
          continue;
        }
      d = cu_store_qc_get_decision (store, uid, NULL);
      if (r->n_errors > 0)
        any_error_finding = TRUE;
      if (json)
        add_report_json (b, r, d);
      else
        print_report (r, d);
    }
  cu_cli_progress_done (cli);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "skipped");
  json_builder_begin_array (b);
  for (guint i = 0; i < skipped->len; i++)
    {
      const CuQcSummary *s = skipped->pdata[i];
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "series_uid", s->series_uid);
      cu_cli_json_set_string (b, "modality", s->modality);
      cu_cli_json_set_string (b, "reason", "no-images");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  if (!json)
    for (guint i = 0; i < skipped->len; i++)
      {
        const CuQcSummary *s = skipped->pdata[i];
        /* Translators: a series the quality checks do not apply to; %s: UID, then modality */
        printf (_("%s\n  %s — no images to check, skipped\n"), s->series_uid,
                s->modality != NULL ? s->modality : "?");
      }
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  if (status != CU_CLI_EXIT_OK)
    return status;
  return any_error_finding ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

int
cu_cli_decide (CuCli *cli, int argc, char **argv)
{
  g_autofree char *state_text = NULL;
  g_autofree char *reason = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "state", 's', 0, G_OPTION_ARG_STRING, &state_text,
      N_("accepted, accepted-remark, rejected, ask-site or not-reviewed"), N_("STATE") },
    { "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, N_("Why (required except for accepted)"), N_("TEXT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("decide", _("SERIES --state STATE [--reason TEXT]"),
                           N_("Record the quality decision on a series (kept in the audit log). Only "
                              "accepted series can be opened for annotation."),
                           entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uid = NULL;
  g_autoptr (CuQcDecision) d = NULL;
  CuQcDecisionState state;

  if (!cu_cli_parse (context, "decide", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("decide", _("Give exactly one series"));
      return CU_CLI_EXIT_USAGE;
    }
  if (state_text == NULL || !cu_qc_decision_from_string (state_text, &state))
    {
      cu_cli_usage_error ("decide", _("--state must be one of accepted, accepted-remark, rejected, ask-site, not-reviewed"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  uid = cu_store_resolve_series (store, argv[1], &error);
  if (uid == NULL || !cu_store_qc_decide (store, uid, state, reason, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID) ? CU_CLI_EXIT_USAGE
                                                                               : CU_CLI_EXIT_ERROR;
    }
  d = cu_store_qc_get_decision (store, uid, NULL);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "series_uid", uid);
      cu_cli_json_set_string (b, "state", cu_qc_decision_to_string (d->state));
      cu_cli_json_set_string (b, "reason", d->reason);
      cu_cli_json_set_string (b, "user", d->user);
      cu_cli_json_set_string (b, "time", d->time);
      json_builder_set_member_name (b, "can_annotate");
      json_builder_add_boolean_value (b, cu_store_series_can_annotate (store, uid));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    printf (_("%s: %s (by %s at %s)\n"), uid, cu_qc_decision_to_label (d->state), d->user, d->time);
  return CU_CLI_EXIT_OK;
}

int
cu_cli_protocol (CuCli *cli, int argc, char **argv)
{
  g_autofree char *set = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "set", 0, 0, G_OPTION_ARG_FILENAME, &set,
      N_("Choose the workspace's protocol: a built-in id or a protocol file"), N_("PROTOCOL") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("protocol", _("[STUDY]"),
                           N_("Check that studies have the series their protocol requires, with the "
                              "minimum technical parameters (from the stored quality checks: run "
                              "“qc” first). Exit status 3 when a requirement is not met."),
                           entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = NULL;
  g_autofree char *which = NULL;
  g_autoptr (CuQcProtocol) protocol = NULL;
  gboolean problems = FALSE;

  if (!cu_cli_parse (context, "protocol", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc > 2)
    {
      cu_cli_usage_error ("protocol", _("Give at most one study"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (set != NULL && !cu_store_qc_set_protocol (store, set, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  which = cu_store_qc_get_protocol (store);
  protocol = cu_qc_protocol_load (which, &error);
  results = protocol != NULL ? cu_store_qc_check_protocol (store, argc > 1 ? argv[1] : NULL, &error) : NULL;
  if (results == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "protocol", cu_qc_protocol_get_id (protocol));
      cu_cli_json_set_string (b, "name", cu_qc_protocol_get_name (protocol));
      json_builder_set_member_name (b, "studies");
      json_builder_begin_array (b);
      for (guint i = 0; i < results->len; i++)
        {
          const CuQcStudyConformance *c = results->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "study_uid", c->study_uid);
          cu_cli_json_set_string (b, "patient_id", c->patient_id);
          json_builder_set_member_name (b, "errors");
          json_builder_add_int_value (b, c->n_errors);
          json_builder_set_member_name (b, "findings");
          json_builder_begin_array (b);
          for (guint k = 0; k < c->findings->len; k++)
            {
              const CuQcFinding *f = c->findings->pdata[k];
              json_builder_begin_object (b);
              cu_cli_json_set_string (b, "requirement", f->attribute);
              cu_cli_json_set_string (b, "severity", cu_qc_severity_to_string (f->severity));
              cu_cli_json_set_string (b, "message", f->message);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
          problems |= c->n_errors > 0;
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      printf (_("Protocol: %s\n"), cu_qc_protocol_get_name (protocol));
      for (guint i = 0; i < results->len; i++)
        {
          const CuQcStudyConformance *c = results->pdata[i];
          g_autofree char *counts = cu_cli_counts (c->n_errors, c->n_warnings, -1);

          printf (_("%s (%s): %s\n"), c->study_uid, c->patient_id ? c->patient_id : "–", counts);
          for (guint k = 0; k < c->findings->len; k++)
            {
              const CuQcFinding *f = c->findings->pdata[k];
              printf ("  %-8s %s\n", cu_qc_severity_to_label (f->severity), f->message);
            }
          problems |= c->n_errors > 0;
        }
    }
  return problems ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-harmonize-report.c — curata-cli harmonize --report --sequence TYPE [--method M]:
 * the site effect of a cohort before and after harmonization (cu-site-report.h), as text or
 * JSON, and as a picture (SVG and PNG) in --out DIR.
 *
 * Exit status 3 when a feature whose sites differed before (p < 0.05) still differs after
 * harmonization: the harmonization did not remove that site effect, and says so.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-cli.h"
#include "cu-site-report-plot.h"

int
cu_cli_harmonize_report (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuSiteReport) report = NULL;
  g_autoptr (CuProgress) progress = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *sequence = NULL, *method = NULL, *site_by_s = NULL, *out = NULL;
  gboolean json = FALSE, report_flag = FALSE;
  CuSiteBy site_by = CU_SITE_BY_PATIENT_PREFIX;
  int status = CU_CLI_EXIT_OK;
  const GOptionEntry entries[] = {
    { "report", 0, 0, G_OPTION_ARG_NONE, &report_flag, N_("The report (this command)"), NULL },
    { "sequence", 0, 0, G_OPTION_ARG_STRING, &sequence,
      N_("The cohort: series of this sequence type (T2W, T1W, ADC…)"), N_("TYPE") },
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method,
      N_("Compare with the series harmonized by this method (zscore, nyul, whitestripe, n4, "
         "resample)"), N_("METHOD") },
    { "site-by", 0, 0, G_OPTION_ARG_STRING, &site_by_s,
      N_("What a site is: patient (the pseudonym's prefix before “-”, the default) or scanner"),
      N_("KIND") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out,
      N_("Write harmonize-report.json, .svg and .png into this folder"), N_("DIR") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the report as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("harmonize", _("--report --sequence TYPE [--method METHOD]"),
                                   N_("The site effect of a cohort before and after "
                                      "harmonization: per feature (MRQy quality metrics, "
                                      "foreground median, percentiles, IQR) the values per "
                                      "site, Kruskal–Wallis H across sites with its p-value, "
                                      "and the share of variance explained by site. Exit "
                                      "status 3 when a site effect remains after "
                                      "harmonization."),
                                   entries);
  if (!cu_cli_parse (context, "harmonize", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (sequence == NULL || argc != 1)
    {
      cu_cli_usage_error ("harmonize", _("--report needs --sequence TYPE and no SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if (site_by_s != NULL)
    {
      if (strcmp (site_by_s, "scanner") == 0)
        site_by = CU_SITE_BY_SCANNER;
      else if (strcmp (site_by_s, "patient") != 0)
        {
          cu_cli_usage_error ("harmonize", _("--site-by takes patient or scanner."));
          return CU_CLI_EXIT_USAGE;
        }
    }
  {
    CuHarmonizeMethod m;
    if (method != NULL && !cu_harmonize_method_from_string (method, &m))
      {
        cu_cli_usage_error ("harmonize", _("Give --method n4, resample, zscore, nyul or whitestripe."));
        return CU_CLI_EXIT_USAGE;
      }
  }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  progress = cu_cli_progress_new (cli);
  report = cu_site_report_build (store, sequence, method, site_by, progress, cli->cancellable,
                                 &error);
  cu_cli_progress_done (cli);
  if (report == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  for (guint f = 0; f < report->features->len; f++)
    {
      CuSiteReportFeature *feat = report->features->pdata[f];
      if (report->after->len > 0 && cu_site_report_feature_remains (feat))
        status = CU_CLI_EXIT_PROBLEMS;
    }
  if (out != NULL)
    {
      g_autofree char *jpath = g_build_filename (out, "harmonize-report.json", NULL);
      g_autofree char *spath = g_build_filename (out, "harmonize-report.svg", NULL);
      g_autofree char *ppath = g_build_filename (out, "harmonize-report.png", NULL);
      g_autofree char *text = cu_site_report_to_json (report);

      if (g_mkdir_with_parents (out, 0755) != 0)
        {
          cu_cli_error (out, "%s", g_strerror (errno));
          return CU_CLI_EXIT_ERROR;
        }
      if (!g_file_set_contents (jpath, text, -1, &error) ||
          !cu_site_report_plot_write (report, spath, ppath, &error))
        {
          cu_cli_error (NULL, "%s", error->message);
          return CU_CLI_EXIT_ERROR;
        }
    }
  if (json)
    {
      g_autofree char *text = cu_site_report_to_json (report);
      g_autoptr (JsonNode) root = json_from_string (text, NULL);
      cu_cli_print_json (root);
      return status;
    }
  /* Translators: the heading of the harmonization report: sequence, number of series, sites */
  printf (_("Cohort %s: %u series at %u sites"), sequence, report->before->len,
          report->sites->len);
  if (method != NULL)
    printf (_(", %u harmonized by %s"), report->after->len, method);
  printf ("\n");
  for (guint f = 0; f < report->features->len; f++)
    {
      CuSiteReportFeature *feat = report->features->pdata[f];
      printf ("  %-8s H %7.2f p %-9.3g η² %.3f", feat->name, feat->h_before, feat->p_before,
              feat->eta2_before);
      if (report->after->len > 0)
        printf ("  →  H %7.2f p %-9.3g η² %.3f  %s", feat->h_after, feat->p_after,
                feat->eta2_after,
                !(feat->p_before < 0.05) ? _("no site effect before")
                : cu_site_report_feature_reduced (feat) ? _("site effect removed")
                : _("SITE EFFECT REMAINS"));
      printf ("\n");
    }
  return status;
}

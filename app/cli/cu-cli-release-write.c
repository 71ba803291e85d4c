/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-release-write.c — curata-cli release write NAME --out DIR [--layout nnunet] [--json]:
 * write a checked release as one package (cu-release-writer.h).
 *
 * What is held back is printed first (the plan, as `release check` shows it), then the
 * package is written. Ctrl-C cancels: nothing is left at DIR and the ledger is unchanged.
 * Exit status: 0 the package was written and nothing of the release's items was held back;
 * 3 it was written and some items were held back (listed); 2 nothing was written (an error,
 * DIR exists, the release was written already, nothing passes the gate, cancelled).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static void
print_holds (GPtrArray *holds, const char *indent)
{
  for (guint i = 0; holds != NULL && i < holds->len; i++)
    {
      const CuReleaseHold *h = holds->pdata[i];
      g_autofree char *message = cu_cli_escape (h->message);

      /* Translators: one reason an item of a release stays: "held (qc-rejected): message" */
      printf (_("%sheld (%s): %s\n"), indent, cu_release_hold_kind_to_string (h->kind), message);
    }
}

/* Only what is held, patient by patient (`release check` shows everything). */
static void
print_plan_holds (const CuReleasePlan *plan)
{
  for (guint i = 0; i < plan->patients->len; i++)
    {
      const CuReleasePatientPlan *pp = plan->patients->pdata[i];
      gboolean patient_shown = FALSE;

#define SHOW_PATIENT() \
      if (!patient_shown) \
        { \
          g_autofree char *id = cu_cli_escape (pp->patient_id != NULL ? pp->patient_id : ""); \
          printf (_("Held back of patient %s:\n"), id); \
          patient_shown = TRUE; \
        }
      if (pp->holds != NULL && pp->holds->len > 0)
        {
          SHOW_PATIENT ();
          print_holds (pp->holds, "  ");
        }
      for (guint s = 0; s < pp->studies->len; s++)
        {
          const CuReleaseStudyPlan *st = pp->studies->pdata[s];

          if (st->holds != NULL && st->holds->len > 0)
            {
              SHOW_PATIENT ();
              printf (_("  of study %s:\n"), st->study_uid);
              print_holds (st->holds, "    ");
            }
          for (guint k = 0; k < st->series->len; k++)
            {
              const CuReleaseSeriesPlan *sp = st->series->pdata[k];

              if (sp->go || sp->holds == NULL || sp->holds->len == 0)
                continue;
              SHOW_PATIENT ();
              printf (_("  of series %s:\n"), sp->series_uid);
              print_holds (sp->holds, "    ");
            }
        }
#undef SHOW_PATIENT
    }
}

static gboolean
parse_layout (const char *text, CuReleaseLayout *layout)
{
  *layout = CU_RELEASE_LAYOUT_DICOM;
  if (text == NULL || strcmp (text, "dicom") == 0)
    return TRUE;
  if (strcmp (text, "nnunet") == 0)
    {
      *layout = CU_RELEASE_LAYOUT_NNUNET;
      return TRUE;
    }
  return FALSE;
}

int
cu_cli_release_write (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuReleasePlan) plan = NULL;
  g_autoptr(CuReleaseWriteReport) report = NULL;
  g_autoptr(CuProgress) progress = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *layout_text = NULL;
  CuReleaseLayout layout;
  gboolean json = FALSE;
  gboolean held;
  const GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      N_("Folder to write the package to (must not exist)"), N_("DIR") },
    { "layout", 0, 0, G_OPTION_ARG_STRING, &layout_text,
      N_("Also write a training layout: nnunet (imagesTr/labelsTr NIfTI and dataset.json)"),
      N_("LAYOUT") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the plan and the result as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("release write", _("NAME --out DIR"),
                                   N_("Write a release as one package: the images anonymized "
                                      "(or pseudonymized, as the release's mode says), derived "
                                      "series with their provenance, segmentations as DICOM SEG "
                                      "and SR, the clinical data re-keyed and date-shifted, and "
                                      "manifest.json with every file's SHA-256. The gate is "
                                      "checked again first; what is held back is listed and the "
                                      "exit status is then 3. DIR must not exist; a failure or "
                                      "Ctrl-C leaves nothing there, and the ledger records the "
                                      "release only once the package is complete."),
                                   entries);
  if (!cu_cli_parse (context, "release write", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("release write", _("Give the name of one release."));
      return CU_CLI_EXIT_USAGE;
    }
  if (out_dir == NULL || *out_dir == '\0')
    {
      cu_cli_usage_error ("release write", _("No output folder: give --out DIR."));
      return CU_CLI_EXIT_USAGE;
    }
  if (!parse_layout (layout_text, &layout))
    {
      cu_cli_usage_error ("release write", _("Unknown layout “%s”: the layout is nnunet."),
                          layout_text);
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;

  /* The plan first, so that the curator sees what stays before anything is written (the
   * writer checks again: nothing decided in between slips through). */
  plan = cu_release_check (store, argv[1], NULL, cli->cancellable, &error);
  if (plan == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  held = cu_release_plan_has_holds (plan);
  if (!json)
    print_plan_holds (plan);
  fflush (stdout);

  progress = cu_cli_progress_new (cli);
  report = cu_release_write (store, argv[1], out_dir, layout, progress, cli->cancellable, &error);
  cu_cli_progress_done (cli);
  if (report == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cu_cli_error (NULL, _("Release cancelled: nothing was written to %s."), out_dir);
      else
        cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *display = g_filename_display_name (report->out_dir);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "out");
      json_builder_add_string_value (b, display);
      json_builder_set_member_name (b, "manifest_sha256");
      json_builder_add_string_value (b, report->manifest_sha256);
#define COUNT(name, value) \
      json_builder_set_member_name (b, name); json_builder_add_int_value (b, value)
      COUNT ("patients", report->n_patients);
      COUNT ("studies", report->n_studies);
      COUNT ("series", report->n_series);
      COUNT ("instances", report->n_instances);
      COUNT ("seg", report->n_seg);
      COUNT ("sr", report->n_sr);
      COUNT ("clinical_rows", report->n_clinical_rows);
#undef COUNT
      json_builder_set_member_name (b, "plan");
      json_builder_add_value (b, cu_release_plan_to_json (plan));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      g_autofree char *display = g_filename_display_name (report->out_dir);

      /* Translators: summary of a written release. */
      printf (_("%u patients, %u studies, %u series, %u images, %u segmentations, %u reports "
                "written to %s\n"), report->n_patients, report->n_studies, report->n_series,
              report->n_instances, report->n_seg, report->n_sr, display);
      printf (_("manifest.json SHA-256: %s\n"), report->manifest_sha256);
    }
  return held ? CU_CLI_EXIT_PROBLEMS : CU_CLI_EXIT_OK;
}

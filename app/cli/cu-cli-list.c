/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-list.c — curata-cli list: patients → studies → series, with counts.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

/* cu_store_list_series orders by patient, then study: consecutive records of one patient
 * (and one study) form a group. */
static gboolean
same_patient (const CuSeriesRecord *a, const CuSeriesRecord *b)
{
  return g_strcmp0 (a->patient_id, b->patient_id) == 0
         && g_strcmp0 (a->patient_name, b->patient_name) == 0;
}

static gboolean
same_study (const CuSeriesRecord *a, const CuSeriesRecord *b)
{
  return same_patient (a, b) && g_strcmp0 (a->study_uid, b->study_uid) == 0;
}

static void
set_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
print_json (GPtrArray *records)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  guint i = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "patients");
  json_builder_begin_array (b);
  while (i < records->len)
    {
      const CuSeriesRecord *p = records->pdata[i];

      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "patient_id", p->patient_id);
      cu_cli_json_set_string (b, "patient_name", p->patient_name);
      json_builder_set_member_name (b, "studies");
      json_builder_begin_array (b);
      while (i < records->len && same_patient (p, records->pdata[i]))
        {
          const CuSeriesRecord *st = records->pdata[i];

          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "study_uid", st->study_uid);
          cu_cli_json_set_string (b, "study_date", st->study_date);
          cu_cli_json_set_string (b, "description", st->study_description);
          cu_cli_json_set_string (b, "gate", cu_gate_state_to_string (st->study_gate));
          json_builder_set_member_name (b, "series");
          json_builder_begin_array (b);
          for (; i < records->len && same_study (st, records->pdata[i]); i++)
            {
              const CuSeriesRecord *se = records->pdata[i];

              json_builder_begin_object (b);
              cu_cli_json_set_string (b, "series_uid", se->series_uid);
              set_int (b, "series_number", se->series_number);
              cu_cli_json_set_string (b, "modality", se->modality);
              cu_cli_json_set_string (b, "description", se->series_description);
              set_int (b, "instances", se->n_instances);
              set_int (b, "rows", se->rows);
              set_int (b, "columns", se->columns);
              set_int (b, "frames", se->number_of_frames);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  cu_cli_print_json (root);
}

/* A value as shown: "–" when empty, its control characters made visible (a UID or a
 * description from a site's file may hold ESC sequences or newlines). */
static char *
shown (const char *s)
{
  return s != NULL && *s != '\0' ? cu_cli_escape (s) : g_strdup ("–");
}

static void
print_text (GPtrArray *records)
{
  guint n_patients = 0, n_studies = 0, i = 0;

  while (i < records->len)
    {
      const CuSeriesRecord *p = records->pdata[i];
      g_autofree char *patient_id = shown (p->patient_id);
      g_autofree char *patient_name = shown (p->patient_name);

      n_patients++;
      printf (_("Patient %s (%s)\n"), patient_id, patient_name);
      while (i < records->len && same_patient (p, records->pdata[i]))
        {
          const CuSeriesRecord *st = records->pdata[i];
          g_autofree char *study_date = shown (st->study_date);
          g_autofree char *study_description = shown (st->study_description);
          g_autofree char *study_uid = shown (st->study_uid);

          n_studies++;
          /* Translators: study line: date, description, UID, gate state ("Quarantined"…). */
          printf (_("  Study %s  %s  %s  [%s]\n"), study_date, study_description, study_uid,
                  cu_gate_state_to_label (st->study_gate));
          for (; i < records->len && same_study (st, records->pdata[i]); i++)
            {
              const CuSeriesRecord *se = records->pdata[i];
              g_autofree char *number = se->series_number >= 0 ? g_strdup_printf ("%d", se->series_number)
                                                                : g_strdup ("–");

              /* Objects without pixels (SR, RTSTRUCT…) have no matrix size. */
              g_autofree char *size = se->rows > 0 ? g_strdup_printf ("%dx%d", se->columns, se->rows)
                                                   : g_strdup ("–");

              g_autofree char *modality = shown (se->modality);
              g_autofree char *series_description = shown (se->series_description);
              g_autofree char *series_uid = shown (se->series_uid);

              /* Translators: series number, modality, description, instance count, size, UID. */
              printf (_("    #%-4s %-8s %-32s %5d instances  %s  %s\n"), number, modality,
                      series_description, se->n_instances, size, series_uid);
            }
        }
    }
  {
    /* Translators: list summary, part 1 of 3 */
    g_autofree char *p = g_strdup_printf (ngettext ("%u patient", "%u patients", n_patients),
                                          n_patients);
    /* Translators: list summary, part 2 of 3 */
    g_autofree char *st = g_strdup_printf (ngettext ("%u study", "%u studies", n_studies),
                                           n_studies);
    /* Translators: list summary, part 3 of 3 */
    g_autofree char *se = g_strdup_printf (ngettext ("%u series", "%u series", records->len),
                                           records->len);
    /* Translators: list summary: "1 patient, 2 studies, 5 series" */
    printf (_("%s, %s, %s\n"), p, st, se);
  }
}

int
cu_cli_list (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the list as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("list", NULL,
                                   N_("List the patients, studies and series of the workspace, "
                                      "with the number of instances of each series."),
                                   entries);
  if (!cu_cli_parse (context, "list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc > 1)
    {
      cu_cli_usage_error ("list", _("Unexpected argument “%s”."), argv[1]);
      return CU_CLI_EXIT_USAGE;
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  records = cu_store_list_series (store, &error);
  if (records == NULL)
    {
      cu_cli_error (cu_store_get_path (store), "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }

  if (json)
    print_json (records);
  else
    print_text (records);
  return CU_CLI_EXIT_OK;
}

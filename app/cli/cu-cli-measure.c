/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-measure.c — the measurements readers keep on a series (cu-store-measure.h):
 *   measure add SERIES --kind ruler|ellipse|angle|arrow --points "x,y,z;x,y,z[;x,y,z]"
 *               [--text T] [--frame N] [--label V] [--reader R] [--json]
 *   measure edit ID [--points …] [--text T] [--frame N] [--label V] [--json]
 *   measure list [SERIES] [--reader R] [--json]
 *   measure remove ID
 *   measure export [SERIES] [--reader R] --format json|csv [--out FILE]
 * Points are in patient coordinates (LPS, mm). An ellipse's statistics are computed from the
 * series' pixels when it is added or edited, as the GUI does, and kept with it.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu-cli.h"

/* "x,y,z;x,y,z…" into m's points. */
static gboolean
parse_points (CuMeasurement *m, const char *text, GError **error)
{
  g_auto (GStrv) pts = g_strsplit (text, ";", -1);
  guint n = g_strv_length (pts);

  if (n == 0 || n > 3)
    goto bad;
  for (guint p = 0; p < n; p++)
    {
      g_auto (GStrv) xyz = g_strsplit (pts[p], ",", -1);
      if (g_strv_length (xyz) != 3)
        goto bad;
      for (int i = 0; i < 3; i++)
        {
          char *end = NULL;
          g_strstrip (xyz[i]);
          errno = 0;
          m->points[p][i] = g_ascii_strtod (xyz[i], &end);
          if (end == xyz[i] || *end != '\0' || errno != 0)
            goto bad;
        }
    }
  m->n_points = n;
  return TRUE;
bad:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("--points takes up to three points “x,y,z” separated by “;” (LPS, mm), not “%s”"),
               text);
  return FALSE;
}

static void
print_measurement (const CuMeasurement *m)
{
  g_autofree char *what = cu_measurement_describe (m);
  g_autofree char *reader = cu_cli_escape (m->reader);
  g_autofree char *text = m->text != NULL ? cu_cli_escape (m->text) : NULL;

  printf ("#%" G_GINT64_FORMAT "  %s  %s  %s", m->id, m->series_uid, reader, what);
  if (text != NULL && m->kind != CU_MEASURE_ARROW)
    printf ("  “%s”", text);
  printf ("\n");
}

static int
print_json_list (GPtrArray *list)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  cu_measurements_build_json (b, list);
  root = json_builder_get_root (b);
  cu_cli_print_json (root);
  return CU_CLI_EXIT_OK;
}

static int
print_one (CuMeasurement *m, gboolean json)
{
  if (json)
    {
      g_autoptr (GPtrArray) one = g_ptr_array_new ();
      g_ptr_array_add (one, m);
      return print_json_list (one);
    }
  print_measurement (m);
  return CU_CLI_EXIT_OK;
}

/* The results of m from the series' pixels (an ellipse) or its points. */
static gboolean
compute (CuStore *store, CuMeasurement *m, GError **error)
{
  g_autoptr (CuVolume) volume = NULL;

  if (m->kind == CU_MEASURE_ELLIPSE)
    {
      g_autofree char *uid = cu_store_resolve_series (store, m->series_uid, error);
      if (uid == NULL)
        return FALSE;
      volume = cu_store_load_series_volume (store, uid, NULL, NULL, error);
      if (volume == NULL)
        return FALSE;
    }
  return cu_measurement_compute (m, volume, error);
}

static int
measure_add (CuCli *cli, int argc, char **argv)
{
  g_autofree char *kind_arg = NULL, *points_arg = NULL, *text = NULL, *reader = NULL;
  int frame = 0, label = 0;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "kind", 'k', 0, G_OPTION_ARG_STRING, &kind_arg, N_("ruler, ellipse, angle or arrow"), N_("KIND") },
    { "points", 'p', 0, G_OPTION_ARG_STRING, &points_arg,
      N_("The points, LPS mm: ruler and arrow two (arrow: tip first), angle three (vertex in the "
         "middle), ellipse three (centre, end of one semi-axis, a point of the other)"),
      N_("X,Y,Z;…") },
    { "text", 't', 0, G_OPTION_ARG_STRING, &text, N_("The arrow's text, or a remark"), N_("TEXT") },
    { "frame", 0, 0, G_OPTION_ARG_INT, &frame, N_("Volume of a 4D series, from 0 (default 0)"), N_("N") },
    { "label", 0, 0, G_OPTION_ARG_INT, &label, N_("The segmentation label (lesion) it belongs to"), N_("VALUE") },
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Reader (default: the user's name)"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("measure add", _("SERIES"),
                           N_("Keep a measurement on a series, for a reader (audited)."), entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuMeasurement) m = NULL;
  g_autoptr (GError) error = NULL;
  CuMeasureKind kind;

  if (!cu_cli_parse (context, "measure add", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || kind_arg == NULL || points_arg == NULL)
    {
      cu_cli_usage_error ("measure add", _("measure add takes one SERIES, --kind and --points"));
      return CU_CLI_EXIT_USAGE;
    }
  if (!cu_measure_kind_from_string (kind_arg, &kind))
    {
      cu_cli_usage_error ("measure add", _("Unknown kind “%s”: ruler, ellipse, angle or arrow"), kind_arg);
      return CU_CLI_EXIT_USAGE;
    }
  m = cu_measurement_new (kind, argv[1], reader != NULL ? reader : cu_store_seg_default_reader ());
  m->frame = frame;
  m->label = label;
  m->text = g_strdup (text);
  if (!parse_points (m, points_arg, &error))
    {
      cu_cli_usage_error ("measure add", "%s", error->message);
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!compute (store, m, &error) || !cu_store_measure_save (store, m, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  return print_one (m, json);
}

static gboolean
parse_id (const char *text, gint64 *id)
{
  char *end = NULL;
  gint64 v = g_ascii_strtoll (text[0] == '#' ? text + 1 : text, &end, 10);

  if (end == NULL || *end != '\0' || v <= 0)
    return FALSE;
  *id = v;
  return TRUE;
}

static int
measure_edit (CuCli *cli, int argc, char **argv)
{
  g_autofree char *points_arg = NULL, *text = NULL;
  int frame = -1, label = -1;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "points", 'p', 0, G_OPTION_ARG_STRING, &points_arg, N_("New points (LPS mm)"), N_("X,Y,Z;…") },
    { "text", 't', 0, G_OPTION_ARG_STRING, &text, N_("New text (empty: none)"), N_("TEXT") },
    { "frame", 0, 0, G_OPTION_ARG_INT, &frame, N_("Volume of a 4D series, from 0"), N_("N") },
    { "label", 0, 0, G_OPTION_ARG_INT, &label, N_("The segmentation label it belongs to (0: none)"), N_("VALUE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("measure edit", _("ID"),
                           N_("Change a kept measurement; its results are computed again (audited)."),
                           entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuMeasurement) m = NULL;
  g_autoptr (GError) error = NULL;
  gint64 id;

  if (!cu_cli_parse (context, "measure edit", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || !parse_id (argv[1], &id))
    {
      cu_cli_usage_error ("measure edit", _("measure edit takes the ID of one measurement"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  m = cu_store_measure_get (store, id, &error);
  if (m == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  if (points_arg != NULL && !parse_points (m, points_arg, &error))
    {
      cu_cli_usage_error ("measure edit", "%s", error->message);
      return CU_CLI_EXIT_USAGE;
    }
  if (text != NULL)
    {
      g_free (m->text);
      m->text = *text ? g_strdup (text) : NULL;
    }
  if (frame >= 0)
    m->frame = frame;
  if (label >= 0)
    m->label = label;
  if (!compute (store, m, &error) || !cu_store_measure_save (store, m, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  return print_one (m, json);
}

static int
measure_list (CuCli *cli, int argc, char **argv)
{
  g_autofree char *reader = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Only this reader's"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("measure list", _("[SERIES]"),
                           N_("List the kept measurements of a series (or of the workspace)."),
                           entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  if (!cu_cli_parse (context, "measure list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc > 2)
    {
      cu_cli_usage_error ("measure list", _("measure list takes at most one SERIES"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_store_measure_list (store, argc == 2 ? argv[1] : NULL, reader, &error);
  if (list == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  if (json)
    return print_json_list (list);
  for (guint i = 0; i < list->len; i++)
    print_measurement (list->pdata[i]);
  if (list->len == 0)
    printf (_("No measurements.\n"));
  return CU_CLI_EXIT_OK;
}

static int
measure_remove (CuCli *cli, int argc, char **argv)
{
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("measure remove", _("ID"),
                           N_("Remove a kept measurement (audited, with what it was)."), NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GError) error = NULL;
  gint64 id;

  if (!cu_cli_parse (context, "measure remove", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || !parse_id (argv[1], &id))
    {
      cu_cli_usage_error ("measure remove", _("measure remove takes the ID of one measurement"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_store_measure_remove (store, id, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  printf (_("Measurement %lld removed.\n"), (long long) id);
  return CU_CLI_EXIT_OK;
}

static int
measure_export (CuCli *cli, int argc, char **argv)
{
  g_autofree char *reader = NULL, *format = NULL, *out = NULL;
  const GOptionEntry entries[] = {
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Only this reader's"), N_("NAME") },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, N_("json or csv"), N_("FORMAT") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Write to this file (default: standard output)"), N_("FILE") },
    { NULL },
  };
  g_autoptr (GOptionContext) context =
    cu_cli_option_context ("measure export", _("[SERIES]"),
                           N_("Write the kept measurements as JSON or CSV, with their points "
                              "(LPS mm) and results."), entries);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  if (!cu_cli_parse (context, "measure export", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc > 2 || format == NULL || (strcmp (format, "json") != 0 && strcmp (format, "csv") != 0))
    {
      cu_cli_usage_error ("measure export", _("measure export takes at most one SERIES and --format json|csv"));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_store_measure_list (store, argc == 2 ? argv[1] : NULL, reader, &error);
  if (list == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return cu_cli_exit_for_error (error);
    }
  text = strcmp (format, "json") == 0 ? cu_measurements_to_json (list) : cu_measurements_to_csv (list);
  if (out == NULL)
    {
      fputs (text, stdout);
      if (strcmp (format, "json") == 0)
        fputc ('\n', stdout);
      return CU_CLI_EXIT_OK;
    }
  if (!g_file_set_contents (out, text, -1, &error))
    {
      cu_cli_error (out, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  return CU_CLI_EXIT_OK;
}

static const CuCliSubcommand subs[] = {
  { "add", measure_add, N_("Keep a ruler, ellipse ROI, angle or arrow on a series (--kind, --points)") },
  { "edit", measure_edit, N_("Change a kept measurement (its results are computed again)") },
  { "list", measure_list, N_("List the kept measurements") },
  { "remove", measure_remove, N_("Remove a kept measurement") },
  { "export", measure_export, N_("Write the measurements as JSON or CSV (--format)") },
};

int
cu_cli_measure (CuCli *cli, int argc, char **argv)
{
  return cu_cli_dispatch (cli, "measure", subs, G_N_ELEMENTS (subs), argc, argv);
}

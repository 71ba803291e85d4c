/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-seg.c — curata-cli seg SUBCOMMAND: segmentations from the command line.
 *
 *   seg list [SERIES]                       stored versions per series and reader
 *   seg edit SERIES [--reader R] [--overlap overwrite|keep|allow]
 *                                           editing commands read from stdin, one stroke per
 *                                           line, each saved before the next is read; undo
 *                                           reaches into earlier sessions; a concurrent session
 *                                           of the same reader is merged, never overwritten;
 *                                           --overlap: what painting does to other labels
 *   seg history SERIES [--reader R]         every version, what it was based on, merges
 *   seg measure SERIES [--reader R] [--on SERIES2]   labels, lesion forms, measurements
 *   seg export SERIES --format dicom-seg|dicom-seg+sr|nifti --out PATH [--reader R] [--version N]
 *                                           dicom-seg+sr: the SEG at PATH and a TID 1500
 *                                           measurement report referring to it at STEM-sr.dcm
 *   seg import SERIES FILE [--reader R] [--algorithm NAME [--algorithm-type automatic|semiautomatic]]
 *                                           NIfTI label map or DICOM SEG → an editable version
 *   seg agreement SERIES [--readers A,B]    Dice, HD95, lesion matching, Cohen's κ
 *   seg adjudicate SERIES --from R [--with R2 --op union|intersect] [--note TEXT]
 *
 * Editing and importing respect the pseudonymization gate: a quarantined study is not open for
 * annotation. The reader defaults to the OS user, as in the GUI.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

typedef struct
{
  const char *name;
  int (*func) (CuCli *cli, CuStore *store, int argc, char **argv);
  const char *summary;
} SegCommand;

static char *
resolve (CuStore *store, const char *series)
{
  g_autoptr(GError) error = NULL;
  char *uid = cu_store_resolve_series (store, series, &error);

  if (uid == NULL)
    cu_cli_error (NULL, "%s", error->message);
  return uid;
}

/* Annotation is allowed only when the series' study passed (or was overridden at) the
 * pseudonymization gate and the curator accepted the series at the quality gate. */
static gboolean
check_gate (CuStore *store, const char *uid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSeriesRecord) record = cu_store_get_series (store, uid, &error);

  if (record == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return FALSE;
    }
  if (!cu_store_study_can_annotate (store, record->study_uid))
    {
      cu_cli_error (NULL, _("Series %s: its study has not passed the pseudonymization gate, so it "
                            "is not open for annotation (see “curata-cli deid-check”)"), uid);
      return FALSE;
    }
  if (!cu_store_series_can_annotate (store, uid))
    {
      cu_cli_error (NULL, _("Series %s has not been accepted at the quality gate, so it is not open "
                            "for annotation (see “curata-cli qc” and “curata-cli decide”)"), uid);
      return FALSE;
    }
  return TRUE;
}

static void
json_double_or_null (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

/* ---- list ------------------------------------------------------------------------- */

static int
seg_list (CuCli *cli, CuStore *store, int argc, char **argv)
{
  gboolean json = FALSE, all = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, N_("Every version, not only the latest of each reader"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg list", _("[SERIES]"),
    N_("List the stored segmentations: series, reader, version, kind, labelled voxels."), entries);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *uid = NULL;

  if (!cu_cli_parse (context, "seg list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc > 1 && (uid = resolve (store, argv[1])) == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_store_seg_list (store, uid, NULL, !all, &error);
  if (list == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          const CuSegVersionInfo *v = list->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "series_uid", v->series_uid);
          cu_cli_json_set_string (b, "reader", v->reader);
          json_builder_set_member_name (b, "version");
          json_builder_add_int_value (b, v->version);
          cu_cli_json_set_string (b, "kind", cu_seg_kind_to_string (v->kind));
          json_builder_set_member_name (b, "labelled_voxels");
          json_builder_add_int_value (b, v->n_labelled);
          json_builder_set_member_name (b, "labels");
          json_builder_add_int_value (b, v->n_labels);
          cu_cli_json_set_string (b, "note", v->note);
          cu_cli_json_set_string (b, "user", v->user);
          cu_cli_json_set_string (b, "time", v->time);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  if (list->len == 0)
    printf (_("No segmentations.\n"));
  for (guint i = 0; i < list->len; i++)
    {
      const CuSegVersionInfo *v = list->pdata[i];
      printf ("%s  %-12s v%-4d %-9s %8" G_GINT64_FORMAT " %s  %s\n", v->series_uid, v->reader, v->version,
              cu_seg_kind_to_string (v->kind), v->n_labelled, _("voxels"), v->time);
    }
  return CU_CLI_EXIT_OK;
}

/* ---- edit ------------------------------------------------------------------------- */

typedef struct
{
  CuStore *store;
  const char *uid;
  CuLabelMap *map;
  CuSegHistory *history;
  CuVolume *image;        /* loaded on first need (region growing, threshold) */
  CuSegOverlap overlap;   /* --overlap, or the last "overlap" command */
} EditSession;

static gboolean
parse_numbers (char **words, int first, int n, double *out)
{
  for (int i = 0; i < n; i++)
    {
      char *end = NULL;
      if (words[first + i] == NULL)
        return FALSE;
      out[i] = g_ascii_strtod (words[first + i], &end);
      if (end == words[first + i] || *end != '\0' || !isfinite (out[i]))
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_value (const char *word, guint8 *value)
{
  char *end = NULL;
  guint64 v;

  if (word == NULL)
    return FALSE;
  v = g_ascii_strtoull (word, &end, 10);
  if (end == word || *end != '\0' || v > 255)
    return FALSE;
  *value = (guint8) v;
  return TRUE;
}

static CuVolume *
session_image (EditSession *s, GError **error)
{
  if (s->image == NULL)
    s->image = cu_store_load_series_volume (s->store, s->uid, NULL, NULL, error);
  return s->image;
}

/* Apply one command line; FALSE with error on a bad command. */
static gboolean
apply_line (EditSession *s, char **w, GError **error)
{
  guint n = g_strv_length (w);
  const char *cmd = w[0];
  guint8 value = 0;
  double x[8];

#define BAD(...) G_STMT_START { g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID, __VA_ARGS__); return FALSE; } G_STMT_END

  if (strcmp (cmd, "undo") == 0)
    {
      if (!cu_seg_history_undo (s->history, NULL, NULL))
        BAD (_("nothing to undo"));
      return TRUE;
    }
  if (strcmp (cmd, "redo") == 0)
    {
      if (!cu_seg_history_redo (s->history, NULL, NULL))
        BAD (_("nothing to redo"));
      return TRUE;
    }
  if (strcmp (cmd, "label") == 0)
    {
      /* label VALUE TERM [NAME…] */
      const CuSegTerm *term;
      g_autoptr(CuLabel) l = NULL;
      g_autofree char *name = NULL;

      if (n < 3 || !parse_value (w[1], &value) || value == 0)
        BAD (_("usage: label VALUE TERM [NAME…]"));
      {
        /* the terms of the workspace's packs */
        g_autoptr(CuPackSet) packs = cu_store_get_packs (s->store);
        term = cu_seg_terminology_find_in (packs, w[2]);
      }
      if (term == NULL && strcmp (w[2], "-") != 0)
        BAD (_("unknown term “%s” (see the shipped terminology)"), w[2]);
      name = n > 3 ? g_strjoinv (" ", w + 3) : g_strdup (term != NULL ? term->name : w[2]);
      l = cu_label_new (value, name, NULL);
      if (term != NULL)
        cu_seg_term_apply (term, l, TRUE);
      cu_label_map_set_label (s->map, l);
      return TRUE;
    }
  if (strcmp (cmd, "form") == 0)
    {
      /* form VALUE [FORM] {json}: a form of the workspace's packs (default: its first) */
      gboolean named = n > 3 && w[2][0] != '{';
      g_autoptr(CuSegForm) form = cu_cli_workspace_form (s->store, named ? w[2] : NULL, error);
      g_autofree char *json = NULL;
      g_autoptr(CuLabel) l = NULL;

      if (form == NULL)
        return FALSE;
      if (n < 3 || !parse_value (w[1], &value) || cu_label_map_get_label (s->map, value) == NULL)
        BAD (_("usage: form VALUE {JSON answers} (the label must exist)"));
      json = g_strjoinv (" ", w + (named ? 3 : 2));
      if (!cu_seg_form_validate (form, json, FALSE, error))
        return FALSE;
      l = cu_label_copy (cu_label_map_get_label (s->map, value));
      g_free (l->form_json);
      l->form_json = g_steal_pointer (&json);
      cu_label_map_set_label (s->map, l);
      return TRUE;
    }
  if (strcmp (cmd, "overlap") == 0)
    {
      /* overlap overwrite|keep|allow: the policy of the strokes that follow */
      if (n != 2 || !cu_seg_overlap_from_string (w[1], &s->overlap))
        BAD (_("usage: overlap overwrite|keep|allow"));
      return TRUE;
    }
  if (strcmp (cmd, "erase-label") == 0)
    {
      /* erase-label VALUE I J K RADIUS_MM [sphere]: clear only that label */
      CuBrush brush = { .normal_axis = 2 };

      if (!parse_value (w[1], &value) || value == 0 || !parse_numbers (w, 2, 4, x))
        BAD (_("usage: erase-label VALUE I J K RADIUS_MM [sphere]"));
      brush.erase_only = value;
      brush.radius_mm = x[3];
      brush.sphere = w[6] != NULL && strcmp (w[6], "sphere") == 0;
      cu_seg_brush_stamp (s->map, &brush, x);
      return TRUE;
    }
  if (strcmp (cmd, "paint") == 0 || strcmp (cmd, "erase") == 0)
    {
      /* paint VALUE I J K RADIUS_MM [sphere] ; erase I J K RADIUS_MM [sphere] */
      gboolean erase = cmd[0] == 'e';
      int first = erase ? 1 : 2;
      CuBrush brush = { .normal_axis = 2 };

      if ((!erase && !parse_value (w[1], &value)) || !parse_numbers (w, first, 4, x))
        BAD (_("usage: paint VALUE I J K RADIUS_MM [sphere] or erase I J K RADIUS_MM [sphere]"));
      brush.value = erase ? 0 : value;
      brush.overlap = s->overlap;
      brush.radius_mm = x[3];
      brush.sphere = w[first + 4] != NULL && strcmp (w[first + 4], "sphere") == 0;
      cu_seg_brush_stamp (s->map, &brush, x);
      return TRUE;
    }
  if (strcmp (cmd, "line") == 0)
    {
      /* line VALUE I0 J0 K0 I1 J1 K1 RADIUS_MM */
      CuBrush brush = { .normal_axis = 2 };
      if (!parse_value (w[1], &value) || !parse_numbers (w, 2, 7, x))
        BAD (_("usage: line VALUE I0 J0 K0 I1 J1 K1 RADIUS_MM"));
      brush.value = value;
      brush.overlap = s->overlap;
      brush.radius_mm = x[6];
      cu_seg_brush_line (s->map, &brush, x, x + 3);
      return TRUE;
    }
  if (strcmp (cmd, "grow") == 0)
    {
      /* grow VALUE I J K TOLERANCE [slice] */
      CuRegionGrow p = { .slice_axis = -1 };
      CuVolume *image;

      if (!parse_value (w[1], &value) || !parse_numbers (w, 2, 4, x))
        BAD (_("usage: grow VALUE I J K TOLERANCE [slice]"));
      image = session_image (s, error);
      if (image == NULL)
        return FALSE;
      p.seed[0] = (int) x[0];
      p.seed[1] = (int) x[1];
      p.seed[2] = (int) x[2];
      p.tolerance = x[3];
      p.value = value;
      p.overlap = s->overlap;
      if (w[6] != NULL && strcmp (w[6], "slice") == 0)
        p.slice_axis = 2;
      return cu_seg_region_grow (s->map, image, 0, &p, error) >= 0;
    }
  if (strcmp (cmd, "fill") == 0)
    {
      /* fill VALUE K I,J I,J I,J … */
      g_autoptr(GArray) pts = g_array_new (FALSE, FALSE, sizeof (double));
      if (n < 6 || !parse_value (w[1], &value) || !parse_numbers (w, 2, 1, x))
        BAD (_("usage: fill VALUE K I,J I,J I,J …"));
      for (guint i = 3; i < n; i++)
        {
          double p[3] = { 0, 0, x[0] };
          if (sscanf (w[i], "%lf,%lf", &p[0], &p[1]) != 2)
            BAD (_("“%s” is not a point I,J"), w[i]);
          g_array_append_vals (pts, p, 3);
        }
      cu_seg_fill_polygon (s->map, 2, (int) x[0], (double *) pts->data, pts->len / 3, value,
                           s->overlap);
      return TRUE;
    }
  if (strcmp (cmd, "islands") == 0)
    {
      if (!parse_value (w[1], &value) || !parse_numbers (w, 2, 1, x) || x[0] < 0)
        BAD (_("usage: islands VALUE MIN_VOXELS"));
      cu_seg_remove_islands (s->map, value, (gsize) x[0]);
      return TRUE;
    }
  if (strcmp (cmd, "largest") == 0)
    {
      if (!parse_value (w[1], &value))
        BAD (_("usage: largest VALUE"));
      cu_seg_keep_largest (s->map, value);
      return TRUE;
    }
  if (strcmp (cmd, "smooth") == 0)
    {
      if (!parse_value (w[1], &value) || !parse_numbers (w, 2, 1, x))
        BAD (_("usage: smooth VALUE SIGMA_MM"));
      return cu_seg_smooth (s->map, value, x[0], error) >= 0;
    }
  if (strcmp (cmd, "interpolate") == 0)
    {
      if (!parse_value (w[1], &value))
        BAD (_("usage: interpolate VALUE"));
      return cu_seg_interpolate (s->map, value, 2, NULL, error) >= 0;
    }
  if (strcmp (cmd, "logical") == 0)
    {
      /* logical OP TARGET SOURCE */
      CuSegLogicalOp op;
      guint8 source;
      if (n < 4 || !cu_seg_logical_op_from_string (w[1], &op) || !parse_value (w[2], &value)
          || !parse_value (w[3], &source))
        BAD (_("usage: logical union|intersect|subtract|replace TARGET SOURCE"));
      return cu_seg_logical (s->map, value, s->map, source, op, error) >= 0;
    }
  BAD (_("unknown command “%s”"), cmd);
#undef BAD
}

static int
seg_edit (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *reader = NULL, *overlap = NULL;
  const GOptionEntry entries[] = {
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Reader identity (default: the OS user)"), N_("NAME") },
    { "overlap", 0, 0, G_OPTION_ARG_STRING, &overlap, N_("What painting does to other labels: "
      "overwrite them (the default, as 3D Slicer), keep them (paint only around them) or allow "
      "overlap (both keep their voxels)"), N_("overwrite|keep|allow") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg edit", _("SERIES"),
    N_("Edit a reader's segmentation with commands read from standard input, one per line; "
       "every command is one stroke, saved to the workspace before the next line is read "
       "(“saved VERSION VOXELS” is printed). Commands: label VALUE TERM [NAME…], "
       "paint VALUE I J K RADIUS_MM [sphere], erase I J K RADIUS_MM [sphere], "
       "erase-label VALUE I J K RADIUS_MM [sphere], overlap overwrite|keep|allow, "
       "line VALUE I0 J0 K0 I1 J1 K1 RADIUS_MM, grow VALUE I J K TOLERANCE [slice], "
       "fill VALUE K I,J I,J I,J…, islands VALUE MIN_VOXELS, largest VALUE, smooth VALUE SIGMA_MM, "
       "interpolate VALUE, logical OP TARGET SOURCE, form VALUE {JSON}, undo, redo."), entries);
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  g_autoptr(CuSegSession) session = NULL;
  CuLabelMap *map;
  EditSession s = { 0 };
  char line[8192];
  int status = CU_CLI_EXIT_OK, line_no = 0, last_merged = 0;

  if (!cu_cli_parse (context, "seg edit", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("seg edit", _("Give one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if (reader == NULL)
    reader = g_strdup (cu_store_seg_default_reader ());
  if (!cu_store_seg_check_reader (reader, CU_SEG_KIND_READING, &error))
    {
      cu_cli_usage_error ("seg edit", "%s", error->message);
      return CU_CLI_EXIT_USAGE;
    }
  if (overlap != NULL && !cu_seg_overlap_from_string (overlap, &s.overlap))
    {
      cu_cli_usage_error ("seg edit", _("--overlap takes overwrite, keep or allow."));
      return CU_CLI_EXIT_USAGE;
    }
  if ((uid = resolve (store, argv[1])) == NULL || !check_gate (store, uid))
    return CU_CLI_EXIT_ERROR;

  /* The series' grid is read (from the files) only for a first segmentation. */
  session = cu_seg_session_open (store, uid, reader, NULL, NULL, NULL, &error);
  if (session == NULL && g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
    {
      g_autoptr(CuVolume) grid = NULL;
      g_clear_error (&error);
      grid = cu_store_seg_series_grid (store, uid, &error);
      if (grid != NULL)
        session = cu_seg_session_open (store, uid, reader, grid, NULL, NULL, &error);
    }
  if (session == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  map = cu_seg_session_get_map (session);
  s.store = store;
  s.uid = uid;
  s.map = map;
  s.history = cu_seg_session_get_history (session);

  while (fgets (line, sizeof line, stdin) != NULL)
    {
      g_auto(GStrv) words = NULL;
      g_autoptr(GError) line_error = NULL;
      int version, merged_with = 0;

      line_no++;
      g_strstrip (line);
      if (line[0] == '\0' || line[0] == '#')
        continue;
      if (g_cancellable_is_cancelled (cli->cancellable))
        break;
      words = g_strsplit_set (line, " \t", -1);
      {
        /* Collapse runs of blanks. */
        guint o = 0;
        for (guint i = 0; words[i] != NULL; i++)
          if (words[i][0] != '\0')
            words[o++] = words[i];
          else
            g_free (words[i]);
        words[o] = NULL;
      }
      if (strcmp (words[0], "undo") != 0 && strcmp (words[0], "redo") != 0)
        cu_seg_history_begin (s.history, words[0]);
      if (!apply_line (&s, words, &line_error))
        {
          cu_seg_history_end (s.history);
          cu_cli_error (NULL, _("line %d: %s"), line_no, line_error->message);
          status = CU_CLI_EXIT_ERROR;
          continue;
        }
      cu_seg_history_end (s.history);
      /* Saved before the next line is read, as the session's own thread does it. */
      cu_seg_session_commit (session);
      version = cu_seg_session_flush (session, &merged_with, &line_error);
      if (version < 0)
        {
          cu_cli_error (NULL, _("line %d: %s"), line_no, line_error->message);
          status = CU_CLI_EXIT_ERROR;
          break;
        }
      if (merged_with > 0 && merged_with != last_merged)
        {
          /* Not an error: both sessions' strokes are in the version saved. */
          fprintf (stderr, _("line %d: version %d of reader %s was saved by another session "
                             "meanwhile; this session’s strokes were merged into it (version %d)\n"),
                   line_no, merged_with, reader, version);
          last_merged = merged_with;
        }
      printf ("saved %d %" G_GSIZE_FORMAT "\n", version,
              cu_label_map_n_voxels (map) - cu_label_map_count (map, 0));
      fflush (stdout);
    }
  g_clear_pointer (&s.image, cu_volume_unref);
  return status;
}

/* ---- history ---------------------------------------------------------------------- */

static int
seg_history (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *reader = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Only this reader's versions"), N_("NAME") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg history", _("SERIES"),
    N_("Every stored version of a series' segmentations, oldest first: the version each was "
       "based on, who saved it and when, and merges of concurrent sessions."), entries);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *uid = NULL;

  if (!cu_cli_parse (context, "seg history", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("seg history", _("Give one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if ((uid = resolve (store, argv[1])) == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_store_seg_list (store, uid, reader, FALSE, &error);
  if (list == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = list->len; i-- > 0;)
        {
          const CuSegVersionInfo *v = list->pdata[i];
          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "reader", v->reader);
          json_builder_set_member_name (b, "version");
          json_builder_add_int_value (b, v->version);
          json_builder_set_member_name (b, "based_on");
          if (v->based_on >= 0)
            json_builder_add_int_value (b, v->based_on);
          else
            json_builder_add_null_value (b);
          cu_cli_json_set_string (b, "kind", cu_seg_kind_to_string (v->kind));
          json_builder_set_member_name (b, "labelled_voxels");
          json_builder_add_int_value (b, v->n_labelled);
          cu_cli_json_set_string (b, "note", v->note);
          cu_cli_json_set_string (b, "user", v->user);
          cu_cli_json_set_string (b, "time", v->time);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  if (list->len == 0)
    printf (_("No segmentations.\n"));
  /* The list is newest first within a reader: print each reader's oldest first. */
  for (guint i = list->len; i-- > 0;)
    {
      const CuSegVersionInfo *v = list->pdata[i];
      g_autofree char *based = v->based_on > 0 ? g_strdup_printf (_("from v%d"), v->based_on) : g_strdup ("");
      printf ("%-12s v%-4d %-9s %-9s %8" G_GINT64_FORMAT " %s  %s  %s  %s\n", v->reader, v->version,
              based, cu_seg_kind_to_string (v->kind), v->n_labelled, _("voxels"), v->user, v->time,
              v->note != NULL ? v->note : "");
    }
  return CU_CLI_EXIT_OK;
}

/* ---- measure ---------------------------------------------------------------------- */

static int
seg_measure (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *reader = NULL, *on = NULL;
  gboolean json = FALSE;
  int version = 0;
  const GOptionEntry entries[] = {
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Reader (default: the OS user)"), N_("NAME") },
    { "version", 0, 0, G_OPTION_ARG_INT, &version, N_("Version (default: the latest)"), N_("N") },
    { "on", 0, 0, G_OPTION_ARG_STRING, &on, N_("ROI statistics on this series of the study "
      "(default: the segmented series)"), N_("SERIES") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg measure", _("SERIES"),
    N_("Labels, lesion forms and measurements (volume, longest in-plane diameter, ROI statistics)."),
    entries);
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL, *on_uid = NULL;
  g_autoptr(CuLabelMap) map = NULL;
  g_autoptr(CuSegVersionInfo) info = NULL;
  g_autoptr(CuVolume) image = NULL;
  g_autoptr(CuSegForm) form = cu_seg_form_load ("pirads-v2.1", NULL);
  g_autoptr(JsonNode) root = NULL;
  CuSegReportSpec spec = { 0 };

  if (!cu_cli_parse (context, "seg measure", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("seg measure", _("Give one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if (reader == NULL)
    reader = g_strdup (cu_store_seg_default_reader ());
  if ((uid = resolve (store, argv[1])) == NULL)
    return CU_CLI_EXIT_ERROR;
  if (on != NULL && (on_uid = resolve (store, on)) == NULL)
    return CU_CLI_EXIT_ERROR;
  map = cu_store_seg_load (store, uid, reader, version, &info, &error);
  if (map == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  image = cu_store_load_series_volume (store, on_uid != NULL ? on_uid : uid, NULL, cli->cancellable, &error);
  if (image == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  spec.series_uid = uid;
  spec.reader = reader;
  spec.version = info->version;
  spec.image = image;
  spec.form = form;
  root = cu_seg_report_json (map, &spec);
  if (json)
    {
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  printf (_("Series %s, reader %s, version %d\n"), uid, reader, info->version);
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      CuSegMeasure m;
      CuSegRoiStats st;

      cu_seg_measure (map, l->value, &m);
      printf ("  %3d %-24s %8.3f mL  %6.1f mm  %u %s", l->value, l->name, m.volume_ml,
              m.longest_diameter_mm, m.n_components, _("components"));
      if (cu_seg_roi_stats (map, l->value, image, 0, &st))
        printf (_("  mean %.1f ± %.1f [%.1f, %.1f]"), st.mean, st.std, st.min, st.max);
      if (l->form_json != NULL)
        printf ("  %s", l->form_json);
      printf ("\n");
    }
  return CU_CLI_EXIT_OK;
}

/* ---- export / import -------------------------------------------------------------- */

static int
seg_export (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *reader = NULL, *format_name = NULL, *out = NULL;
  int version = 0;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name, N_("dicom-seg, dicom-seg+sr or nifti"), N_("FORMAT") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_("Output file"), N_("PATH") },
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Reader (default: the OS user)"), N_("NAME") },
    { "version", 0, 0, G_OPTION_ARG_INT, &version, N_("Version (default: the latest)"), N_("N") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg export", _("SERIES"),
    N_("Write a segmentation as a DICOM Segmentation object (binary, one segment per label) or a "
       "NIfTI label map aligned with “export-nifti” of the series, with the lesion forms and "
       "measurements as STEM.json and STEM.csv beside it. With dicom-seg+sr, a DICOM Structured "
       "Report (TID 1500 measurement report: volumes, diameters, lesion forms as codes) that "
       "refers to the segments is written beside the SEG as STEM-sr.dcm."), entries);
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  CuSegFormat format;

  if (!cu_cli_parse (context, "seg export", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || out == NULL || !cu_seg_format_from_string (format_name, &format))
    {
      cu_cli_usage_error ("seg export", _("Give a SERIES, --format dicom-seg|dicom-seg+sr|nifti and --out PATH."));
      return CU_CLI_EXIT_USAGE;
    }
  if (reader == NULL)
    reader = g_strdup (cu_store_seg_default_reader ());
  if ((uid = resolve (store, argv[1])) == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_store_seg_export (store, uid, reader, version, format, out, cli->cancellable, &error))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  printf (_("Wrote %s\n"), out);
  if (format == CU_SEG_FORMAT_NIFTI)
    {
      /* One label per voxel: say what the overlap rule did, never silently. */
      g_autoptr(CuLabelMap) map = cu_store_seg_load (store, uid, reader, version, NULL, NULL);
      g_autofree char *warning = map != NULL ? cu_label_map_flatten_warning (map) : NULL;
      if (warning != NULL)
        fprintf (stderr, _("warning: %s\n"), warning);
    }
  if (format == CU_SEG_FORMAT_DICOM_SEG_SR)
    {
      g_autofree char *sr = cu_seg_sr_path_for (out);
      printf (_("Wrote %s\n"), sr);
    }
  return CU_CLI_EXIT_OK;
}

static int
seg_import (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *reader = NULL, *algorithm = NULL, *algorithm_type = NULL;
  gboolean json = FALSE;
  CuLabelOrigin origin = CU_LABEL_ORIGIN_AUTOMATIC;
  const GOptionEntry entries[] = {
    { "reader", 'r', 0, G_OPTION_ARG_STRING, &reader, N_("Reader the version belongs to (default: the OS user)"), N_("NAME") },
    { "algorithm", 0, 0, G_OPTION_ARG_STRING, &algorithm, N_("The model or tool that made the "
      "segmentation (kept as its origin, SegmentAlgorithmName)"), N_("NAME") },
    { "algorithm-type", 0, 0, G_OPTION_ARG_STRING, &algorithm_type, N_("automatic (default) or "
      "semiautomatic (a person corrected the output)"), N_("TYPE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg import", _("SERIES LABELS.nii[.gz]|SEG.dcm"),
    N_("Bring in a segmentation (an AI model's output, another tool's work) as an editable version, "
       "resampled onto the series when the grids differ."), entries);
  g_autoptr(CuLabelMap) imported = NULL;
  g_autoptr(GArray) overlaps = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  gboolean resampled = FALSE;
  int version;

  if (!cu_cli_parse (context, "seg import", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 3)
    {
      cu_cli_usage_error ("seg import", _("Give a SERIES and a file."));
      return CU_CLI_EXIT_USAGE;
    }
  if (algorithm_type != NULL
      && (algorithm == NULL || !cu_label_origin_from_string (algorithm_type, &origin)
          || origin == CU_LABEL_ORIGIN_MANUAL))
    {
      cu_cli_usage_error ("seg import", _("--algorithm-type takes automatic or semiautomatic, "
                                          "with --algorithm NAME."));
      return CU_CLI_EXIT_USAGE;
    }
  if (algorithm != NULL && algorithm[0] == '\0')
    {
      cu_cli_usage_error ("seg import", _("--algorithm needs a name."));
      return CU_CLI_EXIT_USAGE;
    }
  if (reader == NULL)
    reader = g_strdup (cu_store_seg_default_reader ());
  if ((uid = resolve (store, argv[1])) == NULL || !check_gate (store, uid))
    return CU_CLI_EXIT_ERROR;
  version = cu_store_seg_import_from (store, uid, argv[2], reader, algorithm, origin, &resampled, &error);
  if (version < 0)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  /* What overlapped in the file and was kept (layers, cu-label-map.h). */
  imported = cu_store_seg_load (store, uid, reader, version, NULL, NULL);
  if (imported != NULL)
    overlaps = cu_label_map_overlaps (imported);
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      json_builder_begin_object (b);
      cu_cli_json_set_string (b, "series_uid", uid);
      cu_cli_json_set_string (b, "reader", reader);
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, version);
      json_builder_set_member_name (b, "resampled");
      json_builder_add_boolean_value (b, resampled);
      json_builder_set_member_name (b, "layers");
      json_builder_add_int_value (b, imported != NULL ? cu_label_map_get_n_layers (imported) : 1);
      json_builder_set_member_name (b, "overlaps");
      json_builder_begin_array (b);
      for (guint i = 0; overlaps != NULL && i < overlaps->len; i++)
        {
          const CuLabelOverlap *o = &g_array_index (overlaps, CuLabelOverlap, i);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "a");
          json_builder_add_int_value (b, o->a);
          json_builder_set_member_name (b, "b");
          json_builder_add_int_value (b, o->b);
          json_builder_set_member_name (b, "voxels");
          json_builder_add_int_value (b, (gint64) o->n_voxels);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
    }
  else
    {
      printf (resampled ? _("Imported as version %d of reader %s (resampled onto the series)\n")
                        : _("Imported as version %d of reader %s\n"), version, reader);
      for (guint i = 0; overlaps != NULL && i < overlaps->len; i++)
        {
          const CuLabelOverlap *o = &g_array_index (overlaps, CuLabelOverlap, i);
          printf (ngettext ("  labels %d and %d overlap in %lu voxel (kept)\n",
                            "  labels %d and %d overlap in %lu voxels (kept)\n",
                            (gulong) o->n_voxels), o->a, o->b, (gulong) o->n_voxels);
        }
    }
  return CU_CLI_EXIT_OK;
}

/* ---- agreement / adjudication ----------------------------------------------------- */

/* The two readers to compare: given, or the two with readings of the series. */
static gboolean
pick_readers (CuStore *store, const char *uid, const char *given, char **a, char **b)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;

  if (given != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (given, ",", -1);
      if (g_strv_length (parts) != 2)
        {
          cu_cli_usage_error ("seg agreement", _("--readers takes two names: A,B"));
          return FALSE;
        }
      *a = g_strdup (parts[0]);
      *b = g_strdup (parts[1]);
      return TRUE;
    }
  list = cu_store_seg_list (store, uid, NULL, TRUE, &error);
  if (list == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return FALSE;
    }
  for (guint i = 0; i < list->len; i++)
    {
      const CuSegVersionInfo *v = list->pdata[i];
      if (strcmp (v->reader, CU_STORE_SEG_FINAL) == 0)
        continue;
      if (*a == NULL)
        *a = g_strdup (v->reader);
      else if (*b == NULL)
        *b = g_strdup (v->reader);
    }
  if (*b == NULL)
    {
      cu_cli_error (NULL, _("Series %s has fewer than two readers’ segmentations"), uid);
      return FALSE;
    }
  return TRUE;
}

static int
seg_agreement (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *readers = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "readers", 0, 0, G_OPTION_ARG_STRING, &readers, N_("The two readers to compare (default: the two who read it)"), N_("A,B") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg agreement", _("SERIES"),
    N_("Agreement between two readers: Dice and 95th-percentile Hausdorff distance per label, "
       "lesion matching and Cohen’s κ on the lesion scores."), entries);
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL, *ra = NULL, *rb = NULL;
  g_autoptr(CuLabelMap) a = NULL, b = NULL;
  g_autoptr(CuSegAgreement) ag = NULL;
  g_autoptr(CuSegForm) form = cu_seg_form_load ("pirads-v2.1", NULL);

  if (!cu_cli_parse (context, "seg agreement", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("seg agreement", _("Give one SERIES."));
      return CU_CLI_EXIT_USAGE;
    }
  if ((uid = resolve (store, argv[1])) == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!pick_readers (store, uid, readers, &ra, &rb))
    return readers != NULL ? CU_CLI_EXIT_USAGE : CU_CLI_EXIT_ERROR;
  if ((a = cu_store_seg_load (store, uid, ra, 0, NULL, &error)) == NULL
      || (b = cu_store_seg_load (store, uid, rb, 0, NULL, &error)) == NULL
      || (ag = cu_seg_agreement_compute (a, b, form, &error)) == NULL)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (json)
    {
      g_autoptr(JsonBuilder) jb = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (jb);
      cu_cli_json_set_string (jb, "series_uid", uid);
      json_builder_set_member_name (jb, "readers");
      json_builder_begin_array (jb);
      json_builder_add_string_value (jb, ra);
      json_builder_add_string_value (jb, rb);
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "labels");
      json_builder_begin_array (jb);
      for (guint i = 0; i < ag->labels->len; i++)
        {
          const CuSegLabelAgreement *la = &g_array_index (ag->labels, CuSegLabelAgreement, i);
          json_builder_begin_object (jb);
          json_builder_set_member_name (jb, "value");
          json_builder_add_int_value (jb, la->value);
          cu_cli_json_set_string (jb, "name", la->name);
          json_builder_set_member_name (jb, "voxels_a");
          json_builder_add_int_value (jb, (gint64) la->n_a);
          json_builder_set_member_name (jb, "voxels_b");
          json_builder_add_int_value (jb, (gint64) la->n_b);
          json_double_or_null (jb, "dice", la->dice);
          json_double_or_null (jb, "hd95_mm", la->hd95_mm);
          json_builder_end_object (jb);
        }
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "lesions");
      json_builder_begin_array (jb);
      for (guint i = 0; i < ag->lesions->len; i++)
        {
          const CuSegLesionPair *p = &g_array_index (ag->lesions, CuSegLesionPair, i);
          json_builder_begin_object (jb);
          json_builder_set_member_name (jb, "label_a");
          if (p->a_value) json_builder_add_int_value (jb, p->a_value); else json_builder_add_null_value (jb);
          json_builder_set_member_name (jb, "label_b");
          if (p->b_value) json_builder_add_int_value (jb, p->b_value); else json_builder_add_null_value (jb);
          json_builder_set_member_name (jb, "matched");
          json_builder_add_boolean_value (jb, p->a_value != 0 && p->b_value != 0);
          json_double_or_null (jb, "dice", p->dice);
          json_builder_set_member_name (jb, "score_a");
          json_builder_add_int_value (jb, p->score_a);
          json_builder_set_member_name (jb, "score_b");
          json_builder_add_int_value (jb, p->score_b);
          json_builder_end_object (jb);
        }
      json_builder_end_array (jb);
      json_builder_set_member_name (jb, "lesions_matched");
      json_builder_add_int_value (jb, ag->n_matched);
      json_builder_set_member_name (jb, "lesions_scored");
      json_builder_add_int_value (jb, ag->n_scored);
      json_double_or_null (jb, "kappa", ag->kappa);
      json_builder_end_object (jb);
      root = json_builder_get_root (jb);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  printf (_("Series %s: reader %s vs reader %s\n"), uid, ra, rb);
  for (guint i = 0; i < ag->labels->len; i++)
    {
      const CuSegLabelAgreement *la = &g_array_index (ag->labels, CuSegLabelAgreement, i);
      printf (_("  label %3d %-24s Dice %.3f  HD95 %s mm\n"), la->value, la->name, la->dice,
              isfinite (la->hd95_mm) ? g_strdup_printf ("%.2f", la->hd95_mm) : "—");
    }
  printf (_("  lesions matched: %u of %u; Cohen’s κ on scores: %s (%u lesions)\n"), ag->n_matched,
          ag->lesions->len, isfinite (ag->kappa) ? g_strdup_printf ("%.3f", ag->kappa) : "—", ag->n_scored);
  return CU_CLI_EXIT_OK;
}

static int
seg_adjudicate (CuCli *cli, CuStore *store, int argc, char **argv)
{
  g_autofree char *from = NULL, *with = NULL, *op_name = NULL, *note = NULL;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, N_("Reader whose latest version is the base"), N_("READER") },
    { "with", 0, 0, G_OPTION_ARG_STRING, &with, N_("Second reader, combined label by label"), N_("READER") },
    { "op", 0, 0, G_OPTION_ARG_STRING, &op_name, N_("How to combine with the second reader: union or intersect"), N_("OP") },
    { "note", 0, 0, G_OPTION_ARG_STRING, &note, N_("Reason recorded with the final version"), N_("TEXT") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = cu_cli_option_context ("seg adjudicate", _("SERIES"),
    N_("Record the adjudicated (final) segmentation of a series: one reader's version, or two "
       "readers' combined label by label."), entries);
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = NULL;
  g_autoptr(CuLabelMap) base = NULL, other = NULL;
  CuSegLogicalOp op = CU_SEG_UNION;
  int version;

  if (!cu_cli_parse (context, "seg adjudicate", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2 || from == NULL || (op_name != NULL && with == NULL)
      || (op_name != NULL && (!cu_seg_logical_op_from_string (op_name, &op)
                              || (op != CU_SEG_UNION && op != CU_SEG_INTERSECT))))
    {
      cu_cli_usage_error ("seg adjudicate", _("Give a SERIES and --from READER "
                                              "[--with READER --op union|intersect]."));
      return CU_CLI_EXIT_USAGE;
    }
  if ((uid = resolve (store, argv[1])) == NULL || !check_gate (store, uid))
    return CU_CLI_EXIT_ERROR;
  if ((base = cu_store_seg_load (store, uid, from, 0, NULL, &error)) == NULL
      || (with != NULL && (other = cu_store_seg_load (store, uid, with, 0, NULL, &error)) == NULL))
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  if (other != NULL)
    for (guint i = 0; i < cu_label_map_get_n_labels (other); i++)
      {
        const CuLabel *l = cu_label_map_get_label_at (other, i);
        if (cu_label_map_get_label (base, l->value) == NULL)
          cu_label_map_set_label (base, l);
        if (cu_seg_logical (base, l->value, other, l->value, op, &error) < 0)
          {
            cu_cli_error (NULL, "%s", error->message);
            return CU_CLI_EXIT_ERROR;
          }
      }
  version = cu_store_seg_save (store, uid, CU_STORE_SEG_FINAL, CU_SEG_KIND_FINAL, base,
                               note != NULL ? note : from, &error);
  if (version < 0)
    {
      cu_cli_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_ERROR;
    }
  printf (_("Final version %d of series %s recorded\n"), version, uid);
  return CU_CLI_EXIT_OK;
}

/* ---- dispatch --------------------------------------------------------------------- */

static const SegCommand seg_commands[] = {
  { "list", seg_list, N_("List stored segmentations") },
  { "edit", seg_edit, N_("Edit a segmentation with commands from standard input (one stroke a line)") },
  { "history", seg_history, N_("Every stored version, what it was based on, merges") },
  { "measure", seg_measure, N_("Labels, lesion forms and measurements") },
  { "export", seg_export, N_("Write DICOM SEG or NIfTI, with forms and measurements as JSON and CSV") },
  { "import", seg_import, N_("Bring in a NIfTI label map or a DICOM SEG as an editable version") },
  { "agreement", seg_agreement, N_("Agreement between two readers (Dice, HD95, lesions, κ)") },
  { "adjudicate", seg_adjudicate, N_("Record the final, adjudicated version") },
};

int
cu_cli_seg (CuCli *cli, int argc, char **argv)
{
  g_autoptr(CuStore) store = NULL;

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      FILE *out = argc < 2 ? stderr : stdout;
      fprintf (out, _("Usage: curata-cli seg SUBCOMMAND [OPTION…]\n\nSubcommands:\n"));
      for (guint i = 0; i < G_N_ELEMENTS (seg_commands); i++)
        fprintf (out, "  %-12s %s\n", seg_commands[i].name, _(seg_commands[i].summary));
      return argc < 2 ? CU_CLI_EXIT_USAGE : CU_CLI_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (seg_commands); i++)
    if (strcmp (argv[1], seg_commands[i].name) == 0)
      {
        /* --help of a subcommand needs no workspace. */
        for (int a = 2; a < argc; a++)
          if (strcmp (argv[a], "--help") == 0 || strcmp (argv[a], "-h") == 0)
            return seg_commands[i].func (cli, NULL, argc - 1, argv + 1);
        store = cu_cli_open_store (cli);
        if (store == NULL)
          return CU_CLI_EXIT_ERROR;
        return seg_commands[i].func (cli, store, argc - 1, argv + 1);
      }
  cu_cli_usage_error ("seg", _("Unknown subcommand “%s”."), argv[1]);
  return CU_CLI_EXIT_USAGE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-reading.c — the reading layout of CuWindow: layouts (win.layout), the hanging
 * protocol (win.hanging-protocol), linked series (each pane's link switch, win.link-window)
 * and the series shown in each pane (win.pane-series).
 *
 * Pane 0 shows the window's own viewer state, so the series opened from the browser, its
 * segmentation and every window action work there as in the MPR layout. The other panes load
 * their series on a worker thread of their own (several at once; a newer request for a pane
 * replaces an older one), exactly as the main series is loaded: headers, plan, the regular
 * grid of a tilted stack, statistics.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-window-private.h"

typedef struct
{
  guint pane;
  guint generation;
  char *series_uid;
  char *title;
  char **files;
  char *window;      /* preset, or NULL */
  char *plane;
  gboolean last_volume;
} PaneLoad;

typedef struct
{
  CuVolume *volume;
  CuVolumeStats stats;
  gboolean has_geometry;
  char *frame_uid;
} PaneResult;

/* per pane: the generation of its latest request, so an older load that ends later is dropped */
static GQuark generation_quark;

static void
pane_load_free (PaneLoad *l)
{
  g_free (l->series_uid);
  g_free (l->title);
  g_strfreev (l->files);
  g_free (l->window);
  g_free (l->plane);
  g_free (l);
}

static void
pane_result_free (PaneResult *r)
{
  g_clear_pointer (&r->volume, cu_volume_unref);
  g_free (r->frame_uid);
  g_free (r);
}

static void
pane_load_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  PaneLoad *l = data;
  g_autoptr (CuSeriesPlan) plan = NULL;
  GError *error = NULL;
  PaneResult *r;
  guint stack;

  plan = cu_series_plan_new_from_files ((const char *const *) l->files, NULL, cancellable, &error);
  if (plan == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  stack = cu_series_plan_get_main_stack (plan);
  r = g_new0 (PaneResult, 1);
  r->volume = cu_series_plan_load_regular (plan, stack, NULL, cancellable, NULL, &error);
  if (r->volume == NULL)
    {
      pane_result_free (r);
      g_task_return_error (task, error);
      return;
    }
  cu_volume_stats_compute (r->volume, &r->stats);
  r->has_geometry = cu_series_plan_get_stack_has_geometry (plan, stack);
  r->frame_uid = g_strdup (cu_series_plan_get_frame_of_reference (plan, stack));
  g_task_return_pointer (task, r, (GDestroyNotify) pane_result_free);
}

static CuPlane
plane_from_string (const char *plane)
{
  if (g_strcmp0 (plane, "coronal") == 0)
    return CU_PLANE_CORONAL;
  if (g_strcmp0 (plane, "sagittal") == 0)
    return CU_PLANE_SAGITTAL;
  return CU_PLANE_AXIAL;
}

static void
pane_load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = CU_WINDOW (source);
  PaneLoad *l = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  PaneResult *r = g_task_propagate_pointer (G_TASK (result), &error);
  CuReadingPane *pane;
  CuViewerState *state;
  CuViewerLink *link;

  if (self->reading_view == NULL
      || GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (cu_reading_view_get_pane (self->reading_view, l->pane)),
                                               generation_quark)) != l->generation)
    {
      g_clear_pointer (&r, pane_result_free);
      return;
    }
  pane = cu_reading_view_get_pane (self->reading_view, l->pane);
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *title = g_strdup_printf (_("%s: could not be opened"), l->title);
          cu_reading_pane_set_title (pane, title);
          _cu_window_show_error (self, _("Could Not Open the Series"), error);
        }
      return;
    }
  state = cu_reading_pane_get_state (pane);
  link = cu_reading_view_get_link (self->reading_view);
  /* out of the link while the new volume centres its cursor, then join the others' point */
  cu_viewer_link_remove (link, state);
  cu_viewer_state_set_orientation_known (state, r->has_geometry);
  cu_viewer_state_set_volume_with_stats (state, r->volume, &r->stats);
  if (l->last_volume)
    cu_viewer_state_set_time (state, r->volume->dims[3] - 1);
  if (l->window != NULL)
    cu_viewer_state_apply_preset (state, l->window);
  cu_slice_view_set_plane (cu_reading_pane_get_slice_view (pane), plane_from_string (l->plane));
  cu_viewer_link_add (link, state, r->frame_uid);
  cu_viewer_link_set_linked (link, state, cu_reading_pane_get_linked (pane));
  cu_viewer_link_adopt (link, state);
  cu_reading_pane_set_title (pane, l->title);
  g_object_set_data_full (G_OBJECT (pane), "cu-series-uid", g_strdup (l->series_uid), g_free);
  pane_result_free (r);
}

static char *
series_title (CuWindow *self, const char *series_uid)
{
  g_autoptr (CuSeriesRecord) rec = cu_store_get_series (self->store, series_uid, NULL);

  if (rec == NULL)
    return g_strdup (series_uid);
  if (rec->series_description != NULL && *rec->series_description != '\0')
    /* TRANSLATORS: pane header: series number and description */
    return g_strdup_printf (_("#%d %s"), rec->series_number, rec->series_description);
  return g_strdup_printf (_("#%d %s"), rec->series_number, _("Unnamed series"));
}

void
_cu_window_reading_load_pane (CuWindow *self, guint index, const char *series_uid,
                              const CuHangingPane *spec)
{
  CuReadingPane *pane;
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  PaneLoad *l;
  guint generation;

  g_return_if_fail (index > 0 && index < CU_READING_VIEW_MAX_PANES);
  pane = cu_reading_view_get_pane (self->reading_view, index);
  generation = GPOINTER_TO_UINT (g_object_get_qdata (G_OBJECT (pane), generation_quark)) + 1;
  g_object_set_qdata (G_OBJECT (pane), generation_quark, GUINT_TO_POINTER (generation));
  l = g_new0 (PaneLoad, 1);
  l->pane = index;
  l->generation = generation;
  l->series_uid = g_strdup (series_uid);
  l->title = series_title (self, series_uid);
  l->files = cu_store_get_series_files (self->store, series_uid, &error);
  l->window = g_strdup (spec != NULL ? spec->window : NULL);
  l->plane = g_strdup (spec != NULL ? spec->plane : "axial");
  l->last_volume = spec != NULL && spec->last_volume;
  if (l->files == NULL || l->files[0] == NULL)
    {
      if (error == NULL)
        g_set_error (&error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                     _("The series has no files in the workspace"));
      _cu_window_show_error (self, _("Could Not Open the Series"), error);
      pane_load_free (l);
      return;
    }
  {
    /* TRANSLATORS: pane header while its series loads */
    g_autofree char *loading = g_strdup_printf (_("%s (loading…)"), l->title);
    cu_reading_pane_set_title (pane, loading);
  }
  task = g_task_new (self, self->reading_cancellable, pane_load_done, NULL);
  g_task_set_source_tag (task, _cu_window_reading_load_pane);
  g_task_set_task_data (task, l, (GDestroyNotify) pane_load_free);
  g_task_run_in_thread (task, pane_load_thread);
}

/* ---- the series menus of the panes --------------------------------------------------- */

static void
rebuild_series_menu (CuWindow *self)
{
  g_autoptr (GPtrArray) records = NULL;

  g_menu_remove_all (self->series_menu);
  if (self->store == NULL || self->study_uid == NULL)
    return;
  records = cu_store_list_series (self->store, NULL);
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const CuSeriesRecord *rec = records->pdata[i];
      g_autofree char *title = NULL;
      g_autoptr (GMenuItem) item = NULL;

      if (g_strcmp0 (rec->study_uid, self->study_uid) != 0)
        continue;
      title = series_title (self, rec->series_uid);
      item = g_menu_item_new (title, NULL);
      /* the pane is filled in per pane: one menu per pane would be four copies of this one,
       * so the action takes the series and the pane asking is the one whose menu was open */
      g_menu_item_set_action_and_target_value (item, "pane.show-series",
                                               g_variant_new_string (rec->series_uid));
      g_menu_append_item (self->series_menu, item);
    }
}

static void
pane_show_series_cb (GSimpleAction *action, GVariant *param, gpointer data)
{
  CuReadingPane *pane = data;
  CuWindow *self = CU_WINDOW (gtk_widget_get_root (GTK_WIDGET (pane)));
  const char *uid = g_variant_get_string (param, NULL);

  if (self == NULL)
    return;
  for (guint i = 0; i < CU_READING_VIEW_MAX_PANES; i++)
    if (cu_reading_view_get_pane (self->reading_view, i) == pane)
      {
        if (i == 0)
          cu_window_open_series (self, uid);
        else
          _cu_window_reading_load_pane (self, i, uid, NULL);
      }
}

void
_cu_window_reading_series_shown (CuWindow *self)
{
  CuViewerLink *link = cu_reading_view_get_link (self->reading_view);
  CuReadingPane *pane0 = cu_reading_view_get_pane (self->reading_view, 0);
  g_autofree char *title = series_title (self, self->series_uid);

  cu_viewer_link_add (link, self->state, self->frame_uid);
  cu_viewer_link_set_linked (link, self->state, cu_reading_pane_get_linked (pane0));
  cu_reading_pane_set_title (pane0, title);
  if (g_strcmp0 (self->reading_study, self->study_uid) != 0)
    {
      g_free (self->reading_study);
      self->reading_study = g_strdup (self->study_uid);
      rebuild_series_menu (self);
    }
}

/* ---- layouts ------------------------------------------------------------------------- */

static void
set_layout (CuWindow *self, const char *layout)
{
  if (g_strcmp0 (layout, "mpr") == 0)
    gtk_stack_set_visible_child_name (self->layout_stack, "mpr");
  else if (cu_reading_view_set_layout (self->reading_view, layout))
    gtk_stack_set_visible_child_name (self->layout_stack, "reading");
  else
    return;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.link-window",
                                 g_strcmp0 (layout, "mpr") != 0);
}

static void
layout_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  const char *layout = g_variant_get_string (param, NULL);
  guint n;

  set_layout (self, layout);
  /* Panes that are empty get the study's other series in order, so 1×2 shows two series at
   * once without choosing: a reader changes them from the pane's menu. */
  n = g_strcmp0 (layout, "mpr") == 0 ? 0 : cu_reading_view_get_n_panes (self->reading_view);
  if (n > 1 && self->store != NULL && self->study_uid != NULL)
    {
      g_autoptr (GPtrArray) records = cu_store_list_series (self->store, NULL);
      guint next = 1;

      for (guint i = 0; records != NULL && i < records->len && next < n; i++)
        {
          const CuSeriesRecord *rec = records->pdata[i];
          CuReadingPane *pane;
          if (g_strcmp0 (rec->study_uid, self->study_uid) != 0
              || g_strcmp0 (rec->series_uid, self->series_uid) == 0)
            continue;
          pane = cu_reading_view_get_pane (self->reading_view, next);
          if (cu_viewer_state_get_volume (cu_reading_pane_get_state (pane)) == NULL)
            _cu_window_reading_load_pane (self, next, rec->series_uid, NULL);
          next++;
        }
    }
}

static void
link_window_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  CuViewerLink *link = cu_reading_view_get_link (self->reading_view);

  cu_viewer_link_set_window_linked (link, !cu_viewer_link_get_window_linked (link));
  _cu_window_toast (self, cu_viewer_link_get_window_linked (link)
                            ? _("Window/level linked across linked panes")
                            : _("Window/level set per pane"));
}

/* ---- the hanging protocol ------------------------------------------------------------ */

typedef struct
{
  char *workspace;
  char *study_uid;
  GPtrArray *series;       /* CuHangingSeries *, filled by the thread (paths below) */
  GPtrArray *uids;         /* char * */
  GPtrArray *descriptions; /* char * */
  GPtrArray *files;        /* char ** (GStrv) */
  GPtrArray *protocols;    /* CuHangingProtocol * */
} HangData;

static void
hang_data_free (HangData *h)
{
  g_free (h->workspace);
  g_free (h->study_uid);
  g_clear_pointer (&h->series, g_ptr_array_unref);
  g_clear_pointer (&h->uids, g_ptr_array_unref);
  g_clear_pointer (&h->descriptions, g_ptr_array_unref);
  g_clear_pointer (&h->files, g_ptr_array_unref);
  g_clear_pointer (&h->protocols, g_ptr_array_unref);
  g_free (h);
}

/* Classifying reads every series' headers: off the UI thread. The store is not touched
 * here (its rows were read on the UI thread). */
static void
hang_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  HangData *h = data;

  h->series = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_hanging_series_free);
  for (guint i = 0; i < h->uids->len; i++)
    {
      CuHangingSeries *s = g_new0 (CuHangingSeries, 1);
      const char *const *files = h->files->pdata[i];

      if (g_cancellable_is_cancelled (cancellable))
        break;
      s->series_uid = g_strdup (h->uids->pdata[i]);
      s->description = g_strdup (h->descriptions->pdata[i]);
      if (files != NULL && files[0] != NULL)
        s->klass = cu_series_class_from_files (files, cancellable, NULL);
      g_ptr_array_add (h->series, s);
    }
  h->protocols = cu_hanging_protocol_list (h->workspace, NULL);
  g_task_return_boolean (task, !g_cancellable_is_cancelled (cancellable));
}

static void
hang_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuWindow *self = CU_WINDOW (source);
  HangData *h = g_task_get_task_data (G_TASK (result));
  g_autofree CuHangingCandidate *candidates = NULL;
  g_autofree const char **assigned = NULL;
  const CuHangingProtocol *chosen = NULL;
  guint n = 0;

  if (!g_task_propagate_boolean (G_TASK (result), NULL) || self->store == NULL
      || g_strcmp0 (h->study_uid, self->study_uid) != 0)
    return;
  candidates = cu_hanging_candidates (h->series, &n);
  for (guint i = 0; i < h->protocols->len && chosen == NULL; i++)
    {
      const CuHangingProtocol *p = h->protocols->pdata[i];
      g_free (assigned);
      assigned = g_new0 (const char *, p->panes->len);
      if (cu_hanging_protocol_match (p, candidates, n, assigned))
        chosen = p;
    }
  if (chosen == NULL)
    {
      /* the default layout */
      set_layout (self, "mpr");
      _cu_window_toast (self, _("No hanging protocol matches this study: the default layout is kept"));
      return;
    }
  set_layout (self, chosen->layout);
  for (guint i = 0; i < chosen->panes->len && i < CU_READING_VIEW_MAX_PANES; i++)
    {
      const CuHangingPane *spec = chosen->panes->pdata[i];
      CuReadingPane *pane = cu_reading_view_get_pane (self->reading_view, i);

      if (i == 0)
        {
          if (assigned[0] != NULL && g_strcmp0 (assigned[0], self->series_uid) != 0)
            cu_window_open_series (self, assigned[0]);
          else if (spec->window != NULL)
            cu_viewer_state_apply_preset (self->state, spec->window);
          continue;
        }
      if (assigned[i] != NULL)
        _cu_window_reading_load_pane (self, i, assigned[i], spec);
      else
        {
          /* TRANSLATORS: pane header when the study has no series of the type the hanging
           * protocol puts there, e.g. "No DCE series in this study" */
          g_autofree char *text = g_strdup_printf (_("No %s series in this study"), spec->sequence);
          CuViewerState *state = cu_reading_pane_get_state (pane);
          cu_viewer_link_remove (cu_reading_view_get_link (self->reading_view), state);
          cu_viewer_state_set_volume (state, NULL);
          g_object_set_data (G_OBJECT (pane), "cu-series-uid", NULL);
          cu_reading_pane_set_title (pane, text);
        }
    }
  {
    g_autofree char *text = g_strdup_printf (_("Hanging protocol: %s"), chosen->name);
    _cu_window_toast (self, text);
  }
}

static void
hanging_protocol_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuWindow *self = CU_WINDOW (widget);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GTask) task = NULL;
  HangData *h;

  if (self->store == NULL || self->study_uid == NULL)
    return;
  records = cu_store_list_series (self->store, NULL);
  if (records == NULL)
    return;
  h = g_new0 (HangData, 1);
  h->workspace = g_strdup (cu_store_get_path (self->store));
  h->study_uid = g_strdup (self->study_uid);
  h->uids = g_ptr_array_new_with_free_func (g_free);
  h->descriptions = g_ptr_array_new_with_free_func (g_free);
  h->files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *rec = records->pdata[i];
      if (g_strcmp0 (rec->study_uid, self->study_uid) != 0)
        continue;
      g_ptr_array_add (h->uids, g_strdup (rec->series_uid));
      g_ptr_array_add (h->descriptions, g_strdup (rec->series_description));
      g_ptr_array_add (h->files, cu_store_get_series_files (self->store, rec->series_uid, NULL));
    }
  task = g_task_new (self, self->reading_cancellable, hang_done, NULL);
  g_task_set_source_tag (task, hanging_protocol_action);
  g_task_set_task_data (task, h, (GDestroyNotify) hang_data_free);
  g_task_run_in_thread (task, hang_thread);
}

/* ---- setup --------------------------------------------------------------------------- */

void
_cu_window_reading_class_init (GtkWidgetClass *widget_class)
{
  generation_quark = g_quark_from_static_string ("cu-pane-generation");
  gtk_widget_class_install_action (widget_class, "win.layout", "s", layout_action);
  gtk_widget_class_install_action (widget_class, "win.hanging-protocol", NULL, hanging_protocol_action);
  gtk_widget_class_install_action (widget_class, "win.link-window", NULL, link_window_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_h, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.hanging-protocol", NULL);
}

void
_cu_window_reading_init (CuWindow *self)
{
  self->reading_cancellable = g_cancellable_new ();
  self->series_menu = g_menu_new ();
  cu_reading_pane_set_state (cu_reading_view_get_pane (self->reading_view, 0), self->state);
  for (guint i = 0; i < CU_READING_VIEW_MAX_PANES; i++)
    {
      CuReadingPane *pane = cu_reading_view_get_pane (self->reading_view, i);
      g_autoptr (GSimpleActionGroup) group = g_simple_action_group_new ();
      g_autoptr (GSimpleAction) show = g_simple_action_new ("show-series", G_VARIANT_TYPE_STRING);

      g_signal_connect_object (show, "activate", G_CALLBACK (pane_show_series_cb), pane, 0);
      g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (show));
      gtk_widget_insert_action_group (GTK_WIDGET (pane), "pane", G_ACTION_GROUP (group));
      cu_reading_pane_set_series_menu (pane, G_MENU_MODEL (self->series_menu));
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.link-window", FALSE);
}

void
_cu_window_reading_dispose (CuWindow *self)
{
  if (self->reading_cancellable != NULL)
    g_cancellable_cancel (self->reading_cancellable);
  g_clear_object (&self->reading_cancellable);
  g_clear_object (&self->series_menu);
  g_clear_pointer (&self->reading_study, g_free);
}

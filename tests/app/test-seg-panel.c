/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-seg-panel.c — display test of segmentation in the main window, on the demo study: the
 * panel gets an editable map on the series grid; a brush drag through the axial view's tool
 * paints the active label, the overlay shows it in the rendered view, the stroke is saved to
 * the workspace at once; undo (seg.undo) restores the empty map and is saved too; a read-only
 * panel (gate not passed) ignores the brush; a new window reopens the saved segmentation.
 * Saving happens off the UI thread: while another connection holds the workspace's write lock
 * for seconds, strokes through the panel take milliseconds, the main loop keeps running, and
 * every stroke is in the version saved once the lock is released; an export runs as a task.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <adwaita.h>
#include <sqlite3.h>

#include "cu-flag-add-dialog.h"
#include "cu-flags.h"
#include "cu-mpr-view.h"
#include "cu-seg-measure.h"
#include "cu-seg-panel.h"
#include "cu-tool.h"
#include "cu-window.h"
#include "app-test-util.h"

/* Saves run on the session's thread and are reported through the main loop: TRUE once
 * everything committed is saved and the panel has been told. */
static gboolean
panel_saved (gpointer data)
{
  CuSegPanel *panel = data;
  CuSegSession *session = cu_seg_panel_get_session (panel);

  return session != NULL && !cu_seg_session_is_busy (session)
         && cu_seg_panel_get_saved_version (panel) == cu_seg_session_get_saved_version (session);
}

static void
wait_saved (CuSegPanel *panel)
{
  g_assert_true (app_test_wait_for (panel_saved, panel, 30));
}

/* The rendered view of a widget as RGBA bytes. */
static guint8 *
render_widget (GtkWidget *widget, int *w, int *h)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  guint8 *pixels;

  *w = gtk_widget_get_width (widget);
  *h = gtk_widget_get_height (widget);
  /* The widget paints nothing until the window has drawn a frame with it: on a busy machine
   * (the 3D pane renders on the CPU) that can take a while, so let the main loop run. */
  for (int attempt = 0; attempt < 200 && node == NULL; attempt++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      gtk_widget_queue_draw (widget);
      app_test_drain ();
      gdk_paintable_snapshot (paintable, snapshot, *w, *h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        g_usleep (50 * 1000);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node, NULL);
  if (g_getenv ("CU_TEST_SAVE_PNG") != NULL)
    gdk_texture_save_to_png (texture, g_getenv ("CU_TEST_SAVE_PNG"));
  pixels = g_malloc ((gsize) gdk_texture_get_width (texture) * gdk_texture_get_height (texture) * 4);
  gdk_texture_download (texture, pixels, (gsize) gdk_texture_get_width (texture) * 4);
  *w = gdk_texture_get_width (texture);
  *h = gdk_texture_get_height (texture);
  return pixels;
}

static void
test_paint_save_undo_reopen (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *dir = app_test_demo_workspace ("curata-seg", &uid);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = cu_store_open (dir, &error);
  CuSegPanel *panel;
  CuSliceCanvas *canvas;
  CuWindow *window;
  CuSegEditor *editor;
  CuLabelMap *map;
  const CuToolClass *brush;
  guint8 label;
  gsize painted;
  double cx, cy;
  int saved;

  g_assert_no_error (error);
  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  map = cu_seg_editor_get_map (editor);
  g_assert_nonnull (map);
  /* the views draw this editor's labels */
  g_assert_true (cu_viewer_state_get_seg_editor (cu_window_get_viewer_state (window)) == editor);
  g_assert_true (cu_seg_editor_get_editable (editor));
  g_assert_true (cu_label_map_same_grid (map, cu_seg_editor_get_image (editor)));
  /* A first lesion label is there to paint with. */
  g_assert_cmpuint (cu_label_map_get_n_labels (map), >=, 1);
  label = cu_seg_editor_get_label (editor);
  g_assert_true (cu_seg_label_is_lesion (cu_label_map_get_label (map, label)));
  g_assert_cmpuint (cu_label_map_count (map, label), ==, 0);
  wait_saved (panel);

  /* A brush drag across the middle of the axial view. */
  cu_seg_editor_set_tool (editor, CU_TOOL_BRUSH);
  cu_seg_editor_set_radius (editor, 4);
  brush = cu_tool_get_class (CU_TOOL_BRUSH);
  cx = gtk_widget_get_width (GTK_WIDGET (canvas)) / 2.0;
  cy = gtk_widget_get_height (GTK_WIDGET (canvas)) / 2.0;
  saved = cu_seg_panel_get_saved_version (panel);
  brush->press (canvas, editor, cx - 20, cy, 0);
  brush->drag (canvas, editor, cx, cy);
  brush->drag (canvas, editor, cx + 20, cy);
  brush->release (canvas, editor, cx + 20, cy);
  painted = cu_label_map_count (map, label);
  g_assert_cmpuint (painted, >, 50);
  /* Saved at once, as a new version of this reader. */
  wait_saved (panel);
  g_assert_cmpint (cu_seg_panel_get_saved_version (panel), ==, saved + 1);
  {
    g_autoptr (CuLabelMap) stored = cu_store_seg_load (store, uid, cu_seg_panel_get_reader (panel), 0, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (cu_label_map_count (stored, label), ==, painted);
  }

  /* An incidental finding about that lesion, from the viewer's "Raise a Flag" dialog: the
   * lesion chooser lists the labels; the flag carries the lesion and its centroid. */
  {
    GtkWidget *dialog;
    g_autoptr (CuFlag) flag = NULL;
    g_autoptr (CuLabelMap) stored = cu_store_seg_load (store, uid, cu_seg_panel_get_reader (panel), 0, NULL, &error);
    CuSegMeasure m;

    g_assert_no_error (error);
    g_assert_true (cu_seg_measure (stored, label, &m));
    gtk_widget_activate_action (GTK_WIDGET (window), "win.add-flag", NULL);
    app_test_drain ();
    dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
    g_assert_nonnull (dialog);
    cu_flag_add_dialog_fill (dialog, "series", "incidental", "Please inform the treating physician", FALSE);
    cu_flag_add_dialog_set_lesion (dialog, label);
    app_test_drain ();
    app_test_shot (dialog, "seg-lesion-flag.png");
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "add");
    app_test_drain ();
    g_assert_cmpint (cu_flag_add_dialog_get_flag_id (dialog), >, 0);
    flag = cu_flags_get (store, cu_flag_add_dialog_get_flag_id (dialog), &error);
    g_assert_no_error (error);
    gtk_window_destroy (GTK_WINDOW (dialog));
    g_assert_cmpint (flag->kind, ==, CU_FLAG_KIND_INCIDENTAL);
    g_assert_cmpstr (flag->series_uid, ==, uid);
    g_assert_true (flag->has_position);
    for (int i = 0; i < 3; i++)
      g_assert_cmpfloat_with_epsilon (flag->position[i], m.centroid_lps[i], 0.006);
    g_assert_nonnull (strstr (flag->details, "\"lesion\":"));
    g_assert_nonnull (strstr (flag->message, "Please inform the treating physician"));
  }

  /* The overlay is drawn: the view's centre pixel has the label's colour blended in. */
  {
    int w, h;
    g_autofree guint8 *px = NULL;
    const CuLabel *l = cu_label_map_get_label (map, label);
    const guint8 *p;
    double ijk[3], lx, ly;
    int sf = gtk_widget_get_scale_factor (GTK_WIDGET (canvas));

    app_test_drain ();
    px = render_widget (GTK_WIDGET (canvas), &w, &h);
    /* off the crosshair lines through the cursor, inside the painted band */
    g_assert_true (cu_slice_canvas_widget_to_index (canvas, cx + 10, cy + 5, ijk));
    cu_slice_canvas_index_to_widget (canvas, ijk, &lx, &ly);
    p = px + ((gsize) lround (ly * sf) * w + (gsize) lround (lx * sf)) * 4;
    g_test_message ("pixel at %.1f,%.1f (view %dx%d): %d %d %d", lx, ly, w, h, p[0], p[1], p[2]);
    /* Red lesion colour over grey tissue: red clearly above green and blue
     * (gdk_texture_download gives B, G, R, A bytes). */
    g_assert_cmpint (l->rgb[0], >, l->rgb[1]);
    g_assert_cmpint (p[2], >, p[1] + 30);
    g_assert_cmpint (p[2], >, p[0] + 30);
  }

  /* Undo through the action: empty again, and that state is saved too. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.undo", NULL));
  g_assert_cmpuint (cu_label_map_count (map, label), ==, 0);
  wait_saved (panel);
  g_assert_cmpint (cu_seg_panel_get_saved_version (panel), ==, saved + 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.redo", NULL));
  g_assert_cmpuint (cu_label_map_count (map, label), ==, painted);

  /* Read-only (the gate): the brush changes nothing and nothing is saved. */
  wait_saved (panel);
  cu_seg_panel_set_editable (panel, FALSE);
  saved = cu_seg_panel_get_saved_version (panel);
  cu_seg_editor_set_tool (editor, CU_TOOL_BRUSH);
  brush->press (canvas, editor, cx, cy + 40, 0);
  brush->release (canvas, editor, cx, cy + 40);
  g_assert_cmpuint (cu_label_map_count (map, label), ==, painted);
  wait_saved (panel);
  g_assert_cmpint (cu_seg_panel_get_saved_version (panel), ==, saved);
  cu_seg_panel_set_editable (panel, TRUE);

  /* Combine: a second label takes the first one's voxels (union moves them: labels are
   * exclusive), as one undoable, saved step; a label combined with itself changes nothing. */
  {
    guint8 second;

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.add-label", "s", "lesion"));
    second = cu_seg_editor_get_label (editor);
    g_assert_cmpuint (second, !=, label);
    g_assert_cmpuint (cu_label_map_count (map, second), ==, 0);
    wait_saved (panel);
    saved = cu_seg_panel_get_saved_version (panel);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.combine", "(sy)", "union", label));
    g_assert_cmpuint (cu_label_map_count (map, second), ==, painted);
    g_assert_cmpuint (cu_label_map_count (map, label), ==, 0);
    wait_saved (panel);
    g_assert_cmpint (cu_seg_panel_get_saved_version (panel), ==, saved + 1);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.combine", "(sy)", "union", second));
    g_assert_cmpuint (cu_label_map_count (map, second), ==, painted);
    wait_saved (panel);
    g_assert_cmpint (cu_seg_panel_get_saved_version (panel), ==, saved + 1);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.undo", NULL));
    g_assert_cmpuint (cu_label_map_count (map, label), ==, painted);
    g_assert_cmpuint (cu_label_map_count (map, second), ==, 0);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.remove-label", NULL));
    cu_seg_editor_set_label (editor, label);
  }

  /* For a picture of the panel with a filled lesion form (CU_TEST_SAVE_PANEL_PNG=path). */
  if (g_getenv ("CU_TEST_SAVE_PANEL_PNG") != NULL)
    {
      g_autoptr (CuLabel) l = cu_label_copy (cu_label_map_get_label (map, label));
      GtkWidget *scroller = gtk_widget_get_first_child (GTK_WIDGET (panel));
      GtkWidget *content = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scroller));
      g_autofree guint8 *px = NULL;
      int w, h;

      g_free (l->form_json);
      l->form_json = g_strdup ("{\"zone\":\"PZ\",\"t2w\":4,\"dwi\":3,\"dce\":\"positive\","
                               "\"overall\":4,\"remark\":\"left mid-gland, posterolateral\"}");
      cu_label_map_set_label (map, l);
      cu_seg_editor_labels_changed (editor);
      cu_seg_editor_set_ruler (editor, (double[]) { 100, 120, 12 }, (double[]) { 140, 150, 12 });
      app_test_wait_for (app_test_canvas_allocated, canvas, 1);
      g_usleep (300 * 1000);
      app_test_drain ();
      {
        GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller));
        gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
      }
      (void) content;
      app_test_drain ();
      g_usleep (300 * 1000);
      app_test_drain ();
      g_setenv ("CU_TEST_SAVE_PNG", g_getenv ("CU_TEST_SAVE_PANEL_PNG"), TRUE);
      px = render_widget (GTK_WIDGET (window), &w, &h);
      g_unsetenv ("CU_TEST_SAVE_PNG");
    }

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();

  /* A new window shows the saved segmentation. */
  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  g_assert_cmpuint (cu_label_map_count (cu_seg_editor_get_map (editor), label), ==, painted);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

/* Another writer: a connection of its own holds the workspace's write lock (BEGIN IMMEDIATE)
 * on a thread, as an import in another process would, until told to let go. */
typedef struct
{
  char *db_path;
  GMutex lock;
  GCond cond;
  gboolean locked, release;
} LockHolder;

static gpointer
hold_lock (gpointer data)
{
  LockHolder *h = data;
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (h->db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL), ==, SQLITE_OK);
  g_mutex_lock (&h->lock);
  h->locked = TRUE;
  g_cond_broadcast (&h->cond);
  while (!h->release)
    g_cond_wait (&h->cond, &h->lock);
  g_mutex_unlock (&h->lock);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  return NULL;
}

/* The longest the main loop went without running a 10 ms timeout. */
typedef struct
{
  gint64 last, worst;
} Latency;

static gboolean
tick (gpointer data)
{
  Latency *l = data;
  gint64 now = g_get_monotonic_time ();

  if (l->last > 0)
    l->worst = MAX (l->worst, now - l->last);
  l->last = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
panel_not_busy (gpointer data)
{
  return !cu_seg_panel_get_busy (CU_SEG_PANEL (data));
}

static void
test_strokes_while_locked (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *dir = app_test_demo_workspace ("curata-seg", &uid);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = cu_store_open (dir, &error);
  g_autoptr (GThread) thread = NULL;
  LockHolder holder = { g_build_filename (dir, "workspace.sqlite", NULL) };
  Latency latency = { 0, 0 };
  CuSegPanel *panel;
  CuSliceCanvas *canvas;
  CuWindow *window;
  CuSegEditor *editor;
  CuLabelMap *map;
  const CuToolClass *brush;
  gint64 slowest = 0, until;
  guint source;
  double cx, cy;
  int before;

  g_assert_no_error (error);
  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  map = cu_seg_editor_get_map (editor);
  wait_saved (panel);
  before = cu_seg_panel_get_saved_version (panel);

  g_mutex_init (&holder.lock);
  g_cond_init (&holder.cond);
  thread = g_thread_new ("lock-holder", hold_lock, &holder);
  g_mutex_lock (&holder.lock);
  while (!holder.locked)
    g_cond_wait (&holder.cond, &holder.lock);
  g_mutex_unlock (&holder.lock);

  source = g_timeout_add (10, tick, &latency);
  cu_seg_editor_set_tool (editor, CU_TOOL_BRUSH);
  cu_seg_editor_set_radius (editor, 3);
  brush = cu_tool_get_class (CU_TOOL_BRUSH);
  cx = gtk_widget_get_width (GTK_WIDGET (canvas)) / 2.0;
  cy = gtk_widget_get_height (GTK_WIDGET (canvas)) / 2.0;
  for (int s = 0; s < 6; s++)
    {
      gint64 t0 = g_get_monotonic_time ();

      brush->press (canvas, editor, cx - 30 + 12 * s, cy - 30, 0);
      brush->drag (canvas, editor, cx - 30 + 12 * s, cy);
      brush->release (canvas, editor, cx - 30 + 12 * s, cy + 30);
      slowest = MAX (slowest, g_get_monotonic_time () - t0);
      app_test_drain ();
    }
  /* The store's busy timeout is 5 s: hold the lock past it while the main loop runs. */
  until = g_get_monotonic_time () + 6 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
  g_test_message ("slowest stroke %.1f ms, longest main loop gap %.1f ms",
                  slowest / 1000.0, latency.worst / 1000.0);
  /* Saving on the UI thread waited 5 s for the lock on every stroke. What a stroke still
   * costs here is drawing and the 3D surfaces, on a software renderer of a shared machine:
   * the bounds leave room for that, and none for a wait on the lock. */
  g_assert_cmpint (slowest, <, 600 * 1000);
  g_assert_cmpint (latency.worst, <, 800 * 1000);
  g_assert_cmpint (cu_seg_panel_get_saved_version (panel), ==, before);
  g_assert_true (cu_seg_session_is_busy (cu_seg_panel_get_session (panel)));

  g_mutex_lock (&holder.lock);
  holder.release = TRUE;
  g_cond_broadcast (&holder.cond);
  g_mutex_unlock (&holder.lock);
  g_thread_join (g_steal_pointer (&thread));
  wait_saved (panel);
  g_source_remove (source);
  g_assert_cmpint (cu_seg_panel_get_saved_version (panel), >, before);
  {
    /* Every stroke is in the version saved: the same bytes as on screen. */
    g_autoptr (CuLabelMap) stored = cu_store_seg_load (store, uid, cu_seg_panel_get_reader (panel), 0, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (cu_label_map_count (stored, cu_seg_editor_get_label (editor)), >, 200);
    g_assert_true (memcmp (stored->data, map->data, cu_label_map_n_voxels (map)) == 0);
  }

  /* The NIfTI export runs as a task: the panel is busy, then the file is there. */
  {
    g_autofree char *out = g_build_filename (dir, "out", "seg.nii.gz", NULL);
    cu_seg_panel_export (panel, "nifti", out);
    g_assert_true (cu_seg_panel_get_busy (panel));
    g_assert_true (app_test_wait_for (panel_not_busy, panel, 60));
    g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  }
  /* The DICOM export writes the SEG and, beside it, its measurement report. */
  {
    g_autofree char *out = g_build_filename (dir, "out", "seg.dcm", NULL);
    g_autofree char *sr = g_build_filename (dir, "out", "seg-sr.dcm", NULL);
    g_autoptr (CuDicomHeader) h = NULL;

    cu_seg_panel_export (panel, "dicom-seg+sr", out);
    g_assert_true (app_test_wait_for (panel_not_busy, panel, 60));
    g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
    h = cu_dicom_header_read (sr, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (h->sop_class_uid, ==, CU_DICOM_COMPREHENSIVE_3D_SR_STORAGE);
  }

  /* So does the agreement with another reader: busy, then the dialog with Dice and HD95. */
  {
    g_autoptr (CuLabelMap) other = cu_label_map_copy (map);
    GtkWidget *dialog;

    g_assert_cmpint (cu_store_seg_save (store, uid, "other-reader", CU_SEG_KIND_READING, other, NULL, &error), ==, 1);
    g_assert_no_error (error);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (panel), "seg.agreement", NULL));
    g_assert_true (cu_seg_panel_get_busy (panel));
    g_assert_true (app_test_wait_for (panel_not_busy, panel, 60));
    dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
    g_assert_nonnull (dialog);
    g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (dialog)), "Dice 1.00"));
    gtk_window_destroy (GTK_WINDOW (dialog));
  }

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_mutex_clear (&holder.lock);
  g_cond_clear (&holder.cond);
  g_free (holder.db_path);
  app_test_rm_rf (dir);
}

/* The panel's "Other labels" drop-down (found by its tooltip, as a user finds it). */
static GtkDropDown *
find_overlap_dropdown (GtkWidget *widget)
{
  const char *tip = gtk_widget_get_tooltip_text (widget);

  if (GTK_IS_DROP_DOWN (widget) && tip != NULL && strstr (tip, "overlap") != NULL)
    return GTK_DROP_DOWN (widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkDropDown *found = find_overlap_dropdown (c);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The canvas pixel (B, G, R, A) at voxel ijk. */
static void
pixel_at (CuSliceCanvas *canvas, const double ijk[3], guint8 out[4])
{
  int w, h, sf = gtk_widget_get_scale_factor (GTK_WIDGET (canvas));
  g_autofree guint8 *px = NULL;
  double lx, ly;

  app_test_drain ();
  px = render_widget (GTK_WIDGET (canvas), &w, &h);
  cu_slice_canvas_index_to_widget (canvas, ijk, &lx, &ly);
  memcpy (out, px + ((gsize) lround (ly * sf) * w + (gsize) lround (lx * sf)) * 4, 4);
}

/* Both labels are drawn where they overlap: hiding either changes the pixel there (a map
 * flattened to one label per voxel would show only one of them). */
static void
assert_overlap_drawn (CuSegEditor *editor, CuSliceCanvas *canvas, const double ijk[3])
{
  CuSegOverlayStyle *style = cu_seg_editor_get_style (editor);
  guint8 both[4], no_gland[4], no_lesion[4];

  pixel_at (canvas, ijk, both);
  style->hidden[1] = TRUE;
  cu_seg_editor_changed (editor);
  pixel_at (canvas, ijk, no_gland);
  style->hidden[1] = FALSE;
  style->hidden[2] = TRUE;
  cu_seg_editor_changed (editor);
  pixel_at (canvas, ijk, no_lesion);
  style->hidden[2] = FALSE;
  cu_seg_editor_changed (editor);
  g_test_message ("overlap pixel BGR: both %d %d %d, without gland %d %d %d, without lesion %d %d %d",
                  both[0], both[1], both[2], no_gland[0], no_gland[1], no_gland[2],
                  no_lesion[0], no_lesion[1], no_lesion[2]);
  g_assert_cmpint (abs ((int) both[1] - no_gland[1]) + abs ((int) both[2] - no_gland[2]), >, 10);
  g_assert_cmpint (abs ((int) both[1] - no_lesion[1]) + abs ((int) both[2] - no_lesion[2]), >, 10);
}

/* A stored segmentation whose lesion lies inside the gland (two layers) opens with both drawn;
 * a stroke with "Allow overlap" chosen in the panel grows the lesion without taking the
 * gland's voxels; after a restart the overlap is still there and still drawn. */
static void
test_overlap_drawn_and_kept (void)
{
  g_autofree char *uid = NULL;
  g_autofree char *dir = app_test_demo_workspace ("curata-seg", &uid);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStore) store = cu_store_open (dir, &error);
  g_autoptr (CuVolume) grid = NULL;
  g_autoptr (CuLabelMap) seeded = NULL;
  g_autofree guint8 *mask = NULL;
  const char *reader = cu_store_seg_default_reader ();
  CuSegPanel *panel;
  CuSliceCanvas *canvas;
  CuWindow *window;
  CuSegEditor *editor;
  CuLabelMap *map;
  GtkDropDown *dropdown;
  double ci, cj, lesion_ijk[3], centre[3], lps[3];
  int k, nx, ny;
  gsize gland, lesion, shared;

  g_assert_no_error (error);
  grid = cu_store_seg_series_grid (store, uid, &error);
  g_assert_no_error (error);
  seeded = cu_label_map_new (grid, &error);
  g_assert_no_error (error);
  nx = seeded->dims[0];
  ny = seeded->dims[1];
  k = seeded->dims[2] / 2;
  ci = nx / 2.0;
  cj = ny / 2.0;
  {
    g_autoptr (CuLabel) g = cu_label_new (1, "Prostate", NULL);
    g_autoptr (CuLabel) l = cu_label_new (2, "Lesion", NULL);
    cu_label_map_set_label (seeded, g);
    cu_label_map_set_label (seeded, l);
  }
  /* gland: a disc of radius nx/4 on slices k-1..k+1; lesion: radius nx/20 inside it, off the
   * crosshair lines through the centre */
  mask = g_new0 (guint8, cu_label_map_n_voxels (seeded));
  gland = lesion = 0;
  for (int kk = k - 1; kk <= k + 1; kk++)
    for (int j = 0; j < ny; j++)
      for (int i = 0; i < nx; i++)
        if ((i - ci) * (i - ci) + (j - cj) * (j - cj) <= (nx / 4.0) * (nx / 4.0))
          {
            mask[cu_label_map_index (seeded, i, j, kk)] = 1;
            gland++;
          }
  g_assert_cmpint (cu_label_map_place_mask (seeded, 1, mask, &error), ==, 0);
  memset (mask, 0, cu_label_map_n_voxels (seeded));
  lesion_ijk[0] = ci + nx / 10.0;
  lesion_ijk[1] = cj + ny / 10.0;
  lesion_ijk[2] = k;
  for (int j = 0; j < ny; j++)
    for (int i = 0; i < nx; i++)
      if ((i - lesion_ijk[0]) * (i - lesion_ijk[0]) + (j - lesion_ijk[1]) * (j - lesion_ijk[1])
          <= (nx / 20.0) * (nx / 20.0))
        {
          mask[cu_label_map_index (seeded, i, j, k)] = 1;
          lesion++;
        }
  /* the lesion overlaps the gland: it goes to a second layer */
  g_assert_cmpint (cu_label_map_place_mask (seeded, 2, mask, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (cu_store_seg_save (store, uid, reader, CU_SEG_KIND_READING, seeded, "model", &error), >, 0);
  g_assert_no_error (error);

  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  map = cu_seg_editor_get_map (editor);
  g_assert_cmpstr (cu_seg_panel_get_reader (panel), ==, reader);
  g_assert_cmpint (cu_label_map_get_n_layers (map), ==, 2);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland);
  g_assert_cmpuint (cu_label_map_count_pair (map, 1, 2), ==, lesion);
  wait_saved (panel);
  centre[0] = ci;
  centre[1] = cj;
  centre[2] = k;
  cu_volume_index_to_lps (map->geometry, centre, lps);
  cu_viewer_state_set_cursor (cu_window_get_viewer_state (window), lps);
  assert_overlap_drawn (editor, canvas, lesion_ijk);

  /* The overlap policy from the panel, then a stroke of the lesion inside the gland. */
  dropdown = find_overlap_dropdown (GTK_WIDGET (panel));
  g_assert_nonnull (dropdown);
  g_assert_cmpint (cu_seg_editor_get_overlap (editor), ==, CU_SEG_OVERLAP_OVERWRITE);
  gtk_drop_down_set_selected (dropdown, CU_SEG_OVERLAP_ALLOW);
  g_assert_cmpint (cu_seg_editor_get_overlap (editor), ==, CU_SEG_OVERLAP_ALLOW);
  cu_seg_editor_set_label (editor, 2);
  cu_seg_editor_set_tool (editor, CU_TOOL_BRUSH);
  cu_seg_editor_set_radius (editor, 3);
  {
    const CuToolClass *brush = cu_tool_get_class (CU_TOOL_BRUSH);
    double at[3] = { ci - nx / 10.0, cj + ny / 10.0, k }, wx, wy;

    cu_slice_canvas_index_to_widget (canvas, at, &wx, &wy);
    brush->press (canvas, editor, wx, wy, 0);
    brush->release (canvas, editor, wx, wy);
  }
  wait_saved (panel);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland);
  g_assert_cmpuint (cu_label_map_count (map, 2), >, lesion);
  shared = cu_label_map_count_pair (map, 1, 2);
  g_assert_cmpuint (shared, >, lesion);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();

  /* A restart: a new window on the workspace shows the same overlap. */
  window = app_test_open_annotation (store, uid, &panel, &canvas);
  editor = cu_seg_panel_get_editor (panel);
  map = cu_seg_editor_get_map (editor);
  g_assert_cmpint (cu_label_map_get_n_layers (map), ==, 2);
  g_assert_cmpuint (cu_label_map_count (map, 1), ==, gland);
  g_assert_cmpuint (cu_label_map_count_pair (map, 1, 2), ==, shared);
  cu_viewer_state_set_cursor (cu_window_get_viewer_state (window), lps);
  assert_overlap_drawn (editor, canvas, lesion_ijk);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_clear_object (&store);
  app_test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  g_test_add_func ("/app/seg-panel/paint-save-undo-reopen", test_paint_save_undo_reopen);
  g_test_add_func ("/app/seg-panel/strokes-while-locked", test_strokes_while_locked);
  g_test_add_func ("/app/seg-panel/overlap-drawn-and-kept", test_overlap_drawn_and_kept);
  return g_test_run ();
}

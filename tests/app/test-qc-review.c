/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-qc-review.c — display test of the quality gate in the GUI: an import through the main
 * window checks the new series by itself in the background; the review window lists them with
 * their state, shows the findings and the foreground mask over the image (the viewer state's
 * overlay, the same mask the metrics used), refuses a rejection without a reason, records
 * decisions (audited), and the main window opens a series for annotation only once it is
 * accepted.
 *
 * With CU_QC_SCREENSHOT=FILE.png the review window is also rendered into FILE.png.
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "cu-flags.h"
#include "cu-qc-review.h"
#include "cu-window.h"
#include "cu-window-private.h"
#include "app-test-util.h"

static gboolean
not_busy (gpointer data)
{
  return !cu_window_is_busy (CU_WINDOW (data)) && !_cu_window_qc_is_running (CU_WINDOW (data));
}

static gboolean
review_ready (gpointer data)
{
  return !cu_qc_review_is_busy (CU_QC_REVIEW (data));
}

static gboolean
has_label_with_prefix (GtkWidget *widget, const char *prefix)
{
  if (GTK_IS_LABEL (widget) && g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), prefix))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (has_label_with_prefix (c, prefix))
      return TRUE;
  return FALSE;
}

/* Rows of the findings list that are about the study's protocol. */
static guint
count_protocol_rows (CuQcReview *review)
{
  GtkWidget *list = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (review), CU_TYPE_QC_REVIEW,
                                                               "findings_list"));
  guint n = 0;

  for (GtkWidget *row = gtk_widget_get_first_child (list); row != NULL; row = gtk_widget_get_next_sibling (row))
    n += has_label_with_prefix (row, "Study protocol");
  return n;
}

static GtkWidget *
find_named (GtkWidget *widget, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
save_screenshot (GtkWidget *widget, const char *path)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  int w = gtk_widget_get_width (widget), h = gtk_widget_get_height (widget);

  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

static void
test_review (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cu-test-qc-review-XXXXXX", &error);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *adc_src = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr/prostate_adc_ge", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (CuQcDecision) d = NULL;
  CuWindow *window;
  CuQcReview *review;
  GtkWidget *entry;
  const char *shot = g_getenv ("CU_QC_SCREENSHOT");
  const char *selected;
  AppTestSeriesWait w;

  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* the import starts the quality check of the new series by itself */
  cu_window_import_demo (window, FALSE);
  g_assert_true (app_test_wait_for (not_busy, window, 120));
  cu_window_import (window, (const char *const[]) { adc_src, NULL });
  g_assert_true (app_test_wait_for (not_busy, window, 120));
  list = cu_store_qc_list (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  for (guint i = 0; i < list->len; i++)
    {
      const CuQcSummary *s = list->pdata[i];
      g_assert_true (s->checked);
      g_assert_cmpint (s->state, ==, CU_QC_DECISION_NOT_REVIEWED);
    }

  /* the review: the first series is selected, its image shown under the mask */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.qc-review", NULL));
  review = _cu_window_qc_review (window);
  g_assert_nonnull (review);
  g_assert_true (app_test_wait_for (review_ready, review, 60));
  selected = cu_qc_review_get_series (review);
  g_assert_nonnull (selected);
  g_assert_nonnull (cu_viewer_state_get_volume (cu_qc_review_get_viewer_state (review)));
  {
    GBytes *overlay = cu_viewer_state_get_overlay (cu_qc_review_get_viewer_state (review), NULL);
    CuVolume *vol = cu_viewer_state_get_volume (cu_qc_review_get_viewer_state (review));
    const guint8 *m;
    gsize n, inside = 0;
    g_assert_nonnull (overlay);
    m = g_bytes_get_data (overlay, &n);
    g_assert_cmpuint (n, ==, cu_volume_n_voxels_3d (vol));
    for (gsize i = 0; i < n; i++)
      inside += m[i] != 0;
    /* a body in the field of view: neither empty nor everything */
    g_assert_cmpuint (inside, >, n / 20);
    g_assert_cmpuint (inside, <, n);
  }

  /* open the selected series in the main window: not accepted yet, so no annotation */
  w.window = window;
  w.uid = selected;
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-series", "s", selected));
  g_assert_true (app_test_wait_for (app_test_series_opened, &w, 60));
  g_assert_false (cu_window_can_annotate (window));
  g_assert_nonnull (strstr (cu_window_get_annotation_lock (window), "quality review"));

  /* a rejection without a reason is refused and nothing is recorded */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.decide", "s", "rejected"));
    g_assert_true (app_test_wait_for (review_ready, review, 60));
  d = cu_store_qc_get_decision (store, selected, &error);
  g_assert_cmpint (d->state, ==, CU_QC_DECISION_NOT_REVIEWED);
  g_clear_pointer (&d, cu_qc_decision_free);

  /* with a reason it is recorded, with user and time */
  entry = (GtkWidget *) gtk_widget_get_template_child (GTK_WIDGET (review), CU_TYPE_QC_REVIEW, "reason_entry");
  gtk_editable_set_text (GTK_EDITABLE (entry), "Motion in the lower slices");
  {
    g_autofree char *uid = g_strdup (selected);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.decide", "s", "ask-site"));
    g_assert_true (app_test_wait_for (review_ready, review, 60));
    d = cu_store_qc_get_decision (store, uid, &error);
    g_assert_cmpint (d->state, ==, CU_QC_DECISION_ASK_SITE);
    g_assert_cmpstr (d->reason, ==, "Motion in the lower slices");
    g_assert_cmpstr (d->user, ==, g_get_user_name ());
    g_assert_false (cu_window_can_annotate (window));
    g_clear_pointer (&d, cu_qc_decision_free);
    /* the review moved on to the next series not reviewed */
    g_assert_cmpstr (cu_qc_review_get_series (review), !=, uid);

    /* accepting (no reason needed) opens it for annotation: the demo passed the gate */
    g_assert_true (cu_qc_review_select_series (review, uid));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.decide", "s", "accepted"));
    g_assert_true (app_test_wait_for (review_ready, review, 60));
    d = cu_store_qc_get_decision (store, uid, &error);
    g_assert_cmpint (d->state, ==, CU_QC_DECISION_ACCEPTED);
    g_assert_true (cu_window_can_annotate (window));
    /* The decision line shows the time as people read it, in local time, not the stored
     * ISO 8601 text. */
    {
      GtkLabel *line = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (review),
                                                                 CU_TYPE_QC_REVIEW,
                                                                 "decision_label"));
      g_autoptr (GDateTime) utc = g_date_time_new_from_iso8601 (d->time, NULL);
      g_autoptr (GDateTime) local = g_date_time_to_local (utc);
      g_autofree char *shown = g_date_time_format (local, "%Y-%m-%d %H:%M");

      g_assert_true (cu_qc_review_select_series (review, uid));
      g_assert_null (strstr (gtk_label_get_text (line), d->time));
      g_assert_nonnull (strstr (gtk_label_get_text (line), shown));
    }
  }

  /* the protocol: the header names the workspace's; a site's own file replaces it (audited by
   * the store), and the study-level findings are measured against it; a broken file changes
   * nothing */
  {
    GtkMenuButton *button = GTK_MENU_BUTTON (gtk_widget_get_template_child (GTK_WIDGET (review),
                                                                            CU_TYPE_QC_REVIEW,
                                                                            "protocol_button"));
    g_autofree char *ini = g_build_filename (dir, "t2-only.ini", NULL);
    g_autofree char *broken = g_build_filename (dir, "broken.ini", NULL);
    g_autofree char *which = NULL;

    g_assert_cmpstr (gtk_menu_button_get_label (button), ==, "Prostate mpMRI (PI-RADS v2.1)");
    g_assert_cmpuint (count_protocol_rows (review), >, 0);
    g_assert_true (g_file_set_contents (ini,
                                        "[Protocol]\nId=t2-only\nName=Axial T2 only\nSeries=t2\n\n"
                                        "[t2]\nLabel=Axial T2-weighted\nType=T2W\nPlanes=axial\n"
                                        "Required=true\n", -1, NULL));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.set-protocol", "s", ini));
    g_assert_true (app_test_wait_for (review_ready, review, 60));
    g_assert_cmpstr (gtk_menu_button_get_label (button), ==, "Axial T2 only");
    which = cu_store_qc_get_protocol (store);
    g_assert_cmpstr (which, ==, ini);
    g_assert_cmpuint (count_protocol_rows (review), ==, 0);

    g_assert_true (g_file_set_contents (broken, "this is not a protocol\n", -1, NULL));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.set-protocol", "s", broken));
    g_assert_true (app_test_wait_for (review_ready, review, 60));
    g_assert_cmpstr (gtk_menu_button_get_label (button), ==, "Axial T2 only");
    g_free (which);
    which = cu_store_qc_get_protocol (store);
    g_assert_cmpstr (which, ==, ini);

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.set-protocol", "s",
                                               "prostate-mpmri-pirads-2.1"));
    g_assert_true (app_test_wait_for (review_ready, review, 60));
    g_assert_cmpuint (count_protocol_rows (review), >, 0);
  }

  /* Forward to the site: the button on a study-protocol row (the demo has no DWI) asks the
   * site for the missing series, with the curator's note; the flag is an image flag on the
   * study, one per requirement, and forwarding again does not ask twice. */
  {
    GtkWidget *list_w = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (review), CU_TYPE_QC_REVIEW,
                                                                   "findings_list"));
    CuFlagFilter filter = { .state = "active", .kind = "image", .rule_id = "qc-finding" };
    g_autoptr (GPtrArray) flags = NULL;
    GtkWidget *button = NULL;
    GtkWidget *previous = NULL;

    for (int round = 0; round < 2; round++)
      {
        GtkWidget *dialog;
        GtkWidget *entry_w;

        button = NULL;
        for (GtkWidget *row = gtk_widget_get_first_child (list_w); row != NULL && button == NULL;
             row = gtk_widget_get_next_sibling (row))
          if (has_label_with_prefix (row, "Study protocol") && has_label_with_prefix (row, "Study protocol — Missing: Diffusion"))
            button = find_named (row, "forward-finding");
        g_assert_nonnull (button);
        /* a click (gtk_widget_activate would wait for the button's press animation) */
        g_signal_emit_by_name (button, "clicked");
        app_test_drain ();
        dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
        g_assert_nonnull (dialog);
        g_assert_true (dialog != previous);
        previous = dialog;
        entry_w = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));
        gtk_editable_set_text (GTK_EDITABLE (entry_w), "Please send the DWI with b = 1500");
        if (round == 0)
          {
            app_test_drain ();
            app_test_shot (dialog, "qc-forward-dialog.png");
          }
        /* what the Forward button does: the response, then the dialog closes */
        adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "forward");
        gtk_window_destroy (GTK_WINDOW (dialog));
        app_test_drain ();
        g_assert_true (app_test_wait_for (review_ready, review, 60));
      }
    flags = cu_flags_list (store, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (flags->len, ==, 1);
    {
      const CuFlag *f = flags->pdata[0];
      g_assert_null (f->series_uid);
      g_assert_nonnull (f->study_uid);
      g_assert_nonnull (strstr (f->message, "Diffusion"));
      g_assert_nonnull (strstr (f->message, "Please send the DWI with b = 1500"));
    }
  }

  /* The cohort heading follows the series shown, whether or not the plot has drawn: select
   * every series in turn and read the heading straight away. */
  {
    GtkLabel *cohort_title = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (review),
                                                                        CU_TYPE_QC_REVIEW,
                                                                        "cohort_title"));
    guint n_named = 0;

    for (guint i = 0; i < list->len; i++)
      {
        const char *uid = ((CuQcSummary *) list->pdata[i])->series_uid;
        g_autoptr (CuQcReport) r = cu_store_qc_load (store, uid, NULL);

        if (r == NULL || r->sequence == NULL || !cu_qc_review_select_series (review, uid))
          continue;
        g_assert_nonnull (strstr (gtk_label_get_text (cohort_title), r->sequence));
        n_named++;
      }
    g_assert_cmpuint (n_named, >=, 2);
    g_assert_true (app_test_wait_for (review_ready, review, 60));
  }

  if (shot != NULL)
    {
      /* the application's style, which AdwApplication would load */
      g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
      gtk_css_provider_load_from_resource (css, "/io/github/curata/Curata/style.css");
      gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      /* the ADC series from the corpus, selected and drawn */
      g_assert_true (app_test_wait_for (review_ready, review, 60));
      gtk_window_set_default_size (GTK_WINDOW (review), 1400, 900);
      for (guint i = 0; i < list->len; i++)
        if (strstr (((CuQcSummary *) list->pdata[i])->series_uid, "1.3.6.1.4.1.14519") != NULL)
          cu_qc_review_select_series (review, ((CuQcSummary *) list->pdata[i])->series_uid);
      g_assert_true (app_test_wait_for (review_ready, review, 60));
      app_test_drain ();
      save_screenshot (GTK_WIDGET (review), shot);
    }

  /* Escape with nothing running closes the review */
  g_assert_true (app_test_wait_for (review_ready, review, 60));
  {
    GtkWidget *weak = GTK_WIDGET (review);
    g_object_add_weak_pointer (G_OBJECT (weak), (gpointer *) &weak);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (review), "qc.escape", NULL));
    app_test_drain ();
    g_assert_true (weak == NULL || !gtk_widget_get_visible (weak));
    if (weak != NULL)
      g_object_remove_weak_pointer (G_OBJECT (weak), (gpointer *) &weak);
  }

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  g_test_add_func ("/app/qc/review", test_review);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-site-flags.c — display test of flags raised by hand from the viewer, on a real series
 * of the shared corpus: win.add-flag raises an incidental finding on the series shown with the
 * viewer's cursor as its LPS position, and a question on the patient; the flags panel lists
 * the urgent finding first, marked; "Send Urgent" writes a bundle holding only it (manifest
 * read with json-glib, answers.csv counted line by line). CU_TEST_SHOT_DIR=DIR keeps pictures
 * (site-flags-*.png).
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <adwaita.h>
#include <json-glib/json-glib.h>

#include "cu-flag-add-dialog.h"
#include "cu-flags-window.h"
#include "cu-window.h"
#include "app-test-util.h"

static gboolean
panel_idle (gpointer data)
{
  return !cu_flags_window_is_busy (CU_FLAGS_WINDOW (data));
}

static GtkWidget *
raise_from_viewer (CuWindow *window, const char *target, const char *category, const char *text,
                   gboolean with_position)
{
  GtkWidget *dialog;

  gtk_widget_activate_action (GTK_WIDGET (window), "win.add-flag", NULL);
  app_test_drain ();
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
  g_assert_nonnull (dialog);
  g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (dialog)), ==,
                   "Raise a Flag for the Site");
  cu_flag_add_dialog_fill (dialog, target, category, text, with_position);
  app_test_drain ();
  return dialog;
}

static void
test_site_flags (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-site-flags-XXXXXX", &error);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *bundle = g_build_filename (dir, "urgent", NULL);
  g_autofree char *manifest_path = g_build_filename (bundle, "manifest.json", NULL);
  g_autofree char *answers_path = g_build_filename (bundle, "answers.csv", NULL);
  g_autofree char *series_dir = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr", "prostate_adc_ge", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) imported = NULL;
  g_autoptr (CuFlag) incidental = NULL;
  g_autoptr (CuFlag) question = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *answers = NULL;
  g_auto (GStrv) lines = NULL;
  CuFlagsWindow *panel;
  CuWindow *window;
  GtkWidget *dialog;
  AppTestSeriesWait wait;
  const char *series_uid;
  double lps[3];
  gint64 incidental_id, question_id;
  JsonObject *manifest;
  JsonArray *items;
  guint n_rows = 0;

  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  imported = cu_store_import (store, (const char *const[]) { series_dir, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (imported->series_uids->len, ==, 1);
  series_uid = imported->series_uids->pdata[0];

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  cu_window_open_series (window, series_uid);
  wait = (AppTestSeriesWait) { window, series_uid };
  g_assert_true (app_test_wait_for (app_test_series_opened, &wait, 60));

  /* A point of the volume, away from its centre, as a click in a slice view would set it. */
  cu_viewer_state_get_cursor (cu_window_get_viewer_state (window), lps);
  lps[0] += 12.5;
  lps[1] -= 7.25;
  cu_viewer_state_set_cursor (cu_window_get_viewer_state (window), lps);
  cu_viewer_state_get_cursor (cu_window_get_viewer_state (window), lps);

  dialog = raise_from_viewer (window, "series", "incidental",
                              "Lytic lesion in the left iliac bone, 14 mm", TRUE);
  app_test_shot (dialog, "site-flags-add.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "add");
  app_test_drain ();
  incidental_id = cu_flag_add_dialog_get_flag_id (dialog);
  g_assert_cmpint (incidental_id, >, 0);
  incidental = cu_flags_get (store, incidental_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (incidental->kind, ==, CU_FLAG_KIND_INCIDENTAL);
  g_assert_true (incidental->urgent);
  g_assert_cmpstr (incidental->series_uid, ==, series_uid);
  g_assert_cmpstr (incidental->person_id, ==, "QIN-PROSTATE-01-0001");
  g_assert_true (incidental->has_position);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat_with_epsilon (incidental->position[i], lps[i], 0.006);   /* stored to 0.01 mm */

  dialog = raise_from_viewer (window, "patient", "question", "Was an endorectal coil used?", FALSE);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "add");
  app_test_drain ();
  question_id = cu_flag_add_dialog_get_flag_id (dialog);
  g_assert_cmpint (question_id, >, incidental_id);
  question = cu_flags_get (store, question_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (question->kind, ==, CU_FLAG_KIND_QUESTION);
  g_assert_false (question->urgent);
  g_assert_false (question->has_position);
  g_assert_null (question->series_uid);

  /* An empty message is refused, and nothing is raised. */
  dialog = raise_from_viewer (window, "study", "image", "   ", FALSE);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "add");
  app_test_drain ();
  g_assert_cmpint (cu_flag_add_dialog_get_flag_id (dialog), ==, 0);
  {
    g_autoptr (GPtrArray) all = cu_flags_list (store, NULL, &error);
    g_assert_cmpuint (all->len, ==, 2);
  }
  /* close the refusal's error dialog */
  {
    GtkWidget *refusal = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, NULL);
    if (refusal != NULL && refusal != dialog)
      gtk_window_destroy (GTK_WINDOW (refusal));
    gtk_window_destroy (GTK_WINDOW (dialog));
  }

  /* The panel: the urgent finding first, although it is not the newest. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-flags", "s", "");
  app_test_drain ();
  panel = g_object_get_data (G_OBJECT (window), "cu-flags-window");
  g_assert_nonnull (panel);
  cu_flags_window_reload (panel);
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 2);
  g_assert_cmpint (cu_flags_window_get_flag_id (panel, 0), ==, incidental_id);
  g_assert_cmpint (cu_flags_window_get_flag_id (panel, 1), ==, question_id);
  app_test_shot (GTK_WIDGET (panel), "site-flags-panel.png");

  /* Send Urgent (flags.export-urgent asks for the folder; the test gives its own): only the
   * incidental finding, and only it becomes "sent". */
  cu_flags_window_export_urgent (panel, "QIN", bundle);
  g_assert_true (app_test_wait_for (panel_idle, panel, 60));
  g_assert_true (json_parser_load_from_file (parser, manifest_path, &error));
  g_assert_no_error (error);
  manifest = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (manifest, "urgent"));
  items = json_object_get_array_member (manifest, "items");
  g_assert_cmpuint (json_array_get_length (items), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (items, 0), "kind"), ==,
                   "incidental");
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (items, 0), "flag_id"), ==,
                   incidental_id);
  g_assert_true (g_file_get_contents (answers_path, &answers, NULL, &error));
  lines = g_strsplit (answers, "\r\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    if (lines[i][0] != '\0')
      n_rows++;
  g_assert_cmpuint (n_rows, ==, 1);
  {
    g_autoptr (CuFlag) sent = cu_flags_get (store, incidental_id, &error);
    g_autoptr (CuFlag) waiting = cu_flags_get (store, question_id, &error);
    g_assert_cmpint (sent->state, ==, CU_FLAG_SENT);
    g_assert_cmpint (waiting->state, ==, CU_FLAG_OPEN);
  }
  app_test_shot (GTK_WIDGET (panel), "site-flags-sent.png");

  gtk_window_destroy (GTK_WINDOW (panel));
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

  g_test_add_func ("/app/flags/site", test_site_flags);
  return g_test_run ();
}

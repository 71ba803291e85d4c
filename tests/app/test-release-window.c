/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-release-window.c — display test of the Release window, driven as a curator would: on a
 * workspace holding the demo study (with its clinical data) and a real GE ADC series of the
 * shared corpus, every demo series accepted at the quality gate but one, rejected with a
 * reason, the main window's win.show-releases opens the window; New Release creates an
 * anonymized release; a pseudonym typed is added and removed again; Add Selected Study adds
 * the demo study chosen in the study browser; Check runs the gate in the background and the
 * checklist shows the rejected series held back with its reason and a Review button, the other
 * series and the study and patient as going; Review opens the quality review on that series;
 * Write… writes the package into a new folder under the one given, and the window then shows
 * the release written where it went, the package holding manifest.json. Withdrawing the
 * patient released in anonymized mode is refused, and the refusal says why. The same study in
 * a new pseudonymized release is held back as sent before, and the hold shows that release.
 *
 * CU_TEST_SHOT_DIR=DIR saves pictures of the window and its dialogs (release-*.png).
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "cu-flags-window.h"
#include "cu-qc-review.h"
#include "cu-release-window.h"
#include "cu-window.h"
#include "cu-window-private.h"
#include "app-test-util.h"
#include "curation-test-util.h"

#define RELEASE_NAME "prostate-2026-q4"
#define RELEASE_AGAIN "prostate-2027-q1"
#define REJECT_REASON "Motion artefacts across the gland"
#define PHI_SERIES "mr/philips_fmri_epi"
#define OVERRIDE_REASON "Phantom scan; the identifiers are fake and approved for the project"

static gboolean
not_busy (gpointer data)
{
  return !cu_window_is_busy (CU_WINDOW (data)) && !_cu_window_qc_is_running (CU_WINDOW (data));
}

static gboolean
release_idle (gpointer data)
{
  return !cu_release_window_is_busy (CU_RELEASE_WINDOW (data));
}

/* The first widget under widget that is actionable with action (and target, when not NULL). */
static GtkWidget *
find_actionable (GtkWidget *widget, const char *action, const char *target)
{
  if (GTK_IS_ACTIONABLE (widget)
      && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0)
    {
      GVariant *t = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (widget));
      if (target == NULL
          || (t != NULL && g_variant_is_of_type (t, G_VARIANT_TYPE_STRING)
              && g_strcmp0 (g_variant_get_string (t, NULL), target) == 0))
        return widget;
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_actionable (c, action, target);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_type (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Click a button the way a pointer would (its "clicked" runs its action). */
static void
click (GtkWidget *button)
{
  g_assert_nonnull (button);
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  app_test_drain ();
}

static gboolean
has_css (GtkWidget *widget, const char *css)
{
  return widget != NULL && gtk_widget_has_css_class (widget, css);
}

static void
test_release_window (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cu-test-release-window-XXXXXX", &error);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *out = g_build_filename (dir, "out", NULL);
  g_autofree char *adc_src = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr/prostate_adc_ge", NULL);
  g_autofree char *csv = NULL;
  g_autofree char *demo_study = NULL, *rejected = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) series = NULL;
  g_autoptr (GPtrArray) demo_series = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (CuClinicalReport) clinical = NULL;
  CuReleaseWindow *win;
  CuWindow *window;
  GtkWidget *dialog, *row;

  g_assert_no_error (error);
  g_assert_true (g_mkdir_with_parents (out, 0700) == 0);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* the workspace: the demo and a real series, imported through the window (the quality check
   * runs by itself after each import), the demo's clinical data */
  cu_window_import_demo (window, FALSE);
  g_assert_true (app_test_wait_for (not_busy, window, 120));
  cu_window_import (window, (const char *const[]) { adc_src, NULL });
  g_assert_true (app_test_wait_for (not_busy, window, 120));
  csv = g_build_filename (workspace, "demo", "clinical.csv", NULL);
  clinical = cu_clinical_import (store, csv, "CUR", &error);
  g_assert_no_error (error);

  /* the curator's decisions: every demo series accepted but one, rejected with a reason */
  series = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < series->len; i++)
    {
      const CuSeriesRecord *r = series->pdata[i];

      if (g_strcmp0 (r->patient_id, CU_DEMO_PATIENT_ID) != 0)
        continue;
      if (demo_study == NULL)
        demo_study = g_strdup (r->study_uid);
      g_assert_cmpstr (r->study_uid, ==, demo_study);
      g_ptr_array_add (demo_series, g_strdup (r->series_uid));
      if (rejected == NULL)
        {
          rejected = g_strdup (r->series_uid);
          g_assert_true (cu_store_qc_decide (store, r->series_uid, CU_QC_DECISION_REJECTED,
                                             REJECT_REASON, &error));
        }
      else
        g_assert_true (cu_store_qc_decide (store, r->series_uid, CU_QC_DECISION_ACCEPTED, NULL,
                                           &error));
      g_assert_no_error (error);
    }
  g_assert_cmpuint (demo_series->len, >=, 2);

  /* the Release window, from the main window */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-releases", NULL));
  app_test_drain ();
  win = CU_RELEASE_WINDOW (app_test_find_toplevel (CU_TYPE_RELEASE_WINDOW, NULL));
  g_assert_nonnull (win);
  g_assert_null (cu_release_window_get_selected (win));
  gtk_window_set_default_size (GTK_WINDOW (win), 1100, 760);
  app_test_shot (GTK_WIDGET (win), "release-empty.png");

  /* New Release: a name, the default mode (anonymized) */
  click (find_actionable (GTK_WIDGET (win), "release.new", NULL));
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, "release-new");
  g_assert_nonnull (dialog);
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create"));
  gtk_editable_set_text (GTK_EDITABLE (find_type (dialog, GTK_TYPE_ENTRY)), RELEASE_NAME);
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "create"));
  app_test_shot (dialog, "release-new.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "create");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (app_test_writes_done (store));
  g_assert_cmpstr (cu_release_window_get_selected (win), ==, RELEASE_NAME);
  {
    g_autoptr (CuRelease) r = cu_release_get (store, RELEASE_NAME, &error);
    g_assert_no_error (error);
    g_assert_cmpint (r->mode, ==, CU_RELEASE_ANONYMIZED);
    g_assert_null (r->written_at);
  }

  /* Add: a pseudonym typed (the real series' patient) is listed; its Remove button takes it out */
  {
    const char *other = NULL;
    GtkEditable *entry = GTK_EDITABLE (gtk_widget_get_template_child (GTK_WIDGET (win),
                                                                      CU_TYPE_RELEASE_WINDOW,
                                                                      "item_entry"));
    g_autoptr (CuRelease) added = NULL, removed = NULL;

    for (guint i = 0; i < series->len && other == NULL; i++)
      if (g_strcmp0 (((CuSeriesRecord *) series->pdata[i])->patient_id, CU_DEMO_PATIENT_ID) != 0)
        other = ((CuSeriesRecord *) series->pdata[i])->patient_id;
    g_assert_nonnull (other);
    gtk_editable_set_text (entry, other);
    click (find_actionable (GTK_WIDGET (win), "release.add", NULL));
    g_assert_true (app_test_writes_done (store));
    added = cu_release_get (store, RELEASE_NAME, &error);
    g_assert_no_error (error);
    g_assert_true (g_strv_contains ((const char *const *) added->items, other));
    g_assert_cmpstr (gtk_editable_get_text (entry), ==, "");
    click (find_actionable (GTK_WIDGET (win), "release.remove", other));
    g_assert_true (app_test_writes_done (store));
    removed = cu_release_get (store, RELEASE_NAME, &error);
    g_assert_no_error (error);
    g_assert_true (removed->items == NULL || removed->items[0] == NULL);
    g_assert_null (find_actionable (GTK_WIDGET (win), "release.remove", other));
  }

  /* Add Selected Study: the rejected series is selected in the study browser; its study goes in */
  cu_study_browser_select_series (CU_STUDY_BROWSER (gtk_widget_get_template_child (GTK_WIDGET (window),
                                                                                   CU_TYPE_WINDOW,
                                                                                   "browser")),
                                  rejected);
  click (find_actionable (GTK_WIDGET (win), "release.add-selected", NULL));
  g_assert_true (app_test_writes_done (store));
  {
    g_autoptr (CuRelease) r = cu_release_get (store, RELEASE_NAME, &error);
    g_assert_no_error (error);
    g_assert_nonnull (r->items);
    g_assert_cmpuint (g_strv_length (r->items), ==, 1);
    g_assert_cmpstr (r->items[0], ==, demo_study);
  }
  /* the item is listed, with its Remove button */
  g_assert_nonnull (find_actionable (GTK_WIDGET (win), "release.remove", demo_study));

  /* Check, in the background: the rejected series held back with its reason, the rest go */
  click (find_actionable (GTK_WIDGET (win), "release.check", NULL));
  g_assert_true (app_test_wait_for (release_idle, win, 120));
  g_assert_nonnull (cu_release_window_get_plan (win));
  row = cu_release_window_find_row (win, rejected);
  g_assert_nonnull (row);
  g_assert_true (has_css (row, "release-held"));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), REJECT_REASON));
  g_assert_nonnull (find_actionable (row, "release.review", rejected));
  for (guint i = 0; i < demo_series->len; i++)
    {
      const char *uid = demo_series->pdata[i];
      GtkWidget *r = cu_release_window_find_row (win, uid);

      if (g_strcmp0 (uid, rejected) == 0)
        continue;
      g_assert_nonnull (r);
      g_assert_true (has_css (r, "release-go"));
      g_assert_null (find_actionable (r, "release.review", NULL));
    }
  g_assert_true (has_css (cu_release_window_find_row (win, demo_study), "release-go"));
  g_assert_true (has_css (cu_release_window_find_row (win, CU_DEMO_PATIENT_ID), "release-go"));
  g_assert_cmpuint (cu_release_window_get_plan (win)->n_series_go, ==, demo_series->len - 1);
  g_assert_cmpuint (cu_release_window_get_plan (win)->n_series_held, ==, 1);
  /* the series of the workspace outside the release are not on the checklist */
  for (guint i = 0; i < series->len; i++)
    {
      const CuSeriesRecord *r = series->pdata[i];
      if (g_strcmp0 (r->patient_id, CU_DEMO_PATIENT_ID) != 0)
        g_assert_null (cu_release_window_find_row (win, r->series_uid));
    }
  app_test_shot (GTK_WIDGET (win), "release-checklist.png");

  /* the hold's action: the quality review opens on that series */
  click (find_actionable (row, "release.review", rejected));
  {
    GtkWidget *review = app_test_find_toplevel (CU_TYPE_QC_REVIEW, NULL);

    g_assert_nonnull (review);
    g_assert_cmpstr (cu_qc_review_get_series (CU_QC_REVIEW (review)), ==, rejected);
    gtk_window_destroy (GTK_WINDOW (review));
    app_test_drain ();
  }

  /* Write…: the folder given, the question answered; the package written, the window says so */
  cu_release_window_set_write_folder (win, out);
  gtk_window_present (GTK_WINDOW (win));
  click (find_actionable (GTK_WIDGET (win), "release.write", NULL));
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, "release-write");
  g_assert_nonnull (dialog);
  app_test_shot (dialog, "release-write.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "write");
  gtk_window_destroy (GTK_WINDOW (dialog));
  app_test_drain ();
  g_assert_true (app_test_wait_for (release_idle, win, 180));
  {
    g_autofree char *package = g_build_filename (out, RELEASE_NAME "-v1", NULL);
    g_autofree char *manifest = g_build_filename (package, "manifest.json", NULL);
    g_autoptr (CuRelease) r = cu_release_get (store, RELEASE_NAME, &error);
    GtkWidget *written_box = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (win),
                                                                        CU_TYPE_RELEASE_WINDOW,
                                                                        "written_box"));
    GtkLabel *written_label = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (win),
                                                                        CU_TYPE_RELEASE_WINDOW,
                                                                        "written_label"));
    GtkWidget *report = cu_release_window_get_report (win);

    g_assert_no_error (error);
    g_assert_true (g_file_test (manifest, G_FILE_TEST_IS_REGULAR));
    g_assert_nonnull (r->written_at);
    g_assert_cmpstr (r->written_to, ==, package);
    /* the report names the folder; the release shows written there, no longer editable */
    g_assert_nonnull (report);
    g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (report)), package));
    app_test_shot (report, "release-written-report.png");
    gtk_window_destroy (GTK_WINDOW (report));
    app_test_drain ();
    g_assert_true (gtk_widget_get_visible (written_box));
    g_assert_nonnull (strstr (gtk_label_get_text (written_label), package));
    g_assert_false (gtk_widget_get_visible (GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (win),
                                                                                       CU_TYPE_RELEASE_WINDOW,
                                                                                       "add_box"))));
    g_assert_null (cu_release_window_get_plan (win));
    app_test_shot (GTK_WIDGET (win), "release-written.png");
  }

  /* Withdraw a patient released in anonymized mode: refused, and the refusal says why */
  gtk_widget_activate_action (GTK_WIDGET (win), "release.withdraw", NULL);
  app_test_drain ();
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, "release-withdraw");
  g_assert_nonnull (dialog);
  {
    GtkWidget *box = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));
    GtkWidget *patient = gtk_widget_get_first_child (box);
    GtkWidget *reason = gtk_widget_get_next_sibling (patient);

    gtk_editable_set_text (GTK_EDITABLE (patient), CU_DEMO_PATIENT_ID);
    g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "withdraw"));
    gtk_editable_set_text (GTK_EDITABLE (reason), "Consent withdrawn by letter");
    g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "withdraw"));
  }
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "withdraw");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (app_test_writes_done (store));
  {
    GtkWidget *report = cu_release_window_get_report (win);
    g_autoptr (GError) refused = NULL;

    g_assert_nonnull (report);
    g_assert_cmpstr (adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (report)), ==, "Withdrawal Refused");
    /* the window shows the model's own refusal */
    g_assert_false (cu_release_withdraw (store, CU_DEMO_PATIENT_ID, "again", &refused));
    g_assert_error (refused, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED);
    g_assert_cmpstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (report)), ==, refused->message);
    app_test_shot (report, "release-withdraw-refused.png");
    gtk_window_destroy (GTK_WINDOW (report));
  }

  /* The same study again, in a new pseudonymized release: held back as sent before; the
   * hold's action shows the release that sent it */
  click (find_actionable (GTK_WIDGET (win), "release.new", NULL));
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, "release-new");
  g_assert_nonnull (dialog);
  {
    GtkWidget *entry = gtk_widget_get_first_child (adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog)));
    GtkWidget *anonymized = gtk_widget_get_next_sibling (entry);
    GtkWidget *pseudonymized = gtk_widget_get_next_sibling (anonymized);

    gtk_editable_set_text (GTK_EDITABLE (entry), RELEASE_AGAIN);
    gtk_check_button_set_active (GTK_CHECK_BUTTON (pseudonymized), TRUE);
    g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (anonymized)));
  }
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "create");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (app_test_writes_done (store));
  g_assert_cmpstr (cu_release_window_get_selected (win), ==, RELEASE_AGAIN);
  {
    g_autoptr (CuRelease) r = cu_release_get (store, RELEASE_AGAIN, &error);
    g_assert_no_error (error);
    g_assert_cmpint (r->mode, ==, CU_RELEASE_PSEUDONYMIZED);
  }
  gtk_editable_set_text (GTK_EDITABLE (gtk_widget_get_template_child (GTK_WIDGET (win), CU_TYPE_RELEASE_WINDOW,
                                                                      "item_entry")),
                         demo_study);
  click (find_actionable (GTK_WIDGET (win), "release.add", NULL));
  g_assert_true (app_test_writes_done (store));
  click (find_actionable (GTK_WIDGET (win), "release.check", NULL));
  g_assert_true (app_test_wait_for (release_idle, win, 120));
  g_assert_nonnull (cu_release_window_get_plan (win));
  g_assert_cmpuint (cu_release_window_get_plan (win)->n_series_go, ==, 0);
  g_assert_true (has_css (cu_release_window_find_row (win, demo_study), "release-held"));
  app_test_shot (GTK_WIDGET (win), "release-sent-before.png");
  click (find_actionable (GTK_WIDGET (win), "release.show", RELEASE_NAME));
  g_assert_cmpstr (cu_release_window_get_selected (win), ==, RELEASE_NAME);

  gtk_window_destroy (GTK_WINDOW (win));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

/* A study quarantined by the pseudonymization gate is held back with Findings and Override…;
 * overriding from the checklist (the gate's own dialog, with a reason) checks the release again,
 * and the study then leaves under the override, named on its row. */
static void
test_override_hold (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cu-test-release-override-XXXXXX", &error);
  g_autofree char *incoming = g_build_filename (dir, "incoming", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (CuImportReport) import = NULL;
  g_autoptr (CuRelease) release = NULL;
  g_autofree char *study_uid = NULL, *patient_id = NULL;
  CuReleaseWindow *win;
  CuWindow *window;
  GtkWidget *dialog, *row;

  g_assert_no_error (error);
  g_ptr_array_unref (curation_test_copy_corpus_files (PHI_SERIES, 3, incoming));
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  import = cu_store_import (store, (const char *const[]) { incoming, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 1);
  study_uid = g_strdup (((CuSeriesRecord *) records->pdata[0])->study_uid);
  patient_id = g_strdup (((CuSeriesRecord *) records->pdata[0])->patient_id);
  g_assert_cmpint (((CuSeriesRecord *) records->pdata[0])->study_gate, ==, CU_GATE_QUARANTINED);
  g_assert_true (cu_store_qc_decide (store, ((CuSeriesRecord *) records->pdata[0])->series_uid,
                                     CU_QC_DECISION_ACCEPTED, NULL, &error));
  g_assert_no_error (error);
  release = cu_release_create (store, "phantoms", CU_RELEASE_PSEUDONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (cu_release_add (store, "phantoms", (const char *const[]) { study_uid, NULL }, &error));
  g_assert_no_error (error);

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-releases", NULL));
  app_test_drain ();
  win = CU_RELEASE_WINDOW (app_test_find_toplevel (CU_TYPE_RELEASE_WINDOW, NULL));
  g_assert_nonnull (win);
  g_assert_true (cu_release_window_select (win, "phantoms"));
  click (find_actionable (GTK_WIDGET (win), "release.check", NULL));
  g_assert_true (app_test_wait_for (release_idle, win, 120));
  row = cu_release_window_find_row (win, study_uid);
  g_assert_nonnull (row);
  g_assert_true (has_css (row, "release-held"));
  g_assert_nonnull (find_actionable (row, "release.findings", study_uid));
  app_test_shot (GTK_WIDGET (win), "release-quarantined.png");

  /* Override…: the gate's dialog asks for the reason */
  click (find_actionable (row, "release.override", study_uid));
  dialog = cu_release_window_get_report (win);
  g_assert_nonnull (dialog);
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "override"));
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog))),
                         OVERRIDE_REASON);
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "override");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_true (app_test_writes_done (store));
  g_assert_true (app_test_wait_for (release_idle, win, 120));
  {
    g_autoptr (CuStudyGate) gate = cu_store_get_study_gate (store, study_uid, &error);
    const CuReleasePlan *plan = cu_release_window_get_plan (win);
    const CuReleaseStudyPlan *sp = NULL;

    g_assert_no_error (error);
    g_assert_cmpint (gate->state, ==, CU_GATE_OVERRIDDEN);
    g_assert_nonnull (plan);
    g_assert_cmpuint (plan->patients->len, ==, 1);
    sp = ((CuReleasePatientPlan *) plan->patients->pdata[0])->studies->pdata[0];
    g_assert_cmpstr (sp->override_reason, ==, OVERRIDE_REASON);
  }
  /* checked again: the new rows; the study's pseudonymization hold is gone, its override named */
  row = cu_release_window_find_row (win, study_uid);
  g_assert_nonnull (row);
  g_assert_null (find_actionable (row, "release.override", NULL));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), OVERRIDE_REASON));
  app_test_shot (GTK_WIDGET (win), "release-overridden.png");

  gtk_window_destroy (GTK_WINDOW (win));
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

/* An error flag open for a patient holds the patient back with Show Flag, which opens the flags
 * panel on that patient with the flag shown and focused. */
static void
test_flag_hold (void)
{
  static const char csv_text[] =
    "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
    "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type,"
    "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date,"
    "observation_start_date\n"
    "QIN-PROSTATE-01-0001,M,1907,prostate,1971-08-01,9.1,1971-07-01,3,4,7,2,T2a,N0,M0,,prostatectomy,"
    "1971-09-15,1972-06-30,alive,,no,,\n";
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cu-test-release-flag-XXXXXX", &error);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *csv = g_build_filename (dir, "clinical.csv", NULL);
  g_autofree char *adc_src = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr/prostate_adc_ge", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) import = NULL;
  g_autoptr (CuClinicalReport) clinical = NULL;
  g_autoptr (CuFlagCheckReport) flags_run = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) flags = NULL;
  g_autoptr (CuRelease) release = NULL;
  CuFlagFilter filter = { 0 };
  const char *patient = "QIN-PROSTATE-01-0001";
  CuReleaseWindow *win;
  CuWindow *window;
  GtkWidget *row, *panel;
  gint64 flag_id = 0;

  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  import = cu_store_import (store, (const char *const[]) { adc_src, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      g_assert_cmpstr (((CuSeriesRecord *) records->pdata[i])->patient_id, ==, patient);
      g_assert_true (cu_store_qc_decide (store, ((CuSeriesRecord *) records->pdata[i])->series_uid,
                                         CU_QC_DECISION_ACCEPTED, NULL, &error));
    }
  g_assert_true (g_file_set_contents (csv, csv_text, -1, &error));
  clinical = cu_clinical_import (store, csv, "QIN", &error);
  g_assert_no_error (error);
  flags_run = cu_flags_check (store, &error);
  g_assert_no_error (error);
  filter.person_id = patient;
  filter.severity = "error";
  filter.state = "active";
  flags = cu_flags_list (store, &filter, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flags->len, >, 0);
  release = cu_release_create (store, "qin", CU_RELEASE_PSEUDONYMIZED, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (cu_release_add (store, "qin", (const char *const[]) { patient, NULL }, &error));
  g_assert_no_error (error);

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-releases", NULL));
  app_test_drain ();
  win = CU_RELEASE_WINDOW (app_test_find_toplevel (CU_TYPE_RELEASE_WINDOW, NULL));
  g_assert_nonnull (win);
  g_assert_true (cu_release_window_select (win, "qin"));
  click (find_actionable (GTK_WIDGET (win), "release.check", NULL));
  g_assert_true (app_test_wait_for (release_idle, win, 120));
  row = cu_release_window_find_row (win, patient);
  g_assert_nonnull (row);
  g_assert_true (has_css (row, "release-held"));
  app_test_shot (GTK_WIDGET (win), "release-flag-hold.png");

  /* Show Flag: the flags panel, on the patient, the flag focused */
  {
    GtkWidget *button = find_actionable (row, "release.show-flag", NULL);
    GVariant *target;
    const char *who = NULL;

    g_assert_nonnull (button);
    target = gtk_actionable_get_action_target_value (GTK_ACTIONABLE (button));
    g_variant_get (target, "(&sx)", &who, &flag_id);
    g_assert_cmpstr (who, ==, patient);
    {
      gboolean listed = FALSE;
      for (guint i = 0; i < flags->len; i++)
        listed |= ((CuFlag *) flags->pdata[i])->id == flag_id;
      g_assert_true (listed);
    }
    click (button);
  }
  panel = app_test_find_toplevel (CU_TYPE_FLAGS_WINDOW, NULL);
  g_assert_nonnull (panel);
  {
    GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (panel));
    guint n = cu_flags_window_get_n_shown (CU_FLAGS_WINDOW (panel));
    int pos = -1;

    for (guint i = 0; i < n; i++)
      {
        if (cu_flags_window_get_flag_id (CU_FLAGS_WINDOW (panel), i) == flag_id)
          pos = (int) i;
      }
    g_assert_cmpint (pos, >=, 0);
    g_assert_nonnull (focus);
    g_assert_true (GTK_IS_LIST_BOX_ROW (focus));
    g_assert_cmpint (gtk_list_box_row_get_index (GTK_LIST_BOX_ROW (focus)), ==, pos);
  }
  app_test_shot (panel, "release-flag-panel.png");

  gtk_window_destroy (GTK_WINDOW (win));
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
  g_test_add_func ("/app/release-window/release", test_release_window);
  g_test_add_func ("/app/release-window/override-hold", test_override_hold);
  g_test_add_func ("/app/release-window/flag-hold", test_flag_hold);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-flags-window.c — display test of consistency flags in the GUI, on the demo study and
 * real DICOM from the shared corpus: the study browser shows each patient's open flags;
 * win.show-flags opens the flags panel, whose filters (rule, severity, state, pseudonym)
 * narrow the list; a flag jumps to its series in the main window; a flag is marked sent;
 * a malformed clinical CSV imported from the panel is reported row by row and imports
 * nothing; a corrected CSV is imported, the rules run again, the fixed flag closes and the
 * browser's badge of that patient goes away; a bundle for the site is written from the panel
 * and the site's answers applied, which resolves the flag they fix; the flag's history shows
 * every step with user, time and the site's corrected value; a clinical file imported for a
 * site chosen in the GUI sends its flags to that site; a bundle's report language is asked,
 * preselected from the site's last bundle, and the report written in it.
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>

#include "cu-browser-item.h"
#include "cu-flags-window.h"
#include "cu-study-browser.h"
#include "cu-window.h"
#include "app-test-util.h"

#define WIDE_HEADER \
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary," \
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type," \
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date," \
  "observation_start_date\n"

static const char seeded_csv[] = WIDE_HEADER
  "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,2024-05-21,2025-09-30,alive,,no,,2024-02-01\n"
  "QIN-PROSTATE-01-0001,M,1907,prostate,1971-08-01,9.1,1971-07-01,3,4,7,2,T2a,N0,M0,,prostatectomy,1971-09-15,1972-06-30,alive,,no,,\n"
  "4MR1,M,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,\n"
  "PX-0100,M,1955,prostate,2021-02-01,6.2,2021-01-20,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n"
  "PX-0101,M,1955,prostate,2021-02-03,6.2,2021-01-22,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n";

static guint
patient_flags (CuStudyBrowser *browser, const char *patient_id)
{
  GListModel *model = cu_study_browser_get_model (browser);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (GtkTreeListRow) row = g_list_model_get_item (model, i);
      g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);

      if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_PATIENT
          && g_strcmp0 (cu_browser_item_get_key (item), patient_id) == 0)
        return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (item), "cu-open-flags"));
    }
  g_error ("no patient %s in the browser", patient_id);
  return 0;
}

static gboolean
panel_idle (gpointer data)
{
  return !cu_flags_window_is_busy (CU_FLAGS_WINDOW (data));
}

static const char *
report_heading (CuFlagsWindow *panel)
{
  GtkWidget *report = cu_flags_window_get_report (panel);
  g_assert_nonnull (report);
  return adw_message_dialog_get_heading (ADW_MESSAGE_DIALOG (report));
}


/* Render a window as it is on screen into a PNG (waits for it to have drawn). */
static void
save_png (GtkWidget *widget, const char *path)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  int w = 0, h = 0;

  for (int attempt = 0; attempt < 200 && node == NULL; attempt++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      gtk_widget_queue_draw (widget);
      app_test_drain ();
      w = gtk_widget_get_width (widget);
      h = gtk_widget_get_height (widget);
      gdk_paintable_snapshot (paintable, snapshot, w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        g_usleep (50 * 1000);
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

static void
test_flags_panel (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-flags-window-XXXXXX", &error);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *demo = g_build_filename (dir, "demo", NULL);
  g_autofree char *csv = g_build_filename (dir, "seeded.csv", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.csv", NULL);
  g_autofree char *fixed = g_build_filename (dir, "fixed.csv", NULL);
  g_autofree char *p1 = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "mr", "prostate_adc_ge", NULL);
  g_autofree char *p2 = g_build_filename (g_getenv ("CU_SHARED_DICOM"), "single", "MR_small.dcm", NULL);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuImportReport) imported = NULL;
  g_autoptr (CuClinicalReport) clinical = NULL;
  g_autoptr (CuFlagCheckReport) check = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (CuFlag) flag = NULL;
  g_auto (GStrv) written = NULL;
  const char *qin_series = NULL;
  CuStudyBrowser *browser;
  CuFlagsWindow *panel;
  CuWindow *window;
  AppTestSeriesWait wait;
  gint64 id;
  guint n_active;

  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  imported = cu_store_import (store, (const char *const[]) { demo, p1, p2, NULL }, NULL, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (csv, seeded_csv, -1, &error);
  clinical = cu_clinical_import (store, csv, "SITE-A", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (clinical->issues->len, ==, 0);
  check = cu_flags_check (store, &error);
  g_assert_no_error (error);
  n_active = check->n_active;
  g_assert_cmpuint (n_active, >=, 5);
  records = cu_store_list_series (store, &error);
  for (guint i = 0; i < records->len; i++)
    if (strcmp (((CuSeriesRecord *) records->pdata[i])->patient_id, "QIN-PROSTATE-01-0001") == 0)
      qin_series = ((CuSeriesRecord *) records->pdata[i])->series_uid;
  g_assert_nonnull (qin_series);

  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();

  /* The browser shows open flags per patient; the demo patient's clinical data agree with its
   * images, but it lacks the DWI and DCE series of the protocol (PROT-01, PROT-01b). */
  browser = CU_STUDY_BROWSER (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW, "browser"));
  g_assert_cmpuint (patient_flags (browser, "4MR1"), ==, 1);
  /* QIN: CLIN-14, PROT-01, PROT-01b, and its quarantined study sent back to the site */
  g_assert_cmpuint (patient_flags (browser, "QIN-PROSTATE-01-0001"), ==, 4);
  g_assert_cmpuint (patient_flags (browser, CU_DEMO_PATIENT_ID), ==, 2);

  /* The panel, with its filters. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-flags", "s", "");
  app_test_drain ();
  panel = g_object_get_data (G_OBJECT (window), "cu-flags-window");
  g_assert_nonnull (panel);
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, n_active);
  cu_flags_window_set_filter (panel, NULL, "XREF-02", "active", NULL);
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 1);
  cu_flags_window_set_filter (panel, "SITE-A", NULL, "active", "warning");
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 2);       /* CLIN-16 × 2 */
  cu_flags_window_set_filter (panel, NULL, NULL, "active", NULL);
  cu_flags_window_set_person (panel, "QIN-PROSTATE-01-0001");
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 4);
  /* Part of the pseudonym, in any case, finds the same flags. */
  cu_flags_window_set_person (panel, "qin-prostate");
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 4);
  /* Nothing matches: the panel says it is the filter, not an empty workspace. */
  cu_flags_window_set_person (panel, "no-such-person");
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 0);
  {
    AdwStatusPage *empty = ADW_STATUS_PAGE (gtk_widget_get_template_child (GTK_WIDGET (panel),
                                                                           CU_TYPE_FLAGS_WINDOW,
                                                                           "empty_page"));
    g_assert_cmpstr (adw_status_page_get_title (empty), ==, "No Flags Match the Filter");
  }
  cu_flags_window_set_person (panel, "QIN-PROSTATE-01-0001");
  cu_flags_window_set_filter (panel, NULL, "PROT-01", "active", NULL);
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 1);

  /* Jump from the flag to its series. */
  id = cu_flags_window_get_flag_id (panel, 0);
  gtk_widget_activate_action (GTK_WIDGET (panel), "flags.jump", "x", id);
  wait = (AppTestSeriesWait) { window, qin_series };
  g_assert_true (app_test_wait_for (app_test_series_opened, &wait, 60));

  /* Mark it sent. */
  gtk_widget_activate_action (GTK_WIDGET (panel), "flags.set-state", "(xs)", id, "sent");
  g_assert_true (app_test_wait_for (panel_idle, panel, 60));
  flag = cu_flags_get (store, id, &error);
  g_assert_cmpint (flag->state, ==, CU_FLAG_SENT);
  cu_flags_window_set_person (panel, NULL);
  cu_flags_window_set_filter (panel, NULL, NULL, "sent", NULL);
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 1);

  /* A malformed clinical file: rejected rows reported, nothing imported. */
  g_file_set_contents (bad, WIDE_HEADER
                       "4MR1,F,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,\n"
                       "PX-0100,M,1955,prostate,2021-02-31,6.2,2021-01-20,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,\n",
                       -1, NULL);
  cu_flags_window_import_clinical (panel, bad);
  g_assert_true (app_test_wait_for (panel_idle, panel, 60));
  g_assert_cmpstr (report_heading (panel), ==, "Clinical Data Rejected");
  gtk_window_destroy (GTK_WINDOW (cu_flags_window_get_report (panel)));
  {
    g_autofree char *sex = cu_clinical_get_value (store, "4MR1", "sex");
    g_assert_cmpstr (sex, ==, "M");
  }

  /* The corrected file: the sex of 4MR1 is fixed, its flag closes, its badge goes away. */
  g_file_set_contents (fixed, WIDE_HEADER
                       "4MR1,F,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,\n",
                       -1, NULL);
  cu_flags_window_import_clinical (panel, fixed);
  g_assert_true (app_test_wait_for (panel_idle, panel, 60));
  g_assert_cmpstr (report_heading (panel), ==, "Clinical Data Imported");
  g_assert_cmpuint (patient_flags (browser, "4MR1"), ==, 0);
  cu_flags_window_set_filter (panel, NULL, "XREF-02", "resolved", NULL);
  g_assert_cmpuint (cu_flags_window_get_n_shown (panel), ==, 1);

  gtk_window_destroy (GTK_WINDOW (cu_flags_window_get_report (panel)));

  /* Round trip from the panel: the bundle for SITE-A, the follow-up date corrected by the
   * site, the answers applied, the CLIN-14 flag resolved by the re-run. */
  {
    g_autofree char *bundle = g_build_filename (dir, "bundle", NULL);
    g_autofree char *answers = g_build_filename (bundle, "answers.csv", NULL);
    g_autofree char *text = NULL;
    g_autoptr (CuCsvTable) t = NULL;
    g_autoptr (GString) filled = g_string_new (NULL);
    g_autoptr (GPtrArray) resolved = NULL;
    CuFlagFilter filter = { .rule_id = "CLIN-14", .state = "resolved" };

    cu_flags_window_export_bundle (panel, "SITE-A", bundle);
    g_assert_true (app_test_wait_for (panel_idle, panel, 60));
    g_assert_cmpstr (report_heading (panel), ==, "Bundle Written");
    gtk_window_destroy (GTK_WINDOW (cu_flags_window_get_report (panel)));
    g_assert_true (g_file_get_contents (answers, &text, NULL, NULL));
    t = cu_csv_parse (text, -1, 0, &error);
    g_assert_no_error (error);
    for (guint r = 0; r < t->rows->len; r++)
      {
        CuCsvRow *row = t->rows->pdata[r];
        for (guint c = 0; c < row->n_fields; c++)
          {
            const char *field = row->fields[c];
            g_autofree char *q = NULL;
            if (r > 0 && c == 10 && strcmp (row->fields[4], "CLIN-14") == 0)
              field = "1972-12-01";
            q = cu_csv_quote (field, ',');
            g_string_append_printf (filled, "%s%s", c ? "," : "", q);
          }
        g_string_append (filled, "\n");
      }
    g_file_set_contents (answers, filled->str, -1, &error);
    g_assert_no_error (error);
    cu_flags_window_import_answers (panel, bundle);
    g_assert_true (app_test_wait_for (panel_idle, panel, 60));
    g_assert_cmpstr (report_heading (panel), ==, "Answers Applied");
    resolved = cu_flags_list (store, &filter, &error);
    g_assert_cmpuint (resolved->len, ==, 1);
    g_assert_cmpuint (patient_flags (browser, "QIN-PROSTATE-01-0001"), ==, 3);   /* with its deid flag */
    gtk_window_destroy (GTK_WINDOW (cu_flags_window_get_report (panel)));

    /* The flag's history in the panel: found, sent in the bundle, answered with the site's
     * corrected value, resolved by the re-run — each step with user and time. */
    {
      GtkWidget *history = cu_flags_window_show_history (panel, resolved->len > 0
                                                         ? ((CuFlag *) resolved->pdata[0])->id : 0);
      g_autoptr (GPtrArray) events = cu_flags_events (store, ((CuFlag *) resolved->pdata[0])->id, &error);
      GtkWidget *list, *row;
      guint n_rows = 0;
      gboolean saw_corrected = FALSE;

      g_assert_nonnull (history);
      g_assert_true (history == cu_flags_window_get_report (panel));
      g_assert_cmpuint (events->len, ==, 4);
      list = g_object_get_data (G_OBJECT (history), "cu-history-list");
      for (row = gtk_widget_get_first_child (list); row != NULL; row = gtk_widget_get_next_sibling (row))
        {
          const char *sub = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
          n_rows++;
          g_assert_nonnull (strstr (sub, g_get_user_name ()));
          if (strstr (sub, "Corrected value: 1972-12-01") != NULL)
            saw_corrected = TRUE;
        }
      g_assert_cmpuint (n_rows, ==, events->len);
      g_assert_true (saw_corrected);
      /* For looking at them: CU_TEST_SAVE_FLAGS_PNG=DIR writes flags-panel.png and
       * flags-history.png there. */
      if (g_getenv ("CU_TEST_SAVE_FLAGS_PNG") != NULL)
        {
          g_autofree char *panel_png = g_build_filename (g_getenv ("CU_TEST_SAVE_FLAGS_PNG"), "flags-panel.png", NULL);
          g_autofree char *history_png = g_build_filename (g_getenv ("CU_TEST_SAVE_FLAGS_PNG"), "flags-history.png", NULL);

          cu_flags_window_set_filter (panel, "SITE-A", NULL, NULL, NULL);
          save_png (GTK_WIDGET (panel), panel_png);
          save_png (history, history_png);
        }
      gtk_window_destroy (GTK_WINDOW (history));
    }
  }

  /* The site of a clinical file, asked in the GUI: the new patient's flags go to SITE-B. */
  {
    g_autofree char *site_b = g_build_filename (dir, "site-b.csv", NULL);
    g_autoptr (GPtrArray) flags_b = NULL;
    CuFlagFilter filter = { .site = "SITE-B" };
    GtkWidget *prompt;

    g_file_set_contents (site_b, WIDE_HEADER
                         "PX-0400,M,1950,prostate,2019-05-05,5.0,2019-05-01,3,3,6,1,,,,,none,,2020-06-01,alive,,,,\n",
                         -1, NULL);
    prompt = cu_flags_window_prompt_clinical_site (panel, site_b);
    g_assert_nonnull (prompt);
    gtk_editable_set_text (GTK_EDITABLE (g_object_get_data (G_OBJECT (prompt), "cu-entry")), "SITE-B");
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (prompt), "import");
    g_assert_true (app_test_wait_for (panel_idle, panel, 60));
    g_assert_cmpstr (report_heading (panel), ==, "Clinical Data Imported");
    gtk_window_destroy (GTK_WINDOW (cu_flags_window_get_report (panel)));
    flags_b = cu_flags_list (store, &filter, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (flags_b->len, >=, 1);   /* XREF-01: no imaging for PX-0400 */
    for (guint i = 0; i < flags_b->len; i++)
      g_assert_cmpstr (((CuFlag *) flags_b->pdata[i])->person_id, ==, "PX-0400");

    /* The bundle's language is asked too (the site's last language preselected) and the
     * report is written in it. */
    {
      g_autofree char *bundle_b = g_build_filename (dir, "bundle-b", NULL);
      g_autofree char *report_path = g_build_filename (bundle_b, "report.html", NULL);
      g_autofree char *html = NULL;
      GtkWidget *ask = cu_flags_window_prompt_bundle (panel, "SITE-B");
      GtkDropDown *languages = g_object_get_data (G_OBJECT (ask), "cu-languages");
      const char *const *ids = g_object_get_data (G_OBJECT (ask), "cu-ids");

      g_assert_true (g_strv_contains (ids, "en"));
      g_assert_true (g_strv_contains (ids, "es"));
      g_assert_cmpstr (ids[gtk_drop_down_get_selected (languages)], ==, "en");   /* LANGUAGE=C */
      gtk_window_destroy (GTK_WINDOW (ask));
      cu_flags_window_export_bundle_lang (panel, "SITE-B", bundle_b, "es");
      g_assert_true (app_test_wait_for (panel_idle, panel, 60));
      g_assert_cmpstr (report_heading (panel), ==, "Bundle Written");
      gtk_window_destroy (GTK_WINDOW (cu_flags_window_get_report (panel)));
      g_assert_true (g_file_get_contents (report_path, &html, NULL, NULL));
      g_assert_nonnull (strstr (html, "Preguntas sobre los datos clínicos del centro SITE-B"));
      ask = cu_flags_window_prompt_bundle (panel, "SITE-B");
      languages = g_object_get_data (G_OBJECT (ask), "cu-languages");
      ids = g_object_get_data (G_OBJECT (ask), "cu-ids");
      g_assert_cmpstr (ids[gtk_drop_down_get_selected (languages)], ==, "es");   /* remembered */
      gtk_window_destroy (GTK_WINDOW (ask));
    }
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

  g_test_add_func ("/app/flags/panel", test_flags_panel);
  return g_test_run ();
}

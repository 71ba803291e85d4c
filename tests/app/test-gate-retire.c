/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-gate-retire.c — display test of retiring studies and of the pseudonymization settings
 * in the main window, on real files: a PHI-bearing Philips fMRI series (shared corpus) is
 * quarantined; the site's fixed copy, rewritten at test time with remapped UIDs, arrives as a
 * new study; "win.supersede-study" offers it, refuses to proceed without a reason, and retires
 * the old study (browser row, banner, store). "win.deid-preferences" refuses an invalid
 * pattern, saves a valid one, and the window re-checks the workspace in the background: the
 * demo's pseudonym no longer matches, so it is quarantined. "win.remove-study" takes a study
 * out of the catalog and leaves its files.
 *
 * CU_TEST_SHOT_DIR=DIR saves pictures of the windows along the way (deid-*.png).
 */
#include "config.h"

#include <string.h>
#include <adwaita.h>
#include <glib/gstdio.h>

#include "cu-browser-item.h"
#include "cu-deid-preferences.h"
#include "cu-dicom-walk.h"
#include "cu-study-browser.h"
#include "cu-window.h"
#include "app-test-util.h"
#include "curation-test-util.h"

#define PHI_SERIES "mr/philips_fmri_epi"
#define N_FILES 3
#define FIXED_ID "CUR-FIX-0001"

/* ---- The site's fixed copy: remapped UIDs, the pseudonym, flagged attributes removed ---- */

typedef struct
{
  GHashTable *remove;
  gboolean remap;
} Fix;

static CuDicomEdit
fix_edit (const CuDicomElement *e, char **replacement, gpointer user_data)
{
  Fix *fix = user_data;
  guint32 tag = ((guint32) e->group << 16) | e->element;

  if (e->depth != 0)
    return CU_DICOM_EDIT_KEEP;
  if (fix->remap && e->text != NULL
      && (tag == 0x00080018 || tag == 0x0020000D || tag == 0x0020000E || tag == 0x00200052))
    {
      g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_MD5, e->text, -1);
      digest[15] = '\0';
      *replacement = g_strdup_printf ("2.25.%" G_GUINT64_FORMAT "3",
                                      g_ascii_strtoull (digest, NULL, 16));
      return CU_DICOM_EDIT_REPLACE;
    }
  if (tag == 0x00100020 || tag == 0x00100010)
    {
      *replacement = g_strdup (FIXED_ID);
      return CU_DICOM_EDIT_REPLACE;
    }
  if (g_hash_table_contains (fix->remove, GUINT_TO_POINTER (tag)) || (e->group & 1) != 0)
    return CU_DICOM_EDIT_REMOVE;
  return CU_DICOM_EDIT_KEEP;
}

static void
fix_remapped (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuDeidProfile) profile = cu_deid_profile_new_default (&error);
  CuDeidConfig config = { CU_DEID_OPTIONS_SITE_DEFAULT, (char *) CU_STORE_DEFAULT_PSEUDONYM_PATTERN };
  g_autoptr (CuDeidChecker) checker = cu_deid_checker_new (profile, &config, &error);
  const CuDicomInsert inserts[] = { { 0x00120062, "CS", "YES" } };

  g_assert_no_error (error);
  for (int round = 0; round < 6; round++)
    {
      g_autoptr (GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_autoptr (GHashTable) remove = g_hash_table_new (NULL, NULL);
      g_autofree char *out = g_strconcat (path, ".fixed", NULL);
      Fix fix = { remove, round == 0 };
      guint n_errors = 0;

      g_assert_true (cu_deid_check_file (checker, path, findings, &error));
      for (guint i = 0; i < findings->len; i++)
        {
          const CuDeidFinding *f = findings->pdata[i];
          unsigned group, element;

          if (f->severity != CU_DEID_SEVERITY_ERROR)
            continue;
          n_errors++;
          if (f->tag_path != NULL && sscanf (f->tag_path, "(%4x,%4x)", &group, &element) == 2)
            {
              guint32 tag = (group << 16) | element;
              if (tag != 0x00100010 && tag != 0x00100020 && tag != 0x00120062 && tag != 0x00080018
                  && tag != 0x0020000D && tag != 0x0020000E && tag != 0x00200052)
                g_hash_table_add (remove, GUINT_TO_POINTER (tag));
            }
        }
      if (round > 0 && n_errors == 0)
        return;
      g_assert_true (cu_dicom_rewrite_file (path, out, fix_edit, &fix, inserts,
                                            G_N_ELEMENTS (inserts), NULL, 0, &error));
      g_assert_no_error (error);
      g_assert_cmpint (g_rename (out, path), ==, 0);
    }
  g_assert_not_reached ();
}

/* ---- Window helpers ------------------------------------------------------------------------ */

static GtkWidget *
find_descendant (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_descendant (c, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
settle (void)
{
  for (int i = 0; i < 10; i++)
    {
      app_test_drain ();
      g_usleep (20 * 1000);
    }
}

static void
test_supersede_settings_remove (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-gate-retire-XXXXXX", &error);
  g_autofree char *phi = g_build_filename (dir, "incoming", NULL);
  g_autofree char *fixed = g_build_filename (dir, "fixed", NULL);
  g_autofree char *demo = g_build_filename (dir, "demo", NULL);
  g_autofree char *demo_t2 = g_build_filename (demo, "S03_t2_tse_tra", NULL);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autoptr (GPtrArray) phi_files = curation_test_copy_corpus_files (PHI_SERIES, N_FILES, phi);
  g_autoptr (GPtrArray) fixed_files = curation_test_copy_corpus_files (PHI_SERIES, N_FILES, fixed);
  g_autoptr (CuStore) store = NULL;
  g_autoptr (CuStudyGate) gate = NULL;
  g_autoptr (CuBrowserItem) item = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_auto (GStrv) demo_files = NULL;
  g_autofree char *old_uid = NULL, *new_uid = NULL, *demo_uid = NULL, *series_uid = NULL;
  const char *reason = "The site re-sent the study with remapped UIDs";
  CuWindow *window;
  CuStudyBrowser *browser;
  GtkLabel *banner_label;
  GtkWidget *dialog, *extra, *entry, *drop_down;
  CuDeidPreferences *prefs;
  AppTestSeriesWait w;

  g_assert_no_error (error);
  for (guint i = 0; i < fixed_files->len; i++)
    fix_remapped (fixed_files->pdata[i]);
  demo_files = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr (CuDicomHeader) a = cu_dicom_header_read (phi_files->pdata[0], &error);
    g_autoptr (CuDicomHeader) b = cu_dicom_header_read (fixed_files->pdata[0], &error);
    g_autoptr (CuDicomHeader) c = NULL;
    g_autoptr (GDir) d = g_dir_open (demo_t2, 0, &error);
    g_autofree char *first = NULL;

    g_assert_no_error (error);
    first = g_build_filename (demo_t2, g_dir_read_name (d), NULL);
    c = cu_dicom_header_read (first, &error);
    g_assert_no_error (error);
    old_uid = g_strdup (a->study_uid);
    new_uid = g_strdup (b->study_uid);
    demo_uid = g_strdup (c->study_uid);
    series_uid = g_strdup (a->series_uid);
  }

  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));
  app_test_drain ();
  cu_window_import (window, (const char *const[]) { phi, fixed, demo_t2, NULL });
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 120));
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, old_uid, NULL))->state, ==,
                   CU_GATE_QUARANTINED);
  g_clear_pointer (&gate, cu_study_gate_free);
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, new_uid, NULL))->state, ==,
                   CU_GATE_PASSED);
  g_clear_pointer (&gate, cu_study_gate_free);

  browser = CU_STUDY_BROWSER (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                             "browser"));
  banner_label = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (window), CU_TYPE_WINDOW,
                                                           "gate_label"));
  /* the quarantined series, viewed under its banner */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.open-series", "s", series_uid));
  w.window = window;
  w.uid = series_uid;
  g_assert_true (app_test_wait_for (app_test_series_opened, &w, 60));
  settle ();
  g_assert_true (g_str_has_prefix (gtk_label_get_label (banner_label), "Quarantined: "));
  app_test_shot (GTK_WIDGET (window), "deid-quarantine.png");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-findings", "s", old_uid));
  settle ();
  dialog = app_test_find_toplevel (ADW_TYPE_WINDOW, "gate-findings");
  g_assert_nonnull (dialog);
  app_test_shot (dialog, "deid-findings.png");
  gtk_window_destroy (GTK_WINDOW (dialog));
  app_test_drain ();

  /* Mark Superseded by…: the fixed copy is offered; no reason, no superseding */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.supersede-study", "s", old_uid));
  settle ();
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, "gate-supersede-dialog");
  g_assert_nonnull (dialog);
  extra = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));
  drop_down = find_descendant (extra, GTK_TYPE_DROP_DOWN);
  entry = find_descendant (extra, GTK_TYPE_ENTRY);
  g_assert_nonnull (drop_down);
  g_assert_nonnull (entry);
  g_assert_cmpuint (g_list_model_get_n_items (gtk_drop_down_get_model (GTK_DROP_DOWN (drop_down))), ==, 1);
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "supersede"));
  gtk_editable_set_text (GTK_EDITABLE (entry), "  ");
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "supersede"));
  gtk_editable_set_text (GTK_EDITABLE (entry), reason);
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "supersede"));
  app_test_shot (dialog, "deid-supersede-dialog.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "supersede");
  app_test_writes_done (store);
  settle ();

  gate = cu_store_get_study_gate (store, old_uid, &error);
  g_assert_cmpint (gate->state, ==, CU_GATE_SUPERSEDED);
  g_assert_cmpstr (gate->superseded_by, ==, new_uid);
  g_assert_cmpstr (gate->reason, ==, reason);
  g_clear_pointer (&gate, cu_study_gate_free);
  item = app_test_find_study_item (browser, old_uid);
  g_assert_nonnull (item);
  g_assert_cmpint (cu_browser_item_get_gate (item), ==, CU_GATE_SUPERSEDED);
  g_assert_nonnull (strstr (cu_browser_item_get_subtitle (item), "Superseded by"));
  g_clear_object (&item);
  g_assert_true (g_str_has_prefix (gtk_label_get_label (banner_label), "Superseded by the study “Konvertertest”"));
  g_assert_false (cu_window_can_annotate (window));
  app_test_shot (GTK_WIDGET (window), "deid-superseded.png");

  /* Pseudonymization settings: an invalid pattern cannot be saved; a valid one is saved and
   * the workspace checked again in the background */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.deid-preferences", NULL));
  settle ();
  prefs = CU_DEID_PREFERENCES (app_test_find_toplevel (CU_TYPE_DEID_PREFERENCES, NULL));
  g_assert_nonnull (prefs);
  g_assert_false (cu_deid_preferences_can_apply (prefs));   /* nothing changed yet */
  g_assert_cmpuint (cu_deid_preferences_get_options (prefs), ==, CU_DEID_OPTIONS_SITE_DEFAULT);
  {
    AdwEntryRow *row = ADW_ENTRY_ROW (gtk_widget_get_template_child (GTK_WIDGET (prefs),
                                                                     CU_TYPE_DEID_PREFERENCES,
                                                                     "pattern_row"));
    GtkLabel *message = GTK_LABEL (gtk_widget_get_template_child (GTK_WIDGET (prefs),
                                                                  CU_TYPE_DEID_PREFERENCES,
                                                                  "pattern_message"));

    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (row)), ==,
                     CU_STORE_DEFAULT_PSEUDONYM_PATTERN);
    gtk_editable_set_text (GTK_EDITABLE (row), "^SITE-([0-9]+$");
    g_assert_false (cu_deid_preferences_can_apply (prefs));
    g_assert_true (g_str_has_prefix (gtk_label_get_label (message), "Not a valid regular expression"));
    g_assert_false (cu_deid_preferences_apply (prefs));
    settle ();
    app_test_shot (GTK_WIDGET (prefs), "deid-preferences-invalid.png");
    gtk_editable_set_text (GTK_EDITABLE (row), "^SITE-[0-9]+$");
    cu_deid_preferences_set_option (prefs, CU_DEID_RETAIN_SAFE_PRIVATE, TRUE);
    g_assert_true (cu_deid_preferences_can_apply (prefs));
    settle ();
    app_test_shot (GTK_WIDGET (prefs), "deid-preferences.png");
  }
  g_assert_true (cu_deid_preferences_apply (prefs));
  {
    CuDeidConfig config = { 0 };

    g_assert_true (cu_store_get_deid_config (store, &config, &error));
    g_assert_cmpstr (config.pseudonym_pattern, ==, "^SITE-[0-9]+$");
    g_assert_cmpuint (config.options, ==, CU_DEID_OPTIONS_SITE_DEFAULT | CU_DEID_RETAIN_SAFE_PRIVATE);
    g_free (config.pseudonym_pattern);
  }
  gtk_window_destroy (GTK_WINDOW (prefs));
  /* the re-check runs as the window's job, then the gates follow the new settings */
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 120));
  settle ();
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, demo_uid, NULL))->state, ==,
                   CU_GATE_QUARANTINED);
  g_clear_pointer (&gate, cu_study_gate_free);
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, new_uid, NULL))->state, ==,
                   CU_GATE_QUARANTINED);
  g_clear_pointer (&gate, cu_study_gate_free);
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, old_uid, NULL))->state, ==,
                   CU_GATE_SUPERSEDED);
  g_clear_pointer (&gate, cu_study_gate_free);
  item = app_test_find_study_item (browser, demo_uid);
  g_assert_cmpint (cu_browser_item_get_gate (item), ==, CU_GATE_QUARANTINED);
  g_clear_object (&item);
  app_test_shot (GTK_WIDGET (window), "deid-rechecked.png");

  /* Studies left "not checked" (a cancelled check, settings changed elsewhere): the dialog
   * offers the check again with unchanged settings; with nothing pending it does not. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.deid-preferences", NULL));
  settle ();
  prefs = CU_DEID_PREFERENCES (app_test_find_toplevel (CU_TYPE_DEID_PREFERENCES, NULL));
  g_assert_false (cu_deid_preferences_can_apply (prefs));
  gtk_window_destroy (GTK_WINDOW (prefs));
  {
    CuDeidConfig other = { CU_DEID_OPTIONS_SITE_DEFAULT | CU_DEID_RETAIN_SAFE_PRIVATE,
                           (char *) "^SITE-[0-9]+$|^CUR-" };
    g_assert_true (cu_store_set_deid_config (store, &other, &error));
  }
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, demo_uid, NULL))->state, ==,
                   CU_GATE_PENDING);
  g_clear_pointer (&gate, cu_study_gate_free);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.deid-preferences", NULL));
  settle ();
  prefs = CU_DEID_PREFERENCES (app_test_find_toplevel (CU_TYPE_DEID_PREFERENCES, NULL));
  g_assert_true (cu_deid_preferences_can_apply (prefs));
  g_assert_true (cu_deid_preferences_apply (prefs));
  gtk_window_destroy (GTK_WINDOW (prefs));
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 120));
  settle ();
  /* the demo's pseudonym matches ^CUR- now: it passes again */
  g_assert_cmpint ((gate = cu_store_get_study_gate (store, demo_uid, NULL))->state, ==,
                   CU_GATE_PASSED);
  g_clear_pointer (&gate, cu_study_gate_free);

  /* Remove from Workspace…: the demo study leaves the catalog, its files stay */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.remove-study", "s", demo_uid));
  settle ();
  dialog = app_test_find_toplevel (ADW_TYPE_MESSAGE_DIALOG, "gate-remove-dialog");
  g_assert_nonnull (dialog);
  entry = adw_message_dialog_get_extra_child (ADW_MESSAGE_DIALOG (dialog));
  g_assert_true (GTK_IS_ENTRY (entry));
  g_assert_false (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "remove"));
  gtk_editable_set_text (GTK_EDITABLE (entry), "Demo data, not part of the cohort");
  g_assert_true (adw_message_dialog_get_response_enabled (ADW_MESSAGE_DIALOG (dialog), "remove"));
  app_test_shot (dialog, "deid-remove-dialog.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "remove");
  app_test_writes_done (store);
  settle ();
  g_assert_null (cu_store_get_study_gate (store, demo_uid, NULL));
  g_assert_null (app_test_find_study_item (browser, demo_uid));
  g_assert_true (g_file_test (demo_t2, G_FILE_TEST_IS_DIR));
  g_assert_cmpuint (g_strv_length (demo_files), >, 1);
  for (guint i = 0; demo_files[i] != NULL; i++)
    g_assert_true (g_file_test (demo_files[i], G_FILE_TEST_IS_REGULAR));
  records = cu_store_list_series (store, &error);
  g_assert_cmpuint (records->len, ==, 2);

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  app_test_rm_rf (dir);
}

int
main (int argc, char *argv[])
{
  /* labels are compared: untranslated */
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check ())
    return 77;
  adw_init ();
  /* the application's style sheet (AdwApplication loads it; tests have no application), so
   * that the badges and banners look as they do for users */
  {
    g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (css, "/io/github/curata/Curata/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  g_test_add_func ("/app/gate/supersede-settings-remove", test_supersede_settings_remove);
  return g_test_run ();
}

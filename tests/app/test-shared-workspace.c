/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-shared-workspace.c — display test: the GUI and curata-cli on one workspace at once.
 *
 * The GUI opens the demo, imports the demo's clinical.csv from the flags panel (a job on its
 * own connection) and chooses a site in the panel's filter; then curata-cli runs against the
 * same workspace while the window is open. Every write of both processes must survive and each
 * must see the other's: a QC decision made in the GUI is read by `curata-cli qc`, a decision
 * made by `curata-cli decide` is read by the GUI, and after the window is closed both are still
 * in the database with their audit rows.
 *
 * The failure this guards against is silent: SQLite's locks are POSIX record locks, which a
 * process loses on *any* close() of *any* descriptor of the database file. If something in the
 * GUI process opens and closes workspace.sqlite (a content-type sniff, a checksum, a copy), the
 * GUI keeps its connection but holds no lock; the CLI's close then believes it is the last
 * connection and deletes the -wal and -shm files under the GUI, whose later writes go to an
 * unlinked file. So the test also checks, through /proc/locks, that the GUI process still
 * holds its locks on the database after each step.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <adwaita.h>

#include "cu-flags-window.h"
#include "cu-window.h"
#include "app-test-util.h"

/* Number of record locks this process holds on the file at path, POSIX (owned by the
 * process) or open file description locks (owned by one of its descriptors): the kernel lists
 * both in /proc/self/fdinfo/N of the descriptors that own them. */
static guint
own_locks_on (const char *path)
{
  g_autoptr (GDir) fds = g_dir_open ("/proc/self/fd", 0, NULL);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  struct stat st;
  const char *name;
  guint n = 0;

  g_assert_nonnull (fds);
  if (stat (path, &st) != 0)
    return 0;
  while ((name = g_dir_read_name (fds)) != NULL)
    {
      g_autofree char *link = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *info = g_build_filename ("/proc/self/fdinfo", name, NULL);
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;
      struct stat fst;

      if (stat (link, &fst) != 0 || fst.st_ino != st.st_ino || fst.st_dev != st.st_dev)
        continue;
      if (!g_file_get_contents (info, &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        /* The same POSIX lock shows under every descriptor of the process: count it once. */
        if (g_str_has_prefix (lines[i], "lock:") && !g_hash_table_contains (seen, lines[i]))
          {
            g_hash_table_add (seen, g_strdup (lines[i]));
            n++;
          }
    }
  return n;
}

/* The GUI keeps a read lock on the database and on its -shm index while its connection is
 * open (WAL mode); losing them is what lets another process delete the WAL. */
static void
assert_gui_holds_locks (const char *workspace, const char *step)
{
  g_autofree char *shm = g_build_filename (workspace, "workspace.sqlite-shm", NULL);

  if (own_locks_on (shm) == 0)
    g_error ("after %s the GUI process holds no lock on %s", step, shm);
}

static char *
run_cli (const char *workspace, const char *const *args, int *status)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *cli = g_build_filename (g_getenv ("CU_BUILD_ROOT"), "app", "cli", "curata-cli", NULL);
  g_autoptr (GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;

  g_ptr_array_add (argv, cli);
  g_ptr_array_add (argv, "--workspace");
  g_ptr_array_add (argv, (char *) workspace);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, status,
                &error);
  g_assert_no_error (error);
  if (err != NULL && *err != '\0')
    g_test_message ("curata-cli %s: %s", args[0], err);
  return out;
}

static void
count_cb (GObject *object, GParamSpec *pspec, gpointer data)
{
  (*(guint *) data)++;
}

static gboolean
panel_idle (gpointer data)
{
  return !cu_flags_window_is_busy (CU_FLAGS_WINDOW (data));
}

static gboolean
decision_is (CuStore *store, const char *series, CuQcDecisionState state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcDecision) d = cu_store_qc_get_decision (store, series, &error);
  g_assert_no_error (error);
  return d->state == state;
}

static void
test_gui_and_cli (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("curata-shared-XXXXXX", &error);
  g_autofree char *workspace = g_build_filename (dir, "workspace", NULL);
  g_autofree char *csv = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autoptr (GPtrArray) records = NULL;
  g_autofree char *out = NULL;
  g_autofree char *series_a = NULL, *series_b = NULL;
  CuFlagsWindow *panel;
  CuWindow *window;
  int status;

  g_assert_no_error (error);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  window = cu_window_new (NULL, store);
  gtk_window_present (GTK_WINDOW (window));
  cu_window_import_demo (window, FALSE);
  g_assert_true (app_test_wait_for (app_test_window_idle, window, 120));
  assert_gui_holds_locks (workspace, "the demo import");

  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, >=, 2);
  series_a = g_strdup (((CuSeriesRecord *) records->pdata[0])->series_uid);
  series_b = g_strdup (((CuSeriesRecord *) records->pdata[1])->series_uid);

  /* The clinical import of the demo, from the flags panel, for a site. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-flags", "s", "");
  app_test_drain ();
  panel = g_object_get_data (G_OBJECT (window), "cu-flags-window");
  g_assert_nonnull (panel);
  csv = g_build_filename (workspace, "demo", "clinical.csv", NULL);
  g_assert_true (g_file_test (csv, G_FILE_TEST_EXISTS));
  cu_flags_window_import_clinical_site (panel, csv, "SITE-A");
  g_assert_true (app_test_wait_for (panel_idle, panel, 60));
  app_test_drain ();
  assert_gui_holds_locks (workspace, "the clinical import");

  /* A site chosen in the panel's Site filter, as a click in its list does: the panel shows
   * that site's flags and settles (it used to rebuild its filters, which chose the site again,
   * which rebuilt them…: hundreds of reloads a second, and a window that never answered). */
  {
    GtkDropDown *site = GTK_DROP_DOWN (gtk_widget_get_template_child (GTK_WIDGET (panel),
                                                                        CU_TYPE_FLAGS_WINDOW,
                                                                        "site_dropdown"));
    GListModel *sites = gtk_drop_down_get_model (site);
    guint changes = 0, pos = GTK_INVALID_LIST_POSITION;
    gint64 until;
    gulong handler;

    for (guint i = 0; i < g_list_model_get_n_items (sites); i++)
      if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (sites), i), "SITE-A") == 0)
        pos = i;
    g_assert_cmpuint (pos, !=, GTK_INVALID_LIST_POSITION);
    handler = g_signal_connect (site, "notify::selected", G_CALLBACK (count_cb), &changes);
    gtk_drop_down_set_selected (site, pos);
    until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE);
    g_signal_handler_disconnect (site, handler);
    g_assert_cmpuint (changes, <=, 2);
    g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (gtk_drop_down_get_model (site)),
                                                 gtk_drop_down_get_selected (site)), ==, "SITE-A");
    g_assert_cmpuint (cu_flags_window_get_n_shown (panel), >, 0);
    app_test_shot (GTK_WIDGET (panel), "shared-flags-site.png");
  }

  /* What a file chooser shown on the workspace folder does in the GUI process: read every
   * file's content type, which opens and sniffs workspace.sqlite and its -shm and -wal (no
   * known extension) and closes them again. */
  {
    g_autoptr (GFile) folder = g_file_new_for_path (workspace);
    g_autoptr (GFileEnumerator) children =
      g_file_enumerate_children (folder, G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                                 G_FILE_QUERY_INFO_NONE, NULL, &error);
    GFileInfo *info;
    guint n = 0;

    g_assert_no_error (error);
    while ((info = g_file_enumerator_next_file (children, NULL, &error)) != NULL)
      {
        n += g_str_has_prefix (g_file_info_get_name (info), "workspace.sqlite");
        g_object_unref (info);
      }
    g_assert_no_error (error);
    g_assert_cmpuint (n, >=, 2);
  }
  assert_gui_holds_locks (workspace, "reading the workspace folder's content types");

  /* The CLI reads the workspace while the GUI has it open. */
  out = run_cli (workspace, (const char *const[]) { "list", NULL }, &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, CU_DEMO_PATIENT_ID));
  assert_gui_holds_locks (workspace, "curata-cli list");

  /* A decision in the GUI is seen by the CLI… */
  g_assert_true (cu_store_qc_decide (store, series_a, CU_QC_DECISION_ACCEPTED, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&out, g_free);
  out = run_cli (workspace, (const char *const[]) { "qc", "--json", series_a, NULL }, &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "\"accepted\""));

  /* …and one by the CLI is seen by the GUI. */
  g_clear_pointer (&out, g_free);
  out = run_cli (workspace, (const char *const[]) { "decide", series_b, "--state", "rejected",
                                                    "--reason", "motion", NULL }, &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (decision_is (store, series_b, CU_QC_DECISION_REJECTED));
  assert_gui_holds_locks (workspace, "curata-cli decide");
  app_test_shot (GTK_WIDGET (window), "shared-main-window.png");

  /* The window closes; both decisions and their audit rows are in the database. */
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_drain ();
  g_clear_object (&store);
  store = cu_store_open (workspace, &error);
  g_assert_no_error (error);
  g_assert_true (decision_is (store, series_a, CU_QC_DECISION_ACCEPTED));
  g_assert_true (decision_is (store, series_b, CU_QC_DECISION_REJECTED));
  g_clear_pointer (&out, g_free);
  out = run_cli (workspace, (const char *const[]) { "qc", "--json", series_a, series_b, NULL }, &status);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "\"accepted\""));
  g_assert_nonnull (strstr (out, "\"rejected\""));

  g_clear_object (&store);
  app_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/app/shared-workspace/gui-and-cli", test_gui_and_cli);
  return g_test_run ();
}

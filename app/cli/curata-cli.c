/* SPDX-License-Identifier: GPL-3.0-or-later
 * curata-cli.c — curata-cli [--workspace DIR] COMMAND …: the command line of Curata.
 *
 * It links libcurata only (no GTK): every command runs the same library code as the GUI, and
 * this program proves the core works without a display. Exit status: 0 success, 1 usage,
 * 2 error, 3 a check command found problems.
 */
#include "config.h"

#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

typedef struct
{
  const char *name;
  CuCliCommandFunc func;
  const char *summary;   /* N_() */
} CuCliCommand;

static const CuCliCommand commands[] = {
  { "import", cu_cli_import, N_("Catalog DICOM files and folders (recursively) in the workspace") },
  { "list", cu_cli_list, N_("List the patients, studies and series of the workspace") },
  { "show", cu_cli_show, N_("Show the geometry and key attributes of a series") },
  { "export-nifti", cu_cli_export_nifti, N_("Write a series as a NIfTI-1 volume") },
  { "hang", cu_cli_hang, N_("Show which series the hanging protocol puts in which pane of a study") },
  { "demo", cu_cli_demo, N_("Write the built-in demo study (synthetic, pseudonymized) to a folder") },
  { "anonymize", cu_cli_anonymize,
    N_("Write anonymized copies of studies for the central repository (step 2)") },
  { "deid-check", cu_cli_deid_check,
    N_("Check files or the workspace against the pseudonymization profile (PS3.15)") },
  { "override", cu_cli_override,
    N_("Accept the findings of a quarantined study, with a reason (audited)") },
  { "supersede", cu_cli_supersede,
    N_("Retire a quarantined study replaced by its fixed copy, with a reason (audited)") },
  { "remove-study", cu_cli_remove_study,
    N_("Remove a study from the catalog (files stay on disk), with a reason (audited)") },
  { "snapshot", cu_cli_snapshot,
    N_("Render a slice plane or the 3D view of a series into a PNG file") },
  { "clinical", cu_cli_clinical, N_("Import the site's clinical data (clinical import FILE)") },
  { "flags", cu_cli_flags,
    N_("Consistency flags: check, list, show, set, comment, export, import") },
  { "denoise", cu_cli_denoise,
    N_("Denoise a series (non-local means, diffusion, Gaussian) into a derived series") },
  { "harmonize", cu_cli_harmonize,
    N_("Harmonize series or a cohort (N4, common grid, z-score, Nyúl, WhiteStripe) into derived "
       "series; --report shows the site effect before and after") },
  { "qc", cu_cli_qc, N_("Run the quality gate on series: checks and image quality metrics") },
  { "decide", cu_cli_decide, N_("Accept or reject a series, or ask the site, with a reason (audited)") },
  { "protocol", cu_cli_protocol,
    N_("Check studies against the workspace's acquisition protocol (e.g. PI-RADS v2.1 prostate mpMRI)") },
  { "register", cu_cli_register,
    N_("Register a series rigidly onto another of the same study (new derived series)") },
  { "motion-correct", cu_cli_motion_correct,
    N_("Correct the motion between the volumes of a 4D series (new derived series)") },
  { "audit", cu_cli_audit,
    N_("The audit trail: verify its hash chain, list it, export it (who, when, what, why)") },
  { "seg", cu_cli_seg,
    N_("Segmentations: edit, measure, export (DICOM SEG, NIfTI), import, agreement, adjudication") },
  { "measure", cu_cli_measure,
    N_("Measurements kept on a series: ruler, ellipse ROI, angle, arrow (add|edit|list|remove|export)") },
  { "server", cu_cli_server,
    N_("DICOMweb servers of the workspace (server add|list|test|remove)") },
  { "pull", cu_cli_pull,
    N_("Search a DICOMweb server (--query KEY=VALUE) or pull studies from it into the workspace") },
  { "push", cu_cli_push,
    N_("Send a written release to a DICOMweb server (STOW-RS), resumable") },
  { "release", cu_cli_release,
    N_("Releases for the central repository: create, add, check, write, list, show, withdraw") },
  { "pack", cu_cli_pack,
    N_("Project packs of the workspace: eCRF variables, terms, forms, protocols, rules (list|add|remove|show|validate)") },
};

/* ---- Shared helpers ----------------------------------------------------------------- */

int
cu_cli_dispatch (CuCli *cli, const char *command, const CuCliSubcommand *subs, guint n_subs,
                 int argc, char **argv)
{
  if (argc >= 2)
    for (guint i = 0; i < n_subs; i++)
      if (strcmp (argv[1], subs[i].name) == 0)
        return subs[i].func (cli, argc - 1, argv + 1);
  if (argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0))
    {
      /* Translators: %s is the command, e.g. "release" */
      printf (_("Usage: curata-cli %s SUBCOMMAND\n"), command);
      for (guint i = 0; i < n_subs; i++)
        printf ("  %-9s %s\n", subs[i].name, _(subs[i].summary));
      return CU_CLI_EXIT_OK;
    }
  if (argc < 2)
    cu_cli_usage_error (NULL, _("No subcommand given (curata-cli %s --help lists them)."), command);
  else
    cu_cli_usage_error (NULL, _("Unknown subcommand “%s” (curata-cli %s --help lists them)."),
                        argv[1], command);
  return CU_CLI_EXIT_USAGE;
}

/* Messages quote values from files: their control characters are shown, not obeyed; the
 * lines of a message stay lines. */
static char *
escape_keeping_lines (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *escaped = cu_cli_escape (lines[i]);
      g_free (lines[i]);
      lines[i] = escaped;
    }
  return g_strjoinv ("\n", lines);
}

void
cu_cli_error (const char *file, const char *format, ...)
{
  g_autofree char *raw = NULL;
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  raw = g_strdup_vprintf (format, args);
  va_end (args);
  message = escape_keeping_lines (raw);

  if (file != NULL)
    {
      g_autofree char *display = g_filename_display_name (file);
      fprintf (stderr, "curata-cli: %s: %s\n", display, message);
    }
  else
    fprintf (stderr, "curata-cli: %s\n", message);
}

void
cu_cli_usage_error (const char *command, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fprintf (stderr, "curata-cli: %s\n", message);
  if (command != NULL)
    fprintf (stderr, _("Try “curata-cli %s --help”.\n"), command);
  else
    fprintf (stderr, _("Try “curata-cli --help”.\n"));
}

GOptionContext *
cu_cli_option_context (const char *command, const char *parameters, const char *summary,
                       const GOptionEntry *entries)
{
  g_autofree char *param = g_strdup_printf ("%s %s", command, parameters != NULL ? parameters : "");
  GOptionContext *context = g_option_context_new (param);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (summary != NULL)
    g_option_context_set_summary (context, _(summary));
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return context;
}

gboolean
cu_cli_parse (GOptionContext *context, const char *command, int *argc, char ***argv)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      cu_cli_usage_error (command, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

CuStore *
cu_cli_open_store (CuCli *cli)
{
  g_autofree char *path = cli->workspace != NULL ? g_strdup (cli->workspace) : cu_store_default_path ();
  g_autoptr(GError) error = NULL;
  CuStore *store = cu_store_open (path, &error);

  if (store == NULL)
    cu_cli_error (path, "%s", error->message);
  return store;
}

static void
progress_to_stderr (double fraction, const char *message, gpointer user_data)
{
  FILE *tty = cu_cli_terminal_stderr ();
  g_autofree char *shown = cu_cli_escape (message != NULL ? message : "");

  /* \r + "erase line": one status line that rewrites itself; the message may name files,
   * so it is escaped (the stream is not filtered, for the sake of these sequences). */
  if (fraction >= 0)
    fprintf (tty, "\r\033[K%3d%%  %s", (int) (fraction * 100.0 + 0.5), shown);
  else
    fprintf (tty, "\r\033[K%s", shown);
  fflush (tty);
}

CuProgress *
cu_cli_progress_new (CuCli *cli)
{
  return cli->progress_on_tty ? cu_progress_new (progress_to_stderr, cli) : NULL;
}

void
cu_cli_progress_done (CuCli *cli)
{
  if (cli->progress_on_tty)
    {
      fputs ("\r\033[K", cu_cli_terminal_stderr ());
      fflush (cu_cli_terminal_stderr ());
    }
}

char *
cu_cli_counts (int errors, int warnings, int notes)
{
  GString *s = g_string_new (NULL);

  g_string_append_printf (s, ngettext ("%d error", "%d errors", errors), errors);
  g_string_append (s, ", ");
  g_string_append_printf (s, ngettext ("%d warning", "%d warnings", warnings), warnings);
  if (notes >= 0)
    {
      g_string_append (s, ", ");
      g_string_append_printf (s, ngettext ("%d note", "%d notes", notes), notes);
    }
  return g_string_free (s, FALSE);
}

void
cu_cli_json_set_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
cu_cli_print_json (JsonNode *root)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  /* json-glib writes every control character of a string as \u00XX except U+001F, which it
   * leaves raw (invalid JSON). Outside strings JSON has no such byte, so each one is inside a
   * string and its escape is exact. */
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\x1f')
        fputs ("\\u001f", stdout);
      else
        fputc (*p, stdout);
    }
  fputc ('\n', stdout);
}

int
cu_cli_exit_for_error (const GError *error)
{
  return CU_CLI_EXIT_ERROR;
}

static void
add_double_array (JsonBuilder *b, const char *name, const double *values, guint n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    json_builder_add_double_value (b, values[i]);
  json_builder_end_array (b);
}

void
cu_cli_add_geometry (JsonBuilder *b, const CuVolume *geometry)
{
  json_builder_set_member_name (b, "dims");
  json_builder_begin_array (b);
  for (guint i = 0; i < 4; i++)
    json_builder_add_int_value (b, geometry->dims[i]);
  json_builder_end_array (b);
  add_double_array (b, "spacing", geometry->spacing, 3);
  add_double_array (b, "origin", geometry->origin, 3);
  add_double_array (b, "direction", geometry->direction, 9);
  json_builder_set_member_name (b, "pixel_type");
  json_builder_add_string_value (b, cu_pixel_type_to_string (geometry->stored_type));
  json_builder_set_member_name (b, "bits_stored");
  json_builder_add_int_value (b, geometry->bits_stored);
  json_builder_set_member_name (b, "rescaled");
  json_builder_add_boolean_value (b, geometry->rescaled);
}

/* ---- Signals ------------------------------------------------------------------------ */

/* SIGINT/SIGTERM are blocked in every thread and taken by this one with sigwait, so the
 * handler may call anything: the first signal cancels the running command cleanly (an
 * import rolls back only its current batch), a second one ends the program at once. */
static gpointer
signal_thread (gpointer data)
{
  GCancellable *cancellable = data;
  sigset_t set;
  int sig;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  if (sigwait (&set, &sig) != 0)
    return NULL;
  g_cancellable_cancel (cancellable);
  if (sigwait (&set, &sig) != 0)
    return NULL;
  _exit (128 + sig);
}

static void
watch_signals (GCancellable *cancellable)
{
  sigset_t set;
  GThread *thread;

  sigemptyset (&set);
  sigaddset (&set, SIGINT);
  sigaddset (&set, SIGTERM);
  /* Before any other thread exists, so that all inherit the mask. */
  pthread_sigmask (SIG_BLOCK, &set, NULL);
  thread = g_thread_new ("signals", signal_thread, cancellable);
  g_thread_unref (thread);
}

/* ---- main --------------------------------------------------------------------------- */

static char *
commands_description (void)
{
  GString *s = g_string_new (_("Commands:"));

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (s, "\n  %-14s %s", commands[i].name, _(commands[i].summary));
  g_string_append_printf (s, "\n\n%s\n\n%s",
                          _("Run “curata-cli COMMAND --help” for the options of a command."),
                          _("Exit status: 0 success, 1 usage error, 2 error, "
                            "3 a check command found problems."));
  return g_string_free (s, FALSE);
}

int
main (int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  g_autofree char *workspace = NULL;
  g_autofree char *description = NULL;
  g_autoptr(GError) error = NULL;
  gboolean version = FALSE;
  CuCli cli = { 0 };
  const GOptionEntry entries[] = {
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &workspace,
      N_("Workspace folder (default: $XDG_DATA_HOME/curata/default)"), N_("DIR") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Print the version and exit"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  cu_cli_guard_output ();
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (_("COMMAND [ARGUMENT…]"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Curate medical imaging data (DICOM) from the command line."));
  description = commands_description ();
  g_option_context_set_description (context, description);
  /* Stop at the command name: what follows belongs to the command's own options. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      cu_cli_usage_error (NULL, "%s", error->message);
      return CU_CLI_EXIT_USAGE;
    }
  if (version)
    {
      printf ("curata-cli %s\n", PACKAGE_VERSION);
      return CU_CLI_EXIT_OK;
    }
  if (argc < 2)
    {
      cu_cli_usage_error (NULL, _("No command given."));
      return CU_CLI_EXIT_USAGE;
    }

  cancellable = g_cancellable_new ();
  watch_signals (cancellable);
  cli.workspace = workspace;
  cli.cancellable = cancellable;
  cli.progress_on_tty = isatty (STDERR_FILENO);

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        int status = commands[i].func (&cli, argc - 1, argv + 1);
        fflush (stdout);
        return status;
      }

  cu_cli_usage_error (NULL, _("Unknown command “%s”."), argv[1]);
  return CU_CLI_EXIT_USAGE;
}

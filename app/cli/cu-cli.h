/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli.h — what the commands of curata-cli share: exit codes, the workspace, output helpers.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "curation.h"

G_BEGIN_DECLS

/* Exit status (ARCHITECTURE.md, "Command line"). */
enum
{
  CU_CLI_EXIT_OK = 0,
  CU_CLI_EXIT_USAGE = 1,
  CU_CLI_EXIT_ERROR = 2,
  CU_CLI_EXIT_PROBLEMS = 3,   /* a check command ran and found problems */
};

typedef struct
{
  const char *workspace;      /* --workspace, or NULL for the default */
  GCancellable *cancellable;  /* cancelled by SIGINT/SIGTERM */
  gboolean progress_on_tty;   /* stderr is a terminal: show progress there */
} CuCli;

typedef int (*CuCliCommandFunc) (CuCli *cli, int argc, char **argv);

int          cu_cli_import        (CuCli *cli, int argc, char **argv);
int          cu_cli_list          (CuCli *cli, int argc, char **argv);
int          cu_cli_show          (CuCli *cli, int argc, char **argv);
int          cu_cli_export_nifti  (CuCli *cli, int argc, char **argv);
int          cu_cli_hang          (CuCli *cli, int argc, char **argv);
int          cu_cli_demo          (CuCli *cli, int argc, char **argv);
int          cu_cli_anonymize     (CuCli *cli, int argc, char **argv);
int          cu_cli_deid_check    (CuCli *cli, int argc, char **argv);
int          cu_cli_override      (CuCli *cli, int argc, char **argv);
int          cu_cli_supersede     (CuCli *cli, int argc, char **argv);
int          cu_cli_remove_study  (CuCli *cli, int argc, char **argv);
int          cu_cli_snapshot      (CuCli *cli, int argc, char **argv);
int          cu_cli_clinical      (CuCli *cli, int argc, char **argv);
int          cu_cli_flags         (CuCli *cli, int argc, char **argv);
int          cu_cli_denoise       (CuCli *cli, int argc, char **argv);
int          cu_cli_harmonize     (CuCli *cli, int argc, char **argv);
/* `harmonize --report` (cu-cli-harmonize-report.c). */
int          cu_cli_harmonize_report (CuCli *cli, int argc, char **argv);
/* The file of a learnt Nyúl scale in the workspace (a name with a slash is a path). */
char        *cu_cli_harmonize_scale_path (CuStore *store, const char *name);
int          cu_cli_qc            (CuCli *cli, int argc, char **argv);
int          cu_cli_decide        (CuCli *cli, int argc, char **argv);
int          cu_cli_protocol      (CuCli *cli, int argc, char **argv);
int          cu_cli_register      (CuCli *cli, int argc, char **argv);
int          cu_cli_motion_correct (CuCli *cli, int argc, char **argv);
int          cu_cli_seg           (CuCli *cli, int argc, char **argv);
int          cu_cli_measure       (CuCli *cli, int argc, char **argv);
int          cu_cli_audit         (CuCli *cli, int argc, char **argv);
int          cu_cli_release       (CuCli *cli, int argc, char **argv);
/* DICOMweb: `server …` (cu-cli-server.c), `pull` (cu-cli-pull.c), `push` (cu-cli-push.c). */
int          cu_cli_server        (CuCli *cli, int argc, char **argv);
int          cu_cli_pull          (CuCli *cli, int argc, char **argv);
int          cu_cli_push          (CuCli *cli, int argc, char **argv);
int          cu_cli_pack          (CuCli *cli, int argc, char **argv);
/* A lesion form of the workspace's packs by id, or (id NULL) "pirads-v2.1" when the packs have
 * it, else their first form (cu-cli-pack.c). */
CuSegForm   *cu_cli_workspace_form (CuStore *store, const char *id, GError **error);
/* Open the client of a server with --timeout/--retries applied; prints the error. */
CuDicomwebClient *cu_cli_open_client (CuCli *cli, CuStore *store, const char *name,
                                      int timeout, int retries);
/* `release write` (cu-cli-release-write.c). */
int          cu_cli_release_write (CuCli *cli, int argc, char **argv);

/* A command made of subcommands (`release create`, `release check` …). */
typedef struct
{
  const char *name;
  CuCliCommandFunc func;
  const char *summary;        /* marked for translation, translated when shown */
} CuCliSubcommand;

/* Run the subcommand argv[1] with (argc - 1, argv + 1); --help lists them; a missing or unknown
 * one is a usage error. */
int          cu_cli_dispatch      (CuCli *cli, const char *command, const CuCliSubcommand *subs,
                                   guint n_subs, int argc, char **argv);

/* A GOptionContext for a command, with translation domain and help set up. */
GOptionContext *cu_cli_option_context (const char *command, const char *parameters,
                                       const char *summary, const GOptionEntry *entries);
/* Parse; on failure print the error and the usage hint. Returns FALSE on a usage error. */
gboolean     cu_cli_parse         (GOptionContext *context, const char *command,
                                   int *argc, char ***argv);
/* Print "curata-cli: message" (and "curata-cli: file: message" when file is set) on stderr. */
void         cu_cli_error         (const char *file, const char *format, ...) G_GNUC_PRINTF (2, 3);
void         cu_cli_usage_error   (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Open the workspace (creating it); prints the error and returns NULL on failure. */
CuStore     *cu_cli_open_store    (CuCli *cli);
/* A progress sink on stderr when it is a terminal, else NULL (no output). */
CuProgress  *cu_cli_progress_new  (CuCli *cli);
void         cu_cli_progress_done (CuCli *cli);
/* A string member, or null when value is NULL. */
void         cu_cli_json_set_string (JsonBuilder *b, const char *name, const char *value);
/* "2 errors, 1 warning" (with ", 0 notes" when notes >= 0), each count in its plural form. */
char        *cu_cli_counts        (int errors, int warnings, int notes);
/* Print a JSON node to stdout, pretty-printed, with a final newline. */
void         cu_cli_print_json    (JsonNode *root);
/* Exit status for an error from curation/: cancellation and failures are errors (2). */
int          cu_cli_exit_for_error (const GError *error);

/* A value from a file (DICOM header, eCRF cell, database) as text safe for a terminal: every
 * control character made visible (\n, \x1b, \u009b), bytes that are not UTF-8 as \xNN. */
char        *cu_cli_escape        (const char *text);
/* Filter stdout and stderr so that no control character but newline and tab reaches them
 * raw. */
void         cu_cli_guard_output  (void);
/* stderr without the filter, for the progress line's own control sequences. */
FILE        *cu_cli_terminal_stderr (void);

/* Volume geometry as a JSON object: dims, spacing, origin, direction, pixel type. */
void         cu_cli_add_geometry  (JsonBuilder *b, const CuVolume *geometry);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-server.c — curata-cli server add|list|test|remove: the DICOMweb servers of the
 * workspace. The secret is read from a file (never from the command line, where `ps` and the
 * shell history would show it) and kept in the desktop keyring; without a keyring the commands
 * that connect read it from CURATA_SERVER_<NAME>_SECRET(_FILE).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

static int
fail_with (const GError *error)
{
  cu_cli_error (NULL, "%s", error->message);
  return cu_cli_exit_for_error (error);
}

CuDicomwebClient *
cu_cli_open_client (CuCli *cli, CuStore *store, const char *name, int timeout, int retries)
{
  g_autoptr(GError) error = NULL;
  CuDicomwebClient *client = cu_dicomweb_client_open (store, name, cli->cancellable, &error);

  if (client == NULL)
    {
      fail_with (error);
      return NULL;
    }
  if (timeout > 0)
    cu_dicomweb_client_set_timeout (client, (guint) timeout);
  if (retries >= 0)
    cu_dicomweb_client_set_retries (client, (guint) retries);
  return client;
}

/* ---- add ---------------------------------------------------------------------------- */

static int
server_add (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuDicomwebServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *user = NULL, *password_file = NULL, *token_file = NULL, *ca_file = NULL;
  g_autofree char *secret = NULL;
  gboolean replace = FALSE;
  CuDicomwebAuth auth = CU_DICOMWEB_AUTH_NONE;
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, N_("User name for HTTP basic authentication"),
      N_("USER") },
    { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &password_file,
      N_("A file holding the password (stored in the keyring)"), N_("FILE") },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      N_("A file holding a bearer token (stored in the keyring)"), N_("FILE") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Trust the CA certificates of this PEM file instead of the system's"), N_("FILE") },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace, N_("Replace a server of that name"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("server add", N_("NAME URL"),
                                   N_("Add a DICOMweb server: its base URL (for Orthanc "
                                      "http://host:8042/dicom-web) and how to authenticate. "
                                      "With --user it is HTTP basic, with --token-file a bearer "
                                      "token, else none. The secret goes into the desktop "
                                      "keyring; where none runs, set CURATA_SERVER_<NAME>_SECRET "
                                      "or CURATA_SERVER_<NAME>_SECRET_FILE when connecting."),
                                   entries);
  if (!cu_cli_parse (context, "server add", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 3)
    {
      cu_cli_usage_error ("server add", _("server add takes a NAME and a URL."));
      return CU_CLI_EXIT_USAGE;
    }
  if (password_file != NULL && token_file != NULL)
    {
      cu_cli_usage_error ("server add", _("Give --password-file or --token-file, not both."));
      return CU_CLI_EXIT_USAGE;
    }
  if (password_file != NULL && user == NULL)
    {
      cu_cli_usage_error ("server add", _("--password-file needs --user."));
      return CU_CLI_EXIT_USAGE;
    }
  if (user != NULL)
    auth = CU_DICOMWEB_AUTH_BASIC;
  else if (token_file != NULL)
    auth = CU_DICOMWEB_AUTH_BEARER;
  if (ca_file != NULL && !g_path_is_absolute (ca_file))
    {
      g_autofree char *cwd = g_get_current_dir ();
      g_autofree char *abs = g_build_filename (cwd, ca_file, NULL);
      g_free (ca_file);
      ca_file = g_steal_pointer (&abs);
    }

  server = cu_dicomweb_server_new (argv[1], argv[2], auth, user, ca_file, &error);
  if (server == NULL)
    return fail_with (error);
  if (password_file != NULL || token_file != NULL)
    {
      secret = cu_dicomweb_secret_read_file (password_file != NULL ? password_file : token_file,
                                             &error);
      if (secret == NULL)
        return fail_with (error);
    }
  if (ca_file != NULL)
    {
      /* Loading the CA file now reports a wrong path where it was typed. */
      g_autoptr(CuDicomwebClient) probe = cu_dicomweb_client_new (server, secret != NULL ? secret : "x",
                                                                 &error);
      if (probe == NULL)
        return fail_with (error);
    }

  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_dicomweb_server_save (store, server, replace, &error))
    return fail_with (error);
  {
    g_autofree char *url = cu_cli_escape (server->base_url);
    printf (_("Server %s added: %s (authentication: %s)\n"), server->name, url,
            cu_dicomweb_auth_to_string (server->auth));
  }
  if (secret != NULL)
    {
      g_autoptr(GError) local = NULL;

      if (cu_dicomweb_secret_store (server, secret, cli->cancellable, &local))
        printf (_("The secret is in the desktop keyring.\n"));
      else
        {
          g_autofree char *env_file = cu_dicomweb_secret_env_name (server->name, TRUE);
          /* Not an error: headless sites have no keyring, and the variable works there. */
          printf (_("The secret was not stored (%s). Set %s to the file holding it when "
                    "running curata-cli.\n"), local->message, env_file);
        }
      memset (secret, 0, strlen (secret));
    }
  return CU_CLI_EXIT_OK;
}

/* ---- list --------------------------------------------------------------------------- */

static int
server_list (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the servers as JSON"), NULL },
    { NULL }
  };

  context = cu_cli_option_context ("server list", NULL,
                                   N_("List the DICOMweb servers of the workspace (never a "
                                      "secret)."), entries);
  if (!cu_cli_parse (context, "server list", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 1)
    {
      cu_cli_usage_error ("server list", _("server list takes no argument."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  list = cu_dicomweb_server_list (store, &error);
  if (list == NULL)
    return fail_with (error);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          const CuDicomwebServer *s = list->pdata[i];

          json_builder_begin_object (b);
          cu_cli_json_set_string (b, "name", s->name);
          cu_cli_json_set_string (b, "url", s->base_url);
          cu_cli_json_set_string (b, "auth", cu_dicomweb_auth_to_string (s->auth));
          cu_cli_json_set_string (b, "user", s->user);
          cu_cli_json_set_string (b, "ca_file", s->ca_file);
          cu_cli_json_set_string (b, "created_at", s->created_at);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      cu_cli_print_json (root);
      return CU_CLI_EXIT_OK;
    }
  for (guint i = 0; i < list->len; i++)
    {
      const CuDicomwebServer *s = list->pdata[i];
      g_autofree char *url = cu_cli_escape (s->base_url);
      g_autofree char *user = s->user != NULL ? cu_cli_escape (s->user) : NULL;

      printf ("%-16s %s  %s%s%s\n", s->name, url, cu_dicomweb_auth_to_string (s->auth),
              user != NULL ? " " : "", user != NULL ? user : "");
    }
  return CU_CLI_EXIT_OK;
}

/* ---- test --------------------------------------------------------------------------- */

static int
server_test (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuDicomwebClient) client = NULL;
  g_autoptr(GError) error = NULL;
  int timeout = 0, retries = -1;
  const GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, N_("Seconds to wait for an answer (default 60)"),
      N_("SECONDS") },
    { "retries", 0, 0, G_OPTION_ARG_INT, &retries, N_("Attempts after the first (default 3)"),
      N_("N") },
    { NULL }
  };

  context = cu_cli_option_context ("server test", N_("NAME"),
                                   N_("Connect to the server with its credentials and run a "
                                      "QIDO-RS search (exit status 2 with the reason when it "
                                      "fails)."), entries);
  if (!cu_cli_parse (context, "server test", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("server test", _("server test takes one NAME."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  client = cu_cli_open_client (cli, store, argv[1], timeout, retries);
  if (client == NULL)
    return CU_CLI_EXIT_ERROR;
  if (!cu_dicomweb_client_test (client, cli->cancellable, &error))
    return fail_with (error);
  {
    g_autofree char *url = cu_cli_escape (cu_dicomweb_client_get_server (client)->base_url);
    printf (_("Server %s: connected to %s, QIDO-RS answers.\n"), argv[1], url);
  }
  return CU_CLI_EXIT_OK;
}

/* ---- remove ------------------------------------------------------------------------- */

static int
server_remove (CuCli *cli, int argc, char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(CuStore) store = NULL;
  g_autoptr(CuDicomwebServer) server = NULL;
  g_autoptr(GError) error = NULL;

  context = cu_cli_option_context ("server remove", N_("NAME"),
                                   N_("Remove a server from the workspace, and its secret from "
                                      "the keyring."), NULL);
  if (!cu_cli_parse (context, "server remove", &argc, &argv))
    return CU_CLI_EXIT_USAGE;
  if (argc != 2)
    {
      cu_cli_usage_error ("server remove", _("server remove takes one NAME."));
      return CU_CLI_EXIT_USAGE;
    }
  store = cu_cli_open_store (cli);
  if (store == NULL)
    return CU_CLI_EXIT_ERROR;
  server = cu_dicomweb_server_load (store, argv[1], &error);
  if (server == NULL || !cu_dicomweb_server_remove (store, argv[1], &error))
    return fail_with (error);
  cu_dicomweb_secret_clear (server);
  printf (_("Server %s removed.\n"), argv[1]);
  return CU_CLI_EXIT_OK;
}

static const CuCliSubcommand subs[] = {
  { "add", server_add, N_("Add a server: NAME URL [--user USER] [--password-file FILE | --token-file FILE] [--ca-file FILE]") },
  { "list", server_list, N_("List the servers") },
  { "test", server_test, N_("Connect to a server and run a search") },
  { "remove", server_remove, N_("Remove a server and its secret") },
};

int
cu_cli_server (CuCli *cli, int argc, char **argv)
{
  return cu_cli_dispatch (cli, "server", subs, G_N_ELEMENTS (subs), argc, argv);
}

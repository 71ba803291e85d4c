/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-secret.c — server secrets through libsecret, with the environment as fallback.
 *
 * The keyring item is keyed by the server's name and base URL: two workspaces that name
 * different servers alike do not share a password, and pointing a server at another URL asks
 * for the secret again rather than sending the old one to a new host.
 *
 * The keyring is only asked when a D-Bus session bus is configured (DBUS_SESSION_BUS_ADDRESS):
 * without one GIO would try to autolaunch a bus, and a keyring daemon started that way has no
 * unlocked collection and would wait for a password prompt nobody can answer — a hang on a
 * headless machine instead of the clear "no secret" message.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>

#include "cu-dicomweb-error.h"
#include "cu-dicomweb-secret.h"

static const SecretSchema *
server_schema (void)
{
  static const SecretSchema schema = {
    "io.github.curata.Curata.Server", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "url", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}

char *
cu_dicomweb_secret_env_name (const char *server_name, gboolean file)
{
  GString *s = g_string_new ("CURATA_SERVER_");

  for (const char *p = server_name; *p != '\0'; p++)
    g_string_append_c (s, g_ascii_isalnum (*p) ? g_ascii_toupper (*p) : '_');
  g_string_append (s, file ? "_SECRET_FILE" : "_SECRET");
  return g_string_free (s, FALSE);
}

char *
cu_dicomweb_secret_read_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;
  char *nl;

  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NO_SECRET,
                   _("%s: the secret file cannot be read: %s"), path, local->message);
      return NULL;
    }
  if (memchr (contents, '\0', len) != NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NO_SECRET,
                   _("%s: the secret file holds a NUL byte"), path);
      return NULL;
    }
  nl = strpbrk (contents, "\r\n");
  if (nl != NULL)
    *nl = '\0';
  if (*contents == '\0')
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NO_SECRET,
                   _("%s: the secret file is empty"), path);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

static gboolean
keyring_session (void)
{
  const char *bus = g_getenv ("DBUS_SESSION_BUS_ADDRESS");
  return bus != NULL && *bus != '\0';
}

char *
cu_dicomweb_secret_lookup (const CuDicomwebServer *server, GCancellable *cancellable,
                           GError **error)
{
  g_autofree char *env = cu_dicomweb_secret_env_name (server->name, FALSE);
  g_autofree char *env_file = cu_dicomweb_secret_env_name (server->name, TRUE);
  g_autoptr(GError) local = NULL;
  const char *value;
  char *secret;

  value = g_getenv (env);
  if (value != NULL && *value != '\0')
    return g_strdup (value);
  value = g_getenv (env_file);
  if (value != NULL && *value != '\0')
    return cu_dicomweb_secret_read_file (value, error);
  if (!keyring_session ())
    return NULL;

  secret = secret_password_lookup_sync (server_schema (), cancellable, &local,
                                        "server", server->name, "url", server->base_url, NULL);
  if (secret == NULL && local != NULL)
    {
      /* No keyring service on the bus is "no secret", not a failure. */
      if (g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN)
          || g_error_matches (local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
        return NULL;
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NO_SECRET,
                   _("Reading the secret of server “%s” from the keyring failed: %s"),
                   server->name, local->message);
      return NULL;
    }
  if (secret == NULL)
    return NULL;
  {
    /* libsecret's non-pageable memory is freed with its own function. */
    char *copy = g_strdup (secret);
    secret_password_free (secret);
    return copy;
  }
}

gboolean
cu_dicomweb_secret_store (const CuDicomwebServer *server, const char *secret,
                          GCancellable *cancellable, GError **error)
{
  g_autofree char *label = NULL;
  g_autoptr(GError) local = NULL;

  if (!keyring_session ())
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("No desktop keyring is running (no D-Bus session)"));
      return FALSE;
    }
  /* Translators: the label of the keyring item, %s is the server name. */
  label = g_strdup_printf (_("Curata DICOMweb server “%s”"), server->name);
  if (!secret_password_store_sync (server_schema (), SECRET_COLLECTION_DEFAULT, label, secret,
                                   cancellable, &local,
                                   "server", server->name, "url", server->base_url, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The desktop keyring did not store the secret: %s"), local->message);
      return FALSE;
    }
  return TRUE;
}

void
cu_dicomweb_secret_clear (const CuDicomwebServer *server)
{
  if (!keyring_session ())
    return;
  secret_password_clear_sync (server_schema (), NULL, NULL,
                              "server", server->name, "url", server->base_url, NULL);
}

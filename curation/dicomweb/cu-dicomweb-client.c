/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-client.c — DICOMweb over libsoup 3 (PS3.18: QIDO-RS §10.6, WADO-RS §10.4,
 * STOW-RS §10.5; the JSON model is PS3.18 Annex F).
 *
 * Authentication: HTTP basic goes through libsoup's own "authenticate" handshake (the session's
 * auth manager then sends it preemptively), answered once per message, so a wrong password ends
 * as 401 instead of a loop. A bearer token is an Authorization header, which libsoup 3.2 has no
 * SoupAuth type for.
 *
 * Everything from the server is untrusted: JSON is checked for nesting depth before json-glib
 * parses it (cu-json-limits.h) and read with a size cap; multipart bodies are split by
 * SoupMultipartInputStream and each part's Content-Length, when it has one, is enforced.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <libsoup/soup.h>

#include "cu-dicomweb-client.h"
#include "cu-dicomweb-error.h"
#include "cu-dicomweb-secret.h"
#include "cu-json-limits.h"

#define DEFAULT_TIMEOUT_S   60
#define DEFAULT_RETRIES     3
#define MAX_RETRY_AFTER_S   60
#define MAX_JSON_BYTES      (256u << 20)   /* a QIDO answer of a million instances fits */
#define MAX_JSON_DEPTH      64
#define QIDO_PAGE           1000          /* datasets asked for per QIDO-RS request */
#define ACCEPT_DICOM        "multipart/related; type=\"application/dicom\"; transfer-syntax=*"
#define ACCEPT_JSON         "application/dicom+json, application/json"

struct _CuDicomwebClient
{
  GObject parent_instance;

  CuDicomwebServer *server;
  char *secret;
  SoupSession *session;
  guint retries;
  guint timeout;
};

G_DEFINE_FINAL_TYPE (CuDicomwebClient, cu_dicomweb_client, G_TYPE_OBJECT)

static void
cu_dicomweb_client_finalize (GObject *object)
{
  CuDicomwebClient *self = CU_DICOMWEB_CLIENT (object);

  g_clear_object (&self->session);
  cu_dicomweb_server_free (self->server);
  if (self->secret != NULL)
    {
      memset (self->secret, 0, strlen (self->secret));
      g_free (self->secret);
    }
  G_OBJECT_CLASS (cu_dicomweb_client_parent_class)->finalize (object);
}

static void
cu_dicomweb_client_class_init (CuDicomwebClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = cu_dicomweb_client_finalize;
}

static void
cu_dicomweb_client_init (CuDicomwebClient *self)
{
  self->retries = DEFAULT_RETRIES;
  self->timeout = DEFAULT_TIMEOUT_S;
}

CuDicomwebClient *
cu_dicomweb_client_new (const CuDicomwebServer *server, const char *secret, GError **error)
{
  g_autoptr(CuDicomwebClient) self = NULL;
  g_autofree char *ua = NULL;

  g_return_val_if_fail (server != NULL, NULL);

  if (server->auth != CU_DICOMWEB_AUTH_NONE && (secret == NULL || *secret == '\0'))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NO_SECRET,
                   _("Server “%s” needs a password or token, and none was given"), server->name);
      return NULL;
    }
  self = g_object_new (CU_TYPE_DICOMWEB_CLIENT, NULL);
  self->server = cu_dicomweb_server_copy (server);
  self->secret = g_strdup (secret);
  ua = g_strdup_printf ("Curata/%s", PACKAGE_VERSION);
  self->session = soup_session_new_with_options ("user-agent", ua, "timeout", self->timeout,
                                                 "max-conns-per-host", 16, NULL);
  if (server->auth == CU_DICOMWEB_AUTH_BASIC)
    {
      /* Preload the session's auth cache for the base URL, so that every request carries the
       * credentials from the start: a server that answers an unauthenticated STOW-RS upload
       * with 401 and closes the connection before reading the body would otherwise cost a
       * broken pipe and a resend of the whole body. */
      g_autoptr(GUri) base = g_uri_parse (server->base_url, SOUP_HTTP_URI_FLAGS, NULL);
      g_autoptr(SoupMessage) probe = base != NULL ? soup_message_new_from_uri ("GET", base) : NULL;
      g_autoptr(SoupAuth) auth = probe != NULL
                                 ? soup_auth_new (SOUP_TYPE_AUTH_BASIC, probe, "Basic realm=\"DICOMweb\"")
                                 : NULL;

      if (auth != NULL)
        {
          SoupSessionFeature *manager = soup_session_get_feature (self->session, SOUP_TYPE_AUTH_MANAGER);

          soup_auth_authenticate (auth, server->user, secret);
          soup_auth_manager_use_auth (SOUP_AUTH_MANAGER (manager), base, auth);
        }
    }
  if (server->ca_file != NULL)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GTlsDatabase) db = g_tls_file_database_new (server->ca_file, &local);

      if (db == NULL)
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                       _("%s: the CA file cannot be loaded: %s"), server->ca_file, local->message);
          return NULL;
        }
      soup_session_set_tls_database (self->session, db);
    }
  return g_steal_pointer (&self);
}

CuDicomwebClient *
cu_dicomweb_client_open (CuStore *store, const char *name, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr(CuDicomwebServer) server = cu_dicomweb_server_load (store, name, error);
  g_autofree char *secret = NULL;
  g_autoptr(GError) local = NULL;
  CuDicomwebClient *client;

  if (server == NULL)
    return NULL;
  if (server->auth != CU_DICOMWEB_AUTH_NONE)
    {
      secret = cu_dicomweb_secret_lookup (server, cancellable, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (secret == NULL)
        {
          g_autofree char *env = cu_dicomweb_secret_env_name (name, FALSE);
          g_autofree char *env_file = cu_dicomweb_secret_env_name (name, TRUE);

          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NO_SECRET,
                       _("No password or token for server “%s”: none in the keyring, and neither "
                         "%s nor %s is set"), name, env, env_file);
          return NULL;
        }
    }
  client = cu_dicomweb_client_new (server, secret, error);
  if (secret != NULL)
    memset (secret, 0, strlen (secret));
  return client;
}

const CuDicomwebServer *
cu_dicomweb_client_get_server (CuDicomwebClient *self)
{
  g_return_val_if_fail (CU_IS_DICOMWEB_CLIENT (self), NULL);
  return self->server;
}

void
cu_dicomweb_client_set_timeout (CuDicomwebClient *self, guint seconds)
{
  g_return_if_fail (CU_IS_DICOMWEB_CLIENT (self));
  self->timeout = seconds > 0 ? seconds : DEFAULT_TIMEOUT_S;
  soup_session_set_timeout (self->session, self->timeout);
}

void
cu_dicomweb_client_set_retries (CuDicomwebClient *self, guint retries)
{
  g_return_if_fail (CU_IS_DICOMWEB_CLIENT (self));
  self->retries = retries;
}

/* ---- Sending, with retries --------------------------------------------------------- */

typedef struct
{
  const char *method;
  const char *path;          /* below the base URL, without the leading '/' */
  const char *query;         /* encoded, without '?'; NULL */
  const char *accept;
  GBytes *body;              /* NULL */
  const char *content_type;  /* of body, with its parameters */
  gboolean conflict_ok;      /* STOW: 409 carries a body saying what failed */
} Request;

static gboolean
on_authenticate (SoupMessage *msg, SoupAuth *auth, gboolean retrying, gpointer user_data)
{
  CuDicomwebClient *self = user_data;

  /* Answer once: a second challenge means the server refused these credentials. */
  if (retrying || self->server->auth != CU_DICOMWEB_AUTH_BASIC)
    return FALSE;
  soup_auth_authenticate (auth, self->server->user, self->secret);
  return TRUE;
}

static char *
request_url (CuDicomwebClient *self, const Request *r)
{
  return g_strconcat (self->server->base_url, "/", r->path, r->query != NULL ? "?" : "",
                      r->query != NULL ? r->query : "", NULL);
}

static SoupMessage *
build_message (CuDicomwebClient *self, const Request *r, GError **error)
{
  g_autofree char *url = request_url (self, r);
  g_autoptr(GError) local = NULL;
  SoupMessage *msg;
  g_autoptr(GUri) uri = g_uri_parse (url, SOUP_HTTP_URI_FLAGS, &local);

  if (uri == NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                   _("%s: not a valid URL: %s"), url, local->message);
      return NULL;
    }
  msg = soup_message_new_from_uri (r->method, uri);
  soup_message_headers_replace (soup_message_get_request_headers (msg), "Accept", r->accept);
  if (self->server->auth == CU_DICOMWEB_AUTH_BEARER)
    {
      g_autofree char *value = g_strconcat ("Bearer ", self->secret, NULL);
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", value);
    }
  if (r->body != NULL)
    soup_message_set_request_body_from_bytes (msg, r->content_type, r->body);
  g_signal_connect_object (msg, "authenticate", G_CALLBACK (on_authenticate), self, 0);
  return msg;
}

/* Seconds to wait before the next attempt: Retry-After (delta-seconds or HTTP-date), else
 * exponential back-off. */
static guint
retry_delay (SoupMessage *msg, guint attempt)
{
  const char *value = msg != NULL
                      ? soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After")
                      : NULL;
  guint fallback = 1u << MIN (attempt, 5u);

  if (value != NULL)
    {
      guint64 seconds;
      g_autoptr(GDateTime) when = NULL;
      g_autofree char *trimmed = g_strstrip (g_strdup (value));

      if (g_ascii_string_to_unsigned (trimmed, 10, 0, G_MAXUINT32, &seconds, NULL))
        return (guint) MIN (seconds, (guint64) MAX_RETRY_AFTER_S);
      when = soup_date_time_new_from_http_string (value);
      if (when != NULL)
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
          GTimeSpan span = g_date_time_difference (when, now) / G_TIME_SPAN_SECOND;
          return (guint) CLAMP (span, 0, MAX_RETRY_AFTER_S);
        }
    }
  return MIN (fallback, (guint) MAX_RETRY_AFTER_S);
}

/* Sleep, waking up for cancellation. */
static gboolean
wait_seconds (guint seconds, GCancellable *cancellable, GError **error)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      g_usleep (MIN ((gint64) 100000, end - g_get_monotonic_time ()));
    }
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
transport_error_is_transient (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)
         || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
         || error->domain == SOUP_SESSION_ERROR;
}

static gboolean
status_is_transient (guint status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static void
set_status_error (CuDicomwebClient *self, SoupMessage *msg, const char *url, GError **error)
{
  guint status = soup_message_get_status (msg);
  const char *phrase = soup_message_get_reason_phrase (msg);

  if (status == 401 || status == 403)
    g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_AUTH,
                 _("%s: the server refused the credentials of server “%s” (HTTP %u %s); check the "
                   "user name and the password or token"), url, self->server->name, status,
                 phrase != NULL ? phrase : "");
  else if (status == 404)
    g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_NOT_FOUND,
                 _("%s: not found on the server (HTTP 404); is the DICOMweb base URL right?"), url);
  else
    g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_HTTP,
                 _("%s: the server answered HTTP %u %s"), url, status, phrase != NULL ? phrase : "");
}

/* Send r, retrying transient failures; on success the response body stream and *out_msg. */
static GInputStream *
client_send (CuDicomwebClient *self, const Request *r, SoupMessage **out_msg,
             GCancellable *cancellable, GError **error)
{
  g_autofree char *url = request_url (self, r);

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(SoupMessage) msg = build_message (self, r, error);
      g_autoptr(GError) local = NULL;
      g_autoptr(GInputStream) stream = NULL;
      guint status;

      if (msg == NULL)
        return NULL;
      stream = soup_session_send (self->session, msg, cancellable, &local);
      if (stream == NULL)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local));
              return NULL;
            }
          if (transport_error_is_transient (local) && attempt < self->retries)
            {
              g_debug ("%s: %s; attempt %u of %u", url, local->message, attempt + 2, self->retries + 1);
              if (!wait_seconds (retry_delay (NULL, attempt), cancellable, error))
                return NULL;
              continue;
            }
          if (local->domain == G_TLS_ERROR && self->server->ca_file != NULL)
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TLS,
                         _("%s: the server's TLS certificate is not signed by the CA of %s (%s)"),
                         url, self->server->ca_file, local->message);
          else if (local->domain == G_TLS_ERROR)
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TLS,
                         _("%s: the server's TLS certificate is not trusted by this system (%s); "
                           "if the site signs its own certificates, give its CA certificate with "
                           "--ca-file"), url, local->message);
          else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_TIMEOUT,
                         _("%s: the server did not answer within %u s (%u attempts)"), url,
                         self->timeout, attempt + 1);
          else
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_CONNECT,
                         _("%s: the server cannot be reached: %s (%u attempts)"), url,
                         local->message, attempt + 1);
          return NULL;
        }

      status = soup_message_get_status (msg);
      if (SOUP_STATUS_IS_SUCCESSFUL (status) || (r->conflict_ok && status == 409))
        {
          *out_msg = g_steal_pointer (&msg);
          return g_steal_pointer (&stream);
        }
      if (status_is_transient (status) && attempt < self->retries)
        {
          guint delay = retry_delay (msg, attempt);

          g_debug ("%s: HTTP %u; retrying in %u s", url, status, delay);
          g_input_stream_close (stream, NULL, NULL);
          if (!wait_seconds (delay, cancellable, error))
            return NULL;
          continue;
        }
      set_status_error (self, msg, url, error);
      if (status_is_transient (status))
        g_prefix_error (error, _("After %u attempts: "), attempt + 1);
      return NULL;
    }
}

/* ---- JSON -------------------------------------------------------------------------- */

static GBytes *
read_all (GInputStream *stream, gsize cap, const char *url, GCancellable *cancellable,
          GError **error)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buf[65536];

  for (;;)
    {
      g_autoptr(GError) local = NULL;
      gssize n = g_input_stream_read (stream, buf, sizeof buf, cancellable, &local);

      if (n < 0)
        {
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                         _("%s: the answer broke off: %s"), url, local->message);
          return NULL;
        }
      if (n == 0)
        break;
      if (data->len + (gsize) n > cap)
        {
          g_autofree char *size = g_format_size (cap);
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                       _("%s: the answer is larger than %s"), url, size);
          return NULL;
        }
      g_byte_array_append (data, buf, (guint) n);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

static JsonNode *
parse_json (GBytes *bytes, const char *url, GError **error)
{
  gsize len;
  const char *text = g_bytes_get_data (bytes, &len);
  g_autofree char *reason = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local = NULL;

  if (!cu_json_text_within (text, len, MAX_JSON_DEPTH, &reason))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("%s: the server sent malformed JSON: %s"), url, reason);
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize) len, &local))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("%s: the server sent malformed JSON: %s"), url, local->message);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

char *
cu_dicomweb_attribute_string (JsonObject *dataset, const char *tag)
{
  JsonNode *node = json_object_get_member (dataset, tag);
  JsonObject *attr;
  JsonArray *values;
  JsonNode *first;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  attr = json_node_get_object (node);
  node = json_object_get_member (attr, "Value");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  values = json_node_get_array (node);
  if (json_array_get_length (values) == 0)
    return NULL;
  first = json_array_get_element (values, 0);
  if (JSON_NODE_HOLDS_OBJECT (first))
    {
      JsonNode *alpha = json_object_get_member (json_node_get_object (first), "Alphabetic");
      return alpha != NULL && JSON_NODE_HOLDS_VALUE (alpha)
             && json_node_get_value_type (alpha) == G_TYPE_STRING
             ? g_strdup (json_node_get_string (alpha)) : NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (first))
    return NULL;
  switch (json_node_get_value_type (first))
    {
    case G_TYPE_STRING: return g_strdup (json_node_get_string (first));
    case G_TYPE_INT64: return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (first));
    case G_TYPE_DOUBLE:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (first)));
      }
    default: return NULL;
    }
}

/* ---- QIDO-RS ----------------------------------------------------------------------- */

static gboolean
valid_query_key (const char *key, gsize len)
{
  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (key[i]) && key[i] != '.')   /* keywords, tags, nested "0040A730.00080100" */
      return FALSE;
  return TRUE;
}

static char *
encode_query (const char *const *query, GError **error)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; query != NULL && query[i] != NULL; i++)
    {
      const char *eq = strchr (query[i], '=');
      g_autofree char *key = NULL, *value = NULL;

      if (eq == NULL || !valid_query_key (query[i], (gsize) (eq - query[i])))
        {
          g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_INVALID,
                       _("“%s” is not a KEY=VALUE query term with a DICOM keyword or tag as KEY "
                         "(PatientID=…, StudyDate=20240101-20241231, ModalitiesInStudy=MR)"),
                       query[i]);
          return NULL;
        }
      key = g_strndup (query[i], (gsize) (eq - query[i]));
      value = g_uri_escape_string (eq + 1, NULL, FALSE);
      g_string_append_printf (s, "%s%s=%s", s->len > 0 ? "&" : "", key, value);
    }
  return s->len > 0 ? g_string_free (g_steal_pointer (&s), FALSE) : NULL;
}

/* One QIDO-RS request: the JSON array of datasets it answered. */
static JsonNode *
search_once (CuDicomwebClient *self, const char *path, const char *query,
             GCancellable *cancellable, GError **error)
{
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *url = NULL;
  Request r = { "GET", path, query, ACCEPT_JSON, NULL, NULL, FALSE };
  JsonArray *array;

  url = request_url (self, &r);
  stream = client_send (self, &r, &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  bytes = read_all (stream, MAX_JSON_BYTES, url, cancellable, error);
  if (bytes == NULL)
    return NULL;
  /* 204 No Content: QIDO-RS's "no match" (Orthanc sends an empty array instead). */
  if (g_bytes_get_size (bytes) == 0 || soup_message_get_status (msg) == 204)
    return json_node_init_array (json_node_alloc (), json_array_new ());
  root = parse_json (bytes, url, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("%s: the server sent malformed JSON: not an array of datasets"), url);
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, i)))
      {
        g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                     _("%s: the server sent malformed JSON: element %u is not a dataset"), url, i);
        return NULL;
      }
  return g_steal_pointer (&root);
}

/* What identifies a dataset of a QIDO-RS answer, at any level: its study, series and SOP
 * instance UIDs (those it has). */
static char *
dataset_key (JsonObject *ds)
{
  g_autofree char *st = cu_dicomweb_attribute_string (ds, "0020000D");
  g_autofree char *se = cu_dicomweb_attribute_string (ds, "0020000E");
  g_autofree char *sop = cu_dicomweb_attribute_string (ds, "00080018");

  return g_strdup_printf ("%s/%s/%s", st != NULL ? st : "", se != NULL ? se : "",
                          sop != NULL ? sop : "");
}

static gboolean
query_has_key (const char *const *query, const char *key)
{
  gsize n = strlen (key);

  for (guint i = 0; query != NULL && query[i] != NULL; i++)
    if (g_ascii_strncasecmp (query[i], key, n) == 0 && query[i][n] == '=')
      return TRUE;
  return FALSE;
}

JsonNode *
cu_dicomweb_client_search (CuDicomwebClient *self, const char *path, const char *const *query,
                           GCancellable *cancellable, GError **error)
{
  g_autofree char *q = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(JsonArray) all = NULL;
  g_autoptr(GHashTable) seen = NULL;
  guint offset = 0;

  g_return_val_if_fail (CU_IS_DICOMWEB_CLIENT (self), NULL);

  q = encode_query (query, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  /* The caller chose its own window: one request, as asked. */
  if (query_has_key (query, "limit") || query_has_key (query, "offset"))
    return search_once (self, path, q, cancellable, error);

  /* Paging (PS3.18 §8.3.4.4): a server may cap its answer (Orthanc's LimitFindResults, a
   * PACS's maximum), silently or with a Warning; so pages are asked for with limit and offset
   * until one comes back empty. A server that ignores offset sends the same datasets again,
   * which ends the paging instead of looping. */
  all = json_array_new ();
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (;;)
    {
      g_autofree char *page_query = g_strdup_printf ("%s%slimit=%u&offset=%u", q != NULL ? q : "",
                                                     q != NULL ? "&" : "", QIDO_PAGE, offset);
      g_autoptr(JsonNode) page = search_once (self, path, page_query, cancellable, error);
      JsonArray *array;
      guint added = 0;

      if (page == NULL)
        return NULL;
      array = json_node_get_array (page);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (g_hash_table_add (seen, dataset_key (json_node_get_object (element))))
            {
              json_array_add_element (all, json_node_copy (element));
              added++;
            }
        }
      if (json_array_get_length (array) == 0 || added == 0)
        break;
      offset += json_array_get_length (array);
    }
  return json_node_init_array (json_node_alloc (), all);
}

gboolean
cu_dicomweb_client_test (CuDicomwebClient *self, GCancellable *cancellable, GError **error)
{
  const char *const query[] = { "limit=1", NULL };
  g_autoptr(JsonNode) root = cu_dicomweb_client_search (self, "studies", query, cancellable, error);

  return root != NULL;
}

/* ---- WADO-RS ----------------------------------------------------------------------- */

gboolean
cu_dicomweb_client_retrieve (CuDicomwebClient *self, const char *path, CuDicomwebPartFunc func,
                             gpointer user_data, GCancellable *cancellable, GError **error)
{
  Request r = { "GET", path, NULL, ACCEPT_DICOM, NULL, NULL, FALSE };
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(SoupMultipartInputStream) multipart = NULL;
  g_autofree char *url = request_url (self, &r);
  g_autoptr(GHashTable) params = NULL;
  const char *ctype;
  guint n_parts = 0;

  g_return_val_if_fail (CU_IS_DICOMWEB_CLIENT (self), FALSE);

  stream = client_send (self, &r, &msg, cancellable, error);
  if (stream == NULL)
    return FALSE;
  ctype = soup_message_headers_get_content_type (soup_message_get_response_headers (msg), &params);
  if (ctype == NULL || g_ascii_strcasecmp (ctype, "multipart/related") != 0
      || g_hash_table_lookup (params, "boundary") == NULL)
    {
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("%s: the server did not send a multipart/related body (Content-Type %s)"),
                   url, ctype != NULL ? ctype : _("missing"));
      return FALSE;
    }
  multipart = soup_multipart_input_stream_new (msg, stream);
  for (;;)
    {
      g_autoptr(GError) local = NULL;
      g_autoptr(GInputStream) part = soup_multipart_input_stream_next_part (multipart, cancellable,
                                                                            &local);
      SoupMessageHeaders *headers;
      goffset length = -1;

      if (part == NULL)
        {
          if (local == NULL)
            break;   /* the closing boundary */
          if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_propagate_error (error, g_steal_pointer (&local));
          else
            g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                         _("%s: the multipart body broke off after %u parts: %s"), url, n_parts,
                         local->message);
          return FALSE;
        }
      headers = soup_multipart_input_stream_get_headers (multipart);
      if (headers != NULL)
        {
          const char *part_type = soup_message_headers_get_content_type (headers, NULL);
          const char *len = soup_message_headers_get_one (headers, "Content-Length");
          guint64 v;

          if (part_type != NULL && g_ascii_strcasecmp (part_type, "application/dicom") != 0)
            {
              g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                           _("%s: part %u is %s, not application/dicom"), url, n_parts + 1, part_type);
              return FALSE;
            }
          if (len != NULL)
            {
              if (!g_ascii_string_to_unsigned (len, 10, 0, G_MAXINT64, &v, NULL))
                {
                  g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                               _("%s: part %u has an invalid Content-Length “%s”"), url,
                               n_parts + 1, len);
                  return FALSE;
                }
              length = (goffset) v;
            }
        }
      if (!func (part, length, user_data, cancellable, error))
        {
          g_prefix_error (error, "%s: ", url);
          return FALSE;
        }
      n_parts++;
    }
  return TRUE;
}

/* ---- STOW-RS ----------------------------------------------------------------------- */

JsonNode *
cu_dicomweb_client_store (CuDicomwebClient *self, GPtrArray *instances,
                          GCancellable *cancellable, GError **error)
{
  g_autoptr(SoupMultipart) multipart = soup_multipart_new ("multipart/related");
  g_autoptr(SoupMessageHeaders) headers = soup_message_headers_new (SOUP_MESSAGE_HEADERS_MULTIPART);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GString) ctype = NULL;
  g_autofree char *url = NULL;
  Request r = { "POST", "studies", NULL, ACCEPT_JSON, NULL, NULL, TRUE };
  GHashTableIter it;
  gpointer k, v;
  JsonNode *root;

  g_return_val_if_fail (CU_IS_DICOMWEB_CLIENT (self), NULL);

  for (guint i = 0; i < instances->len; i++)
    {
      g_autoptr(SoupMessageHeaders) part = soup_message_headers_new (SOUP_MESSAGE_HEADERS_MULTIPART);

      soup_message_headers_set_content_type (part, "application/dicom", NULL);
      soup_multipart_append_part (multipart, part, instances->pdata[i]);
    }
  soup_multipart_to_message (multipart, headers, &body);
  /* PS3.18 §8.6.1.2: the type parameter names the parts' media type; libsoup wrote the
   * boundary, the type is added beside it. */
  soup_message_headers_get_content_type (headers, &params);
  ctype = g_string_new ("multipart/related; type=\"application/dicom\"");
  g_hash_table_iter_init (&it, params);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (g_ascii_strcasecmp (k, "type") != 0)
      g_string_append_printf (ctype, "; %s=\"%s\"", (const char *) k, (const char *) v);
  r.body = body;
  r.content_type = ctype->str;
  url = request_url (self, &r);

  stream = client_send (self, &r, &msg, cancellable, error);
  if (stream == NULL)
    return NULL;
  answer = read_all (stream, MAX_JSON_BYTES, url, cancellable, error);
  if (answer == NULL)
    return NULL;
  if (g_bytes_get_size (answer) == 0)
    return json_node_init_object (json_node_alloc (), json_object_new ());
  root = parse_json (answer, url, error);
  if (root != NULL && !JSON_NODE_HOLDS_OBJECT (root))
    {
      json_node_unref (root);
      g_set_error (error, CU_DICOMWEB_ERROR, CU_DICOMWEB_ERROR_PROTOCOL,
                   _("%s: the server sent malformed JSON: the STOW-RS answer is not a dataset"), url);
      return NULL;
    }
  return root;
}

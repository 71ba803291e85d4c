/* SPDX-License-Identifier: GPL-3.0-or-later
 * dicom-test-util.c — shared helpers of the DICOM reading tests.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "dicom-test-util.h"

char *
dt_corpus (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");
  g_assert_nonnull (root);
  return g_build_filename (root, rel, NULL);
}

static char *tmpdir;

static void
remove_tmpdir (void)
{
  if (tmpdir == NULL)
    return;
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (tmpdir, name, NULL);
      g_unlink (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (tmpdir);
  g_clear_pointer (&tmpdir, g_free);
}

const char *
dt_tmpdir (void)
{
  if (tmpdir == NULL)
    {
      g_autoptr (GError) error = NULL;
      tmpdir = g_dir_make_tmp ("cu-dicom-test-XXXXXX", &error);
      g_assert_no_error (error);
      atexit (remove_tmpdir);
    }
  return tmpdir;
}

/* One pydicom-ref.py process per test program, fed one request per line ("serve"). */
static GSubprocess *server;
static GDataInputStream *server_out;

static void
stop_server (void)
{
  if (server == NULL)
    return;
  g_output_stream_close (g_subprocess_get_stdin_pipe (server), NULL, NULL);
  g_subprocess_wait (server, NULL, NULL);
  g_clear_object (&server_out);
  g_clear_object (&server);
}

/* Send one request; returns its JSON answer, or NULL after g_test_skip. */
static JsonNode *
ask (const char *const *request)
{
  g_autoptr (GError) error = NULL;

  if (server == NULL)
    {
      const char *src = g_getenv ("CU_SOURCE_ROOT");
      if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
        {
          g_test_skip ("/usr/bin/python3 (with pydicom) is not installed");
          return NULL;
        }
      g_assert_nonnull (src);
      g_autofree char *script = g_build_filename (src, "tests", "curation", "dicom",
                                                  "pydicom-ref.py", NULL);
      server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                 &error, "/usr/bin/python3", "-W", "ignore", script, "serve",
                                 NULL);
      g_assert_no_error (error);
      server_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
      atexit (stop_server);
    }

  g_autofree char *line = g_strjoinv ("\t", (char **) request);
  g_autofree char *msg = g_strconcat (line, "\n", NULL);
  g_output_stream_write_all (g_subprocess_get_stdin_pipe (server), msg, strlen (msg), NULL, NULL,
                             &error);
  g_assert_no_error (error);
  g_autofree char *answer = g_data_input_stream_read_line_utf8 (server_out, NULL, NULL, &error);
  g_assert_no_error (error);
  if (answer == NULL)
    g_error ("pydicom-ref.py stopped answering (is pydicom installed for /usr/bin/python3?)");

  JsonNode *node = json_from_string (answer, &error);
  g_assert_no_error (error);
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);
      if (json_object_has_member (o, "skip"))
        {
          g_test_skip_printf ("pydicom cannot produce the reference: %s",
                              json_object_get_string_member (o, "skip"));
          json_node_unref (node);
          return NULL;
        }
      if (json_object_has_member (o, "error"))
        g_error ("pydicom-ref.py %s %s: %s", request[0], request[1],
                 json_object_get_string_member (o, "error"));
    }
  return node;
}

static gboolean
run_ref (const char *const *request, char **unused)
{
  JsonNode *node = ask (request);
  if (node == NULL)
    return FALSE;
  json_node_unref (node);
  return TRUE;
}

JsonNode *
dt_pyref_json (const char *cmd, const char *path)
{
  const char *args[] = { cmd, path, NULL };
  return ask (args);
}

gint64 *
dt_pyref_pixels (const char *path, gsize *n_values)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strconcat (base, ".ref", NULL);
  g_autofree char *out_path = g_build_filename (dt_tmpdir (), name, NULL);
  const char *args[] = { "pixels", path, out_path, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  if (!run_ref (args, &out))
    return NULL;
  g_file_get_contents (out_path, &contents, &len, &error);
  g_assert_no_error (error);
  g_unlink (out_path);
  *n_values = len / sizeof (gint64);
  for (gsize i = 0; i < *n_values; i++)
    ((gint64 *) contents)[i] = GINT64_FROM_LE (((gint64 *) contents)[i]);
  return (gint64 *) contents;
}

GBytes *
dt_pyref_pixel_bytes (const char *path)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *name = g_strconcat (base, ".bytes", NULL);
  g_autofree char *out_path = g_build_filename (dt_tmpdir (), name, NULL);
  const char *args[] = { "pixelbytes", path, out_path, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  if (!run_ref (args, &out))
    return NULL;
  g_file_get_contents (out_path, &contents, &len, &error);
  g_assert_no_error (error);
  g_unlink (out_path);
  return g_bytes_new_take (contents, len);
}

CuDicomHeader *
dt_read_header (const char *path)
{
  g_autoptr (GError) error = NULL;
  CuDicomHeader *h = cu_dicom_header_read (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (h);
  return h;
}

gint64 *
dt_decode_i64 (const CuDicomHeader *h, gsize *n_values, GError **error)
{
  gsize bps = h->bits_allocated == 1 ? 1 : (gsize) h->bits_allocated / 8;
  gsize n = (gsize) h->rows * h->columns * h->samples_per_pixel * MAX (h->number_of_frames, 1);
  g_autofree guint8 *raw = g_malloc (n * bps);
  gboolean sgn = h->pixel_representation == 1 && h->bits_allocated > 1;

  if (!cu_dicom_read_frames_raw (h, raw, n * bps, error))
    return NULL;
  gint64 *v = g_new (gint64, n);
  for (gsize i = 0; i < n; i++)
    switch (bps)
      {
      case 1:
        v[i] = sgn ? ((gint8 *) raw)[i] : raw[i];
        break;
      case 2:
        v[i] = sgn ? ((gint16 *) raw)[i] : ((guint16 *) raw)[i];
        break;
      default:
        v[i] = sgn ? (gint64) ((gint32 *) raw)[i] : (gint64) ((guint32 *) raw)[i];
        break;
      }
  *n_values = n;
  return v;
}

gsize
dt_count_diff (const gint64 *a, const gint64 *b, gsize n, gint64 tolerance, gint64 *max_diff)
{
  gsize count = 0;
  gint64 mx = 0;
  for (gsize i = 0; i < n; i++)
    {
      gint64 d = ABS (a[i] - b[i]);
      mx = MAX (mx, d);
      if (d > tolerance)
        count++;
    }
  if (max_diff != NULL)
    *max_diff = mx;
  return count;
}

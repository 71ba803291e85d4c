/* SPDX-License-Identifier: GPL-3.0-or-later
 * fuzz-util.c — scratch files and workspace copies for the fuzz targets (fuzz-util.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib/gstdio.h>

#include "cu-store-private.h"
#include "fuzz-util.h"

static char *scratch;

int LLVMFuzzerInitialize (int *argc, char ***argv);

/* A GLib critical (a g_return_if_fail reached from a file's content) is a bug as much as a
 * crash is: abort, which libFuzzer reports with the stack and the input. G_DEBUG=fatal-criticals
 * would stop the process with SIGTRAP instead, which libFuzzer does not catch. */
static GLogWriterOutput
abort_on_critical (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  GLogWriterOutput written = g_log_writer_standard_streams (level, fields, n_fields, data);

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    abort ();
  return written;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_writer_func (abort_on_critical, NULL, NULL);
  return 0;
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static void
remove_scratch (void)
{
  if (scratch != NULL)
    remove_tree (scratch);
}

const char *
cu_fuzz_scratch (void)
{
  if (scratch == NULL)
    {
      g_autoptr(GError) error = NULL;

      scratch = g_dir_make_tmp ("cu-fuzz-XXXXXX", &error);
      g_assert_no_error (error);
      atexit (remove_scratch);
    }
  return scratch;
}

/* Plain writes: g_file_set_contents syncs the file to disk, which costs more than a run of a
 * target, and nothing here needs to survive a power cut. */
static void
write_file (const char *path, const guint8 *data, gsize size)
{
  FILE *f = fopen (path, "wb");

  if (f == NULL || (size > 0 && fwrite (data, 1, size, f) != size) || fclose (f) != 0)
    g_error ("cannot write %s: %s", path, g_strerror (errno));
}

char *
cu_fuzz_write_input (const char *name, const guint8 *data, gsize size)
{
  char *path = g_build_filename (cu_fuzz_scratch (), name, NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  write_file (path, data, size);
  return path;
}

void
cu_fuzz_copy_file (const char *from, const char *to)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_path_get_dirname (to);
  gsize len;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_get_contents (from, &contents, &len, &error);
  g_assert_no_error (error);
  write_file (to, (const guint8 *) contents, len);
}

static const char *
required_env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL || *value == '\0')
    g_error ("%s is not set: run the fuzz targets through tests/fuzz/run-fuzz.sh", name);
  return value;
}

CuStore *
cu_fuzz_open_workspace (CuStore *previous)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ws = g_build_filename (cu_fuzz_scratch (), "workspace", NULL);
  g_autofree char *from = g_build_filename (required_env ("CU_FUZZ_WORKSPACE"), "workspace.sqlite", NULL);
  g_autofree char *to = g_build_filename (ws, "workspace.sqlite", NULL);
  g_autofree char *wal = g_strconcat (to, "-wal", NULL);
  g_autofree char *shm = g_strconcat (to, "-shm", NULL);
  CuStore *store;

  if (previous != NULL)
    g_object_unref (previous);
  g_unlink (wal);
  g_unlink (shm);
  cu_fuzz_copy_file (from, to);
  store = cu_store_open (ws, &error);
  g_assert_no_error (error);
  /* A scratch copy: syncing it to disk would only slow every run down. */
  _cu_store_exec (store->db, "PRAGMA synchronous = OFF", &error);
  g_assert_no_error (error);
  return store;
}

char *
cu_fuzz_bundle_file (const char *name)
{
  return g_build_filename (required_env ("CU_FUZZ_BUNDLE"), name, NULL);
}

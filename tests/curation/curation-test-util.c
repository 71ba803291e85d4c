/* SPDX-License-Identifier: GPL-3.0-or-later
 * curation-test-util.c — fixtures shared by the headless tests.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "curation-test-util.h"

void
curation_test_rm_rf (const char *path)
{
  if (path == NULL)
    return;
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
      const char *name;

      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          curation_test_rm_rf (child);
        }
    }
  g_remove (path);
}

CuStore *
curation_test_open_workspace (const char *tmp_template, char **tmp, char **workspace)
{
  g_autoptr (GError) error = NULL;
  CuStore *store;

  *tmp = g_dir_make_tmp (tmp_template, &error);
  g_assert_no_error (error);
  *workspace = g_build_filename (*tmp, "workspace", NULL);
  store = cu_store_open (*workspace, &error);
  g_assert_no_error (error);
  return store;
}

void
curation_test_close_workspace (CuStore **store, char **tmp, char **workspace)
{
  g_clear_object (store);
  curation_test_rm_rf (*tmp);
  g_clear_pointer (tmp, g_free);
  g_clear_pointer (workspace, g_free);
}

char *
curation_test_shared_path (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");

  return root != NULL ? g_build_filename (root, rel, NULL) : NULL;
}

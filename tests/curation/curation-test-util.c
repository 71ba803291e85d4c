/* SPDX-License-Identifier: GPL-3.0-or-later
 * curation-test-util.c — fixtures shared by the headless tests.
 */
#include "config.h"

#include <string.h>
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

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
curation_test_copy_corpus_files (const char *rel_dir, guint n, const char *dest)
{
  g_autofree char *src_dir = curation_test_shared_path (rel_dir);
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *copies = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (src_dir);
  d = g_dir_open (src_dir, 0, NULL);
  g_assert_nonnull (d);
  g_assert_cmpint (g_mkdir_with_parents (dest, 0700), ==, 0);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < MIN (n, names->len); i++)
    {
      g_autofree char *src = g_build_filename (src_dir, names->pdata[i], NULL);
      g_autofree char *dst = g_build_filename (dest, names->pdata[i], NULL);
      g_autofree char *contents = NULL;
      gsize length;
      g_autoptr (GError) error = NULL;

      g_file_get_contents (src, &contents, &length, &error);
      g_assert_no_error (error);
      g_file_set_contents (dst, contents, length, &error);
      g_assert_no_error (error);
      g_ptr_array_add (copies, g_canonicalize_filename (dst, NULL));
    }
  g_assert_cmpuint (copies->len, ==, n);
  return copies;
}

void
curation_test_accept_all_series (CuStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) series = cu_store_list_series (store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < series->len; i++)
    {
      const CuSeriesRecord *s = series->pdata[i];
      g_assert_true (cu_store_qc_decide (store, s->series_uid, CU_QC_DECISION_ACCEPTED, NULL,
                                         &error));
      g_assert_no_error (error);
    }
}

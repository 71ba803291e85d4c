/* SPDX-License-Identifier: GPL-3.0-or-later
 * pydicom-reference.c — run pydicom-uids.py and parse its output (see pydicom-reference.h).
 */
#include "config.h"

#include <string.h>

#include "pydicom-reference.h"

static void
pyref_free (PyRef *ref)
{
  g_free (ref->path);
  g_free (ref->sop_uid);
  g_free (ref->study_uid);
  g_free (ref->series_uid);
  g_free (ref);
}

char **
python_environ (void)
{
  char **env = g_get_environ ();

  /* meson sets MALLOC_PERTURB_ for tests: right for our C code, but it makes Python, which
   * frees a lot, slower by an order of magnitude. */
  env = g_environ_unsetenv (env, "MALLOC_PERTURB_");
  env = g_environ_unsetenv (env, "MALLOC_CHECK_");
  return env;
}

gboolean
pyref_complete (const PyRef *ref)
{
  return ref->readable && *ref->sop_uid != '\0' && *ref->study_uid != '\0' && *ref->series_uid != '\0';
}

GPtrArray *
pydicom_reference (const char *const *paths)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *script = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) env = NULL;
  GPtrArray *refs;
  int status = 0;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    return NULL;
  script = g_build_filename (g_getenv ("CU_SOURCE_ROOT"), "tests", "curation", "store",
                             "pydicom-uids.py", NULL);
  g_ptr_array_add (argv, "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  for (guint i = 0; paths[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) paths[i]);
  g_ptr_array_add (argv, NULL);

  env = python_environ ();
  if (!g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                     &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    return NULL;   /* no pydicom: the caller skips */

  refs = g_ptr_array_new_with_free_func ((GDestroyNotify) pyref_free);
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = NULL;
      PyRef *ref;

      if (*lines[i] == '\0')
        continue;
      f = g_strsplit (lines[i], "\t", -1);
      ref = g_new0 (PyRef, 1);
      ref->path = g_strdup (f[0]);
      ref->readable = g_strv_length (f) == 4;
      ref->sop_uid = g_strdup (ref->readable ? f[1] : "");
      ref->study_uid = g_strdup (ref->readable ? f[2] : "");
      ref->series_uid = g_strdup (ref->readable ? f[3] : "");
      g_ptr_array_add (refs, ref);
    }
  return refs;
}

GPtrArray *
manifest_files_of_kind (const char *manifest, const char *needle)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_get_contents (manifest, &text, NULL, NULL))
    return files;
  lines = g_strsplit (text, "\n", -1);
  /* Columns: relpath, source, license, modality, kind, … (header line first). */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", 6);
      if (g_strv_length (f) >= 5 && strstr (f[4], needle) != NULL)
        g_ptr_array_add (files, g_strdup (f[0]));
    }
  return files;
}

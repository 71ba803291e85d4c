/* SPDX-License-Identifier: GPL-3.0-or-later
 * cli-test-util.c — running curata-cli from tests (see cli-test-util.h).
 */
#include "config.h"

#include <stdarg.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

#include "cli-test-util.h"

const char *cli_test_program;

int
cli_run (char **out, char **err, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  const char *arg;
  int status = -1;
  va_list ap;

  g_assert_nonnull (cli_test_program);
  g_ptr_array_add (argv, (char *) cli_test_program);
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &o, &e, &status, &error));
  g_assert_no_error (error);
  if (e != NULL && *e != '\0')
    g_test_message ("curata-cli stderr: %s", e);

  /* A crash (signal) is never an acceptable outcome. */
  g_assert_true (WIFEXITED (status));
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  return WEXITSTATUS (status);
}

JsonNode *
cli_parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

void
cli_remove_tree (const char *path)
{
  struct stat st;

  if (lstat (path, &st) != 0)
    return;
  if (S_ISDIR (st.st_mode))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      if (dir != NULL)
        while ((name = g_dir_read_name (dir)) != NULL)
          {
            g_autofree char *child = g_build_filename (path, name, NULL);
            cli_remove_tree (child);
          }
      g_rmdir (path);
    }
  else
    g_unlink (path);
}

char *
cli_shared_dicom (void)
{
  const char *dir = g_getenv ("CU_SHARED_DICOM");

  g_assert_nonnull (dir);
  return g_canonicalize_filename (dir, NULL);
}

void
cli_make_german_locale (const char *dir)
{
  g_autofree char *target = g_build_filename (dir, "de_DE.UTF-8", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "localedef", "-i", "de_DE", "-f", "UTF-8", target, NULL };
  int status = -1;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("localedef de_DE.UTF-8 failed (is the package \"locales\" installed?): %s", err);
}

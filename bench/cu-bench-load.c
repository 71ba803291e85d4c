/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-load.c — load the files of one series into a volume, as the viewer does, and
 * print how long each phase took. Used by bench/bench-import-load.py; not installed.
 *
 * Usage: cu-bench-load FILE…   (or a single folder: every regular file in it)
 */
#include "config.h"

#include <stdio.h>

#include "curation.h"

static GPtrArray *
collect (int argc, char **argv)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);

  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr (GDir) dir = g_dir_open (argv[i], 0, NULL);
          const char *name;
          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            {
              g_autofree char *p = g_build_filename (argv[i], name, NULL);
              if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
                g_ptr_array_add (paths, g_steal_pointer (&p));
            }
        }
      else
        g_ptr_array_add (paths, g_strdup (argv[i]));
    }
  g_ptr_array_add (paths, NULL);
  return paths;
}

int
main (int argc, char **argv)
{
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuVolume) volume = NULL;
  gint64 t0, t1, t2;
  double sum = 0;
  gsize n;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s FILE…|DIR\n", argv[0]);
      return 1;
    }
  paths = collect (argc, argv);

  t0 = g_get_monotonic_time ();
  plan = cu_series_plan_new_from_files ((const char *const *) paths->pdata, NULL, NULL, &error);
  if (plan == NULL)
    {
      fprintf (stderr, "cu-bench-load: %s\n", error->message);
      return 2;
    }
  t1 = g_get_monotonic_time ();
  volume = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL, &error);
  if (volume == NULL)
    {
      fprintf (stderr, "cu-bench-load: %s\n", error->message);
      return 2;
    }
  t2 = g_get_monotonic_time ();

  /* Touch every voxel so nothing can be optimised away or left lazily unread. */
  n = cu_volume_n_voxels_3d (volume) * (gsize) volume->dims[3];
  for (gsize i = 0; i < n; i++)
    sum += volume->voxels[i];

  printf ("files=%u dims=%dx%dx%dx%d headers_ms=%.1f pixels_ms=%.1f checksum=%.6g\n",
          paths->len - 1, volume->dims[0], volume->dims[1], volume->dims[2], volume->dims[3],
          (t1 - t0) / 1000.0, (t2 - t1) / 1000.0, sum);
  return 0;
}

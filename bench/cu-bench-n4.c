/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-n4.c — Curata's side of bench/bench-n4.py: N4 on NIfTI files, the same command
 * line as the ITK reference (bench/itk-n4/itk-n4.cxx).
 *
 *   cu-bench-n4 IMAGE.nii MASK.nii FIELD_OUT.nii SHRINK LEVELS ITERATIONS CONVERGENCE
 *
 * Writes the estimated field at full resolution and prints one JSON line (iterations run per
 * level, the shrink factors used).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <json-glib/json-glib.h>

#include "curation.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) image = NULL, mask_volume = NULL, out = NULL, field = NULL;
  g_autofree guint8 *mask = NULL;
  CuN4Params p;
  CuN4Result r;
  gsize n;

  if (argc != 8)
    {
      fprintf (stderr, "usage: cu-bench-n4 IMAGE MASK FIELD_OUT SHRINK LEVELS ITERATIONS "
                       "CONVERGENCE\n");
      return 1;
    }
  image = cu_nifti_read (argv[1], &error);
  if (image != NULL)
    mask_volume = cu_nifti_read (argv[2], &error);
  if (image == NULL || mask_volume == NULL)
    {
      fprintf (stderr, "cu-bench-n4: %s\n", error->message);
      return 2;
    }
  n = cu_volume_n_voxels_3d (image);
  mask = g_new0 (guint8, n);
  for (gsize x = 0; x < n && x < cu_volume_n_voxels_3d (mask_volume); x++)
    mask[x] = mask_volume->voxels[x] > 0.5f;
  cu_n4_params_init (&p);
  p.shrink = atoi (argv[4]);
  p.n_levels = CLAMP (atoi (argv[5]), 1, CU_N4_MAX_LEVELS);
  for (int l = 0; l < p.n_levels; l++)
    p.iterations[l] = atoi (argv[6]);
  p.convergence = g_ascii_strtod (argv[7], NULL);
  out = cu_n4_correct (image, mask, &p, &field, &r, NULL, NULL, &error);
  if (out == NULL || !cu_nifti_write (field, argv[3], &error))
    {
      fprintf (stderr, "cu-bench-n4: %s\n", error->message);
      return 2;
    }
  {
    g_autoptr (JsonBuilder) b = json_builder_new ();
    g_autoptr (JsonNode) root = NULL;
    g_autofree char *text = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "iterations");
    json_builder_begin_array (b);
    for (int l = 0; l < p.n_levels; l++)
      json_builder_add_int_value (b, r.iterations[l]);
    json_builder_end_array (b);
    json_builder_set_member_name (b, "shrink");
    json_builder_begin_array (b);
    for (int c = 0; c < 3; c++)
      json_builder_add_int_value (b, r.shrink[c]);
    json_builder_end_array (b);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    text = json_to_string (root, FALSE);
    printf ("%s\n", text);
  }
  return 0;
}

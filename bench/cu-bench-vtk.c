/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-vtk.c — frame times of the 3D view (CuVtkScene) for a 256 × 256 × 128 CT-like
 * volume at 800 × 600: while rotating (the interactive quality the view uses during a drag,
 * rendered at half resolution as the widget does, and at full size) and at full quality,
 * plus building a label surface. Needs an X display (xvfb-run on a server). Not installed.
 *
 * Usage: cu-bench-vtk [--frames N]     Run by bench/bench-vtk.py next to VTK's own default
 * pipeline (vtkSmartVolumeMapper from Python) on the same volume.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "curation.h"
#include "cu-vtk-scene.h"

#define NX 256
#define NY 256
#define NZ 128
#define W 800
#define H 600

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* A head-like phantom in HU: air, an ellipsoidal skull shell (bone), brain, two lesions. The
 * same one is built by bench-vtk.py for the reference run. */
static CuVolume *
make_phantom (CuVolume **labels)
{
  g_autoptr (GError) error = NULL;
  CuVolume *v = cu_volume_new (NX, NY, NZ, 1, TRUE, &error);
  CuVolume *l;

  g_assert_no_error (error);
  v->spacing[0] = v->spacing[1] = 0.8;
  v->spacing[2] = 1.5;
  v->modality = g_strdup ("CT");
  l = cu_volume_copy (v, TRUE);
  for (int k = 0; k < NZ; k++)
    for (int j = 0; j < NY; j++)
      for (int i = 0; i < NX; i++)
        {
          double x = (i - NX / 2.0) / (NX * 0.42), y = (j - NY / 2.0) / (NY * 0.36);
          double z = (k - NZ / 2.0) / (NZ * 0.46);
          double r = sqrt (x * x + y * y + z * z);
          double d1 = hypot (hypot (i - 150.0, j - 110.0), (k - 70.0) * 1.875);
          float hu = -1000;
          gsize idx = ((gsize) k * NY + j) * NX + i;

          if (r < 0.9)
            hu = 35 + 10 * (float) sin (i * 0.3) * (float) cos (j * 0.2);
          else if (r < 1.0)
            hu = 1100;
          if (d1 < 18)
            hu = 70;
          v->voxels[idx] = hu;
          l->voxels[idx] = d1 < 18 ? 1 : 0;
        }
  *labels = l;
  return v;
}

static double
median (double *t, int n)
{
  qsort (t, n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* Render n frames, rotating 5° between them; returns the median frame time. */
static double
rotate_frames (CuVtkScene *scene, int w, int h, CuVtkQuality q, int n, guint8 *rgba, double *first)
{
  g_autofree double *t = g_new (double, n);
  g_autoptr (GError) error = NULL;

  for (int f = 0; f < n; f++)
    {
      double t0 = now ();
      if (!cu_vtk_scene_render (scene, w, h, q, rgba, &error))
        {
          fprintf (stderr, "cu-bench-vtk: %s\n", error->message);
          exit (2);
        }
      t[f] = now () - t0;
      if (f == 0 && first != NULL)
        *first = t[f];
      cu_vtk_scene_rotate (scene, 5, 0);
    }
  return median (t + (n > 1 && first != NULL ? 1 : 0), n > 1 && first != NULL ? n - 1 : n);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (CuVolume) labels = NULL;
  g_autoptr (CuVtkScene) scene = NULL;
  g_autofree guint8 *rgba = g_malloc ((gsize) W * H * 4);
  int frames = 5;
  double t0, t_build, t_set, t_labels, first, cheap_half, cheap_full, full;

  if (argc == 3 && g_str_equal (argv[1], "--frames"))
    frames = MAX (2, atoi (argv[2]));

  t0 = now ();
  vol = make_phantom (&labels);
  t_build = now () - t0;

  scene = cu_vtk_scene_new (&error);
  if (scene == NULL)
    {
      fprintf (stderr, "cu-bench-vtk: %s\n", error->message);
      return 2;
    }
  t0 = now ();
  if (!cu_vtk_scene_set_volume (scene, vol, 0, &error))
    {
      fprintf (stderr, "cu-bench-vtk: %s\n", error->message);
      return 2;
    }
  t_set = now () - t0;
  cu_vtk_scene_set_preset (scene, CU_VTK_PRESET_CT_BONE);
  cu_vtk_scene_reset_camera (scene, CU_VTK_VIEW_ANTERIOR);

  printf ("volume %d x %d x %d (%.1f M voxels), image %d x %d\n", NX, NY, NZ, NX * NY * NZ / 1e6, W, H);
  printf ("  build phantom                          %8.3f s\n", t_build);
  printf ("  set volume (copy to VTK)               %8.3f s\n", t_set);

  {
    gboolean software = FALSE;
    double gpu, first_gpu;

    const char *renderer;

    full = rotate_frames (scene, W, H, CU_VTK_QUALITY_FULL, MAX (3, frames / 2 + 1), rgba, &first);
    renderer = cu_vtk_scene_get_gl_renderer (scene, &software);
    printf ("  GL renderer: %s (%s)\n", renderer, software ? "software" : "hardware");
    printf ("  full quality, first frame              %8.3f s   (%s ray cast, shaded, 1 sample/voxel)\n", first,
            software ? "CPU" : "GPU");
    printf ("  full quality, rotating                 %8.3f s/frame (median)  <- what the view shows when idle\n", full);
    if (software)
      {
        cu_vtk_scene_set_full_quality_mapper (scene, CU_VTK_MAPPER_GPU);
        gpu = rotate_frames (scene, W, H, CU_VTK_QUALITY_FULL, 3, rgba, &first_gpu);
        printf ("  full quality with the GPU ray caster   %8.3f s/frame (median; first %.3f s) on software GL\n",
                gpu, first_gpu);
        cu_vtk_scene_set_full_quality_mapper (scene, CU_VTK_MAPPER_AUTO);
      }
  }
  cheap_half = rotate_frames (scene, W / 2, H / 2, CU_VTK_QUALITY_INTERACTIVE, frames * 2, rgba, &first);
  printf ("  rotating (interactive, %dx%d)         %8.3f s/frame (median; first %.3f s)  <- what a drag shows\n",
          W / 2, H / 2, cheap_half, first);
  cheap_full = rotate_frames (scene, W, H, CU_VTK_QUALITY_INTERACTIVE, frames, rgba, &first);
  printf ("  rotating (interactive, %dx%d)         %8.3f s/frame (median)\n", W, H, cheap_full);

  t0 = now ();
  if (!cu_vtk_scene_set_label_map (scene, labels, &error))
    {
      fprintf (stderr, "cu-bench-vtk: %s\n", error->message);
      return 2;
    }
  t_labels = now () - t0;
  cu_vtk_scene_set_volume_visible (scene, FALSE);
  printf ("  label surface (flying edges + smoothing) %6.3f s   (%" G_GSIZE_FORMAT " triangles)\n", t_labels,
          cu_vtk_scene_get_label_n_triangles (scene));
  printf ("  surface only, rotating                 %8.3f s/frame (median)\n",
          rotate_frames (scene, W, H, CU_VTK_QUALITY_FULL, frames, rgba, NULL));
  printf ("RESULT full=%.4f interactive_half=%.4f interactive_full=%.4f\n", full, cheap_half, cheap_full);
  return 0;
}

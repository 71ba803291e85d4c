/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-link.c — linked scrolling of four panes of 512 × 512: one scroll step in the first
 * pane moves the shared LPS cursor (CuViewerLink), and each of the four panes redraws what its
 * slice canvas draws for a frame — the slice nearest the cursor, window/level through the
 * renderer's table, resampled to a 512 × 512 viewport (cu_slice_renderer_render_view). The
 * second series is oblique (15°) and of another resolution, as the demo's ADC is. Prints the
 * median and 95th percentile frame time over --frames frames; the target is 16 ms.
 *   build/bench/cu-bench-link [--frames N]
 * GSK's texture upload is not included (it depends on the renderer; on software GL it is a
 * memcpy of 4 × 1 MB).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cu-slice-renderer.h"
#include "cu-viewer-link.h"

static CuVolume *
make_volume (int n, int nz, double tilt_deg, double spacing, guint seed)
{
  CuVolume *v = cu_volume_new (n, n, nz, 1, TRUE, NULL);
  double t = tilt_deg * G_PI / 180;
  GRand *rng = g_rand_new_with_seed (seed);

  v->spacing[0] = v->spacing[1] = 250.0 / n;
  v->spacing[2] = spacing;
  /* rows along L, columns tilted about L */
  v->direction[0] = 1;
  v->direction[4] = cos (t);
  v->direction[7] = sin (t);
  v->direction[5] = -sin (t);
  v->direction[8] = cos (t);
  v->origin[0] = v->origin[1] = -125;
  v->origin[2] = -nz * spacing / 2;
  v->modality = g_strdup ("MR");
  for (gsize i = 0; i < cu_volume_n_voxels_3d (v); i++)
    v->voxels[i] = (float) (i % 997) + (float) g_rand_int_range (rng, 0, 50);
  g_rand_free (rng);
  return v;
}

static int
compare (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

int
main (int argc, char **argv)
{
  int frames = 200;
  CuViewerState *states[4];
  CuSliceRenderer *renderers[4];
  CuViewerLink *link = cu_viewer_link_new ();
  CuSliceViewport vp = { 0, 0, 1, 1 };
  guint8 *out = g_malloc (512 * 512 * 4);
  double *times;

  for (int i = 1; i + 1 < argc; i++)
    if (g_str_equal (argv[i], "--frames"))
      frames = MAX (10, atoi (argv[i + 1]));
  times = g_new (double, frames);
  for (int p = 0; p < 4; p++)
    {
      g_autoptr (CuVolume) v = make_volume (512, 120, p == 1 ? 15 : 0, p == 1 ? 1.5 : 1.0, p + 1);
      states[p] = cu_viewer_state_new ();
      cu_viewer_state_set_volume (states[p], v);
      renderers[p] = cu_slice_renderer_new ();
      cu_slice_renderer_set_volume_with_stats (renderers[p], v, cu_viewer_state_get_stats (states[p]));
      cu_slice_renderer_set_plane (renderers[p], CU_PLANE_AXIAL);
      cu_viewer_link_add (link, states[p], "1.2.3");
    }

  for (int f = 0; f < frames; f++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double ijk[3];

      /* one wheel step in pane 0: the cursor moves one slice along its normal */
      cu_viewer_state_get_cursor_index (states[0], ijk);
      ijk[2] = (f / 100) % 2 == 0 ? 10 + f % 100 : 110 - f % 100;
      cu_viewer_state_set_cursor_index (states[0], ijk);
      for (int p = 0; p < 4; p++)
        {
          double c[3], uvs[3];
          CuVolume *v = cu_viewer_state_get_volume (states[p]);
          cu_viewer_state_get_cursor_index (states[p], c);
          cu_plane_axes_from_index (cu_slice_renderer_get_axes (renderers[p]), v, c, uvs);
          cu_slice_renderer_set_slice (renderers[p], (int) lrint (uvs[2]), 0);
          cu_slice_renderer_set_window (renderers[p], cu_viewer_state_get_window (states[p]),
                                        cu_viewer_state_get_level (states[p]));
          cu_slice_renderer_render_view (renderers[p], &vp, out, 512, 512, 512 * 4);
        }
      times[f] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  qsort (times, frames, sizeof (double), compare);
  printf ("linked scrolling, 4 panes of 512x512: median %.2f ms, p95 %.2f ms per frame (%d frames; target 16 ms)\n",
          times[frames / 2], times[(int) (frames * 0.95)], frames);
  for (int p = 0; p < 4; p++)
    {
      cu_slice_renderer_free (renderers[p]);
      g_object_unref (states[p]);
    }
  g_object_unref (link);
  g_free (out);
  g_free (times);
  return 0;
}

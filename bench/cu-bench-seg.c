/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-seg.c — segmentation editing speed on a 512×512 series: a brush stroke (a mouse drag
 * of 16 motion events with a 5 mm brush, recorded for undo), a slice redraw with the label
 * overlay (the image through the viewport plus the overlay blend, as the slice view does it,
 * at 1024×1024 output pixels), shape-based interpolation over 20 slices, and the save that
 * follows every stroke (zlib + one SQLite transaction in a temporary workspace). Prints
 * milliseconds (median of the runs) and the budget each must stay under (16 ms, 16 ms, 1 s,
 * 50 ms: the save runs on the UI thread).
 * Run by bench/bench-seg.py, which times the same interpolation with SciPy's EDT beside it.
 *
 * Usage: cu-bench-seg [RUNS]
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "curation.h"
#include "cu-slice-renderer.h"
#include "cu-seg-overlay.h"

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
median (double *v, int n)
{
  qsort (v, n, sizeof (double), compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int
main (int argc, char **argv)
{
  int runs = argc > 1 ? MAX (1, atoi (argv[1])) : 20;
  g_autoptr(CuVolume) image = cu_volume_new (512, 512, 40, 1, TRUE, NULL);
  g_autoptr(CuLabelMap) map = NULL;
  g_autoptr(CuSegHistory) history = NULL;
  g_autofree double *t_stroke = g_new (double, runs);
  g_autofree double *t_redraw = g_new (double, runs);
  g_autofree double *t_interp = g_new (double, runs);
  g_autofree double *t_save = g_new (double, runs);
  g_autofree char *tmp = g_dir_make_tmp ("cu-bench-seg-XXXXXX", NULL);
  g_autoptr(CuStore) store = NULL;
  CuSliceRenderer *renderer = cu_slice_renderer_new ();
  CuSegOverlayStyle style = { .opacity = 0.4 };
  CuSliceViewport vp = { 0, 0, 2.0, 2.0 };
  int out = 1024;
  g_autofree guint8 *rgba = g_malloc ((gsize) out * out * 4);

  image->spacing[0] = image->spacing[1] = 0.5;
  image->spacing[2] = 3.0;
  for (gsize v = 0; v < cu_volume_n_voxels_3d (image); v++)
    image->voxels[v] = (float) ((v * 2654435761u) % 1000);
  map = cu_label_map_new (image, NULL);
  history = cu_seg_history_new (map, 0);
  {
    CuBrush big = { .radius_mm = 40, .normal_axis = 2, .value = 2 };
    double c[3] = { 256, 256, 20 };
    cu_seg_brush_stamp (map, &big, c);
  }
  cu_slice_renderer_set_volume (renderer, image);
  cu_slice_renderer_set_plane (renderer, CU_PLANE_ACQUISITION);
  cu_slice_renderer_set_window (renderer, 1000, 500);

  for (int r = 0; r < runs; r++)
    {
      CuBrush brush = { .radius_mm = 5, .normal_axis = 2, .value = 1 };
      double a[3] = { 100 + r, 100, 20 }, b[3];
      gint64 t0;

      /* A drag: 16 motion events 4 px apart, one undo record, as the brush tool does. */
      t0 = g_get_monotonic_time ();
      cu_seg_history_begin (history, "Brush");
      for (int m = 0; m < 16; m++)
        {
          b[0] = a[0] + 4;
          b[1] = a[1] + 3;
          b[2] = a[2];
          cu_seg_brush_line (map, &brush, a, b);
          a[0] = b[0];
          a[1] = b[1];
        }
      cu_seg_history_end (history);
      t_stroke[r] = (g_get_monotonic_time () - t0) / 1000.0;

      /* Redraw of slice 20 with its overlay into a 1024×1024 view. */
      t0 = g_get_monotonic_time ();
      cu_slice_renderer_set_slice (renderer, r % 2 ? 20 : 19, 0);
      cu_slice_renderer_render_view (renderer, &vp, rgba, out, out, (gsize) out * 4);
      cu_seg_overlay_blend (map, image, cu_slice_renderer_get_axes (renderer), r % 2 ? 20 : 19, &style,
                            &vp, rgba, out, out, (gsize) out * 4);
      t_redraw[r] = (g_get_monotonic_time () - t0) / 1000.0;

      /* The save after the stroke, as the segmentation panel does it. */
      if (store == NULL && tmp != NULL)
        store = cu_store_open (tmp, NULL);
      t0 = g_get_monotonic_time ();
      if (store == NULL
          || cu_store_seg_save (store, "2.25.1", "bench", CU_SEG_KIND_READING, map, NULL, NULL) < 0)
        {
          fprintf (stderr, "cu-bench-seg: could not save into a temporary workspace\n");
          return 1;
        }
      t_save[r] = (g_get_monotonic_time () - t0) / 1000.0;
    }

  for (int r = 0; r < MAX (3, runs / 4); r++)
    {
      g_autoptr(CuLabelMap) m = cu_label_map_new (image, NULL);
      CuBrush disc = { .radius_mm = 15, .normal_axis = 2, .value = 3 };
      double c0[3] = { 220, 250, 5 }, c1[3] = { 290, 260, 26 };
      gint64 t0;

      cu_seg_brush_stamp (m, &disc, c0);
      disc.radius_mm = 25;
      cu_seg_brush_stamp (m, &disc, c1);
      t0 = g_get_monotonic_time ();
      cu_seg_interpolate (m, 3, 2, NULL, NULL);
      t_interp[r] = (g_get_monotonic_time () - t0) / 1000.0;
    }

  printf ("brush stroke (16 motion events, 5 mm, 512x512x40, with undo): %.2f ms (budget 16 ms)\n",
          median (t_stroke, runs));
  printf ("slice redraw with overlay (512x512 slice -> 1024x1024 view): %.2f ms (budget 16 ms)\n",
          median (t_redraw, runs));
  printf ("interpolation over 20 slices (512x512): %.1f ms (budget 1000 ms)\n",
          median (t_interp, MAX (3, runs / 4)));
  printf ("save after a stroke (512x512x40 map, zlib + SQLite): %.1f ms (budget 50 ms)\n",
          median (t_save, runs));
  cu_slice_renderer_free (renderer);
  g_clear_object (&store);
  if (tmp != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
      if (system (cmd) != 0)
        fprintf (stderr, "cu-bench-seg: could not remove %s\n", tmp);
    }
  return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-fill.c — polygon fill by scan lines with the even–odd rule (cu-seg-fill.h).
 *
 * Method: for each row of voxel centres, the crossings of the polygon's edges are sorted and
 * the spans between pairs filled (Foley, van Dam et al., "Computer Graphics: Principles and
 * Practice", 2nd ed., §3.6, scan-converting polygons). An edge counts for rows in
 * [min y, max y) so that shared vertices are not counted twice.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "cu-seg-fill.h"

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

/* The index axes spanning the slice: a runs along rows, b across them. */
static void
plane_axes (int normal_axis, int *a, int *b)
{
  *a = normal_axis == 0 ? 1 : 0;
  *b = normal_axis == 2 ? 1 : 2;
}

gsize
cu_seg_fill_polygon (CuLabelMap *map, int normal_axis, int slice, const double *points,
                     guint n_points, guint8 value, CuSegOverlap overlap)
{
  int ax, bx, na, nb;
  g_autofree double *xs = NULL;
  gsize changed = 0;
  double bmin = G_MAXDOUBLE, bmax = -G_MAXDOUBLE;

  g_return_val_if_fail (normal_axis >= 0 && normal_axis <= 2, 0);
  if (n_points < 3 || slice < 0 || slice >= map->dims[normal_axis])
    return 0;
  plane_axes (normal_axis, &ax, &bx);
  na = map->dims[ax];
  nb = map->dims[bx];
  xs = g_new (double, n_points);
  for (guint p = 0; p < n_points; p++)
    {
      bmin = MIN (bmin, points[3 * p + bx]);
      bmax = MAX (bmax, points[3 * p + bx]);
    }

  for (int b = MAX (0, (int) ceil (bmin)); b <= MIN (nb - 1, (int) floor (bmax)); b++)
    {
      guint n_x = 0;

      for (guint p = 0; p < n_points; p++)
        {
          const double *p0 = points + 3 * p, *p1 = points + 3 * ((p + 1) % n_points);
          double y0 = p0[bx], y1 = p1[bx];

          if ((y0 <= b && y1 > b) || (y1 <= b && y0 > b))
            xs[n_x++] = p0[ax] + (b - y0) * (p1[ax] - p0[ax]) / (y1 - y0);
        }
      qsort (xs, n_x, sizeof (double), compare_double);
      for (guint s = 0; s + 1 < n_x; s += 2)
        for (int a = MAX (0, (int) ceil (xs[s])); a <= MIN (na - 1, (int) floor (xs[s + 1])); a++)
          {
            int ijk[3];
            gsize v;

            ijk[normal_axis] = slice;
            ijk[ax] = a;
            ijk[bx] = b;
            v = cu_label_map_index (map, ijk[0], ijk[1], ijk[2]);
            if (value == 0 ? cu_label_map_erase (map, v, 0)
                           : cu_label_map_paint (map, v, value, overlap))
              changed++;
          }
    }
  return changed;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-measure.c — volume, longest in-plane diameter, ROI statistics (cu-seg-measure.h).
 *
 * The longest diameter follows RECIST 1.1 practice (Eisenhauer et al., Eur. J. Cancer 45(2),
 * 2009, doi:10.1016/j.ejca.2008.10.026): the longest distance across the lesion in the plane
 * of acquisition, here the largest distance between two outline voxel centres of one slice,
 * found exhaustively over outline pairs (outlines have hundreds of voxels, not millions).
 * Percentiles are the linear interpolation between order statistics (NumPy's default).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-seg-measure.h"
#include "cu-seg-components.h"

double
cu_seg_ruler_mm (const CuVolume *geometry, const double a[3], const double b[3])
{
  double pa[3], pb[3];

  cu_volume_index_to_lps (geometry, a, pa);
  cu_volume_index_to_lps (geometry, b, pb);
  return sqrt ((pa[0] - pb[0]) * (pa[0] - pb[0]) + (pa[1] - pb[1]) * (pa[1] - pb[1])
               + (pa[2] - pb[2]) * (pa[2] - pb[2]));
}

gboolean
cu_seg_measure (const CuLabelMap *map, guint8 value, CuSegMeasure *out)
{
  int nx = map->dims[0], ny = map->dims[1], nz = map->dims[2];
  const double *sp = map->geometry->spacing;
  double sum[3] = { 0, 0, 0 };
  g_autoptr(GArray) comps = NULL;
  g_autoptr(GArray) outline = g_array_new (FALSE, FALSE, sizeof (int) * 2);

  memset (out, 0, sizeof *out);
  out->value = value;
  out->diameter_slice = -1;
  out->bbox[0] = out->bbox[2] = out->bbox[4] = G_MAXINT;
  out->bbox[1] = out->bbox[3] = out->bbox[5] = -1;

  for (int k = 0; k < nz; k++)
    {
      g_array_set_size (outline, 0);
      for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++)
          {
            gsize v = cu_label_map_index (map, i, j, k);
            if (!cu_label_map_has (map, v, value))
              continue;
            out->n_voxels++;
            sum[0] += i;
            sum[1] += j;
            sum[2] += k;
            out->bbox[0] = MIN (out->bbox[0], i);
            out->bbox[1] = MAX (out->bbox[1], i);
            out->bbox[2] = MIN (out->bbox[2], j);
            out->bbox[3] = MAX (out->bbox[3], j);
            out->bbox[4] = MIN (out->bbox[4], k);
            out->bbox[5] = MAX (out->bbox[5], k);
            if (i == 0 || j == 0 || i == nx - 1 || j == ny - 1
                || !cu_label_map_has (map, v - 1, value) || !cu_label_map_has (map, v + 1, value)
                || !cu_label_map_has (map, v - (gsize) nx, value)
                || !cu_label_map_has (map, v + (gsize) nx, value))
              {
                int ij[2] = { i, j };
                g_array_append_val (outline, ij);
              }
          }
      for (guint a = 0; a < outline->len; a++)
        {
          const int *pa = &g_array_index (outline, int, 2 * a);
          for (guint b = a + 1; b < outline->len; b++)
            {
              const int *pb = &g_array_index (outline, int, 2 * b);
              double dx = (pa[0] - pb[0]) * sp[0], dy = (pa[1] - pb[1]) * sp[1];
              double d = sqrt (dx * dx + dy * dy);
              if (d > out->longest_diameter_mm)
                {
                  out->longest_diameter_mm = d;
                  out->diameter_slice = k;
                  out->diameter_ends[0] = pa[0];
                  out->diameter_ends[1] = pa[1];
                  out->diameter_ends[2] = k;
                  out->diameter_ends[3] = pb[0];
                  out->diameter_ends[4] = pb[1];
                  out->diameter_ends[5] = k;
                }
            }
        }
    }
  if (out->n_voxels == 0)
    {
      memset (out->bbox, 0, sizeof out->bbox);
      return FALSE;
    }
  out->volume_ml = (double) out->n_voxels * cu_label_map_voxel_ml (map);
  for (int c = 0; c < 3; c++)
    out->centroid_ijk[c] = sum[c] / (double) out->n_voxels;
  cu_volume_index_to_lps (map->geometry, out->centroid_ijk, out->centroid_lps);
  comps = cu_seg_components (map, value, TRUE, NULL);
  out->n_components = comps->len;
  return TRUE;
}

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

static double
percentile (const float *sorted, gsize n, double p)
{
  double pos = p / 100.0 * (double) (n - 1);
  gsize lo = (gsize) floor (pos), hi = MIN (n - 1, lo + 1);
  return sorted[lo] + (pos - (double) lo) * (sorted[hi] - sorted[lo]);
}

gboolean
cu_seg_roi_stats (const CuLabelMap *map, guint8 value, const CuVolume *image, int t,
                  CuSegRoiStats *out)
{
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (float));
  gboolean same = cu_label_map_same_grid (map, image);
  const float *frame;
  double sum = 0, sum2 = 0;

  memset (out, 0, sizeof *out);
  if (image == NULL || image->voxels == NULL)
    return FALSE;
  frame = cu_volume_frame (image, CLAMP (t, 0, image->dims[3] - 1));
  for (int k = 0; k < map->dims[2]; k++)
    for (int j = 0; j < map->dims[1]; j++)
      for (int i = 0; i < map->dims[0]; i++)
        {
          gsize v = cu_label_map_index (map, i, j, k);
          float x;

          if (!cu_label_map_has (map, v, value))
            continue;
          if (same)
            x = frame[v];
          else
            {
              double ijk[3] = { i, j, k }, lps[3], src[3];
              int a, b, c;

              cu_volume_index_to_lps (map->geometry, ijk, lps);
              cu_volume_lps_to_index (image, lps, src);
              a = (int) lround (src[0]);
              b = (int) lround (src[1]);
              c = (int) lround (src[2]);
              if (a < 0 || b < 0 || c < 0 || a >= image->dims[0] || b >= image->dims[1]
                  || c >= image->dims[2])
                continue;
              x = frame[((gsize) c * image->dims[1] + b) * image->dims[0] + a];
            }
          if (isnan (x))
            continue;
          g_array_append_val (values, x);
          sum += x;
          sum2 += (double) x * x;
        }
  out->n = values->len;
  if (out->n == 0)
    return FALSE;
  qsort (values->data, values->len, sizeof (float), compare_float);
  {
    const float *s = (const float *) values->data;
    double var;

    out->mean = sum / (double) out->n;
    var = out->n > 1 ? (sum2 - sum * sum / (double) out->n) / (double) (out->n - 1) : 0;
    out->std = sqrt (MAX (0, var));
    out->min = s[0];
    out->max = s[out->n - 1];
    out->p5 = percentile (s, out->n, 5);
    out->p25 = percentile (s, out->n, 25);
    out->median = percentile (s, out->n, 50);
    out->p75 = percentile (s, out->n, 75);
    out->p95 = percentile (s, out->n, 95);
  }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-thumbnail.c — a small picture of the series a flag is about, for the site's report.
 *
 * Made from the decoded pixel data of the workspace's (pseudonymized) files only: no header
 * value is drawn, so nothing identifying is burned in by us. The slice is the one holding the
 * flag's LPS position when it has one (marked with a cross), else the middle one; the window
 * spans the 1st to 99th percentile of the volume, which shows anatomy without a preset per
 * modality. Pixels are resampled by nearest neighbour to the physical aspect (column and row
 * spacing), the longer side max_size pixels.
 */
#include "config.h"

#include <math.h>
#include <glib/gi18n-lib.h>

#include "cu-flag-thumbnail.h"
#include "cu-png-writer.h"
#include "cu-series-plan.h"

GBytes *
cu_flag_thumbnail_png (CuStore *store, const char *series_uid, const double *lps, int max_size,
                       GError **error)
{
  g_auto(GStrv) files = NULL;
  g_autoptr(CuSeriesPlan) plan = NULL;
  CuVolume *vol;
  g_autofree guint8 *rgba = NULL;
  GBytes *png;
  double wmm, hmm, scale, ijk[3] = { -1, -1, -1 };
  int nx, ny, k, w, h;
  float lo, hi;

  g_return_val_if_fail (CU_IS_STORE (store) && series_uid != NULL, NULL);

  files = cu_store_get_series_files (store, series_uid, error);
  if (files == NULL)
    return NULL;
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, NULL, error);
  if (plan == NULL)
    return NULL;
  vol = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL, error);
  if (vol == NULL)
    return NULL;

  nx = vol->dims[0];
  ny = vol->dims[1];
  k = vol->dims[2] / 2;
  if (lps != NULL)
    {
      cu_volume_lps_to_index (vol, lps, ijk);
      if (isfinite (ijk[2]))
        k = CLAMP ((int) lround (ijk[2]), 0, vol->dims[2] - 1);
    }
  lo = cu_volume_percentile (vol, 0, 1.0);
  hi = cu_volume_percentile (vol, 0, 99.0);
  if (!(hi > lo))
    hi = lo + 1;

  wmm = nx * (vol->spacing[0] > 0 ? vol->spacing[0] : 1);
  hmm = ny * (vol->spacing[1] > 0 ? vol->spacing[1] : 1);
  scale = max_size / MAX (wmm, hmm);
  w = MAX (1, (int) lround (wmm * scale));
  h = MAX (1, (int) lround (hmm * scale));
  rgba = g_malloc ((gsize) w * h * 4);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int i = MIN (nx - 1, (int) ((x + 0.5) * nx / w));
        int j = MIN (ny - 1, (int) ((y + 0.5) * ny / h));
        float v = vol->voxels[((gsize) k * ny + j) * nx + i];
        double g = isfinite (v) ? (v - lo) / (hi - lo) : 0;
        guint8 *p = rgba + ((gsize) y * w + x) * 4;

        p[0] = p[1] = p[2] = (guint8) lround (CLAMP (g, 0.0, 1.0) * 255);
        p[3] = 255;
      }
  /* The flag's point: a red cross with a gap, so the finding itself stays visible. */
  if (lps != NULL && isfinite (ijk[0]) && isfinite (ijk[1]))
    {
      int cx = (int) lround ((ijk[0] + 0.5) * w / nx), cy = (int) lround ((ijk[1] + 0.5) * h / ny);

      for (int d = -12; d <= 12; d++)
        {
          if (ABS (d) < 4)
            continue;
          for (int pass = 0; pass < 2; pass++)
            {
              int x = pass ? cx + d : cx, y = pass ? cy : cy + d;
              guint8 *p;

              if (x < 0 || y < 0 || x >= w || y >= h)
                continue;
              p = rgba + ((gsize) y * w + x) * 4;
              p[0] = 230, p[1] = 30, p[2] = 40;
            }
        }
    }
  cu_volume_unref (vol);
  png = cu_png_encode_rgba (rgba, w, h, (gsize) w * 4, error);
  return png;
}

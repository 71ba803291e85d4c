/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-slice-renderer.c — window/level of one slice into RGBA8, headless.
 *
 * Method:
 *  - Plane extraction is a permutation of index axes (see cu-slice-renderer.h), chosen as the
 *    assignment of index axes to patient axes that maximises Σ|direction cosine| (6 candidates).
 *    No interpolation: a displayed pixel is a voxel, which is what a radiologist expects to
 *    measure on.
 *  - Window/level is the DICOM linear VOI LUT function, PS3.3 C.11.2.1.2 (“linear”), output
 *    range 0–255.
 *  - Speed: the slice is first quantised to 16-bit codes (exact for integer-valued data whose
 *    range fits in 65536 values, i.e. all CT/MR stored as ≤16-bit integers); a window/level
 *    change then only rebuilds a 65536-entry RGBA table and does one gather per pixel.
 *  - Zoom is done here with nearest-neighbour sampling at output resolution, because GTK 4.8
 *    can only draw textures with linear filtering (GskScalingFilter arrived in 4.10): the
 *    widget uploads a texture the size of its own pixels and GSK draws it 1:1, so voxels stay
 *    crisp squares (or rectangles, with anisotropic spacing) with every GSK renderer.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-slice-renderer.h"

#define N_CODES 65536

struct _CuSliceRenderer
{
  CuVolume *volume;
  CuPlane plane;
  CuPlaneAxes axes;
  int slice, time;
  double window, level;

  /* value → code quantisation, fixed per volume */
  double vmin, code_scale;

  /* caches */
  guint16 *codes;       /* w·h codes of the current slice */
  gboolean codes_valid;
  guint32 *lut;         /* N_CODES RGBA entries for the current window/level */
  gboolean lut_valid;
  guint32 *rgba;        /* w·h native-resolution pixels */
  gboolean rgba_valid;
  int width, height;
};

const char *
cu_plane_to_string (CuPlane plane)
{
  switch (plane)
    {
    case CU_PLANE_AXIAL: return "axial";
    case CU_PLANE_CORONAL: return "coronal";
    case CU_PLANE_SAGITTAL: return "sagittal";
    case CU_PLANE_ACQUISITION:
    default: return "acquisition";
    }
}

const char *
cu_plane_get_title (CuPlane plane)
{
  switch (plane)
    {
    case CU_PLANE_AXIAL: return _("Axial");
    case CU_PLANE_CORONAL: return _("Coronal");
    case CU_PLANE_SAGITTAL: return _("Sagittal");
    case CU_PLANE_ACQUISITION:
    default: return _("Acquisition");
    }
}

/* Screen directions as LPS axis (0 = x, 1 = y, 2 = z) and sign, per plane. */
static const struct
{
  int h, hs, v, vs, s, ss;
} plane_dirs[3] = {
  [CU_PLANE_AXIAL]    = { 0, +1, 1, +1, 2, +1 },   /* R→L, A→P, slices towards S */
  [CU_PLANE_CORONAL]  = { 0, +1, 2, -1, 1, -1 },   /* R→L, S→I, slices towards A */
  [CU_PLANE_SAGITTAL] = { 1, +1, 2, -1, 0, +1 },   /* A→P, S→I, slices towards L */
};

void
cu_plane_resolve_axes (const CuVolume *volume, CuPlane plane, CuPlaneAxes *axes)
{
  static const int perms[6][3] = {
    { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
  };
  const double *d = volume->direction;
  int best = 0;
  double best_score = -1;
  const int *p;

  if (plane == CU_PLANE_ACQUISITION)
    {
      *axes = (CuPlaneAxes) { 0, 1, 2, FALSE, FALSE, FALSE };
      return;
    }

  /* perms[n][r] = index axis assigned to LPS axis r */
  for (int n = 0; n < 6; n++)
    {
      double score = 0;
      for (int r = 0; r < 3; r++)
        score += fabs (d[r * 3 + perms[n][r]]);
      if (score > best_score + 1e-9)
        {
          best_score = score;
          best = n;
        }
    }
  p = perms[best];
  axes->h_axis = p[plane_dirs[plane].h];
  axes->v_axis = p[plane_dirs[plane].v];
  axes->s_axis = p[plane_dirs[plane].s];
  axes->h_flip = d[plane_dirs[plane].h * 3 + axes->h_axis] * plane_dirs[plane].hs < 0;
  axes->v_flip = d[plane_dirs[plane].v * 3 + axes->v_axis] * plane_dirs[plane].vs < 0;
  axes->s_flip = d[plane_dirs[plane].s * 3 + axes->s_axis] * plane_dirs[plane].ss < 0;
}

void
cu_plane_axes_to_index (const CuPlaneAxes *axes, const CuVolume *volume, const double uvs[3],
                        double ijk[3])
{
  const int ax[3] = { axes->h_axis, axes->v_axis, axes->s_axis };
  const gboolean fl[3] = { axes->h_flip, axes->v_flip, axes->s_flip };

  for (int n = 0; n < 3; n++)
    ijk[ax[n]] = fl[n] ? (volume->dims[ax[n]] - 1) - uvs[n] : uvs[n];
}

void
cu_plane_axes_from_index (const CuPlaneAxes *axes, const CuVolume *volume, const double ijk[3],
                          double uvs[3])
{
  const int ax[3] = { axes->h_axis, axes->v_axis, axes->s_axis };
  const gboolean fl[3] = { axes->h_flip, axes->v_flip, axes->s_flip };

  for (int n = 0; n < 3; n++)
    uvs[n] = fl[n] ? (volume->dims[ax[n]] - 1) - ijk[ax[n]] : ijk[ax[n]];
}

char *
cu_plane_edge_label (const CuVolume *volume, const CuPlaneAxes *axes, int edge)
{
  /* The right edge lies in the direction of increasing u, i.e. along index axis h_axis, or
   * against it when the axis is flipped; the left edge is the opposite. Same for v. */
  switch (edge)
    {
    case 0: return cu_volume_axis_label (volume, axes->h_axis, !axes->h_flip);
    case 1: return cu_volume_axis_label (volume, axes->h_axis, axes->h_flip);
    case 2: return cu_volume_axis_label (volume, axes->v_axis, !axes->v_flip);
    case 3: return cu_volume_axis_label (volume, axes->v_axis, axes->v_flip);
    default: g_return_val_if_reached (NULL);
    }
}

guint8
cu_window_level_apply (double x, double window, double level)
{
  double w = MAX (window, 1.0);
  double c = level;
  double y;

  if (isnan (x))
    return 0;
  if (x <= c - 0.5 - (w - 1) / 2)
    return 0;
  if (x > c - 0.5 + (w - 1) / 2)
    return 255;
  y = ((x - (c - 0.5)) / (w - 1) + 0.5) * 255.0;
  return (guint8) CLAMP (lrint (y), 0, 255);
}

CuSliceRenderer *
cu_slice_renderer_new (void)
{
  CuSliceRenderer *self = g_new0 (CuSliceRenderer, 1);

  self->window = 400;
  self->level = 40;
  self->plane = CU_PLANE_AXIAL;
  self->lut = g_new (guint32, N_CODES);
  return self;
}

void
cu_slice_renderer_free (CuSliceRenderer *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->volume, cu_volume_unref);
  g_free (self->codes);
  g_free (self->rgba);
  g_free (self->lut);
  g_free (self);
}

static void
update_geometry (CuSliceRenderer *self)
{
  g_clear_pointer (&self->codes, g_free);
  g_clear_pointer (&self->rgba, g_free);
  self->codes_valid = self->rgba_valid = FALSE;
  self->width = self->height = 0;
  if (self->volume == NULL)
    return;
  cu_plane_resolve_axes (self->volume, self->plane, &self->axes);
  self->width = self->volume->dims[self->axes.h_axis];
  self->height = self->volume->dims[self->axes.v_axis];
  self->codes = g_new (guint16, (gsize) self->width * self->height);
  self->rgba = g_new (guint32, (gsize) self->width * self->height);
  self->slice = CLAMP (self->slice, 0, self->volume->dims[self->axes.s_axis] - 1);
}

void
cu_slice_renderer_set_volume (CuSliceRenderer *self, CuVolume *volume)
{
  CuVolumeStats stats;

  g_return_if_fail (self != NULL);
  if (volume == self->volume)
    return;
  if (volume != NULL)
    cu_volume_stats_compute (volume, &stats);
  cu_slice_renderer_set_volume_with_stats (self, volume, volume ? &stats : NULL);
}

void
cu_slice_renderer_set_volume_with_stats (CuSliceRenderer *self, CuVolume *volume,
                                         const CuVolumeStats *stats)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (volume == NULL || stats != NULL);

  if (volume == self->volume)
    return;
  if (volume != NULL)
    cu_volume_ref (volume);
  g_clear_pointer (&self->volume, cu_volume_unref);
  self->volume = volume;
  self->lut_valid = FALSE;
  self->time = 0;
  if (volume != NULL && volume->voxels != NULL)
    {
      self->vmin = stats->min;
      if (stats->integral && stats->max - stats->min < N_CODES)
        self->code_scale = 1.0;
      else
        self->code_scale = stats->max > stats->min ? (N_CODES - 1) / (stats->max - stats->min) : 1.0;
    }
  update_geometry (self);
}

CuVolume *
cu_slice_renderer_get_volume (CuSliceRenderer *self)
{
  return self->volume;
}

void
cu_slice_renderer_set_plane (CuSliceRenderer *self, CuPlane plane)
{
  g_return_if_fail (self != NULL);
  if (plane == self->plane)
    return;
  self->plane = plane;
  update_geometry (self);
}

const CuPlaneAxes *
cu_slice_renderer_get_axes (CuSliceRenderer *self)
{
  return &self->axes;
}

int
cu_slice_renderer_get_n_slices (CuSliceRenderer *self)
{
  if (self->volume == NULL)
    return 0;
  return self->volume->dims[self->axes.s_axis];
}

void
cu_slice_renderer_set_slice (CuSliceRenderer *self, int slice, int time)
{
  g_return_if_fail (self != NULL);
  if (self->volume == NULL)
    return;
  slice = CLAMP (slice, 0, self->volume->dims[self->axes.s_axis] - 1);
  time = CLAMP (time, 0, self->volume->dims[3] - 1);
  if (slice == self->slice && time == self->time)
    return;
  self->slice = slice;
  self->time = time;
  self->codes_valid = self->rgba_valid = FALSE;
}

void
cu_slice_renderer_set_window (CuSliceRenderer *self, double window, double level)
{
  g_return_if_fail (self != NULL);
  if (window == self->window && level == self->level)
    return;
  self->window = window;
  self->level = level;
  self->lut_valid = self->rgba_valid = FALSE;
}

void
cu_slice_renderer_get_size (CuSliceRenderer *self, int *width, int *height, double *pixel_w_mm,
                            double *pixel_h_mm)
{
  if (width)
    *width = self->width;
  if (height)
    *height = self->height;
  if (pixel_w_mm)
    *pixel_w_mm = self->volume ? self->volume->spacing[self->axes.h_axis] : 1.0;
  if (pixel_h_mm)
    *pixel_h_mm = self->volume ? self->volume->spacing[self->axes.v_axis] : 1.0;
}

static void
extract_codes (CuSliceRenderer *self)
{
  const CuVolume *vol = self->volume;
  const gssize st[3] = { 1, vol->dims[0], (gssize) vol->dims[0] * vol->dims[1] };
  const float *frame = cu_volume_frame (vol, self->time);
  gssize du, dv, base;
  int s;

  s = self->axes.s_flip ? vol->dims[self->axes.s_axis] - 1 - self->slice : self->slice;
  base = s * st[self->axes.s_axis];
  du = st[self->axes.h_axis];
  dv = st[self->axes.v_axis];
  if (self->axes.h_flip)
    {
      base += (gssize) (self->width - 1) * du;
      du = -du;
    }
  if (self->axes.v_flip)
    {
      base += (gssize) (self->height - 1) * dv;
      dv = -dv;
    }

  for (int v = 0; v < self->height; v++)
    {
      const float *src = frame + base + v * dv;
      guint16 *dst = self->codes + (gsize) v * self->width;
      for (int u = 0; u < self->width; u++)
        {
          float x = src[u * du];
          double c = (x - self->vmin) * self->code_scale;
          /* NaN fails both comparisons and lands on code 0 */
          dst[u] = c > 0 ? (c < N_CODES - 1 ? (guint16) lrint (c) : N_CODES - 1) : 0;
        }
    }
  self->codes_valid = TRUE;
}

static void
build_lut (CuSliceRenderer *self)
{
  for (int c = 0; c < N_CODES; c++)
    {
      guint8 g = cu_window_level_apply (self->vmin + c / self->code_scale, self->window, self->level);
      guint8 px[4] = { g, g, g, 255 };
      memcpy (&self->lut[c], px, 4);
    }
  self->lut_valid = TRUE;
}

const guint8 *
cu_slice_renderer_render (CuSliceRenderer *self, int *width, int *height)
{
  gsize n;

  g_return_val_if_fail (self != NULL, NULL);
  if (self->volume == NULL || self->volume->voxels == NULL)
    return NULL;
  if (!self->rgba_valid)
    {
      if (!self->codes_valid)
        extract_codes (self);
      if (!self->lut_valid)
        build_lut (self);
      n = (gsize) self->width * self->height;
      for (gsize i = 0; i < n; i++)
        self->rgba[i] = self->lut[self->codes[i]];
      self->rgba_valid = TRUE;
    }
  if (width)
    *width = self->width;
  if (height)
    *height = self->height;
  return (const guint8 *) self->rgba;
}

gboolean
cu_slice_renderer_render_view (CuSliceRenderer *self, const CuSliceViewport *vp, guint8 *rgba,
                               int width, int height, gsize stride)
{
  const guint32 *src;
  g_autofree int *cols = NULL;
  int sw, sh;
  const guint8 black[4] = { 0, 0, 0, 255 };
  guint32 bg;

  g_return_val_if_fail (self != NULL && vp != NULL && rgba != NULL, FALSE);
  g_return_val_if_fail (stride % 4 == 0 && stride >= (gsize) width * 4, FALSE);
  src = (const guint32 *) cu_slice_renderer_render (self, &sw, &sh);
  if (src == NULL || vp->pixel_w <= 0 || vp->pixel_h <= 0)
    return FALSE;
  memcpy (&bg, black, 4);

  /* The mapping is separable: one column table, one row lookup per output row. */
  cols = g_new (int, width);
  for (int x = 0; x < width; x++)
    {
      double u = floor ((x + 0.5 - vp->origin_x) / vp->pixel_w);
      cols[x] = (u >= 0 && u < sw) ? (int) u : -1;
    }
  for (int y = 0; y < height; y++)
    {
      guint32 *dst = (guint32 *) (rgba + (gsize) y * stride);
      double v = floor ((y + 0.5 - vp->origin_y) / vp->pixel_h);
      const guint32 *row;

      if (v < 0 || v >= sh)
        {
          for (int x = 0; x < width; x++)
            dst[x] = bg;
          continue;
        }
      row = src + (gsize) v * sw;
      for (int x = 0; x < width; x++)
        dst[x] = cols[x] >= 0 ? row[cols[x]] : bg;
    }
  return TRUE;
}

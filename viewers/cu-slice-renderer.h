/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-slice-renderer.h — one 2D slice of a CuVolume as RGBA8, without GTK.
 *
 * A plane is resolved to a permutation (with flips) of the volume's index axes, so every
 * displayed pixel is exactly one voxel: no resampling blur, no interpolation of values.
 * Screen conventions are the radiological ones (patient's right on the viewer's left):
 *   axial:    left→right = R→L, top→bottom = A→P
 *   coronal:  left→right = R→L, top→bottom = S→I
 *   sagittal: left→right = A→P, top→bottom = S→I
 *   acquisition: rows and columns as stored (i to the right, j down), slices along k.
 * For oblique acquisitions the index axis closest to each patient axis is used.
 */
#pragma once

#include "curation.h"
#include "cu-volume-stats.h"

G_BEGIN_DECLS

typedef enum
{
  CU_PLANE_AXIAL,
  CU_PLANE_CORONAL,
  CU_PLANE_SAGITTAL,
  CU_PLANE_ACQUISITION,
} CuPlane;

/* Which index axis (0 = i, 1 = j, 2 = k) runs along the screen's horizontal (u), vertical (v)
 * and through-plane (s) directions, and whether it runs backwards. */
typedef struct
{
  int h_axis, v_axis, s_axis;
  gboolean h_flip, v_flip, s_flip;
} CuPlaneAxes;

/* A view transform in output pixels: slice pixel (u, v) covers the output rectangle
 * [origin_x + u·pixel_w, origin_x + (u+1)·pixel_w) × [origin_y + v·pixel_h, …). */
typedef struct
{
  double origin_x, origin_y;
  double pixel_w, pixel_h;
} CuSliceViewport;

typedef struct _CuSliceRenderer CuSliceRenderer;

const char      *cu_plane_to_string            (CuPlane plane);
const char      *cu_plane_get_title            (CuPlane plane);   /* translated */
void             cu_plane_resolve_axes         (const CuVolume *volume, CuPlane plane,
                                                CuPlaneAxes *axes);
/* Slice coordinates (u, v, s) ↔ voxel index; both accept fractional values. */
void             cu_plane_axes_to_index        (const CuPlaneAxes *axes, const CuVolume *volume,
                                                const double uvs[3], double ijk[3]);
void             cu_plane_axes_from_index      (const CuPlaneAxes *axes, const CuVolume *volume,
                                                const double ijk[3], double uvs[3]);
/* Orientation letter(s) at the screen edges: 0 = left, 1 = right, 2 = top, 3 = bottom. */
char            *cu_plane_edge_label           (const CuVolume *volume, const CuPlaneAxes *axes,
                                                int edge);

/* DICOM PS3.3 C.11.2.1.2 linear VOI function mapped to 0–255. */
guint8           cu_window_level_apply         (double value, double window, double level);

CuSliceRenderer *cu_slice_renderer_new         (void);
void             cu_slice_renderer_free        (CuSliceRenderer *self);
void             cu_slice_renderer_set_volume  (CuSliceRenderer *self, CuVolume *volume);
/* The same with statistics already computed (see cu-volume-stats.h): no pass over the voxels. */
void             cu_slice_renderer_set_volume_with_stats (CuSliceRenderer *self, CuVolume *volume,
                                                          const CuVolumeStats *stats);
CuVolume        *cu_slice_renderer_get_volume  (CuSliceRenderer *self);
void             cu_slice_renderer_set_plane   (CuSliceRenderer *self, CuPlane plane);
const CuPlaneAxes *cu_slice_renderer_get_axes  (CuSliceRenderer *self);
/* Slice index (clamped) and time point of a 4D volume. */
void             cu_slice_renderer_set_slice   (CuSliceRenderer *self, int slice, int time);
int              cu_slice_renderer_get_n_slices (CuSliceRenderer *self);
void             cu_slice_renderer_set_window  (CuSliceRenderer *self, double window, double level);
/* Slice size in pixels and the physical size of one pixel in mm (anisotropic spacing). */
void             cu_slice_renderer_get_size    (CuSliceRenderer *self, int *width, int *height,
                                                double *pixel_w_mm, double *pixel_h_mm);
/* The whole slice at native resolution, RGBA8, stride = 4·width. Cached: recomputed only when
 * the volume, plane, slice, time or window/level changed. NULL without a volume. */
const guint8    *cu_slice_renderer_render      (CuSliceRenderer *self, int *width, int *height);
/* The slice drawn into an output buffer through a viewport with nearest-neighbour sampling;
 * outside the slice the buffer is filled with opaque black. Returns FALSE without a volume. */
gboolean         cu_slice_renderer_render_view (CuSliceRenderer *self, const CuSliceViewport *vp,
                                                guint8 *rgba, int width, int height, gsize stride);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSliceRenderer, cu_slice_renderer_free)

G_END_DECLS

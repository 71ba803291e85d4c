/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-pyramid.c — Gaussian pyramid for multi-resolution registration.
 *
 * Each level is the image convolved with a Gaussian of σ = shrink/2 voxels along each axis
 * that is subsampled by an integer `shrink`, then sampled at the centres of shrink-blocks —
 * the schedule of ITK's MultiResolutionPyramidImageFilter and elastix's default pyramids
 * (Klein et al., IEEE TMI 29(1):196–205, 2010, doi:10.1109/TMI.2009.2035616). Coarse levels
 * make the cost smooth with a wide capture range; the finest level is the image itself.
 * σ follows the subsampling factor of each axis (σ = shrink/2 voxels, given to
 * cu_gaussian_filter in mm): that is what removes aliasing.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-gaussian.h"
#include "cu-resample.h"
#include "cu-rigid-pyramid.h"
#include "cu-volume-error.h"

CuVolume *
cu_rigid_pyramid_level (const CuVolume *in, int t, double factor, GCancellable *cancellable,
                        GError **error)
{
  g_autoptr (CuVolume) frame = NULL;
  g_autoptr (CuVolume) grid = NULL;
  double min_spacing = MIN (in->spacing[0], MIN (in->spacing[1], in->spacing[2]));
  int shrink[3];
  gboolean any = FALSE;

  g_return_val_if_fail (in != NULL && in->voxels != NULL && t >= 0 && t < in->dims[3], NULL);

  frame = cu_volume_new (in->dims[0], in->dims[1], in->dims[2], 1, TRUE, error);
  if (frame == NULL)
    return NULL;
  memcpy (frame->spacing, in->spacing, sizeof frame->spacing);
  memcpy (frame->origin, in->origin, sizeof frame->origin);
  memcpy (frame->direction, in->direction, sizeof frame->direction);
  memcpy (frame->voxels, cu_volume_frame (in, t), cu_volume_n_voxels_3d (in) * sizeof (float));

  for (int c = 0; c < 3; c++)
    {
      shrink[c] = MAX (1, (int) floor (factor * min_spacing / in->spacing[c] + 0.5));
      /* Keep at least a few voxels along every axis. */
      while (shrink[c] > 1 && in->dims[c] / shrink[c] < 4)
        shrink[c]--;
      any |= shrink[c] > 1;
    }
  if (!any)
    return g_steal_pointer (&frame);

  {
    double sigma_mm[3];
    CuVolume *smoothed;

    for (int c = 0; c < 3; c++)
      sigma_mm[c] = shrink[c] > 1 ? 0.5 * shrink[c] * in->spacing[c] : 0.0;
    smoothed = cu_gaussian_filter (frame, sigma_mm, cancellable, error);
    if (smoothed == NULL)
      return NULL;
    cu_volume_unref (frame);
    frame = smoothed;
  }

  grid = cu_volume_new (MAX (1, in->dims[0] / shrink[0]), MAX (1, in->dims[1] / shrink[1]),
                        MAX (1, in->dims[2] / shrink[2]), 1, FALSE, error);
  if (grid == NULL)
    return NULL;
  memcpy (grid->direction, in->direction, sizeof grid->direction);
  {
    double ijk[3];
    for (int c = 0; c < 3; c++)
      {
        grid->spacing[c] = in->spacing[c] * shrink[c];
        ijk[c] = 0.5 * (shrink[c] - 1);
      }
    cu_volume_index_to_lps (in, ijk, grid->origin);
  }
  return cu_resample_volume (frame, grid, NULL, CU_INTERPOLATION_LINEAR, 0.0f, cancellable, error);
}

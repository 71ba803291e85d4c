/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-snapshot.c — offscreen views of a volume. Slice planes go through the slice renderer
 * (the pixels the slice views show, resized with nearest neighbour to square millimetres);
 * the 3D view goes through a CuVtkScene rendered once at full quality.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "curation.h"
#include "cu-slice-renderer.h"
#include "cu-snapshot.h"
#include "cu-volume-stats.h"

gboolean
cu_snapshot_view_from_string (const char *id, CuSnapshotView *view)
{
  static const char *const ids[] = { "axial", "coronal", "sagittal", "3d" };

  for (guint i = 0; id != NULL && i < G_N_ELEMENTS (ids); i++)
    if (g_ascii_strcasecmp (id, ids[i]) == 0)
      {
        *view = (CuSnapshotView) i;
        return TRUE;
      }
  return FALSE;
}

static guint8 *
render_slice (const CuVolume *volume, CuPlane plane, int size, int *width, int *height,
              GError **error)
{
  g_autoptr (CuSliceRenderer) r = cu_slice_renderer_new ();
  CuVolumeStats stats;
  CuSliceViewport vp;
  double pw, ph, scale;
  int sw, sh, w, h;
  guint8 *rgba;

  cu_volume_stats_compute (volume, &stats);
  cu_slice_renderer_set_volume_with_stats (r, (CuVolume *) volume, &stats);
  cu_slice_renderer_set_plane (r, plane);
  cu_slice_renderer_set_slice (r, (cu_slice_renderer_get_n_slices (r) - 1) / 2, 0);
  cu_slice_renderer_set_window (r, stats.window, stats.level);
  cu_slice_renderer_get_size (r, &sw, &sh, &pw, &ph);
  if (sw < 1 || sh < 1 || !(pw > 0) || !(ph > 0))
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("The volume has no %s plane to show"), cu_plane_to_string (plane));
      return NULL;
    }
  scale = size / MAX (sw * pw, sh * ph);
  w = MAX (1, (int) lround (sw * pw * scale));
  h = MAX (1, (int) lround (sh * ph * scale));
  vp = (CuSliceViewport) { 0, 0, (double) w / sw, (double) h / sh };
  rgba = g_malloc ((gsize) w * h * 4);
  if (!cu_slice_renderer_render_view (r, &vp, rgba, w, h, (gsize) w * 4))
    {
      g_free (rgba);
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_FAILED,
                   _("Could not render the %s plane"), cu_plane_to_string (plane));
      return NULL;
    }
  *width = w;
  *height = h;
  return rgba;
}

static guint8 *
render_3d (const CuVolume *volume, const CuSnapshotOptions *options, int size, int *width,
           int *height, GError **error)
{
  g_autoptr (CuVtkScene) scene = cu_vtk_scene_new (error);
  g_autofree guint8 *rgba = NULL;

  if (scene == NULL)
    return NULL;
  if (!cu_vtk_scene_set_volume (scene, volume, 0, error))
    return NULL;
  cu_vtk_scene_set_preset (scene, options->has_preset ? options->preset
                                                      : cu_vtk_preset_default_for (volume));
  if (options->labels != NULL && !cu_vtk_scene_set_label_map (scene, options->labels, error))
    return NULL;
  cu_vtk_scene_reset_camera (scene, CU_VTK_VIEW_ANTERIOR);
  rgba = g_malloc ((gsize) size * size * 4);
  if (!cu_vtk_scene_render (scene, size, size, CU_VTK_QUALITY_FULL, rgba, error))
    return NULL;
  *width = *height = size;
  return g_steal_pointer (&rgba);
}

guint8 *
cu_snapshot_render (const CuVolume *volume, CuSnapshotView view, const CuSnapshotOptions *options,
                    int *width, int *height, GError **error)
{
  static const CuSnapshotOptions defaults = { 0 };
  int size;

  g_return_val_if_fail (volume != NULL && width != NULL && height != NULL, NULL);
  if (options == NULL)
    options = &defaults;
  size = options->size > 0 ? options->size : 512;
  if (size > 8192)
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("An image of %d pixels is too large (at most 8192)"), size);
      return NULL;
    }
  if (volume->voxels == NULL)
    {
      g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                   _("The volume has no voxels to show"));
      return NULL;
    }
  /* A single image (radiograph, localizer) is shown in its acquisition plane, as the slice
   * views do; it has no other plane and no 3D view. */
  if (volume->dims[2] == 1)
    {
      if (view == CU_SNAPSHOT_3D)
        {
          g_set_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID,
                       _("A single image has no 3D view; use --view axial, coronal or sagittal"));
          return NULL;
        }
      return render_slice (volume, CU_PLANE_ACQUISITION, size, width, height, error);
    }
  switch (view)
    {
    case CU_SNAPSHOT_AXIAL: return render_slice (volume, CU_PLANE_AXIAL, size, width, height, error);
    case CU_SNAPSHOT_CORONAL: return render_slice (volume, CU_PLANE_CORONAL, size, width, height, error);
    case CU_SNAPSHOT_SAGITTAL: return render_slice (volume, CU_PLANE_SAGITTAL, size, width, height, error);
    case CU_SNAPSHOT_3D:
    default: return render_3d (volume, options, size, width, height, error);
    }
}

gboolean
cu_snapshot_write_png (const CuVolume *volume, CuSnapshotView view, const CuSnapshotOptions *options,
                       const char *path, int *width, int *height, GError **error)
{
  g_autofree guint8 *rgba = NULL;
  int w = 0, h = 0;

  rgba = cu_snapshot_render (volume, view, options, &w, &h, error);
  if (rgba == NULL)
    return FALSE;
  if (!cu_png_write_rgba (path, rgba, w, h, (gsize) w * 4, error))
    return FALSE;
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
  return TRUE;
}

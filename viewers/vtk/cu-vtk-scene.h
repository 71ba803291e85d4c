/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-vtk-scene.h — a 3D scene of one volume (volume rendering, label surfaces, the three MPR
 * planes) rendered offscreen by VTK, behind a plain C API.
 *
 * The world coordinates of the scene are patient LPS millimetres (cu-volume.h): the volume,
 * its label map and the planes are placed with their direction cosines, origin and spacing,
 * so a point picked in 3D is an LPS position the slice views understand directly.
 *
 * No VTK type crosses this header and no C++ exception leaves the implementation. A scene
 * is not thread-safe: create, use and free it from one thread (the GL context VTK creates
 * is bound to that thread). VTK on Debian renders offscreen through GLX, so an X display is
 * needed even offscreen; cu_vtk_scene_new() fails cleanly (CU_VTK_SCENE_ERROR_NO_DISPLAY)
 * without one instead of letting VTK abort.
 */
#pragma once

#include <glib.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_VTK_SCENE_ERROR (cu_vtk_scene_error_quark ())
GQuark cu_vtk_scene_error_quark (void);

typedef enum
{
  CU_VTK_SCENE_ERROR_NO_DISPLAY,   /* no X display to render with */
  CU_VTK_SCENE_ERROR_INVALID,      /* bad argument: empty volume, size 0, geometry mismatch */
  CU_VTK_SCENE_ERROR_NOT_FOUND,    /* picking: nothing under the point */
  CU_VTK_SCENE_ERROR_FAILED,       /* VTK or GL failed (message says how) */
} CuVtkSceneError;

/* Transfer-function presets. CT presets are in Hounsfield units; MR default and MIP adapt
 * to the volume's intensity percentiles. */
typedef enum
{
  CU_VTK_PRESET_CT_BONE,
  CU_VTK_PRESET_CT_SOFT_TISSUE,
  CU_VTK_PRESET_MR_DEFAULT,
  CU_VTK_PRESET_MIP,
  CU_VTK_N_PRESETS
} CuVtkPreset;

/* FULL: a ray per pixel and a sample per voxel, shaded (see CuVtkMapper for which caster).
 * INTERACTIVE: what stays usable on software GL while the user drags — the CPU ray caster
 * with a ray per 2 × 2 pixels and a sample per 2 voxels, unshaded. */
typedef enum
{
  CU_VTK_QUALITY_FULL,
  CU_VTK_QUALITY_INTERACTIVE,
} CuVtkQuality;

/* Where the camera looks from when reset: the patient seen from the front (anterior, head
 * up), from the left side, or from above (superior). */
typedef enum
{
  CU_VTK_VIEW_ANTERIOR,
  CU_VTK_VIEW_LEFT,
  CU_VTK_VIEW_SUPERIOR,
} CuVtkView;

/* Which ray caster renders FULL quality: AUTO takes the GPU one on a hardware GL driver and
 * the multi-threaded CPU one (shaded, one ray per pixel) on a software one (llvmpipe), where
 * the GPU caster is several times slower. */
typedef enum
{
  CU_VTK_MAPPER_AUTO,
  CU_VTK_MAPPER_GPU,
  CU_VTK_MAPPER_CPU,
} CuVtkMapper;

typedef struct _CuVtkScene CuVtkScene;

/* Stable ids ("ct-bone", "ct-soft-tissue", "mr-default", "mip") and translated titles. */
const char  *cu_vtk_preset_to_string     (CuVtkPreset preset);
const char  *cu_vtk_preset_get_title     (CuVtkPreset preset);
gboolean     cu_vtk_preset_from_string   (const char *id, CuVtkPreset *preset);
/* CT presets for CT volumes, MR default otherwise. */
CuVtkPreset  cu_vtk_preset_default_for   (const CuVolume *volume);

CuVtkScene  *cu_vtk_scene_new            (GError **error);
void         cu_vtk_scene_free           (CuVtkScene *self);

/* Volume t of volume (voxels are copied; the scene keeps no reference). NULL clears the
 * scene. The camera is reset to the anterior view when the volume's extent changes. */
gboolean     cu_vtk_scene_set_volume     (CuVtkScene *self, const CuVolume *volume, int time,
                                          GError **error);
/* A label map: voxel values are integer label ids (0 = background), with its own geometry
 * (usually the volume's). Each label present becomes a smoothed surface (discrete flying
 * edges, then windowed-sinc smoothing), coloured by cu_vtk_scene_set_label_color or a
 * default palette. Frames (dims[3] > 1) are the layers of a map whose labels overlap
 * (cu-label-map.h): each frame's labels get their surfaces too. NULL removes the surfaces.
 * Call again when the segmentation changes. */
gboolean     cu_vtk_scene_set_label_map  (CuVtkScene *self, const CuVolume *labels, GError **error);
/* RGBA in 0–1 for label (1–255); alpha < 1 makes the surface translucent. */
void         cu_vtk_scene_set_label_color (CuVtkScene *self, int label, const double rgba[4]);
/* Number of triangles of the label surfaces (0 without labels): what tests and the bench read. */
gsize        cu_vtk_scene_get_label_n_triangles (CuVtkScene *self);

void         cu_vtk_scene_set_full_quality_mapper (CuVtkScene *self, CuVtkMapper mapper);
/* The GL renderer VTK uses ("llvmpipe (LLVM 15.0.6, 256 bits)", …) and whether it is software;
 * known after the first render (NULL before). */
const char  *cu_vtk_scene_get_gl_renderer (CuVtkScene *self, gboolean *software);

void         cu_vtk_scene_set_preset     (CuVtkScene *self, CuVtkPreset preset);
CuVtkPreset  cu_vtk_scene_get_preset     (CuVtkScene *self);
void         cu_vtk_scene_set_volume_visible (CuVtkScene *self, gboolean visible);

/* Opacity of the planes: 1, or translucent while label surfaces are shown (so the planes
 * through a lesion do not hide it). */
double       cu_vtk_scene_get_plane_opacity (CuVtkScene *self);
/* The three orthogonal planes of the slice views through the cursor (LPS), with the slice
 * views' window/level. They follow the volume's index axes, as the slice views do. */
void         cu_vtk_scene_set_planes     (CuVtkScene *self, gboolean visible, const double cursor_lps[3],
                                          double window, double level);

/* Camera. Rotation is about the focal point, in degrees (azimuth about the view-up axis,
 * elevation about the horizontal screen axis); zoom > 1 magnifies; pan moves the scene by
 * fractions of the viewport size (dx right, dy down). */
void         cu_vtk_scene_reset_camera   (CuVtkScene *self, CuVtkView view);
void         cu_vtk_scene_rotate         (CuVtkScene *self, double azimuth, double elevation);
void         cu_vtk_scene_zoom           (CuVtkScene *self, double factor);
void         cu_vtk_scene_pan            (CuVtkScene *self, double dx, double dy);
/* How the patient axes +x (L), +y (P), +z (S) appear on screen with the current camera:
 * axes[a] = (right, down) components of unit axis a, from −1 to 1 (short when the axis points
 * at the viewer). For an orientation marker. */
void         cu_vtk_scene_get_screen_axes (CuVtkScene *self, double axes[3][2]);

/* Render at width × height into rgba (4·width·height bytes, rows top to bottom, opaque).
 * The volume, if any, is drawn with the given quality. */
gboolean     cu_vtk_scene_render         (CuVtkScene *self, int width, int height, CuVtkQuality quality,
                                          guint8 *rgba, GError **error);
/* The LPS position of what is drawn at pixel (x, y) (from the top-left corner) of an image of
 * width × height rendered with the current camera: the nearest label surface, plane or
 * voxel of the volume whose opacity is visible. CU_VTK_SCENE_ERROR_NOT_FOUND when the ray
 * hits nothing. */
gboolean     cu_vtk_scene_pick           (CuVtkScene *self, int width, int height, double x, double y,
                                          double lps[3], GError **error);
/* Where an LPS point is drawn in an image of width × height (pixels from the top-left). */
void         cu_vtk_scene_project        (CuVtkScene *self, int width, int height, const double lps[3],
                                          double *x, double *y);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuVtkScene, cu_vtk_scene_free)

G_END_DECLS

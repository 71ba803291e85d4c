/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-snapshot.h — one view of a volume rendered offscreen to RGBA or PNG, without GTK: the
 * three slice planes through the centre of the volume (as the slice views draw them) or the
 * 3D view (VTK). Used by `curata-cli snapshot` for thumbnails, reports and tests.
 */
#pragma once

#include "curation.h"
#include "cu-vtk-scene.h"

G_BEGIN_DECLS

typedef enum
{
  CU_SNAPSHOT_AXIAL,
  CU_SNAPSHOT_CORONAL,
  CU_SNAPSHOT_SAGITTAL,
  CU_SNAPSHOT_3D,
} CuSnapshotView;

typedef struct
{
  int size;                 /* longest side of the image in pixels; 0 = 512 */
  gboolean has_preset;      /* 3D: use preset, else cu_vtk_preset_default_for () */
  CuVtkPreset preset;
  const CuVolume *labels;   /* 3D: label map shown as surfaces, or NULL */
} CuSnapshotOptions;

/* "axial", "coronal", "sagittal", "3d". A single image (one slice) is drawn in its
 * acquisition plane whichever plane is asked for, and has no 3D view. */
gboolean  cu_snapshot_view_from_string (const char *id, CuSnapshotView *view);
/* Opaque RGBA8, rows top-down, stride 4·width; g_free() it. 3D needs an X display
 * (CU_VTK_SCENE_ERROR_NO_DISPLAY otherwise); the slice planes do not. */
guint8   *cu_snapshot_render           (const CuVolume *volume, CuSnapshotView view,
                                        const CuSnapshotOptions *options, int *width, int *height,
                                        GError **error);
gboolean  cu_snapshot_write_png        (const CuVolume *volume, CuSnapshotView view,
                                        const CuSnapshotOptions *options, const char *path,
                                        int *width, int *height, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume.h — a 3D (or 4D) image with its physical geometry.
 *
 * Orientation convention (the one place it is written down):
 *
 *   Coordinates are DICOM patient coordinates, LPS: +x towards the patient's Left,
 *   +y towards Posterior, +z towards Superior (head), in millimetres.
 *
 *   Voxel index (i, j, k) — i along a row (column index), j down the columns (row index),
 *   k across slices — maps to the LPS position of the voxel's centre as
 *
 *       p = origin + D · diag(spacing) · (i, j, k)ᵀ
 *
 *   where D is the 3×3 direction matrix stored row-major in direction[9]; column c of D is
 *   the unit LPS vector of index axis c:
 *     column 0 = ImageOrientationPatient[0..2]  (row direction cosines),
 *     column 1 = ImageOrientationPatient[3..5]  (column direction cosines),
 *     column 2 = the unit vector along which slice positions increase, as sorted
 *                (± the slice normal row × column; it may differ from the normal for tilted
 *                gantry acquisitions only if the loader decides so and says so).
 *   origin is the LPS centre of voxel (0, 0, 0), i.e. the ImagePositionPatient of the first
 *   sorted slice. spacing is (PixelSpacing[1] column spacing, PixelSpacing[0] row spacing,
 *   distance between sorted slice centres).
 *
 *   Voxels are float32 after the modality rescale (value = stored · slope + intercept),
 *   x fastest: voxels[((t·nz + k)·ny + j)·nx + i]. dims[3] (nt) is 1 for a single volume and
 *   the number of repeated stacks (time points, diffusion directions, echoes) otherwise.
 *
 * A CuVolume whose voxels pointer is NULL describes geometry only (what `show` prints
 * without decoding any pixels).
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum
{
  CU_PIXEL_UNKNOWN = 0,
  CU_PIXEL_UINT8,
  CU_PIXEL_INT8,
  CU_PIXEL_UINT16,
  CU_PIXEL_INT16,
  CU_PIXEL_UINT32,
  CU_PIXEL_INT32,
  CU_PIXEL_FLOAT32,
  CU_PIXEL_FLOAT64,
} CuPixelType;

typedef struct _CuVolume CuVolume;

struct _CuVolume
{
  /*< public, read-only after construction >*/
  int dims[4];          /* nx, ny, nz, nt */
  double spacing[3];    /* mm: i, j, k */
  double origin[3];     /* LPS mm of the centre of voxel (0,0,0) */
  double direction[9];  /* row-major 3×3; column c = unit LPS vector of index axis c */
  float *voxels;        /* rescaled values, NULL for geometry-only volumes */

  CuPixelType stored_type;  /* pixel type in the DICOM files before rescale */
  int bits_stored;
  gboolean rescaled;        /* a slope ≠ 1 or intercept ≠ 0 was applied */

  char *modality;           /* "CT", "MR", … or NULL */
  char *series_uid;         /* SeriesInstanceUID or NULL */

  /*< private >*/
  gatomicrefcount ref_count;
};

#define CU_TYPE_VOLUME (cu_volume_get_type ())
GType        cu_volume_get_type       (void) G_GNUC_CONST;

/* New volume with zeroed voxels (or no voxels if allocate is FALSE), identity direction,
 * unit spacing, zero origin. Returns NULL with error set if the size is absurd or out of memory. */
CuVolume    *cu_volume_new            (int nx, int ny, int nz, int nt, gboolean allocate, GError **error);
CuVolume    *cu_volume_ref            (CuVolume *self);
void         cu_volume_unref          (CuVolume *self);
/* Deep copy of geometry; voxels copied when copy_voxels, else NULL. */
CuVolume    *cu_volume_copy           (const CuVolume *self, gboolean copy_voxels);

gsize        cu_volume_n_voxels_3d    (const CuVolume *self);   /* nx·ny·nz */
float       *cu_volume_frame          (const CuVolume *self, int t);  /* start of volume t */

void         cu_volume_index_to_lps   (const CuVolume *self, const double ijk[3], double lps[3]);
void         cu_volume_lps_to_index   (const CuVolume *self, const double lps[3], double ijk[3]);

/* Value at integer voxel (t = 0 for 3D); returns FALSE if outside the volume. */
gboolean     cu_volume_get_voxel      (const CuVolume *self, int i, int j, int k, int t, float *value);
/* Min and max over all finite voxels (NaN and ±Inf ignored; 0, 0 if there is none). */
void         cu_volume_get_range      (const CuVolume *self, float *min, float *max);
/* Value at the given percentile (0–100) of a histogram of the finite voxels of volume t
 * (approximate, 4096 bins). */
float        cu_volume_percentile     (const CuVolume *self, int t, double percentile);

/* Patient-orientation letters of index axis c ("L", "PS", …): the dominant LPS components of
 * its direction, in decreasing magnitude, in the positive direction of the axis. Caller frees. */
char        *cu_volume_axis_label     (const CuVolume *self, int axis, gboolean negative);

/* Unit slice normal: column 0 × column 1 of the direction matrix. */
void         cu_volume_get_normal     (const CuVolume *self, double normal[3]);

const char  *cu_pixel_type_to_string  (CuPixelType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuVolume, cu_volume_unref)

G_END_DECLS

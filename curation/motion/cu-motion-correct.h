/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-motion-correct.h — motion correction of a multi-volume (4D) series.
 *
 * Every volume (time point, diffusion direction, repeat) is registered rigidly to a
 * reference volume of the same series and resampled onto the reference grid. The motion
 * table gives, per volume, the transform from the reference to that volume (translations in
 * mm, rotations in degrees about the centre of the volume), the framewise displacement
 * (Power et al. 2012) and the mean displacement from the reference over the volume.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-progress.h"
#include "cu-resample.h"
#include "cu-rigid-registration.h"

G_BEGIN_DECLS

typedef struct
{
  CuRigidOptions rigid;
  int reference;                  /* 0-based volume index */
  double threshold_mm;            /* volumes whose framewise displacement exceeds it are flagged */
  CuInterpolation interpolation;  /* of the corrected output */
} CuMotionOptions;

/* Defaults: NCC, reference 0, threshold 0.5 mm (Power et al.), cubic B-spline output. */
void cu_motion_options_init (CuMotionOptions *options);

typedef struct
{
  int volume;                 /* 0-based */
  CuRigidTransform transform; /* reference LPS → this volume's LPS */
  double translation_mm[3];
  double rotation_deg[3];
  double fd_mm;               /* framewise displacement from the previous volume (0 for the first) */
  double displacement_mm;     /* mean displacement from the reference over the volume */
  gboolean over_threshold;
  int iterations;
} CuMotionRow;

/* Corrected copy of series (same grid and nt); *rows receives a GArray of CuMotionRow, one per
 * volume. Fails for a single-volume series, a bad reference index, or when cancelled. */
CuVolume  *cu_motion_correct         (const CuVolume         *series,
                                      const CuMotionOptions  *options,
                                      GArray                **rows,
                                      CuProgress             *progress,
                                      GCancellable           *cancellable,
                                      GError                **error);

/* The table and options as JSON: {"reference":…, "threshold_mm":…, "metric":…,
 * "volumes":[{"volume":1, "translation_mm":[…], "rotation_deg":[…], "fd_mm":…,
 * "displacement_mm":…, "over_threshold":…}, …], "flagged":[volume numbers, 1-based],
 * "max_fd_mm":…, "mean_fd_mm":…}. Volume numbers are 1-based, as people count. */
JsonNode  *cu_motion_table_to_json   (GArray *rows, const CuMotionOptions *options);
/* Number of rows over the threshold. */
guint      cu_motion_table_n_flagged (GArray *rows);

/* A rigid transform as JSON: {"angles_deg":[…], "translation_mm":[…], "center_lps":[…],
 * "matrix":[12 values, row-major, fixed LPS → moving LPS]}. */
JsonNode  *cu_rigid_transform_to_json (const CuRigidTransform *transform);

G_END_DECLS

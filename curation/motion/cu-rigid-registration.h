/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-registration.h — multi-resolution rigid registration of two volumes.
 *
 * Finds the rigid transform T (cu-rigid-transform.h) such that moving(T(x)) matches fixed(x)
 * for the voxels x of the fixed volume, in patient space (LPS mm): spacing, origin and
 * direction cosines of both volumes are used, so anisotropic, oblique and differently sized
 * grids register directly. The identity is the starting point: series of one study share
 * a frame of reference, so they start close.
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-rigid-metric.h"
#include "cu-rigid-transform.h"
#include "cu-volume.h"

G_BEGIN_DECLS

#define CU_MOTION_ERROR (cu_motion_error_quark ())

typedef enum
{
  CU_MOTION_ERROR_INVALID,     /* unusable input (no voxels, no overlap, bad reference) */
  CU_MOTION_ERROR_NO_OVERLAP,  /* the images do not overlap at the start or drifted apart */
} CuMotionError;

GQuark cu_motion_error_quark (void);

typedef struct
{
  CuRigidMetricType metric;
  int n_levels;          /* pyramid levels: voxels 2^(n−1) … 1 × the finest fixed spacing */
  guint n_samples;       /* fixed voxels sampled per level (0 = all) */
  guint bins;            /* histogram bins for mutual information */
  double min_step_mm;    /* precision at which the finest level stops (mm of displacement) */
  int max_iterations;    /* per level */
  guint n_threads;       /* 0 = every core */
} CuRigidOptions;

/* Defaults: 3 levels, 250 000 samples, 32 bins, 0.002 mm, 300 iterations. */
void      cu_rigid_options_init (CuRigidOptions *options, CuRigidMetricType metric);

typedef struct
{
  CuRigidTransform transform;  /* fixed LPS → moving LPS */
  double cost;                 /* final cost of the finest level */
  int iterations;              /* summed over levels */
} CuRigidResult;

/* A registration to one fixed volume (time point fixed_t), whose pyramid is built once and
 * reused for every moving volume (motion correction registers many to one). */
typedef struct _CuRigidRegistration CuRigidRegistration;

CuRigidRegistration *cu_rigid_registration_new  (const CuVolume       *fixed,
                                                 int                   fixed_t,
                                                 const CuRigidOptions *options,
                                                 GCancellable         *cancellable,
                                                 GError              **error);
void                 cu_rigid_registration_free (CuRigidRegistration *self);
/* Register time point moving_t of moving; initial may be NULL (identity about the fixed
 * centre). progress (may be NULL) goes from 0 to 1 over the levels. */
gboolean             cu_rigid_registration_run  (CuRigidRegistration    *self,
                                                 const CuVolume         *moving,
                                                 int                     moving_t,
                                                 const CuRigidTransform *initial,
                                                 CuRigidResult          *result,
                                                 CuProgress             *progress,
                                                 GCancellable           *cancellable,
                                                 GError                **error);

/* One-shot convenience: new + run + free. */
gboolean  cu_rigid_register (const CuVolume       *fixed,
                             int                   fixed_t,
                             const CuVolume       *moving,
                             int                   moving_t,
                             const CuRigidOptions *options,
                             CuRigidResult        *result,
                             CuProgress           *progress,
                             GCancellable         *cancellable,
                             GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuRigidRegistration, cu_rigid_registration_free)

G_END_DECLS

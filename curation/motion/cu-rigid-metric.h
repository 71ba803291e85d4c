/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-metric.h — similarity of a fixed and a moving image under a rigid transform, with
 * its analytic gradient with respect to the six parameters.
 */
#pragma once

#include <gio/gio.h>

#include "cu-rigid-transform.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_RIGID_METRIC_MEAN_SQUARES,  /* same contrast, same intensity scale */
  CU_RIGID_METRIC_NCC,           /* same contrast, intensities related linearly */
  CU_RIGID_METRIC_MATTES_MI,     /* different contrasts (ADC ↔ T2) */
  CU_RIGID_METRIC_AUTO,          /* chosen from the two series (cu_motion_choose_metric);
                                    never handed to cu_rigid_metric_new */
} CuRigidMetricType;

/* "ms", "ncc", "mi", "auto" ⇄ the enum; FALSE for an unknown name. */
gboolean     cu_rigid_metric_type_from_string (const char *name, CuRigidMetricType *type);
const char  *cu_rigid_metric_type_to_string   (CuRigidMetricType type);

typedef struct _CuRigidMetric CuRigidMetric;

/* A metric evaluating moving (3D) against fixed (3D) at n_samples voxel centres of fixed
 * drawn at random with the given seed (0 or ≥ the number of voxels: every voxel). bins is
 * the histogram size of mutual information (ignored by the others). Both volumes are
 * borrowed and must outlive the metric. */
CuRigidMetric *cu_rigid_metric_new      (CuRigidMetricType type,
                                         const CuVolume   *fixed,
                                         const CuVolume   *moving,
                                         guint             n_samples,
                                         guint             bins,
                                         guint32           seed,
                                         guint             n_threads);
void           cu_rigid_metric_free     (CuRigidMetric *self);
/* Keep only the samples that transform maps at least margin (mm) inside the moving image
 * (axes too short for the margin keep theirs). Samples that leave the moving image during the
 * optimisation change the cost by a jump — for mutual information the mass of the background
 * bins, for mean squares and NCC the number averaged over — which no gradient sees and which
 * pulls the optimum towards the overlap that suits the background; with a margin wider than
 * the motion still to come, the set of samples stays the same and the cost smooth. Keeps
 * every sample when fewer than min_kept would remain. Returns the number of samples kept. */
guint          cu_rigid_metric_restrict  (CuRigidMetric          *self,
                                          const CuRigidTransform *transform,
                                          double                  margin,
                                          guint                   min_kept);
/* Interpolate the moving image with cubic B-splines instead of trilinearly (slower; removes
 * most of the interpolation bias at the finest level). FALSE when out of memory. */
gboolean       cu_rigid_metric_set_cubic (CuRigidMetric *self, gboolean cubic);
/* Cost (lower is better: mean squares, −NCC, −MI) at transform; gradient (may be NULL)
 * receives ∂cost/∂(α, β, γ, tx, ty, tz); hessian (may be NULL; only with a gradient) a 6 × 6
 * Gauss–Newton approximation of the second derivatives — for mean squares and NCC in scale,
 * for mutual information only in shape (see cu_rigid_metric_hessian_is_scaled). *n_valid
 * (may be NULL) receives the number of samples that fell inside the moving image; with too
 * few of them the cost is +∞. */
double         cu_rigid_metric_evaluate (CuRigidMetric          *self,
                                         const CuRigidTransform *transform,
                                         double                  gradient[6],
                                         double                  hessian[36],
                                         guint                  *n_valid);
/* TRUE when the hessian of cu_rigid_metric_evaluate has the cost's scale. */
gboolean       cu_rigid_metric_hessian_is_scaled (const CuRigidMetric *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuRigidMetric, cu_rigid_metric_free)

G_END_DECLS

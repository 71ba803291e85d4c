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
} CuRigidMetricType;

/* "ms", "ncc", "mi" ⇄ the enum; FALSE for an unknown name. */
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
/* Interpolate the moving image with cubic B-splines instead of trilinearly (slower; removes
 * most of the interpolation bias at the finest level). FALSE when out of memory. */
gboolean       cu_rigid_metric_set_cubic (CuRigidMetric *self, gboolean cubic);
/* Cost (lower is better: mean squares, −NCC, −MI) at transform; gradient (may be NULL)
 * receives ∂cost/∂(α, β, γ, tx, ty, tz). *n_valid (may be NULL) receives the number of samples
 * that fell inside the moving image; with too few of them the cost is +∞. */
double         cu_rigid_metric_evaluate (CuRigidMetric          *self,
                                         const CuRigidTransform *transform,
                                         double                  gradient[6],
                                         guint                  *n_valid);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuRigidMetric, cu_rigid_metric_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-registration.c — multi-resolution rigid registration: Gaussian pyramids
 * (cu-rigid-pyramid.c), a similarity metric on a random subset of fixed voxels with analytic
 * gradient (cu-rigid-metric.c: mean squares, NCC, Mattes et al. 2003 mutual information) and
 * regular-step gradient descent (cu-rigid-optimizer.c).
 *
 * The coarse-to-fine scheme is that of Thévenaz & Unser (IEEE Trans. Image Process.
 * 9(12):2083–2099, 2000, doi:10.1109/83.887976) and of elastix (Klein et al., IEEE TMI
 * 29(1):196–205, 2010): the result of each level starts the next one.
 *
 * Parameter scaling: the optimiser works on (α·r, β·r, γ·r, tx, ty, tz) where r is the RMS
 * distance of the fixed voxels from the centre of rotation, so a unit step of any parameter
 * moves the voxels by about 1 mm on average. Without it a rotation of 1 rad (tens of mm at
 * the edge of the volume) and a translation of 1 mm would be steps of the same size.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-resample.h"
#include "cu-rigid-optimizer.h"
#include "cu-rigid-pyramid.h"
#include "cu-rigid-registration.h"

G_DEFINE_QUARK (cu-motion-error-quark, cu_motion_error)

#define MAX_LEVELS 6

struct _CuRigidRegistration
{
  CuRigidOptions options;
  int n_levels;
  double factors[MAX_LEVELS];       /* voxel size of each level / finest fixed spacing */
  CuVolume *fixed_levels[MAX_LEVELS];
  double fixed_min_spacing;
  double center[3];
  double radius;                    /* RMS distance from the centre, mm */
};

void
cu_rigid_options_init (CuRigidOptions *o, CuRigidMetricType metric)
{
  o->metric = metric;
  o->n_levels = 3;
  o->n_samples = 250000;
  o->bins = 32;
  o->min_step_mm = 0.002;
  o->max_iterations = 300;
  o->n_threads = 0;
}

void
cu_rigid_registration_free (CuRigidRegistration *self)
{
  if (self == NULL)
    return;
  for (int l = 0; l < MAX_LEVELS; l++)
    if (self->fixed_levels[l] != NULL)
      cu_volume_unref (self->fixed_levels[l]);
  g_free (self);
}

static gboolean
check_volume (const CuVolume *v, int t, const char *what, GError **error)
{
  if (v == NULL || v->voxels == NULL || t < 0 || t >= v->dims[3])
    {
      g_set_error (error, CU_MOTION_ERROR, CU_MOTION_ERROR_INVALID,
                   _("The %s image has no voxels or no time point %d"), what, t + 1);
      return FALSE;
    }
  for (int c = 0; c < 3; c++)
    if (!(v->spacing[c] > 0) || !isfinite (v->spacing[c]))
      {
        g_set_error (error, CU_MOTION_ERROR, CU_MOTION_ERROR_INVALID,
                     _("The %s image has an invalid voxel spacing"), what);
        return FALSE;
      }
  return TRUE;
}

CuRigidRegistration *
cu_rigid_registration_new (const CuVolume *fixed, int fixed_t, const CuRigidOptions *options,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (CuRigidRegistration) self = NULL;
  double extent2 = 0.0;

  if (!check_volume (fixed, fixed_t, _("fixed"), error))
    return NULL;
  self = g_new0 (CuRigidRegistration, 1);
  if (options != NULL)
    self->options = *options;
  else
    cu_rigid_options_init (&self->options, CU_RIGID_METRIC_MATTES_MI);
  /* Without the series to choose from, the metric that suits any pair of contrasts. */
  if (self->options.metric == CU_RIGID_METRIC_AUTO)
    self->options.metric = CU_RIGID_METRIC_MATTES_MI;
  if (self->options.n_threads == 0)
    self->options.n_threads = cu_resample_default_threads ();
  self->n_levels = CLAMP (self->options.n_levels, 1, MAX_LEVELS);
  self->fixed_min_spacing = MIN (fixed->spacing[0], MIN (fixed->spacing[1], fixed->spacing[2]));
  cu_volume_get_center (fixed, self->center);
  for (int c = 0; c < 3; c++)
    {
      double e = fixed->dims[c] * fixed->spacing[c];
      extent2 += e * e;
    }
  self->radius = MAX (1.0, sqrt (extent2 / 12.0));

  for (int l = 0; l < self->n_levels; l++)
    {
      self->factors[l] = ldexp (1.0, self->n_levels - 1 - l);
      self->fixed_levels[l] = cu_rigid_pyramid_level (fixed, fixed_t, self->factors[l],
                                                      cancellable, error);
      if (self->fixed_levels[l] == NULL)
        return NULL;
    }
  return g_steal_pointer (&self);
}

typedef struct
{
  CuRigidMetric *metric;
  CuRigidTransform *transform;
  double radius;
  CuProgress *progress;
  GCancellable *cancellable;
  double progress_base, progress_span, log_max_step, log_range;
} LevelData;

static void
unscale (const LevelData *d, const double *u, CuRigidTransform *t)
{
  for (int k = 0; k < 3; k++)
    {
      t->angles[k] = u[k] / d->radius;
      t->translation[k] = u[3 + k];
    }
}

static double
level_cost (const double *u, double *gradient, double *hessian, gpointer user_data)
{
  LevelData *d = user_data;
  CuRigidTransform t = *d->transform;
  double g[6], h[36], s[6];
  double cost;

  unscale (d, u, &t);
  cost = cu_rigid_metric_evaluate (d->metric, &t, g, h, NULL);
  /* u = D μ with D = diag(r, r, r, 1, 1, 1): ∂/∂u = D⁻¹ ∂/∂μ, H_u = D⁻¹ H D⁻¹. */
  for (int k = 0; k < 6; k++)
    s[k] = k < 3 ? 1.0 / d->radius : 1.0;
  for (int k = 0; k < 6; k++)
    {
      gradient[k] = g[k] * s[k];
      for (int j = 0; j < 6; j++)
        hessian[k * 6 + j] = h[k * 6 + j] * s[k] * s[j];
    }
  return cost;
}

static gboolean
level_iteration (int iteration, double cost, double step, gpointer user_data)
{
  LevelData *d = user_data;
  double within = d->log_range > 0 ? (d->log_max_step - log (step)) / d->log_range : 1.0;

  cu_progress_report (d->progress, d->progress_base + d->progress_span * CLAMP (within, 0.0, 1.0),
                      NULL);
  return !g_cancellable_is_cancelled (d->cancellable);
}

gboolean
cu_rigid_registration_run (CuRigidRegistration *self, const CuVolume *moving, int moving_t,
                           const CuRigidTransform *initial, CuRigidResult *result,
                           CuProgress *progress, GCancellable *cancellable, GError **error)
{
  CuRigidTransform t;
  double moving_min_spacing;
  int total_iterations = 0;
  double cost = INFINITY;

  g_return_val_if_fail (self != NULL && result != NULL, FALSE);
  if (!check_volume (moving, moving_t, _("moving"), error))
    return FALSE;
  moving_min_spacing = MIN (moving->spacing[0], MIN (moving->spacing[1], moving->spacing[2]));

  if (initial != NULL)
    {
      t = *initial;
      cu_rigid_transform_set_center (&t, self->center);
    }
  else
    cu_rigid_transform_init (&t, self->center);

  for (int l = 0; l < self->n_levels; l++)
    {
      g_autoptr (CuVolume) moving_level = NULL;
      g_autoptr (CuRigidMetric) metric = NULL;
      double voxel = self->fixed_min_spacing * self->factors[l];
      gboolean last = l == self->n_levels - 1;
      CuLmOptions o;
      LevelData d = { 0 };
      double u[6];
      int iterations = 0;
      CuLmStatus status;

      moving_level = cu_rigid_pyramid_level (moving, moving_t, voxel / moving_min_spacing,
                                             cancellable, error);
      if (moving_level == NULL)
        return FALSE;
      metric = cu_rigid_metric_new (self->options.metric, self->fixed_levels[l], moving_level,
                                    self->options.n_samples, self->options.bins,
                                    0x5eed + (guint32) l, self->options.n_threads);
      /* From the second level on the transform is known to within about a voxel of the
       * level: samples that could leave the moving image on the way are left out, so the
       * cost stays smooth (cu_rigid_metric_restrict). The first level keeps them all for its
       * capture range. */
      if (l > 0)
        cu_rigid_metric_restrict (metric, &t, 1.5 * voxel, 2000);
      if (last && !cu_rigid_metric_set_cubic (metric, TRUE))
        {
          g_set_error (error, CU_MOTION_ERROR, CU_MOTION_ERROR_INVALID,
                       _("Not enough memory to register the images"));
          return FALSE;
        }

      o.max_step = voxel * (l == 0 ? 2.0 : 0.5);
      o.min_step = last ? self->options.min_step_mm : voxel / 16.0;
      o.scale = cu_rigid_metric_hessian_is_scaled (metric) ? 1.0 : 0.0;
      o.max_iterations = self->options.max_iterations;

      d.metric = metric;
      d.transform = &t;
      d.radius = self->radius;
      d.progress = progress;
      d.cancellable = cancellable;
      d.progress_base = (double) l / self->n_levels;
      d.progress_span = 1.0 / self->n_levels;
      d.log_max_step = log (o.max_step);
      d.log_range = log (o.max_step / o.min_step);
      for (int k = 0; k < 3; k++)
        {
          u[k] = t.angles[k] * self->radius;
          u[3 + k] = t.translation[k];
        }
      status = cu_lm_minimize (&o, 6, u, level_cost, level_iteration, &d, &iterations, &cost);
      total_iterations += iterations;
      g_debug ("rigid level %d: %d×%d×%d voxels of %.2f mm, %d iterations, cost %g, status %d", l,
               self->fixed_levels[l]->dims[0], self->fixed_levels[l]->dims[1],
               self->fixed_levels[l]->dims[2], voxel, iterations, cost, status);
      if (status == CU_LM_STOPPED || g_cancellable_is_cancelled (cancellable))
        {
          g_cancellable_set_error_if_cancelled (cancellable, error);
          return FALSE;
        }
      if (status == CU_LM_INVALID)
        {
          g_set_error (error, CU_MOTION_ERROR, CU_MOTION_ERROR_NO_OVERLAP,
                       _("The images do not overlap enough to be registered"));
          return FALSE;
        }
      unscale (&d, u, &t);
    }

  result->transform = t;
  result->cost = cost;
  result->iterations = total_iterations;
  cu_progress_report (progress, 1.0, NULL);
  return TRUE;
}

gboolean
cu_rigid_register (const CuVolume *fixed, int fixed_t, const CuVolume *moving, int moving_t,
                   const CuRigidOptions *options, CuRigidResult *result, CuProgress *progress,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr (CuRigidRegistration) reg = cu_rigid_registration_new (fixed, fixed_t, options,
                                                                    cancellable, error);

  if (reg == NULL)
    return FALSE;
  return cu_rigid_registration_run (reg, moving, moving_t, NULL, result, progress, cancellable,
                                    error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-optimizer.c — regular-step gradient descent.
 *
 * The method of ITK's RegularStepGradientDescentOptimizer (Ibáñez et al., The ITK Software
 * Guide, 2005, §8.11): move a fixed distance along the normalised negative gradient; when the
 * new gradient points back (negative scalar product with the previous one) the minimum was
 * overshot, so the step is relaxed. The step length is in the (scaled) parameter units, so
 * with parameters expressed in millimetres of displacement the stopping step is directly a
 * precision in mm. It needs no line search and no cost values, which makes it robust to the
 * noise of a cost estimated on a subset of voxels. A step that raises the cost is also taken
 * as an overshoot, and the previous point is kept.
 */
#include "config.h"

#include <math.h>

#include "cu-rigid-optimizer.h"

CuRsgdStatus
cu_rsgd_minimize (const CuRsgdOptions *o, int n, double *x, CuCostFunc cost,
                  CuIterationFunc iteration, gpointer user_data, int *iterations,
                  double *final_cost)
{
  double g[16], g_prev[16], x_new[16], g_new[16];
  double step = o->max_step, value, norm;
  int it = 0;
  CuRsgdStatus status = CU_RSGD_MAX_ITERATIONS;

  g_return_val_if_fail (n > 0 && n <= 16, CU_RSGD_INVALID);

  value = cost (x, g, user_data);
  if (!isfinite (value))
    {
      if (final_cost != NULL)
        *final_cost = value;
      if (iterations != NULL)
        *iterations = 0;
      return CU_RSGD_INVALID;
    }
  for (int i = 0; i < n; i++)
    g_prev[i] = g[i];

  while (it < o->max_iterations)
    {
      double new_value, dot = 0.0;

      norm = 0.0;
      for (int i = 0; i < n; i++)
        norm += g[i] * g[i];
      norm = sqrt (norm);
      if (norm < o->gradient_tolerance)
        {
          status = CU_RSGD_CONVERGED;
          break;
        }
      for (int i = 0; i < n; i++)
        x_new[i] = x[i] - step * g[i] / norm;
      new_value = cost (x_new, g_new, user_data);
      it++;
      for (int i = 0; i < n; i++)
        dot += g_new[i] * g[i];

      if (!isfinite (new_value) || new_value > value + 1e-12 * fabs (value))
        {
          /* Worse: stay, shorten the step. */
          step *= o->relaxation;
        }
      else
        {
          if (dot < 0)
            step *= o->relaxation;
          for (int i = 0; i < n; i++)
            {
              x[i] = x_new[i];
              g_prev[i] = g[i];
              g[i] = g_new[i];
            }
          value = new_value;
        }
      if (iteration != NULL && !iteration (it, value, step, user_data))
        {
          status = CU_RSGD_STOPPED;
          break;
        }
      if (step < o->min_step)
        {
          status = CU_RSGD_CONVERGED;
          break;
        }
    }
  (void) g_prev;
  if (iterations != NULL)
    *iterations = it;
  if (final_cost != NULL)
    *final_cost = value;
  return status;
}

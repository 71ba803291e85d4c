/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-optimizer.h — regular-step gradient descent for a small number of parameters.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Cost at x (n values); gradient receives ∂cost/∂x. Return +∞ for an invalid point. */
typedef double (*CuCostFunc) (const double *x, double *gradient, gpointer user_data);
/* Called after every iteration; return FALSE to stop (cancellation). */
typedef gboolean (*CuIterationFunc) (int iteration, double cost, double step, gpointer user_data);

typedef struct
{
  double max_step;            /* first step length, in units of x */
  double min_step;            /* converged when the step has been relaxed below this */
  double relaxation;          /* step factor when the gradient turns back (0.5) */
  double gradient_tolerance;  /* converged when |gradient| falls below this */
  int max_iterations;
} CuRsgdOptions;

typedef enum
{
  CU_RSGD_CONVERGED,
  CU_RSGD_MAX_ITERATIONS,
  CU_RSGD_STOPPED,            /* iteration callback returned FALSE */
  CU_RSGD_INVALID,            /* the cost was not finite at the start */
} CuRsgdStatus;

/* Minimise cost over x (updated in place, n ≤ 16); *iterations and *final_cost may be NULL. */
CuRsgdStatus cu_rsgd_minimize (const CuRsgdOptions *options,
                               int                  n,
                               double              *x,
                               CuCostFunc           cost,
                               CuIterationFunc      iteration,
                               gpointer             user_data,
                               int                 *iterations,
                               double              *final_cost);

G_END_DECLS

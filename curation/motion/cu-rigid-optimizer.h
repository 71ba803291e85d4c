/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-optimizer.h — Levenberg–Marquardt / trust-region minimisation of a cost whose
 * gradient and an approximate (Gauss–Newton) Hessian are known, for a few parameters.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CU_LM_MAX_PARAMETERS 8

/* Cost at x (n values); gradient receives ∂cost/∂x and hessian (n × n, row-major) a positive
 * semi-definite approximation of ∂²cost/∂x². Return +∞ for an invalid point. */
typedef double (*CuCostFunc) (const double *x, double *gradient, double *hessian,
                              gpointer user_data);
/* Called after every evaluation; return FALSE to stop (cancellation). step is the length of
 * the last proposed step. */
typedef gboolean (*CuIterationFunc) (int iteration, double cost, double step, gpointer user_data);

typedef struct
{
  double max_step;      /* longest step, in units of x (keeps coarse levels in their basin) */
  double min_step;      /* converged when a step shorter than this is taken or refused */
  double scale;         /* the Hessian's scale: 1 when the hessian is a true Gauss–Newton
                           matrix; 0 when only its shape is right (then learnt from the
                           first step, which is made max_step long) */
  int max_iterations;   /* cost evaluations */
} CuLmOptions;

typedef enum
{
  CU_LM_CONVERGED,
  CU_LM_MAX_ITERATIONS,
  CU_LM_STOPPED,        /* iteration callback returned FALSE */
  CU_LM_INVALID,        /* the cost was not finite at the start */
} CuLmStatus;

/* Minimise cost over x (updated in place, n ≤ CU_LM_MAX_PARAMETERS); *iterations and
 * *final_cost may be NULL. */
CuLmStatus cu_lm_minimize (const CuLmOptions *options,
                           int                n,
                           double            *x,
                           CuCostFunc         cost,
                           CuIterationFunc    iteration,
                           gpointer           user_data,
                           int               *iterations,
                           double            *final_cost);

G_END_DECLS

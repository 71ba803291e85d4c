/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-rigid-optimizer.c — Levenberg–Marquardt minimisation with a supplied Gauss–Newton
 * Hessian (K. Levenberg, Q. Appl. Math. 2:164–168, 1944; D. W. Marquardt, J. SIAM
 * 11(2):431–441, 1963, doi:10.1137/0111030), in the trust-region form of J. Nocedal &
 * S. J. Wright, Numerical Optimization, 2nd ed., Springer 2006, §4.1 and §10.3: the model
 * m(d) = f + gᵀd + ½ κ dᵀHd is minimised by d = −H⁻¹g / κ; the ratio of the actual to the
 * predicted decrease adapts κ (smaller steps after a poor prediction, larger after a good one)
 * and a step that does not lower the cost is refused.
 *
 * Why not regular-step gradient descent (ITK's RegularStepGradientDescentOptimizer, used here
 * before): it halves its step at every change of direction, so in the narrow valleys that
 * rotation and translation make together it stops at its minimum step well before the
 * minimum — 0.03–0.09 mm short on the bench phantom after 10 iterations per coarse level. The
 * Gauss–Newton step goes across such a valley and along it at once; on the mean squares and
 * NCC costs it converges quadratically, in a handful of evaluations per level.
 *
 * The Hessian is regularised by 10⁻⁹ of its largest diagonal element so that a parameter the
 * images cannot see (a rotation about the axis of a single slice) gets no step rather than an
 * infinite one.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cu-rigid-optimizer.h"

/* Solve (H + reg I) d = −g / kappa by Cholesky; FALSE when H is not positive definite even
 * with the regularisation. */
static gboolean
newton_step (int n, const double *h, const double *g, double kappa, double *d)
{
  double l[CU_LM_MAX_PARAMETERS * CU_LM_MAX_PARAMETERS], y[CU_LM_MAX_PARAMETERS];
  double max_diag = 0.0, reg;

  for (int i = 0; i < n; i++)
    max_diag = MAX (max_diag, h[i * n + i]);
  if (!(max_diag > 0) || !isfinite (max_diag))
    return FALSE;
  reg = 1e-9 * max_diag;
  for (int i = 0; i < n; i++)
    for (int j = 0; j <= i; j++)
      {
        double s = h[i * n + j] + (i == j ? reg : 0.0);
        for (int k = 0; k < j; k++)
          s -= l[i * n + k] * l[j * n + k];
        if (i == j)
          {
            if (!(s > 0))
              return FALSE;
            l[i * n + i] = sqrt (s);
          }
        else
          l[i * n + j] = s / l[j * n + j];
      }
  for (int i = 0; i < n; i++)
    {
      double s = -g[i] / kappa;
      for (int k = 0; k < i; k++)
        s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
  for (int i = n - 1; i >= 0; i--)
    {
      double s = y[i];
      for (int k = i + 1; k < n; k++)
        s -= l[k * n + i] * d[k];
      d[i] = s / l[i * n + i];
    }
  return TRUE;
}

static double
norm (int n, const double *v)
{
  double s = 0.0;
  for (int i = 0; i < n; i++)
    s += v[i] * v[i];
  return sqrt (s);
}

CuLmStatus
cu_lm_minimize (const CuLmOptions *o, int n, double *x, CuCostFunc cost,
                CuIterationFunc iteration, gpointer user_data, int *iterations,
                double *final_cost)
{
  double g[CU_LM_MAX_PARAMETERS], h[CU_LM_MAX_PARAMETERS * CU_LM_MAX_PARAMETERS];
  double g_new[CU_LM_MAX_PARAMETERS], h_new[CU_LM_MAX_PARAMETERS * CU_LM_MAX_PARAMETERS];
  double x_new[CU_LM_MAX_PARAMETERS], d[CU_LM_MAX_PARAMETERS];
  double value, kappa = o->scale;
  double kappa_floor = o->scale > 0 ? o->scale : 0.0;
  int it = 0;
  CuLmStatus status = CU_LM_MAX_ITERATIONS;

  g_return_val_if_fail (n > 0 && n <= CU_LM_MAX_PARAMETERS, CU_LM_INVALID);

  value = cost (x, g, h, user_data);
  it++;
  if (!isfinite (value))
    {
      if (final_cost != NULL)
        *final_cost = value;
      if (iterations != NULL)
        *iterations = it;
      return CU_LM_INVALID;
    }

  while (it < o->max_iterations)
    {
      double length, predicted, new_value, hd = 0.0, gd = 0.0;

      if (!newton_step (n, h, g, 1.0, d))
        {
          /* No curvature information: a gradient step of max_step. */
          double gn = norm (n, g);
          if (!(gn > 0))
            {
              status = CU_LM_CONVERGED;
              break;
            }
          for (int i = 0; i < n; i++)
            d[i] = -g[i] / gn * o->max_step;
          for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
              h[i * n + j] = i == j ? gn / o->max_step : 0.0;
          kappa = 1.0;
        }
      else
        {
          if (!(kappa > 0))
            {
              /* Only the shape of H is known: make the first step max_step long. */
              kappa = MAX (norm (n, d) / o->max_step, 1e-300);
              kappa_floor = 0.0;
            }
          for (int i = 0; i < n; i++)
            d[i] /= kappa;
        }
      length = norm (n, d);
      if (length > o->max_step)
        {
          for (int i = 0; i < n; i++)
            d[i] *= o->max_step / length;
          length = o->max_step;
        }
      for (int i = 0; i < n; i++)
        {
          double s = 0.0;
          for (int j = 0; j < n; j++)
            s += h[i * n + j] * d[j];
          hd += d[i] * s;
          gd += g[i] * d[i];
          x_new[i] = x[i] + d[i];
        }
      predicted = -(gd + 0.5 * kappa * hd);

      new_value = cost (x_new, g_new, h_new, user_data);
      it++;
      if (isfinite (new_value) && new_value <= value)
        {
          double rho = predicted > 0 ? (value - new_value) / predicted : 1.0;

          memcpy (x, x_new, n * sizeof (double));
          memcpy (g, g_new, n * sizeof (double));
          memcpy (h, h_new, (gsize) n * n * sizeof (double));
          value = new_value;
          if (rho < 0.25)
            kappa *= 2.0;
          else if (rho > 0.75)
            kappa = MAX (kappa * 0.5, kappa_floor);
        }
      else
        kappa *= 4.0;

      if (iteration != NULL && !iteration (it, value, length, user_data))
        {
          status = CU_LM_STOPPED;
          break;
        }
      if (length < o->min_step)
        {
          status = CU_LM_CONVERGED;
          break;
        }
    }
  if (iterations != NULL)
    *iterations = it;
  if (final_cost != NULL)
    *final_cost = value;
  return status;
}

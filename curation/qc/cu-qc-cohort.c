/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-cohort.c — robust z-scores for cohort outliers.
 *
 * Method: the modified z-score of B. Iglewicz and D. C. Hoaglin, "How to Detect and Handle
 * Outliers", ASQC Basic References in Quality Control vol. 16, 1993: M_i = 0.6745 (x_i − x̃) /
 * MAD, with x̃ the median and MAD the median absolute deviation; |M_i| > 3.5 is a potential
 * outlier. 0.6745 is the 0.75 quantile of the standard normal, so M_i is a z-score for normal
 * data, but one that a few bad series cannot inflate. A MAD of 0 (more than half the values
 * equal) falls back to the mean absolute deviation (IBM SPSS/ Iglewicz–Hoaglin convention,
 * 1.253314 = √(π/2)). Comparisons are made within one sequence type: a DWI and a T2W series
 * have nothing in common to compare.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include "cu-qc-cohort.h"

static int
compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
median_sorted (const double *v, guint n)
{
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void
cu_qc_robust_z (const double *values, guint n, double *z, double *median_out, double *mad_out)
{
  g_autofree double *v = g_new (double, MAX (n, 1));
  guint m = 0;
  double med, mad, mean_ad = 0;

  for (guint i = 0; i < n; i++)
    if (isfinite (values[i]))
      v[m++] = values[i];
  if (m == 0)
    {
      for (guint i = 0; i < n; i++)
        z[i] = NAN;
      if (median_out) *median_out = NAN;
      if (mad_out) *mad_out = NAN;
      return;
    }
  qsort (v, m, sizeof (double), compare_double);
  med = median_sorted (v, m);
  for (guint i = 0; i < m; i++)
    {
      v[i] = fabs (v[i] - med);
      mean_ad += v[i];
    }
  mean_ad /= m;
  qsort (v, m, sizeof (double), compare_double);
  mad = median_sorted (v, m);
  for (guint i = 0; i < n; i++)
    {
      if (!isfinite (values[i]))
        z[i] = NAN;
      else if (mad > 0)
        z[i] = 0.6745 * (values[i] - med) / mad;
      else if (mean_ad > 0)
        z[i] = (values[i] - med) / (1.253314 * mean_ad);
      else
        z[i] = 0;
    }
  if (median_out) *median_out = med;
  if (mad_out) *mad_out = mad;
}

void
cu_qc_outlier_free (CuQcOutlier *o)
{
  if (o == NULL)
    return;
  g_free (o->series_uid);
  g_free (o->sequence);
  g_free (o->scanner);
  g_free (o);
}

const char *const *
cu_qc_cohort_metrics (void)
{
  static const char *const names[] = {
    "MEAN", "RNG", "VAR", "CV", "CPP", "PSNR", "SNR1", "SNR2", "SNR3", "SNR4", "CNR", "CVP",
    "CJV", "EFC", "FBER", "CT_NOISE", NULL,
  };
  return names;
}

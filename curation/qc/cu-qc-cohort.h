/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-cohort.h — robust outliers of image quality metrics across a cohort.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Iglewicz and Hoaglin's cut-off for the modified z-score. */
#define CU_QC_OUTLIER_Z 3.5

/* Modified z-scores of n values: z_i = 0.6745 (x_i − median) / MAD; when MAD is 0, the mean
 * absolute deviation times 1.253314 replaces 0.6745⁻¹·MAD (z_i = (x_i − median) /
 * (1.253314 · MeanAD)); when that is 0 too, every z is 0. NaN values get NaN. median and mad
 * may be NULL. */
void      cu_qc_robust_z  (const double *values, guint n, double *z, double *median, double *mad);

typedef struct
{
  char *series_uid;
  char *sequence;    /* the group it was compared in */
  char *scanner;
  char metric[16];
  double value;
  double median;     /* of its group */
  double z;
} CuQcOutlier;

void      cu_qc_outlier_free (CuQcOutlier *outlier);

/* Metric names the cohort view compares (the MRQy set and CT noise). */
const char *const *cu_qc_cohort_metrics (void);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-metrics.h — foreground mask and image quality metrics of one volume.
 *
 * Metric names (CuQcMetric.name): MEAN, RNG, VAR, CV, CPP, PSNR, SNR1, SNR2, SNR3, SNR4, CNR,
 * CVP, CJV, EFC, FBER (MRQy), and CT_NOISE for CT. Definitions and references are in
 * cu-qc-metrics.c.
 */
#pragma once

#include "cu-qc-report.h"

G_BEGIN_DECLS

/* Foreground mask of volume t (nx·ny·nz bytes, 1 = foreground): Otsu threshold of the whole
 * volume's histogram, then per slice a 3×3 opening, a 3×3 closing and hole filling.
 * *threshold receives the Otsu threshold (may be NULL). */
guint8  *cu_qc_foreground_mask   (const CuVolume *volume, int t, double *threshold);
/* Otsu's threshold of n values (256-bin histogram between min and max, bin centre). */
double   cu_qc_otsu_threshold    (const float *values, gsize n);

/* The MRQy metrics on volume (t = 0) and mask; values appended to metrics (CuQcMetric). */
void     cu_qc_mrqy_metrics      (const CuVolume *volume, const guint8 *mask, GArray *metrics);
/* CT noise: the standard deviation (HU) in uniform soft-tissue regions, NaN if none found. */
double   cu_qc_ct_noise          (const CuVolume *volume, const guint8 *mask);

/* Compute mask and metrics of report->volume into report (mask, mask_threshold, metrics). */
void     cu_qc_compute_metrics   (CuQcReport *report);

G_END_DECLS

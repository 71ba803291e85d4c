/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-intensity-norm.h — intensity normalization of MR volumes within a foreground mask:
 * z-score and WhiteStripe (Nyúl–Udupa standardization is in cu-nyul.h).
 *
 * MR intensities have no physical unit: the same tissue has a different value on every
 * scanner, coil and session. These methods put each volume on a common scale so that a
 * cohort from several sites can be compared and learnt from. They are not for CT, whose
 * Hounsfield units are already standard (cu-hu-check.h checks them instead).
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

/* The values of the voxels of a 3D volume inside mask that are finite, sorted ascending.
 * Caller frees; *n receives their number. */
float    *cu_intensity_masked_sorted (const CuVolume *volume, const guint8 *mask, gsize *n);

/* Quantile q (0–1) of n sorted values by linear interpolation between order statistics
 * (Hyndman & Fan 1996 definition 7, the default of R's quantile and NumPy's percentile). */
double    cu_intensity_quantile       (const float *sorted, gsize n, double q);

/* Z-score: (x − μ) / σ over the whole volume, μ and σ (population standard deviation) of the
 * voxels in mask. mean and sd (may be NULL) receive μ and σ. Fails when the mask is empty or
 * σ is 0. */
CuVolume *cu_zscore_normalize         (const CuVolume *in,
                                       const guint8   *mask,
                                       double         *mean,
                                       double         *sd,
                                       GError        **error);

typedef enum
{
  CU_WHITESTRIPE_T1,   /* normal-appearing white matter is the last (brightest) tissue mode */
  CU_WHITESTRIPE_T2,   /* T2/FLAIR/PD: white matter is the largest mode */
} CuWhiteStripeContrast;

const char *cu_whitestripe_contrast_to_string   (CuWhiteStripeContrast c);   /* "t1", "t2" */
gboolean    cu_whitestripe_contrast_from_string (const char *s, CuWhiteStripeContrast *c);

typedef struct
{
  double mode;          /* the white-matter mode found in the smoothed histogram */
  double mode_quantile; /* share of foreground voxels below the mode */
  double lower, upper;  /* the stripe: foreground quantiles mode_quantile ∓ width */
  double mean, sd;      /* of the foreground voxels strictly inside the stripe */
  gsize n_stripe;       /* their number */
} CuWhiteStripeResult;

/* WhiteStripe (Shinohara et al. 2014): z-score with μ and σ of the normal-appearing white
 * matter "stripe" (foreground quantiles within ±width of the white-matter mode's). width is a
 * quantile half-width (0.05 in the paper). result (may be NULL) receives the stripe. */
CuVolume *cu_whitestripe_normalize    (const CuVolume        *in,
                                       const guint8          *mask,
                                       CuWhiteStripeContrast  contrast,
                                       double                 width,
                                       CuWhiteStripeResult   *result,
                                       GError               **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-ct-hu.c — is a CT in Hounsfield units? (cu-qc-ct-hu.h)
 *
 * CT is not normalized by harmonization: the Hounsfield scale (air −1000 HU, water 0 HU by
 * definition; ICRU Report 87, 2012, §2; AAPM Report 233, 2019, §3 on CT-number accuracy) is
 * already common to every scanner. What can go wrong is the file, not the physics: a rescale
 * intercept lost or doubled on the way (−1024 dropped, a vendor's offset applied twice), a
 * secondary capture re-encoded as unsigned, a slope that is not 1. Such a series still looks
 * right on screen with an automatic window, but a model trained on HU sees a different scale.
 *
 * The check finds the two largest tissue classes and compares their peaks with the scale:
 *  1. the constant fill outside the reconstruction circle (often −2048 or −3024 HU) is left
 *     out: the volume's minimum when it holds ≥ 1 % of the voxels and is isolated (fewer than
 *     a tenth as many voxels lie in the 200 HU above it), so that air clipped at −1024 is kept;
 *  2. Otsu's threshold (cu_qc_otsu_threshold) splits the rest into the low class (air around
 *     and inside the body) and the high class (soft tissue, water, bone);
 *  3. the peak of each class is the mode of a 10 HU histogram smoothed over 5 bins (50 HU),
 *     so noise and a few bone or metal voxels do not move it.
 * Air passes within −1000 ± 150 HU (lung parenchyma is −850…−900, outside air −1000), soft
 * tissue within 0 ± 150 HU (fat −100, muscle and brain +30…+60). A shift of the intercept by
 * a few hundred HU moves both peaks out; both out is an error (the series is not in HU),
 * one out a warning (a field of view without air, or an unusual body composition).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-qc-ct-hu.h"
#include "cu-qc-metrics.h"

#define BIN_HU 10.0
#define MAX_BINS 8192
#define SMOOTH 2          /* bins either side */

static double
class_mode (const float *v, gsize n, double lo, double hi)
{
  int nb = (int) ceil ((hi - lo) / BIN_HU) + 1;
  double width = BIN_HU;
  g_autofree guint64 *hist = NULL;
  double best = -1, mode = NAN;

  if (!(hi > lo))
    return lo;
  if (nb > MAX_BINS)
    {
      nb = MAX_BINS;
      width = (hi - lo) / (MAX_BINS - 1);
    }
  hist = g_new0 (guint64, nb);
  for (gsize i = 0; i < n; i++)
    if (v[i] >= lo && v[i] <= hi)
      hist[CLAMP ((int) ((v[i] - lo) / width), 0, nb - 1)]++;
  for (int b = 0; b < nb; b++)
    {
      double s = 0;
      for (int d = -SMOOTH; d <= SMOOTH; d++)
        if (b + d >= 0 && b + d < nb)
          s += hist[b + d];
      if (s > best)
        {
          best = s;
          mode = lo + (b + 0.5) * width;
        }
    }
  return mode;
}

gboolean
cu_qc_ct_hu_peaks (const CuVolume *v, double *air, double *tissue)
{
  gsize n3, n = 0, at_min = 0, above_min = 0;
  float lo = INFINITY, hi = -INFINITY;
  g_autofree float *vals = NULL;
  double t;

  g_return_val_if_fail (v != NULL && air != NULL && tissue != NULL, FALSE);
  *air = *tissue = NAN;
  if (v->voxels == NULL)
    return FALSE;
  n3 = cu_volume_n_voxels_3d (v);
  for (gsize i = 0; i < n3; i++)
    if (isfinite (v->voxels[i]))
      lo = MIN (lo, v->voxels[i]);
  if (!isfinite (lo))
    return FALSE;
  for (gsize i = 0; i < n3; i++)
    {
      float x = v->voxels[i];
      at_min += x == lo;
      above_min += x > lo && x <= lo + 200;
    }
  vals = g_new (float, n3);
  for (gsize i = 0; i < n3; i++)
    {
      float x = v->voxels[i];
      if (!isfinite (x))
        continue;
      /* the padding outside the reconstruction circle */
      if (x == lo && at_min * 100 >= n3 && above_min * 10 < at_min)
        continue;
      vals[n++] = x;
      hi = MAX (hi, x);
    }
  if (n < 2)
    return FALSE;
  lo = INFINITY;
  for (gsize i = 0; i < n; i++)
    lo = MIN (lo, vals[i]);
  t = cu_qc_otsu_threshold (vals, n);
  if (!(t > lo && t < hi))
    return FALSE;
  *air = class_mode (vals, n, lo, t);
  *tissue = class_mode (vals, n, nextafter (t, INFINITY), hi);
  return isfinite (*air) && isfinite (*tissue);
}

void
cu_qc_check_ct_hu (CuQcReport *r)
{
  double air, tissue;
  gboolean air_ok, tissue_ok;

  g_return_if_fail (r != NULL);
  if (r->volume == NULL || r->modality == NULL || g_ascii_strcasecmp (r->modality, "CT") != 0)
    return;
  if (!cu_qc_ct_hu_peaks (r->volume, &air, &tissue))
    {
      cu_qc_report_add (r, cu_qc_finding_new (CU_QC_CT_HU, CU_QC_SEVERITY_WARNING, -1,
                                              "RescaleIntercept", NULL,
                                              g_strdup (_("CT values could not be checked "
                                                          "against the Hounsfield scale: the "
                                                          "image has no air and tissue "
                                                          "classes"))));
      return;
    }
  cu_qc_report_set_metric (r, "CT_AIR_HU", air);
  cu_qc_report_set_metric (r, "CT_TISSUE_HU", tissue);
  air_ok = fabs (air - CU_QC_HU_AIR) <= CU_QC_HU_TOLERANCE;
  tissue_ok = fabs (tissue - CU_QC_HU_WATER) <= CU_QC_HU_TOLERANCE;
  if (air_ok && tissue_ok)
    return;
  cu_qc_report_add (r, cu_qc_finding_new (
    CU_QC_CT_HU, air_ok || tissue_ok ? CU_QC_SEVERITY_WARNING : CU_QC_SEVERITY_ERROR, -1,
    "RescaleIntercept", NULL,
    /* Translators: HU = Hounsfield units; the numbers are the measured peaks */
    g_strdup_printf (air_ok || tissue_ok
                       ? _("CT values are doubtful in Hounsfield units: air peaks at %.0f HU "
                           "(expected −1000 ± %.0f), soft tissue at %.0f HU (expected 0 ± %.0f)")
                       : _("CT is not in Hounsfield units: air peaks at %.0f HU (expected "
                           "−1000 ± %.0f), soft tissue at %.0f HU (expected 0 ± %.0f); check "
                           "RescaleIntercept and RescaleSlope"),
                     air, CU_QC_HU_TOLERANCE, tissue, CU_QC_HU_TOLERANCE)));
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-sequence.c — sequence type from acquisition attributes.
 *
 * Rules from the recognition table of the project's PI-RADS v2.1 protocol notes
 * (standards/prostate_mpmri_protocol.md §2), themselves drawn from dcm2niix's
 * nii_dicom.cpp and vendor notes (Li et al., J Neurosci Methods 264:47–56, 2016):
 *   ADC  — ImageType contains ADC, or a DERIVED diffusion (EP) image;
 *   DWI  — ScanningSequence EP with a b-value, DIFFUSION/TRACEW in ImageType or a
 *          DiffusionDirectionality; or any (non gradient-echo) image with b > 0 (Philips);
 *   DCE  — gradient echo, TR < 100 ms, TE < 5 ms, several time points;
 *   T2W  — spin echo (not EP) with an echo train or TE 80–150 ms and TR > 2000 ms;
 *   T1W  — single time point, short TE (< 30 ms) and TR (< 1000 ms).
 * Anything else of modality MR is "EPI" (echo planar without diffusion: fMRI) or "MR".
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cu-qc-sequence.h"

gboolean
cu_qc_image_type_has (const char *image_type, const char *value)
{
  g_auto (GStrv) parts = NULL;

  if (image_type == NULL)
    return FALSE;
  parts = g_strsplit (image_type, "\\", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (parts[i]), value) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
has_code (const char *multi, const char *code)
{
  return cu_qc_image_type_has (multi, code);
}

const char *
cu_qc_plane_of_normal (const double n[3])
{
  double ax = fabs (n[0]), ay = fabs (n[1]), az = fabs (n[2]);

  if (ax == 0 && ay == 0 && az == 0)
    return NULL;
  if (az >= ax && az >= ay)
    return "axial";
  if (ay >= ax)
    return "coronal";
  return "sagittal";
}

const CuDicomHeader *
cu_qc_representative_image (GPtrArray *headers)
{
  const CuDicomHeader *best;

  if (headers == NULL || headers->len == 0)
    return NULL;
  best = headers->pdata[0];
  for (guint i = 1; i < headers->len; i++)
    if (((const CuDicomHeader *) headers->pdata[i])->b_value > best->b_value)
      best = headers->pdata[i];
  return best;
}

const char *
cu_qc_classify_sequence (const CuDicomHeader *h, int n_volumes)
{
  gboolean ep, gr, se, derived, diffusion;
  g_autofree char *joined = NULL;

  if (h == NULL)
    return CU_SEQ_OTHER;
  if (h->modality != NULL && g_ascii_strcasecmp (h->modality, "MR") != 0)
    return h->modality;   /* interned by the caller's header: copy before freeing it */

  ep = has_code (h->scanning_sequence, "EP");
  gr = has_code (h->scanning_sequence, "GR");
  se = has_code (h->scanning_sequence, "SE");
  derived = h->image_type != NULL && g_ascii_strncasecmp (h->image_type, "DERIVED", 7) == 0;
  joined = g_ascii_strup (h->image_type != NULL ? h->image_type : "", -1);
  diffusion = h->b_value > 0 || cu_qc_image_type_has (h->image_type, "DIFFUSION")
              || cu_qc_image_type_has (h->image_type, "TRACEW")
              || (h->diffusion_directionality != NULL && *h->diffusion_directionality != '\0');

  /* A derived EP image is a parametric map unless it says it is a (calculated) diffusion
   * image: Siemens calculated high-b images keep DIFFUSION/TRACEW in ImageType. */
  if (cu_qc_image_type_has (h->image_type, "ADC") || strstr (joined, "_ADC_") != NULL
      || (derived && ep && !cu_qc_image_type_has (h->image_type, "DIFFUSION")
          && !cu_qc_image_type_has (h->image_type, "TRACEW")))
    return CU_SEQ_ADC;
  if (ep && (diffusion || h->b_value >= 0) && !gr)
    return CU_SEQ_DWI;
  /* Philips writes ScanningSequence SE (no EP) for its diffusion EPI; a diffusion weighting
   * (b > 0) says DWI whatever the sequence attributes say. */
  if (h->b_value > 0 && !gr)
    return CU_SEQ_DWI;
  if (gr && h->repetition_time > 0 && h->repetition_time < 100 && h->echo_time >= 0
      && h->echo_time < 5 && (n_volumes > 1 || h->number_of_temporal_positions > 1))
    return CU_SEQ_DCE;
  if (se && !ep && (h->echo_train_length > 1
                    || (h->echo_time >= 80 && h->echo_time <= 150 && h->repetition_time > 2000)))
    return CU_SEQ_T2W;
  if (ep)
    return CU_SEQ_EPI;
  if ((gr || se) && n_volumes <= 1 && h->echo_time >= 0 && h->echo_time < 30
      && h->repetition_time > 0 && h->repetition_time < 1000)
    return CU_SEQ_T1W;
  return CU_SEQ_OTHER;
}

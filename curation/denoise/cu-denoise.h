/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-denoise.h — one entry point for the denoising methods, their parameters as recorded in
 * derived series and the audit log, and a quick single-slice preview for the GUI.
 */
#pragma once

#include <gio/gio.h>

#include "cu-diffusion.h"
#include "cu-nlm.h"
#include "cu-progress.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_DENOISE_NLM,
  CU_DENOISE_DIFFUSION,
  CU_DENOISE_GAUSSIAN,
} CuDenoiseMethod;

typedef struct
{
  CuDenoiseMethod method;
  CuNlmParams nlm;
  CuDiffusionParams diffusion;
  double gaussian_sigma_mm;    /* isotropic, in mm; default 1 */
} CuDenoiseParams;

/* Defaults for every method; rician is set for magnitude MR (modality "MR") only. */
void        cu_denoise_params_init         (CuDenoiseParams *params,
                                            CuDenoiseMethod  method,
                                            const char      *modality);

const char *cu_denoise_method_to_string    (CuDenoiseMethod method);   /* "nlm", … */
gboolean    cu_denoise_method_from_string  (const char *s, CuDenoiseMethod *method);

/* Denoise every time point. sigma_used (may be NULL) receives the noise sigma used by NLM and
 * diffusion (estimated when their sigma is 0), 0 for Gaussian smoothing. */
CuVolume   *cu_denoise_volume              (const CuVolume        *in,
                                            const CuDenoiseParams *params,
                                            double                *sigma_used,
                                            CuProgress            *progress,
                                            GCancellable          *cancellable,
                                            GError               **error);

/* Denoise only slice k of time point t: the filter runs on the slab of neighbouring slices the
 * slice depends on, so the result equals that slice of cu_denoise_volume() (given the same
 * sigma; when sigma is 0 it is estimated from the whole time point). Returns a one-slice volume. */
CuVolume   *cu_denoise_slice               (const CuVolume        *in,
                                            int                    t,
                                            int                    k,
                                            const CuDenoiseParams *params,
                                            double                *sigma_used,
                                            GCancellable          *cancellable,
                                            GError               **error);

/* The parameters as a JSON object (method, its parameters, the noise sigma used), and as a
 * one-line description for DerivationDescription (both newly allocated). */
char       *cu_denoise_params_to_json      (const CuDenoiseParams *params, double sigma_used);
char       *cu_denoise_params_describe     (const CuDenoiseParams *params, double sigma_used);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-diffusion.h — edge-preserving anisotropic diffusion (Perona–Malik, curvature-driven).
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_DIFFUSION_PERONA_MALIK,   /* gradient-driven: div(g(|∇I|) ∇I) */
  CU_DIFFUSION_CURVATURE,      /* curvature-driven (modified curvature diffusion equation) */
} CuDiffusionKind;

typedef struct
{
  CuDiffusionKind kind;   /* default CU_DIFFUSION_PERONA_MALIK */
  int iterations;         /* default 20 */
  double conductance;     /* edge threshold in units of the noise: differences larger than
                             conductance·sigma·√2 between neighbours are treated as edges;
                             default 1 */
  double time_step;       /* per iteration; 0 = the largest stable step for the spacing */
  double sigma;           /* noise sigma; 0 = estimate it (cu-noise-estimate.h) */
  gboolean rician;        /* magnitude MR: diffuse the squared image and remove 2σ²; default TRUE */
} CuDiffusionParams;

void      cu_diffusion_params_init (CuDiffusionParams *params);

/* Largest stable explicit time step for this kind of diffusion on this voxel spacing (mm). */
double    cu_diffusion_max_time_step (CuDiffusionKind kind, const double spacing[3], int ndim);

CuVolume *cu_diffusion_filter (const CuVolume          *in,
                               const CuDiffusionParams *params,
                               double                  *sigma_used,
                               CuProgress              *progress,
                               GCancellable            *cancellable,
                               GError                 **error);

/* Only slice k of every time point, computing only the slices it depends on (a one-slice
 * volume equal to that slice of cu_diffusion_filter()). */
CuVolume *cu_diffusion_filter_slice (const CuVolume          *in,
                                     const CuDiffusionParams *params,
                                     int                      k,
                                     double                  *sigma_used,
                                     GCancellable            *cancellable,
                                     GError                 **error);

const char *cu_diffusion_kind_to_string (CuDiffusionKind kind);
gboolean    cu_diffusion_kind_from_string (const char *s, CuDiffusionKind *kind);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-diffusion.c — anisotropic diffusion with stable explicit steps (see cu-diffusion.h).
 *
 * Perona–Malik: I_t = div(g ∇I), discretised with one conductance per voxel face from the
 * difference across that face, g(d) = exp(−(d/K)²) (P. Perona and J. Malik, "Scale-space and
 * edge detection using anisotropic diffusion", IEEE TPAMI 12(7):629–639, 1990,
 * doi:10.1109/34.56205). With voxel spacings h_c the explicit scheme keeps the maximum
 * principle (no overshoot, hence stable) when dt · Σ_c 2/h_c² ≤ 1, because g ≤ 1.
 *
 * Curvature-driven: the modified curvature diffusion equation I_t = |∇I| div(g(|∇I|) ∇I/|∇I|)
 * (R. T. Whitaker and X. Xue, "Variable-conductance, level-set curvature for image denoising",
 * ICIP 2001, doi:10.1109/ICIP.2001.958051), as in ITK's CurvatureAnisotropicDiffusionImageFilter:
 * face gradients (forward difference across the face, averaged central differences along it),
 * and an upwind |∇I| at the voxel (S. Osher and J. A. Sethian, J. Comput. Phys. 79(1):12–49,
 * 1988, doi:10.1016/0021-9991(88)90002-2). Its step is bounded like ITK's 1/2^(N+1) for unit
 * spacing, generalised to anisotropic voxels by the mean of 1/h².
 *
 * K: neighbouring voxels differ by about sigma·√2 from noise alone, so K = conductance·sigma·√2
 * (per unit spacing for the curvature flow): differences well above the noise are kept as edges.
 * Rician (magnitude MR): the squared image is diffused (its expectation is A² + 2σ², and
 * diffusion averages it) with conductances taken from the magnitude, then sqrt(max(J − 2σ², 0)),
 * the same bias correction as for non-local means (Wiest-Daesslé et al., MICCAI 2008).
 * Borders are Neumann (zero flux). Each iteration is split over slices among threads.
 */
#include "config.h"

#pragma GCC optimize ("O3")

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-denoise-error.h"
#include "cu-diffusion.h"
#include "cu-noise-estimate.h"
#include "cu-parallel.h"

void
cu_diffusion_params_init (CuDiffusionParams *params)
{
  g_return_if_fail (params != NULL);
  params->kind = CU_DIFFUSION_PERONA_MALIK;
  params->iterations = 20;
  params->conductance = 1.0;
  params->time_step = 0.0;
  params->sigma = 0.0;
  params->rician = TRUE;
}

const char *
cu_diffusion_kind_to_string (CuDiffusionKind kind)
{
  return kind == CU_DIFFUSION_CURVATURE ? "curvature" : "perona-malik";
}

gboolean
cu_diffusion_kind_from_string (const char *s, CuDiffusionKind *kind)
{
  if (g_strcmp0 (s, "perona-malik") == 0 || g_strcmp0 (s, "pm") == 0)
    *kind = CU_DIFFUSION_PERONA_MALIK;
  else if (g_strcmp0 (s, "curvature") == 0 || g_strcmp0 (s, "mcde") == 0)
    *kind = CU_DIFFUSION_CURVATURE;
  else
    return FALSE;
  return TRUE;
}

double
cu_diffusion_max_time_step (CuDiffusionKind kind, const double spacing[3], int ndim)
{
  double s = 0.0;

  for (int c = 0; c < ndim; c++)
    s += 1.0 / (spacing[c] * spacing[c]);
  if (s <= 0)
    return 0.0;
  if (kind == CU_DIFFUSION_PERONA_MALIK)
    return 1.0 / (2.0 * s);
  return ((double) ndim / s) / (double) (1 << (ndim + 1));
}

typedef struct
{
  const float *src;   /* J: the evolving image (squared when Rician) */
  const float *mag;   /* U: the magnitude the conductance is computed from (= src if not Rician) */
  float *dst;
  int n[3];
  double h[3];
  int ndim;
  CuDiffusionKind kind;
  float inv_k2;       /* 1/K² for differences (Perona–Malik) or gradients (curvature) */
  float dt;
  int z0;             /* first slice of this iteration's range (parallel items are offsets) */
} Step;

#define AT(a, i, j, k) ((a)[((gsize) (k) * s->n[1] + (j)) * s->n[0] + (i)])

/* exp(x) for x ≤ 0 without a libm call (as in cu-nlm.c): relative error about 2e-7. */
static inline float
exp_neg (float x)
{
  union { float f; gint32 i; } u;
  float t, f, p;
  gint32 e;

  x = x < -80.0f ? -80.0f : x;
  t = x * 1.4426950408889634f;
  e = (gint32) t;
  e -= t < (float) e;
  f = t - (float) e;
  p = 1.0f + f * (0.69314718f + f * (0.24022650f + f * (0.05550411f + f * (0.00961813f +
                  f * (0.00133336f + f * 0.00015404f)))));
  u.f = p;
  u.i += e * (1 << 23);
  return u.f;
}

static inline float
cond (float d2, float inv_k2)
{
  return exp_neg (-d2 * inv_k2);
}

/* Face gradient at (p + ½ e_c) of array a, into g[3]. */
static inline void
face_gradient (const Step *s, const float *a, const int p[3], int c, float g[3])
{
  int q[3] = { p[0], p[1], p[2] };
  q[c] = MIN (p[c] + 1, s->n[c] - 1);
  for (int d = 0; d < 3; d++)
    {
      if (d >= s->ndim || s->n[d] < 2)
        {
          g[d] = 0.0f;
          continue;
        }
      if (d == c)
        g[d] = (float) ((AT (a, q[0], q[1], q[2]) - AT (a, p[0], p[1], p[2])) / s->h[d]);
      else
        {
          int pm[3] = { p[0], p[1], p[2] }, pp[3] = { p[0], p[1], p[2] };
          int qm[3] = { q[0], q[1], q[2] }, qp[3] = { q[0], q[1], q[2] };
          pm[d] = MAX (p[d] - 1, 0);
          pp[d] = MIN (p[d] + 1, s->n[d] - 1);
          qm[d] = pm[d];
          qp[d] = pp[d];
          g[d] = (float) ((AT (a, pp[0], pp[1], pp[2]) - AT (a, pm[0], pm[1], pm[2]) +
                           AT (a, qp[0], qp[1], qp[2]) - AT (a, qm[0], qm[1], qm[2])) /
                          (4.0 * s->h[d]));
        }
    }
}

static float
curvature_flux (const Step *s, const int p[3], int c)
{
  float gj[3], gu[3], nj, nu;

  face_gradient (s, s->src, p, c, gj);
  if (s->mag != s->src)
    face_gradient (s, s->mag, p, c, gu);
  else
    memcpy (gu, gj, sizeof gu);
  nj = sqrtf (gj[0] * gj[0] + gj[1] * gj[1] + gj[2] * gj[2]);
  nu = gu[0] * gu[0] + gu[1] * gu[1] + gu[2] * gu[2];
  if (nj <= 0.0f)
    return 0.0f;
  return cond (nu, s->inv_k2) * gj[c] / nj;
}

/* One Perona–Malik row: the x neighbours come from the same row (clamped at its ends), the
 * y and z neighbours from whole neighbouring rows, so the loop runs over contiguous memory. */
static void
pm_row (const Step *s, int j, int k)
{
  const int nx = s->n[0];
  const gsize row = ((gsize) k * s->n[1] + j) * nx;
  const float *c = s->src + row, *uc = s->mag + row;
  const float ihx = (float) (1.0 / (s->h[0] * s->h[0]));
  const float ihy = (float) (1.0 / (s->h[1] * s->h[1]));
  const float ihz = (float) (1.0 / (s->h[2] * s->h[2]));
  const gsize sy = nx, sz = (gsize) nx * s->n[1];
  const gssize oym = j > 0 ? -(gssize) sy : 0, oyp = j < s->n[1] - 1 ? (gssize) sy : 0;
  const gssize ozm = (s->ndim > 2 && k > 0) ? -(gssize) sz : 0;
  const gssize ozp = (s->ndim > 2 && k < s->n[2] - 1) ? (gssize) sz : 0;
  const float ik2 = s->inv_k2, dt = s->dt;
  float *o = s->dst + row;

  for (int i = 0; i < nx; i++)
    {
      const int im = i > 0 ? i - 1 : 0, ip = i < nx - 1 ? i + 1 : nx - 1;
      const float c0 = c[i], u0 = uc[i];
      float dxp = c[ip] - c0, dxm = c0 - c[im], uxp = uc[ip] - u0, uxm = u0 - uc[im];
      float dyp = c[i + oyp] - c0, dym = c0 - c[i + oym];
      float uyp = uc[i + oyp] - u0, uym = u0 - uc[i + oym];
      float dzp = c[i + ozp] - c0, dzm = c0 - c[i + ozm];
      float uzp = uc[i + ozp] - u0, uzm = u0 - uc[i + ozm];
      float up = ihx * (cond (uxp * uxp, ik2) * dxp - cond (uxm * uxm, ik2) * dxm) +
                 ihy * (cond (uyp * uyp, ik2) * dyp - cond (uym * uym, ik2) * dym) +
                 ihz * (cond (uzp * uzp, ik2) * dzp - cond (uzm * uzm, ik2) * dzm);
      o[i] = c0 + dt * up;
    }
}

static gboolean
step_slices (gsize begin, gsize end, gpointer data)
{
  const Step *s = data;

  if (s->kind == CU_DIFFUSION_PERONA_MALIK)
    {
      for (int k = (int) begin + s->z0; k < (int) end + s->z0; k++)
        for (int j = 0; j < s->n[1]; j++)
          pm_row (s, j, k);
      return TRUE;
    }
  for (int k = (int) begin + s->z0; k < (int) end + s->z0; k++)
    for (int j = 0; j < s->n[1]; j++)
      for (int i = 0; i < s->n[0]; i++)
        {
          const int p[3] = { i, j, k };
          const float c0 = AT (s->src, i, j, k), u0 = AT (s->mag, i, j, k);
          float update = 0.0f;

          if (s->kind == CU_DIFFUSION_PERONA_MALIK)
            {
              for (int c = 0; c < s->ndim; c++)
                {
                  int qp[3] = { i, j, k }, qm[3] = { i, j, k };
                  float dp, dm, up, um;
                  if (s->n[c] < 2)
                    continue;
                  qp[c] = MIN (p[c] + 1, s->n[c] - 1);
                  qm[c] = MAX (p[c] - 1, 0);
                  dp = AT (s->src, qp[0], qp[1], qp[2]) - c0;
                  dm = c0 - AT (s->src, qm[0], qm[1], qm[2]);
                  up = AT (s->mag, qp[0], qp[1], qp[2]) - u0;
                  um = u0 - AT (s->mag, qm[0], qm[1], qm[2]);
                  update += (float) ((cond (up * up, s->inv_k2) * dp - cond (um * um, s->inv_k2) * dm) /
                                     (s->h[c] * s->h[c]));
                }
            }
          else
            {
              float div = 0.0f, gp = 0.0f, gn = 0.0f;
              for (int c = 0; c < s->ndim; c++)
                {
                  int pm[3] = { i, j, k }, qp[3] = { i, j, k };
                  float fp, fm, dp, dm;
                  if (s->n[c] < 2)
                    continue;
                  pm[c] = MAX (p[c] - 1, 0);
                  qp[c] = MIN (p[c] + 1, s->n[c] - 1);
                  fp = curvature_flux (s, p, c);
                  fm = pm[c] == p[c] ? 0.0f : curvature_flux (s, pm, c);
                  if (qp[c] == p[c])
                    fp = 0.0f;
                  div += (float) ((fp - fm) / s->h[c]);
                  dp = (float) ((AT (s->src, qp[0], qp[1], qp[2]) - c0) / s->h[c]);
                  dm = (float) ((c0 - AT (s->src, pm[0], pm[1], pm[2])) / s->h[c]);
                  /* upwind |∇I| for values moving up (gp) or down (gn), as ITK's
                   * CurvatureNDAnisotropicDiffusionFunction: a local minimum rises and a local
                   * maximum falls, instead of being frozen by a zero one-sided gradient */
                  gp += MIN (dm, 0.0f) * MIN (dm, 0.0f) + MAX (dp, 0.0f) * MAX (dp, 0.0f);
                  gn += MAX (dm, 0.0f) * MAX (dm, 0.0f) + MIN (dp, 0.0f) * MIN (dp, 0.0f);
                }
              update = div * sqrtf (div > 0.0f ? gp : gn);
            }
          AT (s->dst, i, j, k) = c0 + s->dt * update;
        }
  return TRUE;
}

static gboolean
sqrt_slices (gsize begin, gsize end, gpointer data)
{
  const Step *s = data;
  const gsize plane = (gsize) s->n[0] * s->n[1];
  float *mag = (float *) s->mag;

  for (gsize x = (begin + s->z0) * plane; x < (end + s->z0) * plane; x++)
    mag[x] = sqrtf (MAX (s->src[x], 0.0f));
  return TRUE;
}

/* only_k ≥ 0: only slice only_k of the result is needed (preview). Iteration i then updates
 * only the slices within iterations − 1 − i of it, the cone the final slice depends on,
 * since every iteration reads one neighbour on each side; the other slices go stale unread. */
static CuVolume *
diffusion_filter (const CuVolume          *in,
                  const CuDiffusionParams *params,
                  int                      only_k,
                  double                  *sigma_used,
                  CuProgress              *progress,
                  GCancellable            *cancellable,
                  GError                 **error)
{
  g_autoptr (CuVolume) out = NULL;
  g_autofree float *a = NULL, *b = NULL, *u = NULL;
  const int nx = in ? in->dims[0] : 0, ny = in ? in->dims[1] : 0, nz = in ? in->dims[2] : 0;
  const int nt = in ? in->dims[3] : 0;
  const gsize n3 = in ? cu_volume_n_voxels_3d (in) : 0;
  double dt_max, sigma_sum = 0.0, inv_h2 = 0.0;
  int ndim;

  g_return_val_if_fail (in != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (in->voxels == NULL)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("The volume has no voxels to denoise"));
      return NULL;
    }
  ndim = nz > 1 ? 3 : 2;
  dt_max = cu_diffusion_max_time_step (params->kind, in->spacing, ndim);
  if (params->iterations < 1 || params->iterations > 1000 || !(params->conductance > 0) ||
      params->conductance > 1000 || !(params->time_step >= 0) || params->time_step > dt_max * 1.0001 ||
      !(params->sigma >= 0) || !isfinite (params->sigma) ||
      (params->kind != CU_DIFFUSION_PERONA_MALIK && params->kind != CU_DIFFUSION_CURVATURE))
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("Invalid diffusion parameters: %d iterations (1–1000), conductance %g "
                     "(0–1000], time step %g (0 = automatic, at most %g for this spacing), "
                     "noise sigma %g (≥ 0, 0 = estimate)"),
                   params->iterations, params->conductance, params->time_step, dt_max,
                   params->sigma);
      return NULL;
    }
  for (int c = 0; c < ndim; c++)
    inv_h2 += 1.0 / (in->spacing[c] * in->spacing[c]);

  out = cu_volume_copy (in, TRUE);
  a = g_try_new (float, n3);
  b = g_try_new (float, n3);
  u = params->rician ? g_try_new (float, n3) : NULL;
  if (out == NULL || out->voxels == NULL || a == NULL || b == NULL || (params->rician && u == NULL))
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                   _("Not enough memory to denoise a %d×%d×%d volume"), nx, ny, nz);
      return NULL;
    }

  for (int t = 0; t < nt; t++)
    {
      double sigma = params->sigma, k;
      const float *frame = cu_volume_frame (in, t);
      Step s = { 0 };

      if (sigma == 0.0)
        {
          CuNoiseEstimate est;
          if (!cu_noise_estimate (in, t, params->rician, &est, error))
            return NULL;
          sigma = est.sigma;
        }
      sigma_sum += sigma;
      /* K for differences; for gradients (per mm) scaled by the RMS of 1/h */
      k = params->conductance * sigma * G_SQRT2;
      if (params->kind == CU_DIFFUSION_CURVATURE)
        k *= sqrt (inv_h2 / ndim);
      s.inv_k2 = (float) (1.0 / (k * k));
      s.n[0] = nx;
      s.n[1] = ny;
      s.n[2] = nz;
      for (int c = 0; c < 3; c++)
        s.h[c] = in->spacing[c];
      s.ndim = ndim;
      s.kind = params->kind;
      s.dt = (float) (params->time_step > 0 ? params->time_step : dt_max);

      for (gsize x = 0; x < n3; x++)
        a[x] = params->rician ? frame[x] * frame[x] : frame[x];
      for (int it = 0; it < params->iterations; it++)
        {
          int zlo = 0, zhi = nz;   /* slices updated by this iteration */
          if (only_k >= 0)
            {
              int reach = params->iterations - 1 - it;
              zlo = MAX (0, only_k - reach);
              zhi = MIN (nz, only_k + reach + 1);
            }
          s.src = a;
          s.dst = b;
          if (params->rician)
            {
              /* the magnitude is read one slice beyond the updated range */
              s.mag = u;
              s.z0 = MAX (0, zlo - 1);
              if (!cu_parallel_for (MIN (nz, zhi + 1) - s.z0, 1, 0, sqrt_slices, &s, cancellable))
                break;
            }
          else
            s.mag = a;
          s.z0 = zlo;
          if (!cu_parallel_for (zhi - zlo, 1, 0, step_slices, &s, cancellable))
            break;
          {
            float *tmp = a;
            a = b;
            b = tmp;
          }
          cu_progress_report_count (progress, (guint64) t * params->iterations + it + 1,
                                    (guint64) nt * params->iterations, NULL);
        }
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      {
        float *o = cu_volume_frame (out, t);
        const float two_s2 = (float) (2.0 * sigma * sigma);
        for (gsize x = 0; x < n3; x++)
          o[x] = params->rician ? sqrtf (MAX (a[x] - two_s2, 0.0f)) : a[x];
      }
    }
  if (sigma_used != NULL)
    *sigma_used = sigma_sum / nt;
  return g_steal_pointer (&out);
}

CuVolume *
cu_diffusion_filter (const CuVolume          *in,
                     const CuDiffusionParams *params,
                     double                  *sigma_used,
                     CuProgress              *progress,
                     GCancellable            *cancellable,
                     GError                 **error)
{
  return diffusion_filter (in, params, -1, sigma_used, progress, cancellable, error);
}

CuVolume *
cu_diffusion_filter_slice (const CuVolume          *in,
                           const CuDiffusionParams *params,
                           int                      k,
                           double                  *sigma_used,
                           GCancellable            *cancellable,
                           GError                 **error)
{
  g_autoptr (CuVolume) all = NULL;
  CuVolume *out;
  gsize plane;

  g_return_val_if_fail (in != NULL, NULL);
  if (k < 0 || k >= in->dims[2])
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("Slice %d is outside the volume"), k);
      return NULL;
    }
  all = diffusion_filter (in, params, k, sigma_used, NULL, cancellable, error);
  if (all == NULL)
    return NULL;
  plane = (gsize) in->dims[0] * in->dims[1];
  out = cu_volume_copy (all, FALSE);
  out->dims[2] = 1;
  out->voxels = g_new (float, plane * out->dims[3]);
  for (int t = 0; t < out->dims[3]; t++)
    memcpy (out->voxels + (gsize) t * plane, cu_volume_frame (all, t) + (gsize) k * plane,
            plane * sizeof (float));
  {
    double ijk[3] = { 0, 0, k };
    cu_volume_index_to_lps (in, ijk, out->origin);
  }
  return out;
}

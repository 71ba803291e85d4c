/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gaussian.c — separable Gaussian smoothing in millimetres (see cu-gaussian.h).
 *
 * Method: direct convolution with the sampled, renormalised Gaussian kernel
 * g[t] ∝ exp(−t²/(2σ²)), σ = sigma_mm / spacing (voxels), truncated at |t| ≤ ⌈3σ⌉, applied
 * along each index axis in turn (the 3D Gaussian is the product of three 1D ones, so three
 * 1D passes cost O(r) per voxel instead of O(r³)). Edges replicate the border voxel (clamp),
 * which keeps a constant volume constant. Reference: T. Lindeberg, "Scale-space for discrete
 * signals", IEEE TPAMI 12(3):234–254, 1990, doi:10.1109/34.49051 (on sampled Gaussian kernels).
 *
 * Every pass is a loop over image rows (the nx-long lines of the x-fastest layout): the x pass
 * convolves along the row, the y and z passes add whole neighbouring rows with a weight, so the
 * inner loops always run over contiguous memory and vectorise. Rows are independent, so they
 * are shared among threads (cu-parallel.h); the work stops at the next chunk on cancel.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-denoise-error.h"
#include "cu-gaussian.h"
#include "cu-parallel.h"

typedef struct
{
  const float *src;
  float *dst;
  int nx, ny, nz;
  int axis;
  int radius;
  const float *w;   /* w[0..radius], symmetric kernel */
} Pass;

static inline int
clampi (int v, int lo, int hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

static gboolean
pass_rows (gsize begin, gsize end, gpointer data)
{
  const Pass *p = data;
  const int nx = p->nx, r = p->radius;
  g_autofree float *line = NULL;

  if (p->axis == 0)
    line = g_new (float, (gsize) nx + 2 * (gsize) r);

  for (gsize row = begin; row < end; row++)
    {
      const int j = (int) (row % (gsize) p->ny), k = (int) (row / (gsize) p->ny);
      float *out = p->dst + row * (gsize) nx;

      if (p->axis == 0)
        {
          const float *in = p->src + row * (gsize) nx;
          /* Pad the row with replicated borders so the inner loop needs no clamping. */
          for (int t = 0; t < r; t++)
            {
              line[t] = in[0];
              line[r + nx + t] = in[nx - 1];
            }
          memcpy (line + r, in, (gsize) nx * sizeof (float));
          for (int i = 0; i < nx; i++)
            {
              const float *c = line + r + i;
              float s = p->w[0] * c[0];
              for (int t = 1; t <= r; t++)
                s += p->w[t] * (c[-t] + c[t]);
              out[i] = s;
            }
        }
      else
        {
          /* Weighted sum of whole rows at clamped neighbouring j (axis 1) or k (axis 2). */
          const int n = p->axis == 1 ? p->ny : p->nz;
          const int c0 = p->axis == 1 ? j : k;
          const gsize stride = p->axis == 1 ? (gsize) nx : (gsize) nx * (gsize) p->ny;
          const float *base = p->src + row * (gsize) nx - (gsize) c0 * stride;
          const float *in0 = base + (gsize) c0 * stride;

          for (int i = 0; i < nx; i++)
            out[i] = p->w[0] * in0[i];
          for (int t = 1; t <= r; t++)
            {
              const float *a = base + (gsize) clampi (c0 - t, 0, n - 1) * stride;
              const float *b = base + (gsize) clampi (c0 + t, 0, n - 1) * stride;
              const float wt = p->w[t];
              for (int i = 0; i < nx; i++)
                out[i] += wt * (a[i] + b[i]);
            }
        }
    }
  return TRUE;
}

/* Kernel half-width and weights for sigma in voxels; radius 0 means "leave this axis". */
static float *
make_kernel (double sigma_vox, int n, int *radius)
{
  float *w;
  double sum = 0.0;
  int r;

  *radius = 0;
  if (!(sigma_vox > 0.0) || n < 2)
    return NULL;
  r = (int) ceil (3.0 * sigma_vox);
  if (r < 1)
    return NULL;
  /* Beyond the volume every tap is a clamped border voxel; a longer kernel changes nothing
   * that a kernel of n taps does not, except the weights, so keep the full truncation but
   * bound the allocation for absurd sigmas. */
  r = MIN (r, 4 * n + 4);
  w = g_new (float, r + 1);
  {
    g_autofree double *wd = g_new (double, r + 1);
    for (int t = 0; t <= r; t++)
      {
        wd[t] = exp (-(double) t * t / (2.0 * sigma_vox * sigma_vox));
        sum += t == 0 ? wd[t] : 2.0 * wd[t];
      }
    for (int t = 0; t <= r; t++)
      w[t] = (float) (wd[t] / sum);
  }
  *radius = r;
  return w;
}

CuVolume *
cu_gaussian_filter (const CuVolume *in,
                    const double    sigma_mm[3],
                    GCancellable   *cancellable,
                    GError        **error)
{
  g_autoptr (CuVolume) out = NULL;
  g_autofree float *tmp = NULL;
  float *w[3] = { NULL, NULL, NULL };
  int radius[3];
  gsize n3;
  const int nx = in ? in->dims[0] : 0, ny = in ? in->dims[1] : 0, nz = in ? in->dims[2] : 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (in != NULL, NULL);
  g_return_val_if_fail (sigma_mm != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (in->voxels == NULL)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("The volume has no voxels to smooth"));
      return NULL;
    }
  for (int c = 0; c < 3; c++)
    if (!isfinite (sigma_mm[c]) || sigma_mm[c] < 0.0 || !(in->spacing[c] > 0.0))
      {
        g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                     _("Invalid Gaussian sigma %g mm (voxel spacing %g mm) along axis %d"),
                     sigma_mm[c], in->spacing[c], c);
        return NULL;
      }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  out = cu_volume_copy (in, TRUE);
  n3 = cu_volume_n_voxels_3d (in);
  if (out == NULL || out->voxels == NULL)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                   _("Not enough memory to smooth a %d×%d×%d volume"), nx, ny, nz);
      return NULL;
    }
  for (int c = 0; c < 3; c++)
    w[c] = make_kernel (sigma_mm[c] / in->spacing[c], in->dims[c], &radius[c]);
  if (w[0] || w[1] || w[2])
    {
      tmp = g_try_malloc (n3 * sizeof (float));
      if (tmp == NULL)
        {
          g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                       _("Not enough memory to smooth a %d×%d×%d volume"), nx, ny, nz);
          ok = FALSE;
        }
    }

  for (int t = 0; ok && tmp != NULL && t < in->dims[3]; t++)
    {
      float *frame = cu_volume_frame (out, t);

      /* Ping-pong between the output frame and tmp; an odd number of passes ends in tmp. */
      float *src = frame, *dst = tmp;
      for (int c = 0; ok && c < 3; c++)
        {
          Pass pass = { src, dst, nx, ny, nz, c, radius[c], w[c] };
          if (w[c] == NULL)
            continue;
          ok = cu_parallel_for ((gsize) ny * nz, 0, 0, pass_rows, &pass, cancellable);
          src = dst;
          dst = dst == tmp ? frame : tmp;
        }
      if (ok && src != frame)
        memcpy (frame, src, n3 * sizeof (float));
    }
  for (int c = 0; c < 3; c++)
    g_free (w[c]);

  if (!ok)
    {
      if (!g_cancellable_set_error_if_cancelled (cancellable, error) && error && *error == NULL)
        g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED, _("Smoothing failed"));
      return NULL;
    }
  return g_steal_pointer (&out);
}

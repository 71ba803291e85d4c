/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-nlm.c — 3D non-local means with Rician bias correction (see cu-nlm.h).
 *
 * Method: each voxel becomes the weighted mean of the voxels of its search window, weighted by
 * the similarity of the patches around them, w = exp(−‖P(x) − P(y)‖² / (|P| h²)), h² = 2βσ²,
 * the voxel itself weighted by the largest weight of its window (A. Buades, B. Coll and
 * J.-M. Morel, SIAM MMS 4(2):490–530, 2005, doi:10.1137/040616024; in 3D MR with this
 * parametrisation by σ: P. Coupé, P. Yger, S. Prima, P. Hellier, C. Kervrann and C. Barillot,
 * "An optimized blockwise nonlocal means denoising filter for 3-D magnetic resonance images",
 * IEEE TMI 27(4):425–441, 2008, doi:10.1109/TMI.2007.906087; J. V. Manjón et al., "MRI
 * denoising using non-local means", Med. Image Anal. 12(4):514–523, 2008,
 * doi:10.1016/j.media.2008.02.004).
 *
 * Rician correction (magnitude MR): the weights come from the magnitude patches but the
 * weighted mean is taken of the squared magnitudes, whose expectation is A² + 2σ², and the
 * result is sqrt(mean − 2σ²) (N. Wiest-Daesslé, S. Prima, P. Coupé, S. P. Morrissey and
 * C. Barillot, "Rician noise removal by non-local means filtering for low signal-to-noise ratio
 * MRI: applications to DT-MRI", MICCAI 2008, LNCS 5242:171–179, doi:10.1007/978-3-540-85990-1_21).
 *
 * Where there is no signal (air, A = 0) that estimator is biased upwards: the weighted mean of
 * m² scatters around 2σ² and sqrt(max(mean − 2σ², 0)) keeps the half that lands above, which
 * left a speckled floor of about 0.13σ over the air — most of a head's field of view. The same
 * zero is the maximum-likelihood answer: for Rician samples with known σ the ML estimate of A is
 * exactly 0 whenever their mean square is at most 2σ² (J. Sijbers, A. J. den Dekker,
 * P. Scheunders and D. Van Dyck, "Maximum-likelihood estimation of Rician distribution
 * parameters", IEEE TMI 17(3):357–361, 1998, doi:10.1109/42.712125). Here "at most" is read
 * with the uncertainty of the weighted mean: with no signal m² is exponential, mean and standard
 * deviation 2σ², and a weighted mean of n_eff = (Σw)² / Σw² such samples (Kish's effective
 * sample size: L. Kish, Survey Sampling, Wiley, 1965) has standard error 2σ² / sqrt(n_eff). A
 * voxel is signal when its mean exceeds 2σ² by more than SIGNAL_Z standard errors (a one-sided
 * test), and then gets sqrt(mean − 2σ²) unchanged; otherwise it gets 0. Voxels with real signal
 * are untouched unless A² is below about 3 · 2σ² / sqrt(n_eff): n_eff is 100–250 with the
 * default windows, so A below about 0.7σ, signal no reader could tell from noise anyway.
 *
 * The noise power 2σ² of that test and of the subtraction is measured where it matters when
 * the image has background: the mode of the mean of M² over blocks of voxels, which in the
 * background is exactly 2σ² (S. Aja-Fernández, A. Tristán-Vega and C. Alberola-López, "Noise
 * estimation in single- and multiple-coil magnetic resonance data based on statistics of
 * the background", Magn. Reson. Imaging 27(10):1397–1409, 2009,
 * doi:10.1016/j.mri.2009.05.025; cu_noise_background_power()). An error of a few % in σ
 * (2.7 % on a real T1 block) is twice that in 2σ², enough, with σ low, to light half the air
 * again; measured in the background, the noise power does not depend on σ. It is used when it
 * is within 7.5 % of σ (an estimate of σ is not further off; faint tissue passing for
 * background is) and its blocks scatter as white noise; else 2σ² is.
 *
 * Fast formulation: instead of comparing patches voxel by voxel, the filter loops over the
 * search offsets o; for one offset the patch distance of every voxel is a box sum of the image
 * of squared differences (I(x) − I(x + o))², computed with three separable running sums, so
 * the cost per voxel and offset is a few operations independent of the patch size
 * (J. Darbon, A. Cunha, T. F. Chan, S. Osher and G. J. Jensen, "Fast nonlocal filtering applied
 * to electron cryomicroscopy", ISBI 2008, doi:10.1109/ISBI.2008.4541250). The result equals the
 * direct voxelwise NLM. Work is split into tiles of a few slices × rows (with a halo of the
 * patch radius) so that the per-offset arrays stay in cache; tiles run on all cores.
 *
 * Edges: the volume is padded by replicating its border voxels (same as cu-gaussian.c).
 * Anisotropic voxels: radii are in voxels in-plane and scaled down across thicker slices so
 * that windows cover about the same distance in mm (at least one slice when nz > 1).
 */
#include "config.h"

#pragma GCC optimize ("O3")

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "cu-denoise-error.h"
#include "cu-nlm.h"
#include "cu-noise-estimate.h"
#include "cu-parallel.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CU_KERNEL __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define CU_KERNEL
#endif

#define TILE_Z 8
#define TILE_Y 16

/* Standard errors by which the weighted mean of m² must exceed 2σ² for the voxel to hold
 * signal (one-sided; on the bench phantom 0.2 % of the air voxels pass); see the top comment. */
#define SIGNAL_Z 3.0f

void
cu_nlm_params_init (CuNlmParams *params)
{
  g_return_if_fail (params != NULL);
  params->patch_radius = 1;
  params->search_radius = 3;
  params->strength = 1.0;
  params->sigma = 0.0;
  params->rician = TRUE;
  params->noise_power = 0.0;
}

double
cu_nlm_noise_power (const CuVolume *in, int t, double sigma)
{
  const double p0 = 2.0 * sigma * sigma;
  double p = 0.0;

  g_return_val_if_fail (in != NULL, p0);
  /* within 7.5 % in sigma: the few % by which an estimate of sigma is off, not the 20 % by
   * which a faint tissue's mean square can exceed the noise power */
  if (cu_noise_background_power (in, t, &p, NULL) && fabs (sqrt (p / p0) - 1.0) < 0.075)
    return p;
  return p0;
}

typedef struct
{
  /* padded frame */
  const float *pad;
  int px, py, pz;          /* padding per side */
  gsize sx, sy;            /* padded strides (row, slice) */
  int nx, ny, nz;
  int z_begin, z_end;      /* output slices [z_begin, z_end) */
  int pr[3], sr[3];
  float inv_h2p;           /* 1 / (|P| h²) */
  float two_sigma2;
  gboolean rician;
  float *out;
  int n_tiles_y, n_tiles_z;
  CuProgress *progress;
  atomic_uint_fast64_t done;
  guint64 total;
} Job;

/* exp(x) for x ≤ 0, relative error about 2e-7 over the range used, written so that the
 * compiler vectorises the loop that calls it (no libm call, no table). */
static inline float
exp_neg (float x)
{
  union { float f; gint32 i; } u;
  float t, f, p;
  gint32 e;

  x = x < -80.0f ? -80.0f : x;
  t = x * 1.4426950408889634f;
  e = (gint32) t;                 /* truncation toward zero; t ≤ 0 */
  e -= t < (float) e;             /* floor */
  f = t - (float) e;              /* [0, 1) */
  p = 1.0f + f * (0.69314718f + f * (0.24022650f + f * (0.05550411f + f * (0.00961813f +
                  f * (0.00133336f + f * 0.00015404f)))));
  u.f = p;
  u.i += e * (1 << 23);
  return u.f;
}

CU_KERNEL static void
filter_tile (Job *job, int tz, int ty, float *work)
{
  const int nx = job->nx;
  const int z0 = job->z_begin + tz * TILE_Z, z1 = MIN (z0 + TILE_Z, job->z_end);
  const int y0 = ty * TILE_Y, y1 = MIN (y0 + TILE_Y, job->ny);
  const int nzt = z1 - z0, nyt = y1 - y0;
  const int prx = job->pr[0], pry = job->pr[1], prz = job->pr[2];
  const int zh = nzt + 2 * prz, yh = nyt + 2 * pry, xh = nx + 2 * prx;
  const gsize nt = (gsize) nzt * nyt * nx;
  float *d = work;                               /* zh × yh × xh */
  float *bx = d + (gsize) zh * yh * xh;          /* zh × yh × nx */
  float *by = bx + (gsize) zh * yh * nx;         /* zh × nyt × nx */
  float *acc_w = by + (gsize) zh * nyt * nx;     /* nzt × nyt × nx */
  float *acc_v = acc_w + nt;
  float *w_max = acc_v + nt;
  float *acc_w2 = w_max + nt;
  float *wrow = acc_w2 + nt;                     /* nx */
  const float inv = job->inv_h2p;
  const gsize sx = job->sx, sy = job->sy;

  memset (acc_w, 0, nt * sizeof (float));
  memset (acc_v, 0, nt * sizeof (float));
  memset (w_max, 0, nt * sizeof (float));
  memset (acc_w2, 0, nt * sizeof (float));

  for (int oz = -job->sr[2]; oz <= job->sr[2]; oz++)
    for (int oy = -job->sr[1]; oy <= job->sr[1]; oy++)
      for (int ox = -job->sr[0]; ox <= job->sr[0]; ox++)
        {
          const gssize off = (gssize) oz * (gssize) sy + (gssize) oy * (gssize) sx + ox;

          if (ox == 0 && oy == 0 && oz == 0)
            continue;

          /* squared differences over the tile and its patch halo */
          for (int z = 0; z < zh; z++)
            for (int y = 0; y < yh; y++)
              {
                const float *a = job->pad + (gsize) (z0 - prz + z + job->pz) * sy +
                                 (gsize) (y0 - pry + y + job->py) * sx + (gsize) (job->px - prx);
                const float *b = a + off;
                float *dr = d + ((gsize) z * yh + y) * xh;
                for (int x = 0; x < xh; x++)
                  {
                    float q = a[x] - b[x];
                    dr[x] = q * q;
                  }
              }
          /* box sums along x, y, z */
          for (gsize r = 0; r < (gsize) zh * yh; r++)
            {
              const float *dr = d + r * xh;
              float *o = bx + r * nx;
              for (int x = 0; x < nx; x++)
                o[x] = dr[x];
              for (int t = 1; t <= 2 * prx; t++)
                for (int x = 0; x < nx; x++)
                  o[x] += dr[x + t];
            }
          for (int z = 0; z < zh; z++)
            for (int y = 0; y < nyt; y++)
              {
                const float *src = bx + ((gsize) z * yh + y) * nx;
                float *o = by + ((gsize) z * nyt + y) * nx;
                for (int x = 0; x < nx; x++)
                  o[x] = src[x];
                for (int t = 1; t <= 2 * pry; t++)
                  for (int x = 0; x < nx; x++)
                    o[x] += src[(gsize) t * nx + x];
              }
          for (int z = 0; z < nzt; z++)
            for (int y = 0; y < nyt; y++)
              {
                const float *src = by + ((gsize) z * nyt + y) * nx;
                const gsize plane = (gsize) nyt * nx;
                const gsize ro = ((gsize) z * nyt + y) * nx;
                const float *v = job->pad + (gsize) (z0 + z + job->pz) * sy +
                                 (gsize) (y0 + y + job->py) * sx + (gsize) job->px + off;
                float *aw = acc_w + ro, *av = acc_v + ro, *wm = w_max + ro, *aw2 = acc_w2 + ro;

                for (int x = 0; x < nx; x++)
                  wrow[x] = src[x];
                for (int t = 1; t <= 2 * prz; t++)
                  for (int x = 0; x < nx; x++)
                    wrow[x] += src[(gsize) t * plane + x];
                if (job->rician)
                  for (int x = 0; x < nx; x++)
                    {
                      float w = exp_neg (-wrow[x] * inv);
                      aw[x] += w;
                      aw2[x] += w * w;
                      av[x] += w * (v[x] * v[x]);
                      wm[x] = wm[x] > w ? wm[x] : w;
                    }
                else
                  for (int x = 0; x < nx; x++)
                    {
                      float w = exp_neg (-wrow[x] * inv);
                      aw[x] += w;
                      av[x] += w * v[x];
                      wm[x] = wm[x] > w ? wm[x] : w;
                    }
              }
        }

  /* the voxel itself, with the largest weight of its window; then the Rician correction */
  for (int z = 0; z < nzt; z++)
    for (int y = 0; y < nyt; y++)
      {
        const gsize ro = ((gsize) z * nyt + y) * nx;
        const float *c = job->pad + (gsize) (z0 + z + job->pz) * sy +
                         (gsize) (y0 + y + job->py) * sx + (gsize) job->px;
        float *o = job->out + ((gsize) (z0 + z - job->z_begin) * job->ny + (y0 + y)) * nx;
        for (int x = 0; x < nx; x++)
          {
            float wc = w_max[ro + x] > 0.0f ? w_max[ro + x] : 1.0f;
            float vc = job->rician ? c[x] * c[x] : c[x];
            float sw = acc_w[ro + x] + wc;
            float m = (acc_v[ro + x] + wc * vc) / sw;
            if (job->rician)
              {
                /* Standard error of m where there is no signal: m² is then exponential with
                 * mean and standard deviation 2σ², averaged over (Σw)² / Σw² samples. */
                float se = job->two_sigma2 * sqrtf (acc_w2[ro + x] + wc * wc) / sw;
                m -= job->two_sigma2;
                m = m > SIGNAL_Z * se ? sqrtf (m) : 0.0f;
              }
            o[x] = m;
          }
      }
}

static gsize
tile_work_floats (const Job *job)
{
  const gsize zh = TILE_Z + 2 * job->pr[2], yh = TILE_Y + 2 * job->pr[1];
  const gsize xh = job->nx + 2 * job->pr[0], nx = job->nx;
  return zh * yh * xh + zh * yh * nx + zh * TILE_Y * nx + 4 * (gsize) TILE_Z * TILE_Y * nx + nx;
}

static gboolean
run_tiles (gsize begin, gsize end, gpointer data)
{
  Job *job = data;
  g_autofree float *work = g_try_new (float, tile_work_floats (job));

  if (work == NULL)
    return FALSE;
  for (gsize i = begin; i < end; i++)
    {
      filter_tile (job, (int) (i / job->n_tiles_y), (int) (i % job->n_tiles_y), work);
      cu_progress_report_count (job->progress, atomic_fetch_add (&job->done, 1) + 1,
                                job->total, NULL);
    }
  return TRUE;
}

/* Copy frame into a buffer padded by (px, py, pz) voxels on each side, replicating borders. */
static float *
pad_frame (const float *frame, int nx, int ny, int nz, int px, int py, int pz)
{
  const gsize snx = nx + 2 * px, sny = ny + 2 * py, snz = nz + 2 * pz;
  float *pad = g_try_new (float, snx * sny * snz);

  if (pad == NULL)
    return NULL;
  for (gsize z = 0; z < snz; z++)
    {
      int k = CLAMP ((int) z - pz, 0, nz - 1);
      for (gsize y = 0; y < sny; y++)
        {
          int j = CLAMP ((int) y - py, 0, ny - 1);
          const float *src = frame + ((gsize) k * ny + j) * nx;
          float *dst = pad + (z * sny + y) * snx;
          for (int x = 0; x < px; x++)
            {
              dst[x] = src[0];
              dst[px + nx + x] = src[nx - 1];
            }
          memcpy (dst + px, src, (gsize) nx * sizeof (float));
        }
    }
  return pad;
}

/* Radius along each axis: r in-plane (the finer of x and y), fewer voxels across coarser axes
 * so the window spans about the same millimetres, at least 1 where the axis has > 1 voxel. */
static void
axis_radii (const CuVolume *in, int r, int radii[3])
{
  double finest = MIN (in->spacing[0], in->spacing[1]);

  for (int c = 0; c < 3; c++)
    {
      if (in->dims[c] < 2 || r == 0)
        radii[c] = 0;
      else
        radii[c] = CLAMP ((int) floor (r * finest / in->spacing[c] + 0.5), 1, r);
    }
}

static CuVolume *
nlm_filter (const CuVolume    *in,
            const CuNlmParams *params,
            int                z_begin,
            int                z_end,
            double            *sigma_used,
            CuProgress        *progress,
            GCancellable      *cancellable,
            GError           **error)
{
  g_autoptr (CuVolume) out = NULL;
  const int nx = in ? in->dims[0] : 0, ny = in ? in->dims[1] : 0, nz = in ? in->dims[2] : 0;
  const int nt = in ? in->dims[3] : 0;
  double sigma_sum = 0.0;
  Job job;

  g_return_val_if_fail (in != NULL, NULL);
  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (in->voxels == NULL)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("The volume has no voxels to denoise"));
      return NULL;
    }
  if (params->patch_radius < 0 || params->patch_radius > 5 || params->search_radius < 1 ||
      params->search_radius > 12 || !(params->strength > 0) || params->strength > 100 ||
      !(params->sigma >= 0) || !isfinite (params->sigma) || !(params->noise_power >= 0) ||
      !isfinite (params->noise_power))
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("Invalid non-local means parameters: patch radius %d (0–5), search radius %d "
                     "(1–12), strength %g (0–100], noise sigma %g (≥ 0, 0 = estimate)"),
                   params->patch_radius, params->search_radius, params->strength, params->sigma);
      return NULL;
    }

  out = cu_volume_copy (in, FALSE);
  if (out != NULL)
    {
      out->dims[2] = z_end - z_begin;
      out->voxels = g_try_new (float, (gsize) nx * ny * out->dims[2] * nt);
      if (z_begin > 0)
        {
          double ijk[3] = { 0, 0, z_begin };
          cu_volume_index_to_lps (in, ijk, out->origin);
        }
    }
  if (out == NULL || out->voxels == NULL)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                   _("Not enough memory to denoise a %d×%d×%d volume"), nx, ny, nz);
      return NULL;
    }

  memset (&job, 0, sizeof job);
  job.z_begin = z_begin;
  job.z_end = z_end;
  job.nx = nx;
  job.ny = ny;
  job.nz = nz;
  job.rician = params->rician;
  job.progress = progress;
  axis_radii (in, params->patch_radius, job.pr);
  axis_radii (in, params->search_radius, job.sr);
  job.px = job.pr[0] + job.sr[0];
  job.py = job.pr[1] + job.sr[1];
  job.pz = job.pr[2] + job.sr[2];
  job.sx = (gsize) nx + 2 * job.px;
  job.sy = job.sx * ((gsize) ny + 2 * job.py);
  job.n_tiles_y = (ny + TILE_Y - 1) / TILE_Y;
  job.n_tiles_z = (z_end - z_begin + TILE_Z - 1) / TILE_Z;
  job.total = (guint64) job.n_tiles_y * job.n_tiles_z * nt;
  atomic_init (&job.done, 0);

  for (int t = 0; t < nt; t++)
    {
      double sigma = params->sigma;
      g_autofree float *pad = NULL;
      int patch_voxels = (2 * job.pr[0] + 1) * (2 * job.pr[1] + 1) * (2 * job.pr[2] + 1);

      if (sigma == 0.0)
        {
          CuNoiseEstimate est;
          if (!cu_noise_estimate (in, t, params->rician, &est, error))
            return NULL;
          sigma = est.sigma;
        }
      sigma_sum += sigma;
      job.inv_h2p = (float) (1.0 / (patch_voxels * 2.0 * params->strength * sigma * sigma));
      job.two_sigma2 = (float) (params->noise_power > 0 ? params->noise_power :
                                params->rician ? cu_nlm_noise_power (in, t, sigma) :
                                2.0 * sigma * sigma);
      pad = pad_frame (cu_volume_frame (in, t), nx, ny, nz, job.px, job.py, job.pz);
      if (pad == NULL)
        {
          g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                       _("Not enough memory to denoise a %d×%d×%d volume"), nx, ny, nz);
          return NULL;
        }
      job.pad = pad;
      job.out = cu_volume_frame (out, t);
      if (!cu_parallel_for ((gsize) job.n_tiles_y * job.n_tiles_z, 1, 0, run_tiles, &job,
                            cancellable))
        {
          if (!g_cancellable_set_error_if_cancelled (cancellable, error))
            g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_FAILED,
                         _("Not enough memory to denoise a %d×%d×%d volume"), nx, ny, nz);
          return NULL;
        }
    }
  if (sigma_used != NULL)
    *sigma_used = sigma_sum / nt;
  return g_steal_pointer (&out);
}

CuVolume *
cu_nlm_filter (const CuVolume    *in,
               const CuNlmParams *params,
               double            *sigma_used,
               CuProgress        *progress,
               GCancellable      *cancellable,
               GError           **error)
{
  g_return_val_if_fail (in != NULL, NULL);
  return nlm_filter (in, params, 0, in->dims[2], sigma_used, progress, cancellable, error);
}

CuVolume *
cu_nlm_filter_slices (const CuVolume    *in,
                      const CuNlmParams *params,
                      int                k_first,
                      int                k_last,
                      double            *sigma_used,
                      GCancellable      *cancellable,
                      GError           **error)
{
  g_return_val_if_fail (in != NULL, NULL);
  if (k_first < 0 || k_last >= in->dims[2] || k_first > k_last)
    {
      g_set_error (error, CU_DENOISE_ERROR, CU_DENOISE_ERROR_INVALID,
                   _("Slices %d–%d are outside the volume"), k_first, k_last);
      return NULL;
    }
  return nlm_filter (in, params, k_first, k_last + 1, sigma_used, NULL, cancellable, error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume.c — voxels plus LPS geometry; see cu-volume.h for the convention.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-volume.h"
#include "cu-volume-error.h"

G_DEFINE_BOXED_TYPE (CuVolume, cu_volume, cu_volume_ref, cu_volume_unref)

/* 2^31 voxels per volume is far above any clinical series; refusing more keeps index
 * arithmetic in gsize safe and turns a corrupt Rows/Columns into an error, not an OOM kill. */
#define CU_VOLUME_MAX_VOXELS ((gsize) 1 << 31)

/* Voxel memory of at least this size is placed on 2 MiB boundaries and offered to the kernel
 * for transparent huge pages: filling a 512² × 200 float volume (210 MB) then takes about a
 * hundred page faults instead of 51,000, which on a virtual machine cost more than the copy of
 * the voxels. Freed with g_free like any other block (posix_memalign memory). */
#define HUGE_ALLOCATION ((gsize) 8 << 20)
#define HUGE_PAGE ((gsize) 2 << 20)

static float *
voxels_alloc0 (gsize bytes)
{
  void *p = NULL;

  if (bytes < HUGE_ALLOCATION)
    return g_try_malloc0 (bytes);
  if (posix_memalign (&p, HUGE_PAGE, bytes) != 0)
    return NULL;
#ifdef MADV_HUGEPAGE
  madvise (p, bytes - bytes % HUGE_PAGE, MADV_HUGEPAGE);
#endif
  memset (p, 0, bytes);
  return p;
}

CuVolume *
cu_volume_new (int nx, int ny, int nz, int nt, gboolean allocate, GError **error)
{
  g_autoptr (CuVolume) self = NULL;
  gsize n;

  if (nx <= 0 || ny <= 0 || nz <= 0 || nt <= 0)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("Invalid volume size %d×%d×%d×%d"), nx, ny, nz, nt);
      return NULL;
    }
  n = (gsize) nx * (gsize) ny * (gsize) nz * (gsize) nt;
  if (n / (gsize) nx / (gsize) ny / (gsize) nz != (gsize) nt || n > CU_VOLUME_MAX_VOXELS)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_TOO_LARGE,
                   _("Volume of %d×%d×%d×%d voxels is too large"), nx, ny, nz, nt);
      return NULL;
    }

  self = g_new0 (CuVolume, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->dims[0] = nx;
  self->dims[1] = ny;
  self->dims[2] = nz;
  self->dims[3] = nt;
  self->spacing[0] = self->spacing[1] = self->spacing[2] = 1.0;
  self->direction[0] = self->direction[4] = self->direction[8] = 1.0;
  self->stored_type = CU_PIXEL_FLOAT32;
  if (allocate)
    {
      self->voxels = voxels_alloc0 (n * sizeof (float));
      if (self->voxels == NULL)
        {
          g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_TOO_LARGE,
                       _("Not enough memory for %d×%d×%d×%d voxels"), nx, ny, nz, nt);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

CuVolume *
cu_volume_ref (CuVolume *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
cu_volume_unref (CuVolume *self)
{
  g_return_if_fail (self != NULL);
  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_free (self->voxels);
      g_free (self->modality);
      g_free (self->series_uid);
      g_free (self);
    }
}

CuVolume *
cu_volume_copy (const CuVolume *self, gboolean copy_voxels)
{
  CuVolume *copy;

  g_return_val_if_fail (self != NULL, NULL);
  copy = cu_volume_new (self->dims[0], self->dims[1], self->dims[2], self->dims[3], FALSE, NULL);
  g_return_val_if_fail (copy != NULL, NULL);
  memcpy (copy->spacing, self->spacing, sizeof self->spacing);
  memcpy (copy->origin, self->origin, sizeof self->origin);
  memcpy (copy->direction, self->direction, sizeof self->direction);
  copy->stored_type = self->stored_type;
  copy->bits_stored = self->bits_stored;
  copy->rescaled = self->rescaled;
  copy->modality = g_strdup (self->modality);
  copy->series_uid = g_strdup (self->series_uid);
  if (copy_voxels && self->voxels != NULL)
    copy->voxels = g_memdup2 (self->voxels, cu_volume_n_voxels_3d (self) * self->dims[3] * sizeof (float));
  return copy;
}

gsize
cu_volume_n_voxels_3d (const CuVolume *self)
{
  return (gsize) self->dims[0] * (gsize) self->dims[1] * (gsize) self->dims[2];
}

float *
cu_volume_frame (const CuVolume *self, int t)
{
  g_return_val_if_fail (self->voxels != NULL, NULL);
  g_return_val_if_fail (t >= 0 && t < self->dims[3], NULL);
  return self->voxels + (gsize) t * cu_volume_n_voxels_3d (self);
}

void
cu_volume_index_to_lps (const CuVolume *self, const double ijk[3], double lps[3])
{
  for (int r = 0; r < 3; r++)
    {
      lps[r] = self->origin[r];
      for (int c = 0; c < 3; c++)
        lps[r] += self->direction[r * 3 + c] * self->spacing[c] * ijk[c];
    }
}

void
cu_volume_lps_to_index (const CuVolume *self, const double lps[3], double ijk[3])
{
  /* Invert M = D·diag(s) by the adjugate: D need not be orthogonal (tilted gantry). */
  double m[9], inv[9], d[3], det;

  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      m[r * 3 + c] = self->direction[r * 3 + c] * self->spacing[c];

  inv[0] = m[4] * m[8] - m[5] * m[7];
  inv[1] = m[2] * m[7] - m[1] * m[8];
  inv[2] = m[1] * m[5] - m[2] * m[4];
  inv[3] = m[5] * m[6] - m[3] * m[8];
  inv[4] = m[0] * m[8] - m[2] * m[6];
  inv[5] = m[2] * m[3] - m[0] * m[5];
  inv[6] = m[3] * m[7] - m[4] * m[6];
  inv[7] = m[1] * m[6] - m[0] * m[7];
  inv[8] = m[0] * m[4] - m[1] * m[3];
  det = m[0] * inv[0] + m[1] * inv[3] + m[2] * inv[6];
  if (fabs (det) < 1e-12)
    {
      ijk[0] = ijk[1] = ijk[2] = NAN;
      return;
    }
  for (int r = 0; r < 3; r++)
    d[r] = lps[r] - self->origin[r];
  for (int r = 0; r < 3; r++)
    ijk[r] = (inv[r * 3 + 0] * d[0] + inv[r * 3 + 1] * d[1] + inv[r * 3 + 2] * d[2]) / det;
}

gboolean
cu_volume_get_voxel (const CuVolume *self, int i, int j, int k, int t, float *value)
{
  if (self->voxels == NULL || i < 0 || j < 0 || k < 0 || t < 0 || i >= self->dims[0]
      || j >= self->dims[1] || k >= self->dims[2] || t >= self->dims[3])
    return FALSE;
  *value = self->voxels[(((gsize) t * self->dims[2] + k) * self->dims[1] + j) * self->dims[0] + i];
  return TRUE;
}

void
cu_volume_get_range (const CuVolume *self, float *min, float *max)
{
  gsize n;
  float lo = INFINITY, hi = -INFINITY;

  if (self->voxels == NULL)
    {
      *min = *max = 0.f;
      return;
    }
  n = cu_volume_n_voxels_3d (self) * (gsize) self->dims[3];
  for (gsize i = 0; i < n; i++)
    {
      float v = self->voxels[i];
      if (!isfinite (v))
        continue;
      if (v < lo)
        lo = v;
      if (v > hi)
        hi = v;
    }
  if (lo > hi)
    lo = hi = 0.f;
  *min = lo;
  *max = hi;
}

float
cu_volume_percentile (const CuVolume *self, int t, double percentile)
{
  enum { N_BINS = 4096 };
  g_autofree guint64 *hist = NULL;
  const float *v;
  gsize n;
  float lo = INFINITY, hi = -INFINITY;
  guint64 target, acc = 0;
  double scale;

  if (self->voxels == NULL || t < 0 || t >= self->dims[3])
    return 0.f;
  v = cu_volume_frame (self, t);
  n = cu_volume_n_voxels_3d (self);
  guint64 counted = 0;
  /* Only finite voxels count: one ±Inf would make the scale 0 (Inf·0 is NaN, no bin). */
  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (v[i]))
        continue;
      if (v[i] < lo)
        lo = v[i];
      if (v[i] > hi)
        hi = v[i];
      counted++;
    }
  if (counted == 0)
    return 0.f;
  if (!(hi > lo))
    return lo;
  hist = g_new0 (guint64, N_BINS);
  scale = (N_BINS - 1) / ((double) hi - lo);
  for (gsize i = 0; i < n; i++)
    if (isfinite (v[i]))
      hist[CLAMP ((int) ((v[i] - lo) * scale), 0, N_BINS - 1)]++;
  target = (guint64) (CLAMP (percentile, 0.0, 100.0) / 100.0 * (double) counted);
  for (int b = 0; b < N_BINS; b++)
    {
      acc += hist[b];
      if (acc >= target && acc > 0)
        return (float) (lo + b / scale);
    }
  return hi;
}

void
cu_volume_get_normal (const CuVolume *self, double normal[3])
{
  const double *d = self->direction;
  double len;

  /* columns 0 and 1 of the row-major matrix */
  normal[0] = d[3] * d[7] - d[6] * d[4];
  normal[1] = d[6] * d[1] - d[0] * d[7];
  normal[2] = d[0] * d[4] - d[3] * d[1];
  len = sqrt (normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2]);
  if (len > 0)
    for (int r = 0; r < 3; r++)
      normal[r] /= len;
}

char *
cu_volume_axis_label (const CuVolume *self, int axis, gboolean negative)
{
  /* LPS: +x = L, +y = P, +z = S */
  static const char pos[3] = { 'L', 'P', 'S' };
  static const char neg[3] = { 'R', 'A', 'I' };
  double v[3];
  int order[3] = { 0, 1, 2 };
  GString *s = g_string_new (NULL);

  g_return_val_if_fail (axis >= 0 && axis < 3, NULL);
  for (int r = 0; r < 3; r++)
    v[r] = self->direction[r * 3 + axis] * (negative ? -1.0 : 1.0);

  /* sort components by decreasing magnitude */
  for (int a = 0; a < 3; a++)
    for (int b = a + 1; b < 3; b++)
      if (fabs (v[order[b]]) > fabs (v[order[a]]))
        {
          int tmp = order[a];
          order[a] = order[b];
          order[b] = tmp;
        }
  /* Oblique axes get two or three letters; ignore components below ~0.3 (≈ 17°),
   * the usual threshold of radiology viewers for a secondary letter. */
  for (int a = 0; a < 3; a++)
    {
      double c = v[order[a]];
      if (a > 0 && fabs (c) < 0.3)
        break;
      g_string_append_c (s, c >= 0 ? pos[order[a]] : neg[order[a]]);
    }
  return g_string_free (s, FALSE);
}

const char *
cu_pixel_type_to_string (CuPixelType type)
{
  switch (type)
    {
    case CU_PIXEL_UINT8: return "uint8";
    case CU_PIXEL_INT8: return "int8";
    case CU_PIXEL_UINT16: return "uint16";
    case CU_PIXEL_INT16: return "int16";
    case CU_PIXEL_UINT32: return "uint32";
    case CU_PIXEL_INT32: return "int32";
    case CU_PIXEL_FLOAT32: return "float32";
    case CU_PIXEL_FLOAT64: return "float64";
    case CU_PIXEL_UNKNOWN:
    default: return "unknown";
    }
}

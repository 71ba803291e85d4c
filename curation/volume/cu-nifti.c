/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-nifti.c — NIfTI-1 single-file (.nii, .nii.gz) writer and reader.
 *
 * Format: the NIfTI-1 Data Format, NIfTI Data Format Working Group, 2004
 * (https://nifti.nimh.nih.gov/nifti-1/documentation/nifti1fields), header fields as in
 * nifti1.h: a 348-byte header, 4 bytes of (empty) extension flag, voxels from offset 352.
 *
 * Geometry: Curata's LPS affine (cu-volume.h) becomes RAS by negating its first two rows.
 * The sform holds it exactly, even when the grid is sheared (tilted gantry). The qform can
 * only hold a rotation, voxel sizes and a reflection (qfac); it is computed from the polar
 * decomposition of the affine's linear part (the closest orthogonal matrix, as nifti1_io's
 * nifti_mat44_to_quatern does, Higham's iteration: N. J. Higham, "Computing the polar
 * decomposition — with applications", SIAM J. Sci. Stat. Comput. 7:1160–1174, 1986,
 * doi:10.1137/0907079). When that approximation is not exact, qform_code is 0 so that no
 * reader takes it for the true geometry.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "cu-nifti.h"
#include "cu-volume-error.h"

enum
{
  DT_UINT8 = 2,
  DT_INT16 = 4,
  DT_INT32 = 8,
  DT_FLOAT32 = 16,
  DT_FLOAT64 = 64,
  DT_INT8 = 256,
  DT_UINT16 = 512,
  DT_UINT32 = 768,
};

#define NIFTI_UNITS_MM 2
#define NIFTI_UNITS_SEC 8

#pragma pack(push, 1)
typedef struct
{
  gint32 sizeof_hdr;
  char data_type[10];
  char db_name[18];
  gint32 extents;
  gint16 session_error;
  char regular;
  char dim_info;
  gint16 dim[8];
  float intent_p1, intent_p2, intent_p3;
  gint16 intent_code;
  gint16 datatype;
  gint16 bitpix;
  gint16 slice_start;
  float pixdim[8];
  float vox_offset;
  float scl_slope;
  float scl_inter;
  gint16 slice_end;
  char slice_code;
  char xyzt_units;
  float cal_max, cal_min;
  float slice_duration;
  float toffset;
  gint32 glmax, glmin;
  char descrip[80];
  char aux_file[24];
  gint16 qform_code;
  gint16 sform_code;
  float quatern_b, quatern_c, quatern_d;
  float qoffset_x, qoffset_y, qoffset_z;
  float srow_x[4];
  float srow_y[4];
  float srow_z[4];
  char intent_name[16];
  char magic[4];
} NiftiHeader;
#pragma pack(pop)

G_STATIC_ASSERT (sizeof (NiftiHeader) == 348);

#define VOX_OFFSET 352

/* ---- byte order -------------------------------------------------------------------------- */

static void
swap_bytes (void *p, gsize size, gsize count)
{
  guint8 *b = p;

  for (gsize i = 0; i < count; i++, b += size)
    for (gsize a = 0, z = size - 1; a < z; a++, z--)
      {
        guint8 t = b[a];
        b[a] = b[z];
        b[z] = t;
      }
}

static void
swap_header (NiftiHeader *h)
{
  swap_bytes (&h->sizeof_hdr, 4, 1);
  swap_bytes (&h->extents, 4, 1);
  swap_bytes (&h->session_error, 2, 1);
  swap_bytes (h->dim, 2, 8);
  swap_bytes (&h->intent_p1, 4, 3);
  swap_bytes (&h->intent_code, 2, 4);
  swap_bytes (h->pixdim, 4, 8);
  swap_bytes (&h->vox_offset, 4, 3);
  swap_bytes (&h->slice_end, 2, 1);
  swap_bytes (&h->cal_max, 4, 4);
  swap_bytes (&h->glmax, 4, 2);
  swap_bytes (&h->qform_code, 2, 2);
  swap_bytes (&h->quatern_b, 4, 6 + 12);
}

/* ---- geometry ---------------------------------------------------------------------------- */

/* RAS affine (3×4, row-major) of a volume. */
static void
volume_to_ras (const CuVolume *v, double a[12])
{
  for (int r = 0; r < 3; r++)
    {
      double sign = r < 2 ? -1.0 : 1.0;
      for (int c = 0; c < 3; c++)
        a[r * 4 + c] = sign * v->direction[r * 3 + c] * v->spacing[c];
      a[r * 4 + 3] = sign * v->origin[r];
    }
}

static double
det3 (const double m[9])
{
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
         + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

static gboolean
inverse_transpose3 (const double m[9], double out[9])
{
  double d = det3 (m);

  if (fabs (d) < 1e-300)
    return FALSE;
  /* inverse transposed = cofactor matrix / det */
  out[0] = (m[4] * m[8] - m[5] * m[7]) / d;
  out[1] = -(m[3] * m[8] - m[5] * m[6]) / d;
  out[2] = (m[3] * m[7] - m[4] * m[6]) / d;
  out[3] = -(m[1] * m[8] - m[2] * m[7]) / d;
  out[4] = (m[0] * m[8] - m[2] * m[6]) / d;
  out[5] = -(m[0] * m[7] - m[1] * m[6]) / d;
  out[6] = (m[1] * m[5] - m[2] * m[4]) / d;
  out[7] = -(m[0] * m[5] - m[2] * m[3]) / d;
  out[8] = (m[0] * m[4] - m[1] * m[3]) / d;
  return TRUE;
}

/* Orthogonal factor of the polar decomposition m = Q·S (Newton iteration Q ← (Q + Q⁻ᵀ)/2). */
static void
polar_orthogonal (const double m[9], double q[9])
{
  double it[9];

  memcpy (q, m, sizeof (double) * 9);
  for (int iter = 0; iter < 100; iter++)
    {
      double change = 0;
      if (!inverse_transpose3 (q, it))
        break;
      for (int i = 0; i < 9; i++)
        {
          double n = 0.5 * (q[i] + it[i]);
          change = MAX (change, fabs (n - q[i]));
          q[i] = n;
        }
      if (change < 1e-15)
        break;
    }
}

/* Quaternion (b, c, d) and qfac of an orthogonal matrix r (row-major), as nifti1_io does. */
static void
rotation_to_quatern (const double rin[9], double *qb, double *qc, double *qd, double *qfac)
{
  double r[9], a, b, c, d;

  memcpy (r, rin, sizeof r);
  if (det3 (r) > 0)
    *qfac = 1.0;
  else
    {
      *qfac = -1.0;
      r[2] = -r[2];
      r[5] = -r[5];
      r[8] = -r[8];
    }
  a = r[0] + r[4] + r[8] + 1.0;
  if (a > 0.5)
    {
      a = 0.5 * sqrt (a);
      b = 0.25 * (r[7] - r[5]) / a;
      c = 0.25 * (r[2] - r[6]) / a;
      d = 0.25 * (r[3] - r[1]) / a;
    }
  else
    {
      double xd = 1.0 + r[0] - (r[4] + r[8]);
      double yd = 1.0 + r[4] - (r[0] + r[8]);
      double zd = 1.0 + r[8] - (r[0] + r[4]);
      if (xd > 1.0)
        {
          b = 0.5 * sqrt (xd);
          c = 0.25 * (r[1] + r[3]) / b;
          d = 0.25 * (r[2] + r[6]) / b;
          a = 0.25 * (r[7] - r[5]) / b;
        }
      else if (yd > 1.0)
        {
          c = 0.5 * sqrt (yd);
          b = 0.25 * (r[1] + r[3]) / c;
          d = 0.25 * (r[5] + r[7]) / c;
          a = 0.25 * (r[2] - r[6]) / c;
        }
      else
        {
          d = 0.5 * sqrt (zd);
          b = 0.25 * (r[2] + r[6]) / d;
          c = 0.25 * (r[5] + r[7]) / d;
          a = 0.25 * (r[3] - r[1]) / d;
        }
      if (a < 0.0)
        {
          b = -b;
          c = -c;
          d = -d;
        }
    }
  *qb = b;
  *qc = c;
  *qd = d;
}

static void
fill_geometry (NiftiHeader *h, const CuVolume *v)
{
  double a[12], lin[9], q[9], qb, qc, qd, qfac, dev = 0;
  double size[3];

  volume_to_ras (v, a);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      lin[r * 3 + c] = a[r * 4 + c];

  for (int c = 0; c < 4; c++)
    {
      h->srow_x[c] = (float) a[0 * 4 + c];
      h->srow_y[c] = (float) a[1 * 4 + c];
      h->srow_z[c] = (float) a[2 * 4 + c];
    }
  h->sform_code = 1;

  /* qform: voxel sizes are the column norms, the rotation the orthogonal polar factor of the
   * column-normalised linear part. */
  for (int c = 0; c < 3; c++)
    {
      size[c] = sqrt (lin[c] * lin[c] + lin[3 + c] * lin[3 + c] + lin[6 + c] * lin[6 + c]);
      if (size[c] <= 0)
        size[c] = 1.0;
      for (int r = 0; r < 3; r++)
        lin[r * 3 + c] /= size[c];
    }
  polar_orthogonal (lin, q);
  for (int i = 0; i < 9; i++)
    dev = MAX (dev, fabs (q[i] - lin[i]));
  rotation_to_quatern (q, &qb, &qc, &qd, &qfac);
  h->quatern_b = (float) qb;
  h->quatern_c = (float) qc;
  h->quatern_d = (float) qd;
  h->qoffset_x = (float) a[3];
  h->qoffset_y = (float) a[7];
  h->qoffset_z = (float) a[11];
  h->pixdim[0] = (float) qfac;
  for (int c = 0; c < 3; c++)
    h->pixdim[c + 1] = (float) size[c];
  /* 1e-4 in the cosines is < 0.01° and far below float precision of the stored affine. */
  h->qform_code = dev < 1e-4 ? 1 : 0;
}

/* ---- data type --------------------------------------------------------------------------- */

typedef struct
{
  CuPixelType type;
  gint16 code;
  int bytes;
  double lo, hi;
} TypeInfo;

static const TypeInfo types[] = {
  { CU_PIXEL_UINT8, DT_UINT8, 1, 0, 255 },
  { CU_PIXEL_INT8, DT_INT8, 1, -128, 127 },
  { CU_PIXEL_UINT16, DT_UINT16, 2, 0, 65535 },
  { CU_PIXEL_INT16, DT_INT16, 2, -32768, 32767 },
  { CU_PIXEL_UINT32, DT_UINT32, 4, 0, 4294967295.0 },
  { CU_PIXEL_INT32, DT_INT32, 4, -2147483648.0, 2147483647.0 },
  { CU_PIXEL_FLOAT32, DT_FLOAT32, 4, -G_MAXFLOAT, G_MAXFLOAT },
  { CU_PIXEL_FLOAT64, DT_FLOAT64, 8, -G_MAXDOUBLE, G_MAXDOUBLE },
};

static const TypeInfo *
type_info (CuPixelType t)
{
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (types[i].type == t)
      return &types[i];
  return NULL;
}

static const TypeInfo *
type_info_code (int code)
{
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (types[i].code == code)
      return &types[i];
  return NULL;
}

/* The stored integer type if every value is an integer inside its range; else the signed type
 * of the same width, then int32 (a rescale intercept often moves unsigned data below zero);
 * float32 otherwise. */
static const TypeInfo *
choose_type (const CuVolume *v, gsize n)
{
  float lo = INFINITY, hi = -INFINITY;
  gboolean integral = TRUE;
  const TypeInfo *candidates[3] = { NULL, NULL, NULL };

  switch (v->stored_type)
    {
    case CU_PIXEL_UINT8:
    case CU_PIXEL_INT8:
      candidates[0] = type_info (v->stored_type);
      candidates[1] = type_info (CU_PIXEL_INT16);
      candidates[2] = type_info (CU_PIXEL_INT32);
      break;
    case CU_PIXEL_UINT16:
    case CU_PIXEL_INT16:
      candidates[0] = type_info (v->stored_type);
      candidates[1] = type_info (CU_PIXEL_INT16);
      candidates[2] = type_info (CU_PIXEL_INT32);
      break;
    case CU_PIXEL_UINT32:
    case CU_PIXEL_INT32:
      candidates[0] = type_info (v->stored_type);
      candidates[1] = type_info (CU_PIXEL_INT32);
      break;
    default:
      return type_info (CU_PIXEL_FLOAT32);
    }

  for (gsize i = 0; i < n; i++)
    {
      float x = v->voxels[i];
      if (x != floorf (x))   /* also false for NaN and catches ±inf via range below */
        {
          integral = FALSE;
          break;
        }
      if (x < lo)
        lo = x;
      if (x > hi)
        hi = x;
    }
  if (integral && n > 0)
    for (int c = 0; c < 3; c++)
      if (candidates[c] != NULL && lo >= candidates[c]->lo && hi <= candidates[c]->hi)
        return candidates[c];
  return type_info (CU_PIXEL_FLOAT32);
}

static void
convert_block (const float *src, gsize n, const TypeInfo *t, guint8 *dst)
{
  switch (t->type)
    {
    case CU_PIXEL_UINT8:
      for (gsize i = 0; i < n; i++)
        dst[i] = (guint8) src[i];
      break;
    case CU_PIXEL_INT8:
      for (gsize i = 0; i < n; i++)
        ((gint8 *) dst)[i] = (gint8) src[i];
      break;
    case CU_PIXEL_UINT16:
      for (gsize i = 0; i < n; i++)
        ((guint16 *) dst)[i] = GUINT16_TO_LE ((guint16) src[i]);
      break;
    case CU_PIXEL_INT16:
      for (gsize i = 0; i < n; i++)
        ((gint16 *) dst)[i] = GINT16_TO_LE ((gint16) src[i]);
      break;
    case CU_PIXEL_UINT32:
      for (gsize i = 0; i < n; i++)
        ((guint32 *) dst)[i] = GUINT32_TO_LE ((guint32) src[i]);
      break;
    case CU_PIXEL_INT32:
      for (gsize i = 0; i < n; i++)
        ((gint32 *) dst)[i] = GINT32_TO_LE ((gint32) src[i]);
      break;
    case CU_PIXEL_FLOAT32:
    default:
      memcpy (dst, src, n * sizeof (float));
      if (G_BYTE_ORDER == G_BIG_ENDIAN)
        swap_bytes (dst, 4, n);
      break;
    }
}

/* ---- output stream (plain or gzip) ------------------------------------------------------- */

typedef struct
{
  FILE *file;
  gzFile gz;
} Out;

static gboolean
out_write (Out *o, const void *data, gsize len)
{
  if (o->gz != NULL)
    {
      const guint8 *p = data;
      while (len > 0)
        {
          unsigned chunk = (unsigned) MIN (len, (gsize) 1 << 30);
          if (gzwrite (o->gz, p, chunk) != (int) chunk)
            return FALSE;
          p += chunk;
          len -= chunk;
        }
      return TRUE;
    }
  return fwrite (data, 1, len, o->file) == len;
}

static gboolean
has_suffix_gz (const char *path)
{
  return g_str_has_suffix (path, ".gz") || g_str_has_suffix (path, ".GZ");
}

/* What a NIfTI file must not carry: a non-finite or singular affine (every reader would
 * compute garbage world coordinates, or fail to invert it) and ±Inf or NaN voxels (no reader
 * can window or resample them). Such volumes come from hostile headers and are refused here,
 * whatever checks came before, so an export cannot succeed with them. */
static gboolean
check_writable (const CuVolume *v, gsize n, GError **error)
{
  double a[12], m[9], scale = 1.0;

  volume_to_ras (v, a);
  for (int i = 0; i < 12; i++)
    if (!isfinite (a[i]))
      {
        g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                     _("The volume's geometry is not finite (NaN or infinite spacing, "
                       "orientation or origin): no affine can be written"));
        return FALSE;
      }
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      m[r * 3 + c] = a[r * 4 + c];
  for (int c = 0; c < 3; c++)
    scale *= v->spacing[c];
  /* Unit direction columns: |det| is the voxel volume times the sine of the angles between
   * the axes, so a relative threshold tells parallel or zero axes from merely sheared ones. */
  if (!(fabs (det3 (m)) > 1e-6 * fabs (scale)) || scale == 0)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The volume's affine is singular (zero spacing or parallel axes): its "
                     "voxels have no position in space"));
      return FALSE;
    }
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v->voxels[i]))
      {
        g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                     _("Voxel %zu is %s, not a finite value (a modality rescale beyond the "
                       "range of 32-bit floating point?)"),
                     i, isnan (v->voxels[i]) ? "NaN" : v->voxels[i] > 0 ? "+Inf" : "-Inf");
        return FALSE;
      }
  return TRUE;
}

gboolean
cu_nifti_write (const CuVolume *volume, const char *path, GError **error)
{
  NiftiHeader h;
  const TypeInfo *t;
  gsize n, block = 1 << 20;
  g_autofree char *tmp = NULL;
  g_autofree guint8 *buf = NULL;
  guint8 ext[4] = { 0, 0, 0, 0 };
  Out o = { NULL, NULL };
  gboolean ok = TRUE;
  int fd, saved_errno = 0;

  g_return_val_if_fail (volume != NULL && path != NULL, FALSE);
  if (volume->voxels == NULL)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The volume has no voxels to write"));
      return FALSE;
    }
  for (int d = 0; d < 4; d++)
    if (volume->dims[d] > G_MAXINT16)
      {
        g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_TOO_LARGE,
                     _("NIfTI-1 cannot store a dimension of %d voxels"), volume->dims[d]);
        return FALSE;
      }

  n = cu_volume_n_voxels_3d (volume) * (gsize) volume->dims[3];
  if (!check_writable (volume, n, error))
    return FALSE;
  t = choose_type (volume, n);

  memset (&h, 0, sizeof h);
  h.sizeof_hdr = 348;
  h.regular = 'r';
  h.dim[0] = volume->dims[3] > 1 ? 4 : 3;
  for (int d = 0; d < 4; d++)
    h.dim[d + 1] = (gint16) volume->dims[d];
  for (int d = 5; d < 8; d++)
    h.dim[d] = 1;
  h.datatype = t->code;
  h.bitpix = (gint16) (t->bytes * 8);
  fill_geometry (&h, volume);
  /* The repetition time is not part of a CuVolume: 0 says "unknown". */
  h.pixdim[4] = 0.0f;
  h.vox_offset = VOX_OFFSET;
  h.scl_slope = 1.0f;
  h.scl_inter = 0.0f;
  h.xyzt_units = NIFTI_UNITS_MM | NIFTI_UNITS_SEC;
  g_strlcpy (h.descrip, "Curata " PACKAGE_VERSION, sizeof h.descrip);
  memcpy (h.magic, "n+1", 4);
  if (G_BYTE_ORDER == G_BIG_ENDIAN)
    swap_header (&h);

  tmp = g_strconcat (path, ".tmp-XXXXXX", NULL);
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_IO, _("Cannot create %s: %s"), tmp,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (has_suffix_gz (path))
    {
      /* Level 4: nearly the size of level 6 on images at well under half the time. */
      o.gz = gzdopen (fd, "wb4");
      ok = o.gz != NULL;
      if (!ok)
        close (fd);
    }
  else
    {
      o.file = fdopen (fd, "wb");
      ok = o.file != NULL;
      if (!ok)
        close (fd);
    }

  if (ok)
    ok = out_write (&o, &h, sizeof h) && out_write (&o, ext, sizeof ext);
  buf = g_malloc (block * (gsize) t->bytes);
  for (gsize i = 0; ok && i < n; i += block)
    {
      gsize m = MIN (block, n - i);
      convert_block (volume->voxels + i, m, t, buf);
      ok = out_write (&o, buf, m * (gsize) t->bytes);
    }
  if (!ok)
    saved_errno = errno;
  if (o.gz != NULL)
    {
      /* Flush the compressed stream to the descriptor and to the disk before the rename,
       * so that a crash never leaves a renamed but empty file. */
      if (ok && (gzflush (o.gz, Z_FINISH) != Z_OK || fsync (fd) != 0))
        {
          ok = FALSE;
          saved_errno = errno;
        }
      if (gzclose (o.gz) != Z_OK)
        ok = FALSE;
    }
  else if (o.file != NULL)
    {
      if (fflush (o.file) != 0 || fsync (fileno (o.file)) != 0)
        {
          ok = FALSE;
          saved_errno = errno;
        }
      if (fclose (o.file) != 0)
        ok = FALSE;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_IO, _("Cannot write %s: %s"), path,
                   saved_errno ? g_strerror (saved_errno) : _("write error"));
      return FALSE;
    }
  return TRUE;
}

/* ---- reader ------------------------------------------------------------------------------ */

static gboolean
read_all (gzFile gz, void *buf, gsize len)
{
  guint8 *p = buf;

  while (len > 0)
    {
      unsigned chunk = (unsigned) MIN (len, (gsize) 1 << 30);
      int got = gzread (gz, p, chunk);
      if (got <= 0)
        return FALSE;
      p += got;
      len -= (gsize) got;
    }
  return TRUE;
}

CuVolume *
cu_nifti_read (const char *path, GError **error)
{
  NiftiHeader h;
  gzFile gz;
  gboolean swapped = FALSE;
  const TypeInfo *t;
  g_autoptr (CuVolume) v = NULL;
  g_autofree guint8 *raw = NULL;
  int dims[4] = { 1, 1, 1, 1 };
  double a[12];
  gsize n;
  float slope, inter;

  g_return_val_if_fail (path != NULL, NULL);
  /* gzopen reads uncompressed files transparently. */
  gz = gzopen (path, "rb");
  if (gz == NULL)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_IO, _("Cannot open %s: %s"), path,
                   g_strerror (errno));
      return NULL;
    }
  gzbuffer (gz, 1 << 17);
  if (!read_all (gz, &h, sizeof h))
    {
      gzclose (gz);
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("%s is too short to be a NIfTI file"), path);
      return NULL;
    }
  if (h.sizeof_hdr != 348)
    {
      swap_header (&h);
      swapped = TRUE;
    }
  if (h.sizeof_hdr != 348 || memcmp (h.magic, "n+1", 4) != 0)
    {
      gzclose (gz);
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("%s is not a single-file NIfTI-1 image"), path);
      return NULL;
    }
  t = type_info_code (h.datatype);
  if (t == NULL || h.dim[0] < 1 || h.dim[0] > 7)
    {
      gzclose (gz);
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("%s: unsupported NIfTI data type %d or dimension count %d"), path, h.datatype,
                   h.dim[0]);
      return NULL;
    }
  for (int d = 1; d <= h.dim[0]; d++)
    {
      if (h.dim[d] < 1)
        {
          gzclose (gz);
          g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                       _("%s: invalid dimension %d"), path, h.dim[d]);
          return NULL;
        }
      if (d <= 4)
        dims[d - 1] = h.dim[d];
      else
        dims[3] *= h.dim[d];   /* dimensions 5–7 (rare) are folded into the 4th */
    }
  v = cu_volume_new (dims[0], dims[1], dims[2], dims[3], TRUE, error);
  if (v == NULL)
    {
      gzclose (gz);
      return NULL;
    }

  if (gzseek (gz, (z_off_t) MAX (h.vox_offset, 348.0f), SEEK_SET) < 0)
    {
      gzclose (gz);
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID, _("%s: bad voxel offset"), path);
      return NULL;
    }
  n = cu_volume_n_voxels_3d (v) * (gsize) dims[3];
  raw = g_try_malloc (n * (gsize) t->bytes);
  if (raw == NULL || !read_all (gz, raw, n * (gsize) t->bytes))
    {
      gzclose (gz);
      g_set_error (error, CU_VOLUME_ERROR, raw == NULL ? CU_VOLUME_ERROR_TOO_LARGE : CU_VOLUME_ERROR_INVALID,
                   _("%s: voxel data is missing or truncated"), path);
      return NULL;
    }
  gzclose (gz);
  if (swapped != (G_BYTE_ORDER == G_BIG_ENDIAN) && t->bytes > 1)
    swap_bytes (raw, (gsize) t->bytes, n);

  slope = (h.scl_slope != 0 && isfinite (h.scl_slope)) ? h.scl_slope : 1.0f;
  inter = isfinite (h.scl_inter) ? h.scl_inter : 0.0f;
  for (gsize i = 0; i < n; i++)
    {
      double x;
      switch (t->type)
        {
        case CU_PIXEL_UINT8: x = raw[i]; break;
        case CU_PIXEL_INT8: x = ((gint8 *) raw)[i]; break;
        case CU_PIXEL_UINT16: x = ((guint16 *) raw)[i]; break;
        case CU_PIXEL_INT16: x = ((gint16 *) raw)[i]; break;
        case CU_PIXEL_UINT32: x = ((guint32 *) raw)[i]; break;
        case CU_PIXEL_INT32: x = ((gint32 *) raw)[i]; break;
        case CU_PIXEL_FLOAT64: x = ((double *) raw)[i]; break;
        case CU_PIXEL_FLOAT32:
        default: x = ((float *) raw)[i]; break;
        }
      v->voxels[i] = (float) (x * slope + inter);
    }
  v->stored_type = t->type;
  v->rescaled = slope != 1.0f || inter != 0.0f;

  /* Affine: sform if set, else qform, else the voxel sizes alone. */
  if (h.sform_code > 0)
    for (int c = 0; c < 4; c++)
      {
        a[c] = h.srow_x[c];
        a[4 + c] = h.srow_y[c];
        a[8 + c] = h.srow_z[c];
      }
  else if (h.qform_code > 0)
    {
      double b = h.quatern_b, c = h.quatern_c, d = h.quatern_d, qa;
      double qfac = h.pixdim[0] < 0 ? -1.0 : 1.0, r[9];
      qa = 1.0 - (b * b + c * c + d * d);
      qa = qa > 0 ? sqrt (qa) : 0.0;
      r[0] = qa * qa + b * b - c * c - d * d;
      r[1] = 2 * (b * c - qa * d);
      r[2] = 2 * (b * d + qa * c);
      r[3] = 2 * (b * c + qa * d);
      r[4] = qa * qa + c * c - b * b - d * d;
      r[5] = 2 * (c * d - qa * b);
      r[6] = 2 * (b * d - qa * c);
      r[7] = 2 * (c * d + qa * b);
      r[8] = qa * qa + d * d - c * c - b * b;
      for (int row = 0; row < 3; row++)
        {
          for (int col = 0; col < 3; col++)
            a[row * 4 + col] = r[row * 3 + col] * fabs (h.pixdim[col + 1] > 0 ? h.pixdim[col + 1] : 1.0)
                               * (col == 2 ? qfac : 1.0);
        }
      a[3] = h.qoffset_x;
      a[7] = h.qoffset_y;
      a[11] = h.qoffset_z;
    }
  else
    {
      memset (a, 0, sizeof a);
      for (int c = 0; c < 3; c++)
        a[c * 4 + c] = h.pixdim[c + 1] > 0 ? h.pixdim[c + 1] : 1.0;
    }

  for (int c = 0; c < 3; c++)
    {
      double col[3], len;
      for (int r = 0; r < 3; r++)
        col[r] = (r < 2 ? -1.0 : 1.0) * a[r * 4 + c];   /* RAS → LPS */
      len = sqrt (col[0] * col[0] + col[1] * col[1] + col[2] * col[2]);
      if (len <= 0)
        {
          len = 1.0;
          col[0] = col[1] = col[2] = 0;
          col[c] = 1.0;
        }
      v->spacing[c] = len;
      for (int r = 0; r < 3; r++)
        v->direction[r * 3 + c] = col[r] / len;
    }
  for (int r = 0; r < 3; r++)
    v->origin[r] = (r < 2 ? -1.0 : 1.0) * a[r * 4 + 3];
  return g_steal_pointer (&v);
}

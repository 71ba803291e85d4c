/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-j2k-decoder.c — JPEG 2000 (ISO/IEC 15444-1) and HTJ2K (ISO/IEC 15444-15) frames decoded
 * with OpenJPEG ≥ 2.5 from memory.
 *
 * Method: the DICOM fragment bytes are handed to OpenJPEG through a memory stream; the codec
 * is chosen from the signature (raw codestream "FF 4F FF 51" or a JP2 signature box). OpenJPEG
 * applies the inverse multi-component transform itself, so colour comes out as RGB. The decoded
 * image is checked against the DICOM header (size, components, sub-sampling, precision) before
 * a single sample is copied out (PS3.5 A.4.4: the J2K header wins where the two disagree on
 * signedness, which is why sign comes from the codestream).
 *
 * Before any decoder sees a frame, its image and tile size (the SIZ marker segment, ISO/IEC
 * 15444-1 A.5.1, read here byte by byte) must match the DICOM header and fit the memory
 * budget: OpenJPEG allocates the whole picture from SIZ before decoding, and GDCM's codec
 * copies the decoded picture into a buffer sized from Rows and Columns.
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <openjpeg.h>

#include "cu-dicom-header.h"
#include "cu-gdcm-shim-private.h"
#include "cu-j2k-decoder.h"

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} MemStream;

static OPJ_SIZE_T
mem_read (void *buf, OPJ_SIZE_T n, void *user)
{
  MemStream *m = user;
  if (m->pos >= m->len)
    return (OPJ_SIZE_T) -1;
  gsize k = MIN (n, m->len - m->pos);
  memcpy (buf, m->data + m->pos, k);
  m->pos += k;
  return k;
}

static OPJ_OFF_T
mem_skip (OPJ_OFF_T n, void *user)
{
  MemStream *m = user;
  if (n < 0)
    {
      if ((gsize) -n > m->pos)
        n = -(OPJ_OFF_T) m->pos;
    }
  else if ((gsize) n > m->len - m->pos)
    n = (OPJ_OFF_T) (m->len - m->pos);
  m->pos += n;
  return n;
}

static OPJ_BOOL
mem_seek (OPJ_OFF_T n, void *user)
{
  MemStream *m = user;
  if (n < 0 || (gsize) n > m->len)
    return OPJ_FALSE;
  m->pos = n;
  return OPJ_TRUE;
}

static guint32
be32 (const guint8 *p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
}

static guint16
be16 (const guint8 *p)
{
  return (guint16) ((p[0] << 8) | p[1]);
}

/* The codestream inside a JP2 file: the contents of its 'jp2c' box (ISO/IEC 15444-1 I.5). */
static gboolean
jp2_codestream (const guint8 *data, gsize len, const guint8 **cs, gsize *cs_len)
{
  gsize pos = 0;

  while (pos + 8 <= len)
    {
      guint64 box = be32 (data + pos), header = 8;
      if (box == 1)
        {
          if (pos + 16 > len)
            return FALSE;
          box = ((guint64) be32 (data + pos + 8) << 32) | be32 (data + pos + 12);
          header = 16;
        }
      else if (box == 0)
        box = len - pos;   /* the last box runs to the end */
      if (box < header || box > len - pos)
        return FALSE;
      if (memcmp (data + pos + 4, "jp2c", 4) == 0)
        {
          *cs = data + pos + header;
          *cs_len = box - header;
          return TRUE;
        }
      pos += box;
    }
  return FALSE;
}

gboolean
cu_j2k_check_header (const guint8 *data, gsize len, int columns, int rows, int samples,
                     int bytes_per_sample, GError **error)
{
  static const guint8 jp2_sig[] = { 0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
  const guint8 *cs = data;
  gsize cs_len = len;

  if (len >= sizeof jp2_sig && memcmp (data, jp2_sig, sizeof jp2_sig) == 0
      && !jp2_codestream (data, len, &cs, &cs_len))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG 2000 decoding failed: the JP2 file has no codestream box"));
      return FALSE;
    }
  /* SOC, then SIZ: marker, Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz,
   * Csiz, and Ssiz, XRsiz, YRsiz per component. */
  if (cs_len < 4 + 40 || be16 (cs) != 0xFF4F || be16 (cs + 2) != 0xFF51)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("the frame is not a JPEG 2000 codestream (no SOC/SIZ marker)"));
      return FALSE;
    }
  const guint8 *siz = cs + 4;
  guint16 lsiz = be16 (siz);
  guint32 x1 = be32 (siz + 4), y1 = be32 (siz + 8), x0 = be32 (siz + 12), y0 = be32 (siz + 16);
  guint32 tw = be32 (siz + 20), th = be32 (siz + 24), tx0 = be32 (siz + 28),
          ty0 = be32 (siz + 32);
  guint16 ncomp = be16 (siz + 36);

  if (lsiz < 38 + 3 * (gsize) ncomp || 4 + (gsize) lsiz > cs_len || x1 <= x0 || y1 <= y0
      || tw == 0 || th == 0 || tx0 > x0 || ty0 > y0)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG 2000 decoding failed: invalid image and tile size marker (SIZ)"));
      return FALSE;
    }
  /* Tile indices (Isot) are 16-bit, 0…65534 (A.4.2): more tiles than that is not a
   * codestream, and OpenJPEG would allocate per-tile structures for each of them. */
  guint64 tiles_x = ((guint64) x1 - tx0 + tw - 1) / tw, tiles_y = ((guint64) y1 - ty0 + th - 1) / th;
  if (tiles_x * tiles_y > 65535)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG 2000 decoding failed: invalid image and tile size marker (SIZ)"));
      return FALSE;
    }
  if ((int) ncomp != samples)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG 2000 decoding failed: %u components in the codestream, %d samples in "
                     "the header"), ncomp, samples);
      return FALSE;
    }
  if ((gint64) x1 - x0 != columns || (gint64) y1 - y0 != rows)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG 2000 decoding failed: the codestream's picture is %u×%u, the header "
                     "says %d×%d"), x1 - x0, y1 - y0, columns, rows);
      return FALSE;
    }
  for (guint c = 0; c < ncomp; c++)
    {
      const guint8 *comp = siz + 38 + 3 * c;
      guint prec = (comp[0] & 0x7F) + 1;
      if (comp[1] != 1 || comp[2] != 1)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                       _("JPEG 2000 decoding failed: component %u is sub-sampled (%u×%u)"), c,
                       comp[1], comp[2]);
          return FALSE;
        }
      if (prec > (guint) bytes_per_sample * 8)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                       _("JPEG 2000 decoding failed: %u-bit samples do not fit %d-bit storage"),
                       prec, bytes_per_sample * 8);
          return FALSE;
        }
    }
  /* OpenJPEG holds every sample as a 32-bit integer while it decodes. */
  guint64 need = (guint64) columns * (guint64) rows * (guint64) samples * 4;
  if (need > _cu_dicom_memory_budget ())
    {
      g_autofree char *need_str = g_format_size (need);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG 2000 decoding failed: the frame would take %s in memory"), need_str);
      return FALSE;
    }
  return TRUE;
}

static void
capture_error (const char *msg, void *user)
{
  GString *s = user;
  if (s->len == 0)
    {
      g_string_append (s, msg);
      while (s->len > 0 && (s->str[s->len - 1] == '\n' || s->str[s->len - 1] == ' '))
        g_string_truncate (s, s->len - 1);
    }
}

static void
ignore_message (const char *msg, void *user)
{
}

gboolean
cu_j2k_decode_frame (const guint8 *data, gsize len, int columns, int rows, int samples,
                     int bytes_per_sample, guint8 *out, GError **error)
{
  static const guint8 jp2_sig[] = { 0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
  g_autoptr (GString) why = g_string_new (NULL);
  OPJ_CODEC_FORMAT format;
  opj_codec_t *codec = NULL;
  opj_stream_t *stream = NULL;
  opj_image_t *image = NULL;
  opj_dparameters_t params;
  MemStream mem = { data, len, 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (bytes_per_sample == 1 || bytes_per_sample == 2 || bytes_per_sample == 4,
                        FALSE);

  if (!cu_j2k_check_header (data, len, columns, rows, samples, bytes_per_sample, error))
    return FALSE;
  if (len >= 4 && data[0] == 0xFF && data[1] == 0x4F && data[2] == 0xFF && data[3] == 0x51)
    format = OPJ_CODEC_J2K;
  else if (len >= sizeof jp2_sig && memcmp (data, jp2_sig, sizeof jp2_sig) == 0)
    format = OPJ_CODEC_JP2;
  else
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("the frame is not a JPEG 2000 codestream (no SOC/SIZ marker)"));
      return FALSE;
    }

  codec = opj_create_decompress (format);
  opj_set_error_handler (codec, capture_error, why);
  opj_set_warning_handler (codec, ignore_message, NULL);
  opj_set_info_handler (codec, ignore_message, NULL);
  opj_set_default_decoder_parameters (&params);
  if (!opj_setup_decoder (codec, &params))
    goto out;
  /* Strict: a truncated codestream is an error, not a partially decoded (blurred) image. */
  if (!opj_decoder_set_strict_mode (codec, OPJ_TRUE))
    goto out;

  stream = opj_stream_create (MIN (len, (gsize) 1 << 20), OPJ_TRUE);
  opj_stream_set_user_data (stream, &mem, NULL);
  opj_stream_set_user_data_length (stream, len);
  opj_stream_set_read_function (stream, mem_read);
  opj_stream_set_skip_function (stream, mem_skip);
  opj_stream_set_seek_function (stream, mem_seek);

  if (!opj_read_header (stream, codec, &image))
    goto out;
  /* What OpenJPEG itself read must be what was checked above (a JP2 header could say more). */
  if ((int) image->numcomps != samples || image->x1 - image->x0 != (OPJ_UINT32) columns
      || image->y1 - image->y0 != (OPJ_UINT32) rows)
    {
      g_string_printf (why, _("the codestream's picture is %u×%u, the header says %d×%d"),
                       image->x1 - image->x0, image->y1 - image->y0, columns, rows);
      goto out;
    }
  if (!opj_decode (codec, stream, image) || !opj_end_decompress (codec, stream))
    goto out;

  if ((int) image->numcomps != samples)
    {
      g_string_printf (why, _("%u components in the codestream, %d samples in the header"),
                       image->numcomps, samples);
      goto out;
    }
  for (int c = 0; c < samples; c++)
    {
      const opj_image_comp_t *comp = &image->comps[c];
      if ((int) comp->w != columns || (int) comp->h != rows || comp->dx != 1 || comp->dy != 1
          || comp->data == NULL)
        {
          g_string_printf (why, _("component %d is %u×%u, the header says %d×%d"), c, comp->w,
                           comp->h, columns, rows);
          goto out;
        }
      if (comp->prec < 1 || comp->prec > (OPJ_UINT32) bytes_per_sample * 8)
        {
          g_string_printf (why, _("%u-bit samples do not fit %d-bit storage"), comp->prec,
                           bytes_per_sample * 8);
          goto out;
        }
    }

  gsize n = (gsize) columns * rows;
  for (int c = 0; c < samples; c++)
    {
      const OPJ_INT32 *src = image->comps[c].data;
      switch (bytes_per_sample)
        {
        case 1:
          for (gsize i = 0; i < n; i++)
            out[i * samples + c] = (guint8) src[i];
          break;
        case 2:
          {
            guint16 *o = (guint16 *) out;
            for (gsize i = 0; i < n; i++)
              o[i * samples + c] = (guint16) src[i];
          }
          break;
        default:
          {
            guint32 *o = (guint32 *) out;
            for (gsize i = 0; i < n; i++)
              o[i * samples + c] = (guint32) src[i];
          }
          break;
        }
    }
  ok = TRUE;

out:
  if (!ok)
    g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE, _("JPEG 2000 decoding failed: %s"),
                 why->len > 0 ? why->str : _("corrupt or truncated codestream"));
  if (image != NULL)
    opj_image_destroy (image);
  if (stream != NULL)
    opj_stream_destroy (stream);
  if (codec != NULL)
    opj_destroy_codec (codec);
  return ok;
}

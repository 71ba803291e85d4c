/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-pixels.c — decoding the pixel data of one DICOM file.
 *
 * Native syntaxes (PS3.5 §8.1.1) are read with pread() from the offset the header reader
 * recorded: no codec and no second parse, so loading a series costs about what reading its
 * bytes costs. Encapsulated syntaxes (PS3.5 A.4) go through GDCM; the encodings Debian's GDCM
 * 3.0 cannot decode are handled here from the fragments: JPEG 2000 / HTJ2K with OpenJPEG,
 * JPEG-LS with CharLS, Deflated Image Frame Compression (PS3.5 A.4.11, a raw RFC 1951 stream per
 * frame) with zlib. Every path checks that what was decoded has the size and precision the
 * header describes; anything else is an error, never garbage pixels.
 *
 * Stored values are then reduced to Bits Stored with sign extension (PS3.5 §8.1.1: bits above
 * High Bit may hold overlays or garbage), except for JPEG 2000 whose codestream defines its own
 * precision and sign (PS3.5 A.4.4).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <zlib.h>

#include "cu-dicom-pixels.h"
#include "cu-gdcm-shim-private.h"
#include "cu-j2k-decoder.h"
#include "cu-jpegls-decoder.h"

#define TS_DEFLATE_FRAMES "1.2.840.10008.1.2.8.1"

static gboolean
ts_is (const CuDicomHeader *h, const char *uid)
{
  return g_strcmp0 (h->transfer_syntax, uid) == 0;
}

static gboolean
ts_is_j2k (const CuDicomHeader *h)
{
  return ts_is (h, "1.2.840.10008.1.2.4.90") || ts_is (h, "1.2.840.10008.1.2.4.91");
}

static gboolean
ts_is_htj2k (const CuDicomHeader *h)
{
  return ts_is (h, "1.2.840.10008.1.2.4.201") || ts_is (h, "1.2.840.10008.1.2.4.202")
         || ts_is (h, "1.2.840.10008.1.2.4.203");
}

static gboolean
ts_is_jpegls (const CuDicomHeader *h)
{
  return ts_is (h, "1.2.840.10008.1.2.4.80") || ts_is (h, "1.2.840.10008.1.2.4.81");
}

static gboolean
ts_is_rle (const CuDicomHeader *h)
{
  return ts_is (h, "1.2.840.10008.1.2.5");
}

static int
bytes_per_sample (const CuDicomHeader *h)
{
  return h->bits_allocated == 1 ? 1 : h->bits_allocated / 8;
}

static guint
n_frames (const CuDicomHeader *h)
{
  return (guint) MAX (h->number_of_frames, 1);
}

static gsize
frame_samples (const CuDicomHeader *h)
{
  return (gsize) h->rows * h->columns * h->samples_per_pixel;
}

/* Sanity of the Image Pixel module before any allocation is sized from it. */
static gboolean
check_header (const CuDicomHeader *h, GError **error)
{
  guint64 stored, decoded;

  if (!h->has_pixels)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MISSING,
                   _("%s: the object has no pixel data"), h->path);
      return FALSE;
    }
  if (h->rows <= 0 || h->columns <= 0 || h->rows > 65535 || h->columns > 65535
      || h->samples_per_pixel < 1 || h->samples_per_pixel > 4 || h->number_of_frames > 1000000
      || (h->bits_allocated != 1 && h->bits_allocated != 8 && h->bits_allocated != 16
          && h->bits_allocated != 32)
      || h->bits_stored < 1 || h->bits_stored > h->bits_allocated
      || !_cu_dicom_pixel_bytes (h, &stored, &decoded))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
                   _("%s: unsupported pixel layout (%d×%d, %d samples, %d bits allocated, %d "
                     "stored, %d frames)"),
                   h->path, h->columns, h->rows, h->samples_per_pixel, h->bits_allocated,
                   h->bits_stored, h->number_of_frames);
      return FALSE;
    }
  /* Decoding holds the stored samples and, for float output, 4 bytes per pixel besides. */
  if (decoded + (gsize) h->rows * h->columns * n_frames (h) * sizeof (float)
      > _cu_dicom_memory_budget ())
    {
      g_autofree char *need = g_format_size (decoded);
      g_autofree char *budget = g_format_size (_cu_dicom_memory_budget ());
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
                   _("%s: the pixel data would take %s in memory, more than the %s allowed"),
                   h->path, need, budget);
      return FALSE;
    }
  return TRUE;
}

static gsize
raw_size (const CuDicomHeader *h)
{
  return frame_samples (h) * n_frames (h) * bytes_per_sample (h);
}

static gboolean
pread_all (int fd, guint8 *buf, gsize len, gint64 offset)
{
  while (len > 0)
    {
      ssize_t n = pread (fd, buf, len, offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      buf += n;
      len -= n;
      offset += n;
    }
  return TRUE;
}

/* Bits Allocated 1 (segmentations): PS3.5 §8.1.1, bits packed little-endian-first within each
 * byte, frames following each other without byte alignment. */
static void
unpack_bits (const guint8 *packed, guint64 first_bit, guint8 *out, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      guint64 b = first_bit + i;
      out[i] = (packed[b >> 3] >> (b & 7)) & 1;
    }
}

/* Keep only the Bits Stored bits at High Bit, sign-extended when Pixel Representation is 1. */
static void
mask_to_bits_stored (const CuDicomHeader *h, guint8 *data, gsize n)
{
  int ba = h->bits_allocated, bs = h->bits_stored;
  int shift = h->high_bit + 1 - bs;
  gboolean is_signed = h->pixel_representation == 1;

  if (ba == 1 || (bs == ba && shift == 0))
    return;
  if (shift < 0 || h->high_bit >= ba)
    shift = 0;

  guint32 mask = bs >= 32 ? 0xFFFFFFFFu : ((guint32) 1 << bs) - 1;
  guint32 sign = (guint32) 1 << (bs - 1);

#define MASK_LOOP(type)                                                  \
  {                                                                      \
    type *p = (type *) data;                                             \
    for (gsize i = 0; i < n; i++)                                        \
      {                                                                  \
        guint32 v = ((guint32) p[i] >> shift) & mask;                    \
        if (is_signed && (v & sign))                                     \
          v |= ~mask;                                                    \
        p[i] = (type) v;                                                 \
      }                                                                  \
  }
  if (ba == 8)
    MASK_LOOP (guint8)
  else if (ba == 16)
    MASK_LOOP (guint16)
  else
    MASK_LOOP (guint32)
#undef MASK_LOOP
}

static void
interleave_planes (const CuDicomHeader *h, guint8 *data)
{
  int spp = h->samples_per_pixel, bps = bytes_per_sample (h);
  gsize plane = (gsize) h->rows * h->columns;
  gsize frame_bytes = plane * spp * bps;
  g_autofree guint8 *tmp = g_malloc (frame_bytes);

  for (guint f = 0; f < n_frames (h); f++)
    {
      guint8 *frame = data + f * frame_bytes;
      memcpy (tmp, frame, frame_bytes);
      for (gsize p = 0; p < plane; p++)
        for (int s = 0; s < spp; s++)
          memcpy (frame + (p * spp + s) * bps, tmp + (s * plane + p) * bps, bps);
    }
}

static gboolean
read_native (const CuDicomHeader *h, guint8 *out, GError **error)
{
  gsize n_samples = frame_samples (h) * n_frames (h);
  gsize need = h->bits_allocated == 1 ? (n_samples + 7) / 8 : raw_size (h);
  g_autofree guint8 *packed = NULL;
  int fd;

  if (h->photometric != NULL && g_str_has_prefix (h->photometric, "YBR_FULL_422"))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
                   _("%s: unsupported encoding: native YBR_FULL_422 (sub-sampled) pixel data"),
                   h->path);
      return FALSE;
    }
  if (h->pixel_offset < 0 || (h->pixel_length >= 0 && (gsize) h->pixel_length < need)
      || h->pixel_offset + (gint64) need > h->file_size)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: pixel data holds %lld bytes, %zu are needed for %d×%d×%d"), h->path,
                   (long long) MAX (h->pixel_length >= 0 ? MIN (h->pixel_length,
                                                                h->file_size - h->pixel_offset)
                                                         : h->file_size - h->pixel_offset, 0),
                   need, h->columns, h->rows, n_frames (h));
      return FALSE;
    }

  fd = g_open (h->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot open: %s"), h->path,
                   g_strerror (saved));
      return FALSE;
    }
#ifdef POSIX_FADV_SEQUENTIAL
  posix_fadvise (fd, h->pixel_offset, need, POSIX_FADV_SEQUENTIAL);
#endif

  guint8 *dst = out;
  if (h->bits_allocated == 1)
    dst = packed = g_malloc (need);
  gboolean ok = pread_all (fd, dst, need, h->pixel_offset);

  /* Explicit VR Big Endian stores 8-bit samples in OW words byte-swapped (PS3.5 §8.1.1). */
  gboolean swap8 = FALSE;
  if (ok && h->big_endian && h->bits_allocated == 8 && h->pixel_offset >= 12)
    {
      guint8 vr[2];
      swap8 = pread_all (fd, vr, 2, h->pixel_offset - 8) && vr[0] == 'O' && vr[1] == 'W';
    }
  close (fd);
  if (!ok)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO,
                   _("%s: cannot read the pixel data"), h->path);
      return FALSE;
    }

  if (h->bits_allocated == 1)
    unpack_bits (packed, 0, out, n_samples);
  else if (h->big_endian && h->bits_allocated == 16)
    {
      guint16 *p = (guint16 *) out;
      for (gsize i = 0; i < n_samples; i++)
        p[i] = GUINT16_FROM_BE (p[i]);
    }
  else if (h->big_endian && h->bits_allocated == 32)
    {
      guint32 *p = (guint32 *) out;
      for (gsize i = 0; i < n_samples; i++)
        p[i] = GUINT32_FROM_BE (p[i]);
    }
  else if (swap8)
    {
      for (gsize i = 0; i + 1 < need; i += 2)
        {
          guint8 t = out[i];
          out[i] = out[i + 1];
          out[i + 1] = t;
        }
    }
#if G_BYTE_ORDER == G_BIG_ENDIAN
  else if (!h->big_endian && h->bits_allocated == 16)
    {
      guint16 *p = (guint16 *) out;
      for (gsize i = 0; i < n_samples; i++)
        p[i] = GUINT16_FROM_LE (p[i]);
    }
  else if (!h->big_endian && h->bits_allocated == 32)
    {
      guint32 *p = (guint32 *) out;
      for (gsize i = 0; i < n_samples; i++)
        p[i] = GUINT32_FROM_LE (p[i]);
    }
#endif

  if (h->samples_per_pixel > 1 && h->planar_configuration == 1)
    interleave_planes (h, out);
  mask_to_bits_stored (h, out, n_samples);
  return TRUE;
}

/* ---- Fragments ------------------------------------------------------------------------- */

typedef struct
{
  guint8 *data;       /* everything from the Pixel Data value to the end of the file */
  GArray *frag_off;   /* offset of each fragment's value in data */
  GArray *frag_len;
  GArray *frag_item;  /* offset of each fragment's item tag, relative to the first fragment */
  GArray *bot;        /* Basic Offset Table entries */
} Fragments;

static void
fragments_clear (Fragments *fr)
{
  g_free (fr->data);
  if (fr->frag_off != NULL)
    g_array_unref (fr->frag_off);
  if (fr->frag_len != NULL)
    g_array_unref (fr->frag_len);
  if (fr->frag_item != NULL)
    g_array_unref (fr->frag_item);
  if (fr->bot != NULL)
    g_array_unref (fr->bot);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Fragments, fragments_clear)

static guint32
le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* PS3.5 A.4: item (FFFE,E000) Basic Offset Table, then one item per fragment, then the
 * sequence delimiter (FFFE,E0DD). Always little endian. */
static gboolean
read_fragments (const CuDicomHeader *h, Fragments *fr, GError **error)
{
  gsize len = (gsize) (h->file_size - h->pixel_offset);
  int fd = g_open (h->path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot open: %s"), h->path,
                   g_strerror (saved));
      return FALSE;
    }
  fr->data = g_malloc (MAX (len, 1));
  gboolean ok = pread_all (fd, fr->data, len, h->pixel_offset);
  close (fd);
  if (!ok)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO,
                   _("%s: cannot read the pixel data"), h->path);
      return FALSE;
    }

  fr->frag_off = g_array_new (FALSE, FALSE, sizeof (gsize));
  fr->frag_len = g_array_new (FALSE, FALSE, sizeof (gsize));
  fr->frag_item = g_array_new (FALSE, FALSE, sizeof (gsize));
  fr->bot = g_array_new (FALSE, FALSE, sizeof (guint32));

  gsize pos = 0, first_fragment = 0;
  gboolean seen_bot = FALSE;
  for (;;)
    {
      if (pos + 8 > len)
        goto truncated;
      guint16 group = fr->data[pos] | (fr->data[pos + 1] << 8);
      guint16 elem = fr->data[pos + 2] | (fr->data[pos + 3] << 8);
      guint32 ilen = le32 (fr->data + pos + 4);
      if (group == 0xFFFE && elem == 0xE0DD)
        break;
      if (group != 0xFFFE || elem != 0xE000 || ilen == 0xFFFFFFFFu || pos + 8 + ilen > len)
        goto truncated;
      if (!seen_bot)
        {
          seen_bot = TRUE;
          for (guint32 i = 0; i + 4 <= ilen; i += 4)
            {
              guint32 o = le32 (fr->data + pos + 8 + i);
              g_array_append_val (fr->bot, o);
            }
          first_fragment = pos + 8 + ilen;
        }
      else
        {
          gsize off = pos + 8, flen = ilen, item = pos - first_fragment;
          g_array_append_val (fr->frag_off, off);
          g_array_append_val (fr->frag_len, flen);
          g_array_append_val (fr->frag_item, item);
        }
      pos += 8 + ilen;
    }
  if (fr->frag_off->len == 0)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: encapsulated pixel data has no fragments"), h->path);
      return FALSE;
    }
  return TRUE;

truncated:
  g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
               _("%s: encapsulated pixel data is truncated or has a bad item"), h->path);
  return FALSE;
}

static gboolean
is_j2k_start (const guint8 *p, gsize len)
{
  static const guint8 jp2_sig[] = { 0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20 };
  return (len >= 4 && p[0] == 0xFF && p[1] == 0x4F && p[2] == 0xFF && p[3] == 0x51)
         || (len >= 8 && memcmp (p, jp2_sig, 8) == 0);
}

static gboolean
is_jpegls_start (const guint8 *p, gsize len)
{
  return len >= 2 && p[0] == 0xFF && p[1] == 0xD8;
}

/* Group fragments into frames: one frame → all fragments; as many fragments as frames → one
 * each; a Basic Offset Table → its offsets; otherwise a new frame starts at each fragment that
 * begins with the codec's start-of-stream marker. Returns, per frame, [first, last) indices. */
static gboolean
group_frames (const CuDicomHeader *h, const Fragments *fr,
              gboolean (*is_start) (const guint8 *, gsize), GArray *first, GError **error)
{
  guint nf = n_frames (h), nfrag = fr->frag_off->len;
  guint i;

  if (nf == 1)
    {
      i = 0;
      g_array_append_val (first, i);
    }
  else if (nfrag == nf)
    {
      for (i = 0; i < nf; i++)
        g_array_append_val (first, i);
    }
  else if (fr->bot->len == nf)
    {
      for (guint f = 0; f < nf; f++)
        {
          guint32 want = g_array_index (fr->bot, guint32, f);
          for (i = 0; i < nfrag && g_array_index (fr->frag_item, gsize, i) != want; i++)
            ;
          if (i == nfrag)
            break;
          g_array_append_val (first, i);
        }
    }
  else if (is_start != NULL)
    {
      for (i = 0; i < nfrag; i++)
        {
          gsize off = g_array_index (fr->frag_off, gsize, i);
          if (is_start (fr->data + off, g_array_index (fr->frag_len, gsize, i)))
            g_array_append_val (first, i);
        }
    }

  if (first->len != nf || (nf > 0 && g_array_index (first, guint, 0) != 0))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: cannot tell which of the %u fragments belong to which of the %u "
                     "frames"), h->path, nfrag, nf);
      return FALSE;
    }
  i = nfrag;
  g_array_append_val (first, i);
  return TRUE;
}

/* The bytes of one frame: the fragment itself, or the fragments concatenated. */
static const guint8 *
frame_bytes (const Fragments *fr, guint a, guint b, gsize *len, guint8 **owned)
{
  *owned = NULL;
  if (b == a + 1)
    {
      *len = g_array_index (fr->frag_len, gsize, a);
      return fr->data + g_array_index (fr->frag_off, gsize, a);
    }
  gsize total = 0;
  for (guint i = a; i < b; i++)
    total += g_array_index (fr->frag_len, gsize, i);
  guint8 *buf = g_malloc (MAX (total, 1));
  gsize at = 0;
  for (guint i = a; i < b; i++)
    {
      gsize l = g_array_index (fr->frag_len, gsize, i);
      memcpy (buf + at, fr->data + g_array_index (fr->frag_off, gsize, i), l);
      at += l;
    }
  *len = total;
  *owned = buf;
  return buf;
}

typedef enum { CODEC_J2K, CODEC_JPEGLS, CODEC_DEFLATE, CODEC_RLE } DirectCodec;

/* One PackBits segment (PS3.5 G.3.1) into exactly want bytes, never more: the decoded size is
 * checked while decoding, so a stream that claims more than Rows × Columns stops here. Like
 * pydicom's decoder, a literal run cut short by the end of the segment (the even-length pad
 * byte) adds what is there. */
static gboolean
rle_segment (const guint8 *src, gsize len, guint8 *dst, gsize want)
{
  gsize in = 0, out = 0;

  while (in < len)
    {
      gint8 n = (gint8) src[in++];
      if (n >= 0)
        {
          gsize k = MIN ((gsize) n + 1, len - in);
          if (k > want - out)
            return FALSE;
          memcpy (dst + out, src + in, k);
          in += k;
          out += k;
        }
      else if (n != -128)
        {
          gsize k = (gsize) (1 - n);
          if (in >= len)
            break;
          if (k > want - out)
            return FALSE;
          memset (dst + out, src[in++], k);
          out += k;
        }
    }
  return out == want;
}

/* One RLE Lossless frame (PS3.5 Annex G): a 64-byte header with the number of segments and
 * their offsets, one segment per byte of each sample, most significant byte first. The number
 * of segments must be Samples per Pixel × Bits Allocated / 8 and each must decode to exactly
 * Rows × Columns bytes: anything else describes another image. */
static gboolean
rle_frame (const CuDicomHeader *h, const guint8 *src, gsize len, guint8 *out, GError **error)
{
  int spp = h->samples_per_pixel, bps = bytes_per_sample (h);
  gsize plane = (gsize) h->rows * h->columns;
  g_autofree guint8 *seg = NULL;
  guint32 nseg, off[16];

  if (len < 64)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("RLE frame is shorter than its 64-byte header"));
      return FALSE;
    }
  nseg = le32 (src);
  if (nseg != (guint32) (spp * bps) || nseg > 15)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("RLE frame has %u segments, the header needs %d (%d samples of %d bits)"),
                   nseg, spp * bps, spp, h->bits_allocated);
      return FALSE;
    }
  for (guint i = 0; i < nseg; i++)
    off[i] = le32 (src + 4 + 4 * i);
  off[nseg] = (guint32) MIN (len, G_MAXUINT32);
  seg = g_malloc (plane);
  for (guint i = 0; i < nseg; i++)
    {
      if (off[i] < 64 || off[i] > off[i + 1] || off[i + 1] > len)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                       _("RLE segment %u has an invalid offset"), i + 1);
          return FALSE;
        }
      if (!rle_segment (src + off[i], off[i + 1] - off[i], seg, plane))
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                       _("RLE segment %u does not decode to %d×%d bytes"), i + 1, h->columns,
                       h->rows);
          return FALSE;
        }
      /* Segment i holds byte (i mod bps) of sample (i / bps), most significant first. */
      int sample = (int) i / bps, significance = bps - 1 - (int) i % bps;
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      int byte = significance;
#else
      int byte = bps - 1 - significance;
#endif
      for (gsize p = 0; p < plane; p++)
        out[(p * spp + sample) * bps + byte] = seg[p];
    }
  return TRUE;
}

static gboolean
inflate_frame (const CuDicomHeader *h, const guint8 *src, gsize len, guint8 *out,
               GError **error)
{
  gsize n = frame_samples (h);
  gsize want = h->bits_allocated == 1 ? (n + 7) / 8 : n * bytes_per_sample (h);
  g_autofree guint8 *packed = h->bits_allocated == 1 ? g_malloc (want) : NULL;
  guint8 *dst = packed != NULL ? packed : out;
  z_stream zs = { 0 };
  int rc;

  /* Raw deflate (RFC 1951) as the standard says; a zlib wrapper is accepted too. */
  rc = inflateInit2 (&zs, len >= 2 && (src[0] & 0x0F) == 8 && ((src[0] << 8) | src[1]) % 31 == 0
                          ? 15 : -15);
  if (rc != Z_OK)
    goto fail;
  zs.next_in = (Bytef *) src;
  zs.avail_in = (uInt) len;
  zs.next_out = dst;
  zs.avail_out = (uInt) want;
  rc = inflate (&zs, Z_FINISH);
  inflateEnd (&zs);
  /* A frame padded to an even length may inflate to one byte more than the frame needs. */
  if ((rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && zs.avail_out == 0)) || zs.avail_out != 0)
    goto fail;
  if (packed != NULL)
    unpack_bits (packed, 0, out, n);
#if G_BYTE_ORDER == G_BIG_ENDIAN
#error "deflated frames are little endian; add swapping for big-endian hosts"
#endif
  return TRUE;

fail:
  g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
               _("deflated frame does not inflate to %zu bytes (%s)"), want,
               zs.msg != NULL ? zs.msg : _("corrupt or short stream"));
  return FALSE;
}

/* Decode every frame with a codec here. *streams_match (may be NULL) tells whether every
 * frame was found and its stream header (J2K SIZ, JPEG-LS SOF) describes the image of the
 * DICOM header: only then may another decoder try a frame this one failed on. */
static gboolean
decode_direct (const CuDicomHeader *h, DirectCodec codec, guint8 *out, gboolean *streams_match,
               GError **error)
{
  g_auto (Fragments) fr = { 0 };
  g_autoptr (GArray) first = g_array_new (FALSE, FALSE, sizeof (guint));
  gsize frame_out = frame_samples (h) * bytes_per_sample (h);

  if (streams_match != NULL)
    *streams_match = FALSE;
  if (!read_fragments (h, &fr, error))
    return FALSE;
  if (!group_frames (h, &fr,
                     codec == CODEC_J2K ? is_j2k_start
                     : codec == CODEC_JPEGLS ? is_jpegls_start : NULL,
                     first, error))
    return FALSE;

  /* Headers first, for all frames: nothing is decoded from a stream that describes another
   * image, by this decoder or any other. */
  if (codec == CODEC_J2K || codec == CODEC_JPEGLS)
    for (guint f = 0; f < n_frames (h); f++)
      {
        g_autofree guint8 *owned = NULL;
        gsize len;
        const guint8 *src = frame_bytes (&fr, g_array_index (first, guint, f),
                                         g_array_index (first, guint, f + 1), &len, &owned);
        gboolean ok = codec == CODEC_J2K
                      ? cu_j2k_check_header (src, len, h->columns, h->rows,
                                             h->samples_per_pixel, bytes_per_sample (h), error)
                      : cu_jpegls_check_header (src, len, h->columns, h->rows,
                                                h->samples_per_pixel, bytes_per_sample (h),
                                                error);
        if (!ok)
          {
            g_prefix_error (error, _("%s: frame %u: "), h->path, f + 1);
            return FALSE;
          }
      }
  if (streams_match != NULL)
    *streams_match = TRUE;

  for (guint f = 0; f < n_frames (h); f++)
    {
      g_autofree guint8 *owned = NULL;
      gsize len;
      const guint8 *src = frame_bytes (&fr, g_array_index (first, guint, f),
                                       g_array_index (first, guint, f + 1), &len, &owned);
      gboolean ok;

      switch (codec)
        {
        case CODEC_J2K:
          ok = cu_j2k_decode_frame (src, len, h->columns, h->rows, h->samples_per_pixel,
                                    bytes_per_sample (h), out + f * frame_out, error);
          break;
        case CODEC_JPEGLS:
          ok = cu_jpegls_decode_frame (src, len, h->columns, h->rows, h->samples_per_pixel,
                                       bytes_per_sample (h), out + f * frame_out, error);
          break;
        case CODEC_RLE:
          ok = rle_frame (h, src, len, out + f * frame_out, error);
          break;
        default:
          ok = inflate_frame (h, src, len, out + f * frame_out, error);
          break;
        }
      if (!ok)
        {
          g_prefix_error (error, _("%s: frame %u: "), h->path, f + 1);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
unsupported (const CuDicomHeader *h, GError **error)
{
  g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
               _("%s: unsupported encoding: %s"), h->path,
               _cu_dicom_transfer_syntax_name (h->transfer_syntax));
  return FALSE;
}

/* Decode into out (raw_size bytes), reduced to Bits Stored except for JPEG 2000. *is_ybr:
 * colour samples are still YCbCr (native and RLE YBR_FULL; codecs deliver RGB). */
static gboolean
decode_raw (const CuDicomHeader *h, guint8 *out, gboolean *is_ybr, GError **error)
{
  gboolean photometric_ybr = h->photometric != NULL
                             && g_str_has_prefix (h->photometric, "YBR_FULL");
  gsize size = raw_size (h);
  g_autoptr (GError) first_error = NULL;

  *is_ybr = FALSE;
  if (cu_dicom_header_is_native (h))
    {
      *is_ybr = photometric_ybr;
      return read_native (h, out, error);
    }

  if (!_cu_dicom_transfer_syntax_known (h->transfer_syntax))
    return unsupported (h, error);
  if (h->bits_allocated == 1 && !ts_is (h, TS_DEFLATE_FRAMES))
    {
      /* 1-bit data only comes native or as deflated frames in practice (segmentations). */
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
                   _("%s: unsupported encoding: 1-bit pixel data in %s"), h->path,
                   _cu_dicom_transfer_syntax_name (h->transfer_syntax));
      return FALSE;
    }

  if (h->encapsulated && h->pixel_offset <= 0)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: the encapsulated pixel data could not be located"), h->path);
      return FALSE;
    }

  if (ts_is_htj2k (h))
    return decode_direct (h, CODEC_J2K, out, NULL, error);
  if (ts_is (h, TS_DEFLATE_FRAMES))
    {
      if (!decode_direct (h, CODEC_DEFLATE, out, NULL, error))
        return FALSE;
      *is_ybr = photometric_ybr;
      mask_to_bits_stored (h, out, size / bytes_per_sample (h));
      return TRUE;
    }

  /* JPEG 2000 and JPEG-LS: the direct decoders first (one pass over the fragments, no second
   * parse of the file, and they handle fragmentations GDCM 3.0 does not); GDCM's codecs, which
   * carry their own workarounds for some old encoders, second. */
  if (ts_is_j2k (h) || ts_is_jpegls (h))
    {
      gboolean streams_match;
      if (decode_direct (h, ts_is_j2k (h) ? CODEC_J2K : CODEC_JPEGLS, out, &streams_match,
                         &first_error))
        {
          *is_ybr = FALSE;
          if (ts_is_jpegls (h))
            mask_to_bits_stored (h, out, size / bytes_per_sample (h));
          return TRUE;
        }
      /* GDCM's codecs copy the decoded picture into a buffer sized from Rows and Columns:
       * given a stream of another size they overrun the heap. Only frames whose stream header
       * was checked reach them. */
      if (!streams_match)
        {
          g_propagate_error (error, g_steal_pointer (&first_error));
          return FALSE;
        }
      g_autoptr (GError) gdcm_error = NULL;
      if (_cu_gdcm_decode_frames (h, out, size, is_ybr, &gdcm_error))
        {
          if (!ts_is_j2k (h))
            mask_to_bits_stored (h, out, size / bytes_per_sample (h));
          return TRUE;
        }
      /* Report the direct decoder's reason: it names the frame. */
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }

  /* RLE: decoded here, where every segment is held to Rows × Columns bytes (GDCM pads or cuts
   * a segment of another size without a word). Colour stays as coded (YBR_FULL is YCbCr). */
  if (ts_is_rle (h))
    {
      if (!decode_direct (h, CODEC_RLE, out, NULL, error))
        return FALSE;
      *is_ybr = photometric_ybr;
      mask_to_bits_stored (h, out, size / bytes_per_sample (h));
      return TRUE;
    }

  if (!_cu_gdcm_decode_frames (h, out, size, is_ybr, error))
    return FALSE;
  mask_to_bits_stored (h, out, size / bytes_per_sample (h));
  return TRUE;
}

gboolean
cu_dicom_read_frames_raw (const CuDicomHeader *header, guint8 *out, gsize out_size,
                          GError **error)
{
  gboolean is_ybr;

  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (!check_header (header, error))
    return FALSE;
  if (out_size < raw_size (header))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: output buffer of %zu bytes is too small for %zu"), header->path,
                   out_size, raw_size (header));
      return FALSE;
    }
  return decode_raw (header, out, &is_ybr, error);
}

static inline double
sample_at (const guint8 *raw, gsize i, int bits_allocated, gboolean is_signed)
{
  switch (bits_allocated)
    {
    case 1:
    case 8:
      return is_signed ? (double) ((const gint8 *) raw)[i] : (double) raw[i];
    case 16:
      return is_signed ? (double) ((const gint16 *) raw)[i] : (double) ((const guint16 *) raw)[i];
    default:
      return is_signed ? (double) ((const gint32 *) raw)[i] : (double) ((const guint32 *) raw)[i];
    }
}

/* Native little-endian grey 8- or 16-bit samples (most CT and MR) are read straight into the
 * caller's float buffer: the file's bytes go to its upper end with one pread and are
 * converted upwards from its start, so no buffer is allocated per slice (for a 512² slice,
 * glibc would map and unmap 512 kB for it, and fault every page in again). */
static gboolean
native_in_place (const CuDicomHeader *h)
{
  return cu_dicom_header_is_native (h) && !h->big_endian && h->samples_per_pixel == 1
         && (h->bits_allocated == 16 || h->bits_allocated == 8)
         && (h->photometric == NULL || !g_str_has_prefix (h->photometric, "YBR"));
}

#define CONVERT_CHUNK 4096

static gboolean
read_native_in_place (const CuDicomHeader *h, float *out, GError **error)
{
  gsize plane = (gsize) h->rows * h->columns;
  gsize n = plane * n_frames (h);
  gsize bps = (gsize) h->bits_allocated / 8;
  gboolean is_signed = h->pixel_representation == 1;
  /* The samples end where the floats end: sample i lies at byte 4n − bps·n + bps·i, at or
   * after float i's bytes, so converting in ascending chunks (each copied out first) never
   * overwrites a sample before it is read. */
  guint8 *raw = (guint8 *) out + (4 - bps) * n;

  if (!read_native (h, raw, error))
    return FALSE;

  for (guint f = 0; f < n_frames (h); f++)
    {
      double slope = h->rescale_slope != 0 ? h->rescale_slope : 1, icpt = h->rescale_intercept;
      if (f < h->n_frames && h->frames != NULL)
        {
          slope = h->frames[f].rescale_slope != 0 ? h->frames[f].rescale_slope : 1;
          icpt = h->frames[f].rescale_intercept;
        }
      /* Slope 1 and a whole intercept (CT's −1024): integer arithmetic gives exactly what the
       * double expression below gives, and vectorises. */
      gboolean integral = slope == 1 && icpt == floor (icpt) && fabs (icpt) < (1 << 20);
      gint32 shift = integral ? (gint32) icpt : 0;

      for (gsize at = f * plane; at < (f + 1) * plane; at += CONVERT_CHUNK)
        {
          gsize len = MIN (CONVERT_CHUNK, (f + 1) * plane - at);
          union { gint16 s16[CONVERT_CHUNK]; guint16 u16[CONVERT_CHUNK];
                  gint8 s8[CONVERT_CHUNK]; guint8 u8[CONVERT_CHUNK]; } c;
          float *o = out + at;

          memcpy (&c, raw + bps * at, bps * len);
          if (bps == 2 && is_signed && integral)
            for (gsize i = 0; i < len; i++)
              o[i] = (float) ((gint32) c.s16[i] + shift);
          else if (bps == 2 && integral)
            for (gsize i = 0; i < len; i++)
              o[i] = (float) ((gint32) c.u16[i] + shift);
          else if (bps == 2 && is_signed)
            for (gsize i = 0; i < len; i++)
              o[i] = (float) (c.s16[i] * slope + icpt);
          else if (bps == 2)
            for (gsize i = 0; i < len; i++)
              o[i] = (float) (c.u16[i] * slope + icpt);
          else if (is_signed)
            for (gsize i = 0; i < len; i++)
              o[i] = (float) (c.s8[i] * slope + icpt);
          else
            for (gsize i = 0; i < len; i++)
              o[i] = (float) (c.u8[i] * slope + icpt);
        }
    }
  return TRUE;
}

gboolean
cu_dicom_read_frames_float (const CuDicomHeader *header, float *out, gsize n_out,
                            GError **error)
{
  g_autofree guint8 *raw = NULL;
  gboolean is_ybr;

  g_return_val_if_fail (header != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  const CuDicomHeader *h = header;
  if (!check_header (h, error))
    return FALSE;

  gsize plane = (gsize) h->rows * h->columns;
  if (n_out < plane * n_frames (h))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: output of %zu values is too small for %zu"), h->path, n_out,
                   plane * n_frames (h));
      return FALSE;
    }

  if (native_in_place (h))
    return read_native_in_place (h, out, error);

  raw = g_try_malloc (MAX (raw_size (h), 1));
  if (raw == NULL)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: not enough memory for %zu bytes of pixel data"), h->path,
                   raw_size (h));
      return FALSE;
    }
  if (!decode_raw (h, raw, &is_ybr, error))
    return FALSE;

  int spp = h->samples_per_pixel, ba = h->bits_allocated;
  gboolean is_signed = h->pixel_representation == 1 && ba != 1;
  for (guint f = 0; f < n_frames (h); f++)
    {
      double slope = h->rescale_slope != 0 ? h->rescale_slope : 1, icpt = h->rescale_intercept;
      if (f < h->n_frames && h->frames != NULL)
        {
          slope = h->frames[f].rescale_slope != 0 ? h->frames[f].rescale_slope : 1;
          icpt = h->frames[f].rescale_intercept;
        }
      float *o = out + f * plane;
      gsize base = f * plane * spp;

      if (spp == 1)
        {
          if (ba == 16 && !is_signed)
            {
              const guint16 *p = (const guint16 *) raw + base;
              for (gsize i = 0; i < plane; i++)
                o[i] = (float) (p[i] * slope + icpt);
            }
          else if (ba == 16)
            {
              const gint16 *p = (const gint16 *) raw + base;
              for (gsize i = 0; i < plane; i++)
                o[i] = (float) (p[i] * slope + icpt);
            }
          else
            for (gsize i = 0; i < plane; i++)
              o[i] = (float) (sample_at (raw, base + i, ba, is_signed) * slope + icpt);
        }
      else
        {
          /* ITU-R BT.601 luma; for YCbCr the luma is the first sample already. */
          for (gsize i = 0; i < plane; i++)
            {
              gsize k = base + i * spp;
              double y;
              if (is_ybr || spp < 3)
                y = sample_at (raw, k, ba, is_signed);
              else
                y = 0.299 * sample_at (raw, k, ba, is_signed)
                    + 0.587 * sample_at (raw, k + 1, ba, is_signed)
                    + 0.114 * sample_at (raw, k + 2, ba, is_signed);
              o[i] = (float) (y * slope + icpt);
            }
        }
    }
  return TRUE;
}

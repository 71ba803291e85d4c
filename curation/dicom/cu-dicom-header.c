/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-header.c — the C side of header reading: sniffing the file, character sets,
 * transfer syntax names, and the checks GDCM does not make for us.
 *
 * GDCM (cu-gdcm-shim.cc) parses the data set; this file decides before that whether the bytes
 * look like DICOM at all (PS3.10 §7.1: 128-byte preamble + "DICM", or — for old ACR-NEMA style
 * files — a data set that starts right away), so that a JPEG or a text file is reported as
 * "not DICOM" rather than as a malformed DICOM file.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-dicom-header.h"
#include "cu-dicom-parser-private.h"
#include "cu-dicom-validate-private.h"
#include "cu-gdcm-shim-private.h"

G_DEFINE_QUARK (cu-dicom-error-quark, cu_dicom_error)

typedef struct
{
  const char *uid;
  const char *name;
} CuTsName;

/* PS3.6 Table A-1 (the transfer syntaxes a curation workstation meets in practice). */
static const CuTsName ts_names[] = {
  { "1.2.840.10008.1.2", N_("Implicit VR Little Endian") },
  { "1.2.840.10008.1.2.1", N_("Explicit VR Little Endian") },
  { "1.2.840.10008.1.2.1.99", N_("Deflated Explicit VR Little Endian") },
  { "1.2.840.10008.1.2.2", N_("Explicit VR Big Endian") },
  { "1.2.840.10008.1.2.4.50", N_("JPEG Baseline (Process 1)") },
  { "1.2.840.10008.1.2.4.51", N_("JPEG Extended (Process 2 and 4)") },
  { "1.2.840.10008.1.2.4.57", N_("JPEG Lossless (Process 14)") },
  { "1.2.840.10008.1.2.4.70", N_("JPEG Lossless, First-Order Prediction (Process 14, SV1)") },
  { "1.2.840.10008.1.2.4.80", N_("JPEG-LS Lossless") },
  { "1.2.840.10008.1.2.4.81", N_("JPEG-LS Near-Lossless") },
  { "1.2.840.10008.1.2.4.90", N_("JPEG 2000 (Lossless Only)") },
  { "1.2.840.10008.1.2.4.91", N_("JPEG 2000") },
  { "1.2.840.10008.1.2.4.92", N_("JPEG 2000 Part 2 Multi-component (Lossless Only)") },
  { "1.2.840.10008.1.2.4.93", N_("JPEG 2000 Part 2 Multi-component") },
  { "1.2.840.10008.1.2.4.94", N_("JPIP Referenced") },
  { "1.2.840.10008.1.2.4.100", N_("MPEG2 Main Profile") },
  { "1.2.840.10008.1.2.4.101", N_("MPEG2 High Profile") },
  { "1.2.840.10008.1.2.4.102", N_("MPEG-4 AVC/H.264") },
  { "1.2.840.10008.1.2.4.103", N_("MPEG-4 AVC/H.264 BD-compatible") },
  { "1.2.840.10008.1.2.4.107", N_("HEVC/H.265 Main Profile") },
  { "1.2.840.10008.1.2.4.108", N_("HEVC/H.265 Main 10 Profile") },
  { "1.2.840.10008.1.2.4.110", N_("JPEG XL Lossless") },
  { "1.2.840.10008.1.2.4.111", N_("JPEG XL JPEG Recompression") },
  { "1.2.840.10008.1.2.4.112", N_("JPEG XL") },
  { "1.2.840.10008.1.2.4.201", N_("HTJ2K (Lossless Only)") },
  { "1.2.840.10008.1.2.4.202", N_("HTJ2K with RPCL Options (Lossless Only)") },
  { "1.2.840.10008.1.2.4.203", N_("HTJ2K") },
  { "1.2.840.10008.1.2.5", N_("RLE Lossless") },
  { "1.2.840.10008.1.2.8.1", N_("Deflated Image Frame Compression") },
};

const char *
_cu_dicom_transfer_syntax_name (const char *uid)
{
  if (uid == NULL || *uid == '\0')
    return _("unknown transfer syntax");
  for (gsize i = 0; i < G_N_ELEMENTS (ts_names); i++)
    if (strcmp (ts_names[i].uid, uid) == 0)
      return _(ts_names[i].name);
  return uid;
}

gboolean
_cu_dicom_transfer_syntax_known (const char *uid)
{
  static const char *const known[] = {
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57",
    "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.5",
    "1.2.840.10008.1.2.8.1",
  };
  if (uid == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
    if (strcmp (known[i], uid) == 0)
      return TRUE;
  return FALSE;
}

/* PS3.3 C.12.1.1.2: defined terms of Specific Character Set → iconv names. For the ISO 2022
 * code-extension terms we take the single-byte set the term names; multi-byte escapes (Japanese,
 * Korean) are left to iconv's ISO-2022 decoders where one exists. */
const char *
_cu_dicom_charset_to_iconv (const char *scs)
{
  static const struct { const char *term; const char *iconv; } map[] = {
    { "ISO_IR 100", "ISO-8859-1" }, { "ISO 2022 IR 100", "ISO-8859-1" },
    { "ISO_IR 101", "ISO-8859-2" }, { "ISO 2022 IR 101", "ISO-8859-2" },
    { "ISO_IR 109", "ISO-8859-3" }, { "ISO 2022 IR 109", "ISO-8859-3" },
    { "ISO_IR 110", "ISO-8859-4" }, { "ISO 2022 IR 110", "ISO-8859-4" },
    { "ISO_IR 144", "ISO-8859-5" }, { "ISO 2022 IR 144", "ISO-8859-5" },
    { "ISO_IR 127", "ISO-8859-6" }, { "ISO 2022 IR 127", "ISO-8859-6" },
    { "ISO_IR 126", "ISO-8859-7" }, { "ISO 2022 IR 126", "ISO-8859-7" },
    { "ISO_IR 138", "ISO-8859-8" }, { "ISO 2022 IR 138", "ISO-8859-8" },
    { "ISO_IR 148", "ISO-8859-9" }, { "ISO 2022 IR 148", "ISO-8859-9" },
    { "ISO_IR 203", "ISO-8859-15" }, { "ISO 2022 IR 203", "ISO-8859-15" },
    { "ISO_IR 166", "TIS-620" }, { "ISO 2022 IR 166", "TIS-620" },
    { "ISO_IR 13", "SHIFT_JIS" }, { "ISO 2022 IR 13", "SHIFT_JIS" },
    { "ISO 2022 IR 87", "ISO-2022-JP" }, { "ISO 2022 IR 159", "ISO-2022-JP-2" },
    { "ISO 2022 IR 149", "ISO-2022-KR" }, { "ISO 2022 IR 58", "ISO-2022-CN" },
    { "ISO_IR 192", "UTF-8" }, { "GB18030", "GB18030" }, { "GBK", "GBK" },
  };
  if (scs == NULL)
    return NULL;

  /* Multi-valued: the first value is the default repertoire, later ones the extensions.
   * Prefer the first value that names a real character set. */
  g_auto (GStrv) terms = g_strsplit (scs, "\\", -1);
  for (guint t = 0; terms[t] != NULL; t++)
    {
      g_strstrip (terms[t]);
      for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
        if (g_ascii_strcasecmp (terms[t], map[i].term) == 0)
          return map[i].iconv;
    }
  return NULL;
}

static gboolean
is_ascii (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if ((guchar) s[i] >= 0x80)
      return FALSE;
  return TRUE;
}

char *
_cu_dicom_text_to_utf8 (const char *bytes, gsize len, const char *from_charset)
{
  /* DICOM pads with trailing spaces (text) or a NUL (UI); leading spaces are insignificant
   * for every string VR we read. */
  while (len > 0 && (bytes[len - 1] == ' ' || bytes[len - 1] == '\0'))
    len--;
  while (len > 0 && bytes[0] == ' ')
    {
      bytes++;
      len--;
    }
  if (memchr (bytes, '\0', len) != NULL)
    len = strlen (bytes);

  if (is_ascii (bytes, len))
    return g_strndup (bytes, len);

  if (from_charset != NULL && g_ascii_strcasecmp (from_charset, "UTF-8") != 0)
    {
      g_autofree char *conv = g_convert (bytes, len, "UTF-8", from_charset, NULL, NULL, NULL);
      if (conv != NULL && g_utf8_validate (conv, -1, NULL))
        return g_steal_pointer (&conv);
    }

  /* No (or a failing) declared character set: many writers store UTF-8 or Latin-1 without
   * saying so. Valid UTF-8 is kept; anything else is read as Latin-1, which never fails. */
  if (g_utf8_validate (bytes, len, NULL))
    return g_strndup (bytes, len);
  if (from_charset == NULL)
    {
      g_autofree char *conv = g_convert (bytes, len, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
      if (conv != NULL)
        return g_steal_pointer (&conv);
    }
  return g_utf8_make_valid (bytes, len);
}

/* Siemens CSA header ("SIEMENS CSA HEADER" private element (0029,xx10)), as documented by
 * nibabel (nibabel.nicom.csareader) and dcm2niix: optional "SV10" + 4 bytes (CSA2), tag count,
 * one unused word, then per tag a 64-byte name, VM, 4-byte VR, SyngoDT, item count and one
 * word, and per item four words (CSA2: length in the second; CSA1: first minus the first tag's
 * item count) followed by the value padded to 4 bytes. GDCM's own parser asserts on damaged
 * headers, so this one only reads within bounds and gives up quietly. */
static gboolean
csa_u32 (const guint8 *d, gsize len, gsize *pos, gint32 *out)
{
  if (*pos + 4 > len)
    return FALSE;
  *out = (gint32) (d[*pos] | (d[*pos + 1] << 8) | (d[*pos + 2] << 16)
                   | ((guint32) d[*pos + 3] << 24));
  *pos += 4;
  return TRUE;
}

gboolean
_cu_dicom_parse_csa (const guint8 *d, gsize len, int *mosaic_images, double normal[3],
                     gboolean *has_normal)
{
  gsize pos = 0;
  gint32 n_tags, unused, tag0_items = 0;
  gboolean csa2 = len >= 8 && memcmp (d, "SV10", 4) == 0;

  if (csa2)
    pos = 8;
  if (!csa_u32 (d, len, &pos, &n_tags) || !csa_u32 (d, len, &pos, &unused)
      || n_tags <= 0 || n_tags > 1000)
    return FALSE;

  for (gint32 t = 0; t < n_tags; t++)
    {
      char name[65];
      gint32 vm, syngodt, n_items, last;
      if (pos + 64 + 4 > len)
        return FALSE;
      memcpy (name, d + pos, 64);
      name[64] = '\0';
      pos += 64;
      if (!csa_u32 (d, len, &pos, &vm))
        return FALSE;
      pos += 4;   /* VR */
      if (!csa_u32 (d, len, &pos, &syngodt) || !csa_u32 (d, len, &pos, &n_items)
          || !csa_u32 (d, len, &pos, &last) || n_items < 0 || n_items > 1000)
        return FALSE;
      if (t == 1)
        tag0_items = n_items;

      gboolean want_mosaic = strcmp (name, "NumberOfImagesInMosaic") == 0;
      gboolean want_normal = strcmp (name, "SliceNormalVector") == 0;
      int n_values = vm > 0 ? vm : n_items;
      for (gint32 i = 0; i < n_items; i++)
        {
          gint32 x[4];
          for (int k = 0; k < 4; k++)
            if (!csa_u32 (d, len, &pos, &x[k]))
              return FALSE;
          gint64 item_len = csa2 ? x[1] : (gint64) x[0] - tag0_items;
          if (item_len < 0 || pos + item_len > len)
            {
              if (csa2)
                return FALSE;
              break;
            }
          if (i < n_values && item_len > 0 && (want_mosaic || want_normal))
            {
              g_autofree char *v = g_strndup ((const char *) d + pos, item_len);
              char *end = NULL;
              double value = g_ascii_strtod (v, &end);
              if (end != v && isfinite (value))
                {
                  if (want_mosaic && i == 0 && value > 0 && value < 10000)
                    *mosaic_images = (int) value;
                  else if (want_normal && i < 3)
                    {
                      normal[i] = value;
                      if (i == 2)
                        *has_normal = TRUE;
                    }
                }
            }
          pos += item_len;
          pos += (4 - item_len % 4) % 4;
        }
    }
  return TRUE;
}

gboolean
cu_dicom_header_is_native (const CuDicomHeader *header)
{
  const char *ts;

  g_return_val_if_fail (header != NULL, FALSE);

  ts = header->transfer_syntax;
  if (ts == NULL || header->encapsulated)
    return FALSE;
  return strcmp (ts, "1.2.840.10008.1.2") == 0
         || strcmp (ts, "1.2.840.10008.1.2.1") == 0
         || strcmp (ts, "1.2.840.10008.1.2.2") == 0;
}

guint
_cu_dicom_header_string_fields (CuDicomHeader *h, char **fields[], guint max)
{
  /* Every char * of CuDicomHeader: a field missing here would leak, and would not cross from
   * the parser process (cu-dicom-parser.c). */
  char **all[] = {
    &h->path, &h->transfer_syntax, &h->sop_class_uid, &h->sop_instance_uid, &h->patient_id,
    &h->patient_name, &h->patient_sex, &h->patient_birth_date, &h->patient_identity_removed,
    &h->study_uid, &h->study_date, &h->study_time, &h->study_description, &h->study_id,
    &h->accession_number, &h->series_uid, &h->series_description, &h->series_date,
    &h->series_time, &h->modality, &h->manufacturer, &h->frame_of_reference_uid,
    &h->image_type, &h->body_part, &h->acquisition_time, &h->content_time, &h->photometric,
    &h->scanning_sequence, &h->sequence_variant, &h->mr_acquisition_type,
    &h->manufacturer_model, &h->phase_encoding_direction, &h->diffusion_directionality,
    &h->patient_age, &h->sequence_name, &h->nonfinite_attribute,
  };
  for (guint i = 0; i < G_N_ELEMENTS (all) && i < max; i++)
    fields[i] = all[i];
  return G_N_ELEMENTS (all);
}

void
cu_dicom_header_free (CuDicomHeader *h)
{
  char **fields[64];

  if (h == NULL)
    return;

  guint n = _cu_dicom_header_string_fields (h, fields, G_N_ELEMENTS (fields));
  g_assert (n <= G_N_ELEMENTS (fields));
  for (guint i = 0; i < n; i++)
    g_clear_pointer (fields[i], g_free);

  for (guint i = 0; i < h->n_frames; i++)
    g_free (h->frames[i].stack_id);
  g_free (h->frames);
  g_free (h);
}

/* Is there a DICOM data element at the very start of the file (no preamble)? We accept the
 * groups a data set or file meta group begins with, in either byte order, and require either
 * an explicit VR (two upper-case letters) or an implicit length that fits in the file. */
static gboolean
plausible_dataset_start (const guint8 *b, gsize n, gint64 file_size)
{
  if (n < 8)
    return FALSE;

  guint16 group_le = b[0] | (b[1] << 8);
  guint16 group_be = (b[0] << 8) | b[1];
  gboolean group_ok = FALSE;
  static const guint16 first_groups[] = { 0x0000, 0x0002, 0x0004, 0x0008 };
  for (gsize i = 0; i < G_N_ELEMENTS (first_groups); i++)
    if (group_le == first_groups[i] || group_be == first_groups[i])
      group_ok = TRUE;
  if (!group_ok)
    return FALSE;

  if (g_ascii_isupper (b[4]) && g_ascii_isupper (b[5]))
    return TRUE;

  guint32 len_le = b[4] | (b[5] << 8) | (b[6] << 16) | ((guint32) b[7] << 24);
  guint32 len_be = ((guint32) b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7];
  return (gint64) len_le <= file_size || (gint64) len_be <= file_size;
}

static guint32
read_le32 (const guint8 *p)
{
  return p[0] | (p[1] << 8) | (p[2] << 16) | ((guint32) p[3] << 24);
}

/* Walk the items of encapsulated Pixel Data (PS3.5 A.4) without reading their contents, so a
 * file whose fragments run past its end is caught at import rather than at first display.
 * Every frame is at least one fragment: more frames than fragments is a Number of Frames no
 * decoder can satisfy, and everything sized from it (per-frame tables, pixel buffers) would be
 * sized from a lie. */
gboolean
_cu_dicom_check_encapsulated (const CuDicomHeader *h, int fd, GError **error)
{
  gint64 pos = h->pixel_offset;
  guint64 n_fragments = 0;

  for (guint n = 0; n < 1000000; n++)
    {
      guint8 item[8];
      if (pos + 8 > h->file_size || pread (fd, item, 8, pos) != 8)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: encapsulated pixel data ends before its sequence delimiter "
                         "(file truncated)"), h->path);
          return FALSE;
        }
      guint16 group = item[0] | (item[1] << 8);
      guint16 elem = item[2] | (item[3] << 8);
      guint32 len = read_le32 (item + 4);
      if (group == 0xFFFE && elem == 0xE0DD)
        {
          /* The first item is the Basic Offset Table. */
          if (n > 0 && n_fragments < (guint64) MAX (h->number_of_frames, 1))
            {
              g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                           _("%s: Number of Frames is %d, but the encapsulated pixel data has "
                             "only %llu fragments"),
                           h->path, h->number_of_frames, (unsigned long long) n_fragments);
              return FALSE;
            }
          return TRUE;
        }
      if (n > 0)
        n_fragments++;
      if (group != 0xFFFE || elem != 0xE000 || len == 0xFFFFFFFFu)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: encapsulated pixel data has a bad item at byte %lld"),
                       h->path, (long long) pos);
          return FALSE;
        }
      pos += 8 + (gint64) len;
      if (pos > h->file_size)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: a pixel data fragment runs past the end of the file "
                         "(file truncated)"), h->path);
          return FALSE;
        }
    }
  g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
               _("%s: encapsulated pixel data has too many fragments"), h->path);
  return FALSE;
}

/* The header of anything larger is parsed from the file as a stream. */
#define MAX_HEADER_BYTES ((gint64) 64 << 20)

CuDicomHeader *
_cu_dicom_header_open (const char *path, int *out_fd, GError **error)
{
  return _cu_dicom_header_open_bytes (path, out_fd, NULL, NULL, error);
}

CuDicomHeader *
_cu_dicom_header_open_bytes (const char *path, int *out_fd, guint8 **out_bytes, gsize *out_len,
                             GError **error)
{
  CuDicomValidateStop stop = { -1, FALSE };

  g_autoptr (CuDicomHeader) h = NULL;
  guint8 head[140];
  ssize_t got;
  struct stat st;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot open: %s"),
                   path, g_strerror (saved));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: not a regular file"), path);
      close (fd);
      return NULL;
    }

  h = g_new0 (CuDicomHeader, 1);
  h->path = g_strdup (path);
  h->file_size = st.st_size;
  h->mtime = st.st_mtime;

  got = pread (fd, head, sizeof head, 0);
  if (got < 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot read: %s"),
                   path, g_strerror (saved));
      close (fd);
      return NULL;
    }
  if (got == 0)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_NOT_DICOM,
                   _("%s: not a DICOM file (the file is empty)"), path);
      close (fd);
      return NULL;
    }

  h->has_preamble = got >= 132 && memcmp (head + 128, "DICM", 4) == 0;
  if (h->has_preamble)
    h->has_meta = got >= 134 && head[132] == 0x02 && head[133] == 0x00;
  else if (plausible_dataset_start (head, got, h->file_size))
    h->has_meta = head[0] == 0x02 && head[1] == 0x00;
  else if (got > 16 && (plausible_dataset_start (head + 1, got - 1, h->file_size)
                        || plausible_dataset_start (head + 2, got - 2, h->file_size)))
    {
      /* A data set that starts a byte or two late: DICOM, but damaged. */
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: no preamble, and the data set does not start at "
                     "the first byte (stray bytes at the start of the file)"), path);
      close (fd);
      return NULL;
    }
  else
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_NOT_DICOM,
                   _("%s: not a DICOM file (no “DICM” marker at byte 128 and no DICOM data "
                     "element at the start)"), path);
      close (fd);
      return NULL;
    }

  /* The structural check (cu-dicom-validate.c): nothing reaches GDCM that it refuses. It
   * also tells the GDCM shim what the meta declares (it reads deflated data sets its own
   * way). */
  if (!_cu_dicom_validate_fd (fd, h->file_size, path, h->has_preamble, h->has_meta,
                              &h->transfer_syntax, &stop, error))
    {
      close (fd);
      return NULL;
    }

  if (out_bytes != NULL)
    {
      /* GDCM reads the element header at the stop (12 bytes at most) and no further; any
       * other element there it may read whole, so then the whole file is needed. */
      gint64 end = stop.is_pixel_data ? MIN (stop.offset + 12, h->file_size) : h->file_size;
      *out_bytes = NULL;
      *out_len = 0;
      if (stop.offset >= 0 && end > 0 && end <= MAX_HEADER_BYTES)
        {
          guint8 *bytes = g_try_malloc ((gsize) end);
          ssize_t n_read = -1;
          if (bytes != NULL)
            do
              n_read = pread (fd, bytes, (size_t) end, 0);
            while (n_read < 0 && errno == EINTR);
          if (n_read == (ssize_t) end)
            {
              *out_bytes = bytes;
              *out_len = (gsize) end;
            }
          else
            g_free (bytes);   /* the file changed under us: GDCM reads it and says so */
        }
    }

  *out_fd = fd;
  return g_steal_pointer (&h);
}

CuDicomHeader *
cu_dicom_header_read (const char *path, GError **error)
{
  return cu_dicom_header_read_walk (path, NULL, NULL, error);
}

CuDicomHeader *
cu_dicom_header_read_walk (const char *path, CuDicomVisitFunc visit, gpointer user_data,
                           GError **error)
{
  return cu_dicom_header_read_walk_filtered (path, NULL, visit, user_data, error);
}

CuDicomHeader *
cu_dicom_header_read_walk_filtered (const char *path, CuDicomWantFunc want,
                                    CuDicomVisitFunc visit, gpointer user_data, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  /* GDCM runs in a parser process, where a crash on a hostile file costs that file only. */
  if (_cu_dicom_parser_isolated ())
    return _cu_dicom_parser_read (path, want, NULL, visit, user_data, error);
  return _cu_dicom_header_read_local (path, want, visit, user_data, error);
}

CuDicomHeader *
_cu_dicom_header_read_local (const char *path, CuDicomWantFunc want, CuDicomVisitFunc visit,
                             gpointer user_data, GError **error)
{
  g_autoptr (CuDicomHeader) h = NULL;
  g_autofree guint8 *bytes = NULL;
  gsize n_bytes = 0;
  int fd = -1;

  g_return_val_if_fail (path != NULL, NULL);

  h = _cu_dicom_header_open_bytes (path, &fd, &bytes, &n_bytes, error);
  if (h == NULL)
    return NULL;

  if (!_cu_gdcm_read_header (h, fd, bytes, n_bytes, want, visit, user_data, error))
    {
      close (fd);
      return NULL;
    }

  /* Encapsulated pixel data was walked by _cu_dicom_header_check_pixels, from the shim. */
  close (fd);

  if (h->has_pixels && !h->encapsulated && h->pixel_offset >= 0 && h->pixel_length >= 0
      && h->pixel_offset + h->pixel_length > h->file_size)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: pixel data runs past the end of the file (%lld bytes declared, "
                     "%lld present; file truncated)"),
                   path, (long long) h->pixel_length, (long long) (h->file_size - h->pixel_offset));
      return NULL;
    }

  if (!_cu_dicom_header_check_uids (h, error))
    return NULL;

  return g_steal_pointer (&h);
}

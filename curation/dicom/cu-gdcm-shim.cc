/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gdcm-shim.cc — the only place Curata talks to GDCM (C++), behind cu-gdcm-shim-private.h.
 *
 * Header reading stops before Pixel Data (gdcm::Reader::ReadUpToTag with Pixel Data in the
 * skip set), which leaves the stream at the first byte of the Pixel Data value: that offset
 * is recorded so native pixels are later read with pread() and no codec. Attributes are taken
 * from the top-level data set, the Shared / Per-frame Functional Groups of enhanced objects
 * (PS3.3 C.7.6.16), the Grid Frame Offset Vector of RT Dose (PS3.3 C.8.8.3.2) and the Siemens
 * CSA image header of mosaics. Every exception stops here and becomes a GError.
 */
#include "config.h"

#include <cmath>
#include <cstring>
#include <memory>
#include <set>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <unistd.h>

#include <gdcmDataSet.h>
#include <gdcmDicts.h>
#include <gdcmGlobal.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmStringFilter.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>

#include <glib.h>
#include <glib/gi18n-lib.h>
#include <zlib.h>

#include "cu-dicom-validate-private.h"
#include "cu-gdcm-shim-private.h"
#include "cu-gdcm-element-private.h"

namespace
{

const char *const DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10";

/* Swallows everything written to it. */
class NullBuffer : public std::streambuf
{
protected:
  int overflow (int c) override { return c; }
};

void
silence_gdcm ()
{
  /* GDCM prints warnings and errors for every odd file to stderr; we report through GError.
   * The flags alone are not enough (some GDCM paths reset them), so the streams go nowhere. */
  static NullBuffer null_buffer;
  static std::ostream null_stream (&null_buffer);
  static gsize once = 0;
  if (g_once_init_enter (&once))
    {
      gdcm::Trace::SetDebugStream (null_stream);
      gdcm::Trace::SetWarningStream (null_stream);
      gdcm::Trace::SetErrorStream (null_stream);
      gdcm::Trace::WarningOff ();
      gdcm::Trace::DebugOff ();
      gdcm::Trace::ErrorOff ();
      g_once_init_leave (&once, 1);
    }
}

struct Ctx
{
  gdcm::StringFilter sf;
  const char *charset = nullptr;   /* iconv name for text VRs */
  std::string nonfinite;           /* first numeric attribute holding NaN or ±Inf */
};

bool
raw_bytes (const gdcm::DataSet &ds, const gdcm::Tag &t, std::string &out)
{
  if (!ds.FindDataElement (t))
    return false;
  const gdcm::DataElement &de = ds.GetDataElement (t);
  const gdcm::ByteValue *bv = de.GetByteValue ();
  if (bv == nullptr || bv->GetPointer () == nullptr)
    out.clear ();
  else
    out.assign (bv->GetPointer (), bv->GetLength ());
  return true;
}

/* A text attribute (SH, LO, ST, LT, PN, UT, UC): converted from the file's character set. */
char *
get_text (Ctx &ctx, const gdcm::DataSet &ds, uint16_t g, uint16_t e)
{
  std::string s;
  if (!raw_bytes (ds, gdcm::Tag (g, e), s))
    return nullptr;
  return _cu_dicom_text_to_utf8 (s.data (), s.size (), ctx.charset);
}

/* A code-like attribute (UI, CS, DA, TM, AS, IS, DS): ASCII by definition. */
char *
get_code (const gdcm::DataSet &ds, uint16_t g, uint16_t e)
{
  std::string s;
  if (!raw_bytes (ds, gdcm::Tag (g, e), s))
    return nullptr;
  return _cu_dicom_text_to_utf8 (s.data (), s.size (), nullptr);
}

/* Any attribute as text, via GDCM's StringFilter, which knows the VR (also for implicit VR
 * and VR UN) and the byte order of binary values (US, UL, FD …). */
bool
get_string_any (Ctx &ctx, const gdcm::DataSet &ds, const gdcm::Tag &t, std::string &out)
{
  if (!ds.FindDataElement (t))
    return false;
  const gdcm::DataElement &de = ds.GetDataElement (t);
  if (de.IsEmpty ())
    return false;
  out = ctx.sf.ToString (de);
  return !out.empty ();
}

/* Parse up to n backslash-separated numbers; returns how many were parsed. */
int
parse_numbers (const std::string &s, double *v, int n)
{
  int count = 0;
  const char *p = s.c_str ();
  while (count < n && *p != '\0')
    {
      while (*p == ' ' || *p == '\0')
        {
          if (*p == '\0')
            return count;
          p++;
        }
      char *end = nullptr;
      double d = g_ascii_strtod (p, &end);
      if (end == p)
        return count;
      if (!std::isfinite (d))
        return count;
      v[count++] = d;
      p = end;
      while (*p != '\0' && *p != '\\')
        p++;
      if (*p == '\\')
        p++;
    }
  return count;
}

/* Does a decimal string hold NaN, an infinity or a number beyond double range ("1e999")?
 * parse_numbers stops there; the header must also say so, or the value reads as absent. */
bool
has_nonfinite (const std::string &s)
{
  const char *p = s.c_str ();
  while (*p != '\0')
    {
      char *end = nullptr;
      double d = g_ascii_strtod (p, &end);
      if (end != p && !std::isfinite (d))
        return true;
      while (*p != '\0' && *p != '\\')
        p++;
      if (*p == '\\')
        p++;
    }
  return false;
}

int
get_numbers (Ctx &ctx, const gdcm::DataSet &ds, uint16_t g, uint16_t e, double *v, int n)
{
  std::string s;
  if (!get_string_any (ctx, ds, gdcm::Tag (g, e), s))
    return 0;
  if (ctx.nonfinite.empty () && has_nonfinite (s))
    {
      const char *kw = gdcm::Global::GetInstance ().GetDicts ().GetDictEntry (gdcm::Tag (g, e))
                         .GetKeyword ();
      if (kw != nullptr && *kw != '\0')
        ctx.nonfinite = kw;
      else
        {
          char tag[16];
          g_snprintf (tag, sizeof tag, "(%04X,%04X)", g, e);
          ctx.nonfinite = tag;
        }
    }
  return parse_numbers (s, v, n);
}

double
get_double (Ctx &ctx, const gdcm::DataSet &ds, uint16_t g, uint16_t e, double fallback)
{
  double v;
  return get_numbers (ctx, ds, g, e, &v, 1) == 1 ? v : fallback;
}

int
get_int (Ctx &ctx, const gdcm::DataSet &ds, uint16_t g, uint16_t e, int fallback)
{
  double v;
  if (get_numbers (ctx, ds, g, e, &v, 1) != 1 || v < G_MININT || v > G_MAXINT)
    return fallback;
  return (int) v;
}

/* First item of a sequence attribute (handles sequences stored as VR UN, too). */
const gdcm::DataSet *
first_item (const gdcm::DataSet &ds, uint16_t g, uint16_t e,
            gdcm::SmartPointer<gdcm::SequenceOfItems> &keep)
{
  gdcm::Tag t (g, e);
  if (!ds.FindDataElement (t))
    return nullptr;
  keep = ds.GetDataElement (t).GetValueAsSQ ();
  if (!keep || keep->GetNumberOfItems () < 1)
    return nullptr;
  return &keep->GetItem (1).GetNestedDataSet ();
}

void
frame_defaults (CuDicomFrame *f, const CuDicomHeader *h)
{
  f->has_position = h->has_position;
  memcpy (f->position, h->position, sizeof f->position);
  f->has_orientation = h->has_orientation;
  memcpy (f->orientation, h->orientation, sizeof f->orientation);
  f->has_spacing = h->has_spacing;
  memcpy (f->pixel_spacing, h->pixel_spacing, sizeof f->pixel_spacing);
  f->slice_thickness = h->slice_thickness;
  f->rescale_slope = h->rescale_slope;
  f->rescale_intercept = h->rescale_intercept;
  f->stack_position = 0;
  f->temporal_index = 0;
  f->stack_id = nullptr;
  f->b_value = -1;
}

/* Apply one functional-groups item (shared or per-frame) to a frame. Absent macros leave the
 * frame as it is, so per-frame values override shared ones. */
void
apply_functional_groups (Ctx &ctx, const gdcm::DataSet &fg, CuDicomFrame *f)
{
  gdcm::SmartPointer<gdcm::SequenceOfItems> sq;
  const gdcm::DataSet *it;
  double v[6];

  if ((it = first_item (fg, 0x0020, 0x9113, sq)) != nullptr)       /* PlanePositionSequence */
    if (get_numbers (ctx, *it, 0x0020, 0x0032, v, 3) == 3)
      {
        f->has_position = TRUE;
        memcpy (f->position, v, 3 * sizeof (double));
      }
  if ((it = first_item (fg, 0x0020, 0x9116, sq)) != nullptr)       /* PlaneOrientationSequence */
    if (get_numbers (ctx, *it, 0x0020, 0x0037, v, 6) == 6)
      {
        f->has_orientation = TRUE;
        memcpy (f->orientation, v, 6 * sizeof (double));
      }
  if ((it = first_item (fg, 0x0028, 0x9110, sq)) != nullptr)       /* PixelMeasuresSequence */
    {
      if (get_numbers (ctx, *it, 0x0028, 0x0030, v, 2) == 2)
        {
          f->has_spacing = TRUE;
          f->pixel_spacing[0] = v[0];
          f->pixel_spacing[1] = v[1];
        }
      f->slice_thickness = get_double (ctx, *it, 0x0018, 0x0050, f->slice_thickness);
    }
  if ((it = first_item (fg, 0x0028, 0x9145, sq)) != nullptr)       /* PixelValueTransformation */
    {
      f->rescale_slope = get_double (ctx, *it, 0x0028, 0x1053, f->rescale_slope);
      f->rescale_intercept = get_double (ctx, *it, 0x0028, 0x1052, f->rescale_intercept);
      if (f->rescale_slope == 0)
        f->rescale_slope = 1;
    }
  if ((it = first_item (fg, 0x0020, 0x9111, sq)) != nullptr)       /* FrameContentSequence */
    {
      f->stack_position = get_int (ctx, *it, 0x0020, 0x9057, f->stack_position);
      f->temporal_index = get_int (ctx, *it, 0x0020, 0x9128, f->temporal_index);
      char *id = get_code (*it, 0x0020, 0x9056);
      if (id != nullptr)
        {
          g_free (f->stack_id);
          f->stack_id = id;
        }
    }
  if ((it = first_item (fg, 0x0018, 0x9117, sq)) != nullptr)       /* MRDiffusionSequence */
    f->b_value = get_double (ctx, *it, 0x0018, 0x9087, f->b_value);
}

/* Per-frame geometry: functional groups for enhanced objects, the top-level attributes
 * (offset by the Grid Frame Offset Vector where present) for classic ones. */
void
fill_frames (Ctx &ctx, const gdcm::DataSet &ds, CuDicomHeader *h)
{
  guint n = h->has_pixels ? (guint) MAX (h->number_of_frames, 1) : 0;
  h->n_frames = n;
  h->frames = n > 0 ? g_new0 (CuDicomFrame, n) : nullptr;
  for (guint i = 0; i < n; i++)
    frame_defaults (&h->frames[i], h);

  gdcm::SmartPointer<gdcm::SequenceOfItems> shared_sq;
  const gdcm::DataSet *shared = first_item (ds, 0x5200, 0x9229, shared_sq);
  gdcm::SmartPointer<gdcm::SequenceOfItems> per_frame_sq;
  gdcm::Tag per_frame_tag (0x5200, 0x9230);
  if (ds.FindDataElement (per_frame_tag))
    per_frame_sq = ds.GetDataElement (per_frame_tag).GetValueAsSQ ();

  if (shared != nullptr || per_frame_sq)
    {
      for (guint i = 0; i < n; i++)
        {
          if (shared != nullptr)
            apply_functional_groups (ctx, *shared, &h->frames[i]);
          if (per_frame_sq && i < per_frame_sq->GetNumberOfItems ())
            apply_functional_groups (ctx, per_frame_sq->GetItem (i + 1).GetNestedDataSet (),
                                     &h->frames[i]);
        }
      /* Enhanced objects usually have no top-level geometry; give callers that look only at
       * the top level the values every frame shares (frame 0's), but never a position. */
      if (n > 0)
        {
          const CuDicomFrame *f0 = &h->frames[0];
          if (!h->has_orientation && f0->has_orientation)
            {
              h->has_orientation = TRUE;
              memcpy (h->orientation, f0->orientation, sizeof h->orientation);
            }
          if (!h->has_spacing && f0->has_spacing)
            {
              h->has_spacing = TRUE;
              memcpy (h->pixel_spacing, f0->pixel_spacing, sizeof h->pixel_spacing);
            }
          if (h->slice_thickness == 0)
            h->slice_thickness = f0->slice_thickness;
        }
      return;
    }

  /* RT Dose and other classic multi-frame objects: Grid Frame Offset Vector (3004,000C) gives
   * each frame's offset along the normal. PS3.3 C.8.8.3.2: relative if the first value is 0,
   * otherwise absolute coordinates along the normal (first value == the position's). */
  if (n > 1 && h->has_position && h->has_orientation)
    {
      std::string s;
      if (get_string_any (ctx, ds, gdcm::Tag (0x3004, 0x000C), s))
        {
          std::vector<double> off (n);
          if (parse_numbers (s, off.data (), (int) n) == (int) n)
            {
              const double *o = h->orientation;
              double nrm[3] = { o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5],
                                o[0] * o[4] - o[1] * o[3] };
              double base = off[0] != 0 ? off[0] : 0;
              for (guint i = 0; i < n; i++)
                {
                  double d = off[i] - base;
                  for (int k = 0; k < 3; k++)
                    h->frames[i].position[k] = h->position[k] + d * nrm[k];
                }
            }
        }
    }
}

/* A private element found through its creator (PS3.5 §7.8.1): the element number is the
 * usual one only inside the block the creator reserved. */
bool
private_number (Ctx &ctx, const gdcm::DataSet &ds, uint16_t g, uint8_t e, const char *creator,
                double *v)
{
  const gdcm::PrivateTag pt (g, e, creator);
  std::string s;
  if (!ds.FindDataElement (pt))
    return false;
  const gdcm::DataElement &de = ds.GetDataElement (pt);
  if (de.IsEmpty ())
    return false;
  const gdcm::ByteValue *bv = de.GetByteValue ();
  if (bv == nullptr || bv->GetPointer () == nullptr)
    return false;
  s.assign (bv->GetPointer (), bv->GetLength ());
  /* Philips stores the b-factor as FL (binary); Siemens and GE as IS (text). */
  if (de.GetVR () == gdcm::VR::FL || (de.GetVR () == gdcm::VR::UN && bv->GetLength () == 4
                                      && g == 0x2001))
    {
      float f;
      if (bv->GetLength () < 4)
        return false;
      memcpy (&f, bv->GetPointer (), 4);
      *v = f;
      return std::isfinite (*v);
    }
  return parse_numbers (s, v, 1) == 1;
}

/* Acquisition attributes the quality gate uses to recognise sequences after de-identification
 * (none is in PS3.15 Table E.1-1, except the vendor private b-value tags, which survive only
 * with Retain Safe Private). Where the b-value lives: DICOM DiffusionBValue, then Siemens,
 * GE (first value modulo 10^9, as dcm2niix's set_bValGE) and Philips private tags. */
void
read_acquisition (Ctx &ctx, const gdcm::DataSet &ds, CuDicomHeader *h)
{
  double v[4];

  h->images_in_acquisition = get_int (ctx, ds, 0x0020, 0x1002, -1);
  h->number_of_temporal_positions = get_int (ctx, ds, 0x0020, 0x0105, -1);
  h->scanning_sequence = get_code (ds, 0x0018, 0x0020);
  h->sequence_variant = get_code (ds, 0x0018, 0x0021);
  h->mr_acquisition_type = get_code (ds, 0x0018, 0x0023);
  h->manufacturer_model = get_text (ctx, ds, 0x0008, 0x1090);
  h->echo_train_length = get_int (ctx, ds, 0x0018, 0x0091, -1);
  h->magnetic_field_strength = get_double (ctx, ds, 0x0018, 0x0087, -1);
  memset (h->acquisition_matrix, 0, sizeof h->acquisition_matrix);
  if (get_numbers (ctx, ds, 0x0018, 0x1310, v, 4) == 4)
    for (int i = 0; i < 4; i++)
      h->acquisition_matrix[i] = (int) v[i];
  h->phase_encoding_direction = get_code (ds, 0x0018, 0x1312);
  h->diffusion_directionality = get_code (ds, 0x0018, 0x9075);
  h->sequence_name = get_text (ctx, ds, 0x0018, 0x0024);

  h->b_value = get_double (ctx, ds, 0x0018, 0x9087, -1);
  if (h->b_value < 0 && private_number (ctx, ds, 0x0019, 0x0C, "SIEMENS MR HEADER", v))
    h->b_value = v[0];
  if (h->b_value < 0 && private_number (ctx, ds, 0x0043, 0x39, "GEMS_PARM_01", v))
    h->b_value = fmod (v[0], 1e9);
  if (h->b_value < 0 && private_number (ctx, ds, 0x2001, 0x03, "Philips Imaging DD 001", v))
    h->b_value = v[0];
}

void
read_mosaic (const gdcm::DataSet &ds, CuDicomHeader *h)
{
  if (h->image_type == nullptr || strstr (h->image_type, "MOSAIC") == nullptr)
    return;

  /* The element is found through GDCM's private-tag lookup; its bytes are parsed by
   * _cu_dicom_parse_csa, because gdcm::CSAHeader asserts on damaged headers. */
  const gdcm::PrivateTag pt (0x0029, 0x10, "SIEMENS CSA HEADER");
  if (!ds.FindDataElement (pt))
    return;
  const gdcm::ByteValue *bv = ds.GetDataElement (pt).GetByteValue ();
  if (bv == nullptr || bv->GetPointer () == nullptr)
    return;
  double normal[3] = { 0, 0, 0 };
  gboolean has_normal = FALSE;
  int mosaic = 0;
  _cu_dicom_parse_csa ((const guint8 *) bv->GetPointer (), bv->GetLength (), &mosaic, normal,
                       &has_normal);
  h->mosaic_images = mosaic;
  if (has_normal)
    {
      h->has_csa_normal = TRUE;
      memcpy (h->csa_slice_normal, normal, sizeof normal);
    }
}

/* Locate the Pixel Data element header just before the value offset GDCM stopped at, verify
 * its tag and read its length (PS3.5 §7.1.2: explicit OB/OW/UN have a 12-byte header, implicit
 * 8 bytes; the length is the last 4 bytes either way). */
bool
locate_pixel_data (CuDicomHeader *h, int fd, gint64 value_offset)
{
  if (value_offset < 8 || value_offset > h->file_size)
    return false;
  guint8 b[12] = { 0 };
  gint64 start = MAX (value_offset - 12, 0);
  ssize_t want = (ssize_t) (value_offset - start);
  ssize_t got = pread (fd, b + (12 - want), want, start);
  if (got != want)
    return false;

  const guint8 pd_le[4] = { 0xE0, 0x7F, 0x10, 0x00 };
  const guint8 pd_be[4] = { 0x7F, 0xE0, 0x00, 0x10 };
  bool be = h->big_endian;
  const guint8 *tag = be ? pd_be : pd_le;

  bool ok = false;
  if (memcmp (b, tag, 4) == 0 && g_ascii_isupper (b[4]) && g_ascii_isupper (b[5]))
    ok = true;        /* explicit VR, 4-byte length */
  else if (memcmp (b + 4, tag, 4) == 0)
    ok = true;        /* implicit VR */
  if (!ok)
    return false;

  const guint8 *l = b + 8;
  guint32 len = be ? ((guint32) l[0] << 24 | l[1] << 16 | l[2] << 8 | l[3])
                   : (l[0] | l[1] << 8 | l[2] << 16 | (guint32) l[3] << 24);
  h->pixel_offset = value_offset;
  h->pixel_length = len == 0xFFFFFFFFu ? -1 : (gint64) len;
  h->encapsulated = len == 0xFFFFFFFFu;
  return true;
}

const char *const TS_DEFLATED = "1.2.840.10008.1.2.1.99";

/* Deflated Explicit VR Little Endian (PS3.5 A.5): the data set after the file meta group is one
 * raw deflate stream. GDCM inflates it as it parses, and a damaged stream can make it allocate
 * and clear gigabytes. We inflate it ourselves (bounded, every zlib error reported), check the
 * structure like any other file, and hand GDCM an ordinary Explicit VR Little Endian copy in
 * memory — only the Transfer Syntax UID in the meta group is rewritten. */
std::unique_ptr<std::istringstream>
inflated_stream (const CuDicomHeader *h, GError **error)
{
  gchar *contents = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (h->path, &contents, &len, nullptr))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot read the file"),
                   h->path);
      return nullptr;
    }
  std::string bytes (contents, len);
  g_free (contents);

  size_t pos = h->has_preamble ? 132 : 0, ts_at = std::string::npos, gl_at = std::string::npos;
  while (pos + 8 <= bytes.size ())
    {
      const guint8 *p = (const guint8 *) bytes.data () + pos;
      if ((p[0] | (p[1] << 8)) != 0x0002)
        break;
      guint16 elem = p[2] | (p[3] << 8);
      bool long_vr = (p[4] == 'O' && (p[5] == 'B' || p[5] == 'W')) || (p[4] == 'U' && p[5] == 'N')
                     || (p[4] == 'S' && p[5] == 'Q') || (p[4] == 'U' && p[5] == 'T');
      size_t hdr = long_vr ? 12 : 8;
      if (pos + hdr > bytes.size ())
        break;
      size_t vlen = long_vr ? (p[8] | (p[9] << 8) | (p[10] << 16) | ((size_t) p[11] << 24))
                            : (size_t) (p[6] | (p[7] << 8));
      if (elem == 0x0000 && vlen == 4)
        gl_at = pos + hdr;
      if (elem == 0x0010 && !long_vr)
        ts_at = pos;
      pos += hdr + vlen;
    }
  if (ts_at == std::string::npos || pos > bytes.size ())
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: the file meta group of a deflated file is damaged"),
                   h->path);
      return nullptr;
    }

  /* Inflate, at most 2 GiB. */
  std::string out;
  z_stream zs;
  memset (&zs, 0, sizeof zs);
  if (inflateInit2 (&zs, -15) != Z_OK)
    return nullptr;
  zs.next_in = (Bytef *) bytes.data () + pos;
  zs.avail_in = (uInt) (bytes.size () - pos);
  int rc = Z_OK;
  char chunk[1 << 16];
  while (rc == Z_OK && out.size () < ((size_t) 1 << 31))
    {
      zs.next_out = (Bytef *) chunk;
      zs.avail_out = sizeof chunk;
      rc = inflate (&zs, Z_NO_FLUSH);
      out.append (chunk, sizeof chunk - zs.avail_out);
      if (rc == Z_BUF_ERROR && zs.avail_in == 0)
        break;
    }
  inflateEnd (&zs);
  if (rc != Z_STREAM_END)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: the deflated data set does not inflate (%s)"),
                   h->path, zs.msg != nullptr ? zs.msg : _("truncated or corrupt stream"));
      return nullptr;
    }

  /* Meta group with (0002,0010) = Explicit VR Little Endian (20 bytes padded instead of 22). */
  std::string meta = bytes.substr (0, pos);
  guint8 *t = (guint8 *) &meta[ts_at];
  size_t old_len = t[6] | (t[7] << 8);
  std::string value ("1.2.840.10008.1.2.1", 19);
  value.push_back ('\0');
  t[6] = (guint8) value.size ();
  t[7] = 0;
  meta.replace (ts_at + 8, old_len, value);
  if (gl_at != std::string::npos)
    {
      guint8 *g = (guint8 *) &meta[gl_at];
      guint32 gl = g[0] | (g[1] << 8) | (g[2] << 16) | ((guint32) g[3] << 24);
      gl = gl + (guint32) value.size () - (guint32) old_len;
      for (int k = 0; k < 4; k++)
        g[k] = (guint8) (gl >> (8 * k));
    }
  size_t dataset_start = meta.size ();
  meta += out;
  if (!_cu_dicom_validate_dataset ((const guint8 *) meta.data (), meta.size (), dataset_start,
                                   h->path, error))
    return nullptr;
  return std::make_unique<std::istringstream> (std::move (meta));
}

/* GDCM 3.0 refuses files whose transfer syntax it does not know, even when the data set is
 * ordinary Explicit VR Little Endian and only the pixel encoding is new (HTJ2K, deflated image
 * frames). For those we hand GDCM a copy of the file in memory whose (0002,0010) value names a
 * known encapsulated syntax of exactly the same length, so no offset moves. Rare files only:
 * this reads the whole file. declared_ts receives the real UID.
 *
 * Likewise a file meta group without (0002,0010) leaves GDCM guessing, and it gives up on
 * unusual data sets (private groups with VR UN of undefined length): we insert the transfer
 * syntax the first data element shows (explicit VR if it carries two VR letters, else implicit)
 * and fix the group length. *shift receives how many bytes were inserted before the data set. */
std::unique_ptr<std::istringstream>
patched_stream (const CuDicomHeader *h, std::string &declared_ts, gint64 *shift)
{
  static const struct { const char *uid; const char *stand_in; } subst[] = {
    /* 24 bytes padded ↔ MPEG2 Main Profile (23 + NUL); 22 bytes padded ↔ JPEG 2000 lossless */
    { "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.100" },
    { "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.100" },
    { "1.2.840.10008.1.2.4.203", "1.2.840.10008.1.2.4.100" },
    { "1.2.840.10008.1.2.8.1", "1.2.840.10008.1.2.4.90" },
  };
  if (!h->has_meta || h->file_size > G_MAXINT32)
    return nullptr;

  gchar *contents = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (h->path, &contents, &len, nullptr))
    return nullptr;
  std::string bytes (contents, len);
  g_free (contents);

  /* Walk the file meta group (always Explicit VR Little Endian, PS3.10 §7.1). */
  size_t pos = h->has_preamble ? 132 : 0;
  size_t group_length_at = std::string::npos;
  while (pos + 8 <= bytes.size ())
    {
      const guint8 *p = (const guint8 *) bytes.data () + pos;
      guint16 group = p[0] | (p[1] << 8), elem = p[2] | (p[3] << 8);
      if (group != 0x0002)
        break;
      size_t vlen, hdr;
      bool long_vr = (p[4] == 'O' || p[4] == 'S' || p[4] == 'U') && (p[5] == 'B' || p[5] == 'Q'
                                                                      || p[5] == 'N' || p[5] == 'T'
                                                                      || p[5] == 'W');
      if (long_vr && !(p[4] == 'U' && p[5] == 'S'))
        {
          if (pos + 12 > bytes.size ())
            break;
          vlen = p[8] | (p[9] << 8) | (p[10] << 16) | ((size_t) p[11] << 24);
          hdr = 12;
        }
      else
        {
          vlen = p[6] | (p[7] << 8);
          hdr = 8;
        }
      if (pos + hdr + vlen > bytes.size ())
        break;
      if (elem == 0x0010)
        {
          std::string v = bytes.substr (pos + hdr, vlen);
          while (!v.empty () && (v.back () == '\0' || v.back () == ' '))
            v.pop_back ();
          for (const auto &s : subst)
            if (v == s.uid && strlen (s.stand_in) <= vlen)
              {
                std::string repl (s.stand_in);
                repl.resize (vlen, '\0');
                bytes.replace (pos + hdr, vlen, repl);
                declared_ts = v;
                return std::make_unique<std::istringstream> (bytes);
              }
          return nullptr;
        }
      if (elem == 0x0000 && vlen == 4)
        group_length_at = pos + hdr;
      pos += hdr + vlen;
    }

  /* No (0002,0010): pos is the start of the data set. */
  if (pos + 8 > bytes.size () || pos == (h->has_preamble ? 132u : 0u))
    return nullptr;
  const guint8 *d = (const guint8 *) bytes.data () + pos;
  bool explicit_vr = g_ascii_isupper (d[4]) && g_ascii_isupper (d[5]);
  std::string uid = explicit_vr ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2";
  std::string value = uid;
  if (value.size () % 2)
    value.push_back ('\0');
  std::string elem ("\x02\x00\x10\x00UI", 6);
  elem.push_back ((char) value.size ());
  elem.push_back ('\0');
  elem += value;
  if (group_length_at != std::string::npos)
    {
      guint8 *g = (guint8 *) &bytes[group_length_at];
      guint32 gl = g[0] | (g[1] << 8) | (g[2] << 16) | ((guint32) g[3] << 24);
      gl += (guint32) elem.size ();
      for (int k = 0; k < 4; k++)
        g[k] = (guint8) (gl >> (8 * k));
    }
  bytes.insert (pos, elem);
  declared_ts = uid;
  *shift = (gint64) elem.size ();
  return std::make_unique<std::istringstream> (bytes);
}

/* A read-only stream over bytes already in memory (the file up to Pixel Data, read with one
 * pread): GDCM's seeks and tellg become pointer arithmetic instead of lseek calls. */
class MemoryBuffer : public std::streambuf
{
public:
  MemoryBuffer (const guint8 *data, gsize len)
  {
    char *p = (char *) data;
    setg (p, p, p + len);
  }

protected:
  pos_type
  seekoff (off_type off, std::ios_base::seekdir dir, std::ios_base::openmode) override
  {
    char *base = dir == std::ios_base::beg ? eback ()
                 : dir == std::ios_base::cur ? gptr () : egptr ();
    if (off < eback () - base || off > egptr () - base)
      return pos_type (off_type (-1));
    setg (eback (), base + off, egptr ());
    return pos_type (gptr () - eback ());
  }

  pos_type
  seekpos (pos_type pos, std::ios_base::openmode which) override
  {
    return seekoff (off_type (pos), std::ios_base::beg, which);
  }
};

gboolean
read_header (CuDicomHeader *h, int fd, const guint8 *bytes, gsize n_bytes,
             CuDicomWantFunc want, CuDicomVisitFunc visit, gpointer user_data, GError **error)
{
  silence_gdcm ();

  gdcm::Reader first, second, third;
  gdcm::Reader *reader = &first;
  std::set<gdcm::Tag> skip;
  const gdcm::Tag pixel_data (0x7FE0, 0x0010);
  skip.insert (pixel_data);
  std::string declared_ts;
  gint64 shift = 0;
  std::unique_ptr<std::istringstream> patched, inflated;

  g_autofree char *sniffed_ts = h->transfer_syntax;
  h->transfer_syntax = nullptr;
  if (g_strcmp0 (sniffed_ts, TS_DEFLATED) == 0)
    {
      inflated = inflated_stream (h, error);
      if (!inflated)
        return FALSE;
      first.SetStream (*inflated);
      declared_ts = TS_DEFLATED;
    }
  std::unique_ptr<MemoryBuffer> memory;
  std::unique_ptr<std::istream> memory_stream;
  if (!inflated && bytes != nullptr)
    {
      memory = std::make_unique<MemoryBuffer> (bytes, n_bytes);
      memory_stream = std::make_unique<std::istream> (memory.get ());
      first.SetStream (*memory_stream);
    }
  else if (!inflated)
    first.SetFileName (h->path);
  bool ok = first.ReadUpToTag (pixel_data, skip);
  if (!ok && memory)
    {
      /* Whatever GDCM wanted beyond the bytes in memory: the file itself, as before. */
      third.SetFileName (h->path);
      ok = third.ReadUpToTag (pixel_data, skip);
      reader = &third;
    }
  if (!ok && !inflated && (patched = patched_stream (h, declared_ts, &shift)))
    {
      second.SetStream (*patched);
      ok = second.ReadUpToTag (pixel_data, skip);
      reader = &second;
    }
  if (!ok)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: the data set could not be parsed (truncated or "
                     "corrupt element)"), h->path);
      return FALSE;
    }
  gint64 stop = (gint64) reader->GetStreamCurrentPosition () - shift;

  const gdcm::File &file = reader->GetFile ();
  const gdcm::FileMetaInformation &meta = file.GetHeader ();
  const gdcm::DataSet &ds = file.GetDataSet ();

  Ctx ctx;
  ctx.sf.SetFile (file);

  /* Transfer syntax: the declared one, else the one GDCM deduced from the bytes. */
  std::string ts;
  if (!declared_ts.empty ())
    h->transfer_syntax = g_strdup (declared_ts.c_str ());
  else if (raw_bytes (meta, gdcm::Tag (0x0002, 0x0010), ts) && !ts.empty ())
    h->transfer_syntax = _cu_dicom_text_to_utf8 (ts.data (), ts.size (), nullptr);
  if (h->transfer_syntax == nullptr || *h->transfer_syntax == '\0')
    {
      g_free (h->transfer_syntax);
      const char *deduced = meta.GetDataSetTransferSyntax ().GetString ();
      h->transfer_syntax = g_strdup (deduced != nullptr ? deduced : "1.2.840.10008.1.2");
    }
  h->big_endian = meta.GetDataSetTransferSyntax ().GetSwapCode () == gdcm::SwapCode::BigEndian
                  || g_strcmp0 (h->transfer_syntax, "1.2.840.10008.1.2.2") == 0;

  std::string media;
  raw_bytes (meta, gdcm::Tag (0x0002, 0x0002), media);
  g_autofree char *media_sop = _cu_dicom_text_to_utf8 (media.data (), media.size (), nullptr);
  h->sop_class_uid = get_code (ds, 0x0008, 0x0016);
  if (g_strcmp0 (media_sop, DICOMDIR_SOP_CLASS) == 0
      || g_strcmp0 (h->sop_class_uid, DICOMDIR_SOP_CLASS) == 0
      || ds.FindDataElement (gdcm::Tag (0x0004, 0x1220)))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DICOMDIR,
                   _("%s: a DICOMDIR (media directory), not an image; import the folder "
                     "instead"), h->path);
      return FALSE;
    }
  if (h->sop_class_uid == nullptr && media_sop != nullptr && *media_sop != '\0')
    h->sop_class_uid = g_strdup (media_sop);

  /* Specific Character Set first: every text attribute depends on it. */
  std::string scs;
  if (raw_bytes (ds, gdcm::Tag (0x0008, 0x0005), scs))
    {
      g_autofree char *s = _cu_dicom_text_to_utf8 (scs.data (), scs.size (), nullptr);
      ctx.charset = _cu_dicom_charset_to_iconv (s);
    }

  /* A missing SOP Instance UID is the catalog's business (it says which UID is missing);
   * the header is still useful, e.g. to decode the pixels. */
  h->sop_instance_uid = get_code (ds, 0x0008, 0x0018);

  h->patient_id = get_text (ctx, ds, 0x0010, 0x0020);
  h->patient_name = get_text (ctx, ds, 0x0010, 0x0010);
  h->patient_sex = get_code (ds, 0x0010, 0x0040);
  h->patient_birth_date = get_code (ds, 0x0010, 0x0030);
  h->patient_age = get_code (ds, 0x0010, 0x1010);
  h->patient_identity_removed = get_code (ds, 0x0012, 0x0062);
  h->study_uid = get_code (ds, 0x0020, 0x000D);
  h->study_date = get_code (ds, 0x0008, 0x0020);
  h->study_time = get_code (ds, 0x0008, 0x0030);
  h->study_description = get_text (ctx, ds, 0x0008, 0x1030);
  h->study_id = get_text (ctx, ds, 0x0020, 0x0010);
  h->accession_number = get_text (ctx, ds, 0x0008, 0x0050);
  h->series_uid = get_code (ds, 0x0020, 0x000E);
  h->series_description = get_text (ctx, ds, 0x0008, 0x103E);
  h->series_date = get_code (ds, 0x0008, 0x0021);
  h->series_time = get_code (ds, 0x0008, 0x0031);
  h->modality = get_code (ds, 0x0008, 0x0060);
  h->manufacturer = get_text (ctx, ds, 0x0008, 0x0070);
  h->frame_of_reference_uid = get_code (ds, 0x0020, 0x0052);
  h->image_type = get_code (ds, 0x0008, 0x0008);
  h->body_part = get_code (ds, 0x0018, 0x0015);
  h->series_number = get_int (ctx, ds, 0x0020, 0x0011, -1);
  h->instance_number = get_int (ctx, ds, 0x0020, 0x0013, -1);
  h->acquisition_number = get_int (ctx, ds, 0x0020, 0x0012, -1);
  h->temporal_position = get_int (ctx, ds, 0x0020, 0x0100, -1);
  h->echo_time = get_double (ctx, ds, 0x0018, 0x0081, -1);
  h->repetition_time = get_double (ctx, ds, 0x0018, 0x0080, -1);
  h->trigger_time = get_double (ctx, ds, 0x0018, 0x1060, -1);
  h->acquisition_time = get_code (ds, 0x0008, 0x0032);
  h->content_time = get_code (ds, 0x0008, 0x0033);

  /* Enhanced MR keeps echo and repetition time in functional groups (PS3.3 C.8.13.5). */
  {
    gdcm::SmartPointer<gdcm::SequenceOfItems> sq1, sq2, sq3;
    const gdcm::DataSet *shared = first_item (ds, 0x5200, 0x9229, sq1);
    const gdcm::DataSet *frame0 = first_item (ds, 0x5200, 0x9230, sq2);
    const gdcm::DataSet *groups[2] = { shared, frame0 };
    for (const gdcm::DataSet *g : groups)
      {
        if (g == nullptr)
          continue;
        const gdcm::DataSet *it;
        if (h->echo_time < 0 && (it = first_item (*g, 0x0018, 0x9114, sq3)) != nullptr)
          h->echo_time = get_double (ctx, *it, 0x0018, 0x9082, -1);
        if (h->repetition_time < 0 && (it = first_item (*g, 0x0018, 0x9112, sq3)) != nullptr)
          h->repetition_time = get_double (ctx, *it, 0x0018, 0x0080, -1);
      }
  }

  /* Image Pixel module */
  h->pixel_offset = -1;
  h->pixel_length = -1;
  h->rows = get_int (ctx, ds, 0x0028, 0x0010, 0);
  h->columns = get_int (ctx, ds, 0x0028, 0x0011, 0);
  h->samples_per_pixel = get_int (ctx, ds, 0x0028, 0x0002, 1);
  h->bits_allocated = get_int (ctx, ds, 0x0028, 0x0100, 0);
  h->bits_stored = get_int (ctx, ds, 0x0028, 0x0101, h->bits_allocated);
  h->high_bit = get_int (ctx, ds, 0x0028, 0x0102, h->bits_stored - 1);
  h->pixel_representation = get_int (ctx, ds, 0x0028, 0x0103, 0);
  h->planar_configuration = get_int (ctx, ds, 0x0028, 0x0006, 0);
  h->photometric = get_code (ds, 0x0028, 0x0004);
  h->number_of_frames = MAX (get_int (ctx, ds, 0x0028, 0x0008, 1), 1);

  bool has_pixel_element = false;
  if (stop > 0 && g_strcmp0 (h->transfer_syntax, "1.2.840.10008.1.2.1.99") != 0)
    has_pixel_element = locate_pixel_data (h, fd, stop);
  else if (g_strcmp0 (h->transfer_syntax, "1.2.840.10008.1.2.1.99") == 0)
    {
      /* Deflated data set: the stream position is inside the inflated data, so there is no
       * file offset; pixels go through GDCM. Did the reader stop at Pixel Data? */
      has_pixel_element = !ds.FindDataElement (pixel_data) && h->rows > 0 && h->columns > 0
                          && h->bits_allocated > 0;
    }
  if (!h->encapsulated && h->transfer_syntax != nullptr
      && (strstr (h->transfer_syntax, "1.2.840.10008.1.2.4.") == h->transfer_syntax
          || g_strcmp0 (h->transfer_syntax, "1.2.840.10008.1.2.5") == 0
          || g_strcmp0 (h->transfer_syntax, "1.2.840.10008.1.2.8.1") == 0))
    h->encapsulated = has_pixel_element;
  h->has_pixels = has_pixel_element && h->rows > 0 && h->columns > 0 && h->bits_allocated > 0;
  if (!h->has_pixels)
    {
      h->pixel_offset = -1;
      h->pixel_length = -1;
      h->encapsulated = FALSE;
    }

  /* Top-level geometry */
  double v[6];
  if (get_numbers (ctx, ds, 0x0020, 0x0032, v, 3) == 3)
    {
      h->has_position = TRUE;
      memcpy (h->position, v, 3 * sizeof (double));
    }
  if (get_numbers (ctx, ds, 0x0020, 0x0037, v, 6) == 6)
    {
      h->has_orientation = TRUE;
      memcpy (h->orientation, v, 6 * sizeof (double));
    }
  if (get_numbers (ctx, ds, 0x0028, 0x0030, v, 2) == 2)
    {
      h->has_spacing = TRUE;
      h->pixel_spacing[0] = v[0];
      h->pixel_spacing[1] = v[1];
    }
  h->slice_thickness = get_double (ctx, ds, 0x0018, 0x0050, 0);
  h->spacing_between_slices = get_double (ctx, ds, 0x0018, 0x0088, 0);
  h->rescale_slope = get_double (ctx, ds, 0x0028, 0x1053, 1);
  if (h->rescale_slope == 0)
    h->rescale_slope = 1;
  h->rescale_intercept = get_double (ctx, ds, 0x0028, 0x1052, 0);
  h->window_center = get_double (ctx, ds, 0x0028, 0x1050, 0);
  h->window_width = get_double (ctx, ds, 0x0028, 0x1051, 0);
  h->gantry_tilt = get_double (ctx, ds, 0x0018, 0x1120, 0);
  read_acquisition (ctx, ds, h);

  read_mosaic (ds, h);
  /* Before anything is sized from the Image Pixel module: fill_frames allocates per frame. */
  if (h->has_pixels && !_cu_dicom_header_check_pixels (h, fd, error))
    return FALSE;
  fill_frames (ctx, ds, h);
  if (!ctx.nonfinite.empty ())
    h->nonfinite_attribute = g_strdup (ctx.nonfinite.c_str ());

  /* The element walk of the pseudonymization check, on the data set already in memory. */
  if (visit != nullptr)
    _cu_gdcm_walk_dataset (ds, want, visit, user_data, h->path);
  return TRUE;
}


/* ---- Failures ------------------------------------------------------------------------
 *
 * Every C++ exception stops at these functions and becomes a GError. GDCM's assertion
 * failures (abort) and crashes on hostile input are not caught here: no handler can safely
 * continue a process after them (a signal handler that jumps out of C++ frames skips
 * destructors, and it cannot tell GDCM's assertions from glibc's heap-corruption aborts).
 * Files from outside are parsed by the parser process instead (cu-dicom-parser.c), where a
 * crash costs one file; the structural check (cu-dicom-validate.c) keeps known-bad
 * structures away from GDCM in the first place. */
gboolean
read_header_caught (CuDicomHeader *header, int fd, const guint8 *bytes, gsize n_bytes,
                    CuDicomWantFunc want, CuDicomVisitFunc visit, gpointer user_data,
                    GError **error)
{
  try
    {
      return read_header (header, fd, bytes, n_bytes, want, visit, user_data, error);
    }
  catch (const std::exception &e)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: %s"), header->path, e.what ());
    }
  catch (...)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: the parser gave up"), header->path);
    }
  return FALSE;
}

} /* namespace */

extern "C" gboolean
_cu_gdcm_read_header (CuDicomHeader *header, int fd, const guint8 *bytes, gsize n_bytes,
                      CuDicomWantFunc want, CuDicomVisitFunc visit, gpointer user_data,
                      GError **error)
{
  return read_header_caught (header, fd, bytes, n_bytes, want, visit, user_data, error);
}

namespace
{

gboolean
decode_frames (const CuDicomHeader *h, guint8 *out, gsize out_size, gboolean *out_ybr,
               GError **error)
{
  silence_gdcm ();

  gdcm::ImageReader reader;
  std::unique_ptr<std::istringstream> inflated;
  if (g_strcmp0 (h->transfer_syntax, TS_DEFLATED) == 0)
    {
      inflated = inflated_stream (h, error);
      if (!inflated)
        return FALSE;
      reader.SetStream (*inflated);
    }
  else
    reader.SetFileName (h->path);
  if (!reader.Read ())
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: GDCM could not read the image (%s)"), h->path,
                   _cu_dicom_transfer_syntax_name (h->transfer_syntax));
      return FALSE;
    }
  const gdcm::Image &img = reader.GetImage ();
  const unsigned int *dims = img.GetDimensions ();
  unsigned int nframes = img.GetNumberOfDimensions () > 2 ? dims[2] : 1;
  if ((int) dims[0] != h->columns || (int) dims[1] != h->rows
      || (int) nframes != MAX (h->number_of_frames, 1))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: decoded image is %u×%u×%u, the header says %d×%d×%d"), h->path,
                   dims[0], dims[1], nframes, h->columns, h->rows, h->number_of_frames);
      return FALSE;
    }

  size_t len = img.GetBufferLength ();
  std::vector<char> buf (len);
  if (len == 0 || !img.GetBuffer (buf.data ()))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: cannot decode %s pixel data"), h->path,
                   _cu_dicom_transfer_syntax_name (h->transfer_syntax));
      return FALSE;
    }

  /* GetBuffer may change what the image says about itself (a JPEG codec turns YBR into RGB). */
  const gdcm::PixelFormat &pf = img.GetPixelFormat ();
  if ((int) pf.GetSamplesPerPixel () != h->samples_per_pixel
      || (int) pf.GetBitsAllocated () != h->bits_allocated || len != out_size)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: decoded pixel data does not match the header (%d samples of %d "
                     "bits, %zu bytes; expected %d of %d bits, %zu bytes)"),
                   h->path, (int) pf.GetSamplesPerPixel (), (int) pf.GetBitsAllocated (),
                   len, h->samples_per_pixel, h->bits_allocated, (size_t) out_size);
      return FALSE;
    }

  gdcm::PhotometricInterpretation pi = img.GetPhotometricInterpretation ();
  *out_ybr = pi == gdcm::PhotometricInterpretation::YBR_FULL
             || pi == gdcm::PhotometricInterpretation::YBR_FULL_422;

  int spp = h->samples_per_pixel;
  if (spp > 1 && img.GetPlanarConfiguration () == 1)
    {
      /* Planes (RRR…GGG…BBB…) per frame → interleaved (RGBRGB…). */
      gsize bps = (gsize) h->bits_allocated / 8;
      gsize plane = (gsize) h->rows * h->columns;
      gsize frame_bytes = plane * spp * bps;
      for (unsigned int f = 0; f < nframes; f++)
        {
          const char *src = buf.data () + f * frame_bytes;
          guint8 *dst = out + f * frame_bytes;
          for (gsize p = 0; p < plane; p++)
            for (int s = 0; s < spp; s++)
              memcpy (dst + (p * spp + s) * bps, src + (s * plane + p) * bps, bps);
        }
    }
  else
    memcpy (out, buf.data (), len);
  return TRUE;
}


gboolean
decode_frames_caught (const CuDicomHeader *header, guint8 *out, gsize out_size,
                      gboolean *out_ybr, GError **error)
{
  try
    {
      return decode_frames (header, out, out_size, out_ybr, error);
    }
  catch (const std::exception &e)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: decoding failed: %s"), header->path, e.what ());
    }
  catch (...)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("%s: decoding failed"), header->path);
    }
  return FALSE;
}

} /* namespace */

extern "C" gboolean
_cu_gdcm_decode_frames_local (const CuDicomHeader *header, guint8 *out, gsize out_size,
                              gboolean *out_ybr, GError **error)
{
  return decode_frames_caught (header, out, out_size, out_ybr, error);
}


/* ---- Shared with the element walk and the rewriter (cu-gdcm-element-private.h) ---------- */

bool
_cu_gdcm_source_read (CuGdcmSource &src, const CuDicomHeader *h, bool up_to_pixels,
                      GError **error)
{
  silence_gdcm ();

  const gdcm::Tag pixel_data (0x7FE0, 0x0010);
  std::set<gdcm::Tag> skip;
  skip.insert (pixel_data);
  gint64 shift = 0;
  bool ok;

  src.reader = std::make_unique<gdcm::Reader> ();
  if (g_strcmp0 (h->transfer_syntax, TS_DEFLATED) == 0)
    {
      src.stream = inflated_stream (h, error);
      if (!src.stream)
        return false;
      src.reader->SetStream (*src.stream);
      src.declared_ts = TS_DEFLATED;
      return up_to_pixels ? src.reader->ReadUpToTag (pixel_data, skip) : src.reader->Read ();
    }

  src.reader->SetFileName (h->path);
  ok = up_to_pixels ? src.reader->ReadUpToTag (pixel_data, skip) : src.reader->Read ();
  if (ok)
    return true;
  /* A gdcm::Reader is not reused after a failed read. */
  src.stream = patched_stream (h, src.declared_ts, &shift);
  if (!src.stream)
    return false;
  src.reader = std::make_unique<gdcm::Reader> ();
  src.reader->SetStream (*src.stream);
  return up_to_pixels ? src.reader->ReadUpToTag (pixel_data, skip) : src.reader->Read ();
}

namespace
{

gboolean
run_caught (const char *path, gboolean (*fn) (gpointer, GError **), gpointer data,
            GError **error)
{
  try
    {
      return fn (data, error);
    }
  catch (const std::exception &e)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: %s"), path, e.what ());
    }
  catch (...)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: the parser gave up"), path);
    }
  return FALSE;
}

} /* namespace */

extern "C" gboolean
_cu_gdcm_run_guarded (const char *path, gboolean (*fn) (gpointer, GError **), gpointer data,
                      GError **error)
{
  silence_gdcm ();
  return run_caught (path, fn, data, error);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-validate.c — structural validation of a DICOM file before any parser sees it.
 *
 * PS3.5 §7: a data set is a run of elements (tag, VR in explicit syntaxes, length, value);
 * a sequence's value is a run of items (FFFE,E000), each holding a nested data set; undefined
 * lengths (FFFFFFFF) end with an item delimiter (FFFE,E00D) or a sequence delimiter
 * (FFFE,E0DD); VR UN of undefined length is read as Implicit VR Little Endian (CP-246).
 * Encapsulated pixel data (PS3.5 A.4) is a run of items of defined length ending with a
 * sequence delimiter.
 *
 * The walk reads element headers only and skips values by arithmetic, so its cost is the
 * number of elements, not the file size. It keeps an explicit stack of at most
 * 2·CU_DICOM_VALIDATE_MAX_DEPTH + 1 frames (a data set, the sequence around it, …), never
 * recurses, and every step either moves forward in the file or closes a frame: it ends on
 * any input. It allocates nothing that depends on the input.
 *
 * GDCM parses data sets recursively and trusts the lengths it reads: a few thousand nested
 * sequences overflow its stack, and an element that claims more bytes than its item holds
 * makes it allocate what the length says. Such files stop here, with the offset of the first
 * element that does not fit.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "cu-dicom-header.h"
#include "cu-dicom-validate.h"
#include "cu-dicom-validate-private.h"

#define WINDOW 65536

typedef struct
{
  int fd;
  const guint8 *mem;   /* the bytes, when validating memory */
  gint64 size;
  guint8 *win;         /* a window of the file (fd), WINDOW bytes */
  gint64 wstart;
  gsize wlen;
} Src;

static const guint8 *
src_get (Src *s, gint64 pos, gsize n)
{
  if (pos < 0 || n > WINDOW || pos + (gint64) n > s->size)
    return NULL;
  if (s->mem != NULL)
    return s->mem + pos;
  if (s->wstart < 0 || pos < s->wstart || pos + (gint64) n > s->wstart + (gint64) s->wlen)
    {
      ssize_t got;
      do
        got = pread (s->fd, s->win, WINDOW, pos);
      while (got < 0 && errno == EINTR);
      if (got < (ssize_t) n)
        return NULL;
      s->wstart = pos;
      s->wlen = (gsize) got;
    }
  return s->win + (pos - s->wstart);
}

static guint16
rd16 (const guint8 *p, gboolean be)
{
  return be ? (guint16) ((p[0] << 8) | p[1]) : (guint16) (p[0] | (p[1] << 8));
}

static guint32
rd32 (const guint8 *p, gboolean be)
{
  return be ? ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3]
            : p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

/* PS3.5 Table 7.1-1: VRs with a reserved field and a 4-byte length. */
static gboolean
vr_has_long_length (const guint8 *vr)
{
  static const char *const long_vrs[] = { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC",
                                          "UN", "UR", "UT", "UV" };
  for (gsize i = 0; i < G_N_ELEMENTS (long_vrs); i++)
    if (vr[0] == long_vrs[i][0] && vr[1] == long_vrs[i][1])
      return TRUE;
  return FALSE;
}

/* PS3.5 Table 6.2-1. */
static gboolean
vr_is_known (const guint8 *vr)
{
  static const char *const vrs[] = { "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS",
                                     "LO", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH",
                                     "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN",
                                     "UR", "US", "UT", "UV" };
  for (gsize i = 0; i < G_N_ELEMENTS (vrs); i++)
    if (vr[0] == vrs[i][0] && vr[1] == vrs[i][1])
      return TRUE;
  return FALSE;
}

typedef enum
{
  FRAME_DATASET,    /* elements, up to end (or a delimiter when end < 0) */
  FRAME_SEQUENCE,   /* items, up to end (or the sequence delimiter when end < 0) */
} FrameKind;

typedef struct
{
  FrameKind kind;
  gint64 start;        /* where the sequence or item began (its tag), for messages */
  gint64 end;          /* end of the value, -1 for undefined length */
  gboolean explicit_vr;
  gboolean be;
  gint64 last_tag;     /* of the last element of a data set, -1 before the first */
} Frame;

#define MAX_FRAMES (2 * CU_DICOM_VALIDATE_MAX_DEPTH + 2)

typedef struct
{
  Src *src;
  const char *name;
  Frame stack[MAX_FRAMES];
  int top;             /* index of the current frame */
  int depth;           /* sequences open */
  GError **error;
  gint64 stop;         /* where header reading stops: the first top-level element at or past
                        * Pixel Data, or the end of the file */
  gboolean stop_is_pixel_data;
} Walk;

G_GNUC_PRINTF (3, 4) static gboolean
fail (Walk *w, gint64 at, const char *format, ...)
{
  va_list ap;
  va_start (ap, format);
  g_autofree char *what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (w->error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
               _("%s: malformed DICOM at byte %lld: %s"), w->name, (long long) at, what);
  return FALSE;
}

static gboolean
push (Walk *w, FrameKind kind, gint64 start, gint64 end, gboolean explicit_vr, gboolean be)
{
  if (kind == FRAME_SEQUENCE)
    {
      if (w->depth >= CU_DICOM_VALIDATE_MAX_DEPTH)
        return fail (w, start, _("sequences are nested more than %d levels deep"),
                     CU_DICOM_VALIDATE_MAX_DEPTH);
      w->depth++;
    }
  g_assert (w->top + 1 < MAX_FRAMES);
  w->top++;
  w->stack[w->top] = (Frame) { kind, start, end, explicit_vr, be, -1 };
  return TRUE;
}

static void
pop (Walk *w)
{
  if (w->stack[w->top].kind == FRAME_SEQUENCE)
    w->depth--;
  w->top--;
}

/* Encapsulated data (PS3.5 A.4): items of defined length up to a sequence delimiter. pos is
 * the first item; on success it is just past the delimiter. The contents are not read. */
static gboolean
walk_fragments (Walk *w, gint64 *pos, gint64 limit, gint64 element_at, gboolean be)
{
  for (;;)
    {
      const guint8 *p = src_get (w->src, *pos, 8);
      if (p == NULL)
        return fail (w, element_at, _("encapsulated pixel data ends before its sequence "
                                      "delimiter (file truncated)"));
      guint16 g = rd16 (p, be), e = rd16 (p + 2, be);
      guint32 len = rd32 (p + 4, be);
      if (g == 0xFFFE && e == 0xE0DD)
        {
          *pos += 8;
          return TRUE;
        }
      if (g != 0xFFFE || e != 0xE000 || len == 0xFFFFFFFFu)
        return fail (w, *pos, _("encapsulated pixel data has a bad item"));
      gint64 next = *pos + 8 + (gint64) len;
      if (next > w->src->size)
        return fail (w, *pos, _("a pixel data fragment of %u bytes runs past the end of the file "
                                "(file truncated)"), len);
      if (limit >= 0 && next > limit)
        return fail (w, *pos, _("a pixel data fragment runs past the end of its item"));
      *pos = next;
    }
}

/* One element header at pos in a data set frame. */
static gboolean
step_dataset (Walk *w, gint64 *pos, gboolean *done)
{
  Frame *f = &w->stack[w->top];
  gboolean top_level = w->top == 0;

  if (f->end >= 0 && *pos == f->end)
    {
      pop (w);
      return TRUE;
    }
  if (top_level && *pos == w->src->size)
    {
      w->stop = *pos;
      *done = TRUE;
      return TRUE;
    }
  const guint8 *p = src_get (w->src, *pos, 8);
  if (p == NULL)
    return fail (w, *pos, _("the file ends inside an element header (file truncated)"));
  guint16 g = rd16 (p, f->be), e = rd16 (p + 2, f->be);

  if (g == 0xFFFE)
    {
      /* An item delimiter ends an item of undefined length; a defined-length item may carry
       * one as its last 8 bytes. Anything else of group FFFE where an element belongs is a
       * broken structure. */
      if (e == 0xE00D && !top_level && (f->end < 0 || *pos + 8 == f->end))
        {
          *pos += 8;
          pop (w);
          return TRUE;
        }
      return fail (w, *pos, _("a delimiter (FFFE,%04X) stands where a data element should be"), e);
    }

  /* PS3.5 §7.1: elements ascend by tag. A length that is wrong by even one byte sends a
   * parser into the middle of some value, where what it reads as tags is in no order: this is
   * what catches such lengths when the bytes they point to still lie inside the file. */
  gint64 tag = (gint64) g << 16 | e;
  if (tag <= f->last_tag)
    return fail (w, *pos, _("element (%04X,%04X) follows (%04X,%04X): elements are out of "
                            "order, so a length before it is wrong"),
                 g, e, (guint) (f->last_tag >> 16), (guint) (f->last_tag & 0xFFFF));
  f->last_tag = tag;

  if (top_level && (g > 0x7FE0 || (g == 0x7FE0 && e >= 0x0010)))
    {
      /* Pixel Data, where header reading stops: its element header must be whole, and
       * encapsulated fragments must lie inside the file. What follows is not looked at. */
      gboolean ex = f->explicit_vr && vr_is_known (p + 4);
      gboolean long_header = ex && vr_has_long_length (p + 4);
      gsize hdr = ex && !long_header ? 8 : (ex ? 12 : 8);
      const guint8 *q = src_get (w->src, *pos, hdr);
      if (q == NULL)
        return fail (w, *pos, _("the file ends inside the pixel data element header (file "
                                "truncated)"));
      guint32 len = ex && !long_header ? rd16 (q + 6, f->be) : rd32 (q + hdr - 4, f->be);
      /* GDCM stops before the first element at or past Pixel Data, but only once it has
       * read that element's header, and for an element it reads as implicit VR it
       * allocates the declared length right then: anything but Pixel Data itself (whose
       * value it skips) must fit in the file. */
      if (!(g == 0x7FE0 && e == 0x0010) && len != 0xFFFFFFFFu
          && *pos + (gint64) hdr + (gint64) len > w->src->size)
        return fail (w, *pos, _("element (%04X,%04X) declares %u bytes, but only %lld remain in "
                                "the file (file truncated or length corrupt)"),
                     g, e, len, (long long) (w->src->size - *pos - (gint64) hdr));
      if (g == 0x7FE0 && e == 0x0010 && len == 0xFFFFFFFFu)
        {
          gint64 at = *pos + (gint64) hdr;
          if (!walk_fragments (w, &at, -1, *pos, f->be))
            return FALSE;
        }
      w->stop = *pos;
      w->stop_is_pixel_data = g == 0x7FE0 && e == 0x0010;
      *done = TRUE;
      return TRUE;
    }

  /* An element without a VR in an explicit data set is read as implicit (a 4-byte length), as
   * GDCM and other readers do for such broken encoders. GDCM decides by its table of VRs, not
   * by the look of the two bytes: two capitals that name no VR ("XQ") are an implicit element
   * to it, and their bytes part of a 4-byte length, so the same table decides here. */
  gboolean ex = f->explicit_vr && vr_is_known (p + 4);
  gboolean is_sq = FALSE, is_un = FALSE, is_ob_ow = FALSE;
  gint64 at = *pos;
  guint32 len;
  if (ex)
    {
      is_sq = p[4] == 'S' && p[5] == 'Q';
      is_un = p[4] == 'U' && p[5] == 'N';
      is_ob_ow = p[4] == 'O' && (p[5] == 'B' || p[5] == 'W');
      if (vr_has_long_length (p + 4))
        {
          const guint8 *q = src_get (w->src, *pos, 12);
          if (q == NULL)
            return fail (w, *pos, _("the file ends inside an element header (file truncated)"));
          len = rd32 (q + 8, f->be);
          *pos += 12;
        }
      else
        {
          len = rd16 (p + 6, f->be);
          *pos += 8;
        }
    }
  else
    {
      len = rd32 (p + 4, f->be);
      *pos += 8;
    }

  if (len == 0xFFFFFFFFu)
    {
      if (ex && is_ob_ow)
        /* Encapsulated data below the top level (an icon image's pixel data). */
        return walk_fragments (w, pos, f->end, at, f->be);
      if (ex && !is_sq && !is_un)
        return fail (w, at, _("element (%04X,%04X) with VR %c%c has an undefined length"),
                     g, e, p[4], p[5]);
      /* A sequence: SQ, UN (read as Implicit VR Little Endian, CP-246), or implicit VR. */
      gboolean inner_explicit = ex && !is_un ? f->explicit_vr : FALSE;
      gboolean inner_be = is_un ? FALSE : f->be;
      return push (w, FRAME_SEQUENCE, at, -1, inner_explicit, inner_be);
    }

  gint64 value_at = *pos;
  gint64 value_end = value_at + (gint64) len;
  if (value_end > w->src->size)
    return fail (w, at, _("element (%04X,%04X) declares %u bytes, but only %lld remain in the "
                          "file (file truncated or length corrupt)"),
                 g, e, len, (long long) (w->src->size - value_at));
  if (f->end >= 0 && value_end > f->end)
    return fail (w, at, _("element (%04X,%04X) declares %u bytes, more than the %lld left in "
                          "its item"), g, e, len, (long long) (f->end - value_at));
  *pos = value_end;
  if (len == 0)
    return TRUE;

  /* A defined-length sequence: its items must fill it exactly. Implicit VR and UN values
   * that start with an item tag are sequences to any parser that knows the tag (GDCM reads
   * them so), and are checked as such. */
  gboolean sequence = ex && is_sq;
  gboolean inner_explicit = f->explicit_vr, inner_be = f->be;
  if (!sequence && (!ex || is_un) && len >= 8)
    {
      const guint8 *v = src_get (w->src, value_at, 4);
      gboolean vbe = is_un ? FALSE : f->be;
      if (v != NULL && rd16 (v, vbe) == 0xFFFE && rd16 (v + 2, vbe) == 0xE000)
        {
          sequence = TRUE;
          inner_explicit = FALSE;
          inner_be = vbe;
        }
    }
  if (sequence)
    {
      *pos = value_at;
      return push (w, FRAME_SEQUENCE, at, value_end, inner_explicit, inner_be);
    }
  return TRUE;
}

/* One item header at pos in a sequence frame. */
static gboolean
step_sequence (Walk *w, gint64 *pos)
{
  Frame *f = &w->stack[w->top];

  if (f->end >= 0 && *pos == f->end)
    {
      pop (w);
      return TRUE;
    }
  const guint8 *p = src_get (w->src, *pos, 8);
  if (p == NULL)
    return fail (w, f->start, _("the file ends inside the sequence that starts here (file "
                                "truncated)"));
  guint16 g = rd16 (p, f->be), e = rd16 (p + 2, f->be);
  guint32 len = rd32 (p + 4, f->be);

  if (g == 0xFFFE && e == 0xE0DD && (f->end < 0 || *pos + 8 == f->end))
    {
      *pos += 8;
      pop (w);
      return TRUE;
    }
  if (g != 0xFFFE || e != 0xE000)
    return fail (w, *pos, _("(%04X,%04X) stands where an item of the sequence at byte %lld "
                            "should be"), g, e, (long long) f->start);
  gint64 item_at = *pos;
  *pos += 8;
  if (len == 0xFFFFFFFFu)
    return push (w, FRAME_DATASET, item_at, -1, f->explicit_vr, f->be);

  gint64 item_end = *pos + (gint64) len;
  if (item_end > w->src->size)
    return fail (w, item_at, _("an item declares %u bytes, but only %lld remain in the file "
                               "(file truncated or length corrupt)"),
                 len, (long long) (w->src->size - *pos));
  if (f->end >= 0 && item_end > f->end)
    return fail (w, item_at, _("an item declares %u bytes, more than its sequence holds"), len);
  if (len == 0)
    return TRUE;
  return push (w, FRAME_DATASET, item_at, item_end, f->explicit_vr, f->be);
}

/* The file meta group (PS3.10 §7.1): always Explicit VR Little Endian, defined lengths. Sets
 * *pos to the first data set element and ts to (0002,0010) when present. */
static gboolean
walk_meta (Walk *w, gint64 *pos, char ts[72])
{
  for (;;)
    {
      const guint8 *p = src_get (w->src, *pos, 8);
      if (p == NULL)
        {
          if (*pos == w->src->size)
            return TRUE;
          return fail (w, *pos, _("the file ends inside the file meta group (file truncated)"));
        }
      if (rd16 (p, FALSE) != 0x0002)
        return TRUE;
      guint16 e = rd16 (p + 2, FALSE);
      gint64 at = *pos;
      guint32 len;
      if (!vr_is_known (p + 4))
        return fail (w, at, _("the file meta group element (0002,%04X) has no valid VR"), e);
      if (vr_has_long_length (p + 4))
        {
          const guint8 *q = src_get (w->src, *pos, 12);
          if (q == NULL)
            return fail (w, at, _("the file ends inside the file meta group (file truncated)"));
          len = rd32 (q + 8, FALSE);
          *pos += 12;
        }
      else
        {
          len = rd16 (p + 6, FALSE);
          *pos += 8;
        }
      if (len == 0xFFFFFFFFu)
        return fail (w, at, _("the file meta group element (0002,%04X) has an undefined "
                              "length"), e);
      if (*pos + (gint64) len > w->src->size)
        return fail (w, at, _("the file meta group element (0002,%04X) declares %u bytes, but "
                              "only %lld remain in the file"),
                     e, len, (long long) (w->src->size - *pos));
      /* A group length that runs past the end of the file says the meta is not what the
       * elements that follow make of it; no reader should be left to guess which is right. */
      if (e == 0x0000 && len == 4)
        {
          const guint8 *v = src_get (w->src, *pos, 4);
          if (v == NULL)
            return fail (w, at, _("the file ends inside the file meta group (file truncated)"));
          guint32 group_len = rd32 (v, FALSE);
          if (*pos + 4 + (gint64) group_len > w->src->size)
            return fail (w, at, _("the file meta group length (0002,0000) declares %u bytes, "
                                  "but only %lld remain in the file"),
                         group_len, (long long) (w->src->size - *pos - 4));
        }
      if (e == 0x0010 && len < 72)
        {
          const guint8 *v = src_get (w->src, *pos, len);
          if (v == NULL)
            return fail (w, at, _("the file ends inside the file meta group (file truncated)"));
          memcpy (ts, v, len);
          ts[len] = '\0';
          g_strchomp (ts);
        }
      *pos += len;
    }
}

static gboolean
validate (Src *src, const char *name, gint64 start, gboolean has_meta, char **out_ts,
          CuDicomValidateStop *out_stop, GError **error)
{
  Walk *w = g_new0 (Walk, 1);
  gint64 pos = start;
  char ts[72] = "";
  gboolean ok = FALSE, done = FALSE;

  w->src = src;
  w->name = name;
  w->error = error;
  w->top = -1;
  w->stop = -1;

  if (has_meta && !walk_meta (w, &pos, ts))
    goto out;
  if (out_ts != NULL)
    *out_ts = ts[0] != '\0' ? g_strdup (ts) : NULL;

  gboolean explicit_vr, be;
  if (strcmp (ts, "1.2.840.10008.1.2") == 0)
    explicit_vr = FALSE, be = FALSE;
  else if (strcmp (ts, "1.2.840.10008.1.2.2") == 0)
    explicit_vr = TRUE, be = TRUE;
  else if (strcmp (ts, "1.2.840.10008.1.2.1.99") == 0)
    {
      /* Deflated: the data set is checked once inflated (cu-gdcm-shim.cc). */
      ok = TRUE;
      goto out;
    }
  else if (ts[0] != '\0')
    explicit_vr = TRUE, be = FALSE;
  else
    {
      /* No declared transfer syntax: the first element shows it. */
      const guint8 *p = src_get (src, pos, 8);
      if (p == NULL)
        {
          ok = pos >= src->size;
          if (!ok)
            fail (w, pos, _("the file ends inside an element header (file truncated)"));
          goto out;
        }
      explicit_vr = g_ascii_isupper (p[4]) && g_ascii_isupper (p[5]);
      be = p[0] == 0x00 && p[1] != 0x00;
    }

  push (w, FRAME_DATASET, pos, -1, explicit_vr, be);
  while (!done)
    {
      gboolean stepped = w->stack[w->top].kind == FRAME_DATASET
                         ? step_dataset (w, &pos, &done) : step_sequence (w, &pos);
      if (!stepped)
        goto out;
      if (w->top < 0)
        break;
    }
  ok = TRUE;

out:
  if (ok && out_stop != NULL)
    {
      out_stop->offset = w->stop;
      out_stop->is_pixel_data = w->stop_is_pixel_data;
    }
  g_free (w);
  return ok;
}

gboolean
_cu_dicom_validate_fd (int fd, gint64 size, const char *name, gboolean has_preamble,
                       gboolean has_meta, char **out_transfer_syntax,
                       CuDicomValidateStop *out_stop, GError **error)
{
  Src *src = g_new0 (Src, 1);
  src->fd = fd;
  src->size = size;
  src->wstart = -1;
  src->win = g_malloc (WINDOW);
  if (out_stop != NULL)
    *out_stop = (CuDicomValidateStop) { -1, FALSE };
  gboolean ok = validate (src, name, has_preamble ? 132 : 0, has_meta, out_transfer_syntax,
                          out_stop, error);
  g_free (src->win);
  g_free (src);
  return ok;
}

gboolean
_cu_dicom_validate_dataset (const guint8 *data, gsize len, gsize dataset_start,
                            const char *name, GError **error)
{
  Src src = { .fd = -1, .mem = data, .size = (gint64) len, .wstart = -1 };
  return validate (&src, name, (gint64) dataset_start, FALSE, NULL, NULL, error);
}

gboolean
cu_dicom_validate_memory (const guint8 *data, gsize len, const char *name, GError **error)
{
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  gboolean has_preamble = len >= 132 && memcmp (data + 128, "DICM", 4) == 0;
  gsize start = has_preamble ? 132 : 0;
  gboolean has_meta = len >= start + 2 && data[start] == 0x02 && data[start + 1] == 0x00;
  Src src = { .fd = -1, .mem = data, .size = (gint64) len, .wstart = -1 };
  return validate (&src, name != NULL ? name : "", (gint64) start, has_meta, NULL, NULL, error);
}

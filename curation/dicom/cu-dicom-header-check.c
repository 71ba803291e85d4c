/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-header-check.c — header values checked before anything is computed or allocated from them.
 *
 * A header is a claim made by whoever wrote the file. Sizes (Rows × Columns × Number of Frames
 * × Samples per Pixel × Bits Allocated) are multiplied with overflow checks and compared with
 * what the file can really hold and with a memory budget, before the per-frame tables or the
 * pixel buffers are allocated: a file claiming 10⁹ frames is one rejected file, not an import
 * that aborts. UIDs must be what PS3.5 §9.1 allows (digits and dots, at most 64 characters), so
 * a control byte never reaches the catalog, JSON output or a terminal.
 */
#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "cu-gdcm-shim-private.h"

/* Each frame of encapsulated pixel data is at least one item: an 8-byte item header. */
#define MIN_BYTES_PER_FRAGMENT 8
/* The largest expansion a deflate stream can achieve (RFC 1951 limits: about 1032:1). */
#define DEFLATE_MAX_RATIO 1032

guint64
_cu_dicom_memory_budget (void)
{
  static gsize budget = 0;

  if (g_once_init_enter (&budget))
    {
      /* Half of the physical memory, and half of the address-space limit when there is one:
       * decoding needs the stored samples and the float voxels side by side. */
      guint64 b = G_GUINT64_CONSTANT (1) << 40;
      long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
      struct rlimit rl;

      if (pages > 0 && page > 0)
        b = MIN (b, (guint64) pages * (guint64) page / 2);
      if (getrlimit (RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        b = MIN (b, (guint64) rl.rlim_cur / 2);
      b = MAX (b, G_GUINT64_CONSTANT (64) << 20);
      g_once_init_leave (&budget, (gsize) b);
    }
  return budget;
}

gboolean
_cu_dicom_pixel_bytes (const CuDicomHeader *h, guint64 *stored, guint64 *decoded)
{
  guint64 samples, bits;

  if (h->rows <= 0 || h->columns <= 0 || h->samples_per_pixel <= 0 || h->bits_allocated <= 0
      || h->bits_allocated > 64)
    return FALSE;
  if (!g_uint64_checked_mul (&samples, (guint64) h->rows, (guint64) h->columns)
      || !g_uint64_checked_mul (&samples, samples, (guint64) h->samples_per_pixel)
      || !g_uint64_checked_mul (&samples, samples, (guint64) MAX (h->number_of_frames, 1))
      || !g_uint64_checked_mul (&bits, samples, (guint64) h->bits_allocated)
      || samples > G_MAXUINT64 / 8)
    return FALSE;
  /* Stored: bits packed (Bits Allocated 1) or whole bytes. Decoded: what the readers hand out
   * (one byte per 1-bit sample, else the allocated bytes) — the larger of the two is what
   * decoding needs at least once. */
  *stored = (bits + 7) / 8;
  *decoded = h->bits_allocated == 1 ? samples : samples * (guint64) ((h->bits_allocated + 7) / 8);
  return TRUE;
}

gboolean
_cu_dicom_header_check_pixels (const CuDicomHeader *h, int fd, GError **error)
{
  guint64 stored, decoded, budget = _cu_dicom_memory_budget ();
  g_autofree char *need_str = NULL, *budget_str = NULL;

  if (!_cu_dicom_pixel_bytes (h, &stored, &decoded))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: the image size (%d×%d, %d samples, %d bits, %d frames) overflows"),
                   h->path, h->columns, h->rows, h->samples_per_pixel, h->bits_allocated,
                   h->number_of_frames);
      return FALSE;
    }

  if (!h->encapsulated && h->pixel_offset >= 0)
    {
      /* Native: every byte is in the file. */
      gint64 avail = h->file_size - h->pixel_offset;
      if (h->pixel_length >= 0 && h->pixel_length > avail)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: pixel data runs past the end of the file (%lld bytes declared, "
                         "%lld present; file truncated)"),
                       h->path, (long long) h->pixel_length, (long long) MAX (avail, 0));
          return FALSE;
        }
      if (h->pixel_length >= 0)
        avail = MIN (avail, h->pixel_length);
      if (stored > (guint64) MAX (avail, 0))
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: Rows, Columns, Number of Frames and Bits Allocated (%d×%d×%d of %d "
                         "bits) need %llu bytes of pixel data, the file holds %lld"),
                       h->path, h->columns, h->rows, MAX (h->number_of_frames, 1),
                       h->bits_allocated, (unsigned long long) stored,
                       (long long) MAX (avail, 0));
          return FALSE;
        }
    }
  else if (h->pixel_offset > 0)
    {
      /* Encapsulated: one fragment at least per frame (PS3.5 A.4), counted by walking the
       * items; a cheap bound first, so that the walk itself is bounded by the file. */
      guint64 items = (guint64) MAX (h->file_size - h->pixel_offset, 0) / MIN_BYTES_PER_FRAGMENT;
      if ((guint64) MAX (h->number_of_frames, 1) > items)
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: Number of Frames is %d, but the %lld bytes of encapsulated pixel "
                         "data can hold at most %llu frames"),
                       h->path, h->number_of_frames,
                       (long long) MAX (h->file_size - h->pixel_offset, 0),
                       (unsigned long long) items);
          return FALSE;
        }
      if (fd >= 0 && !_cu_dicom_check_encapsulated (h, fd, error))
        return FALSE;
    }
  else if (decoded / DEFLATE_MAX_RATIO > (guint64) MAX (h->file_size, 0))
    {
      /* A deflated data set: the pixels are in the compressed stream, which cannot expand
       * beyond deflate's ratio. */
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: %d×%d×%d pixels of %d bits cannot be held by a file of %lld bytes"),
                   h->path, h->columns, h->rows, MAX (h->number_of_frames, 1), h->bits_allocated,
                   (long long) h->file_size);
      return FALSE;
    }

  if (MAX (stored, decoded) > budget)
    {
      need_str = g_format_size (MAX (stored, decoded));
      budget_str = g_format_size (budget);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
                   _("%s: the pixel data would take %s in memory, more than the %s allowed"),
                   h->path, need_str, budget_str);
      return FALSE;
    }
  return TRUE;
}

gboolean
_cu_dicom_uid_valid (const char *uid)
{
  gsize len = 0;
  gboolean component_start = TRUE;

  if (uid == NULL)
    return FALSE;
  /* PS3.5 §9.1: components of digits separated by dots, 64 characters at most. Leading zeros
   * are not allowed either, but real files carry them and they harm nothing: accepted. */
  for (const char *p = uid; *p != '\0'; p++, len++)
    {
      if (*p == '.')
        {
          if (component_start)
            return FALSE;
          component_start = TRUE;
        }
      else if (*p >= '0' && *p <= '9')
        component_start = FALSE;
      else
        return FALSE;
    }
  return len > 0 && len <= 64 && !component_start;
}

static char *
printable (const char *s)
{
  GString *out = g_string_new (NULL);

  for (const char *p = s; *p != '\0' && out->len < 80; p++)
    if ((guchar) *p >= 0x20 && (guchar) *p < 0x7F && *p != '\\')
      g_string_append_c (out, *p);
    else
      g_string_append_printf (out, "\\x%02X", (guchar) *p);
  return g_string_free (out, FALSE);
}

gboolean
_cu_dicom_header_check_uids (const CuDicomHeader *h, GError **error)
{
  const struct { const char *keyword; const char *value; } uids[] = {
    { "StudyInstanceUID", h->study_uid },
    { "SeriesInstanceUID", h->series_uid },
    { "SOPInstanceUID", h->sop_instance_uid },
  };

  /* Absent or empty UIDs are the catalog's business (it says which one is missing). */
  for (gsize i = 0; i < G_N_ELEMENTS (uids); i++)
    if (uids[i].value != NULL && *uids[i].value != '\0' && !_cu_dicom_uid_valid (uids[i].value))
      {
        g_autofree char *shown = printable (uids[i].value);
        g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                     _("%s: %s “%s” is not a valid UID (only digits and dots, at most 64 "
                       "characters)"),
                     h->path, uids[i].keyword, shown);
        return FALSE;
      }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-jpegls-decoder.c — JPEG-LS (ISO/IEC 14495-1, ITU-T T.87) frames decoded with CharLS 2.
 *
 * Method: CharLS's C API decodes the whole stream into a buffer; the frame header is checked
 * against the DICOM header first (size, components, precision). CharLS returns planar data for
 * interleave mode "none" and pixel-interleaved data otherwise; DICOM callers want interleaved
 * samples, so planar output is re-interleaved here.
 */
#include "config.h"

#include <string.h>

#include <charls/charls.h>
#include <glib/gi18n-lib.h>

#include "cu-dicom-header.h"
#include "cu-jpegls-decoder.h"

/* A decoder with the stream's header read and checked against the DICOM header, or NULL. */
static charls_jpegls_decoder *
open_checked (const guint8 *data, gsize len, int columns, int rows, int samples,
              int bytes_per_sample, charls_interleave_mode *mode, GError **error)
{
  charls_jpegls_decoder *dec;
  charls_jpegls_errc rc;
  charls_frame_info info;

  dec = charls_jpegls_decoder_create ();
  if (dec == NULL)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG-LS decoding failed: out of memory"));
      return NULL;
    }

  rc = charls_jpegls_decoder_set_source_buffer (dec, data, len);
  if (rc == CHARLS_JPEGLS_ERRC_SUCCESS)
    rc = charls_jpegls_decoder_read_header (dec);
  if (rc == CHARLS_JPEGLS_ERRC_SUCCESS)
    rc = charls_jpegls_decoder_get_frame_info (dec, &info);
  if (rc == CHARLS_JPEGLS_ERRC_SUCCESS)
    rc = charls_jpegls_decoder_get_interleave_mode (dec, mode);
  if (rc != CHARLS_JPEGLS_ERRC_SUCCESS)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG-LS decoding failed: %s"), charls_get_error_message (rc));
      charls_jpegls_decoder_destroy (dec);
      return NULL;
    }

  if ((int) info.width != columns || (int) info.height != rows
      || info.component_count != samples || info.bits_per_sample < 2
      || info.bits_per_sample > bytes_per_sample * 8 || bytes_per_sample > 2
      || (info.bits_per_sample > 8) != (bytes_per_sample == 2))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG-LS stream is %u×%u×%d of %d bits, the header says %d×%d×%d in %d "
                     "bytes"),
                   info.width, info.height, info.component_count, info.bits_per_sample,
                   columns, rows, samples, bytes_per_sample);
      charls_jpegls_decoder_destroy (dec);
      return NULL;
    }
  return dec;
}

gboolean
cu_jpegls_check_header (const guint8 *data, gsize len, int columns, int rows, int samples,
                        int bytes_per_sample, GError **error)
{
  charls_interleave_mode mode = CHARLS_INTERLEAVE_MODE_NONE;
  charls_jpegls_decoder *dec = open_checked (data, len, columns, rows, samples, bytes_per_sample,
                                             &mode, error);
  if (dec == NULL)
    return FALSE;
  charls_jpegls_decoder_destroy (dec);
  return TRUE;
}

gboolean
cu_jpegls_decode_frame (const guint8 *data, gsize len, int columns, int rows, int samples,
                        int bytes_per_sample, guint8 *out, GError **error)
{
  charls_jpegls_decoder *dec;
  charls_jpegls_errc rc;
  charls_interleave_mode mode = CHARLS_INTERLEAVE_MODE_NONE;
  g_autofree guint8 *tmp = NULL;
  gsize frame_bytes = (gsize) columns * rows * samples * bytes_per_sample;
  gboolean ok = FALSE;

  /* CharLS 2.4 can spend many seconds on a stream cut short before it gives up; a complete
   * stream ends with the EOI marker (FF D9), possibly followed by a padding byte. (Only here:
   * a stream without it may still be one another decoder reads, so the header check does
   * not require it.) */
  gsize end = len;
  while (end > 0 && data[end - 1] == 0x00 && len - end < 2)
    end--;
  if (end < 4 || data[end - 2] != 0xFF || data[end - 1] != 0xD9)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG-LS stream is truncated (no end-of-image marker)"));
      return FALSE;
    }

  dec = open_checked (data, len, columns, rows, samples, bytes_per_sample, &mode, error);
  if (dec == NULL)
    return FALSE;

  gboolean planar = samples > 1 && mode == CHARLS_INTERLEAVE_MODE_NONE;
  guint8 *dst = planar ? (tmp = g_malloc (frame_bytes)) : out;
  rc = charls_jpegls_decoder_decode_to_buffer (dec, dst, frame_bytes, 0);
  if (rc != CHARLS_JPEGLS_ERRC_SUCCESS)
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                   _("JPEG-LS decoding failed: %s"), charls_get_error_message (rc));
      goto out;
    }
  if (planar)
    {
      gsize plane = (gsize) columns * rows;
      for (gsize p = 0; p < plane; p++)
        for (int s = 0; s < samples; s++)
          memcpy (out + (p * samples + s) * bytes_per_sample,
                  tmp + (s * plane + p) * bytes_per_sample, bytes_per_sample);
    }
  ok = TRUE;

out:
  charls_jpegls_decoder_destroy (dec);
  return ok;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-png-writer.c — minimal PNG encoder: one IHDR (8-bit RGBA, no interlace), one zlib IDAT
 * with filter type 0 on every row, IEND. Format: W3C "Portable Network Graphics (PNG)
 * Specification (Second Edition)", ISO/IEC 15948:2003; chunk CRCs are zlib's crc32.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <zlib.h>

#include "cu-png-writer.h"

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (out, b, 4);
}

static void
put_chunk (GByteArray *out, const char type[4], const guint8 *data, gsize len)
{
  uLong crc = crc32 (0L, Z_NULL, 0);

  put_u32 (out, (guint32) len);
  g_byte_array_append (out, (const guint8 *) type, 4);
  if (len > 0)
    g_byte_array_append (out, data, (guint) len);
  crc = crc32 (crc, (const Bytef *) type, 4);
  if (len > 0)
    crc = crc32 (crc, data, (uInt) len);
  put_u32 (out, (guint32) crc);
}

GBytes *
cu_png_encode_rgba (const guint8 *rgba, int width, int height, gsize stride, GError **error)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autoptr (GByteArray) out = NULL;
  g_autofree guint8 *raw = NULL;
  g_autofree guint8 *packed = NULL;
  gsize row = (gsize) width * 4, raw_len;
  uLongf packed_len;
  guint8 ihdr[13];

  g_return_val_if_fail (rgba != NULL, NULL);
  if (width < 1 || height < 1 || width > 65535 || height > 65535 || stride < (gsize) width * 4)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("Cannot write an image of %d × %d pixels"), width, height);
      return NULL;
    }

  raw_len = (row + 1) * height;
  raw = g_malloc (raw_len);
  for (int y = 0; y < height; y++)
    {
      raw[(row + 1) * y] = 0;   /* filter: none */
      memcpy (raw + (row + 1) * y + 1, rgba + stride * y, row);
    }
  packed_len = compressBound (raw_len);
  packed = g_malloc (packed_len);
  if (compress2 (packed, &packed_len, raw, raw_len, 6) != Z_OK)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not compress the image"));
      return NULL;
    }

  ihdr[0] = width >> 24; ihdr[1] = width >> 16; ihdr[2] = width >> 8; ihdr[3] = width;
  ihdr[4] = height >> 24; ihdr[5] = height >> 16; ihdr[6] = height >> 8; ihdr[7] = height;
  ihdr[8] = 8;    /* bit depth */
  ihdr[9] = 6;    /* colour type: RGBA */
  ihdr[10] = 0;   /* deflate */
  ihdr[11] = 0;   /* adaptive filtering (filter type per row) */
  ihdr[12] = 0;   /* no interlace */

  out = g_byte_array_sized_new ((guint) packed_len + 64);
  g_byte_array_append (out, signature, 8);
  put_chunk (out, "IHDR", ihdr, sizeof ihdr);
  put_chunk (out, "IDAT", packed, packed_len);
  put_chunk (out, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

gboolean
cu_png_write_rgba (const char *path, const guint8 *rgba, int width, int height, gsize stride,
                   GError **error)
{
  g_autoptr (GBytes) png = NULL;

  g_return_val_if_fail (path != NULL && rgba != NULL, FALSE);
  png = cu_png_encode_rgba (rgba, width, height, stride, error);
  if (png == NULL)
    return FALSE;
  return g_file_set_contents (path, g_bytes_get_data (png, NULL), (gssize) g_bytes_get_size (png),
                              error);
}

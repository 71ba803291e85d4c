/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-jpegls-decoder.h — one JPEG-LS frame decoded with CharLS directly.
 *
 * Used where GDCM cannot decode (fragmented multi-frame JPEG-LS, some 16-bit streams).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Decode one JPEG-LS stream into out: samples interleaved, host byte order, bytes_per_sample
 * (1 or 2) each, columns·rows·samples of them. The stream must describe exactly this frame
 * (CU_DICOM_ERROR_DECODE otherwise). Values are as coded (unsigned); the caller sign-extends
 * signed data. Messages do not name the file: the caller prefixes them. */
gboolean cu_jpegls_decode_frame (const guint8 *data,
                                 gsize         len,
                                 int           columns,
                                 int           rows,
                                 int           samples,
                                 int           bytes_per_sample,
                                 guint8       *out,
                                 GError      **error);

/* Read only the stream's frame header and check it as cu_jpegls_decode_frame does: nothing is
 * decoded. Done before a frame is handed to any other decoder. */
gboolean cu_jpegls_check_header (const guint8 *data,
                                 gsize         len,
                                 int           columns,
                                 int           rows,
                                 int           samples,
                                 int           bytes_per_sample,
                                 GError      **error);

G_END_DECLS

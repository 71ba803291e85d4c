/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-j2k-decoder.h — one JPEG 2000 / HTJ2K frame decoded with OpenJPEG directly.
 *
 * Used where GDCM cannot decode (HTJ2K transfer syntaxes, some JPEG 2000 streams).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Decode one codestream (raw J2K or JP2) into out: samples interleaved, host byte order,
 * bytes_per_sample (1, 2 or 4) each, columns·rows·samples of them. The decoded image must
 * match columns, rows and samples exactly and its precision must fit the sample size, so a
 * stream that does not describe this frame is an error (CU_DICOM_ERROR_DECODE), never
 * garbage. Messages do not name the file: the caller prefixes them. */
gboolean cu_j2k_decode_frame (const guint8 *data,
                              gsize         len,
                              int           columns,
                              int           rows,
                              int           samples,
                              int           bytes_per_sample,
                              guint8       *out,
                              GError      **error);

/* Read only the codestream's SIZ marker segment (raw J2K, or the 'jp2c' box of a JP2 file)
 * and check it against the DICOM header as cu_j2k_decode_frame does, plus the memory budget:
 * nothing is decoded or allocated. Done before a frame is handed to any decoder. */
gboolean cu_j2k_check_header (const guint8 *data,
                              gsize         len,
                              int           columns,
                              int           rows,
                              int           samples,
                              int           bytes_per_sample,
                              GError      **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-validate-private.h — the structural check (cu-dicom-validate.h) on an open file and
 * on an inflated data set, for the header reader and the GDCM shim.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where header reading stops (GDCM reads up to, not into, the first top-level element at or
 * past Pixel Data): the offset of that element's tag, or the file size when there is none; -1
 * when not known (a deflated data set, checked once inflated). */
typedef struct
{
  gint64 offset;
  gboolean is_pixel_data;     /* the element there is (7FE0,0010) */
} CuDicomValidateStop;

/* Validate the file open as fd (size bytes; the data set or file meta starts at byte 132 with
 * a preamble, else at 0). *out_transfer_syntax (may be NULL) receives the file meta's
 * (0002,0010), or NULL when there is none; *out_stop (may be NULL) where header reading
 * stops, so the header reader can hand GDCM exactly the bytes it will parse. */
gboolean _cu_dicom_validate_fd      (int          fd,
                                     gint64       size,
                                     const char  *name,
                                     gboolean     has_preamble,
                                     gboolean     has_meta,
                                     char       **out_transfer_syntax,
                                     CuDicomValidateStop *out_stop,
                                     GError     **error);

/* Validate an Explicit VR Little Endian data set in memory starting at dataset_start (an
 * inflated Deflated Explicit VR file, meta group before it). */
gboolean _cu_dicom_validate_dataset (const guint8 *data,
                                     gsize         len,
                                     gsize         dataset_start,
                                     const char   *name,
                                     GError      **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-validate.h — the structural check every DICOM file passes before GDCM sees it.
 *
 * Plain C, no allocation driven by the input, no recursion: it walks element headers and checks
 * that every length fits the bytes left in the file and in the enclosing item, that sequences
 * and items of undefined length end with their delimiters, that nesting stays under
 * CU_DICOM_VALIDATE_MAX_DEPTH levels, and that encapsulated pixel data fragments lie inside the
 * file. A file it accepts may still be odd DICOM; a file it rejects is never handed to GDCM.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sequences nested deeper than this are refused: real objects use fewer than ten levels, and
 * GDCM's recursive parser runs out of stack a few thousand levels down. */
#define CU_DICOM_VALIDATE_MAX_DEPTH 64

/* Validate a whole DICOM file held in memory (a fuzzing entry point, and the check of inflated
 * data sets): preamble and "DICM" optional, file meta group optional. name is used in the
 * error message. Returns FALSE with CU_DICOM_ERROR_MALFORMED naming the byte offset of the
 * problem. */
gboolean cu_dicom_validate_memory (const guint8 *data,
                                   gsize         len,
                                   const char   *name,
                                   GError      **error);

G_END_DECLS

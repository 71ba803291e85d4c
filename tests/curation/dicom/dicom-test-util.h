/* SPDX-License-Identifier: GPL-3.0-or-later
 * dicom-test-util.h — shared helpers of the DICOM reading tests: corpus paths, pydicom
 * reference values (pydicom-ref.py), decoding to comparable integers.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-dicom-header.h"
#include "cu-dicom-pixels.h"

G_BEGIN_DECLS

/* $CU_SHARED_DICOM/rel (newly allocated). */
char          *dt_corpus        (const char *rel);

/* Run pydicom-ref.py CMD PATH [OUT]; parsed JSON stdout, or NULL after g_test_skip when the
 * reference tool is unavailable (exit 77 / no /usr/bin/python3). */
JsonNode      *dt_pyref_json    (const char *cmd, const char *path);

/* pydicom's stored values (int64, interleaved) or NULL after g_test_skip. */
gint64        *dt_pyref_pixels  (const char *path, gsize *n_values);

/* pydicom's raw Pixel Data bytes. */
GBytes        *dt_pyref_pixel_bytes (const char *path);

/* Header that must read without error. */
CuDicomHeader *dt_read_header   (const char *path);

/* Decode every frame with cu_dicom_read_frames_raw and widen to int64 (using bits_allocated
 * and pixel_representation). NULL with *error set when decoding fails. */
gint64        *dt_decode_i64    (const CuDicomHeader *h, gsize *n_values, GError **error);

/* Number of positions where a and b differ by more than tolerance; *max_diff receives the
 * largest absolute difference. */
gsize          dt_count_diff    (const gint64 *a, const gint64 *b, gsize n, gint64 tolerance,
                                 gint64 *max_diff);

/* A temporary directory removed (with its files) at the end of the test. */
const char    *dt_tmpdir        (void);

G_END_DECLS

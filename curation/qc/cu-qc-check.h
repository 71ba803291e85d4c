/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-check.h — the per-series checks of the quality gate, from the files of one series:
 * geometry (gaps, duplicated positions, spacing, orientation, dimensions), completeness
 * (InstanceNumber holes, fewer images than declared), pixel decoding, spacing against
 * thickness, localizer or derived images mixed in, and the DICOM-internal consistency rules
 * (DCM-01, 06, 07, 08, 09, 10, 11 of the project's consistency catalogue).
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-qc-report.h"

G_BEGIN_DECLS

/* Check the series made of paths; the report holds the findings and, when the main stack
 * decodes, the volume (report->volume). Fails only when no file is a readable image. */
CuQcReport *cu_qc_check_files (const char *const *paths,
                               CuProgress         *progress,
                               GCancellable       *cancellable,
                               GError            **error);

/* Everything: cu_qc_check_files, then the foreground mask and the image quality metrics
 * (cu-qc-metrics.h) on the decoded volume. */
CuQcReport *cu_qc_run_files   (const char *const *paths,
                               CuProgress         *progress,
                               GCancellable       *cancellable,
                               GError            **error);

G_END_DECLS

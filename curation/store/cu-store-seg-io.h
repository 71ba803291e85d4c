/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-seg-io.h — exporting a stored segmentation (NIfTI or DICOM SEG, with the lesion
 * forms and measurements as JSON and CSV beside it) and importing one from a file.
 * Shared by the GUI and curata-cli.
 */
#pragma once

#include "cu-store-seg.h"

G_BEGIN_DECLS

typedef enum
{
  CU_SEG_FORMAT_NIFTI,
  CU_SEG_FORMAT_DICOM_SEG,
} CuSegFormat;

/* "nifti" / "dicom-seg" → format; FALSE when unknown. */
gboolean     cu_seg_format_from_string (const char *name, CuSegFormat *format);

/* The grid label maps of a series live on: its main stack's geometry, without voxels. */
CuVolume    *cu_store_seg_series_grid (CuStore *self, const char *series_uid, GError **error);

/* Write version (0 = latest) of reader's segmentation of series_uid to path, and
 * STEM.json / STEM.csv beside it (ROI statistics on the series itself). An "export-seg"
 * audit entry records it. */
gboolean     cu_store_seg_export      (CuStore *self, const char *series_uid, const char *reader,
                                       int version, CuSegFormat format, const char *path,
                                       GCancellable *cancellable, GError **error);
/* Write an in-memory map the same way (the GUI exports what is on screen, which is also what
 * was last saved). */
gboolean     cu_store_seg_export_map  (CuStore *self, const char *series_uid, const char *reader,
                                       int version, const CuLabelMap *map, CuSegFormat format,
                                       const char *path, GCancellable *cancellable, GError **error);
/* Read a NIfTI label image or a DICOM SEG, resampled onto the series' grid when needed
 * (*resampled), and save it as a new "imported" version of reader. Returns the version, -1 on
 * error. */
int          cu_store_seg_import      (CuStore *self, const char *series_uid, const char *path,
                                       const char *reader, gboolean *resampled, GError **error);

G_END_DECLS

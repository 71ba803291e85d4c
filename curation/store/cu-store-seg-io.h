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
  CU_SEG_FORMAT_DICOM_SEG_SR,   /* the SEG at the path, and beside it STEM-sr.dcm: a TID 1500
                                   Measurement Report referring to it (cu-seg-sr.h) */
} CuSegFormat;

/* "nifti" / "dicom-seg" / "dicom-seg+sr" → format; FALSE when unknown. */
gboolean     cu_seg_format_from_string (const char *name, CuSegFormat *format);

/* The grid label maps of a series live on: its main stack's geometry, without voxels. */
CuVolume    *cu_store_seg_series_grid (CuStore *self, const char *series_uid, GError **error);

/* The SR written beside a SEG at path by CU_SEG_FORMAT_DICOM_SEG_SR: STEM-sr.dcm. */
char        *cu_seg_sr_path_for       (const char *seg_path);

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
/* The same, with the labels' origin set: every imported label becomes origin with algorithm
 * as SegmentAlgorithmName (a model's or another tool's output). algorithm NULL keeps what the
 * file says (a DICOM SEG's SegmentAlgorithmType and Name; MANUAL for a NIfTI). */
int          cu_store_seg_import_from (CuStore *self, const char *series_uid, const char *path,
                                       const char *reader, const char *algorithm,
                                       CuLabelOrigin origin, gboolean *resampled, GError **error);

G_END_DECLS

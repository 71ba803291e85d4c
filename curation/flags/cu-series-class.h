/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-series-class.h — what kind of series each catalogued series is, for the consistency
 * rules (PROT-01 needs axial T2W, DWI with a high b, ADC and DCE; XREF-03 needs PatientAge).
 *
 * The classification is the quality gate's (cu-qc-sequence.h: sequence type from ScanningSequence,
 * TR/TE, echo train, ImageType, b-values, time points; plane from the slice normal), computed
 * from the files' headers once per series and kept in the workspace's series_class table, which
 * the rules read through the dicom_series view.
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-store.h"

G_BEGIN_DECLS

typedef struct
{
  char *sequence;           /* CU_SEQ_* of cu-qc-sequence.h, or the modality for non-MR */
  char *plane;              /* "axial", "coronal", "sagittal", or NULL */
  double b_max;             /* highest b-value (s/mm²) of the series, -1 if none */
  int n_volumes;            /* repeated volumes (time points, b-values) of the main stack */
  char *image_type;         /* of the first image */
  char *scanning_sequence;
  char *sequence_name;
  double repetition_time;   /* ms, -1 if absent */
  double echo_time;         /* ms, -1 if absent */
  char *patient_age;        /* PatientAge (AS) as written, or NULL */
} CuSeriesClass;

void           cu_series_class_free       (CuSeriesClass *klass);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSeriesClass, cu_series_class_free)

/* Classify the series made of paths (files without pixels are ignored). Fails only when no
 * file is a readable image. */
CuSeriesClass *cu_series_class_from_files (const char *const *paths, GCancellable *cancellable,
                                           GError **error);

/* Classify every catalogued series that has no classification yet, or whose number of files
 * changed since; a series whose files cannot be read gets an empty classification (sequence
 * NULL) rather than stopping the others. n_done (may be NULL) receives how many were done. */
gboolean       cu_series_class_update     (CuStore *store, CuProgress *progress,
                                           GCancellable *cancellable, guint *n_done,
                                           GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-sequence.h — recognising the sequence type of a series from acquisition attributes
 * that survive de-identification (the Basic Profile removes SeriesDescription).
 */
#pragma once

#include "cu-dicom-header.h"

G_BEGIN_DECLS

/* Sequence types (stable ids). Non-MR series are typed by their modality ("CT", "PT"…). */
#define CU_SEQ_T2W    "T2W"
#define CU_SEQ_DWI    "DWI"
#define CU_SEQ_ADC    "ADC"
#define CU_SEQ_DCE    "DCE"
#define CU_SEQ_T1W    "T1W"
#define CU_SEQ_EPI    "EPI"
#define CU_SEQ_OTHER  "MR"

/* The sequence type of a series whose representative image header is h (see below) and which
 * has n_volumes repeated volumes (time points). Returns a static string. */
const char *cu_qc_classify_sequence (const CuDicomHeader *h, int n_volumes);
/* The image of a series that tells most about its sequence: the most diffusion-weighted one
 * when the series has any (a Philips DWI lists its b = 0 images first, and they look like a
 * T2W spin echo), else the first. headers holds CuDicomHeader; NULL when empty. */
const CuDicomHeader *cu_qc_representative_image (GPtrArray *headers);
/* "axial", "sagittal", "coronal" from the slice normal (largest component), or NULL. */
const char *cu_qc_plane_of_normal   (const double normal[3]);
/* TRUE if the backslash-separated ImageType has the value (case-insensitive). */
gboolean    cu_qc_image_type_has    (const char *image_type, const char *value);

G_END_DECLS

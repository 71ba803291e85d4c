/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-dicom-private.h — the parts of the SEG writer the SR writer (cu-seg-sr.c) shares, so
 * that both objects of one label map carry the same patient, study and equipment.
 */
#pragma once

#include "cu-dicom-header.h"
#include "cu-dicom-writer.h"

G_BEGIN_DECLS

/* A code sequence item: CodeValue, CodingSchemeDesignator, CodeMeaning. */
CuDicomDataset *_cu_seg_dicom_code_item         (const char *value, const char *scheme,
                                                 const char *meaning);
/* Patient (with the de-identification record when PatientIdentityRemoved is set in src:
 * deid_codes as code value, scheme, meaning triples, NULL-terminated) and General Study. */
void            _cu_seg_dicom_add_patient_study (CuDicomDataset *ds, const CuDicomHeader *src,
                                                 const char *deid_method,
                                                 const char *const *deid_codes);
/* text (may be NULL or not UTF-8) made a valid single LO value: no backslash or control
 * character, at most 64 bytes. Never NULL. */
char           *_cu_seg_dicom_lo_value           (const char *text);
/* General and Enhanced General Equipment: Curata and its version. */
void            _cu_seg_dicom_add_equipment     (CuDicomDataset *ds);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-sr.h — a reader's lesions as a DICOM Structured Report, TID 1500 Measurement Report
 * (Comprehensive 3D SR Storage or Enhanced SR as PS3.16 allows), next to the DICOM SEG of the
 * same label map.
 *
 * One Measurement Group (TID 1411, volumetric ROI measurements) per segment: the tracking
 * identifier and UID, the referenced segment (SEG SOP instance + segment number), the source
 * series, finding (the label's coded type) and finding site, the volume (mL) and the longest
 * axial diameter (mm) from cu-seg-measure.h, the mean of the image within the segment when the
 * image is given, and the lesion form's answers as coded content: for the PI-RADS v2.1 form the
 * zone and the assessment category (coded, with the scores). The Image Library (TID 1600) lists
 * the source images. Everything the SR says comes from the map, the label table and the source
 * headers given in the spec: no free text a reader typed is copied in unless the caller passes
 * it (the release writes only coded content and numbers).
 */
#pragma once

#include "cu-label-map.h"
#include "cu-dicom-header.h"
#include "cu-volume.h"

G_BEGIN_DECLS

#define CU_DICOM_COMPREHENSIVE_3D_SR_STORAGE "1.2.840.10008.5.1.4.1.1.88.34"

typedef struct
{
  const CuDicomHeader *source;          /* an instance of the source series (patient, study,
                                           frame of reference; already anonymized when the SR
                                           is written into a release) */
  const char *const *slice_sop_class;   /* per slice k of the map (dims[2] entries) */
  const char *const *slice_sop_instance;
  const char *seg_sop_instance_uid;     /* the SEG written from the same map (required: give
                                           the same UID as CuSegDicomSpec.sop_instance_uid) */
  const char *seg_series_uid;           /* its series (required: CuSegDicomSpec.series_uid) */
  const guint8 *segment_of_label;       /* 256 entries: SEG segment number of label value v
                                           (0: the label is not in the SEG); NULL: as
                                           cu_seg_dicom_write numbers them
                                           (cu_seg_dicom_segment_numbers) */
  const CuVolume *image;                /* the source volume for ROI statistics, or NULL */
  const char *observer;                 /* (PN) person observer name, e.g. "Reader 1" */
  gboolean copy_label_names;            /* FALSE: tracking identifiers "Lesion N" only */
  int series_number;                    /* 0: 400 + source's */
  const char *series_uid;               /* NULL: a new UID */
  const char *sop_instance_uid;         /* NULL: a new UID */
  const char *deid_method;              /* as CuSegDicomSpec */
  const char *const *deid_codes;
} CuSegSrSpec;

/* Write the Measurement Report. Fails (CU_SEG_ERROR_INVALID) on an empty map or without the
 * SEG's instance and series UIDs. */
gboolean cu_seg_sr_write (const CuLabelMap *map, const CuSegSrSpec *spec, const char *path,
                          GError **error);

G_END_DECLS

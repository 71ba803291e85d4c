/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-dicom.h — label maps as DICOM Segmentation objects (PS3.3 A.51, binary, one segment
 * per label), and back.
 */
#pragma once

#include "cu-label-map.h"
#include "cu-dicom-header.h"

G_BEGIN_DECLS

#define CU_DICOM_SEG_STORAGE "1.2.840.10008.5.1.4.1.1.66.4"

typedef struct
{
  const CuDicomHeader *source;          /* an instance of the source series: patient, study,
                                           series UID, frame of reference */
  const char *const *slice_sop_class;   /* per slice k (dims[2] entries) */
  const char *const *slice_sop_instance;
  const int *slice_frame;               /* per k: 1-based frame of a multi-frame source, or 0;
                                           NULL when all sources are single-frame */
  const char *series_description;       /* NULL: "Segmentation" */
  const char *content_creator;          /* the reader (PN), or NULL */
  int series_number;                    /* 0: 300 + source's */
  const char *series_uid;               /* NULL: a new UID */
  const char *sop_instance_uid;         /* NULL: a new UID (give one to refer to the SEG from
                                           an SR written next to it, cu-seg-sr.h) */
  /* The source's de-identification record, copied when PatientIdentityRemoved is YES:
   * DeidentificationMethod (0012,0063) and the (0012,0064) items as code value, scheme,
   * meaning triples (NULL-terminated, may be NULL). */
  const char *deid_method;
  const char *const *deid_codes;
} CuSegDicomSpec;

/* Write map as a binary SEG with one segment per non-empty label; frames only where a segment
 * has voxels. Fails (CU_SEG_ERROR_INVALID) when the map is empty. */
/* The SEG segment number cu_seg_dicom_write gives each label value (segments are the labels
 * with voxels, in value order, numbered from 1; 0 for a value that is not a segment), and the
 * number of segments. */
guint        cu_seg_dicom_segment_numbers (const CuLabelMap *map, guint8 segment_of_label[256]);
/* The de-identification record of a source file, for CuSegDicomSpec/CuSegSrSpec: *method
 * receives DeidentificationMethod (0012,0063) or NULL; the result holds the (0012,0064) items as
 * code value, scheme, meaning triples, NULL-terminated (never NULL; empty when the file has
 * none or cannot be read). Free both with g_free / g_ptr_array_unref. */
GPtrArray   *cu_seg_dicom_read_deid_record (const char *path, char **method);
gboolean     cu_seg_dicom_write (const CuLabelMap *map, const CuSegDicomSpec *spec,
                                 const char *path, GError **error);
/* Read a binary SEG onto grid: each frame's pixels are placed through patient coordinates at
 * the nearest grid voxel (*resampled is TRUE when the SEG's frames do not lie exactly on grid
 * slices). Segments become labels with their number, label, codes and colour, and with their
 * origin (SegmentAlgorithmType and Name). */
CuLabelMap  *cu_seg_dicom_read  (const char *path, const CuVolume *grid, gboolean *resampled,
                                 GError **error);

G_END_DECLS

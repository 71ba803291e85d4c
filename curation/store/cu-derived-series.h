/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-derived-series.h — loading a catalogued series as a volume, and writing a processed
 * volume back into the workspace as a new, derived DICOM series.
 *
 * Denoising, motion correction and co-registration never change the originals: they write
 * a derived series (new SeriesInstanceUID, ImageType DERIVED\SECONDARY, DerivationDescription,
 * the source referenced) under <workspace>/objects/derived/<SeriesInstanceUID>/, catalog it
 * in the source's study, record its lineage (derived_series table) and write an audit entry.
 *
 * Patient and study attributes are copied from the source's first instance (the source has
 * passed or been checked by the pseudonymization gate; nothing else is copied, so a derived
 * series never carries more identifying data than its source). Voxels are stored as signed
 * 16-bit with RescaleSlope/Intercept chosen to cover the volume's range, so float results
 * (denoised, resampled) keep their precision to about 1/65535 of the range.
 */
#pragma once

#include "cu-store.h"
#include "cu-volume.h"

G_BEGIN_DECLS

/* Load the main stack of a catalogued series (full UID or unique prefix) as a volume:
 * all time points/repeats (dims[3] = nt), rescaled float voxels, LPS geometry
 * (cu-volume.h). volume->series_uid and ->modality are set. */
CuVolume    *cu_store_load_series_volume (CuStore      *self,
                                          const char   *series_uid,
                                          CuProgress   *progress,
                                          GCancellable *cancellable,
                                          GError      **error);

typedef struct
{
  const char *source_series_uid;       /* full UID of the catalogued series it came from */
  const char *method;                  /* stable id: "denoise-nlm", "motion-correct", "register"… */
  const char *series_description;      /* (0008,103E); NULL = the source's + " (" method ")" */
  const char *derivation_description;  /* (0008,2111), ≤ 1024 chars: method and parameters */
  const char *frame_of_reference_uid;  /* NULL = the source's; co-registration: the fixed series' */
  const char *reference_series_uid;    /* the fixed/reference series (registration), or NULL */
  const char *parameters_json;         /* parameters as a JSON object (lineage + audit), or NULL */
  const char *result_json;             /* results as JSON (motion table, transform…), or NULL */
} CuDerivedSeriesSpec;

/* Write volume (all dims[3] time points; TemporalPositionIdentifier numbers them from 1 when
 * nt > 1) as a derived series of spec->source_series_uid, catalog it and return its new
 * SeriesInstanceUID. On failure or cancellation nothing is left in the catalog and the
 * partly written folder is removed. */
char        *cu_store_write_derived_series (CuStore                   *self,
                                            const CuDerivedSeriesSpec *spec,
                                            const CuVolume            *volume,
                                            CuProgress                *progress,
                                            GCancellable              *cancellable,
                                            GError                   **error);

typedef struct
{
  char *series_uid;
  char *source_series_uid;
  char *reference_series_uid;  /* or NULL */
  char *method;
  char *parameters_json;       /* or NULL */
  char *result_json;           /* or NULL */
  char *user;
  char *time;                  /* ISO 8601 UTC */
} CuDerivedSeriesInfo;

void         cu_derived_series_info_free (CuDerivedSeriesInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDerivedSeriesInfo, cu_derived_series_info_free)

/* Lineage of a derived series; CU_STORE_ERROR_NOT_FOUND when the series is not derived. */
CuDerivedSeriesInfo *cu_store_get_derived_series (CuStore *self, const char *series_uid,
                                                  GError **error);
/* Derived series made from source_series_uid (NULL: all), oldest first; CuDerivedSeriesInfo
 * elements. */
GPtrArray   *cu_store_list_derived_series (CuStore *self, const char *source_series_uid,
                                           GError **error);

G_END_DECLS

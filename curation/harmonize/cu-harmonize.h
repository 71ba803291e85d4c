/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize.h — one entry point for harmonization (N4, common grid, z-score, Nyúl,
 * WhiteStripe): input checks, the foreground mask, the run, the parameter records written
 * into derived series and the audit log. Shared by the GUI and curata-cli.
 */
#pragma once

#include <gio/gio.h>

#include "cu-intensity-norm.h"
#include "cu-n4.h"
#include "cu-nyul.h"
#include "cu-progress.h"
#include "cu-store.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_HARMONIZE_N4,
  CU_HARMONIZE_RESAMPLE,
  CU_HARMONIZE_ZSCORE,
  CU_HARMONIZE_NYUL,
  CU_HARMONIZE_WHITESTRIPE,
} CuHarmonizeMethod;

typedef struct
{
  CuHarmonizeMethod method;
  /* foreground mask: voxels > mask_threshold, or (NaN, the default) the QC's Otsu mask */
  double mask_threshold;
  /* whitestripe */
  CuWhiteStripeContrast contrast;
  double ws_width;                 /* 0.05 */
  /* nyul: the learnt scale (borrowed) */
  const CuNyulScale *scale;
  /* resample */
  double spacing[3];               /* mm; 0 = keep the input's along that axis */
  gboolean axial;                  /* TRUE: axial LPS grid; FALSE: keep the input's direction */
  gboolean labels;                 /* a label map: label-aware resampling */
  /* n4 */
  CuN4Params n4;
} CuHarmonizeParams;

void        cu_harmonize_params_init        (CuHarmonizeParams *params, CuHarmonizeMethod method);
const char *cu_harmonize_method_to_string   (CuHarmonizeMethod method);   /* "n4", "zscore"… */
gboolean    cu_harmonize_method_from_string (const char *s, CuHarmonizeMethod *method);

/* Load the main stack of a catalogued series for harmonization. Fails, naming the series and
 * its first file, when the series has no patient geometry (CU_HARMONIZE_ERROR_NO_GEOMETRY) or
 * holds more than one volume (CU_HARMONIZE_ERROR_4D). */
CuVolume   *cu_harmonize_load_series        (CuStore      *store,
                                             const char   *series_uid,
                                             CuProgress   *progress,
                                             GCancellable *cancellable,
                                             GError      **error);

/* Whether method applies to a volume: one volume only; N4 and the intensity normalizations
 * are for MR (CU_HARMONIZE_ERROR_MODALITY for CT, whose Hounsfield units are already a
 * standard scale). */
gboolean    cu_harmonize_check_input        (const CuVolume    *volume,
                                             CuHarmonizeMethod  method,
                                             GError           **error);

/* The foreground mask of a 3D volume (nx·ny·nz bytes); *n_fg (may be NULL) receives its
 * count. CU_HARMONIZE_ERROR_EMPTY_MASK when it holds no voxel. */
guint8     *cu_harmonize_mask               (const CuVolume          *volume,
                                             const CuHarmonizeParams *params,
                                             gsize                   *n_fg,
                                             GError                 **error);

typedef struct
{
  gsize n_mask;
  double mean, sd;                 /* zscore: of the mask; whitestripe: of the stripe */
  CuWhiteStripeResult whitestripe;
  double landmarks[CU_NYUL_MAX_LANDMARKS];   /* nyul: the volume's own landmarks */
  CuN4Result n4;
  CuVolume *field;                 /* n4: the estimated bias field (owned) */
  int dims[3];                     /* resample: the output grid */
  double seconds;
} CuHarmonizeResult;

void        cu_harmonize_result_clear       (CuHarmonizeResult *result);

/* Run the method on a 3D volume (cu_harmonize_check_input first). */
CuVolume   *cu_harmonize_volume             (const CuVolume          *in,
                                             const CuHarmonizeParams *params,
                                             CuHarmonizeResult       *result,
                                             CuProgress              *progress,
                                             GCancellable            *cancellable,
                                             GError                 **error);

/* Parameters and results as a JSON object, and as a one-line DerivationDescription (both
 * newly allocated; the description is not translated: it is written into DICOM). */
char       *cu_harmonize_params_to_json     (const CuHarmonizeParams *params,
                                             const CuHarmonizeResult *result);
char       *cu_harmonize_describe           (const CuHarmonizeParams *params,
                                             const CuHarmonizeResult *result);

/* Resampling: a target spacing of 0 along an axis means the input's own (filled in from in,
 * so that the parameters written with the result say what was done). Other methods: no-op. */
void        cu_harmonize_params_resolve     (CuHarmonizeParams *params,
                                             const CuVolume    *in);

/* Write out (cu_harmonize_volume's result for series_uid with params, resolved) as a derived
 * series with its DerivationDescription, lineage and audit; with N4 and field_uid non-NULL,
 * result->field as a second derived series. Returns the new SeriesInstanceUID. Shared by
 * cu_harmonize_series and the GUI, which writes the result it previewed. */
char       *cu_harmonize_write              (CuStore                 *store,
                                             const char              *series_uid,
                                             const CuHarmonizeParams *params,
                                             const CuHarmonizeResult *result,
                                             const CuVolume          *out,
                                             char                   **field_uid,
                                             CuProgress              *progress,
                                             GCancellable            *cancellable,
                                             GError                 **error);

/* Load, check, run and write the result as a derived series of series_uid (original
 * untouched; lineage and audit by cu_store_write_derived_series). With N4 and field_uid
 * non-NULL, the estimated field is written too, as a second derived series. Returns the new
 * SeriesInstanceUID; nothing is written on any error. */
char       *cu_harmonize_series             (CuStore                 *store,
                                             const char              *series_uid,
                                             const CuHarmonizeParams *params,
                                             char                   **field_uid,
                                             CuHarmonizeResult       *result,
                                             CuProgress              *progress,
                                             GCancellable            *cancellable,
                                             GError                 **error);

G_END_DECLS

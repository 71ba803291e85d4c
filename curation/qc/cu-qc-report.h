/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-report.h — what the quality gate says about one series: findings (each with a
 * severity, a reason a curator understands, and the slice or attribute concerned), image
 * quality metrics and the foreground mask they were computed on.
 */
#pragma once

#include <glib.h>

#include "cu-volume.h"

G_BEGIN_DECLS

#define CU_QC_ERROR (cu_qc_error_quark ())

typedef enum
{
  CU_QC_ERROR_INVALID,    /* nothing to check (no image), bad argument */
  CU_QC_ERROR_PROTOCOL,   /* a protocol file that cannot be read */
} CuQcError;

GQuark cu_qc_error_quark (void);

typedef enum
{
  CU_QC_SEVERITY_INFO,     /* a characterisation only */
  CU_QC_SEVERITY_WARNING,  /* needs a curator's look */
  CU_QC_SEVERITY_ERROR,    /* the series is not usable as it is */
} CuQcSeverity;

/* "info", "warning", "error": stable, for JSON and the database. */
const char   *cu_qc_severity_to_string   (CuQcSeverity severity);
CuQcSeverity  cu_qc_severity_from_string (const char *text);
/* Translated, for people. */
const char   *cu_qc_severity_to_label    (CuQcSeverity severity);

/* Stable finding codes (plus the CU_PROBLEM_* codes of cu-series-plan.h, reused as they are). */
#define CU_QC_ORIENTATION_CHANGE   "orientation-change"
#define CU_QC_ORIENTATION_INVALID  "orientation-invalid"
#define CU_QC_FEWER_THAN_DECLARED  "fewer-than-declared"
#define CU_QC_INSTANCE_DUPLICATE   "instance-number-duplicate"
#define CU_QC_SPACING_THICKNESS    "spacing-thickness-mismatch"
#define CU_QC_SPACING_DECLARED     "spacing-declared-mismatch"
#define CU_QC_DERIVED_MIXED        "derived-mixed"
#define CU_QC_MISSING_ATTRIBUTE    "missing-attribute"
#define CU_QC_INCONSISTENT         "inconsistent-attribute"
#define CU_QC_INVALID_VALUE        "invalid-value"
#define CU_QC_MIXED_PIXEL_TYPE     "mixed-pixel-type"
#define CU_QC_NOT_IMAGE            "no-image"
#define CU_QC_PROTOCOL             "protocol"
#define CU_QC_OUTLIER              "cohort-outlier"
#define CU_QC_MOTION               "motion"

typedef struct
{
  char *code;            /* stable, machine-readable */
  CuQcSeverity severity;
  char *message;         /* translated reason for people */
  int slice;             /* 0-based slice in sorted order, -1 when not about one slice */
  char *attribute;       /* DICOM keyword concerned, or NULL */
  char *path;            /* file concerned, or NULL */
} CuQcFinding;

CuQcFinding  *cu_qc_finding_new   (const char *code, CuQcSeverity severity, int slice,
                                   const char *attribute, const char *path,
                                   char *message /* owned */);
void          cu_qc_finding_free  (CuQcFinding *finding);

/* One image quality metric ("MEAN", "SNR1", "CT_NOISE"…). NaN when it cannot be computed. */
typedef struct
{
  char name[16];
  double value;
} CuQcMetric;

typedef struct
{
  char *series_uid;
  char *modality;
  char *stack_label;      /* "axial, 20 slices" */
  GPtrArray *findings;    /* CuQcFinding, errors first */
  GArray *metrics;        /* CuQcMetric */
  int n_errors, n_warnings, n_info;
  /* The main stack and its foreground mask (nx·ny·nz bytes, 1 = foreground), when the
   * pixels could be decoded; else NULL. */
  CuVolume *volume;
  guint8 *mask;
  double mask_threshold;  /* Otsu threshold used for the mask, NaN if none */
  /* Acquisition attributes of the series' first image (for protocol and cohort). */
  char *sequence;         /* recognised sequence type ("T2W", "DWI", "ADC", "DCE", …) or NULL */
  char *scanner;          /* "Manufacturer Model 3T", for grouping, or NULL */
  char *plane;            /* "axial", "sagittal", "coronal" or NULL */
  char *body_part;        /* BodyPartExamined, or NULL */
  /* Technical parameters for protocol conformance (CuQcMetric, CU_QC_P_* names of
   * cu-qc-protocol.h), NaN-free: a parameter the files do not give is absent. */
  GArray *parameters;
} CuQcReport;

CuQcReport   *cu_qc_report_new    (void);
void          cu_qc_report_free   (CuQcReport *report);
/* Append a finding and keep the counts right. */
void          cu_qc_report_add    (CuQcReport *report, CuQcFinding *finding /* owned */);
/* Sort findings errors first, then by slice. */
void          cu_qc_report_sort   (CuQcReport *report);
/* Value of a metric, NaN if absent. */
double        cu_qc_report_metric (const CuQcReport *report, const char *name);
void          cu_qc_report_set_metric (CuQcReport *report, const char *name, double value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuQcReport, cu_qc_report_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuQcFinding, cu_qc_finding_free)

G_END_DECLS

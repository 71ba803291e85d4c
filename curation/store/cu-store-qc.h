/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-qc.h — the quality gate in the workspace: stored checks and metrics, and the
 * curator's decision per series.
 *
 * A series is "open for annotation" only when its study passed the pseudonymization gate (or
 * was overridden) AND a curator accepted the series (accepted, or accepted with a remark).
 */
#pragma once

#include "cu-store.h"
#include "cu-qc-report.h"

G_BEGIN_DECLS

typedef enum
{
  CU_QC_DECISION_NOT_REVIEWED,
  CU_QC_DECISION_ACCEPTED,
  CU_QC_DECISION_ACCEPTED_REMARK,   /* usable, with a remark readers should know */
  CU_QC_DECISION_REJECTED,
  CU_QC_DECISION_ASK_SITE,          /* a question goes back to the site */
} CuQcDecisionState;

#define CU_QC_DECISION_N_STATES 5

/* "not-reviewed", "accepted", "accepted-remark", "rejected", "ask-site" (stable). */
const char  *cu_qc_decision_to_string   (CuQcDecisionState state);
/* FALSE if text is not one of the stable ids. */
gboolean     cu_qc_decision_from_string (const char *text, CuQcDecisionState *state);
/* Translated, for people. */
const char  *cu_qc_decision_to_label    (CuQcDecisionState state);

typedef struct
{
  char *series_uid;
  CuQcDecisionState state;
  char *reason;   /* or NULL */
  char *user;     /* or NULL when never decided */
  char *time;     /* ISO 8601 UTC, or NULL */
} CuQcDecision;

void          cu_qc_decision_free (CuQcDecision *decision);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuQcDecision, cu_qc_decision_free)

/* One row per catalogued series: the last check and the decision. */
typedef struct
{
  char *series_uid;
  char *study_uid;
  char *patient_id;
  int series_number;
  char *modality;
  char *description;          /* SeriesDescription (often removed by de-identification) */
  gboolean checked;           /* QC has run on it */
  int n_errors, n_warnings, n_info;
  char *sequence, *plane, *scanner, *stack_label;
  char *checked_at;
  CuQcDecisionState state;
  char *reason;
  /* Whether the series holds images the quality checks apply to: some instance carries pixel
   * data, and it is not a segmentation, structure set, report, plan, key-object selection or
   * presentation state (SEG frames are labels, not intensities). Series without images are
   * outside the image checks: checking the whole workspace skips them. */
  gboolean has_images;
} CuQcSummary;

void          cu_qc_summary_free (CuQcSummary *summary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuQcSummary, cu_qc_summary_free)

/* Run every check and metric on a catalogued series (full UID or unique prefix), store the
 * results (replacing the previous run) and return the report (with volume and mask). */
CuQcReport   *cu_store_qc_run      (CuStore      *self,
                                    const char   *series_uid,
                                    CuProgress   *progress,
                                    GCancellable *cancellable,
                                    GError      **error);
/* Bring the findings that come from later processing of a series up to date: today the
 * motion found by its latest motion correction (a warning when volumes moved more than the
 * threshold, a note otherwise). Called after a motion correction; a series not checked yet
 * gets them with its first run. */
gboolean      cu_store_qc_update_lineage (CuStore *self, const char *series_uid, GError **error);
/* Store a report computed elsewhere (report->series_uid names the series). */
gboolean      cu_store_qc_save     (CuStore *self, const CuQcReport *report, GError **error);
/* The stored findings and metrics of a series (no volume, no mask);
 * CU_STORE_ERROR_NOT_FOUND when QC has not run on it. */
CuQcReport   *cu_store_qc_load     (CuStore *self, const char *series_uid, GError **error);
/* CuQcSummary for every catalogued series, by patient, study and series number. */
GPtrArray    *cu_store_qc_list     (CuStore *self, GError **error);
/* Series UIDs with images (has_images) that QC has not run on yet (after an import). */
char        **cu_store_qc_list_unchecked (CuStore *self, GError **error);

/* The decision on a series (not reviewed when none was recorded). */
CuQcDecision *cu_store_qc_get_decision (CuStore *self, const char *series_uid, GError **error);
/* Record a decision: reason, OS user and time are stored, and the audit log gets
 * "qc-decision" (object: the series UID; detail: JSON with state, previous state, reason and
 * the error count at that moment). Every state except accepted and not-reviewed needs a
 * reason (CU_STORE_ERROR_INVALID without one); an unknown series is
 * CU_STORE_ERROR_NOT_FOUND. */
gboolean      cu_store_qc_decide   (CuStore          *self,
                                    const char       *series_uid,
                                    CuQcDecisionState state,
                                    const char       *reason,
                                    GError          **error);
/* Whether a series may be opened for annotation: its study passed (or overrode) the
 * pseudonymization gate and the series was accepted (with or without remark). */
gboolean      cu_store_series_can_annotate (CuStore *self, const char *series_uid);

/* Metric values of every checked series: CuQcSummary-free parallel arrays would be awkward,
 * so each element is a CuQcMetricPoint. */
typedef struct
{
  char *series_uid;
  char *sequence;
  char *scanner;
  double value;
} CuQcMetricPoint;

void          cu_qc_metric_point_free (CuQcMetricPoint *point);
GPtrArray    *cu_store_qc_metric_points (CuStore *self, const char *metric, GError **error);

/* Robust outliers (cu-qc-cohort.h) of every cohort metric, compared within each sequence
 * type over all checked series, |z| > threshold (CU_QC_OUTLIER_Z); CuQcOutlier elements
 * ordered by |z|, largest first. Groups of fewer than 5 series are not judged. */
GPtrArray    *cu_store_qc_cohort_outliers (CuStore *self, double threshold, GError **error);

/* ---- Protocol conformance (cu-qc-protocol.h) ---- */

/* The workspace's protocol when one was chosen: a shipped id or a file path (default
 * CU_QC_PROTOCOL_DEFAULT). Without a choice, studies are judged by every protocol of the
 * workspace's packs that applies to them. */
char         *cu_store_qc_get_protocol (CuStore *self);
/* Choose the workspace's protocol (it must load); audited as "qc-protocol". */
gboolean      cu_store_qc_set_protocol (CuStore *self, const char *id_or_path, GError **error);
/* The protocols studies are judged by (CuQcProtocol): the chosen one, or those of the packs. */
GPtrArray    *cu_store_qc_protocols    (CuStore *self, GError **error);

typedef struct
{
  char *study_uid;
  char *patient_id;
  GPtrArray *findings;   /* CuQcFinding (code "protocol") */
  int n_errors, n_warnings;
  char *protocols;       /* ids of the protocols that applied, "a, b"; NULL: outside every one */
} CuQcStudyConformance;

void          cu_qc_study_conformance_free (CuQcStudyConformance *c);
/* Check every study (or one) against the workspace's protocol, from the stored QC runs of its
 * series; CuQcStudyConformance elements. */
GPtrArray    *cu_store_qc_check_protocol (CuStore *self, const char *study_uid, GError **error);

G_END_DECLS

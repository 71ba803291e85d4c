/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-review.h — the quality review window: series with their quality state, findings, the
 * foreground mask over the image, decision buttons with a reason, metrics and a cohort plot.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"
#include "cu-viewer-state.h"

G_BEGIN_DECLS

#define CU_TYPE_QC_REVIEW (cu_qc_review_get_type ())
G_DECLARE_FINAL_TYPE (CuQcReview, cu_qc_review, CU, QC_REVIEW, AdwWindow)

/* parent: the main window (its "win.open-series" opens a series clicked in the cohort plot). */
CuQcReview *cu_qc_review_new           (GtkWindow *parent, CuStore *store);
/* Re-read series, states and findings from the store (after an import or a QC run). */
void        cu_qc_review_reload        (CuQcReview *self);
/* Select a series (full UID); FALSE if it is not listed. */
gboolean    cu_qc_review_select_series (CuQcReview *self, const char *series_uid);
const char *cu_qc_review_get_series    (CuQcReview *self);
/* Check the given series (NULL: those not checked yet; "all": every series) in the
 * background, with progress and Cancel, then reload. */
void        cu_qc_review_check         (CuQcReview *self, const char *const *series_uids);
gboolean    cu_qc_review_is_busy       (CuQcReview *self);
/* The state of the review's slice view (volume, cursor, overlay). */
CuViewerState *cu_qc_review_get_viewer_state (CuQcReview *self);
/* TRUE once the selected series' volume and mask are shown. */
gboolean    cu_qc_review_is_image_ready (CuQcReview *self);

/* The harmonization tab (a CuHarmonizeReportView): show it, and the widget itself. */
void        cu_qc_review_show_harmonization     (CuQcReview *self);
GtkWidget  *cu_qc_review_get_harmonization_view (CuQcReview *self);

G_END_DECLS

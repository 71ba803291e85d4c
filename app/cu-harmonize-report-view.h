/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize-report-view.h — the cohort's harmonization report as a tab of the Review
 * window: per site, the quality metrics and intensity features of a sequence's series before
 * and after a harmonization method, the batch-effect statistics per feature (Kruskal–Wallis H,
 * p, share of variance explained by site), the picture curata-cli writes, and a plain verdict
 * when the harmonization did not reduce the site effect.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_TYPE_HARMONIZE_REPORT_VIEW (cu_harmonize_report_view_get_type ())
G_DECLARE_FINAL_TYPE (CuHarmonizeReportView, cu_harmonize_report_view, CU,
                      HARMONIZE_REPORT_VIEW, GtkBox)

GtkWidget          *cu_harmonize_report_view_new          (void);
/* The workspace (the report is built in a thread with its own store on the same folder).
 * Re-reads the sequences the quality gate found; call again after a QC run. */
void                cu_harmonize_report_view_set_store    (CuHarmonizeReportView *self,
                                                           CuStore               *store);
/* For scripted sessions and tests; the widgets do the same. */
gboolean            cu_harmonize_report_view_set_sequence (CuHarmonizeReportView *self,
                                                           const char            *sequence);
void                cu_harmonize_report_view_set_method   (CuHarmonizeReportView *self,
                                                           CuHarmonizeMethod      method);
/* Build the report (the "Build Report" button) in the background, with progress and Cancel. */
void                cu_harmonize_report_view_build        (CuHarmonizeReportView *self);
void                cu_harmonize_report_view_cancel       (CuHarmonizeReportView *self);
gboolean            cu_harmonize_report_view_is_busy      (CuHarmonizeReportView *self);
/* The report shown, or NULL; the verdict line as shown. */
const CuSiteReport *cu_harmonize_report_view_get_report   (CuHarmonizeReportView *self);
const char         *cu_harmonize_report_view_get_verdict  (CuHarmonizeReportView *self);
/* TRUE when the report shown compares harmonized series and a feature's site effect remains
 * (the verdict is then shown as a failure). */
gboolean            cu_harmonize_report_view_site_effect_remains (CuHarmonizeReportView *self);

G_END_DECLS

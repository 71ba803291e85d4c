/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-report.h — what the site reads in a flag bundle: report.html (the questions grouped
 * by patient, what the site is asked to do for each kind, thumbnails of the series concerned,
 * and what the site's pseudonymizer left behind) and answers.csv (one row per flag, for the
 * collectors to fill in), both in the site's language where translated.
 */
#pragma once

#include "cu-flags.h"

G_BEGIN_DECLS

/* The answers.csv columns, in order. The first twelve are the original layout (the import
 * finds columns by name; sites' scripts by position). */
extern const char *const cu_flag_report_answer_columns[];

typedef struct _CuFlagReport CuFlagReport;

/* A renderer in lang ("es"…; "en" when not translated). */
CuFlagReport *cu_flag_report_new          (CuStore *store, const char *lang);
void          cu_flag_report_free         (CuFlagReport *self);
const char   *cu_flag_report_get_language (CuFlagReport *self);

/* What the site is asked to do, as a stable code for the manifest ("answer",
 * "answer-or-correct", "send-fixed-copy", "confirm-physician-informed",
 * "fix-pseudonymization-and-resend"). */
const char   *cu_flag_report_action_code  (const CuFlag *flag);

/* report.html for flags (sorted by person, see cu_flag_report_sort). *n_persons: patients;
 * *n_thumbnails: series pictured. */
char         *cu_flag_report_html         (CuFlagReport *self, GPtrArray *flags, const char *site,
                                           const char *bundle_id, const char *workspace_id,
                                           const char *now, guint *n_persons, guint *n_thumbnails);
/* answers.csv (UTF-8 with a byte order mark, CRLF). */
char         *cu_flag_report_answers_csv  (CuFlagReport *self, GPtrArray *flags, const char *bundle_id);
/* Grouped by patient; within a patient urgent first, then what must be fixed first. */
void          cu_flag_report_sort         (GPtrArray *flags);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuFlagReport, cu_flag_report_free)

G_END_DECLS

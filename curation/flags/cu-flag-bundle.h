/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-bundle.h — the offline round trip with a site's data collectors.
 *
 * Export writes a folder for one site: report.html (the questions, grouped by patient, in
 * the site's language where translated: rule messages included, see cu-translation.h; what
 * the site is asked to do for each kind of flag; thumbnails of the series concerned; what the
 * site's pseudonymizer left behind), answers.csv (one row per flag: flag_id … answer,
 * corrected_value, comment, for the collectors to fill in; see cu-flag-report.h) and
 * manifest.json (bundle id, workspace id, site, the flags, checksums; cu-flag-manifest.h). The flags move to
 * "sent". Import reads the folder (or answers.csv alone), refuses a bundle of another
 * workspace or one already applied, validates every answer row (nothing is applied when one
 * is wrong), stores corrected values in the clinical data (the old value kept in history),
 * moves answered flags to "answered", and runs the rules again, which resolves the flags
 * whose cause the corrections removed.
 */
#pragma once

#include "cu-clinical.h"
#include "cu-flags.h"

G_BEGIN_DECLS

#define CU_FLAG_BUNDLE_MANIFEST "manifest.json"
#define CU_FLAG_BUNDLE_ANSWERS  "answers.csv"
#define CU_FLAG_BUNDLE_REPORT   "report.html"

typedef struct
{
  char *bundle_id;
  char *site;
  char *dir;
  guint n_flags;
  guint n_persons;
  char *language;    /* of the report: "es", or "en" when not translated */
} CuFlagBundle;

void          cu_flag_bundle_free   (CuFlagBundle *bundle);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuFlagBundle, cu_flag_bundle_free)

/* Bundle the active flags (open or sent) of site into out_dir (created if needed), the
 * report and the questions of answers.csv in language lang ("es"…; NULL: the site's language
 * of the last export, else the curator's; a given lang is remembered for the site).
 * CU_FLAGS_ERROR_NOT_FOUND when the site has no flag to send. Audited as "flags-export". */
CuFlagBundle *cu_flag_bundle_export (CuStore *store, const char *site, const char *out_dir,
                                     const char *lang, GError **error);
/* The same, with urgent: only the site's urgent flags (incidental findings), which never
 * wait for a scheduled bundle; CU_FLAGS_ERROR_NOT_FOUND when there is none. */
CuFlagBundle *cu_flag_bundle_export_full (CuStore *store, const char *site, const char *out_dir,
                                          const char *lang, gboolean urgent, GError **error);
/* The language the next bundle of site will be in (see cu_flag_bundle_export). */
char         *cu_flag_bundle_site_language (CuStore *store, const char *site);

typedef struct
{
  char *bundle_id;
  guint n_rows;
  guint n_answered;        /* rows with an answer, a correction or a comment */
  guint n_corrected;       /* clinical values corrected */
  guint n_unanswered;
  GPtrArray *issues;       /* CuClinicalIssue: rejected rows; non-empty = nothing applied */
  CuFlagCheckReport *check;  /* the re-run of the rules, or NULL when nothing was applied */
} CuFlagImportReport;

void          cu_flag_import_report_free (CuFlagImportReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuFlagImportReport, cu_flag_import_report_free)

/* Apply a bundle folder or its answers.csv. Refusals (another workspace, an altered
 * manifest, applied already, unknown bundle) are CU_FLAGS_ERROR_BUNDLE errors and change
 * nothing; bad rows are in report->issues and change nothing either. Audited as
 * "flags-import". */
CuFlagImportReport *cu_flag_bundle_import (CuStore *store, const char *path, GError **error);

G_END_DECLS

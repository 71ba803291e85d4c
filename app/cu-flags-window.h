/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flags-window.h — the consistency flags panel: flags of the workspace filtered by site,
 * rule, state, severity and patient; a flag's state changes with a comment; a flag jumps to
 * its series in the main window; a flag's history (each step with user, time, comment, the
 * site's answer and corrected value) opens from its row; the site's clinical data is imported
 * from here (file chooser, the site it comes from, then a report of what was imported or of
 * the rows rejected) and the rules run; a site's bundle is written in the language chosen.
 */
#pragma once

#include <adwaita.h>

#include "cu-window.h"

G_BEGIN_DECLS

#define CU_TYPE_FLAGS_WINDOW (cu_flags_window_get_type ())
G_DECLARE_FINAL_TYPE (CuFlagsWindow, cu_flags_window, CU, FLAGS_WINDOW, AdwWindow)

CuFlagsWindow *cu_flags_window_new          (CuWindow *parent);
/* Re-read the flags from the workspace. */
void           cu_flags_window_reload       (CuFlagsWindow *self);
/* Filters (NULL or "" = any); state may be "active". */
void           cu_flags_window_set_filter   (CuFlagsWindow *self, const char *site, const char *rule,
                                             const char *state, const char *severity);
void           cu_flags_window_set_person   (CuFlagsWindow *self, const char *person_id);
/* Show flag id among the flags of its patient (any state, when the current state filter hides
 * it), scrolled to and focused; FALSE when there is no such flag. */
gboolean       cu_flags_window_select_flag  (CuFlagsWindow *self, gint64 id);
/* Flags shown with the current filters. */
guint          cu_flags_window_get_n_shown  (CuFlagsWindow *self);
/* Id of the n-th flag shown, or 0. */
gint64         cu_flags_window_get_flag_id  (CuFlagsWindow *self, guint n);
/* Import a clinical CSV in the background, run the rules, then show the report dialog
 * (flags.import-clinical asks for the file first). */
void           cu_flags_window_import_clinical (CuFlagsWindow *self, const char *path);
/* The same for the clinical data of site (NULL or "": each pseudonym's prefix). */
void           cu_flags_window_import_clinical_site (CuFlagsWindow *self, const char *path,
                                                     const char *site);
/* Ask which site sent the file at path, then import it (what flags.import-clinical does
 * after the file chooser). Returns the dialog (also cu_flags_window_get_report). */
GtkWidget     *cu_flags_window_prompt_clinical_site (CuFlagsWindow *self, const char *path);
/* Write a bundle of site's flags into out_dir in the background, then report
 * (flags.export-bundle asks for the folder, for the site chosen in the Site filter). */
void           cu_flags_window_export_bundle (CuFlagsWindow *self, const char *site,
                                              const char *out_dir);
/* The same with the report in lang ("es"…; NULL: the site's language). */
void           cu_flags_window_export_bundle_lang (CuFlagsWindow *self, const char *site,
                                                   const char *out_dir, const char *lang);
/* Write a bundle of site's urgent flags only (incidental findings) into out_dir in the
 * background, then report (flags.export-urgent asks for the folder). */
void           cu_flags_window_export_urgent (CuFlagsWindow *self, const char *site,
                                              const char *out_dir);
/* Ask the report's language for site's bundle, then the folder (flags.export-bundle).
 * Returns the dialog. */
GtkWidget     *cu_flags_window_prompt_bundle (CuFlagsWindow *self, const char *site);
/* The history of flag id (each step: user, time, comment, the site's answer and corrected
 * value) in a dialog (flags.history); NULL when there is no such flag. */
GtkWidget     *cu_flags_window_show_history (CuFlagsWindow *self, gint64 id);
/* Apply a site's answers (bundle folder or answers.csv) in the background, then report
 * (flags.import-answers asks for the file). */
void           cu_flags_window_import_answers (CuFlagsWindow *self, const char *path);
/* Run the rules in the background and show what changed (flags.check). */
void           cu_flags_window_check        (CuFlagsWindow *self);
gboolean       cu_flags_window_is_busy      (CuFlagsWindow *self);
/* The last report dialog presented, or NULL (for tests and scripted sessions). */
GtkWidget     *cu_flags_window_get_report   (CuFlagsWindow *self);

G_END_DECLS

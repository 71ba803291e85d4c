/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flags-window.h — the consistency flags panel: flags of the workspace filtered by site,
 * rule, state, severity and patient; a flag's state changes with a comment; a flag jumps to
 * its series in the main window; the site's clinical data is imported from here (file
 * chooser, then a report of what was imported or of the rows rejected) and the rules run.
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
/* Flags shown with the current filters. */
guint          cu_flags_window_get_n_shown  (CuFlagsWindow *self);
/* Id of the n-th flag shown, or 0. */
gint64         cu_flags_window_get_flag_id  (CuFlagsWindow *self, guint n);
/* Import a clinical CSV in the background, run the rules, then show the report dialog
 * (flags.import-clinical asks for the file first). */
void           cu_flags_window_import_clinical (CuFlagsWindow *self, const char *path);
/* Write a bundle of site's flags into out_dir in the background, then report
 * (flags.export-bundle asks for the folder, for the site chosen in the Site filter). */
void           cu_flags_window_export_bundle (CuFlagsWindow *self, const char *site,
                                              const char *out_dir);
/* Apply a site's answers (bundle folder or answers.csv) in the background, then report
 * (flags.import-answers asks for the file). */
void           cu_flags_window_import_answers (CuFlagsWindow *self, const char *path);
/* Run the rules in the background and show what changed (flags.check). */
void           cu_flags_window_check        (CuFlagsWindow *self);
gboolean       cu_flags_window_is_busy      (CuFlagsWindow *self);
/* The last report dialog presented, or NULL (for tests and scripted sessions). */
GtkWidget     *cu_flags_window_get_report   (CuFlagsWindow *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-window.h — the Release window: the workspace's releases (name, version, mode,
 * open or written); a release's patients and studies (added from the study browser or typed,
 * removed); the checklist of the release gate per patient → study → series, each hold with its
 * action (the flag, the quality review, the pseudonymization override, the earlier release);
 * writing the package into a new folder; withdrawing a patient. Checking and writing run off
 * the UI thread with progress and Cancel; edits are written off it too (cu-store-write.h).
 */
#pragma once

#include <adwaita.h>

#include "cu-window.h"

G_BEGIN_DECLS

#define CU_TYPE_RELEASE_WINDOW (cu_release_window_get_type ())
G_DECLARE_FINAL_TYPE (CuReleaseWindow, cu_release_window, CU, RELEASE_WINDOW, AdwWindow)

CuReleaseWindow *cu_release_window_new       (CuWindow *parent);
/* Read the releases again (also done when the window becomes active: another process may
 * have changed the workspace). */
void             cu_release_window_reload    (CuReleaseWindow *self);
/* Show the release of that name (the open one, else its newest version); FALSE when none. */
gboolean         cu_release_window_select    (CuReleaseWindow *self, const char *name);
/* Name of the release shown, or NULL. */
const char      *cu_release_window_get_selected (CuReleaseWindow *self);
/* Check the release shown in the background (release.check), then show its checklist. */
void             cu_release_window_check     (CuReleaseWindow *self);
/* Write the release shown into out_dir (which must not exist) in the background
 * (what release.write does after asking). */
void             cu_release_window_write     (CuReleaseWindow *self, const char *out_dir,
                                              CuReleaseLayout layout);
/* Give release.write the folder to write into instead of asking (the package goes into a new
 * folder NAME-vVERSION in it); NULL: ask again. For scripted sessions and tests. */
void             cu_release_window_set_write_folder (CuReleaseWindow *self, const char *dir);
/* Push the written release shown to the workspace's server of that name in the background
 * (what release.push does after asking). */
void             cu_release_window_push      (CuReleaseWindow *self, const char *server);
gboolean         cu_release_window_is_busy   (CuReleaseWindow *self);
/* The last checklist shown, or NULL (none yet, or the release changed since). */
const CuReleasePlan *cu_release_window_get_plan (CuReleaseWindow *self);
/* The checklist row of a patient (pseudonym), study or series (UID), or NULL. */
GtkWidget       *cu_release_window_find_row  (CuReleaseWindow *self, const char *key);
/* The last dialog presented (a report, an error, a question), or NULL. */
GtkWidget       *cu_release_window_get_report (CuReleaseWindow *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-remote-window.h — the Remote source beside the study browser: a DICOMweb server of the
 * workspace (added, edited and removed here or with curata-cli server), Test Connection, a QIDO-RS search (patient, study date,
 * modality, description), the studies found, and Pull of the checked ones into the workspace
 * (cu-dicomweb-pull.h) with progress in instances and bytes and Cancel. Network and import run
 * off the UI thread; the study browser is read again when a pull ends.
 */
#pragma once

#include <adwaita.h>

#include "cu-window.h"

G_BEGIN_DECLS

#define CU_TYPE_REMOTE_WINDOW (cu_remote_window_get_type ())
G_DECLARE_FINAL_TYPE (CuRemoteWindow, cu_remote_window, CU, REMOTE_WINDOW, AdwWindow)

CuRemoteWindow *cu_remote_window_new          (CuWindow *parent);
/* Read the workspace's servers again; select the one of that name (NULL: keep the choice). */
void            cu_remote_window_reload       (CuRemoteWindow *self, const char *select);
/* Fill the search form (NULL leaves a field empty) and search in the background. */
void            cu_remote_window_search       (CuRemoteWindow *self, const char *patient_id,
                                               const char *study_date, const char *modality,
                                               const char *description);
/* Check every study found, then pull them in the background. */
void            cu_remote_window_pull_all     (CuRemoteWindow *self);
/* Add (replace FALSE) or edit a server of the workspace: HTTP basic when user is set, its
 * password into the keyring (without one the status line says which variable to set). What
 * the server form's Save does. */
gboolean        cu_remote_window_save_server  (CuRemoteWindow *self, const char *name,
                                               const char *url, const char *user,
                                               const char *secret, gboolean replace,
                                               GError **error);
/* Remove a server and its keyring secret (the remove button does it for the one chosen). */
gboolean        cu_remote_window_remove_server (CuRemoteWindow *self, const char *name,
                                                GError **error);
gboolean        cu_remote_window_is_busy      (CuRemoteWindow *self);
guint           cu_remote_window_get_n_results (CuRemoteWindow *self);
/* The status line (what the last job said). */
const char     *cu_remote_window_get_status   (CuRemoteWindow *self);

G_END_DECLS

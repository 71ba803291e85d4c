/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gate-retire.h — "Mark Superseded by…" and "Remove from Workspace…" dialogs of a study.
 */
#pragma once

#include "cu-gate.h"

G_BEGIN_DECLS

/* Offer the studies that could supersede study_uid (cu_store_list_supersede_candidates) in a
 * drop-down, ask for a reason; on "supersede" record it in store and call done. */
GtkWidget *cu_gate_supersede_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid,
                                         CuGateOverrideDone done, gpointer user_data);

/* Say what removing study_uid takes with it (files stay on disk), ask for a reason; on
 * "remove" remove it from store (forced when curation work is attached, which the dialog
 * says) and call done. */
GtkWidget *cu_gate_remove_dialog_new    (GtkWindow *parent, CuStore *store, const char *study_uid,
                                         CuGateOverrideDone done, gpointer user_data);

/* "Mark Superseded by…" (a quarantined or unchecked study) and "Remove from Workspace…",
 * naming win.supersede-study and win.remove-study with study_uid as target. */
GMenuModel *cu_gate_retire_menu_new     (const char *study_uid, CuGateState state);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-audit-window.h — the history of a study or a series: its rows of the audit trail (who,
 * when, what, why) and whether the trail's hash chain is intact.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_TYPE_AUDIT_WINDOW (cu_audit_window_get_type ())
G_DECLARE_FINAL_TYPE (CuAuditWindow, cu_audit_window, CU, AUDIT_WINDOW, AdwWindow)

/* The history of series_uid when it is not NULL, else of study_uid and all its series. */
CuAuditWindow *cu_audit_window_new       (GtkWindow *parent, CuStore *store, const char *study_uid,
                                          const char *series_uid);
/* Read the trail again and check its chain (the window's refresh button). */
void           cu_audit_window_reload    (CuAuditWindow *self);
/* Rows listed, and the chain's state at the last reload; for tests. */
guint          cu_audit_window_get_n_rows (CuAuditWindow *self);
CuAuditState   cu_audit_window_get_state (CuAuditWindow *self);
/* The line at the top: "Audit trail intact" or "Audit trail altered at row N". */
const char    *cu_audit_window_get_status (CuAuditWindow *self);

G_END_DECLS

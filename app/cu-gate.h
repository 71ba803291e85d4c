/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gate.h — the pseudonymization gate in the GUI: reason summaries, the findings dialog
 * and the override dialog.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

/* "PatientBirthDate, InstitutionName and 3 more": the attributes behind a study's ERROR
 * findings (all findings when there is no error), for banners and tooltips. */
char      *cu_gate_summarize_reasons (GPtrArray *findings, guint max_names);

/* Tooltip of a study row: state, counts, reasons, override reason. */
char      *cu_gate_describe          (const CuStudyGate *gate, GPtrArray *findings);

/* What makes findings "the same" in the findings dialog (one row for an attribute flagged in
 * every file of a series): severity, keyword, tag path, rule and expectation. */
char      *cu_gate_finding_group_key (const CuDeidFinding *finding);
/* The row title of a finding: its keyword and tag, or the tag alone when that is its name. */
char      *cu_gate_finding_title     (const CuDeidFinding *finding);

/* "the study “Prostate MR” (20240314)" for people; "the study UID" when it has no
 * description or date. */
char      *cu_gate_study_label       (CuStore *store, const char *study_uid);

/* The findings of a study, one row per group, with Override… and Re-import Fixed Copy… buttons (they activate
 * "win.override-study" and "win.import-folder" on parent). */
GtkWindow *cu_gate_findings_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid);

/* Ask for the reason of an override; on "override" with a reason, records it in store and
 * calls done (on the main thread) with the result. The dialog's extra child is the reason
 * GtkEntry; the "override" response is enabled only when the reason holds text. */
typedef void (*CuGateOverrideDone) (gpointer user_data, gboolean overridden, const GError *error);
GtkWidget *cu_gate_override_dialog_new (GtkWindow *parent, CuStore *store, const char *study_uid,
                                        CuGateOverrideDone done, gpointer user_data);

/* For the gate's dialogs: run a write (cu-store-write.h) off the UI thread and call done on
 * the main thread with its result; user_data, when it is a GObject, is kept alive until then.
 * A write waits for any other process's transaction: on the UI thread it froze the window. */
void       _cu_gate_write_async      (CuStore *store, CuStoreWriteFunc func, gpointer data,
                                      GDestroyNotify data_free, CuGateOverrideDone done,
                                      gpointer user_data);

G_END_DECLS

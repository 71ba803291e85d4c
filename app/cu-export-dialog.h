/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-export-dialog.h — the result of an anonymized export: files written and where, studies
 * held back by their pseudonymization gate (with the reason), files that failed (with why).
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

/* A dialog transient for parent reporting report (taken over) of an export into out_dir.
 * store (main thread) names the held studies by description and date. Not yet presented. */
GtkWidget               *cu_export_dialog_new        (GtkWindow         *parent,
                                                      CuStore           *store,
                                                      const char        *out_dir,
                                                      CuAnonymizeReport *report);
/* The report a dialog made by cu_export_dialog_new() shows (owned by the dialog). */
const CuAnonymizeReport *cu_export_dialog_get_report (GtkWidget *dialog);

G_END_DECLS

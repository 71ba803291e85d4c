/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-add-dialog.h — raising a flag by hand from the viewer (win.add-flag): on the patient,
 * study or series shown, a question, an image request, an incidental finding (urgent) or a
 * quarantined study to send again after fixing its pseudonymization, with
 * the viewer's cursor as the LPS position when asked.
 */
#pragma once

#include <adwaita.h>

#include "cu-window.h"

G_BEGIN_DECLS

/* Present the dialog for the series shown in parent (NULL when none is shown). Responses:
 * "cancel", "add" (raises the flag; a refused one is reported and the dialog stays). */
GtkWidget *cu_flag_add_dialog_present (CuWindow *parent);
/* For tests and scripted sessions: what the dialog's fields say. target: "patient", "study" or
 * "series"; category: "question", "image", "incidental" or "deid". */
void       cu_flag_add_dialog_fill    (GtkWidget *dialog, const char *target, const char *category,
                                       const char *message, gboolean with_position);
/* For tests: the lesion (a label value of the segmentation shown) the flag is about; 0: none. */
void       cu_flag_add_dialog_set_lesion (GtkWidget *dialog, guint8 value);
/* The flag the last "add" raised, or 0. */
gint64     cu_flag_add_dialog_get_flag_id (GtkWidget *dialog);

G_END_DECLS

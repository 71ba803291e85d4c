/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-measure-list.h — the measurements a reader keeps on the series shown (cu-store-measure.h):
 * keeps what the editor's tools finish ("measurement-drawn"), lists them with their results,
 * lets the reader change a measurement's text and remove one, and hands the list to the
 * editor so that the views draw them.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-seg-editor.h"

G_BEGIN_DECLS

#define CU_TYPE_MEASURE_LIST (cu_measure_list_get_type ())
G_DECLARE_FINAL_TYPE (CuMeasureList, cu_measure_list, CU, MEASURE_LIST, GtkBox)

GtkWidget *cu_measure_list_new        (CuSegEditor *editor);
/* The series shown and its reader (store borrowed while set; NULL series clears). */
void       cu_measure_list_set_series (CuMeasureList *self, CuStore *store, const char *series_uid,
                                       const char *reader);
/* The measurements listed (CuMeasurement, in id order; owned by the list). */
GPtrArray *cu_measure_list_get_items  (CuMeasureList *self);
/* Change the text of the measurement at index, or remove it (both saved and audited). */
gboolean   cu_measure_list_set_text   (CuMeasureList *self, guint index, const char *text,
                                       GError **error);
gboolean   cu_measure_list_remove     (CuMeasureList *self, guint index, GError **error);

G_END_DECLS

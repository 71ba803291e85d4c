/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-reading-pane.h — one pane of the reading layout: a slice view of its own series with a
 * header naming the series, a link switch and a maximise button.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-slice-view.h"

G_BEGIN_DECLS

#define CU_TYPE_READING_PANE (cu_reading_pane_get_type ())
G_DECLARE_FINAL_TYPE (CuReadingPane, cu_reading_pane, CU, READING_PANE, GtkWidget)

GtkWidget     *cu_reading_pane_new        (void);
/* The pane's state (its own until replaced; the first pane shows the window's). */
CuViewerState *cu_reading_pane_get_state  (CuReadingPane *self);
void           cu_reading_pane_set_state  (CuReadingPane *self, CuViewerState *state);
CuSliceView   *cu_reading_pane_get_slice_view (CuReadingPane *self);
/* Header text: the series shown, or what the hanging protocol wanted and did not find. */
void           cu_reading_pane_set_title  (CuReadingPane *self, const char *title);
const char    *cu_reading_pane_get_title  (CuReadingPane *self);
/* The menu of the series button in the header (NULL hides the button). */
void           cu_reading_pane_set_series_menu (CuReadingPane *self, GMenuModel *menu);
/* The link switch ("linked" property, TRUE by default). */
gboolean       cu_reading_pane_get_linked (CuReadingPane *self);
void           cu_reading_pane_set_linked (CuReadingPane *self, gboolean linked);
/* Shown maximised (the maximise button's state; the layout reacts to "notify::maximized"). */
gboolean       cu_reading_pane_get_maximized (CuReadingPane *self);
void           cu_reading_pane_set_maximized (CuReadingPane *self, gboolean maximized);

G_END_DECLS

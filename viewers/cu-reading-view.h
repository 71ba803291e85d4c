/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-reading-view.h — the reading layout: 1×1, 1×2, 1×3 or 2×2 panes, each showing its own
 * series, their cursors linked in patient coordinates (cu-viewer-link.h); any pane can be
 * maximised and brought back.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-reading-pane.h"
#include "cu-viewer-link.h"

G_BEGIN_DECLS

#define CU_READING_VIEW_MAX_PANES 4

#define CU_TYPE_READING_VIEW (cu_reading_view_get_type ())
G_DECLARE_FINAL_TYPE (CuReadingView, cu_reading_view, CU, READING_VIEW, GtkWidget)

GtkWidget     *cu_reading_view_new         (void);
/* "1x1", "1x2", "1x3" or "2x2" (rows × columns); FALSE for anything else. */
gboolean       cu_reading_view_set_layout  (CuReadingView *self, const char *layout);
const char    *cu_reading_view_get_layout  (CuReadingView *self);
/* Panes in the layout (1–4). */
guint          cu_reading_view_get_n_panes (CuReadingView *self);
CuReadingPane *cu_reading_view_get_pane    (CuReadingView *self, guint index);
CuViewerLink  *cu_reading_view_get_link    (CuReadingView *self);
/* Show pane index alone (-1: the whole layout again). */
void           cu_reading_view_maximize    (CuReadingView *self, int index);
int            cu_reading_view_get_maximized (CuReadingView *self);
/* The pane holding the keyboard focus, else the first. */
guint          cu_reading_view_get_active_pane (CuReadingView *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-scroll-guard.h — a slider inside a scrolled panel that the mouse wheel does not change
 * by accident.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* While `range` does not have the keyboard focus, a wheel turn over it scrolls the enclosing
 * GtkScrolledWindow instead of moving the slider (scrolling a panel past the Opacity slider
 * used to set the opacity to 0). Clicking or tabbing to the slider gives the wheel back. */
void cu_scroll_guard_install (GtkRange *range);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-scroll-guard.c — wheel over an unfocused slider scrolls its panel (cu-scroll-guard.h).
 *
 * GtkRange has its own scroll controller in the bubble phase; a controller in the capture
 * phase sees the wheel first and, when the slider is not focused, claims it and moves the
 * panel's vertical adjustment by the amount GtkScrolledWindow itself would (a discrete step
 * is the adjustment's step increment; smooth deltas are scaled the same way).
 */
#include "config.h"

#include "cu-scroll-guard.h"

static gboolean
scroll_cb (GtkEventControllerScroll *controller, double dx, double dy, GtkRange *range)
{
  GtkWidget *scrolled;
  GtkAdjustment *adj;
  double step;

  if (gtk_widget_has_focus (GTK_WIDGET (range)))
    return FALSE;   /* the slider's own handler moves it */
  scrolled = gtk_widget_get_ancestor (GTK_WIDGET (range), GTK_TYPE_SCROLLED_WINDOW);
  if (scrolled == NULL)
    return TRUE;
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  step = gtk_adjustment_get_step_increment (adj);
  if (step <= 0)
    step = gtk_adjustment_get_page_size (adj) / 10.0;
  gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + dy * MAX (step, 20.0));
  return TRUE;
}

void
cu_scroll_guard_install (GtkRange *range)
{
  GtkEventController *scroll;

  g_return_if_fail (GTK_IS_RANGE (range));
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  gtk_event_controller_set_propagation_phase (scroll, GTK_PHASE_CAPTURE);
  g_signal_connect_object (scroll, "scroll", G_CALLBACK (scroll_cb), range, 0);
  gtk_widget_add_controller (GTK_WIDGET (range), scroll);
}

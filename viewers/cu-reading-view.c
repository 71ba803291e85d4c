/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-reading-view.c — panes in a grid, linked (cu-reading-view.h).
 *
 * The four panes exist for the life of the view and are only re-attached to the grid when the
 * layout changes, so a series loaded into a pane survives switching from 2×2 to 1×2 and back.
 * A pane's "linked" switch goes straight to the CuViewerLink.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-reading-view.h"

struct _CuReadingView
{
  GtkWidget parent_instance;

  GtkWidget *grid;
  CuReadingPane *panes[CU_READING_VIEW_MAX_PANES];
  CuViewerLink *link;
  int rows, cols;
  char *layout;
  int maximized;        /* pane index or -1 */
  gboolean relayout;    /* re-attaching: ignore "maximized" notifications */
};

G_DEFINE_FINAL_TYPE (CuReadingView, cu_reading_view, GTK_TYPE_WIDGET)

static void
attach (CuReadingView *self)
{
  guint n = (guint) (self->rows * self->cols);

  self->relayout = TRUE;
  for (guint i = 0; i < CU_READING_VIEW_MAX_PANES; i++)
    {
      GtkWidget *w = GTK_WIDGET (self->panes[i]);
      if (gtk_widget_get_parent (w) != NULL)
        gtk_grid_remove (GTK_GRID (self->grid), w);
    }
  for (guint i = 0; i < n; i++)
    {
      GtkWidget *w = GTK_WIDGET (self->panes[i]);
      if (self->maximized >= 0 && (guint) self->maximized != i)
        continue;
      if (self->maximized >= 0)
        gtk_grid_attach (GTK_GRID (self->grid), w, 0, 0, 1, 1);
      else
        gtk_grid_attach (GTK_GRID (self->grid), w, (int) i % self->cols, (int) i / self->cols, 1, 1);
      cu_reading_pane_set_maximized (self->panes[i], self->maximized == (int) i);
    }
  self->relayout = FALSE;
}

static void
pane_maximized_cb (CuReadingPane *pane, GParamSpec *pspec, CuReadingView *self)
{
  if (self->relayout)
    return;
  for (int i = 0; i < CU_READING_VIEW_MAX_PANES; i++)
    if (self->panes[i] == pane)
      cu_reading_view_maximize (self, cu_reading_pane_get_maximized (pane) ? i : -1);
}

static void
pane_linked_cb (CuReadingPane *pane, GParamSpec *pspec, CuReadingView *self)
{
  cu_viewer_link_set_linked (self->link, cu_reading_pane_get_state (pane),
                             cu_reading_pane_get_linked (pane));
  /* a pane linked again joins the point the others show */
  if (cu_reading_pane_get_linked (pane))
    cu_viewer_link_adopt (self->link, cu_reading_pane_get_state (pane));
}

static void
maximize_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuReadingView *self = CU_READING_VIEW (widget);

  cu_reading_view_maximize (self, self->maximized >= 0 ? -1
                                                       : (int) cu_reading_view_get_active_pane (self));
}

static void
cu_reading_view_dispose (GObject *object)
{
  CuReadingView *self = CU_READING_VIEW (object);

  g_clear_pointer (&self->grid, gtk_widget_unparent);
  for (guint i = 0; i < CU_READING_VIEW_MAX_PANES; i++)
    if (self->panes[i] != NULL)
      {
        g_signal_handlers_disconnect_by_data (self->panes[i], self);
        g_clear_object (&self->panes[i]);
      }
  g_clear_object (&self->link);
  g_clear_pointer (&self->layout, g_free);
  G_OBJECT_CLASS (cu_reading_view_parent_class)->dispose (object);
}

static void
cu_reading_view_class_init (CuReadingViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_reading_view_dispose;
  gtk_widget_class_install_action (widget_class, "reading.maximize-pane", NULL, maximize_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_m, GDK_CONTROL_MASK,
                                       "reading.maximize-pane", NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cu-reading-view");
}

static void
cu_reading_view_init (CuReadingView *self)
{
  self->grid = gtk_grid_new ();
  gtk_grid_set_row_homogeneous (GTK_GRID (self->grid), TRUE);
  gtk_grid_set_column_homogeneous (GTK_GRID (self->grid), TRUE);
  gtk_grid_set_row_spacing (GTK_GRID (self->grid), 2);
  gtk_grid_set_column_spacing (GTK_GRID (self->grid), 2);
  gtk_widget_set_parent (self->grid, GTK_WIDGET (self));
  self->link = cu_viewer_link_new ();
  self->maximized = -1;
  for (guint i = 0; i < CU_READING_VIEW_MAX_PANES; i++)
    {
      /* kept while detached from the grid */
      self->panes[i] = g_object_ref_sink (CU_READING_PANE (cu_reading_pane_new ()));
      g_signal_connect (self->panes[i], "notify::maximized", G_CALLBACK (pane_maximized_cb), self);
      g_signal_connect (self->panes[i], "notify::linked", G_CALLBACK (pane_linked_cb), self);
    }
  cu_reading_view_set_layout (self, "1x2");
}

GtkWidget *
cu_reading_view_new (void)
{
  return g_object_new (CU_TYPE_READING_VIEW, NULL);
}

gboolean
cu_reading_view_set_layout (CuReadingView *self, const char *layout)
{
  int rows, cols;

  g_return_val_if_fail (CU_IS_READING_VIEW (self), FALSE);
  if (g_strcmp0 (layout, "1x1") == 0)
    rows = 1, cols = 1;
  else if (g_strcmp0 (layout, "1x2") == 0)
    rows = 1, cols = 2;
  else if (g_strcmp0 (layout, "1x3") == 0)
    rows = 1, cols = 3;
  else if (g_strcmp0 (layout, "2x2") == 0)
    rows = 2, cols = 2;
  else
    return FALSE;
  self->rows = rows;
  self->cols = cols;
  g_free (self->layout);
  self->layout = g_strdup (layout);
  self->maximized = -1;
  attach (self);
  return TRUE;
}

const char *
cu_reading_view_get_layout (CuReadingView *self)
{
  g_return_val_if_fail (CU_IS_READING_VIEW (self), NULL);
  return self->layout;
}

guint
cu_reading_view_get_n_panes (CuReadingView *self)
{
  g_return_val_if_fail (CU_IS_READING_VIEW (self), 0);
  return (guint) (self->rows * self->cols);
}

CuReadingPane *
cu_reading_view_get_pane (CuReadingView *self, guint index)
{
  g_return_val_if_fail (CU_IS_READING_VIEW (self), NULL);
  g_return_val_if_fail (index < CU_READING_VIEW_MAX_PANES, NULL);
  return self->panes[index];
}

CuViewerLink *
cu_reading_view_get_link (CuReadingView *self)
{
  g_return_val_if_fail (CU_IS_READING_VIEW (self), NULL);
  return self->link;
}

void
cu_reading_view_maximize (CuReadingView *self, int index)
{
  g_return_if_fail (CU_IS_READING_VIEW (self));
  if (index >= (int) cu_reading_view_get_n_panes (self))
    index = -1;
  if (index == self->maximized)
    return;
  self->maximized = index;
  attach (self);
}

int
cu_reading_view_get_maximized (CuReadingView *self)
{
  g_return_val_if_fail (CU_IS_READING_VIEW (self), -1);
  return self->maximized;
}

guint
cu_reading_view_get_active_pane (CuReadingView *self)
{
  GtkRoot *root;
  GtkWidget *focus;

  g_return_val_if_fail (CU_IS_READING_VIEW (self), 0);
  root = gtk_widget_get_root (GTK_WIDGET (self));
  focus = root != NULL ? gtk_root_get_focus (root) : NULL;
  for (guint i = 0; focus != NULL && i < cu_reading_view_get_n_panes (self); i++)
    if (gtk_widget_is_ancestor (focus, GTK_WIDGET (self->panes[i])))
      return i;
  return self->maximized >= 0 ? (guint) self->maximized : 0;
}

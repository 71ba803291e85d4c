/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-measure-list.c — see cu-measure-list.h. A measurement is one small row, written on the
 * UI thread like a QC decision: what takes time (the ROI's pixels) was computed by the tool
 * on the volume already in memory.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "cu-measure-list.h"

struct _CuMeasureList
{
  GtkBox parent_instance;

  GtkListBox *list;
  GtkLabel *status;

  CuSegEditor *editor;   /* owned */
  CuStore *store;        /* owned */
  char *series_uid;
  char *reader;
  GPtrArray *items;      /* CuMeasurement */
};

G_DEFINE_FINAL_TYPE (CuMeasureList, cu_measure_list, GTK_TYPE_BOX)

static void rebuild (CuMeasureList *self);

static void
set_status (CuMeasureList *self, const char *text)
{
  if (self->status == NULL)
    return;   /* disposed: the panel is going */
  gtk_label_set_label (self->status, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status), text != NULL);
}

static void
reload (CuMeasureList *self)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *items = NULL;

  if (self->editor == NULL)
    return;   /* disposed */
  if (self->store != NULL && self->series_uid != NULL)
    items = cu_store_measure_list (self->store, self->series_uid, self->reader, &error);
  if (error != NULL)
    set_status (self, error->message);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  self->items = items != NULL ? items
                              : g_ptr_array_new_with_free_func ((GDestroyNotify) cu_measurement_free);
  cu_seg_editor_set_measurements (self->editor, self->items);
  rebuild (self);
}

static void
text_activate_cb (GtkEntry *entry, CuMeasureList *self)
{
  g_autoptr (GError) error = NULL;
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (entry), "cu-index"));

  if (!cu_measure_list_set_text (self, index, gtk_editable_get_text (GTK_EDITABLE (entry)), &error))
    set_status (self, error->message);
}

static void
remove_clicked_cb (GtkButton *button, CuMeasureList *self)
{
  g_autoptr (GError) error = NULL;
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "cu-index"));

  if (!cu_measure_list_remove (self, index, &error))
    set_status (self, error->message);
}

static void
rebuild (CuMeasureList *self)
{
  GtkWidget *child;

  if (self->list == NULL)
    return;   /* disposed */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; i < self->items->len; i++)
    {
      const CuMeasurement *m = self->items->pdata[i];
      g_autofree char *what = cu_measurement_describe (m);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
      GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *label = gtk_label_new (what);
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      GtkWidget *entry = gtk_entry_new ();

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_set_hexpand (label, TRUE);
      gtk_widget_add_css_class (label, "numeric");
      gtk_widget_set_tooltip_text (remove, _("Remove the measurement"));
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_valign (remove, GTK_ALIGN_START);
      g_object_set_data (G_OBJECT (remove), "cu-index", GUINT_TO_POINTER (i));
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_clicked_cb), self);
      gtk_box_append (GTK_BOX (top), label);
      gtk_box_append (GTK_BOX (top), remove);
      gtk_editable_set_text (GTK_EDITABLE (entry), m->text != NULL ? m->text : "");
      gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Text (Enter saves)"));
      g_object_set_data (G_OBJECT (entry), "cu-index", GUINT_TO_POINTER (i));
      g_signal_connect (entry, "activate", G_CALLBACK (text_activate_cb), self);
      gtk_box_append (GTK_BOX (box), top);
      gtk_box_append (GTK_BOX (box), entry);
      gtk_widget_set_margin_top (box, 4);
      gtk_widget_set_margin_bottom (box, 4);
      gtk_widget_set_margin_start (box, 6);
      gtk_widget_set_margin_end (box, 6);
      gtk_list_box_append (self->list, box);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->list), self->items->len > 0);
}

static void
measurement_drawn_cb (CuSegEditor *editor, CuMeasurement *drawn, CuMeasureList *self)
{
  g_autoptr (CuMeasurement) m = NULL;
  g_autoptr (GError) error = NULL;

  if (self->store == NULL || self->series_uid == NULL)
    return;
  m = cu_measurement_copy (drawn);
  g_free (m->series_uid);
  m->series_uid = g_strdup (self->series_uid);
  g_free (m->reader);
  m->reader = g_strdup (self->reader);
  if (!cu_store_measure_save (self->store, m, &error))
    {
      set_status (self, error->message);
      return;
    }
  set_status (self, NULL);
  reload (self);
}

static void
cu_measure_list_dispose (GObject *object)
{
  CuMeasureList *self = CU_MEASURE_LIST (object);

  /* The editor keeps its reference to the last list (it goes with the editor): clearing it
   * here would emit "changed" into a panel that is being disposed. */
  if (self->editor != NULL)
    g_signal_handlers_disconnect_by_data (self->editor, self);
  g_clear_object (&self->editor);
  g_clear_object (&self->store);
  /* the box drops its children; later calls (the panel clearing its series) find none */
  self->list = NULL;
  self->status = NULL;
  G_OBJECT_CLASS (cu_measure_list_parent_class)->dispose (object);
}

static void
cu_measure_list_finalize (GObject *object)
{
  CuMeasureList *self = CU_MEASURE_LIST (object);

  g_free (self->series_uid);
  g_free (self->reader);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  G_OBJECT_CLASS (cu_measure_list_parent_class)->finalize (object);
}

static void
cu_measure_list_class_init (CuMeasureListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cu_measure_list_dispose;
  object_class->finalize = cu_measure_list_finalize;
}

static void
cu_measure_list_init (CuMeasureList *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 4);
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  gtk_widget_set_visible (GTK_WIDGET (self->list), FALSE);
  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->status, 0);
  gtk_label_set_wrap (self->status, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->status), FALSE);
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->list));
  gtk_box_append (GTK_BOX (self), GTK_WIDGET (self->status));
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_measurement_free);
}

GtkWidget *
cu_measure_list_new (CuSegEditor *editor)
{
  CuMeasureList *self = g_object_new (CU_TYPE_MEASURE_LIST, NULL);

  self->editor = g_object_ref (editor);
  g_signal_connect (editor, "measurement-drawn", G_CALLBACK (measurement_drawn_cb), self);
  return GTK_WIDGET (self);
}

void
cu_measure_list_set_series (CuMeasureList *self, CuStore *store, const char *series_uid,
                            const char *reader)
{
  g_return_if_fail (CU_IS_MEASURE_LIST (self));

  g_set_object (&self->store, store);
  g_free (self->series_uid);
  self->series_uid = g_strdup (series_uid);
  g_free (self->reader);
  self->reader = g_strdup (reader);
  set_status (self, NULL);
  reload (self);
}

GPtrArray *
cu_measure_list_get_items (CuMeasureList *self)
{
  g_return_val_if_fail (CU_IS_MEASURE_LIST (self), NULL);
  return self->items;
}

gboolean
cu_measure_list_set_text (CuMeasureList *self, guint index, const char *text, GError **error)
{
  g_autoptr (CuMeasurement) m = NULL;

  g_return_val_if_fail (CU_IS_MEASURE_LIST (self), FALSE);
  if (self->store == NULL || index >= self->items->len)
    return TRUE;
  m = cu_measurement_copy (self->items->pdata[index]);
  g_free (m->text);
  m->text = text != NULL && *text ? g_strdup (text) : NULL;
  if (!cu_store_measure_save (self->store, m, error))
    return FALSE;
  reload (self);
  return TRUE;
}

gboolean
cu_measure_list_remove (CuMeasureList *self, guint index, GError **error)
{
  const CuMeasurement *m;

  g_return_val_if_fail (CU_IS_MEASURE_LIST (self), FALSE);
  if (self->store == NULL || index >= self->items->len)
    return TRUE;
  m = self->items->pdata[index];
  if (!cu_store_measure_remove (self->store, m->id, error))
    return FALSE;
  reload (self);
  return TRUE;
}

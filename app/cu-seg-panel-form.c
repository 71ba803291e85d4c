/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-panel-form.c — the lesion form of the segmentation panel: one widget per field of the
 * declarative form (cu-seg-form.h), the answers kept in the active label, the category the
 * PI-RADS rules suggest. Split from cu-seg-panel.c, which builds the rest of the panel.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-panel-private.h"

/* ---- lesion form --------------------------------------------------------------------- */

static GtkWidget *
field_widget (CuSegPanel *self, const CuFormField *f);

void
_cu_seg_panel_build_form (CuSegPanel *self)
{
  GtkWidget *grid = gtk_grid_new ();

  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  self->form_widgets = g_ptr_array_new ();
  for (guint i = 0; self->form != NULL && i < cu_seg_form_get_n_fields (self->form); i++)
    {
      const CuFormField *f = cu_seg_form_get_field (self->form, i);
      GtkWidget *label = gtk_label_new (f->label);
      GtkWidget *w = field_widget (self, f);

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "dim-label");
      gtk_grid_attach (GTK_GRID (grid), label, 0, (int) i, 1, 1);
      gtk_widget_set_hexpand (w, TRUE);
      gtk_grid_attach (GTK_GRID (grid), w, 1, (int) i, 1, 1);
      g_ptr_array_add (self->form_widgets, w);
    }
  gtk_box_append (GTK_BOX (self->form_box), grid);
  self->suggestion = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->suggestion, 0);
  gtk_label_set_wrap (self->suggestion, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->suggestion), "caption");
  gtk_box_append (GTK_BOX (self->form_box), GTK_WIDGET (self->suggestion));
}

static char *
answers_from_widgets (CuSegPanel *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  for (guint i = 0; i < self->form_widgets->len; i++)
    {
      const CuFormField *f = cu_seg_form_get_field (self->form, i);
      GtkWidget *w = self->form_widgets->pdata[i];

      if (f->type == CU_FORM_TEXT)
        {
          const char *text = gtk_editable_get_text (GTK_EDITABLE (w));
          if (text != NULL && *text != '\0')
            {
              json_builder_set_member_name (b, f->id);
              json_builder_add_string_value (b, text);
            }
          continue;
        }
      {
        guint sel = gtk_drop_down_get_selected (GTK_DROP_DOWN (w));
        if (sel == 0 || sel == GTK_INVALID_LIST_POSITION)
          continue;   /* "—": not answered */
        json_builder_set_member_name (b, f->id);
        if (f->type == CU_FORM_INTEGER)
          json_builder_add_int_value (b, f->min + (int) sel - 1);
        else
          json_builder_add_string_value (b, f->option_values[sel - 1]);
      }
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

#define FORM_SAVE_DELAY_S 2


static gboolean
form_save_cb (gpointer data)
{
  CuSegPanel *self = data;

  self->form_save_source = 0;
  _cu_seg_panel_save_now (self, "Form");
  return G_SOURCE_REMOVE;
}

/* A form change waiting for its save is saved now (before the session goes). */
void
_cu_seg_panel_flush_form_save (CuSegPanel *self)
{
  if (self->form_save_source == 0)
    return;
  if (self->editor == NULL)
    {
      g_clear_handle_id (&self->form_save_source, g_source_remove);
      return;
    }
  g_clear_handle_id (&self->form_save_source, g_source_remove);
  _cu_seg_panel_save_now (self, "Form");
}

static void
form_changed (CuSegPanel *self)
{
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  const CuLabel *l;
  g_autoptr(CuLabel) copy = NULL;
  g_autofree char *json = NULL;

  if (self->updating || map == NULL || self->form == NULL)
    return;
  l = cu_label_map_get_label (map, cu_seg_editor_get_label (self->editor));
  if (l == NULL || !cu_seg_editor_get_editable (self->editor))
    return;
  json = answers_from_widgets (self);
  if (g_strcmp0 (json, l->form_json) == 0)
    return;
  copy = cu_label_copy (l);
  g_free (copy->form_json);
  copy->form_json = g_steal_pointer (&json);
  cu_label_map_set_label (map, copy);
  /* A reader fills several fields in a row: one saved version for them, FORM_SAVE_DELAY_S
   * after the last change (or with the next stroke, or when the series closes), not one per
   * field. */
  cu_seg_editor_labels_edited (self->editor);
  g_clear_handle_id (&self->form_save_source, g_source_remove);
  self->form_save_source = g_timeout_add_seconds (FORM_SAVE_DELAY_S, form_save_cb, self);
}

static void
dropdown_changed_cb (GObject *object, GParamSpec *pspec, CuSegPanel *self)
{
  form_changed (self);
}

static void
entry_activate_cb (GtkEntry *entry, CuSegPanel *self)
{
  form_changed (self);
}

static void
entry_focus_leave_cb (GtkEventControllerFocus *focus, CuSegPanel *self)
{
  form_changed (self);
}

static GtkWidget *
field_widget (CuSegPanel *self, const CuFormField *f)
{
  GtkWidget *w;

  if (f->type == CU_FORM_TEXT)
    {
      GtkEventController *focus = gtk_event_controller_focus_new ();
      w = gtk_entry_new ();
      gtk_entry_set_placeholder_text (GTK_ENTRY (w), _("Free text"));
      g_signal_connect (w, "activate", G_CALLBACK (entry_activate_cb), self);
      g_signal_connect (focus, "leave", G_CALLBACK (entry_focus_leave_cb), self);
      gtk_widget_add_controller (w, focus);
      return w;
    }
  {
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
    g_ptr_array_add (items, g_strdup ("—"));
    if (f->type == CU_FORM_INTEGER)
      for (int v = f->min; v <= f->max && v - f->min < 20; v++)
        g_ptr_array_add (items, g_strdup_printf ("%d", v));
    else
      for (guint o = 0; f->option_labels != NULL && f->option_labels[o] != NULL; o++)
        g_ptr_array_add (items, g_strdup (f->option_labels[o]));
    g_ptr_array_add (items, NULL);
    w = gtk_drop_down_new_from_strings ((const char *const *) items->pdata);
    g_signal_connect (w, "notify::selected", G_CALLBACK (dropdown_changed_cb), self);
  }
  return w;
}

void
_cu_seg_panel_update_form (CuSegPanel *self)
{
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  const CuLabel *l = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *answers = NULL;
  int suggested;

  if (map != NULL && self->editor != NULL)
    l = cu_label_map_get_label (map, cu_seg_editor_get_label (self->editor));
  gtk_widget_set_visible (self->form_box, l != NULL && self->form != NULL && cu_seg_label_is_lesion (l));
  if (l == NULL || self->form == NULL)
    return;
  {
    g_autofree char *title = g_strdup_printf (_("%s — %s"), cu_seg_label_get_display_name (l), cu_seg_form_get_title (self->form));
    gtk_label_set_label (self->form_title, title);
  }
  if (l->form_json != NULL)
    root = json_from_string (l->form_json, NULL);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    answers = json_node_get_object (root);

  self->updating = TRUE;
  for (guint i = 0; i < self->form_widgets->len; i++)
    {
      const CuFormField *f = cu_seg_form_get_field (self->form, i);
      GtkWidget *w = self->form_widgets->pdata[i];
      JsonNode *n = answers != NULL ? json_object_get_member (answers, f->id) : NULL;

      gtk_widget_set_sensitive (w, cu_seg_editor_get_editable (self->editor));
      if (f->type == CU_FORM_TEXT)
        {
          gtk_editable_set_text (GTK_EDITABLE (w),
                                 n != NULL && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
                                 ? json_node_get_string (n) : "");
          continue;
        }
      {
        guint sel = 0;
        if (n != NULL && JSON_NODE_HOLDS_VALUE (n))
          {
            if (f->type == CU_FORM_INTEGER && json_node_get_value_type (n) == G_TYPE_INT64)
              sel = (guint) (json_node_get_int (n) - f->min + 1);
            else if (f->type == CU_FORM_CHOICE && json_node_get_value_type (n) == G_TYPE_STRING
                     && f->option_values != NULL)
              for (guint o = 0; f->option_values[o] != NULL; o++)
                if (g_strcmp0 (f->option_values[o], json_node_get_string (n)) == 0)
                  sel = o + 1;
          }
        gtk_drop_down_set_selected (GTK_DROP_DOWN (w), sel);
      }
    }
  self->updating = FALSE;

  suggested = cu_seg_form_suggest (self->form, l->form_json);
  if (suggested > 0)
    {
      g_autofree char *text = NULL;
      int given = cu_seg_form_get_score (self->form, l->form_json);
      /* TRANSLATORS: the overall category the PI-RADS v2.1 rules give for the scores entered */
      text = given > 0 && given != suggested
             ? g_strdup_printf (_("The PI-RADS v2.1 rules give category %d for these scores (entered: %d)."), suggested, given)
             : g_strdup_printf (_("The PI-RADS v2.1 rules give category %d for these scores."), suggested);
      gtk_label_set_label (self->suggestion, text);
      gtk_widget_set_visible (GTK_WIDGET (self->suggestion), TRUE);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->suggestion), FALSE);
}

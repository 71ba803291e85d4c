/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-panel.c — segmentation side panel (cu-seg-panel.h).
 *
 * Built in code rather than from a template: most of it (label rows, the lesion form) is
 * generated from data — the label table and the declarative form — so a template would hold
 * little but empty boxes. Every command is a "seg.*" widget action, which the buttons name and
 * the shortcuts (Ctrl+Z, Ctrl+Shift+Z) trigger.
 *
 * Saving: the editor emits "stroke-finished" after every stroke (and after label or form
 * edits); the panel commits it to the reader's CuSegSession, whose own thread compresses and
 * saves it as a new version (coalescing strokes that come faster than saves), so a stroke
 * never waits for the disk or for another program holding the workspace's write lock. The UI
 * thread writes nothing to the workspace: the DICOM SEG / NIfTI export, the agreement and
 * "Record as Final" run in GTasks with connections of their own, and the panel shows them as
 * busy meanwhile.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-panel-private.h"
#include "cu-scroll-guard.h"
#include "cu-seg-editor.h"

#define SETTINGS_SCHEMA "io.github.curata.Curata"

G_DEFINE_FINAL_TYPE (CuSegPanel, cu_seg_panel, GTK_TYPE_WIDGET)

static const struct
{
  CuToolKind kind;
  const char *label;     /* N_() */
  const char *tooltip;   /* N_() */
} tool_buttons[] = {
  { CU_TOOL_NAVIGATE, N_("Navigate"), N_("Crosshair and window/level with the left button") },
  { CU_TOOL_BRUSH, N_("Brush"), N_("Paint the active label (disc, or sphere in 3D)") },
  { CU_TOOL_ERASER, N_("Eraser"), N_("Erase labels under the brush") },
  { CU_TOOL_CONTOUR, N_("Contour"), N_("Draw a closed contour: its inside is filled") },
  { CU_TOOL_GROW, N_("Grow"), N_("Click a seed: region growing in the slice, or through all slices with “Grow in 3D” (Shift-click: the other way)") },
  { CU_TOOL_RULER, N_("Ruler"), N_("Measure a distance in millimetres") },
  { CU_TOOL_ELLIPSE, N_("Ellipse"), N_("Drag from the centre: an ellipse ROI with the statistics of its pixels (Shift: a circle), kept with the series") },
};

/* ---- helpers ------------------------------------------------------------------------- */

CuLabelMap *
_cu_seg_panel_current_map (CuSegPanel *self)
{
  return self->editor != NULL ? cu_seg_editor_get_map (self->editor) : NULL;
}

void
_cu_seg_panel_set_status (CuSegPanel *self, const char *text, gboolean error)
{
  gtk_label_set_label (self->status, text);
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status), "error");
}

static void
count_labels (CuSegPanel *self)
{
  CuLabelMap *map = _cu_seg_panel_current_map (self);

  memset (self->counts, 0, sizeof self->counts);
  if (map != NULL)
    cu_label_map_count_all (map, self->counts);
}

static void
swatch_draw (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data)
{
  guint32 rgb = GPOINTER_TO_UINT (data);

  cairo_arc (cr, width / 2.0, height / 2.0, MIN (width, height) / 2.0 - 1, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.35);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
}

static void schedule_measurements (CuSegPanel *self);
static void update_readers (CuSegPanel *self);
static void set_sensitivity (CuSegPanel *self);
static void rebuild_labels (CuSegPanel *self);

/* ---- label list ---------------------------------------------------------------------- */

/* Combine offers every label of the map as the other operand, once per operation; the active
 * label is the one changed (cu_seg_logical), as in curata-cli seg edit "logical OP T S". */
static void
rebuild_combine_menu (CuSegPanel *self)
{
  static const struct { const char *op; const char *title; } ops[] = {
    { "union", N_("Add to the Active Label") },
    { "intersect", N_("Keep Only the Overlap With") },
    { "subtract", N_("Subtract From the Active Label") },
  };
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  g_autoptr (GMenu) menu = g_menu_new ();

  for (guint k = 0; k < G_N_ELEMENTS (ops); k++)
    {
      g_autoptr (GMenu) section = g_menu_new ();

      for (guint i = 0; map != NULL && i < cu_label_map_get_n_labels (map); i++)
        {
          const CuLabel *l = cu_label_map_get_label_at (map, i);
          g_autoptr (GMenuItem) item = g_menu_item_new (l->name, NULL);

          g_menu_item_set_action_and_target (item, "seg.combine", "(sy)", ops[k].op, l->value);
          g_menu_append_item (section, item);
        }
      g_menu_append_section (menu, _(ops[k].title), G_MENU_MODEL (section));
    }
  gtk_menu_button_set_menu_model (self->combine_button, G_MENU_MODEL (menu));
}

static void
rebuild_labels (CuSegPanel *self)
{
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  GtkListBoxRow *old;
  guint8 active = self->editor != NULL ? cu_seg_editor_get_label (self->editor) : 0;

  self->updating = TRUE;
  /* rows only: the placeholder is a child of the list too, and must stay */
  while ((old = gtk_list_box_get_row_at_index (self->label_list, 0)) != NULL)
    gtk_list_box_remove (self->label_list, GTK_WIDGET (old));
  count_labels (self);
  for (guint i = 0; map != NULL && i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
      GtkWidget *swatch = gtk_drawing_area_new ();
      GtkWidget *name = gtk_label_new (cu_seg_label_get_display_name (l));
      g_autofree char *ml = g_strdup_printf (_("%.2f mL"), self->counts[l->value] * cu_label_map_voxel_ml (map));
      GtkWidget *volume = gtk_label_new (ml);
      guint32 rgb = ((guint32) l->rgb[0] << 16) | ((guint32) l->rgb[1] << 8) | l->rgb[2];

      gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (swatch), 14);
      gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (swatch), 14);
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (swatch), swatch_draw, GUINT_TO_POINTER (rgb), NULL);
      gtk_widget_set_valign (swatch, GTK_ALIGN_CENTER);
      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
      gtk_widget_set_hexpand (name, TRUE);
      gtk_widget_set_tooltip_text (name, l->type_meaning != NULL ? l->type_meaning : l->name);
      gtk_widget_add_css_class (volume, "dim-label");
      gtk_widget_add_css_class (volume, "numeric");
      gtk_box_append (GTK_BOX (box), swatch);
      gtk_box_append (GTK_BOX (box), name);
      gtk_box_append (GTK_BOX (box), volume);
      gtk_widget_set_margin_top (box, 6);
      gtk_widget_set_margin_bottom (box, 6);
      gtk_widget_set_margin_start (box, 8);
      gtk_widget_set_margin_end (box, 8);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      g_object_set_data (G_OBJECT (row), "label-value", GUINT_TO_POINTER (l->value));
      gtk_list_box_append (self->label_list, row);
      if (l->value == active)
        gtk_list_box_select_row (self->label_list, GTK_LIST_BOX_ROW (row));
    }
  self->updating = FALSE;
  rebuild_combine_menu (self);
  _cu_seg_panel_update_form (self);
  schedule_measurements (self);
}

/* The lesion list jumps: choosing a label moves the views to its centre. */
static void
jump_to_label (CuSegPanel *self)
{
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  guint8 value = cu_seg_editor_get_label (self->editor);
  double ijk[3], lps[3];

  if (map == NULL || self->state == NULL || self->counts[value] == 0
      || !cu_label_map_centroid (map, value, ijk))
    return;
  /* the slice of the centre, rounded, so the lesion is in the slice shown */
  ijk[2] = round (ijk[2]);
  cu_volume_index_to_lps (map->geometry, ijk, lps);
  cu_viewer_state_set_cursor (self->state, lps);
}

static void
label_selected_cb (GtkListBox *box, GtkListBoxRow *row, CuSegPanel *self)
{
  if (self->updating || row == NULL || self->editor == NULL)
    return;
  cu_seg_editor_set_label (self->editor, (guint8) GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "label-value")));
  _cu_seg_panel_update_form (self);
  schedule_measurements (self);
  jump_to_label (self);
}

/* ---- measurements -------------------------------------------------------------------- */

static gboolean
update_measurements (gpointer data)
{
  CuSegPanel *self = data;
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  CuSegMeasure m;
  CuSegRoiStats s;
  double a[3], b[3], mm;
  GString *text = g_string_new (NULL);

  self->measure_source = 0;
  if (map != NULL && cu_seg_measure (map, cu_seg_editor_get_label (self->editor), &m))
    {
      /* %lu, not G_GSIZE_FORMAT: xgettext cannot see through the macro, and the string would
       * never be translated. */
      g_string_append_printf (text, ngettext ("Volume %.2f mL (%lu voxel)\n", "Volume %.2f mL (%lu voxels)\n",
                                              m.n_voxels),
                              m.volume_ml, (unsigned long) m.n_voxels);
      g_string_append_printf (text, _("Longest in-plane diameter %.1f mm (slice %d)\n"),
                              m.longest_diameter_mm, m.diameter_slice + 1);
      g_string_append_printf (text, ngettext ("%u connected part", "%u connected parts", m.n_components),
                              m.n_components);
      if (self->volume != NULL && cu_seg_roi_stats (map, m.value, self->volume, 0, &s))
        g_string_append_printf (text, _("\nMean %.1f ± %.1f, median %.1f, range %.1f – %.1f"),
                                s.mean, s.std, s.median, s.min, s.max);
    }
  else
    g_string_append (text, _("The active label is empty."));
  gtk_label_set_label (self->measure_label, text->str);
  g_string_free (text, TRUE);

  if (self->editor != NULL && cu_seg_editor_get_ruler (self->editor, a, b, &mm))
    {
      g_autofree char *r = g_strdup_printf (_("Ruler: %.1f mm"), mm);
      gtk_label_set_label (self->ruler_label, r);
      gtk_widget_set_visible (GTK_WIDGET (self->ruler_label), TRUE);
    }
  else
    gtk_widget_set_visible (GTK_WIDGET (self->ruler_label), FALSE);
  return G_SOURCE_REMOVE;
}

static void
schedule_measurements (CuSegPanel *self)
{
  /* Measuring walks the whole map: once the pointer rests, not on every motion event. */
  if (self->measure_source == 0)
    self->measure_source = g_timeout_add (150, update_measurements, self);
}

/* ---- saving -------------------------------------------------------------------------- */

void
_cu_seg_panel_save_now (CuSegPanel *self, const char *what)
{
  if (self->session == NULL || !cu_seg_editor_get_editable (self->editor))
    return;
  cu_seg_session_commit (self->session);
}

static void
session_saved_cb (CuSegSession *session, int version, int merged_with, CuSegPanel *self)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *clock = g_date_time_format (now, "%H:%M:%S");
  g_autofree char *text = NULL;

  self->saved_version = version;
  if (merged_with > 0)
    text = g_strdup_printf (_("Saved version %d at %s, merged with version %d saved by another session"),
                            version, clock, merged_with);
  else
    text = g_strdup_printf (_("Saved version %d at %s"), version, clock);
  _cu_seg_panel_set_status (self, text, FALSE);
  update_readers (self);
}

static void
session_failed_cb (CuSegSession *session, const GError *error, CuSegPanel *self)
{
  /* The strokes stay in the session, which tries again (a locked workspace) or saves them
   * with the next stroke. */
  g_autofree char *text = g_strdup_printf (_("Not saved yet: %s"), error->message);
  _cu_seg_panel_set_status (self, text, TRUE);
}

static void
session_merged_cb (CuSegSession *session, CuSegPanel *self)
{
  rebuild_labels (self);
  cu_seg_editor_changed (self->editor);
}

static void
stroke_finished_cb (CuSegEditor *editor, const char *name, CuSegPanel *self)
{
  _cu_seg_panel_save_now (self, name);
  rebuild_labels (self);
}

static void
editor_changed_cb (CuSegEditor *editor, CuSegPanel *self)
{
  schedule_measurements (self);
}

static void
history_changed_cb (CuSegEditor *editor, CuSegPanel *self)
{
  CuSegHistory *h = cu_seg_editor_get_history (editor);
  gboolean editable = cu_seg_editor_get_editable (editor);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seg.undo", editable && h != NULL && cu_seg_history_can_undo (h));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seg.redo", editable && h != NULL && cu_seg_history_can_redo (h));
}

/* ---- loading ------------------------------------------------------------------------- */

static void
add_label_from_term (CuSegPanel *self, const CuSegTerm *term)
{
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  guint8 value;
  g_autoptr(CuLabel) l = NULL;
  g_autofree char *name = NULL;

  if (map == NULL || (value = cu_label_map_next_free_value (map)) == 0)
    return;
  if (g_strcmp0 (term->group, "lesion") == 0)
    {
      int n = 1;
      for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
        n += cu_seg_label_is_lesion (cu_label_map_get_label_at (map, i));
      /* TRANSLATORS: name of a new lesion label, numbered */
      name = g_strdup_printf (_("Lesion %d"), n);
      l = cu_label_new (value, name, NULL);
      cu_seg_term_apply (term, l, FALSE);
      /* lesions keep distinct palette colours; the term's own colour for the first */
      if (n == 1)
        memcpy (l->rgb, term->rgb, 3);
    }
  else
    {
      l = cu_label_new (value, cu_seg_term_get_display_name (term), NULL);
      cu_seg_term_apply (term, l, TRUE);
    }
  cu_label_map_set_label (map, l);
  cu_seg_editor_set_label (self->editor, value);
  cu_seg_editor_labels_changed (self->editor);
}

static void
drop_session (CuSegPanel *self)
{
  if (self->session == NULL)
    return;
  _cu_seg_panel_flush_form_save (self);
  g_signal_handlers_disconnect_by_data (self->session, self);
  /* Closing the session saves what it still holds. */
  g_clear_object (&self->session);
}

static void
load_reading (CuSegPanel *self)
{
  g_autoptr(GError) error = NULL;
  const CuSegVersionInfo *info;
  gboolean replaced = FALSE;
  GMainContext *context = g_main_context_get_thread_default ();

  self->saved_version = 0;
  cu_measure_list_set_series (self->measure_list, self->store, self->volume ? self->series_uid : NULL,
                              self->reader);
  cu_seg_editor_set_map (self->editor, NULL, NULL);
  drop_session (self);
  if (self->store == NULL || self->series_uid == NULL || self->volume == NULL)
    {
      rebuild_labels (self);
      return;
    }
  self->session = cu_seg_session_open (self->store, self->series_uid, self->reader, self->volume,
                                       context != NULL ? context : g_main_context_default (),
                                       &replaced, &error);
  if (self->session == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Could not load the segmentation: %s"), error->message);
      _cu_seg_panel_set_status (self, text, TRUE);
      rebuild_labels (self);
      return;
    }
  g_signal_connect (self->session, "saved", G_CALLBACK (session_saved_cb), self);
  g_signal_connect (self->session, "save-failed", G_CALLBACK (session_failed_cb), self);
  g_signal_connect (self->session, "merged", G_CALLBACK (session_merged_cb), self);
  info = cu_seg_session_get_opened (self->session);
  if (replaced)
    _cu_seg_panel_set_status (self, _("The saved segmentation is on another grid; starting a new one"), TRUE);
  else if (info == NULL)
    _cu_seg_panel_set_status (self, _("New segmentation: every stroke is saved"), FALSE);
  else
    {
      g_autoptr(GDateTime) saved = g_date_time_new_from_iso8601 (info->time, NULL);
      g_autoptr(GDateTime) local = saved != NULL ? g_date_time_to_local (saved) : NULL;
      g_autofree char *when = local != NULL ? g_date_time_format (local, "%x %X") : g_strdup (info->time);
      g_autofree char *text = g_strdup_printf (_("Version %d, saved %s"), info->version, when);
      self->saved_version = info->version;
      _cu_seg_panel_set_status (self, text, FALSE);
    }
  cu_seg_editor_set_session (self->editor, self->session, self->volume);
  /* the editor's tolerance for this image (from its noise) */
  self->updating = TRUE;
  gtk_spin_button_set_value (self->tolerance_spin, cu_seg_editor_get_tolerance (self->editor));
  self->updating = FALSE;
  if (cu_label_map_get_n_labels (_cu_seg_panel_current_map (self)) > 0)
    cu_seg_editor_set_label (self->editor, cu_label_map_get_label_at (_cu_seg_panel_current_map (self), 0)->value);
  else if (cu_seg_editor_get_editable (self->editor))
    {
      /* A first lesion label, so that a reader can start painting at once. */
      self->updating = TRUE;
      add_label_from_term (self, cu_seg_terminology_find ("lesion"));
      self->updating = FALSE;
    }
  rebuild_labels (self);
  history_changed_cb (self->editor, self);
  update_readers (self);
}

static void
reader_changed (CuSegPanel *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->reader_entry));
  g_autofree char *name = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (*name == '\0')
    {
      g_free (name);
      name = g_strdup (cu_store_seg_default_reader ());
    }
  if (!cu_store_seg_check_reader (name, CU_SEG_KIND_READING, NULL) || g_strcmp0 (name, self->reader) == 0)
    return;
  g_free (self->reader);
  self->reader = g_steal_pointer (&name);
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "reader-name", self->reader);
  /* Blind double reading: each reader sees only their own segmentation. */
  load_reading (self);
}

static void
reader_activate_cb (GtkEntry *entry, CuSegPanel *self)
{
  reader_changed (self);
}

/* ---- actions ------------------------------------------------------------------------- */

static void
tool_toggled_cb (GtkToggleButton *button, CuSegPanel *self)
{
  if (!gtk_toggle_button_get_active (button) || self->editor == NULL)
    return;
  cu_seg_editor_set_tool (self->editor, GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "tool")));
}

static void
brush_settings_cb (CuSegPanel *self)
{
  if (self->editor == NULL || self->updating)
    return;
  cu_seg_editor_set_radius (self->editor, gtk_spin_button_get_value (self->radius_spin));
  cu_seg_editor_set_sphere (self->editor, gtk_check_button_get_active (self->sphere_check));
  cu_seg_editor_set_threshold (self->editor, gtk_check_button_get_active (self->limit_check),
                               gtk_spin_button_get_value (self->low_spin),
                               gtk_spin_button_get_value (self->high_spin));
  cu_seg_editor_set_tolerance (self->editor, gtk_spin_button_get_value (self->tolerance_spin));
  cu_seg_editor_set_grow_3d (self->editor, gtk_check_button_get_active (self->grow_3d_check));
  cu_seg_editor_set_overlap (self->editor, (CuSegOverlap) gtk_drop_down_get_selected (self->overlap_dropdown));
  gtk_widget_set_sensitive (GTK_WIDGET (self->low_spin), gtk_check_button_get_active (self->limit_check));
  gtk_widget_set_sensitive (GTK_WIDGET (self->high_spin), gtk_check_button_get_active (self->limit_check));
}

static void
overlay_settings_cb (CuSegPanel *self)
{
  if (self->editor == NULL)
    return;
  cu_seg_editor_set_opacity (self->editor, gtk_range_get_value (GTK_RANGE (self->opacity_scale)));
  cu_seg_editor_set_outline (self->editor, gtk_check_button_get_active (self->outline_check));
}

static void
undo_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  if (cu_seg_editor_get_editable (self->editor))
    cu_seg_editor_undo (self->editor);
}

static void
redo_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  if (cu_seg_editor_get_editable (self->editor))
    cu_seg_editor_redo (self->editor);
}

static void
add_label_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  const CuSegTerm *term = cu_seg_terminology_find (g_variant_get_string (param, NULL));

  if (term != NULL && cu_seg_editor_get_editable (self->editor))
    add_label_from_term (self, term);
}

static void
remove_label_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  guint8 value = cu_seg_editor_get_label (self->editor);

  if (map == NULL || !cu_seg_editor_get_editable (self->editor) || cu_label_map_get_label (map, value) == NULL)
    return;
  /* The voxels go as one undoable stroke; the table entry with them. */
  cu_seg_editor_begin_stroke (self->editor, "Remove label");
  cu_label_map_touch_all (map);
  cu_label_map_remove_label (map, value);
  cu_seg_editor_end_stroke (self->editor);
  if (cu_label_map_get_n_labels (map) > 0)
    cu_seg_editor_set_label (self->editor, cu_label_map_get_label_at (map, 0)->value);
  cu_seg_editor_labels_changed (self->editor);
}

static void
combine_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  guint8 value = cu_seg_editor_get_label (self->editor);
  g_autoptr (GError) error = NULL;
  const char *op_name = NULL;
  guint8 source = 0;
  CuSegLogicalOp op;
  gssize changed;

  g_variant_get (param, "(&sy)", &op_name, &source);
  if (map == NULL || value == 0 || !cu_seg_editor_get_editable (self->editor)
      || !cu_seg_logical_op_from_string (op_name, &op))
    return;
  if (source == value)
    {
      _cu_seg_panel_set_status (self, _("Choose a label other than the active one."), TRUE);
      return;
    }
  cu_seg_editor_begin_stroke (self->editor, name);
  changed = cu_seg_logical (map, value, map, source, op, &error);
  cu_seg_editor_end_stroke (self->editor);
  if (changed < 0)
    _cu_seg_panel_set_status (self, error->message, TRUE);
  else
    {
      g_autofree char *text = g_strdup_printf (ngettext ("%ld voxel changed", "%ld voxels changed",
                                                         (unsigned long) changed),
                                               (long) changed);
      _cu_seg_panel_set_status (self, text, FALSE);
    }
}

static void
operation_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  CuLabelMap *map = _cu_seg_panel_current_map (self);
  guint8 value = cu_seg_editor_get_label (self->editor);
  g_autoptr(GError) error = NULL;

  if (map == NULL || value == 0 || !cu_seg_editor_get_editable (self->editor))
    return;
  cu_seg_editor_begin_stroke (self->editor, name);
  if (g_str_equal (name, "seg.interpolate"))
    cu_seg_interpolate (map, value, 2, NULL, &error);
  else if (g_str_equal (name, "seg.islands"))
    {
      /* islands under 5 mm³ or 10 voxels, whichever is more */
      gsize min = MAX (10, (gsize) ceil (0.005 / cu_label_map_voxel_ml (map)));
      cu_seg_remove_islands (map, value, min);
    }
  else if (g_str_equal (name, "seg.largest"))
    cu_seg_keep_largest (map, value);
  else if (g_str_equal (name, "seg.smooth"))
    cu_seg_smooth (map, value, 1.0, &error);
  cu_seg_editor_end_stroke (self->editor);
  if (error != NULL)
    _cu_seg_panel_set_status (self, error->message, TRUE);
}

/* ---- work off the UI thread ---------------------------------------------------------- */

/* Each task opens a workspace connection of its own: the window's connection belongs to the UI
 * thread, and a write there could wait seconds for another program's lock. */
typedef struct
{
  char *workspace, *series_uid, *reader;
  int version;
  CuLabelMap *map;          /* a copy of what is on screen */
  CuSegFormat format;
  char *path;
  CuSegForm *form;
  char *other;              /* agreement: the other reader */
} SegTask;

static void
seg_task_free (SegTask *t)
{
  g_free (t->workspace);
  g_free (t->series_uid);
  g_free (t->reader);
  g_free (t->path);
  g_free (t->other);
  g_clear_pointer (&t->map, cu_label_map_unref);
  g_clear_pointer (&t->form, cu_seg_form_free);
  g_free (t);
}

static SegTask *
seg_task_new (CuSegPanel *self)
{
  SegTask *t = g_new0 (SegTask, 1);

  t->workspace = g_strdup (cu_store_get_path (self->store));
  t->series_uid = g_strdup (self->series_uid);
  t->reader = g_strdup (self->reader);
  t->version = self->saved_version;
  t->map = cu_label_map_copy (_cu_seg_panel_current_map (self));
  return t;
}

static void
set_busy (CuSegPanel *self, gboolean busy, const char *what)
{
  if (busy)
    self->busy++;
  else if (self->busy > 0)
    self->busy--;
  if (busy && what != NULL)
    _cu_seg_panel_set_status (self, what, FALSE);
  set_sensitivity (self);
}

/* The panel may be gone when a task ends (the window was closed). */
static CuSegPanel *
task_panel (GObject *source, GAsyncResult *result)
{
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));

  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    return NULL;
  return CU_SEG_PANEL (source);
}

static void
export_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SegTask *t = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = cu_store_open (t->workspace, &error);

  if (store == NULL
      || !cu_store_seg_export_map (store, t->series_uid, t->reader, t->version, t->map, t->format,
                                   t->path, cancellable, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  CuSegPanel *self = task_panel (source, result);
  g_autoptr(GError) error = NULL;
  SegTask *t = g_task_get_task_data (G_TASK (result));

  if (self == NULL)
    return;
  set_busy (self, FALSE, NULL);
  if (g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = g_strdup_printf (_("Exported %s (with .json and .csv beside it)"), t->path);
      _cu_seg_panel_set_status (self, text, FALSE);
    }
  else
    {
      g_autofree char *text = g_strdup_printf (_("Export failed: %s"), error->message);
      _cu_seg_panel_set_status (self, text, TRUE);
    }
}

/* Export what is on screen to path, off the UI thread. */
static void
start_export (CuSegPanel *self, CuSegFormat format, const char *path)
{
  g_autoptr(GTask) task = NULL;
  SegTask *t;

  if (_cu_seg_panel_current_map (self) == NULL || self->store == NULL)
    return;
  t = seg_task_new (self);
  t->format = format;
  t->path = g_strdup (path);
  task = g_task_new (self, self->cancellable, export_done_cb, NULL);
  g_task_set_source_tag (task, start_export);
  g_task_set_task_data (task, t, (GDestroyNotify) seg_task_free);
  set_busy (self, TRUE, _("Exporting…"));
  g_task_run_in_thread (task, export_thread);
}

static void
export_response_cb (GtkNativeDialog *dialog, int response, CuSegPanel *self)
{
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  CuSegFormat format = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dialog), "format"));

  if (response == GTK_RESPONSE_ACCEPT && (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL
      && (path = g_file_get_path (file)) != NULL && _cu_seg_panel_current_map (self) != NULL)
    {
      if (format == CU_SEG_FORMAT_NIFTI && !g_str_has_suffix (path, ".nii") && !g_str_has_suffix (path, ".nii.gz"))
        {
          char *with = g_strconcat (path, ".nii.gz", NULL);
          g_free (path);
          path = with;
        }
      start_export (self, format, path);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
export_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  const char *kind = g_variant_get_string (param, NULL);
  CuSegFormat format;
  GtkFileChooserNative *chooser;
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autofree char *suggested = NULL;

  if (!cu_seg_format_from_string (kind, &format) || _cu_seg_panel_current_map (self) == NULL || self->store == NULL)
    return;
  chooser = gtk_file_chooser_native_new (format == CU_SEG_FORMAT_NIFTI ? _("Export NIfTI Label Map")
                                                                      : _("Export DICOM Segmentation"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  suggested = g_strdup_printf ("%s-%s%s", self->reader, "segmentation",
                               format == CU_SEG_FORMAT_NIFTI ? ".nii.gz" : ".dcm");
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), suggested);
  g_object_set_data (G_OBJECT (chooser), "format", GINT_TO_POINTER (format));
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ---- double reading ------------------------------------------------------------------ */

static void
update_readers (CuSegPanel *self)
{
  g_autoptr(GPtrArray) list = NULL;
  GString *text = g_string_new (NULL);

  if (self->store != NULL && self->series_uid != NULL)
    list = cu_store_seg_list (self->store, self->series_uid, NULL, TRUE, NULL);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const CuSegVersionInfo *v = list->pdata[i];
      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append_printf (text, "%s (v%d%s)", v->reader, v->version,
                              v->kind == CU_SEG_KIND_FINAL ? _(", final") : "");
    }
  if (text->len == 0)
    g_string_append (text, _("No saved readings yet."));
  gtk_label_set_label (self->readers_label, text->str);
  g_string_free (text, TRUE);
}

/* The other reader to compare with: the first with a reading of this series who is neither
 * this reader nor the final version. */
static char *
other_reader (CuSegPanel *self)
{
  g_autoptr(GPtrArray) list = cu_store_seg_list (self->store, self->series_uid, NULL, TRUE, NULL);

  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const CuSegVersionInfo *v = list->pdata[i];
      if (g_strcmp0 (v->reader, self->reader) != 0 && v->kind != CU_SEG_KIND_FINAL)
        return g_strdup (v->reader);
    }
  return NULL;
}

static void
agreement_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SegTask *t = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = cu_store_open (t->workspace, &error);
  g_autoptr(CuLabelMap) theirs = NULL;
  CuSegAgreement *ag = NULL;

  if (store == NULL
      || (theirs = cu_store_seg_load (store, t->series_uid, t->other, 0, NULL, &error)) == NULL
      || (ag = cu_seg_agreement_compute (t->map, theirs, t->form, &error)) == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, ag, (GDestroyNotify) cu_seg_agreement_free);
}

static void
show_agreement (CuSegPanel *self, const char *title, const char *body)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, title, body);

  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
agreement_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  CuSegPanel *self = task_panel (source, result);
  SegTask *t = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegAgreement) ag = NULL;
  g_autofree char *title = NULL;
  GString *body = g_string_new (NULL);

  if (self == NULL)
    {
      g_string_free (body, TRUE);
      return;
    }
  set_busy (self, FALSE, NULL);
  _cu_seg_panel_set_status (self, "", FALSE);
  title = g_strdup_printf (_("Agreement with %s"), t->other);
  ag = g_task_propagate_pointer (G_TASK (result), &error);
  if (ag == NULL)
    g_string_append (body, error->message);
  else
    {
      for (guint i = 0; i < ag->labels->len; i++)
        {
          const CuSegLabelAgreement *la = &g_array_index (ag->labels, CuSegLabelAgreement, i);
          g_autofree char *hd = isfinite (la->hd95_mm) ? g_strdup_printf (_("%.1f mm"), la->hd95_mm) : g_strdup ("—");
          g_string_append_printf (body, _("%s: Dice %.2f, HD95 %s\n"), la->name, la->dice, hd);
        }
      g_string_append_printf (body, _("Lesions matched: %u of %u"), ag->n_matched, ag->lesions->len);
      if (isfinite (ag->kappa))
        g_string_append_printf (body, ngettext ("; Cohen’s κ on PI-RADS categories %.2f (%u lesion)",
                                                "; Cohen’s κ on PI-RADS categories %.2f (%u lesions)",
                                                ag->n_scored), ag->kappa, ag->n_scored);
    }
  show_agreement (self, title, body->str);
  g_string_free (body, TRUE);
}

/* HD95 on large lesions takes seconds: computed in a task, the panel busy meanwhile. */
static void
agreement_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  g_autoptr(GTask) task = NULL;
  g_autofree char *other = NULL;
  SegTask *t;

  if (_cu_seg_panel_current_map (self) == NULL || self->store == NULL || self->busy > 0)
    return;
  other = other_reader (self);
  if (other == NULL)
    {
      show_agreement (self, _("Agreement"), _("No other reader has segmented this series yet."));
      return;
    }
  t = seg_task_new (self);
  t->other = g_steal_pointer (&other);
  t->form = cu_seg_form_load ("pirads-v2.1", NULL);
  task = g_task_new (self, self->cancellable, agreement_done_cb, NULL);
  g_task_set_source_tag (task, agreement_action);
  g_task_set_task_data (task, t, (GDestroyNotify) seg_task_free);
  set_busy (self, TRUE, _("Computing the agreement…"));
  g_task_run_in_thread (task, agreement_thread);
}

static void
finalize_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SegTask *t = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuStore) store = cu_store_open (t->workspace, &error);
  /* TRANSLATORS: recorded with the adjudicated version; %s is the reader who adjudicated */
  g_autofree char *note = g_strdup_printf (_("adjudicated by %s"), t->reader);
  int version = -1;

  if (store != NULL)
    version = cu_store_seg_save (store, t->series_uid, CU_STORE_SEG_FINAL, CU_SEG_KIND_FINAL,
                                 t->map, note, &error);
  if (version < 0)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_int (task, version);
}

static void
finalize_done_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  CuSegPanel *self = task_panel (source, result);
  g_autoptr(GError) error = NULL;
  gssize version;

  if (self == NULL)
    return;
  set_busy (self, FALSE, NULL);
  version = g_task_propagate_int (G_TASK (result), &error);
  if (version < 0)
    _cu_seg_panel_set_status (self, error->message, TRUE);
  else
    {
      g_autofree char *text = g_strdup_printf (_("Recorded as the final version %d"), (int) version);
      _cu_seg_panel_set_status (self, text, FALSE);
    }
  update_readers (self);
}

static void
finalize_action (GtkWidget *widget, const char *name, GVariant *param)
{
  CuSegPanel *self = CU_SEG_PANEL (widget);
  g_autoptr(GTask) task = NULL;

  if (_cu_seg_panel_current_map (self) == NULL || self->store == NULL || !cu_seg_editor_get_editable (self->editor)
      || self->busy > 0)
    return;
  task = g_task_new (self, self->cancellable, finalize_done_cb, NULL);
  g_task_set_source_tag (task, finalize_action);
  g_task_set_task_data (task, seg_task_new (self), (GDestroyNotify) seg_task_free);
  set_busy (self, TRUE, _("Recording the final version…"));
  g_task_run_in_thread (task, finalize_thread);
}

/* ---- construction -------------------------------------------------------------------- */

static GtkWidget *
section (GtkWidget *box, const char *title)
{
  GtkWidget *label = gtk_label_new (title);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_top (label, 12);
  gtk_box_append (GTK_BOX (box), label);
  return label;
}

static GtkWidget *
action_button (const char *label, const char *action, const char *tooltip)
{
  GtkWidget *b = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (b), action);
  if (tooltip != NULL)
    gtk_widget_set_tooltip_text (b, tooltip);
  return b;
}

static GMenuModel *
terminology_menu (void)
{
  GMenu *menu = g_menu_new ();
  GMenu *lesions = g_menu_new (), *anatomy = g_menu_new ();
  guint n;
  const CuSegTerm *terms = cu_seg_terminology_get (&n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (cu_seg_term_get_display_name (&terms[i]), NULL);
      g_menu_item_set_action_and_target_value (item, "seg.add-label", g_variant_new_string (terms[i].id));
      g_menu_append_item (g_str_equal (terms[i].group, "lesion") ? lesions : anatomy, item);
    }
  g_menu_append_section (menu, _("Lesions"), G_MENU_MODEL (lesions));
  g_menu_append_section (menu, _("Anatomy"), G_MENU_MODEL (anatomy));
  g_object_unref (lesions);
  g_object_unref (anatomy);
  return G_MENU_MODEL (menu);
}

static void
cu_seg_panel_build (CuSegPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *grid, *row, *w, *label_buttons;
  g_autoptr(GMenuModel) menu = terminology_menu ();
  GtkToggleButton *group = NULL;

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 12);

  /* Reader and save status */
  w = gtk_label_new (_("Segmentation"));
  gtk_label_set_xalign (GTK_LABEL (w), 0);
  gtk_widget_add_css_class (w, "title-4");
  gtk_box_append (GTK_BOX (box), w);
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  w = gtk_label_new_with_mnemonic (_("_Reader"));
  gtk_widget_add_css_class (w, "dim-label");
  gtk_box_append (GTK_BOX (row), w);
  self->reader_entry = GTK_ENTRY (gtk_entry_new ());
  gtk_label_set_mnemonic_widget (GTK_LABEL (w), GTK_WIDGET (self->reader_entry));
  gtk_widget_set_hexpand (GTK_WIDGET (self->reader_entry), TRUE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->reader_entry),
                               _("Recorded with every save; each reader sees only their own segmentation"));
  g_signal_connect (self->reader_entry, "activate", G_CALLBACK (reader_activate_cb), self);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->reader_entry));
  gtk_box_append (GTK_BOX (box), row);
  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->status, 0);
  gtk_label_set_wrap (self->status, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (self->status), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->status));
  self->readonly_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->readonly_label, TRUE);
  gtk_label_set_xalign (self->readonly_label, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->readonly_label), "warning");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->readonly_label));

  /* Tools */
  section (box, _("Tools"));
  grid = gtk_grid_new ();
  gtk_grid_set_column_homogeneous (GTK_GRID (grid), TRUE);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 4);
  for (guint i = 0; i < G_N_ELEMENTS (tool_buttons); i++)
    {
      GtkWidget *b = gtk_toggle_button_new_with_label (_(tool_buttons[i].label));
      gtk_widget_set_tooltip_text (b, _(tool_buttons[i].tooltip));
      g_object_set_data (G_OBJECT (b), "tool", GINT_TO_POINTER (tool_buttons[i].kind));
      if (group != NULL)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (b), group);
      else
        group = GTK_TOGGLE_BUTTON (b);
      g_signal_connect (b, "toggled", G_CALLBACK (tool_toggled_cb), self);
      self->tools[i] = GTK_TOGGLE_BUTTON (b);
      gtk_grid_attach (GTK_GRID (grid), b, (int) i % 3, (int) i / 3, 1, 1);
    }
  gtk_toggle_button_set_active (self->tools[0], TRUE);
  gtk_box_append (GTK_BOX (box), grid);

  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 8);
  w = gtk_label_new (_("Brush radius (mm)"));
  gtk_label_set_xalign (GTK_LABEL (w), 0);
  gtk_grid_attach (GTK_GRID (grid), w, 0, 0, 1, 1);
  self->radius_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0.5, 50, 0.5));
  gtk_spin_button_set_value (self->radius_spin, 3);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->radius_spin), _("Radius of the brush in millimetres"));
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->radius_spin), 1, 0, 1, 1);
  self->sphere_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("3D sphere")));
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->sphere_check), 0, 1, 2, 1);
  self->limit_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Paint only intensities from … to")));
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->limit_check), 0, 2, 2, 1);
  self->low_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (-100000, 100000, 1));
  self->high_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (-100000, 100000, 1));
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->low_spin), 0, 3, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->high_spin), 1, 3, 1, 1);
  w = gtk_label_new (_("Grow tolerance"));
  gtk_label_set_xalign (GTK_LABEL (w), 0);
  gtk_grid_attach (GTK_GRID (grid), w, 0, 4, 1, 1);
  self->tolerance_spin = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 100000, 5));
  gtk_spin_button_set_value (self->tolerance_spin, 50);
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->tolerance_spin), 1, 4, 1, 1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->tolerance_spin),
                               _("Set from the image’s noise when a series opens (4 σ)"));
  self->grow_3d_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Grow in 3D")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->grow_3d_check),
                               _("Region growing through all slices; Shift-click does the opposite"));
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->grow_3d_check), 0, 5, 2, 1);
  g_signal_connect_swapped (self->grow_3d_check, "toggled", G_CALLBACK (brush_settings_cb), self);
  /* In CuSegOverlap order; Slicer's "Modify other segments" and its default. */
  {
    static const char *const overlap_names[] = { N_("Overwrite them"), N_("Keep them"),
                                                 N_("Allow overlap"), NULL };
    const char *names[G_N_ELEMENTS (overlap_names)];

    for (guint i = 0; i < G_N_ELEMENTS (overlap_names); i++)
      names[i] = overlap_names[i] != NULL ? _(overlap_names[i]) : NULL;
    w = gtk_label_new (_("Other labels"));
    gtk_label_set_xalign (GTK_LABEL (w), 0);
    gtk_grid_attach (GTK_GRID (grid), w, 0, 6, 1, 1);
    self->overlap_dropdown = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (names));
    gtk_widget_set_tooltip_text (GTK_WIDGET (self->overlap_dropdown),
                                 _("What painting does where another label is: overwrite it, "
                                   "paint only around it, or overlap it (a lesion inside the "
                                   "gland); with overlap the eraser clears only the active label"));
    gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->overlap_dropdown), 1, 6, 1, 1);
    g_signal_connect_swapped (self->overlap_dropdown, "notify::selected",
                              G_CALLBACK (brush_settings_cb), self);
  }
  gtk_box_append (GTK_BOX (box), grid);
  g_signal_connect_swapped (self->radius_spin, "value-changed", G_CALLBACK (brush_settings_cb), self);
  g_signal_connect_swapped (self->sphere_check, "toggled", G_CALLBACK (brush_settings_cb), self);
  g_signal_connect_swapped (self->limit_check, "toggled", G_CALLBACK (brush_settings_cb), self);
  g_signal_connect_swapped (self->low_spin, "value-changed", G_CALLBACK (brush_settings_cb), self);
  g_signal_connect_swapped (self->high_spin, "value-changed", G_CALLBACK (brush_settings_cb), self);
  g_signal_connect_swapped (self->tolerance_spin, "value-changed", G_CALLBACK (brush_settings_cb), self);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_set_homogeneous (GTK_BOX (row), TRUE);
  gtk_box_append (GTK_BOX (row), action_button (_("_Undo"), "seg.undo", _("Undo the last stroke (Ctrl+Z)")));
  gtk_box_append (GTK_BOX (row), action_button (_("_Redo"), "seg.redo", _("Redo (Ctrl+Shift+Z)")));
  gtk_box_append (GTK_BOX (box), row);

  /* Labels */
  section (box, _("Labels"));
  w = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (w), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (w), 90);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (w), 200);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (w), TRUE);
  self->label_list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_widget_add_css_class (GTK_WIDGET (self->label_list), "boxed-list");
  g_signal_connect (self->label_list, "row-selected", G_CALLBACK (label_selected_cb), self);
  {
    /* An empty box said nothing: tell the reader where labels come from. */
    GtkWidget *empty = gtk_label_new (_("No labels yet. Use Add Label to create one."));
    gtk_label_set_wrap (GTK_LABEL (empty), TRUE);
    gtk_label_set_justify (GTK_LABEL (empty), GTK_JUSTIFY_CENTER);
    gtk_widget_set_margin_start (empty, 12);
    gtk_widget_set_margin_end (empty, 12);
    gtk_widget_set_margin_top (empty, 12);
    gtk_widget_set_margin_bottom (empty, 12);
    gtk_widget_add_css_class (empty, "dim-label");
    gtk_list_box_set_placeholder (self->label_list, empty);
  }
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (w), GTK_WIDGET (self->label_list));
  gtk_box_append (GTK_BOX (box), w);
  label_buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_set_homogeneous (GTK_BOX (label_buttons), TRUE);
  self->add_button = GTK_MENU_BUTTON (gtk_menu_button_new ());
  gtk_menu_button_set_label (self->add_button, _("Add Label"));
  gtk_menu_button_set_menu_model (self->add_button, menu);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->add_button), _("A label with a coded meaning (SNOMED CT)"));
  gtk_box_append (GTK_BOX (label_buttons), GTK_WIDGET (self->add_button));
  gtk_box_append (GTK_BOX (label_buttons), action_button (_("Remove"), "seg.remove-label",
                                                          _("Remove the active label and its voxels")));
  gtk_box_append (GTK_BOX (box), label_buttons);

  grid = gtk_grid_new ();
  gtk_grid_set_column_homogeneous (GTK_GRID (grid), TRUE);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 4);
  gtk_grid_attach (GTK_GRID (grid), action_button (_("Interpolate"), "seg.interpolate",
                   _("Fill the slices between annotated slices (shape-based)")), 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), action_button (_("Smooth"), "seg.smooth",
                   _("Smooth the surface of the active label (1 mm)")), 1, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), action_button (_("Remove Islands"), "seg.islands",
                   _("Remove parts smaller than 5 mm³")), 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), action_button (_("Keep Largest"), "seg.largest",
                   _("Keep only the largest connected part")), 1, 1, 1, 1);
  self->combine_button = GTK_MENU_BUTTON (gtk_menu_button_new ());
  gtk_menu_button_set_label (self->combine_button, _("Combine With Label"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->combine_button),
                               _("Add, intersect or subtract another label (changes the active label)"));
  gtk_grid_attach (GTK_GRID (grid), GTK_WIDGET (self->combine_button), 0, 2, 2, 1);
  gtk_box_append (GTK_BOX (box), grid);

  /* Overlay */
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  w = gtk_label_new (_("Opacity"));
  gtk_widget_add_css_class (w, "dim-label");
  gtk_box_append (GTK_BOX (row), w);
  self->opacity_scale = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.05));
  gtk_range_set_value (GTK_RANGE (self->opacity_scale), 0.4);
  cu_scroll_guard_install (GTK_RANGE (self->opacity_scale));
  gtk_widget_set_hexpand (GTK_WIDGET (self->opacity_scale), TRUE);
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->opacity_scale));
  self->outline_check = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (_("Outline")));
  gtk_box_append (GTK_BOX (row), GTK_WIDGET (self->outline_check));
  gtk_box_append (GTK_BOX (box), row);
  g_signal_connect_swapped (self->opacity_scale, "value-changed", G_CALLBACK (overlay_settings_cb), self);
  g_signal_connect_swapped (self->outline_check, "toggled", G_CALLBACK (overlay_settings_cb), self);

  /* Lesion form */
  self->form_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->form_title = GTK_LABEL (section (self->form_box, ""));
  _cu_seg_panel_build_form (self);
  gtk_box_append (GTK_BOX (box), self->form_box);

  /* Measurements */
  section (box, _("Measurements"));
  self->measure_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->measure_label, 0);
  gtk_label_set_wrap (self->measure_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->measure_label), "numeric");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->measure_label));
  self->ruler_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->ruler_label, 0);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->ruler_label));
  self->measure_list = CU_MEASURE_LIST (cu_measure_list_new (self->editor));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->measure_list));

  /* Double reading */
  section (box, _("Double Reading"));
  self->readers_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->readers_label, 0);
  gtk_label_set_wrap (self->readers_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->readers_label), "dim-label");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->readers_label));
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_set_homogeneous (GTK_BOX (row), TRUE);
  gtk_box_append (GTK_BOX (row), action_button (_("Agreement…"), "seg.agreement",
                  _("Dice, HD95, lesion matching and Cohen’s κ against the other reader")));
  gtk_box_append (GTK_BOX (row), action_button (_("Record as Final"), "seg.finalize",
                  _("Save this segmentation as the adjudicated version of the series")));
  gtk_box_append (GTK_BOX (box), row);

  /* Export */
  section (box, _("Export"));
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  gtk_box_set_homogeneous (GTK_BOX (row), TRUE);
  /* The SEG goes with its measurement report, so a DICOM receiver gets the lesion forms too. */
  w = action_button (_("DICOM SEG…"), "seg.export",
                     _("DICOM Segmentation and a structured report of its measurements and lesion "
                       "forms (TID 1500, NAME-sr.dcm), with the same as JSON and CSV"));
  gtk_actionable_set_action_target (GTK_ACTIONABLE (w), "s", "dicom-seg+sr");
  gtk_box_append (GTK_BOX (row), w);
  w = action_button (_("NIfTI…"), "seg.export", _("NIfTI label map aligned with the series’ NIfTI export"));
  gtk_actionable_set_action_target (GTK_ACTIONABLE (w), "s", "nifti");
  gtk_box_append (GTK_BOX (row), w);
  gtk_box_append (GTK_BOX (box), row);

  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), box);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
}

static void
set_sensitivity (CuSegPanel *self)
{
  gboolean editable = self->editor != NULL && cu_seg_editor_get_editable (self->editor);
  const char *actions[] = { "seg.add-label", "seg.remove-label", "seg.interpolate", "seg.islands",
                            "seg.largest", "seg.smooth", "seg.finalize", "seg.combine" };

  for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), actions[i], editable);
  /* One export, agreement or final version at a time. */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seg.export",
                                 self->editor != NULL && _cu_seg_panel_current_map (self) != NULL && self->busy == 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seg.agreement", self->busy == 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "seg.finalize", editable && self->busy == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->readonly_label), self->series_uid != NULL && !editable);
  for (guint i = 1; i < G_N_ELEMENTS (tool_buttons); i++)
    if (tool_buttons[i].kind != CU_TOOL_RULER)
      gtk_widget_set_sensitive (GTK_WIDGET (self->tools[i]), editable);
  if (!editable && self->editor != NULL && cu_seg_editor_get_tool (self->editor) != CU_TOOL_RULER)
    gtk_toggle_button_set_active (self->tools[0], TRUE);
  if (self->editor != NULL)
    history_changed_cb (self->editor, self);
}

static void
cu_seg_panel_dispose (GObject *object)
{
  CuSegPanel *self = CU_SEG_PANEL (object);

  _cu_seg_panel_flush_form_save (self);
  g_clear_handle_id (&self->measure_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->state != NULL)
    cu_viewer_state_set_seg_editor (self->state, NULL);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  if (self->editor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->editor, self);
      /* The session goes with the panel (and saves what it holds), whoever else holds the
       * editor. */
      cu_seg_editor_set_map (self->editor, NULL, NULL);
    }
  g_clear_object (&self->editor);
  drop_session (self);
  g_clear_object (&self->state);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->volume, cu_volume_unref);
  G_OBJECT_CLASS (cu_seg_panel_parent_class)->dispose (object);
}

static void
cu_seg_panel_finalize (GObject *object)
{
  CuSegPanel *self = CU_SEG_PANEL (object);

  g_free (self->series_uid);
  g_free (self->reader);
  g_clear_pointer (&self->form, cu_seg_form_free);
  g_clear_pointer (&self->form_widgets, g_ptr_array_unref);
  G_OBJECT_CLASS (cu_seg_panel_parent_class)->finalize (object);
}

static void
cu_seg_panel_class_init (CuSegPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_seg_panel_dispose;
  object_class->finalize = cu_seg_panel_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "segpanel");

  gtk_widget_class_install_action (widget_class, "seg.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "seg.redo", NULL, redo_action);
  gtk_widget_class_install_action (widget_class, "seg.add-label", "s", add_label_action);
  gtk_widget_class_install_action (widget_class, "seg.remove-label", NULL, remove_label_action);
  gtk_widget_class_install_action (widget_class, "seg.interpolate", NULL, operation_action);
  gtk_widget_class_install_action (widget_class, "seg.islands", NULL, operation_action);
  gtk_widget_class_install_action (widget_class, "seg.largest", NULL, operation_action);
  gtk_widget_class_install_action (widget_class, "seg.combine", "(sy)", combine_action);
  gtk_widget_class_install_action (widget_class, "seg.smooth", NULL, operation_action);
  gtk_widget_class_install_action (widget_class, "seg.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "seg.agreement", NULL, agreement_action);
  gtk_widget_class_install_action (widget_class, "seg.finalize", NULL, finalize_action);
}

static void
cu_seg_panel_init (CuSegPanel *self)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = source != NULL
    ? g_settings_schema_source_lookup (source, SETTINGS_SCHEMA, TRUE) : NULL;
  GtkEventController *shortcuts;

  /* The schema may be missing when run from an uninstalled tree: then the OS user it is. */
  if (schema != NULL && g_settings_schema_has_key (schema, "reader-name"))
    self->settings = g_settings_new (SETTINGS_SCHEMA);
  self->reader = self->settings != NULL ? g_settings_get_string (self->settings, "reader-name") : NULL;
  if (self->reader == NULL || *g_strstrip (self->reader) == '\0'
      || !cu_store_seg_check_reader (self->reader, CU_SEG_KIND_READING, NULL))
    {
      g_free (self->reader);
      self->reader = g_strdup (cu_store_seg_default_reader ());
    }
  self->form = cu_seg_form_load ("pirads-v2.1", NULL);
  self->cancellable = g_cancellable_new ();
  self->editor = cu_seg_editor_new ();
  g_signal_connect (self->editor, "stroke-finished", G_CALLBACK (stroke_finished_cb), self);
  g_signal_connect (self->editor, "changed", G_CALLBACK (editor_changed_cb), self);
  g_signal_connect (self->editor, "history-changed", G_CALLBACK (history_changed_cb), self);

  cu_seg_panel_build (self);
  gtk_editable_set_text (GTK_EDITABLE (self->reader_entry), self->reader);
  gtk_widget_set_size_request (GTK_WIDGET (self), 300, -1);

  /* Undo/redo from anywhere in the window, as in every editor. */
  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (shortcuts), GTK_SHORTCUT_SCOPE_GLOBAL);
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
    gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_z, GDK_CONTROL_MASK),
                      gtk_named_action_new ("seg.undo")));
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
    gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK),
                      gtk_named_action_new ("seg.redo")));
  gtk_widget_add_controller (GTK_WIDGET (self), shortcuts);

  cu_seg_editor_set_radius (self->editor, 3);
  set_sensitivity (self);
  rebuild_labels (self);
}

GtkWidget *
cu_seg_panel_new (void)
{
  return g_object_new (CU_TYPE_SEG_PANEL, NULL);
}

void
cu_seg_panel_set_state (CuSegPanel *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_SEG_PANEL (self));

  if (self->state != NULL)
    cu_viewer_state_set_seg_editor (self->state, NULL);
  g_set_object (&self->state, state);
  if (state != NULL)
    cu_viewer_state_set_seg_editor (state, self->editor);
}

void
cu_seg_panel_set_series (CuSegPanel *self, CuStore *store, const char *series_uid, CuVolume *volume)
{
  g_return_if_fail (CU_IS_SEG_PANEL (self));

  g_set_object (&self->store, store);
  g_free (self->series_uid);
  self->series_uid = g_strdup (series_uid);
  g_clear_pointer (&self->volume, cu_volume_unref);
  if (volume != NULL)
    self->volume = cu_volume_ref (volume);
  if (volume != NULL && volume->voxels != NULL)
    {
      float lo, hi;
      cu_volume_get_range (volume, &lo, &hi);
      self->updating = TRUE;
      gtk_spin_button_set_value (self->low_spin, cu_volume_percentile (volume, 0, 50));
      gtk_spin_button_set_value (self->high_spin, hi);
      self->updating = FALSE;
    }
  load_reading (self);
  set_sensitivity (self);
}

void
cu_seg_panel_set_editable (CuSegPanel *self, gboolean editable)
{
  g_return_if_fail (CU_IS_SEG_PANEL (self));

  if (cu_seg_editor_get_editable (self->editor) == editable && self->editor != NULL)
    {
      set_sensitivity (self);
      return;
    }
  cu_seg_editor_set_editable (self->editor, editable);
  /* An empty new map becomes editable: give it its first label. */
  if (editable && _cu_seg_panel_current_map (self) != NULL && cu_label_map_get_n_labels (_cu_seg_panel_current_map (self)) == 0)
    add_label_from_term (self, cu_seg_terminology_find ("lesion"));
  set_sensitivity (self);
  _cu_seg_panel_update_form (self);
}

void
cu_seg_panel_set_lock (CuSegPanel *self, const char *reason)
{
  g_return_if_fail (CU_IS_SEG_PANEL (self));

  gtk_label_set_text (self->readonly_label, reason != NULL ? reason : "");
  cu_seg_panel_set_editable (self, reason == NULL);
}

const char *
cu_seg_panel_get_reader (CuSegPanel *self)
{
  return self->reader;
}

CuSegEditor *
cu_seg_panel_get_editor (CuSegPanel *self)
{
  return self->editor;
}

CuMeasureList *
cu_seg_panel_get_measure_list (CuSegPanel *self)
{
  return self->measure_list;
}

int
cu_seg_panel_get_saved_version (CuSegPanel *self)
{
  return self->saved_version;
}

CuSegSession *
cu_seg_panel_get_session (CuSegPanel *self)
{
  return self->session;
}

gboolean
cu_seg_panel_get_busy (CuSegPanel *self)
{
  return self->busy > 0;
}

void
cu_seg_panel_export (CuSegPanel *self, const char *format_name, const char *path)
{
  CuSegFormat format;

  g_return_if_fail (CU_IS_SEG_PANEL (self));
  if (cu_seg_format_from_string (format_name, &format) && self->busy == 0)
    start_export (self, format, path);
}

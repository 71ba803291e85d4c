/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-study-browser.c — patients → studies → series as a GtkTreeListModel in a GtkListView.
 *
 * The tree is built from cu_store_list_series(), which is ordered by patient, study date and
 * series number, so grouping is a single pass. Thumbnails are requested when a series row is
 * first bound, i.e. only for rows the user actually scrolls to.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-browser-item.h"
#include "cu-gate.h"
#include "cu-gate-retire.h"
#include "cu-study-browser.h"
#include "cu-thumbnailer.h"

struct _CuStudyBrowser
{
  GtkWidget parent_instance;

  /* template */
  GtkListView *list_view;

  /* owned */
  GListStore *roots;
  GtkTreeListModel *tree;
  GtkSingleSelection *selection;
  CuThumbnailer *thumbnailer;
  CuStore *store;
  guint n_series;
  double restore_scroll;    /* scroll position to put back after a reload */
  guint restore_tick;
  guint restore_frames;
};

G_DEFINE_FINAL_TYPE (CuStudyBrowser, cu_study_browser, GTK_TYPE_WIDGET)

static GListModel *
create_children (gpointer item, gpointer user_data)
{
  GListStore *children = cu_browser_item_get_children (CU_BROWSER_ITEM (item));

  return children ? g_object_ref (G_LIST_MODEL (children)) : NULL;
}

static gboolean
unparent_popover (gpointer popover)
{
  gtk_widget_unparent (GTK_WIDGET (popover));
  g_object_unref (popover);
  return G_SOURCE_REMOVE;
}

static void
popover_closed_cb (GtkPopover *popover)
{
  /* later: the menu activates its action after "closed", through the parent chain */
  g_idle_add (unparent_popover, g_object_ref (popover));
}

/* Right click on a study (or one of its series): the study's menu. */
static void
context_pressed_cb (GtkGestureClick *gesture, int n_press, double x, double y,
                    GtkListItem *list_item)
{
  GtkWidget *row_widget = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (gesture));
  GtkWidget *browser = gtk_widget_get_ancestor (row_widget, CU_TYPE_STUDY_BROWSER);
  GtkTreeListRow *row = gtk_list_item_get_item (list_item);
  g_autoptr (CuBrowserItem) item = row ? gtk_tree_list_row_get_item (row) : NULL;
  g_autoptr (CuSeriesRecord) rec = NULL;
  g_autoptr (GMenu) menu = NULL;
  g_autoptr (GMenuItem) export_item = NULL;
  const char *study_uid = NULL;
  GtkWidget *popover;

  if (item == NULL || browser == NULL)
    return;
  if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_STUDY)
    study_uid = cu_browser_item_get_key (item);
  else if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_SERIES
           && CU_STUDY_BROWSER (browser)->store != NULL)
    {
      rec = cu_store_get_series (CU_STUDY_BROWSER (browser)->store,
                                 cu_browser_item_get_key (item), NULL);
      study_uid = rec ? rec->study_uid : NULL;
    }
  if (study_uid == NULL)
    return;

  menu = g_menu_new ();
  export_item = g_menu_item_new (_("_Export Study Anonymized…"), NULL);
  g_menu_item_set_action_and_target_value (export_item, "win.export-anonymized",
                                           g_variant_new_string (study_uid));
  g_menu_append_item (menu, export_item);
  /* the history of the study, and of the series when the click was on one */
  {
    g_autoptr (GMenu) history = g_menu_new ();
    g_autoptr (GMenuItem) study_item = g_menu_item_new (_("Study _History"), NULL);

    g_menu_item_set_action_and_target_value (study_item, "win.study-history",
                                             g_variant_new_string (study_uid));
    g_menu_append_item (history, study_item);
    if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_SERIES)
      {
        g_autoptr (GMenuItem) series_item = g_menu_item_new (_("_Series History"), NULL);

        g_menu_item_set_action_and_target_value (series_item, "win.series-history",
                                                 g_variant_new_string (cu_browser_item_get_key (item)));
        g_menu_append_item (history, series_item);
      }
    g_menu_append_section (menu, NULL, G_MENU_MODEL (history));
  }
  /* retiring the study (superseded by its fixed copy, removed from the catalog) */
  {
    CuStore *store = CU_STUDY_BROWSER (browser)->store;
    g_autoptr (CuStudyGate) gate = store != NULL ? cu_store_get_study_gate (store, study_uid, NULL)
                                                 : NULL;
    g_autoptr (GMenuModel) retire = cu_gate_retire_menu_new (study_uid, gate != NULL ? gate->state
                                                                                     : CU_GATE_PASSED);
    g_menu_append_section (menu, NULL, retire);
  }
  popover = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_widget_set_parent (popover, row_widget);
  gtk_popover_set_has_arrow (GTK_POPOVER (popover), FALSE);
  gtk_popover_set_pointing_to (GTK_POPOVER (popover),
                               &(GdkRectangle) { (int) x, (int) y, 1, 1 });
  g_signal_connect (popover, "closed", G_CALLBACK (popover_closed_cb), NULL);
  gtk_popover_popup (GTK_POPOVER (popover));
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
}

static void
setup_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, gpointer user_data)
{
  GtkWidget *expander = gtk_tree_expander_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *picture = gtk_picture_new ();
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);
  GtkWidget *badge = gtk_button_new ();

  /* The pseudonymization gate of a study: a coloured badge, the reasons in its tooltip; a
   * click shows the findings. */
  gtk_widget_add_css_class (badge, "gate-badge");
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (badge, FALSE);
  gtk_widget_set_size_request (picture, 64, 64);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_widget_add_css_class (picture, "series-thumbnail");
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_set_valign (text, GTK_ALIGN_CENTER);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (text), title);
  gtk_box_append (GTK_BOX (text), subtitle);
  gtk_box_append (GTK_BOX (box), picture);
  gtk_box_append (GTK_BOX (box), text);
  gtk_box_append (GTK_BOX (box), badge);
  gtk_widget_set_margin_top (box, 3);
  gtk_widget_set_margin_bottom (box, 3);
  gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), box);
  gtk_list_item_set_child (list_item, expander);

  /* the study's context menu (Export Anonymized…) */
  {
    GtkGesture *click = gtk_gesture_click_new ();

    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
    g_signal_connect (click, "pressed", G_CALLBACK (context_pressed_cb), list_item);
    gtk_widget_add_controller (expander, GTK_EVENT_CONTROLLER (click));
  }

  g_object_set_data (G_OBJECT (list_item), "picture", picture);
  g_object_set_data (G_OBJECT (list_item), "title", title);
  g_object_set_data (G_OBJECT (list_item), "subtitle", subtitle);
  g_object_set_data (G_OBJECT (list_item), "badge", badge);
}

static void
thumbnail_changed_cb (CuBrowserItem *item, GParamSpec *pspec, GtkPicture *picture)
{
  gtk_picture_set_paintable (picture, cu_browser_item_get_thumbnail (item));
}

static void
bind_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, CuStudyBrowser *self)
{
  GtkTreeListRow *row = gtk_list_item_get_item (list_item);
  GtkWidget *expander = gtk_list_item_get_child (list_item);
  GtkWidget *picture = g_object_get_data (G_OBJECT (list_item), "picture");
  GtkWidget *title = g_object_get_data (G_OBJECT (list_item), "title");
  GtkWidget *subtitle = g_object_get_data (G_OBJECT (list_item), "subtitle");
  GtkWidget *badge = g_object_get_data (G_OBJECT (list_item), "badge");
  g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);
  gboolean is_series = cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_SERIES;
  gboolean is_study = cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_STUDY;
  CuGateState gate = cu_browser_item_get_gate (item);
  gboolean is_patient = cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_PATIENT;
  guint n_flags = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (item), "cu-open-flags"));

  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (expander), row);
  gtk_label_set_label (GTK_LABEL (title), cu_browser_item_get_title (item));
  gtk_label_set_label (GTK_LABEL (subtitle), cu_browser_item_get_subtitle (item));
  if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_PATIENT)
    gtk_widget_add_css_class (title, "heading");
  else
    gtk_widget_remove_css_class (title, "heading");
  gtk_widget_set_visible (picture, is_series);
  gtk_list_item_set_selectable (list_item, is_series);

  for (guint i = CU_GATE_PENDING; i <= CU_GATE_SUPERSEDED; i++)
    gtk_widget_remove_css_class (badge, cu_gate_state_to_string (i));
  /* a superseded study is kept for the record only: greyed out */
  if (is_study && gate == CU_GATE_SUPERSEDED)
    gtk_widget_add_css_class (gtk_widget_get_parent (title), "study-superseded");
  else
    gtk_widget_remove_css_class (gtk_widget_get_parent (title), "study-superseded");
  gtk_widget_remove_css_class (badge, "flags");
  gtk_widget_set_visible (badge, (is_study && gate != CU_GATE_PASSED)
                                 || (is_patient && n_flags > 0));
  if (is_patient && n_flags > 0)
    {
      g_autofree char *label = NULL;

      /* Consistency flags that still need work (open, sent, answered): a click opens the
       * flags panel on this patient. */
      label = g_strdup_printf (ngettext ("%u flag", "%u flags", n_flags), n_flags);
      gtk_button_set_label (GTK_BUTTON (badge), label);
      gtk_widget_add_css_class (badge, "flags");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (badge), "s", cu_browser_item_get_key (item));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (badge), "win.show-flags");
      gtk_widget_set_tooltip_text (badge, _("Consistency flags of this patient that need work"));
    }
  if (is_study && gate != CU_GATE_PASSED)
    {
      gtk_button_set_label (GTK_BUTTON (badge), cu_gate_state_to_label (gate));
      gtk_widget_add_css_class (badge, cu_gate_state_to_string (gate));
      /* target first: the action takes a study UID */
      gtk_actionable_set_action_target (GTK_ACTIONABLE (badge), "s",
                                        cu_browser_item_get_key (item));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (badge), "win.show-findings");
      gtk_widget_set_tooltip_text (badge, cu_browser_item_get_gate_reasons (item));
    }
  /* the whole row carries the reasons, so that hovering anywhere on a study shows them */
  gtk_widget_set_tooltip_text (expander, is_study ? cu_browser_item_get_gate_reasons (item) : NULL);
  if (!is_series)
    return;

  gtk_picture_set_paintable (GTK_PICTURE (picture), cu_browser_item_get_thumbnail (item));
  g_signal_connect_object (item, "notify::thumbnail", G_CALLBACK (thumbnail_changed_cb), picture, 0);
  if (self->store != NULL && cu_browser_item_claim_thumbnail (item))
    {
      g_auto (GStrv) files = cu_store_get_series_files (self->store, cu_browser_item_get_key (item), NULL);
      if (files != NULL)
        cu_thumbnailer_request (self->thumbnailer, item, (const char *const *) files);
    }
}

static void
unbind_row (GtkSignalListItemFactory *factory, GtkListItem *list_item, CuStudyBrowser *self)
{
  GtkTreeListRow *row = gtk_list_item_get_item (list_item);
  GtkWidget *picture = g_object_get_data (G_OBJECT (list_item), "picture");
  g_autoptr (CuBrowserItem) item = row ? gtk_tree_list_row_get_item (row) : NULL;

  if (item != NULL)
    g_signal_handlers_disconnect_by_func (item, thumbnail_changed_cb, picture);
  gtk_picture_set_paintable (GTK_PICTURE (picture), NULL);
}

static void
open_position (CuStudyBrowser *self, guint position)
{
  g_autoptr (GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);
  g_autoptr (CuBrowserItem) item = NULL;

  if (row == NULL)
    return;
  item = gtk_tree_list_row_get_item (row);
  if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_SERIES)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.open-series", "s",
                                cu_browser_item_get_key (item));
  else
    gtk_tree_list_row_set_expanded (row, !gtk_tree_list_row_get_expanded (row));
}

static void
selected_cb (CuStudyBrowser *self)
{
  guint position = gtk_single_selection_get_selected (self->selection);

  if (position != GTK_INVALID_LIST_POSITION)
    open_position (self, position);
}

static void
activate_cb (CuStudyBrowser *self, guint position)
{
  open_position (self, position);
}

static void
cu_study_browser_dispose (GObject *object)
{
  CuStudyBrowser *self = CU_STUDY_BROWSER (object);

  if (self->thumbnailer != NULL)
    cu_thumbnailer_cancel_all (self->thumbnailer);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_STUDY_BROWSER);
  /* the template's root child has no id, so dispose_template (4.8) leaves it parented */
  {
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
      gtk_widget_unparent (child);
  }
  g_clear_object (&self->selection);
  g_clear_object (&self->tree);
  g_clear_object (&self->roots);
  g_clear_object (&self->thumbnailer);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (cu_study_browser_parent_class)->dispose (object);
}

static void
cu_study_browser_class_init (CuStudyBrowserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_study_browser_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-study-browser.ui");
  gtk_widget_class_bind_template_child (widget_class, CuStudyBrowser, list_view);
  gtk_widget_class_bind_template_callback (widget_class, activate_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "cu-study-browser");
}

static void
cu_study_browser_init (CuStudyBrowser *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->thumbnailer = cu_thumbnailer_new ();
  self->roots = g_list_store_new (CU_TYPE_BROWSER_ITEM);
  /* autoexpand: a workspace usually holds a few patients, and seeing every series at once is
   * what a curation session needs */
  self->tree = gtk_tree_list_model_new (g_object_ref (G_LIST_MODEL (self->roots)), FALSE, TRUE,
                                        create_children, NULL, NULL);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->tree)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (selected_cb), self,
                           G_CONNECT_SWAPPED);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
}

GtkWidget *
cu_study_browser_new (void)
{
  return g_object_new (CU_TYPE_STUDY_BROWSER, NULL);
}

static char *
series_title (const CuSeriesRecord *rec)
{
  const char *desc = rec->series_description && *rec->series_description
                       ? rec->series_description : _("Unnamed series");

  return g_strdup_printf ("%s · %s", rec->modality ? rec->modality : "??", desc);
}

static char *
series_subtitle (const CuSeriesRecord *rec)
{
  int n = rec->number_of_frames > rec->n_instances ? rec->number_of_frames : rec->n_instances;

  /* TRANSLATORS: series row: series number and number of images */
  return g_strdup_printf (ngettext ("#%d · %d image", "#%d · %d images", n),
                          rec->series_number, n);
}

/* "“description” (date)" of a study, from the catalog's records. */
static char *
study_title (GPtrArray *records, const char *study_uid)
{
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      const CuSeriesRecord *r = records->pdata[i];

      if (g_strcmp0 (r->study_uid, study_uid) == 0)
        /* TRANSLATORS: a study: “description” (date) */
        return g_strdup_printf (_("“%s” (%s)"),
                                r->study_description && *r->study_description
                                  ? r->study_description : _("Study"),
                                r->study_date ? r->study_date : "");
    }
  return g_strdup (study_uid);
}

static void
set_study_gate (CuStore *store, CuBrowserItem *study, const CuSeriesRecord *rec,
                GPtrArray *records)
{
  g_autoptr (CuStudyGate) gate = cu_store_get_study_gate (store, rec->study_uid, NULL);
  g_autoptr (GPtrArray) findings = NULL;
  g_autofree char *description = NULL;

  if (gate == NULL)
    return;
  if (gate->state == CU_GATE_SUPERSEDED)
    {
      g_autofree char *by = study_title (records, gate->superseded_by);
      g_autofree char *subtitle = NULL;

      /* TRANSLATORS: subtitle of a superseded study: the study that replaced it, “description”
       * (date); the dates are the same, a fixed copy keeps the study date */
      subtitle = g_strdup_printf (_("Superseded by %s"), by);
      cu_browser_item_set_subtitle (study, subtitle);
    }
  if (gate->state != CU_GATE_PASSED || gate->n_warnings > 0)
    {
      findings = cu_store_list_findings (store, rec->study_uid, NULL);
      description = cu_gate_describe (gate, findings);
    }
  cu_browser_item_set_gate (study, gate->state, description);
}

static gboolean
restore_scroll_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer data)
{
  CuStudyBrowser *self = data;
  GtkWidget *scrolled = gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

  /* wait until the list is tall enough again (a frame or two after the splice) */
  if (gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) < self->restore_scroll
      && ++self->restore_frames < 30)
    return G_SOURCE_CONTINUE;
  gtk_adjustment_set_value (adj, self->restore_scroll);
  self->restore_tick = 0;
  self->restore_frames = 0;
  return G_SOURCE_REMOVE;
}

double
cu_study_browser_get_scroll (CuStudyBrowser *self)
{
  GtkWidget *scrolled;

  g_return_val_if_fail (CU_IS_STUDY_BROWSER (self), 0);
  scrolled = gtk_widget_get_ancestor (GTK_WIDGET (self->list_view), GTK_TYPE_SCROLLED_WINDOW);
  return scrolled != NULL ? gtk_adjustment_get_value (gtk_scrolled_window_get_vadjustment (
                                GTK_SCROLLED_WINDOW (scrolled)))
                          : 0;
}

gboolean
cu_study_browser_reload (CuStudyBrowser *self, CuStore *store, GError **error)
{
  g_autoptr (GPtrArray) records = NULL;
  CuBrowserItem *patient = NULL, *study = NULL;
  g_autoptr (GPtrArray) patients = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GHashTable) open_flags = NULL;

  g_return_val_if_fail (CU_IS_STUDY_BROWSER (self), FALSE);
  g_return_val_if_fail (CU_IS_STORE (store), FALSE);

  records = cu_store_list_series (store, error);
  if (records == NULL)
    return FALSE;
  open_flags = cu_flags_active_by_person (store, NULL);
  g_set_object (&self->store, store);
  cu_thumbnailer_cancel_all (self->thumbnailer);
  self->n_series = records->len;

  for (guint i = 0; i < records->len; i++)
    {
      const CuSeriesRecord *rec = g_ptr_array_index (records, i);
      g_autofree char *title = NULL, *subtitle = NULL;
      g_autoptr (CuBrowserItem) series = NULL;

      /* A patient is PatientID and PatientName together, as in the workspace (and the CLI's
       * list): phantoms and pseudonymized sets often leave PatientID empty for unrelated
       * subjects, which must not merge into one node. The records come sorted by both. */
      if (patient == NULL || g_strcmp0 (cu_browser_item_get_key (patient), rec->patient_id) != 0
          || g_strcmp0 (g_object_get_data (G_OBJECT (patient), "cu-patient-name"),
                        rec->patient_name != NULL ? rec->patient_name : "") != 0)
        {
          const char *name = rec->patient_name && *rec->patient_name ? rec->patient_name
                                                                     : rec->patient_id;
          /* A person name's components are separated by "^" (PS3.5 6.2, PN): shown with spaces,
           * and without the empty trailing components some writers leave. */
          g_autofree char *shown = g_strstrip (g_strdelimit (g_strdup (name != NULL ? name : ""), "^", ' '));

          patient = cu_browser_item_new (CU_BROWSER_ITEM_PATIENT, rec->patient_id,
                                         *shown != '\0' ? shown : _("Unknown patient"),
                                         rec->patient_id);
          g_ptr_array_add (patients, patient);
          g_object_set_data_full (G_OBJECT (patient), "cu-patient-name",
                                  g_strdup (rec->patient_name != NULL ? rec->patient_name : ""),
                                  g_free);
          if (open_flags != NULL)
            g_object_set_data (G_OBJECT (patient), "cu-open-flags",
                               g_hash_table_lookup (open_flags, rec->patient_id));
          study = NULL;
        }
      if (study == NULL || g_strcmp0 (cu_browser_item_get_key (study), rec->study_uid) != 0)
        {
          const char *desc = rec->study_description && *rec->study_description
                               ? rec->study_description : _("Study");
          study = cu_browser_item_new (CU_BROWSER_ITEM_STUDY, rec->study_uid, desc,
                                       rec->study_date ? rec->study_date : "");
          set_study_gate (store, study, rec, records);
          g_list_store_append (cu_browser_item_get_children (patient), study);
          g_object_unref (study);  /* the patient's store holds it */
        }
      title = series_title (rec);
      subtitle = series_subtitle (rec);
      series = cu_browser_item_new (CU_BROWSER_ITEM_SERIES, rec->series_uid, title, subtitle);
      g_list_store_append (cu_browser_item_get_children (study), series);
    }

  /* A refresh (after an import, a QC run, a flag) keeps the row the user selected and the
   * place they scrolled to: the items are new objects, so the row is found again by its
   * kind and key, and the scroll position is put back once the list has its new height. */
  {
    g_autoptr (CuBrowserItem) was = cu_study_browser_get_selected (self);
    CuBrowserItemKind kind = was != NULL ? cu_browser_item_get_kind (was) : CU_BROWSER_ITEM_SERIES;
    g_autofree char *key = was != NULL ? g_strdup (cu_browser_item_get_key (was)) : NULL;
    GtkWidget *scrolled = gtk_widget_get_ancestor (GTK_WIDGET (self->list_view), GTK_TYPE_SCROLLED_WINDOW);
    guint position = GTK_INVALID_LIST_POSITION, n;

    if (scrolled != NULL)
      self->restore_scroll = gtk_adjustment_get_value (
        gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled)));
    g_signal_handlers_block_by_func (self->selection, selected_cb, self);
    g_list_store_splice (self->roots, 0, g_list_model_get_n_items (G_LIST_MODEL (self->roots)),
                         patients->pdata, patients->len);
    n = key != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->tree)) : 0;
    for (guint i = 0; i < n && position == GTK_INVALID_LIST_POSITION; i++)
      {
        g_autoptr (GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), i);
        g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);
        if (cu_browser_item_get_kind (item) == kind
            && g_strcmp0 (cu_browser_item_get_key (item), key) == 0)
          position = i;
      }
    gtk_single_selection_set_selected (self->selection, position);
    g_signal_handlers_unblock_by_func (self->selection, selected_cb, self);
    if (scrolled != NULL && self->restore_scroll > 0 && self->restore_tick == 0)
      self->restore_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->list_view),
                                                         restore_scroll_cb, self, NULL);
  }
  return TRUE;
}

GListModel *
cu_study_browser_get_model (CuStudyBrowser *self)
{
  g_return_val_if_fail (CU_IS_STUDY_BROWSER (self), NULL);
  return G_LIST_MODEL (self->tree);
}

guint
cu_study_browser_get_n_series (CuStudyBrowser *self)
{
  g_return_val_if_fail (CU_IS_STUDY_BROWSER (self), 0);
  return self->n_series;
}

void
cu_study_browser_select_series (CuStudyBrowser *self, const char *series_uid)
{
  guint n;

  g_return_if_fail (CU_IS_STUDY_BROWSER (self));
  n = g_list_model_get_n_items (G_LIST_MODEL (self->tree));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), i);
      g_autoptr (CuBrowserItem) item = gtk_tree_list_row_get_item (row);

      if (cu_browser_item_get_kind (item) == CU_BROWSER_ITEM_SERIES
          && g_strcmp0 (cu_browser_item_get_key (item), series_uid) == 0)
        {
          g_signal_handlers_block_by_func (self->selection, selected_cb, self);
          gtk_single_selection_set_selected (self->selection, i);
          g_signal_handlers_unblock_by_func (self->selection, selected_cb, self);
          gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", i);
          return;
        }
    }
}

CuBrowserItem *
cu_study_browser_get_selected (CuStudyBrowser *self)
{
  guint position;
  g_autoptr (GtkTreeListRow) row = NULL;

  g_return_val_if_fail (CU_IS_STUDY_BROWSER (self), NULL);
  position = gtk_single_selection_get_selected (self->selection);
  if (position == GTK_INVALID_LIST_POSITION)
    return NULL;
  row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);
  return row != NULL ? gtk_tree_list_row_get_item (row) : NULL;
}

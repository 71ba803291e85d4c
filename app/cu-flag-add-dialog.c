/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-add-dialog.c — raising a flag by hand from the viewer. A message dialog with the
 * fields as its extra child, like the other short forms of the main window: what the flag is
 * about (the patient, study or series shown), its category (a question, images to send
 * again, an incidental finding, or a quarantined study to send again after fixing its
 * pseudonymization), its text, and whether the
 * cursor's LPS point goes with it (an incidental finding usually has one). The flag is written
 * at once (one row and its history, cu_flags_add): nothing long runs here.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-flag-add-dialog.h"
#include "cu-window-private.h"

static const char *const targets[] = { "series", "study", "patient", NULL };
static const char *const categories[] = { "question", "image", "incidental", "deid", NULL };

typedef struct
{
  CuWindow *parent;      /* borrowed: the dialog is transient for it */
  char *series_uid;
  GtkDropDown *target;
  GtkDropDown *category;
  GtkTextView *message;
  GtkCheckButton *with_position;
  GtkDropDown *lesion;   /* "No lesion", then the segmentation's labels */
  GArray *lesion_values; /* guint8 label value per lesion item (item 0: none) */
  char *reader;
  double lps[3];
  gint64 flag_id;
} AddData;

static void
add_data_free (AddData *d)
{
  g_free (d->series_uid);
  g_free (d->reader);
  g_clear_pointer (&d->lesion_values, g_array_unref);
  g_free (d);
}

static guint
index_of (const char *const *ids, const char *id)
{
  for (guint i = 0; ids[i] != NULL; i++)
    if (g_strcmp0 (ids[i], id) == 0)
      return i;
  return 0;
}

static void
response_cb (AdwMessageDialog *dialog, const char *response, AddData *d)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesRecord) rec = NULL;
  g_autofree char *text = NULL;
  GtkTextBuffer *buffer;
  GtkTextIter start, end;
  CuFlagNew spec = { 0 };
  CuStore *store = cu_window_get_store (d->parent);
  guint target = gtk_drop_down_get_selected (d->target);
  guint category = gtk_drop_down_get_selected (d->category);

  if (g_strcmp0 (response, "add") != 0 || store == NULL || d->series_uid == NULL)
    return;
  rec = cu_store_get_series (store, d->series_uid, &error);
  if (rec == NULL)
    {
      _cu_window_show_error (d->parent, _("Could Not Raise the Flag"), error);
      return;
    }
  buffer = gtk_text_view_get_buffer (d->message);
  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  spec.kind = category == 1 ? CU_FLAG_KIND_IMAGE : category == 2 ? CU_FLAG_KIND_INCIDENTAL
              : category == 3 ? CU_FLAG_KIND_DEID : CU_FLAG_KIND_QUESTION;
  if (target == 0)
    spec.series_uid = rec->series_uid;
  else if (target == 1)
    spec.study_uid = rec->study_uid;
  else
    spec.patient_id = rec->patient_id;
  spec.message = text;
  spec.position = gtk_check_button_get_active (d->with_position) ? d->lps : NULL;
  {
    guint item = gtk_drop_down_get_selected (d->lesion);
    if (item > 0 && item < d->lesion_values->len)
      {
        /* A lesion is named in the series' segmentation: the flag is about that series. */
        spec.lesion = g_array_index (d->lesion_values, guint8, item);
        spec.reader = d->reader;
        spec.series_uid = rec->series_uid;
        spec.study_uid = NULL;
        spec.patient_id = NULL;
      }
  }
  d->flag_id = cu_flags_add (store, &spec, &error);
  if (d->flag_id == 0)
    {
      _cu_window_show_error (d->parent, _("Could Not Raise the Flag"), error);
      return;
    }
  _cu_window_flags_changed (d->parent);
}

GtkWidget *
cu_flag_add_dialog_present (CuWindow *parent)
{
  const char *series_uid = cu_window_get_series_uid (parent);
  const char *target_labels[] = { _("This series"), _("This study"), _("This patient"), NULL };
  const char *category_labels[] = { _("Question for the site"), _("Images to send again"),
                                    _("Incidental finding (urgent)"),
                                    _("Study to send again (pseudonymization)"), NULL };
  AddData *d = g_new0 (AddData, 1);
  GtkWidget *dialog, *box, *scrolled;
  g_autofree char *where = NULL;
  char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE], z[G_ASCII_DTOSTR_BUF_SIZE];

  d->parent = parent;
  d->series_uid = g_strdup (series_uid);
  cu_viewer_state_get_cursor (cu_window_get_viewer_state (parent), d->lps);

  dialog = adw_message_dialog_new (GTK_WINDOW (parent), _("Raise a Flag for the Site"),
                                   series_uid != NULL
                                     ? _("The site receives it in its next bundle, with a picture of "
                                         "the series; an incidental finding is urgent and can be "
                                         "sent at once.")
                                     : _("Open a series first: the flag is about the images shown."));
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  d->target = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (target_labels));
  gtk_widget_set_name (GTK_WIDGET (d->target), "flag-target");
  d->category = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (category_labels));
  gtk_widget_set_name (GTK_WIDGET (d->category), "flag-category");
  d->message = GTK_TEXT_VIEW (gtk_text_view_new ());
  gtk_text_view_set_wrap_mode (d->message, GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (d->message, 6);
  gtk_text_view_set_top_margin (d->message, 6);
  gtk_accessible_update_property (GTK_ACCESSIBLE (d->message), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("What the site should know or do"), -1);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (d->message));
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 90);
  gtk_widget_add_css_class (scrolled, "card");
  /* TRANSLATORS: the viewer's cursor in patient coordinates (LPS, millimetres) */
  where = g_strdup_printf (_("Include the cursor position (LPS %s, %s, %s mm)"),
                           g_ascii_formatd (x, sizeof x, "%.1f", d->lps[0]),
                           g_ascii_formatd (y, sizeof y, "%.1f", d->lps[1]),
                           g_ascii_formatd (z, sizeof z, "%.1f", d->lps[2]));
  d->with_position = GTK_CHECK_BUTTON (gtk_check_button_new_with_label (where));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->target));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->category));
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->with_position));
  /* The lesions of the segmentation shown: a flag about one carries its name, size and
   * centroid (cu_flags_add). */
  {
    g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
    g_auto (GStrv) items = NULL;
    CuSegSession *session = cu_seg_panel_get_session (parent->seg_panel);
    CuLabelMap *map = session != NULL ? cu_seg_session_get_map (session) : NULL;
    guint8 none = 0;

    d->lesion_values = g_array_new (FALSE, FALSE, sizeof (guint8));
    g_array_append_val (d->lesion_values, none);
    g_strv_builder_add (names, _("No lesion"));
    for (guint i = 0; map != NULL && i < cu_label_map_get_n_labels (map); i++)
      {
        const CuLabel *l = cu_label_map_get_label_at (map, i);
        /* TRANSLATORS: a lesion to raise a flag about: label value and name */
        g_autofree char *item = g_strdup_printf (_("Lesion %u · %s"), l->value,
                                                 l->name != NULL ? l->name : "");
        g_strv_builder_add (names, item);
        g_array_append_val (d->lesion_values, l->value);
      }
    d->reader = g_strdup (cu_seg_panel_get_reader (parent->seg_panel));
    items = g_strv_builder_end (names);
    d->lesion = GTK_DROP_DOWN (gtk_drop_down_new_from_strings ((const char *const *) items));
    gtk_widget_set_name (GTK_WIDGET (d->lesion), "flag-lesion");
    gtk_widget_set_tooltip_text (GTK_WIDGET (d->lesion),
                                 _("The lesion the flag is about: its name, size and centre go with it"));
    gtk_widget_set_visible (GTK_WIDGET (d->lesion), d->lesion_values->len > 1);
    gtk_box_append (GTK_BOX (box), GTK_WIDGET (d->lesion));
  }
  gtk_widget_set_size_request (box, 420, -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "add", _("_Raise Flag"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "add",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (dialog), "add", series_uid != NULL);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "add");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "cu-add-flag", d, (GDestroyNotify) add_data_free);
  g_signal_connect (dialog, "response", G_CALLBACK (response_cb), d);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

void
cu_flag_add_dialog_set_lesion (GtkWidget *dialog, guint8 value)
{
  AddData *d = g_object_get_data (G_OBJECT (dialog), "cu-add-flag");

  g_return_if_fail (d != NULL);
  for (guint i = 0; i < d->lesion_values->len; i++)
    if (g_array_index (d->lesion_values, guint8, i) == value)
      gtk_drop_down_set_selected (d->lesion, i);
}

void
cu_flag_add_dialog_fill (GtkWidget *dialog, const char *target, const char *category,
                         const char *message, gboolean with_position)
{
  AddData *d = g_object_get_data (G_OBJECT (dialog), "cu-add-flag");

  g_return_if_fail (d != NULL);
  gtk_drop_down_set_selected (d->target, index_of (targets, target));
  gtk_drop_down_set_selected (d->category, index_of (categories, category));
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (d->message), message, -1);
  gtk_check_button_set_active (d->with_position, with_position);
}

gint64
cu_flag_add_dialog_get_flag_id (GtkWidget *dialog)
{
  AddData *d = g_object_get_data (G_OBJECT (dialog), "cu-add-flag");

  return d != NULL ? d->flag_id : 0;
}

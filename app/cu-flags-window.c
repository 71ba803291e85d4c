/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flags-window.c — the consistency flags panel (cu-flags-window.h).
 *
 * Reads and state changes use the main window's CuStore on the main thread (they are
 * single-row updates). The clinical import and the rule run are jobs: a GTask thread with
 * its own CuStore on the same workspace, so the panel and the main window stay responsive.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-flags-window.h"
#include "cu-local-time.h"
#include "cu-window-private.h"

struct _CuFlagsWindow
{
  AdwWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkDropDown *site_dropdown;
  GtkDropDown *rule_dropdown;
  GtkDropDown *state_dropdown;
  GtkDropDown *severity_dropdown;
  GtkSearchEntry *person_entry;
  AdwStatusPage *empty_page;
  GtkLabel *summary_label;
  GtkStack *stack;
  GtkListBox *list;

  /* borrowed */
  CuWindow *parent;

  /* owned */
  GPtrArray *flags;            /* CuFlag shown */
  GCancellable *cancellable;
  GtkFileChooserNative *chooser;
  GtkWidget *report;           /* last report dialog (weak) */
  gboolean filling;            /* dropdown models being rebuilt: ignore their signals */
  guint n_writes;              /* state changes being written */
};

G_DEFINE_FINAL_TYPE (CuFlagsWindow, cu_flags_window, ADW_TYPE_WINDOW)

static const char *const state_ids[] = { "", "active", "open", "sent", "answered", "resolved",
                                         "accepted", "withdrawn", NULL };
static const char *const severity_ids[] = { "", "error", "warning", "info", NULL };

/* ---- filters ------------------------------------------------------------------------ */

static const char *
dropdown_id (GtkDropDown *dropdown)
{
  guint pos = gtk_drop_down_get_selected (dropdown);
  const char *const *ids = g_object_get_data (G_OBJECT (dropdown), "cu-ids");

  if (ids == NULL || pos == GTK_INVALID_LIST_POSITION || pos >= g_strv_length ((char **) ids))
    return NULL;
  return ids[pos][0] != '\0' ? ids[pos] : NULL;
}

static void
set_dropdown (GtkDropDown *dropdown, const char *const *ids, const char *const *labels,
              const char *select)
{
  const char *const *current = g_object_get_data (G_OBJECT (dropdown), "cu-ids");
  guint pos = 0;

  for (guint i = 0; ids[i] != NULL; i++)
    if (select != NULL && g_strcmp0 (ids[i], select) == 0)
      pos = i;
  /* Rebuild the list only when its entries changed: a new model makes the drop-down choose an
   * item again and notify "selected", and every reload refills these lists — replacing an
   * unchanged list made each choice of a site reload the panel again, endlessly. */
  if (current == NULL || !g_strv_equal (current, ids))
    {
      g_autoptr (GtkStringList) model = gtk_string_list_new (labels);

      g_object_set_data_full (G_OBJECT (dropdown), "cu-ids", g_strdupv ((char **) ids),
                              (GDestroyNotify) g_strfreev);
      gtk_drop_down_set_model (dropdown, G_LIST_MODEL (model));
    }
  if (gtk_drop_down_get_selected (dropdown) != pos)
    gtk_drop_down_set_selected (dropdown, pos);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Sites and rules come from the flags present; keep the current choice. */
static void
fill_dynamic_filters (CuFlagsWindow *self)
{
  CuStore *store = cu_window_get_store (self->parent);
  g_autofree char *site = g_strdup (dropdown_id (self->site_dropdown));
  g_autofree char *rule = g_strdup (dropdown_id (self->rule_dropdown));
  g_auto (GStrv) sites = cu_flags_sites (store, NULL);
  g_autoptr (GPtrArray) all = cu_flags_list (store, NULL, NULL);
  g_autoptr (GStrvBuilder) site_ids = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) site_labels = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) rule_ids = g_strv_builder_new ();
  g_autoptr (GStrvBuilder) rule_labels = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) rules = g_ptr_array_new ();
  g_auto (GStrv) si = NULL, sl = NULL, ri = NULL, rl = NULL;

  self->filling = TRUE;
  g_strv_builder_add (site_ids, "");
  g_strv_builder_add (site_labels, _("All sites"));
  for (guint i = 0; sites != NULL && sites[i] != NULL; i++)
    {
      g_strv_builder_add (site_ids, sites[i]);
      g_strv_builder_add (site_labels, sites[i]);
    }
  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      CuFlag *f = all->pdata[i];
      if (!g_hash_table_contains (seen, f->rule_id))
        {
          g_hash_table_add (seen, f->rule_id);
          g_ptr_array_add (rules, f->rule_id);
        }
    }
  g_ptr_array_sort (rules, compare_strings);
  g_strv_builder_add (rule_ids, "");
  g_strv_builder_add (rule_labels, _("All rules"));
  for (guint i = 0; i < rules->len; i++)
    {
      g_strv_builder_add (rule_ids, rules->pdata[i]);
      g_strv_builder_add (rule_labels, rules->pdata[i]);
    }
  si = g_strv_builder_end (site_ids);
  sl = g_strv_builder_end (site_labels);
  ri = g_strv_builder_end (rule_ids);
  rl = g_strv_builder_end (rule_labels);
  set_dropdown (self->site_dropdown, (const char *const *) si, (const char *const *) sl, site);
  set_dropdown (self->rule_dropdown, (const char *const *) ri, (const char *const *) rl, rule);
  self->filling = FALSE;
}

/* ---- the list ----------------------------------------------------------------------- */

static const char *
severity_icon (const char *severity)
{
  if (g_strcmp0 (severity, "error") == 0)
    return "dialog-error-symbolic";
  if (g_strcmp0 (severity, "warning") == 0)
    return "dialog-warning-symbolic";
  return "dialog-information-symbolic";
}

static void
add_menu_item (GMenu *menu, const char *label, gint64 id, CuFlagState state)
{
  g_autoptr (GMenuItem) item = g_menu_item_new (label, NULL);

  g_menu_item_set_action_and_target_value (item, "flags.set-state",
                                           g_variant_new ("(xs)", id, cu_flag_state_to_string (state)));
  g_menu_append_item (menu, item);
}

static GtkWidget *
make_row (CuFlag *f)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name (severity_icon (f->severity));
  GtkWidget *state = gtk_label_new (cu_flag_state_to_label (f->state));
  GtkWidget *menu_button = gtk_menu_button_new ();
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autofree char *title = NULL;
  g_autofree char *escaped = g_markup_escape_text (f->message, -1);

  /* TRANSLATORS: flag row: number, rule (or what a flag raised by hand is), pseudonym */
  title = g_markup_printf_escaped (_("#%lld · %s · %s"), (long long) f->id,
                                   f->kind == CU_FLAG_KIND_RULE ? f->rule_id : cu_flag_kind_to_label (f->kind),
                                   f->person_id);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), escaped);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  gtk_widget_set_tooltip_text (row, f->title);
  gtk_widget_add_css_class (icon, g_strcmp0 (f->severity, "error") == 0 ? "error"
                                  : g_strcmp0 (f->severity, "warning") == 0 ? "warning" : "dim-label");
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
  /* Incidental findings never wait: marked, and listed first (cu_flags_list). */
  if (f->urgent)
    {
      GtkWidget *urgent = gtk_label_new (_("Urgent"));
      gtk_widget_add_css_class (urgent, "flag-urgent");
      gtk_widget_add_css_class (urgent, "error");
      gtk_widget_add_css_class (urgent, "heading");
      gtk_widget_set_valign (urgent, GTK_ALIGN_CENTER);
      gtk_widget_set_name (urgent, "urgent");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), urgent);
    }

  gtk_widget_add_css_class (state, "flag-state");
  gtk_widget_add_css_class (state, cu_flag_state_to_string (f->state));
  gtk_widget_set_valign (state, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), state);

  /* The images the flag is about: its series, else its study, else the patient's first. */
  {
    GtkWidget *jump = gtk_button_new_from_icon_name ("go-jump-symbolic");
    gtk_widget_set_valign (jump, GTK_ALIGN_CENTER);
    gtk_widget_set_tooltip_text (jump, _("Show the images in the main window"));
    gtk_actionable_set_action_target (GTK_ACTIONABLE (jump), "x", f->id);
    gtk_actionable_set_action_name (GTK_ACTIONABLE (jump), "flags.jump");
    gtk_widget_add_css_class (jump, "flat");
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), jump);
  }

  {
    GtkWidget *history = gtk_button_new_from_icon_name ("document-open-recent-symbolic");
    gtk_widget_set_valign (history, GTK_ALIGN_CENTER);
    gtk_widget_set_tooltip_text (history, _("History of the flag: each step with who, when, comment and answer"));
    gtk_actionable_set_action_target (GTK_ACTIONABLE (history), "x", f->id);
    gtk_actionable_set_action_name (GTK_ACTIONABLE (history), "flags.history");
    gtk_widget_add_css_class (history, "flat");
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), history);
  }

  if (f->state == CU_FLAG_OPEN)
    add_menu_item (menu, _("Mark as Sent to Site"), f->id, CU_FLAG_SENT);
  if (f->state == CU_FLAG_OPEN || f->state == CU_FLAG_SENT)
    add_menu_item (menu, _("Record an Answer…"), f->id, CU_FLAG_ANSWERED);
  if (cu_flag_state_is_active (f->state))
    {
      add_menu_item (menu, _("Resolve…"), f->id, CU_FLAG_RESOLVED);
      add_menu_item (menu, _("Accept as Is…"), f->id, CU_FLAG_ACCEPTED);
      add_menu_item (menu, _("Withdraw…"), f->id, CU_FLAG_WITHDRAWN);
    }
  else
    add_menu_item (menu, _("Reopen…"), f->id, CU_FLAG_OPEN);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), G_MENU_MODEL (menu));
  gtk_widget_set_valign (menu_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (menu_button, _("Change the state of the flag"));
  gtk_widget_add_css_class (menu_button, "flat");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), menu_button);
  return row;
}

void
cu_flags_window_reload (CuFlagsWindow *self)
{
  CuStore *store;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) flags = NULL;
  g_autoptr (GHashTable) persons = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *summary = NULL;
  const char *person;
  CuFlagFilter filter = { 0 };
  GtkWidget *child;
  guint n_active = 0;

  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  store = cu_window_get_store (self->parent);
  if (store == NULL)
    return;
  fill_dynamic_filters (self);
  person = gtk_editable_get_text (GTK_EDITABLE (self->person_entry));
  filter.site = dropdown_id (self->site_dropdown);
  filter.rule_id = dropdown_id (self->rule_dropdown);
  filter.state = dropdown_id (self->state_dropdown);
  filter.severity = dropdown_id (self->severity_dropdown);
  /* Part of a pseudonym finds it ("CUR" finds CUR-DEMO-0001), as a search field promises. */
  filter.person_search = person != NULL && *person ? person : NULL;
  flags = cu_flags_list (store, &filter, &error);
  if (flags == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
      return;
    }

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];
      gtk_list_box_append (self->list, make_row (f));
      g_hash_table_add (persons, f->person_id);
      n_active += cu_flag_state_is_active (f->state);
    }
  g_clear_pointer (&self->flags, g_ptr_array_unref);
  self->flags = g_steal_pointer (&flags);
  gtk_stack_set_visible_child_name (self->stack, self->flags->len > 0 ? "list" : "empty");
  if (self->flags->len == 0)
    {
      /* An empty list because of the filters is not an empty workspace: say which it is. */
      g_autoptr (GPtrArray) all = cu_flags_list (store, NULL, NULL);
      gboolean filtered = all != NULL && all->len > 0;

      adw_status_page_set_title (self->empty_page, filtered ? _("No Flags Match the Filter")
                                                            : _("No Flags"));
      adw_status_page_set_description (self->empty_page,
        filtered ? _("Change or clear the filters above to see the other flags.")
                 : _("Import the site’s clinical data and run the checks: every disagreement "
                     "between the images and the clinical data becomes a flag here."));
    }
  {
    g_autofree char *shown = NULL, *active = NULL, *about = NULL;
    guint n_persons = g_hash_table_size (persons);

    /* TRANSLATORS: flags panel summary, part 1 of 3: flags shown */
    shown = g_strdup_printf (ngettext ("%u flag shown", "%u flags shown", self->flags->len),
                             self->flags->len);
    /* TRANSLATORS: flags panel summary, part 2 of 3: how many of them need work */
    active = g_strdup_printf (ngettext ("%u needing work", "%u needing work", n_active), n_active);
    /* TRANSLATORS: flags panel summary, part 3 of 3: about how many patients */
    about = g_strdup_printf (ngettext ("about %u patient", "about %u patients", n_persons),
                             n_persons);
    /* TRANSLATORS: flags panel summary: "3 flags shown (2 needing work) about 1 patient" */
    summary = g_strdup_printf (_("%s (%s) %s"), shown, active, about);
  }
  gtk_label_set_label (self->summary_label, summary);
  adw_window_title_set_subtitle (self->window_title, cu_store_get_path (store));
}

static void
filter_changed_cb (CuFlagsWindow *self)
{
  if (!self->filling)
    cu_flags_window_reload (self);
}

/* ---- actions: state, jump ----------------------------------------------------------- */

/* A state change, written off the UI thread (cu-store-write.h): another process's
 * transaction can hold the workspace for seconds. */
typedef struct
{
  CuFlagsWindow *self;        /* a reference, released on the UI thread */
  gint64         id;
  CuFlagState    state;
  char          *comment;
} StateChange;

static gboolean
write_state (CuStore *store, gpointer data, GError **error)
{
  StateChange *c = data;
  return cu_flags_set_state (store, c->id, c->state, c->comment, error);
}

static void
state_written_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  StateChange *c = data;
  CuFlagsWindow *self = c->self;
  g_autoptr (GError) error = NULL;

  self->n_writes--;
  /* The window may have been closed while the change was written. */
  gboolean shown = self->parent != NULL && self->toast_overlay != NULL;

  if (!cu_store_write_finish (CU_STORE (source), result, &error) && shown)
    adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
  if (shown)
    {
      cu_flags_window_reload (self);
      _cu_window_flags_changed (self->parent);
    }
  g_free (c->comment);
  g_object_unref (c->self);
  g_free (c);
}

static void
set_state (CuFlagsWindow *self, gint64 id, CuFlagState state, const char *comment)
{
  StateChange *c = g_new0 (StateChange, 1);

  c->self = g_object_ref (self);
  c->id = id;
  c->state = state;
  c->comment = g_strdup (comment);
  self->n_writes++;
  cu_store_write_async (cu_window_get_store (self->parent), write_state, c, NULL, NULL,
                        state_written_cb, c);
}

static void
state_response_cb (AdwMessageDialog *dialog, const char *response, CuFlagsWindow *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "cu-entry");
  gint64 id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (dialog), "cu-id"));
  CuFlagState state = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "cu-state"));
  const char *comment;

  if (g_strcmp0 (response, "apply") != 0)
    return;
  comment = gtk_editable_get_text (entry);
  set_state (self, id, state, comment != NULL && *comment ? comment : NULL);
}

static void
set_state_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (widget);
  gint64 id;
  const char *state_text;
  CuFlagState state;
  GtkWidget *dialog, *entry;
  g_autofree char *heading = NULL;

  g_variant_get (param, "(x&s)", &id, &state_text);
  if (!cu_flag_state_from_string (state_text, &state))
    return;
  /* Sending needs no comment; every other step asks for one (it goes to the history). */
  if (state == CU_FLAG_SENT)
    {
      set_state (self, id, state, NULL);
      return;
    }
  /* TRANSLATORS: %lld is a flag number, %s the new state */
  heading = g_strdup_printf (_("Flag #%lld: %s"), (long long) id, cu_flag_state_to_label (state));
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   state == CU_FLAG_ANSWERED ? _("Write down the site’s answer.")
                                                             : _("Say why (kept in the flag’s history with your name and the time)."));
  entry = gtk_entry_new ();
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Comment"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "apply", _("_Apply"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "apply",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "apply");
  g_object_set_data (G_OBJECT (dialog), "cu-entry", entry);
  g_object_set_data (G_OBJECT (dialog), "cu-id", GSIZE_TO_POINTER ((gsize) id));
  g_object_set_data (G_OBJECT (dialog), "cu-state", GUINT_TO_POINTER (state));
  g_signal_connect_object (dialog, "response", G_CALLBACK (state_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- history ------------------------------------------------------------------------- */

static const char *
state_label_of (const char *state)
{
  CuFlagState st;
  return cu_flag_state_from_string (state, &st) ? cu_flag_state_to_label (st) : state;
}

static GtkWidget *
history_row (const CuFlagEvent *e)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *when = cu_local_time_format (e->time, FALSE);
  g_autofree char *title = NULL;
  g_autoptr (GString) sub = g_string_new (NULL);

  if (e->from_state == NULL)
    /* TRANSLATORS: first step of a flag's history; %s is the state (Open) */
    title = g_strdup_printf (_("Found: %s"), state_label_of (e->to_state));
  else if (g_strcmp0 (e->from_state, e->to_state) == 0)
    title = g_strdup (_("Comment"));
  else
    /* TRANSLATORS: a step of a flag's history: old state → new state */
    title = g_strdup_printf (_("%s → %s"), state_label_of (e->from_state), state_label_of (e->to_state));
  /* TRANSLATORS: when and who, in a flag's history */
  g_string_append_printf (sub, _("%s · %s"), when, e->user != NULL ? e->user : "—");
  if (e->comment != NULL && *e->comment)
    g_string_append_printf (sub, "\n%s", e->comment);
  if (e->answer != NULL && *e->answer)
    /* TRANSLATORS: the site's answer in a flag's history */
    g_string_append_printf (sub, _("\nSite’s answer: %s"), e->answer);
  if (e->corrected_value != NULL && *e->corrected_value)
    g_string_append_printf (sub, _("\nCorrected value: %s"), e->corrected_value);
  {
    g_autofree char *t = g_markup_escape_text (title, -1);
    g_autofree char *st = g_markup_escape_text (sub->str, -1);
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), t);
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), st);
  }
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name (e->from_state == NULL ? "list-add-symbolic"
                                                           : g_strcmp0 (e->from_state, e->to_state) == 0
                                                             ? "user-available-symbolic"
                                                             : "go-next-symbolic"));
  return row;
}

GtkWidget *
cu_flags_window_show_history (CuFlagsWindow *self, gint64 id)
{
  CuStore *store;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuFlag) flag = NULL;
  g_autoptr (GPtrArray) events = NULL;
  g_autofree char *heading = NULL;
  GtkWidget *dialog, *scrolled, *list;

  g_return_val_if_fail (CU_IS_FLAGS_WINDOW (self), NULL);
  store = cu_window_get_store (self->parent);
  flag = cu_flags_get (store, id, &error);
  if (flag != NULL)
    events = cu_flags_events (store, id, &error);
  if (events == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (error->message));
      return NULL;
    }
  /* TRANSLATORS: %lld is a flag number, %s its rule, %s the pseudonym */
  heading = g_strdup_printf (_("Flag #%lld · %s · %s"), (long long) flag->id, flag->rule_id, flag->person_id);
  /* A window of its own, not a message dialog: the history can be long and its lines wide. */
  dialog = adw_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_title (GTK_WINDOW (dialog), heading);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 620, 560);
  {
    /* Escape closes it, as it closes a message dialog. */
    GtkEventController *keys = gtk_shortcut_controller_new ();
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                            gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (dialog, keys);
  }
  {
    GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *header = adw_header_bar_new ();
    GtkWidget *title = adw_window_title_new (heading, _("History of the Flag"));
    GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
    GtkWidget *what = gtk_label_new (flag->title);
    GtkWidget *message = gtk_label_new (flag->message);
    g_autofree char *now = g_strdup_printf (_("Now: %s"), cu_flag_state_to_label (flag->state));
    GtkWidget *state = gtk_label_new (now);

    adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title);
    gtk_box_append (GTK_BOX (box), header);
    gtk_widget_add_css_class (what, "heading");
    gtk_label_set_wrap (GTK_LABEL (message), TRUE);
    gtk_widget_add_css_class (state, "dim-label");
    for (GtkWidget *l = what; l != NULL; l = l == what ? message : l == message ? state : NULL)
      {
        gtk_label_set_xalign (GTK_LABEL (l), 0);
        gtk_box_append (GTK_BOX (content), l);
      }
    list = gtk_list_box_new ();
    gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
    gtk_widget_add_css_class (list, "boxed-list");
    gtk_widget_set_margin_top (list, 6);
    for (guint i = 0; i < events->len; i++)
      gtk_list_box_append (GTK_LIST_BOX (list), history_row (events->pdata[i]));
    gtk_box_append (GTK_BOX (content), list);
    gtk_widget_set_margin_start (content, 18);
    gtk_widget_set_margin_end (content, 18);
    gtk_widget_set_margin_top (content, 12);
    gtk_widget_set_margin_bottom (content, 18);
    scrolled = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_widget_set_vexpand (scrolled, TRUE);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), content);
    gtk_box_append (GTK_BOX (box), scrolled);
    adw_window_set_content (ADW_WINDOW (dialog), box);
  }
  gtk_widget_add_css_class (dialog, "flag-history");
  {
    GtkEventController *keys = gtk_shortcut_controller_new ();
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (keys),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                                                            gtk_named_action_new ("window.close")));
    gtk_widget_add_controller (dialog, keys);
  }
  g_object_set_data (G_OBJECT (dialog), "cu-history-list", list);
  g_object_set_data (G_OBJECT (dialog), "cu-n-steps", GUINT_TO_POINTER (events->len));
  g_set_weak_pointer (&self->report, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
history_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_flags_window_show_history (CU_FLAGS_WINDOW (widget), g_variant_get_int64 (param));
}

static char *
series_for_flag (CuStore *store, const CuFlag *f)
{
  g_autoptr (GPtrArray) records = NULL;

  if (f->series_uid != NULL)
    return g_strdup (f->series_uid);
  records = cu_store_list_series (store, NULL);
  for (guint pass = 0; records != NULL && pass < 2; pass++)
    for (guint i = 0; i < records->len; i++)
      {
        const CuSeriesRecord *r = records->pdata[i];
        if (pass == 0 ? (f->study_uid != NULL && g_strcmp0 (r->study_uid, f->study_uid) == 0)
                      : g_strcmp0 (r->patient_id, f->person_id) == 0)
          return g_strdup (r->series_uid);
      }
  return NULL;
}

static void
jump_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (widget);
  CuStore *store = cu_window_get_store (self->parent);
  g_autoptr (CuFlag) flag = cu_flags_get (store, g_variant_get_int64 (param), NULL);
  g_autofree char *series = flag != NULL ? series_for_flag (store, flag) : NULL;

  if (series == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("No images of this patient in the workspace")));
      return;
    }
  cu_window_open_series (self->parent, series);
  gtk_window_present (GTK_WINDOW (self->parent));
}

/* ---- jobs: clinical import, check ---------------------------------------------------- */

typedef enum
{
  JOB_CLINICAL,     /* import a clinical CSV, then run the rules */
  JOB_CHECK,        /* run the rules */
  JOB_EXPORT,       /* write a bundle for a site */
  JOB_ANSWERS,      /* apply a site's answers */
  JOB_EXPORT_URGENT,  /* write a bundle of a site's urgent flags only */
} JobKind;

typedef struct
{
  JobKind kind;
  char *workspace;
  char *path;                   /* CSV, bundle folder or answers file */
  char *site;                   /* of the clinical data, or of the bundle */
  char *lang;                   /* of the bundle's report, or NULL */
  CuClinicalReport *clinical;
  CuFlagCheckReport *check;
  CuFlagBundle *bundle;
  CuFlagImportReport *answers;
} Job;

static void
job_free (Job *j)
{
  g_free (j->workspace);
  g_free (j->path);
  g_free (j->site);
  g_free (j->lang);
  g_clear_pointer (&j->clinical, cu_clinical_report_free);
  g_clear_pointer (&j->check, cu_flag_check_report_free);
  g_clear_pointer (&j->bundle, cu_flag_bundle_free);
  g_clear_pointer (&j->answers, cu_flag_import_report_free);
  g_free (j);
}

static void
job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *j = task_data;
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;

  store = cu_store_open (j->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (j->kind == JOB_EXPORT || j->kind == JOB_EXPORT_URGENT)
    {
      j->bundle = cu_flag_bundle_export_full (store, j->site, j->path, j->lang,
                                              j->kind == JOB_EXPORT_URGENT, &error);
      if (j->bundle == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  if (j->kind == JOB_ANSWERS)
    {
      j->answers = cu_flag_bundle_import (store, j->path, &error);
      if (j->answers == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_boolean (task, TRUE);
      return;
    }
  if (j->kind == JOB_CLINICAL)
    {
      j->clinical = cu_clinical_import (store, j->path, j->site, &error);
      if (j->clinical == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      if (j->clinical->issues->len > 0)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
    }
  j->check = cu_flags_check (store, &error);
  if (j->check == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
set_jobs_enabled (CuFlagsWindow *self, gboolean enabled)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "flags.import-clinical", enabled);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "flags.check", enabled);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "flags.export-bundle", enabled);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "flags.export-urgent", enabled);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "flags.import-answers", enabled);
}

static char *
describe_check (const CuFlagCheckReport *c)
{
  /* Each count agrees with its own noun ("1 flag", "2 flags"), so each is its own ngettext. */
  g_autofree char *added = g_strdup_printf (ngettext ("%u new flag", "%u new flags", c->n_new),
                                            c->n_new);
  g_autofree char *closed = g_strdup_printf (ngettext ("%u closed because its cause disappeared",
                                                       "%u closed because their cause disappeared",
                                                       c->closed->len),
                                             c->closed->len);
  g_autofree char *active = g_strdup_printf (ngettext ("%u flag needs work", "%u flags need work",
                                                       c->n_active),
                                             c->n_active);

  /* TRANSLATORS: result of running the consistency rules: "3 new flags, 1 closed because its
   * cause disappeared; 5 flags need work." */
  return g_strdup_printf (_("%s, %s; %s."), added, closed, active);
}

static void
show_report (CuFlagsWindow *self, const char *heading, const char *body, const char *details)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  if (details != NULL && *details)
    {
      GtkWidget *scrolled = gtk_scrolled_window_new ();
      GtkWidget *label = gtk_label_new (details);

      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_yalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "monospace");
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), label);
      gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 220);
      gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scrolled), 560);
      adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), scrolled);
    }
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  g_set_weak_pointer (&self->report, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (source);
  Job *j = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *body = NULL;

  /* The panel was closed while the job ran (dispose cancels): nothing left to show. */
  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  g_clear_object (&self->cancellable);
  set_jobs_enabled (self, TRUE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      const char *heading[] = { N_("Clinical Import Failed"), N_("Checks Failed"),
                                N_("Bundle Not Written"), N_("Answers Not Applied"),
                                N_("Bundle Not Written") };
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_report (self, _(heading[j->kind]), error->message, NULL);
      return;
    }

  if (j->kind == JOB_EXPORT || j->kind == JOB_EXPORT_URGENT)
    {
      g_autofree char *display = g_filename_display_name (j->path);
      g_autofree char *flags = g_strdup_printf (ngettext ("%u flag", "%u flags", j->bundle->n_flags),
                                                j->bundle->n_flags);
      g_autofree char *about = g_strdup_printf (ngettext ("about %u patient", "about %u patients",
                                                          j->bundle->n_persons),
                                                j->bundle->n_persons);
      /* TRANSLATORS: bundle written: "3 flags" "about 1 patient", site, folder */
      body = g_strdup_printf (_("%s %s for site %s, in %s: report.html for the "
                                "site’s data collectors, answers.csv for their answers, "
                                "manifest.json. The flags are now “sent to site”."),
                              flags, about, j->site, display);
      cu_flags_window_reload (self);
      _cu_window_flags_changed (self->parent);
      show_report (self, _("Bundle Written"), body, NULL);
      return;
    }
  if (j->kind == JOB_ANSWERS)
    {
      g_autoptr (GString) details = g_string_new (NULL);

      if (j->answers->issues->len > 0)
        {
          for (guint i = 0; i < j->answers->issues->len; i++)
            {
              const CuClinicalIssue *is = j->answers->issues->pdata[i];
              g_string_append_printf (details, _("line %u, %s: %s\n"), is->line,
                                      is->column != NULL ? is->column : "—", is->reason);
            }
          show_report (self, _("Answers Rejected"),
                       _("Some rows of the answers are wrong. Nothing was applied: correct them "
                         "and import the answers again."), details->str);
          return;
        }
      for (guint i = 0; i < j->answers->check->closed->len; i++)
        {
          const CuFlag *f = j->answers->check->closed->pdata[i];
          g_string_append_printf (details, _("#%lld %s %s: resolved, the cause has disappeared\n"),
                                  (long long) f->id, f->rule_id, f->person_id);
        }
      guint n_ans = j->answers->n_answered, n_cor = j->answers->n_corrected;
      guint n_un = j->answers->n_unanswered, n_res = j->answers->check->closed->len;
      guint n_new = j->answers->check->n_new;
      g_autofree char *answered = g_strdup_printf (ngettext ("%u answered", "%u answered", n_ans), n_ans);
      g_autofree char *corrected = g_strdup_printf (ngettext ("%u clinical value corrected",
                                                              "%u clinical values corrected", n_cor),
                                                    n_cor);
      g_autofree char *unanswered = g_strdup_printf (ngettext ("%u unanswered", "%u unanswered", n_un),
                                                     n_un);
      g_autofree char *resolved = g_strdup_printf (ngettext ("%u flag resolved", "%u flags resolved",
                                                             n_res), n_res);
      g_autofree char *added = g_strdup_printf (ngettext ("%u new flag", "%u new flags", n_new), n_new);

      /* TRANSLATORS: answers applied: "2 answered (1 clinical value corrected), 0 unanswered.
       * The rules ran again: 1 flag resolved, 0 new flags." */
      body = g_strdup_printf (_("%s (%s), %s. The rules ran again: %s, %s."), answered, corrected,
                              unanswered, resolved, added);
      cu_flags_window_reload (self);
      _cu_window_flags_changed (self->parent);
      show_report (self, _("Answers Applied"), body, details->str);
      return;
    }

  if (j->clinical != NULL && j->clinical->issues->len > 0)
    {
      g_autoptr (GString) details = g_string_new (NULL);
      g_autofree char *name = g_path_get_basename (j->path);

      for (guint i = 0; i < j->clinical->issues->len; i++)
        {
          const CuClinicalIssue *is = j->clinical->issues->pdata[i];
          if (is->line > 0 && is->column != NULL)
            g_string_append_printf (details, _("line %u, %s: %s\n"), is->line, is->column, is->reason);
          else if (is->line > 0)
            g_string_append_printf (details, _("line %u: %s\n"), is->line, is->reason);
          else
            g_string_append_printf (details, "%s\n", is->reason);
        }
      /* TRANSLATORS: %s is a file name, %u a number of problems */
      body = g_strdup_printf (ngettext ("%s has %u problem. Nothing was imported: correct the file "
                                        "and import it again.",
                                        "%s has %u problems. Nothing was imported: correct the "
                                        "file and import it again.", j->clinical->issues->len),
                              name, j->clinical->issues->len);
      show_report (self, _("Clinical Data Rejected"), body, details->str);
      return;
    }

  cu_flags_window_reload (self);
  _cu_window_flags_changed (self->parent);
  if (j->clinical != NULL)
    {
      g_autofree char *check = describe_check (j->check);
      g_autofree char *name = g_path_get_basename (j->path);
      guint n_added = j->clinical->n_added, n_changed = j->clinical->n_changed;
      guint n_removed = j->clinical->n_removed, n_persons = j->clinical->n_persons;
      g_autofree char *persons = g_strdup_printf (ngettext ("%u patient", "%u patients", n_persons),
                                                  n_persons);
      g_autofree char *added = g_strdup_printf (ngettext ("%u value added", "%u values added",
                                                          n_added), n_added);
      g_autofree char *changed = g_strdup_printf (ngettext ("%u changed", "%u changed", n_changed),
                                                  n_changed);
      g_autofree char *removed = g_strdup_printf (ngettext ("%u removed", "%u removed", n_removed),
                                                  n_removed);
      /* TRANSLATORS: clinical import summary: file, layout, "3 patients", "12 values added",
       * "1 changed", "0 removed", then the result of the checks */
      body = g_strdup_printf (_("%s (%s layout): %s; %s, %s, %s.\n%s"), name,
                              cu_clinical_layout_label (j->clinical->layout), persons, added,
                              changed, removed, check);
      show_report (self, _("Clinical Data Imported"), body, NULL);
    }
  else
    {
      g_autofree char *check = describe_check (j->check);
      adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (check));
    }
}

static void
run_job (CuFlagsWindow *self, JobKind kind, const char *path, const char *site, const char *lang)
{
  g_autoptr (GTask) task = NULL;
  Job *j;

  if (self->cancellable != NULL)
    return;
  self->cancellable = g_cancellable_new ();
  set_jobs_enabled (self, FALSE);
  j = g_new0 (Job, 1);
  j->kind = kind;
  j->workspace = g_strdup (cu_store_get_path (cu_window_get_store (self->parent)));
  j->path = g_strdup (path);
  j->site = g_strdup (site);
  j->lang = g_strdup (lang);
  task = g_task_new (self, self->cancellable, job_done, NULL);
  g_task_set_source_tag (task, run_job);
  g_task_set_task_data (task, j, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
}

void
cu_flags_window_import_clinical (CuFlagsWindow *self, const char *path)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  g_return_if_fail (path != NULL);
  run_job (self, JOB_CLINICAL, path, NULL, NULL);
}

void
cu_flags_window_import_clinical_site (CuFlagsWindow *self, const char *path, const char *site)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  g_return_if_fail (path != NULL);
  run_job (self, JOB_CLINICAL, path, site != NULL && *site ? site : NULL, NULL);
}

void
cu_flags_window_check (CuFlagsWindow *self)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  run_job (self, JOB_CHECK, NULL, NULL, NULL);
}

void
cu_flags_window_export_bundle (CuFlagsWindow *self, const char *site, const char *out_dir)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  g_return_if_fail (site != NULL && out_dir != NULL);
  run_job (self, JOB_EXPORT, out_dir, site, NULL);
}

void
cu_flags_window_export_bundle_lang (CuFlagsWindow *self, const char *site, const char *out_dir,
                                    const char *lang)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  g_return_if_fail (site != NULL && out_dir != NULL);
  run_job (self, JOB_EXPORT, out_dir, site, lang);
}

void
cu_flags_window_import_answers (CuFlagsWindow *self, const char *path)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  g_return_if_fail (path != NULL);
  run_job (self, JOB_ANSWERS, path, NULL, NULL);
}

gboolean
cu_flags_window_is_busy (CuFlagsWindow *self)
{
  return self->cancellable != NULL || self->n_writes > 0;
}

GtkWidget *
cu_flags_window_get_report (CuFlagsWindow *self)
{
  return self->report;
}

static void
chooser_response_cb (GtkNativeDialog *dialog, int response, CuFlagsWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      JobKind kind = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (dialog), "cu-kind"));
      const char *site = g_object_get_data (G_OBJECT (dialog), "cu-site");
      const char *lang = g_object_get_data (G_OBJECT (dialog), "cu-lang");

      if (path != NULL && kind == JOB_CLINICAL)
        cu_flags_window_prompt_clinical_site (self, path);
      else if (path != NULL)
        run_job (self, kind, path, site, lang);
    }
  gtk_native_dialog_destroy (dialog);
  g_clear_object (&self->chooser);
}

static void choose_bundle_folder (CuFlagsWindow *self, const char *site, const char *lang);

/* A language's name in that language, for the report language choice. */
static const char *
language_name (const char *lang)
{
  if (g_str_has_prefix (lang, "en"))
    return "English";
  if (g_str_has_prefix (lang, "es"))
    return "Español";
  return lang;
}

static void
bundle_prompt_cb (AdwMessageDialog *dialog, const char *response, CuFlagsWindow *self)
{
  GtkDropDown *dropdown = g_object_get_data (G_OBJECT (dialog), "cu-languages");
  const char *const *langs = g_object_get_data (G_OBJECT (dialog), "cu-ids");
  const char *site = g_object_get_data (G_OBJECT (dialog), "cu-site");
  guint n = gtk_drop_down_get_selected (dropdown);

  if (g_strcmp0 (response, "choose") == 0 && n < g_strv_length ((char **) langs))
    choose_bundle_folder (self, site, langs[n]);
}

GtkWidget *
cu_flags_window_prompt_bundle (CuFlagsWindow *self, const char *site)
{
  g_auto (GStrv) langs = cu_translation_languages ();
  g_autofree char *current = cu_flag_bundle_site_language (cu_window_get_store (self->parent), site);
  g_autofree char *heading = NULL;
  g_autoptr (GtkStringList) names = gtk_string_list_new (NULL);
  GtkWidget *dialog, *dropdown;
  guint selected = 0;

  g_return_val_if_fail (CU_IS_FLAGS_WINDOW (self), NULL);
  for (guint i = 0; langs[i] != NULL; i++)
    {
      gtk_string_list_append (names, language_name (langs[i]));
      if (g_str_has_prefix (current, langs[i]))
        selected = i;
    }
  /* TRANSLATORS: %s is a site */
  heading = g_strdup_printf (_("Send the Flags of Site %s"), site);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading,
                                   _("The bundle has a report for the site’s data collectors and a "
                                     "CSV for their answers. Write the report in the site’s language:"));
  dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (names)), NULL);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), selected);
  gtk_widget_set_halign (dropdown, GTK_ALIGN_CENTER);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), dropdown);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "choose", _("_Choose Folder…"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "choose", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "choose");
  g_object_set_data (G_OBJECT (dialog), "cu-languages", dropdown);
  g_object_set_data_full (G_OBJECT (dialog), "cu-ids", g_steal_pointer (&langs), (GDestroyNotify) g_strfreev);
  g_object_set_data_full (G_OBJECT (dialog), "cu-site", g_strdup (site), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (bundle_prompt_cb), self, 0);
  g_set_weak_pointer (&self->report, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
export_bundle_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (widget);
  const char *site = dropdown_id (self->site_dropdown);

  if (self->chooser != NULL)
    return;
  if (site == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("Choose the site in the Site filter first")));
      return;
    }
  cu_flags_window_prompt_bundle (self, site);
}

void
cu_flags_window_export_urgent (CuFlagsWindow *self, const char *site, const char *out_dir)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  g_return_if_fail (site != NULL && out_dir != NULL);
  run_job (self, JOB_EXPORT_URGENT, out_dir, site, NULL);
}

/* The site of the urgent flags to send: the one chosen in the Site filter, else the site of
 * the first active urgent flag. */
static char *
urgent_site (CuFlagsWindow *self)
{
  const char *chosen = dropdown_id (self->site_dropdown);
  CuFlagFilter filter = { .site = chosen, .state = "active", .urgent_only = TRUE };
  g_autoptr (GPtrArray) flags = cu_flags_list (cu_window_get_store (self->parent), &filter, NULL);

  if (flags == NULL || flags->len == 0)
    return NULL;
  return g_strdup (((CuFlag *) flags->pdata[0])->site);
}

static void
export_urgent_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (widget);
  g_autofree char *site = NULL, *title = NULL;

  if (self->chooser != NULL)
    return;
  site = urgent_site (self);
  if (site == NULL)
    {
      adw_toast_overlay_add_toast (self->toast_overlay,
                                   adw_toast_new (_("No urgent flag waits to be sent")));
      return;
    }
  /* TRANSLATORS: %s is a site */
  title = g_strdup_printf (_("Folder for the Urgent Flags of Site %s"), site);
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Write Bundle"), _("_Cancel"));
  g_object_set_data (G_OBJECT (self->chooser), "cu-kind", GUINT_TO_POINTER (JOB_EXPORT_URGENT));
  g_object_set_data_full (G_OBJECT (self->chooser), "cu-site", g_strdup (site), g_free);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
choose_bundle_folder (CuFlagsWindow *self, const char *site, const char *lang)
{
  g_autofree char *title = NULL;

  if (self->chooser != NULL)
    return;
  /* TRANSLATORS: %s is a site */
  title = g_strdup_printf (_("Folder for the Bundle of Site %s"), site);
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                               _("_Write Bundle"), _("_Cancel"));
  g_object_set_data (G_OBJECT (self->chooser), "cu-kind", GUINT_TO_POINTER (JOB_EXPORT));
  g_object_set_data_full (G_OBJECT (self->chooser), "cu-site", g_strdup (site), g_free);
  g_object_set_data_full (G_OBJECT (self->chooser), "cu-lang", g_strdup (lang), g_free);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
import_answers_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (widget);
  g_autoptr (GtkFileFilter) csv = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("The Site’s Answers (answers.csv of the Bundle)"),
                                               GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Apply"), _("_Cancel"));
  gtk_file_filter_set_name (csv, _("Answers (CSV)"));
  gtk_file_filter_add_pattern (csv, "*.csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), csv);
  g_object_set_data (G_OBJECT (self->chooser), "cu-kind", GUINT_TO_POINTER (JOB_ANSWERS));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
clinical_site_cb (AdwMessageDialog *dialog, const char *response, CuFlagsWindow *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "cu-entry");
  const char *path = g_object_get_data (G_OBJECT (dialog), "cu-path");

  if (g_strcmp0 (response, "import") == 0)
    {
      g_autofree char *site = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
      cu_flags_window_import_clinical_site (self, path, site);
    }
}

GtkWidget *
cu_flags_window_prompt_clinical_site (CuFlagsWindow *self, const char *path)
{
  g_autofree char *name = NULL, *body = NULL;
  const char *site;
  GtkWidget *dialog, *entry;

  g_return_val_if_fail (CU_IS_FLAGS_WINDOW (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);
  name = g_filename_display_basename (path);
  /* TRANSLATORS: %s is a file name */
  body = g_strdup_printf (_("Which site sent %s? Its patients’ flags go back to that site. Leave "
                            "it empty to take each patient’s site from the pseudonym’s prefix "
                            "(PX for PX-0001)."), name);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Import Clinical Data"), body);
  entry = gtk_entry_new ();
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Site, e.g. SITE-A"));
  /* The site chosen in the filter is the likely one. */
  site = dropdown_id (self->site_dropdown);
  if (site != NULL)
    gtk_editable_set_text (GTK_EDITABLE (entry), site);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "import", _("_Import"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "import", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "import");
  g_object_set_data (G_OBJECT (dialog), "cu-entry", entry);
  g_object_set_data_full (G_OBJECT (dialog), "cu-path", g_strdup (path), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (clinical_site_cb), self, 0);
  g_set_weak_pointer (&self->report, dialog);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
import_clinical_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (widget);
  g_autoptr (GtkFileFilter) csv = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Import Clinical Data"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"),
                                               _("_Cancel"));
  gtk_file_filter_set_name (csv, _("CSV files (eCRF export)"));
  gtk_file_filter_add_pattern (csv, "*.csv");
  gtk_file_filter_add_pattern (csv, "*.CSV");
  gtk_file_filter_add_mime_type (csv, "text/csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), csv);
  g_object_set_data (G_OBJECT (self->chooser), "cu-kind", GUINT_TO_POINTER (JOB_CLINICAL));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
check_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_flags_window_check (CU_FLAGS_WINDOW (widget));
}

/* ---- filters API -------------------------------------------------------------------- */

static void
select_id (GtkDropDown *dropdown, const char *id)
{
  const char *const *ids = g_object_get_data (G_OBJECT (dropdown), "cu-ids");

  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    if (g_strcmp0 (ids[i], id != NULL ? id : "") == 0)
      {
        gtk_drop_down_set_selected (dropdown, i);
        return;
      }
}

void
cu_flags_window_set_filter (CuFlagsWindow *self, const char *site, const char *rule,
                            const char *state, const char *severity)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  self->filling = TRUE;
  select_id (self->site_dropdown, site);
  select_id (self->rule_dropdown, rule);
  select_id (self->state_dropdown, state);
  select_id (self->severity_dropdown, severity);
  self->filling = FALSE;
  cu_flags_window_reload (self);
}

void
cu_flags_window_set_person (CuFlagsWindow *self, const char *person_id)
{
  g_return_if_fail (CU_IS_FLAGS_WINDOW (self));
  self->filling = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->person_entry), person_id != NULL ? person_id : "");
  self->filling = FALSE;
  cu_flags_window_reload (self);
}

static int
shown_position (CuFlagsWindow *self, gint64 id)
{
  for (guint i = 0; self->flags != NULL && i < self->flags->len; i++)
    if (((CuFlag *) self->flags->pdata[i])->id == id)
      return (int) i;
  return -1;
}

gboolean
cu_flags_window_select_flag (CuFlagsWindow *self, gint64 id)
{
  GtkListBoxRow *row;
  int pos;

  g_return_val_if_fail (CU_IS_FLAGS_WINDOW (self), FALSE);
  pos = shown_position (self, id);
  if (pos < 0)
    {
      /* a release hold names an active flag, but the panel's filters may hide it */
      cu_flags_window_set_filter (self, NULL, NULL, NULL, NULL);
      pos = shown_position (self, id);
    }
  if (pos < 0)
    return FALSE;
  row = gtk_list_box_get_row_at_index (self->list, pos);
  if (row != NULL)
    {
      /* focused and outlined, as if reached with the keyboard: the row to look at */
      gtk_widget_grab_focus (GTK_WIDGET (row));
      gtk_window_set_focus_visible (GTK_WINDOW (self), TRUE);
    }
  return TRUE;
}

guint
cu_flags_window_get_n_shown (CuFlagsWindow *self)
{
  return self->flags != NULL ? self->flags->len : 0;
}

gint64
cu_flags_window_get_flag_id (CuFlagsWindow *self, guint n)
{
  return self->flags != NULL && n < self->flags->len ? ((CuFlag *) self->flags->pdata[n])->id : 0;
}

/* ---- GObject ------------------------------------------------------------------------ */

static void
cu_flags_window_dispose (GObject *object)
{
  CuFlagsWindow *self = CU_FLAGS_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_weak_pointer (&self->report);
  g_clear_weak_pointer (&self->parent);
  g_clear_pointer (&self->flags, g_ptr_array_unref);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_FLAGS_WINDOW);
  G_OBJECT_CLASS (cu_flags_window_parent_class)->dispose (object);
}

static void
cu_flags_window_class_init (CuFlagsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_flags_window_dispose;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-flags-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, site_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, rule_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, state_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, severity_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, person_entry);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, summary_label);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, CuFlagsWindow, list);

  gtk_widget_class_install_action (widget_class, "flags.import-clinical", NULL, import_clinical_action);
  gtk_widget_class_install_action (widget_class, "flags.check", NULL, check_action);
  gtk_widget_class_install_action (widget_class, "flags.export-bundle", NULL, export_bundle_action);
  gtk_widget_class_install_action (widget_class, "flags.export-urgent", NULL, export_urgent_action);
  gtk_widget_class_install_action (widget_class, "flags.import-answers", NULL, import_answers_action);
  gtk_widget_class_install_action (widget_class, "flags.set-state", "(xs)", set_state_action);
  gtk_widget_class_install_action (widget_class, "flags.jump", "x", jump_action);
  gtk_widget_class_install_action (widget_class, "flags.history", "x", history_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
cu_flags_window_init (CuFlagsWindow *self)
{
  const char *const state_labels[] = {
    _("Any state"), _("Needing work"), _("Open"), _("Sent to site"), _("Answered"), _("Resolved"),
    _("Accepted as is"), _("Withdrawn"), NULL
  };
  const char *const severity_labels[] = { _("Any severity"), _("Errors"), _("Warnings"), _("Info"), NULL };

  gtk_widget_init_template (GTK_WIDGET (self));
  self->filling = TRUE;
  set_dropdown (self->state_dropdown, state_ids, state_labels, "active");
  set_dropdown (self->severity_dropdown, severity_ids, severity_labels, NULL);
  self->filling = FALSE;
  g_signal_connect_swapped (self->site_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  g_signal_connect_swapped (self->rule_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  g_signal_connect_swapped (self->state_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  g_signal_connect_swapped (self->severity_dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  g_signal_connect_swapped (self->person_entry, "search-changed", G_CALLBACK (filter_changed_cb), self);
}

CuFlagsWindow *
cu_flags_window_new (CuWindow *parent)
{
  CuFlagsWindow *self;

  g_return_val_if_fail (CU_IS_WINDOW (parent), NULL);
  self = g_object_new (CU_TYPE_FLAGS_WINDOW, "transient-for", parent, "destroy-with-parent", TRUE,
                       NULL);
  g_set_weak_pointer (&self->parent, parent);
  cu_flags_window_reload (self);
  return self;
}

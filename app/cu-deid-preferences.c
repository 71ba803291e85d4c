/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-deid-preferences.c — CuDeidPreferences: the workspace's pseudonymization settings.
 *
 * One check row per PS3.15 option (DICOM PS3.15 E.1.1 and Table E.1-1 columns, named as the
 * standard names them), and the pseudonym pattern, a GRegex compiled as it is typed so that a
 * mistake is shown at once with GLib's reason instead of at save time. Saving writes the
 * configuration to the workspace, which marks every decided gate pending
 * (cu_store_set_deid_config), then emits "applied": the window checks the workspace again in
 * the background (cu-window-deid.c). Nothing is saved while the window is merely edited.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-deid-preferences.h"

static const struct
{
  CuDeidOptions option;
  const char *title;      /* N_() */
  const char *subtitle;   /* N_() */
} option_rows[] = {
  { CU_DEID_RETAIN_LONG_FULL_DATES, N_("Retain Longitudinal Temporal Information with Full Dates"),
    N_("Dates and times are kept as acquired (step 1 at a site)") },
  { CU_DEID_RETAIN_LONG_MODIF_DATES,
    N_("Retain Longitudinal Temporal Information with Modified Dates"),
    N_("Dates and times are kept, shifted (step 2 exports)") },
  { CU_DEID_RETAIN_PATIENT_CHARS, N_("Retain Patient Characteristics"),
    N_("Sex, age, size, weight and similar attributes are kept") },
  { CU_DEID_CLEAN_DESCRIPTORS, N_("Clean Descriptors"),
    N_("Descriptions, comments and protocol names may stay once cleaned of identifiers") },
  { CU_DEID_CLEAN_STRUCT_CONTENT, N_("Clean Structured Content"),
    N_("Structured reports may keep their content once cleaned") },
  { CU_DEID_CLEAN_GRAPHICS, N_("Clean Graphics"),
    N_("Graphic annotations may stay once cleaned") },
  { CU_DEID_RETAIN_DEVICE_ID, N_("Retain Device Identity"),
    N_("Station names, device serial numbers and similar are kept") },
  { CU_DEID_RETAIN_INSTITUTION_ID, N_("Retain Institution Identity"),
    N_("Institution names and departments are kept") },
  { CU_DEID_RETAIN_UIDS, N_("Retain UIDs"),
    N_("Study, series and instance UIDs are kept as acquired") },
  { CU_DEID_RETAIN_SAFE_PRIVATE, N_("Retain Safe Private"),
    N_("Private attributes known to be safe are kept") },
};

struct _CuDeidPreferences
{
  AdwWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwPreferencesGroup *options_group;
  AdwEntryRow *pattern_row;
  GtkLabel *pattern_message;
  GtkLabel *status_label;
  GtkWidget *apply_button;

  /* owned */
  CuStore *store;
  CuDeidConfig saved;            /* what the workspace has */
  GtkCheckButton *checks[G_N_ELEMENTS (option_rows)];
  gboolean pattern_valid;
  gboolean any_pending;          /* a study is not checked under the saved settings */
};

G_DEFINE_FINAL_TYPE (CuDeidPreferences, cu_deid_preferences, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_APPLIED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

CuDeidOptions
cu_deid_preferences_get_options (CuDeidPreferences *self)
{
  CuDeidOptions options;

  g_return_val_if_fail (CU_IS_DEID_PREFERENCES (self), 0);
  /* options without a row (none today) keep what the workspace has */
  options = self->saved.options;
  for (guint i = 0; i < G_N_ELEMENTS (option_rows); i++)
    {
      if (gtk_check_button_get_active (self->checks[i]))
        options |= option_rows[i].option;
      else
        options &= ~option_rows[i].option;
    }
  return options;
}

void
cu_deid_preferences_set_option (CuDeidPreferences *self, CuDeidOptions option, gboolean active)
{
  g_return_if_fail (CU_IS_DEID_PREFERENCES (self));
  for (guint i = 0; i < G_N_ELEMENTS (option_rows); i++)
    if (option_rows[i].option == option)
      gtk_check_button_set_active (self->checks[i], active);
}

/* The pattern typed, stripped; NULL when empty (not checked). */
static char *
typed_pattern (CuDeidPreferences *self)
{
  char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->pattern_row))));

  if (*text == '\0')
    g_clear_pointer (&text, g_free);
  return text;
}

gboolean
cu_deid_preferences_can_apply (CuDeidPreferences *self)
{
  g_autofree char *pattern = NULL;

  g_return_val_if_fail (CU_IS_DEID_PREFERENCES (self), FALSE);
  if (!self->pattern_valid)
    return FALSE;
  pattern = typed_pattern (self);
  /* Unchanged settings can still be applied while studies wait for a check under them (a
   * re-check that was cancelled, or could not start because another job was running). */
  return self->any_pending || cu_deid_preferences_get_options (self) != self->saved.options
         || g_strcmp0 (pattern, self->saved.pseudonym_pattern) != 0;
}

static gboolean
store_has_pending (CuStore *store)
{
  g_autoptr (GPtrArray) gates = cu_store_list_gates (store, NULL);

  for (guint i = 0; gates != NULL && i < gates->len; i++)
    if (((CuStudyGate *) gates->pdata[i])->state == CU_GATE_PENDING)
      return TRUE;
  return FALSE;
}

static void
update_state (CuDeidPreferences *self)
{
  gtk_widget_set_sensitive (self->apply_button, cu_deid_preferences_can_apply (self));
}

static void
option_toggled_cb (CuDeidPreferences *self)
{
  update_state (self);
}

static void
pattern_changed_cb (CuDeidPreferences *self)
{
  g_autofree char *pattern = typed_pattern (self);
  g_autoptr (GError) error = NULL;
  g_autoptr (GRegex) regex = NULL;

  if (pattern != NULL)
    regex = g_regex_new (pattern, 0, 0, &error);
  self->pattern_valid = pattern == NULL || regex != NULL;
  if (!self->pattern_valid)
    {
      g_autofree char *text = NULL;

      /* TRANSLATORS: %s is GLib's reason, e.g. "missing terminating ] for character class" */
      text = g_strdup_printf (_("Not a valid regular expression: %s"), error->message);
      gtk_label_set_text (self->pattern_message, text);
      gtk_widget_add_css_class (GTK_WIDGET (self->pattern_row), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->pattern_message), "error");
    }
  else
    {
      gtk_label_set_text (self->pattern_message,
                          pattern == NULL ? _("No pattern: Patient IDs are checked by the "
                                              "profile only (they must be empty or a dummy).")
                                          : _("Valid expression. Example that matches the "
                                              "built-in default: CUR-DEMO-0001."));
      gtk_widget_remove_css_class (GTK_WIDGET (self->pattern_row), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->pattern_message), "error");
    }
  update_state (self);
}

static void
show_config (CuDeidPreferences *self, const CuDeidConfig *config)
{
  for (guint i = 0; i < G_N_ELEMENTS (option_rows); i++)
    gtk_check_button_set_active (self->checks[i], (config->options & option_rows[i].option) != 0);
  gtk_editable_set_text (GTK_EDITABLE (self->pattern_row),
                         config->pseudonym_pattern != NULL ? config->pseudonym_pattern : "");
  pattern_changed_cb (self);
}

static void
defaults_clicked_cb (CuDeidPreferences *self)
{
  CuDeidConfig defaults = { CU_DEID_OPTIONS_SITE_DEFAULT,
                            (char *) CU_STORE_DEFAULT_PSEUDONYM_PATTERN };
  show_config (self, &defaults);
}

gboolean
cu_deid_preferences_apply (CuDeidPreferences *self)
{
  g_autoptr (GError) error = NULL;
  CuDeidConfig config = { 0 };

  g_return_val_if_fail (CU_IS_DEID_PREFERENCES (self), FALSE);
  if (!cu_deid_preferences_can_apply (self))
    return FALSE;
  config.options = cu_deid_preferences_get_options (self);
  config.pseudonym_pattern = typed_pattern (self);
  /* storing unchanged settings changes nothing (cu_store_set_deid_config compares) */
  if (!cu_store_set_deid_config (self->store, &config, &error))
    {
      gtk_label_set_text (self->status_label, error->message);
      gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
      g_free (config.pseudonym_pattern);
      return FALSE;
    }
  g_free (self->saved.pseudonym_pattern);
  self->saved = config;
  /* the window checks the workspace now; until then Save stays for the pending studies, but
   * not pressed twice in a row */
  self->any_pending = FALSE;
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
  gtk_label_set_text (self->status_label,
                      _("Saved. Every study is “not checked” until the workspace has been "
                        "checked again with these settings; the main window shows the "
                        "progress."));
  update_state (self);
  g_signal_emit (self, signals[SIGNAL_APPLIED], 0);
  return TRUE;
}

static void
apply_clicked_cb (CuDeidPreferences *self)
{
  if (cu_deid_preferences_apply (self))
    adw_toast_overlay_add_toast (self->toast_overlay,
                                 adw_toast_new (_("Settings saved; checking the workspace "
                                                  "again")));
}

static void
cu_deid_preferences_dispose (GObject *object)
{
  CuDeidPreferences *self = CU_DEID_PREFERENCES (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_DEID_PREFERENCES);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (cu_deid_preferences_parent_class)->dispose (object);
}

static void
cu_deid_preferences_finalize (GObject *object)
{
  CuDeidPreferences *self = CU_DEID_PREFERENCES (object);

  g_free (self->saved.pseudonym_pattern);
  G_OBJECT_CLASS (cu_deid_preferences_parent_class)->finalize (object);
}

static void
cu_deid_preferences_class_init (CuDeidPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_deid_preferences_dispose;
  object_class->finalize = cu_deid_preferences_finalize;
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  /* The settings are in the workspace: check it again with them. */
  signals[SIGNAL_APPLIED] = g_signal_new ("applied", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-deid-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, CuDeidPreferences, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CuDeidPreferences, options_group);
  gtk_widget_class_bind_template_child (widget_class, CuDeidPreferences, pattern_row);
  gtk_widget_class_bind_template_child (widget_class, CuDeidPreferences, pattern_message);
  gtk_widget_class_bind_template_child (widget_class, CuDeidPreferences, status_label);
  gtk_widget_class_bind_template_child (widget_class, CuDeidPreferences, apply_button);
  gtk_widget_class_bind_template_callback (widget_class, pattern_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, defaults_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, apply_clicked_cb);
}

static void
cu_deid_preferences_init (CuDeidPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->pattern_valid = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (option_rows); i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *check = gtk_check_button_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(option_rows[i].title));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _(option_rows[i].subtitle));
      gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
      g_signal_connect_swapped (check, "toggled", G_CALLBACK (option_toggled_cb), self);
      adw_preferences_group_add (self->options_group, row);
      self->checks[i] = GTK_CHECK_BUTTON (check);
    }
}

CuDeidPreferences *
cu_deid_preferences_new (GtkWindow *parent, CuStore *store)
{
  CuDeidPreferences *self;
  g_autoptr (GError) error = NULL;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  self = g_object_new (CU_TYPE_DEID_PREFERENCES, "transient-for", parent, NULL);
  self->store = g_object_ref (store);
  if (!cu_store_get_deid_config (store, &self->saved, &error))
    {
      /* shown, and the defaults offered: a workspace with unreadable settings can be fixed
       * from here */
      gtk_label_set_text (self->status_label, error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
      self->saved.options = CU_DEID_OPTIONS_SITE_DEFAULT;
    }
  self->any_pending = store_has_pending (store);
  show_config (self, &self->saved);
  return self;
}

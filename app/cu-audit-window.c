/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-audit-window.c — CuAuditWindow: a study's or a series' history from the audit trail.
 *
 * One row per audited action about the study (or one of its series) or the series: what
 * (the action, and the series it concerned when the window shows a study), when (local
 * time), who, and why (the reason or comment the curator gave). The line at the top walks the
 * whole trail's hash chain (cu_store_audit_verify), not only these rows: a change anywhere
 * makes every history doubtful. Texts from the trail are shown as plain text, never markup.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-audit-window.h"
#include "cu-local-time.h"

struct _CuAuditWindow
{
  AdwWindow parent_instance;

  /* template */
  AdwWindowTitle *window_title;
  GtkWidget *status_box;
  GtkImage *status_icon;
  GtkLabel *status_label;
  GtkLabel *status_detail;
  GtkListBox *list_box;

  /* owned */
  CuStore *store;
  char *study_uid;
  char *series_uid;
  guint n_rows;
  CuAuditState state;
  char *status;
};

G_DEFINE_FINAL_TYPE (CuAuditWindow, cu_audit_window, ADW_TYPE_WINDOW)

/* What an action id means, for people; unknown ids are shown as they are. */
static const struct
{
  const char *action;
  const char *label;   /* N_() */
} action_labels[] = {
  { "import", N_("Imported files") },
  { "import-cancelled", N_("Import cancelled") },
  { "import-failed", N_("Import failed") },
  { "deid-gate", N_("Pseudonymization check") },
  { "deid-override", N_("Quarantine overridden") },
  { "deid-config", N_("Pseudonymization settings changed") },
  { "study-superseded", N_("Study marked superseded") },
  { "study-removed", N_("Study removed from the workspace") },
  { "qc-decision", N_("Quality decision") },
  { "qc-protocol", N_("Acquisition protocol set") },
  { "derive-series", N_("Derived series written") },
  { "seg-save", N_("Segmentation saved") },
  { "export-seg", N_("Segmentation exported") },
  { "export-nifti", N_("Exported as NIfTI") },
  { "snapshot", N_("Snapshot written") },
  { "anonymize-export", N_("Anonymized export") },
  { "clinical-import", N_("Clinical data imported") },
  { "flags-check", N_("Consistency rules run") },
  { "flag-state", N_("Flag state changed") },
  { "flag-comment", N_("Flag commented") },
  { "flags-export", N_("Flag bundle sent to a site") },
  { "flags-import", N_("Site answers applied") },
  { "audit-chain-start", N_("Audit trail sealed") },
};

static const char *
action_label (const char *action)
{
  for (guint i = 0; i < G_N_ELEMENTS (action_labels); i++)
    if (g_strcmp0 (action, action_labels[i].action) == 0)
      return _(action_labels[i].label);
  return action != NULL ? action : "";
}

/* Plain text for a label: valid UTF-8 (a hostile file's UID or reason may not be). */
static char *
plain (const char *text)
{
  return g_utf8_make_valid (text != NULL ? text : "", -1);
}

/* What a row of a study's history is about: "#3 t2_tse_tra" for a series of the catalog,
 * else the object as stored. */
static char *
object_label (CuAuditWindow *self, const char *object)
{
  g_autoptr (CuSeriesRecord) rec = cu_store_get_series (self->store, object, NULL);

  if (rec != NULL)
    return g_strdup_printf ("#%d %s", rec->series_number,
                            rec->series_description != NULL ? rec->series_description : "");
  return plain (object);
}

static GtkWidget *
row_new (CuAuditWindow *self, const CuAuditEntry *e, gboolean altered)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *when = cu_local_time_format (e->time, TRUE);
  g_autofree char *who = plain (e->user);
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;

  /* In a study's history, say which series a row is about. */
  if (self->series_uid == NULL && e->object != NULL && g_strcmp0 (e->object, self->study_uid) != 0)
    {
      g_autofree char *object = object_label (self, e->object);
      /* Translators: an audited action and what it was about (a series, a file) */
      title = g_strdup_printf (_("%s — %s"), action_label (e->action), object);
    }
  else
    title = g_strdup (action_label (e->action));
  if (e->reason != NULL)
    {
      g_autofree char *why = plain (e->reason);
      /* Translators: when (a date and time), who (a user name), why (the reason given) */
      subtitle = g_strdup_printf (_("%s · %s\nWhy: %s"), when, who, why);
    }
  else
    /* Translators: when (a date and time), who (a user name) */
    subtitle = g_strdup_printf (_("%s · %s"), when, who);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
  {
    g_autofree char *id = g_strdup_printf ("#%lld", (long long) e->id);
    GtkWidget *label = gtk_label_new (id);

    gtk_widget_add_css_class (label, "dim-label");
    gtk_widget_add_css_class (label, "numeric");
    adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  }
  /* the row where the chain breaks */
  if (altered)
    {
      GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

      gtk_widget_add_css_class (icon, "error");
      gtk_widget_set_tooltip_text (icon, _("The audit trail was altered here"));
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      gtk_widget_add_css_class (row, "audit-altered");
    }
  return row;
}

static void
set_status (CuAuditWindow *self, const char *icon, const char *css, const char *status,
            const char *detail)
{
  gtk_image_set_from_icon_name (self->status_icon, icon);
  gtk_widget_remove_css_class (self->status_box, "success");
  gtk_widget_remove_css_class (self->status_box, "error");
  gtk_widget_remove_css_class (self->status_box, "warning");
  gtk_widget_add_css_class (self->status_box, css);
  g_free (self->status);
  self->status = g_strdup (status);
  gtk_label_set_text (self->status_label, status);
  gtk_label_set_text (self->status_detail, detail != NULL ? detail : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status_detail), detail != NULL && *detail != '\0');
}

void
cu_audit_window_reload (CuAuditWindow *self)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (CuAuditCheck) check = NULL;
  CuAuditFilter filter = { 0 };
  GtkWidget *child;

  g_return_if_fail (CU_IS_AUDIT_WINDOW (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list_box))) != NULL)
    gtk_list_box_remove (self->list_box, child);
  self->n_rows = 0;

  if (self->series_uid != NULL)
    filter.series_uid = self->series_uid;
  else
    filter.study_uid = self->study_uid;
  rows = cu_store_audit_list (self->store, &filter, &error);
  if (rows != NULL)
    check = cu_store_audit_verify (self->store, &error);
  if (rows == NULL || check == NULL)
    {
      self->state = CU_AUDIT_CHANGED;
      set_status (self, "dialog-error-symbolic", "error", _("Could not read the audit trail"),
                  error->message);
      return;
    }

  for (guint i = 0; i < rows->len; i++)
    {
      const CuAuditEntry *e = rows->pdata[i];
      gtk_list_box_append (self->list_box,
                           row_new (self, e, check->state != CU_AUDIT_INTACT && e->id == check->row));
    }
  self->n_rows = rows->len;

  self->state = check->state;
  if (check->state == CU_AUDIT_INTACT)
    set_status (self, "emblem-ok-symbolic", "success", _("Audit trail intact"),
                _("No row of the workspace's audit trail was changed, removed or inserted since "
                  "it was written."));
  else
    {
      g_autofree char *status = g_strdup_printf (_("Audit trail altered at row %lld"),
                                                 (long long) check->row);
      set_status (self, "dialog-warning-symbolic", "error", status, check->message);
    }
}

guint
cu_audit_window_get_n_rows (CuAuditWindow *self)
{
  g_return_val_if_fail (CU_IS_AUDIT_WINDOW (self), 0);
  return self->n_rows;
}

CuAuditState
cu_audit_window_get_state (CuAuditWindow *self)
{
  g_return_val_if_fail (CU_IS_AUDIT_WINDOW (self), CU_AUDIT_CHANGED);
  return self->state;
}

const char *
cu_audit_window_get_status (CuAuditWindow *self)
{
  g_return_val_if_fail (CU_IS_AUDIT_WINDOW (self), NULL);
  return self->status;
}

static void
reload_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_audit_window_reload (CU_AUDIT_WINDOW (widget));
}

/* ---- GObject ------------------------------------------------------------------------ */

static void
cu_audit_window_dispose (GObject *object)
{
  CuAuditWindow *self = CU_AUDIT_WINDOW (object);

  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_AUDIT_WINDOW);
  G_OBJECT_CLASS (cu_audit_window_parent_class)->dispose (object);
}

static void
cu_audit_window_finalize (GObject *object)
{
  CuAuditWindow *self = CU_AUDIT_WINDOW (object);

  g_free (self->study_uid);
  g_free (self->series_uid);
  g_free (self->status);
  G_OBJECT_CLASS (cu_audit_window_parent_class)->finalize (object);
}

static void
cu_audit_window_class_init (CuAuditWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_audit_window_dispose;
  object_class->finalize = cu_audit_window_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-audit-window.ui");
  gtk_widget_class_bind_template_child (widget_class, CuAuditWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, CuAuditWindow, status_box);
  gtk_widget_class_bind_template_child (widget_class, CuAuditWindow, status_icon);
  gtk_widget_class_bind_template_child (widget_class, CuAuditWindow, status_label);
  gtk_widget_class_bind_template_child (widget_class, CuAuditWindow, status_detail);
  gtk_widget_class_bind_template_child (widget_class, CuAuditWindow, list_box);

  gtk_widget_class_install_action (widget_class, "audit.reload", NULL, reload_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "audit.reload", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
cu_audit_window_init (CuAuditWindow *self)
{
  GtkWidget *placeholder;

  gtk_widget_init_template (GTK_WIDGET (self));
  placeholder = gtk_label_new (_("No audited action yet"));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_widget_set_margin_bottom (placeholder, 24);
  gtk_list_box_set_placeholder (self->list_box, placeholder);
}

CuAuditWindow *
cu_audit_window_new (GtkWindow *parent, CuStore *store, const char *study_uid,
                     const char *series_uid)
{
  CuAuditWindow *self;
  g_autofree char *subtitle = NULL;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  g_return_val_if_fail (study_uid != NULL || series_uid != NULL, NULL);

  self = g_object_new (CU_TYPE_AUDIT_WINDOW, "transient-for", parent, NULL);
  self->store = g_object_ref (store);
  self->study_uid = g_strdup (study_uid);
  self->series_uid = g_strdup (series_uid);

  if (series_uid != NULL)
    {
      g_autoptr (CuSeriesRecord) rec = cu_store_get_series (store, series_uid, NULL);

      gtk_window_set_title (GTK_WINDOW (self), _("Series History"));
      if (rec != NULL)
        subtitle = g_strdup_printf ("#%d %s", rec->series_number,
                                    rec->series_description != NULL ? rec->series_description : "");
    }
  else
    gtk_window_set_title (GTK_WINDOW (self), _("Study History"));
  if (subtitle == NULL)
    subtitle = plain (series_uid != NULL ? series_uid : study_uid);
  adw_window_title_set_title (self->window_title, gtk_window_get_title (GTK_WINDOW (self)));
  adw_window_title_set_subtitle (self->window_title, subtitle);

  cu_audit_window_reload (self);
  return self;
}

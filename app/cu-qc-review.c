/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-review.c — the quality review window (cu-qc-review.h).
 *
 * Everything shown comes from the store (curation/store/cu-store-qc.h): states, findings and
 * metrics are re-read after each decision or run, never kept as a second truth here. The image
 * and its foreground mask are computed in a thread when a series is selected (the mask is the
 * same function the metrics used, so the curator sees exactly what was measured). A decision
 * other than "accepted" needs a reason; the store refuses it otherwise, and this window says so
 * next to the reason field instead of failing silently. After a decision the next series that
 * is not reviewed is selected, so a curator can work down the list with the keyboard.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-qc-review.h"
#include "cu-harmonize-report-view.h"
#include "cu-local-time.h"
#include "cu-qc-runner.h"
#include "cu-slice-view.h"

typedef struct
{
  char *series_uid;
  double x, y;       /* widget coordinates of the drawn point */
} PlotPoint;

struct _CuQcReview
{
  AdwWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkToggleButton *mask_toggle;
  GtkMenuButton *protocol_button;
  GtkRevealer *job_revealer;
  GtkLabel *job_label;
  GtkProgressBar *job_progress;
  GtkListBox *series_list;
  GtkLabel *series_title;
  CuSliceView *slice_view;
  GtkListBox *findings_list;
  GtkLabel *decision_label;
  GtkEntry *reason_entry;
  GtkWidget *accept_button;
  GtkGrid *metrics_grid;
  GtkLabel *cohort_title;
  GtkDropDown *metric_dropdown;
  GtkDrawingArea *cohort_plot;
  AdwViewStack *view_stack;
  CuHarmonizeReportView *report_view;

  /* borrowed */
  GtkWindow *parent;

  /* owned */
  CuStore *store;
  CuViewerState *state;
  CuQcRunner *runner;
  GPtrArray *summaries;     /* CuQcSummary */
  char *series_uid;         /* selected */
  CuQcReport *report;       /* stored report of the selection, or NULL */
  GBytes *mask;             /* foreground mask of the shown volume */
  GCancellable *load_cancellable;
  GtkFileChooserNative *protocol_chooser;
  guint poll_source;
  GArray *plot_points;      /* PlotPoint */
  gboolean image_ready;
  gboolean reloading;
  guint n_writes;           /* decisions and protocol choices being written */
};

G_DEFINE_FINAL_TYPE (CuQcReview, cu_qc_review, ADW_TYPE_WINDOW)

static const GdkRGBA mask_colour = { 0.25, 0.75, 1.0, 1.0 };

static void select_uid (CuQcReview *self, const char *uid);
static void set_protocol_action (GtkWidget *widget, const char *action_name, GVariant *param);
static void choose_protocol_file_action (GtkWidget *widget, const char *action_name, GVariant *param);

static void
toast (CuQcReview *self, const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static const CuQcSummary *
find_summary (CuQcReview *self, const char *uid)
{
  for (guint i = 0; self->summaries != NULL && i < self->summaries->len; i++)
    {
      const CuQcSummary *s = self->summaries->pdata[i];
      if (g_strcmp0 (s->series_uid, uid) == 0)
        return s;
    }
  return NULL;
}

static char *
series_name (const CuQcSummary *s)
{
  GString *t = g_string_new (NULL);

  if (s->series_number >= 0)
    g_string_append_printf (t, "#%d ", s->series_number);
  if (s->sequence != NULL)
    g_string_append_printf (t, "%s ", s->sequence);
  if (s->plane != NULL && g_strcmp0 (s->sequence, s->modality) != 0)
    g_string_append_printf (t, "%s ", s->plane);
  else if (s->sequence == NULL && s->modality != NULL)
    g_string_append_printf (t, "%s ", s->modality);
  if (s->description != NULL && *s->description != '\0')
    g_string_append_printf (t, "· %s", s->description);
  g_strchomp (t->str);
  return g_string_free (t, FALSE);
}

/* ---- the series list ------------------------------------------------------------------ */

static GtkWidget *
make_series_row (const CuQcSummary *s)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *dot = gtk_label_new ("●");
  GtkWidget *title, *subtitle, *counts;
  g_autofree char *name = series_name (s);
  g_autofree char *sub = NULL;
  g_autofree char *state_class = g_strconcat ("qc-state-", cu_qc_decision_to_string (s->state), NULL);

  gtk_widget_add_css_class (dot, "qc-state");
  gtk_widget_add_css_class (dot, state_class);
  gtk_widget_set_tooltip_text (dot, cu_qc_decision_to_label (s->state));
  gtk_box_append (GTK_BOX (box), dot);

  title = gtk_label_new (name);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "heading");
  /* the decision first: the end of a long line is what gets cut */
  sub = g_strdup_printf ("%s · %s · %s", cu_qc_decision_to_label (s->state),
                         s->patient_id != NULL && *s->patient_id ? s->patient_id : "–",
                         s->stack_label != NULL ? s->stack_label : (s->modality ? s->modality : ""));
  subtitle = gtk_label_new (sub);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_box_append (GTK_BOX (text), title);
  gtk_box_append (GTK_BOX (text), subtitle);
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (box), text);

  if (!s->checked)
    {
      counts = gtk_label_new (_("not checked"));
      gtk_widget_add_css_class (counts, "dim-label");
    }
  else if (s->n_errors > 0)
    {
      g_autofree char *c = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d error", "%d errors", s->n_errors),
                                            s->n_errors);
      counts = gtk_label_new (c);
      gtk_widget_add_css_class (counts, "qc-count-error");
    }
  else if (s->n_warnings > 0)
    {
      g_autofree char *c = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d warning", "%d warnings",
                                                         s->n_warnings), s->n_warnings);
      counts = gtk_label_new (c);
      gtk_widget_add_css_class (counts, "qc-count-warning");
    }
  else
    {
      counts = gtk_label_new (_("clean"));
      gtk_widget_add_css_class (counts, "qc-count-clean");
    }
  gtk_widget_add_css_class (counts, "caption");
  gtk_box_append (GTK_BOX (box), counts);

  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "series-uid", g_strdup (s->series_uid), g_free);
  gtk_widget_set_tooltip_text (row, s->series_uid);
  return row;
}

static void
update_title (CuQcReview *self)
{
  guint n = self->summaries ? self->summaries->len : 0, open = 0, errors = 0;
  g_autofree char *sub = NULL;

  for (guint i = 0; i < n; i++)
    {
      const CuQcSummary *s = self->summaries->pdata[i];
      if (s->state == CU_QC_DECISION_NOT_REVIEWED)
        open++;
      if (s->n_errors > 0)
        errors++;
    }
  {
    g_autofree char *series = g_strdup_printf (ngettext ("%u series", "%u series", n), n);
    g_autofree char *pending = g_strdup_printf (ngettext ("%u not reviewed", "%u not reviewed", open),
                                                open);
    g_autofree char *failing = g_strdup_printf (ngettext ("%u with errors", "%u with errors", errors),
                                                errors);

    /* TRANSLATORS: subtitle of the quality review: "12 series · 3 not reviewed · 1 with errors" */
    sub = g_strdup_printf (_("%s · %s · %s"), series, pending, failing);
  }
  adw_window_title_set_subtitle (self->window_title, sub);
}

void
cu_qc_review_reload (CuQcReview *self)
{
  g_autoptr (GError) error = NULL;
  GtkWidget *child;
  GtkListBoxRow *select = NULL;

  g_return_if_fail (CU_IS_QC_REVIEW (self));
  /* the harmonization tab's cohorts are the sequences the gate found */
  cu_harmonize_report_view_set_store (self->report_view, self->store);
  g_clear_pointer (&self->summaries, g_ptr_array_unref);
  self->summaries = cu_store_qc_list (self->store, &error);
  if (self->summaries == NULL)
    {
      toast (self, error->message);
      return;
    }
  self->reloading = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->series_list))) != NULL)
    gtk_list_box_remove (self->series_list, child);
  for (guint i = 0; i < self->summaries->len; i++)
    {
      const CuQcSummary *s = self->summaries->pdata[i];
      GtkWidget *row = make_series_row (s);
      gtk_list_box_append (self->series_list, row);
      if (g_strcmp0 (s->series_uid, self->series_uid) == 0)
        select = GTK_LIST_BOX_ROW (row);
    }
  if (select == NULL)
    select = gtk_list_box_get_row_at_index (self->series_list, 0);
  if (select != NULL)
    gtk_list_box_select_row (self->series_list, select);
  self->reloading = FALSE;
  update_title (self);
  if (select != NULL)
    select_uid (self, g_object_get_data (G_OBJECT (select), "series-uid"));
}

/* ---- findings, decision, metrics ------------------------------------------------------ */

static void
go_to_slice (GtkButton *button, CuQcReview *self)
{
  int slice = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "slice"));
  CuVolume *vol = cu_viewer_state_get_volume (self->state);
  double ijk[3];

  if (vol == NULL || !cu_viewer_state_get_cursor_index (self->state, ijk))
    return;
  ijk[2] = CLAMP (slice, 0, vol->dims[2] - 1);
  cu_viewer_state_set_cursor_index (self->state, ijk);
}

/* ---- forwarding a finding to the site ---- */

typedef struct
{
  CuQcReview *self;        /* a reference */
  char *series_uid;
  char *code;
  char *note;
  guint n;                 /* flags raised or refreshed */
} Forward;

static void
forward_free (Forward *fw)
{
  g_clear_object (&fw->self);
  g_free (fw->series_uid);
  g_free (fw->code);
  g_free (fw->note);
  g_free (fw);
}

static gboolean
write_forward (CuStore *store, gpointer data, GError **error)
{
  Forward *fw = data;
  const char *codes[] = { fw->code, NULL };

  fw->n = cu_flags_forward_qc (store, fw->series_uid, codes, fw->note, error);
  return fw->n > 0;
}

static void
forwarded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Forward *fw = user_data;
  CuQcReview *self = fw->self;
  g_autoptr (GError) error = NULL;

  self->n_writes--;
  if (!cu_store_write_finish (CU_STORE (source), result, &error))
    {
      if (self->store != NULL)
        toast (self, error->message);
    }
  else if (self->store != NULL)
    toast (self, g_str_has_prefix (fw->code, CU_QC_PROTOCOL ":")
                 ? _("Forwarded to the site: it is asked to send the missing series")
                 : _("Forwarded to the site: it is asked to send a fixed copy"));
  forward_free (fw);
}

static void
forward_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  Forward *fw = user_data;
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "note");

  /* One answer per dialog: fw is freed or handed to the write below. */
  g_signal_handlers_disconnect_by_data (dialog, fw);
  if (g_strcmp0 (response, "forward") != 0 || fw->self->store == NULL)
    {
      forward_free (fw);
      return;
    }
  fw->note = g_strdup (gtk_editable_get_text (entry));
  fw->self->n_writes++;
  /* Off the UI thread: another process may hold the workspace for a while. */
  cu_store_write_async (fw->self->store, write_forward, fw, NULL, NULL, forwarded_cb, fw);
}

static void
forward_clicked (GtkButton *button, CuQcReview *self)
{
  const char *code = g_object_get_data (G_OBJECT (button), "code");
  const char *text = g_object_get_data (G_OBJECT (button), "message");
  AdwMessageDialog *dialog;
  GtkWidget *entry;
  Forward *fw;

  if (self->series_uid == NULL || code == NULL)
    return;
  fw = g_new0 (Forward, 1);
  fw->self = g_object_ref (self);
  fw->series_uid = g_strdup (self->series_uid);
  fw->code = g_strdup (code);
  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self),
                                                       _("Forward to the Site?"), NULL));
  adw_message_dialog_format_body (dialog, "%s\n\n%s", text,
                                  g_str_has_prefix (code, CU_QC_PROTOCOL ":")
                                  ? _("The site will be asked, in its next bundle, to send the series "
                                      "the protocol asks for. The question closes by itself when series "
                                      "arrive that meet this requirement.")
                                  : _("The site will be asked, in its next bundle, to send a fixed copy "
                                      "of this series. The question closes by itself when a copy "
                                      "arrives that passes the gates."));
  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("A note for the site (optional)"));
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  adw_message_dialog_set_extra_child (dialog, entry);
  g_object_set_data (G_OBJECT (dialog), "note", entry);
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "forward", _("_Forward"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "forward", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (dialog, "forward");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (forward_response), fw);
  gtk_window_present (GTK_WINDOW (dialog));
}

static GtkWidget *
make_finding_row (CuQcReview *self, const CuQcFinding *f)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 10);
  const char *icon = f->severity == CU_QC_SEVERITY_ERROR ? "dialog-error-symbolic"
                     : f->severity == CU_QC_SEVERITY_WARNING ? "dialog-warning-symbolic"
                     : "dialog-information-symbolic";
  GtkWidget *image = gtk_image_new_from_icon_name (icon);
  GtkWidget *label = gtk_label_new (f->message);
  g_autofree char *tip = g_strdup_printf ("%s · %s%s%s", cu_qc_severity_to_label (f->severity), f->code,
                                          f->attribute ? " · " : "", f->attribute ? f->attribute : "");

  gtk_widget_add_css_class (image, f->severity == CU_QC_SEVERITY_ERROR ? "error"
                                   : f->severity == CU_QC_SEVERITY_WARNING ? "warning" : "dim-label");
  gtk_box_append (GTK_BOX (box), image);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_set_tooltip_text (label, tip);
  gtk_box_append (GTK_BOX (box), label);
  if (f->slice >= 0)
    {
      g_autofree char *text = g_strdup_printf (_("Slice %d"), f->slice + 1);
      GtkWidget *button = gtk_button_new_with_label (text);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, _("Show this slice"));
      g_object_set_data (G_OBJECT (button), "slice", GINT_TO_POINTER (f->slice));
      g_signal_connect (button, "clicked", G_CALLBACK (go_to_slice), self);
      gtk_box_append (GTK_BOX (box), button);
    }
  /* A warning or an error is something only the site can fix: one click asks it to. */
  if (f->severity != CU_QC_SEVERITY_INFO && f->code != NULL)
    {
      GtkWidget *button = gtk_button_new_from_icon_name ("mail-send-symbolic");
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, _("Forward to the site…"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Forward to the site"), -1);
      /* A protocol finding is forwarded as its requirement ("protocol:KEY"). */
      g_object_set_data_full (G_OBJECT (button), "code",
                              g_strcmp0 (f->code, CU_QC_PROTOCOL) == 0 && f->attribute != NULL
                              ? g_strconcat (CU_QC_PROTOCOL ":", f->attribute, NULL)
                              : g_strdup (f->code), g_free);
      g_object_set_data_full (G_OBJECT (button), "message", g_strdup (f->message), g_free);
      gtk_widget_set_name (button, "forward-finding");
      g_signal_connect (button, "clicked", G_CALLBACK (forward_clicked), self);
      gtk_box_append (GTK_BOX (box), button);
    }
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  return box;
}

/* The study's conformance to the workspace's protocol, above the series' own findings: a
 * missing sequence is a reason to ask the site, whatever this series looks like. */
static guint
show_protocol (CuQcReview *self)
{
  const CuQcSummary *s = find_summary (self, self->series_uid);
  g_autoptr (GPtrArray) results = NULL;
  guint shown = 0;

  if (s == NULL || s->study_uid == NULL)
    return 0;
  results = cu_store_qc_check_protocol (self->store, s->study_uid, NULL);
  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      const CuQcStudyConformance *c = results->pdata[i];
      for (guint k = 0; k < c->findings->len; k++)
        {
          const CuQcFinding *f = c->findings->pdata[k];
          g_autofree char *text = NULL;
          CuQcFinding copy = *f;
          GtkWidget *row;
          if (f->severity == CU_QC_SEVERITY_INFO)
            continue;   /* "not verifiable" notes stay in the CLI report */
          /* TRANSLATORS: a protocol finding of the study, shown with the series' findings */
          text = g_strdup_printf (_("Study protocol — %s"), f->message);
          copy.message = text;
          row = make_finding_row (self, &copy);
          gtk_list_box_append (self->findings_list, row);
          shown++;
        }
    }
  return shown;
}

static void
show_findings (CuQcReview *self)
{
  GtkWidget *child;
  guint n_protocol;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->findings_list))) != NULL)
    gtk_list_box_remove (self->findings_list, child);
  n_protocol = show_protocol (self);
  if (self->report == NULL)
    {
      GtkWidget *l = gtk_label_new (_("Not checked yet: use Check All, or import the series again."));
      gtk_widget_add_css_class (l, "dim-label");
      gtk_widget_set_margin_top (l, 12);
      gtk_list_box_append (self->findings_list, l);
      return;
    }
  if (self->report->findings->len == 0)
    {
      /* Under the study's protocol findings, a bare "No findings" would contradict them. */
      GtkWidget *l = gtk_label_new (n_protocol > 0
                                    ? _("No findings in the series itself: geometry, completeness and decoding are in order.")
                                    : _("No findings: geometry, completeness and decoding are in order."));
      gtk_label_set_wrap (GTK_LABEL (l), TRUE);
      gtk_widget_add_css_class (l, "dim-label");
      gtk_widget_set_margin_top (l, 12);
      gtk_list_box_append (self->findings_list, l);
      return;
    }
  for (guint i = 0; i < self->report->findings->len; i++)
    gtk_list_box_append (self->findings_list, make_finding_row (self, self->report->findings->pdata[i]));
}

static void
show_decision (CuQcReview *self)
{
  g_autoptr (CuQcDecision) d = self->series_uid ? cu_store_qc_get_decision (self->store, self->series_uid, NULL) : NULL;
  g_autofree char *text = NULL;
  g_autofree char *state_class = NULL;
  static const char *const classes[] = { "qc-decision-not-reviewed", "qc-decision-accepted",
                                         "qc-decision-accepted-remark", "qc-decision-rejected",
                                         "qc-decision-ask-site" };

  for (guint i = 0; i < G_N_ELEMENTS (classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->decision_label), classes[i]);
  if (d == NULL)
    {
      gtk_label_set_text (self->decision_label, "");
      return;
    }
  if (d->user != NULL)
    {
      g_autofree char *when = cu_local_time_format (d->time, FALSE);
      /* TRANSLATORS: decision, who, when (local "2026-12-07 15:44"), and the reason in quotes */
      text = g_strdup_printf (_("%s by %s, %s%s%s%s"), cu_qc_decision_to_label (d->state), d->user,
                              when, d->reason ? "\n“" : "", d->reason ? d->reason : "",
                              d->reason ? "”" : "");
    }
  else
    text = g_strdup (_("Not reviewed. Only accepted series can be opened for annotation."));
  gtk_label_set_text (self->decision_label, text);
  gtk_widget_add_css_class (GTK_WIDGET (self->decision_label), classes[d->state]);
}

/* z-score of this series' metric within its sequence type, NaN if too few. */
static double
metric_z (CuQcReview *self, const char *metric, const char *sequence, double *median)
{
  g_autoptr (GPtrArray) points = cu_store_qc_metric_points (self->store, metric, NULL);
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree double *z = NULL;
  int mine = -1;

  *median = NAN;
  for (guint i = 0; points != NULL && i < points->len; i++)
    {
      const CuQcMetricPoint *p = points->pdata[i];
      if (g_strcmp0 (p->sequence, sequence) != 0)
        continue;
      if (g_strcmp0 (p->series_uid, self->series_uid) == 0)
        mine = (int) values->len;
      g_array_append_val (values, p->value);
    }
  if (mine < 0 || values->len < 5)
    return NAN;
  z = g_new (double, values->len);
  cu_qc_robust_z ((double *) values->data, values->len, z, median, NULL);
  return z[mine];
}

static void
show_metrics (CuQcReview *self)
{
  GtkWidget *child;
  int row = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->metrics_grid))) != NULL)
    gtk_grid_remove (self->metrics_grid, child);
  if (self->report == NULL || self->report->metrics->len == 0)
    {
      GtkWidget *l = gtk_label_new (self->report == NULL ? _("Not checked yet")
                                                         : _("No metrics: the pixels could not be decoded"));
      gtk_widget_add_css_class (l, "dim-label");
      gtk_grid_attach (self->metrics_grid, l, 0, 0, 3, 1);
      return;
    }
  for (guint i = 0; i < self->report->metrics->len; i++)
    {
      const CuQcMetric *m = &g_array_index (self->report->metrics, CuQcMetric, i);
      g_autofree char *value = isfinite (m->value) ? g_strdup_printf ("%.4g", m->value) : g_strdup ("–");
      double median, z = metric_z (self, m->name, self->report->sequence, &median);
      GtkWidget *name = gtk_label_new (m->name);
      GtkWidget *val = gtk_label_new (value);
      GtkWidget *note = gtk_label_new (NULL);

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_widget_add_css_class (name, "dim-label");
      gtk_label_set_xalign (GTK_LABEL (val), 1);
      gtk_widget_add_css_class (val, "numeric");
      gtk_label_set_xalign (GTK_LABEL (note), 0);
      gtk_widget_set_hexpand (note, TRUE);
      if (isfinite (z))
        {
          g_autofree char *t = g_strdup_printf ("z %+.1f", z);
          gtk_label_set_text (GTK_LABEL (note), t);
          gtk_widget_add_css_class (note, fabs (z) > CU_QC_OUTLIER_Z ? "qc-count-error" : "dim-label");
          if (fabs (z) > CU_QC_OUTLIER_Z)
            {
              g_autofree char *tip = g_strdup_printf (_("Outlier among the %s series: median %.4g"),
                                                      self->report->sequence, median);
              gtk_widget_set_tooltip_text (note, tip);
            }
        }
      gtk_widget_add_css_class (note, "caption");
      gtk_grid_attach (self->metrics_grid, name, 0, row, 1, 1);
      gtk_grid_attach (self->metrics_grid, val, 1, row, 1, 1);
      gtk_grid_attach (self->metrics_grid, note, 2, row, 1, 1);
      row++;
    }
}

/* ---- cohort plot ---------------------------------------------------------------------- */

static const char *
selected_metric (CuQcReview *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (self->metric_dropdown);
  return item != NULL ? gtk_string_object_get_string (item) : "SNR1";
}

static int
compare_str (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The cohort heading names the shown series' sequence type. Set when the series changes, not
 * while the plot draws: a label changed during drawing shows the previous series' type until
 * something else redraws it, and not at all while the plot's tab is hidden. */
static void
update_cohort_title (CuQcReview *self)
{
  const char *sequence = self->report != NULL ? self->report->sequence : NULL;
  g_autofree char *title = NULL;

  title = sequence != NULL ? g_strdup_printf (_("Cohort · %s series"), sequence)
                           : g_strdup (_("Cohort"));
  gtk_label_set_text (self->cohort_title, title);
}

static void
draw_plot (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CuQcReview *self = user_data;
  const char *metric = selected_metric (self);
  const char *sequence = self->report != NULL ? self->report->sequence : NULL;
  g_autoptr (GPtrArray) all = cu_store_qc_metric_points (self->store, metric, NULL);
  g_autoptr (GPtrArray) pts = g_ptr_array_new ();
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func (g_free);
  g_autofree double *values = NULL;
  g_autofree double *z = NULL;
  double lo = INFINITY, hi = -INFINITY, left = 56, right = 10, top = 12, bottom = 34;
  GdkRGBA fg;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  /* GTK 4.8 has no gtk_widget_get_color (4.10) */
  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (area)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_array_set_size (self->plot_points, 0);

  for (guint i = 0; all != NULL && i < all->len; i++)
    {
      CuQcMetricPoint *p = all->pdata[i];
      if (sequence != NULL && g_strcmp0 (p->sequence, sequence) != 0)
        continue;
      g_ptr_array_add (pts, p);
      lo = MIN (lo, p->value);
      hi = MAX (hi, p->value);
      if (!g_ptr_array_find_with_equal_func (groups, p->scanner ? p->scanner : "?", g_str_equal, NULL))
        g_ptr_array_add (groups, g_strdup (p->scanner ? p->scanner : "?"));
    }
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.04);
  cairo_rectangle (cr, left, top, width - left - right, height - top - bottom);
  cairo_fill (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 10);
  if (pts->len == 0)
    {
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.6);
      cairo_move_to (cr, left + 8, height / 2.0);
      cairo_show_text (cr, _("No checked series with this metric"));
      return;
    }
  g_ptr_array_sort (groups, compare_str);
  if (hi == lo)
    {
      hi += 1;
      lo -= 1;
    }
  {
    double pad = (hi - lo) * 0.08;
    hi += pad;
    lo -= pad;
  }
  values = g_new (double, pts->len);
  z = g_new (double, pts->len);
  for (guint i = 0; i < pts->len; i++)
    values[i] = ((CuQcMetricPoint *) pts->pdata[i])->value;
  cu_qc_robust_z (values, pts->len, z, NULL, NULL);

  /* axes: value range on the left, one column per scanner */
  cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
  {
    char text[64];
    g_snprintf (text, sizeof text, "%.4g", hi);
    cairo_move_to (cr, 4, top + 10);
    cairo_show_text (cr, text);
    g_snprintf (text, sizeof text, "%.4g", lo);
    cairo_move_to (cr, 4, height - bottom);
    cairo_show_text (cr, text);
    cairo_save (cr);
    cairo_move_to (cr, 12, (height - bottom + top) / 2.0 + 12);
    cairo_rotate (cr, -G_PI / 2);
    cairo_show_text (cr, metric);
    cairo_restore (cr);
  }
  for (guint g = 0; g < groups->len; g++)
    {
      double cw = (width - left - right) / (double) groups->len;
      double cx = left + cw * (g + 0.5);
      cairo_text_extents_t ext;
      g_autofree char *name = g_strdup (groups->pdata[g]);
      glong len = g_utf8_strlen (name, -1);
      /* A scanner name wider than its column is shortened with an ellipsis, never cut silently:
       * a truncated name that looks whole would name the wrong scanner. */
      cairo_text_extents (cr, name, &ext);
      while (ext.width > cw - 6 && len > 2)
        {
          g_autofree char *head = NULL;
          len--;
          head = g_strndup (groups->pdata[g],
                            g_utf8_offset_to_pointer (groups->pdata[g], len - 1) - (char *) groups->pdata[g]);
          g_free (name);
          name = g_strconcat (head, "…", NULL);
          cairo_text_extents (cr, name, &ext);
        }
      cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.7);
      cairo_move_to (cr, cx - ext.width / 2, height - bottom + 16);
      cairo_show_text (cr, name);
      if (g > 0)
        {
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 0.12);
          cairo_rectangle (cr, left + cw * g, top, 1, height - top - bottom);
          cairo_fill (cr);
        }
    }
  for (guint i = 0; i < pts->len; i++)
    {
      CuQcMetricPoint *p = pts->pdata[i];
      guint g = 0;
      double cw = (width - left - right) / (double) groups->len;
      double jitter = ((g_str_hash (p->series_uid) % 1000) / 1000.0 - 0.5) * cw * 0.5;
      double x, y;
      gboolean selected = g_strcmp0 (p->series_uid, self->series_uid) == 0;
      gboolean outlier = isfinite (z[i]) && pts->len >= 5 && fabs (z[i]) > CU_QC_OUTLIER_Z;
      PlotPoint pp;

      g_ptr_array_find_with_equal_func (groups, p->scanner ? p->scanner : "?", g_str_equal, &g);
      x = left + cw * (g + 0.5) + jitter;
      y = top + (hi - p->value) / (hi - lo) * (height - top - bottom);
      if (outlier)
        cairo_set_source_rgba (cr, 0.88, 0.11, 0.14, 0.95);
      else
        cairo_set_source_rgba (cr, 0.21, 0.52, 0.89, 0.75);
      cairo_arc (cr, x, y, selected ? 6 : 4, 0, 2 * G_PI);
      cairo_fill (cr);
      if (selected)
        {
          cairo_set_source_rgba (cr, fg.red, fg.green, fg.blue, 1);
          cairo_set_line_width (cr, 2);
          cairo_arc (cr, x, y, 9, 0, 2 * G_PI);
          cairo_stroke (cr);
        }
      pp.series_uid = p->series_uid;   /* valid until the next draw: copied on click */
      pp.x = x;
      pp.y = y;
      g_array_append_val (self->plot_points, pp);
    }
  /* The points borrow UIDs from `all`, freed at return: keep copies. */
  for (guint i = 0; i < self->plot_points->len; i++)
    {
      PlotPoint *pp = &g_array_index (self->plot_points, PlotPoint, i);
      pp->series_uid = g_strdup (pp->series_uid);
    }
}

static void
plot_point_clear (PlotPoint *p)
{
  g_free (p->series_uid);
}

static void
plot_clicked (GtkGestureClick *gesture, int n_press, double x, double y, CuQcReview *self)
{
  double best = 100;   /* 10 px squared */
  const char *uid = NULL;

  for (guint i = 0; i < self->plot_points->len; i++)
    {
      const PlotPoint *p = &g_array_index (self->plot_points, PlotPoint, i);
      double d = (p->x - x) * (p->x - x) + (p->y - y) * (p->y - y);
      if (d < best)
        {
          best = d;
          uid = p->series_uid;
        }
    }
  if (uid == NULL)
    return;
  {
    g_autofree char *copy = g_strdup (uid);
    cu_qc_review_select_series (self, copy);
    /* and open it in the main window's viewer */
    if (self->parent != NULL)
      gtk_widget_activate_action (GTK_WIDGET (self->parent), "win.open-series", "s", copy);
  }
}

/* ---- the image ------------------------------------------------------------------------ */

typedef struct
{
  char **files;
  CuVolume *volume;
  guint8 *mask;
  gboolean has_geometry;   /* FALSE: no patient position/orientation, name no sides */
} LoadData;

static void
load_data_free (LoadData *d)
{
  g_strfreev (d->files);
  g_clear_pointer (&d->volume, cu_volume_unref);
  g_free (d->mask);
  g_free (d);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *d = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = cu_series_plan_new_from_files ((const char *const *) d->files, NULL,
                                                                 cancellable, &error);
  if (plan == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  d->volume = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, cancellable, &error);
  d->has_geometry = cu_series_plan_get_stack_has_geometry (plan, cu_series_plan_get_main_stack (plan));
  if (d->volume == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* the same mask the metrics were computed on (cu-qc-metrics.c) */
  d->mask = cu_qc_foreground_mask (d->volume, 0, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
apply_mask (CuQcReview *self)
{
  cu_viewer_state_set_overlay (self->state,
                               gtk_toggle_button_get_active (self->mask_toggle) ? self->mask : NULL,
                               &mask_colour);
}

static void
load_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuQcReview *self = CU_QC_REVIEW (source);
  LoadData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) && self->state != NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          cu_viewer_state_set_volume (self->state, NULL);
          gtk_label_set_text (self->series_title, error->message);
          self->image_ready = TRUE;
        }
      return;
    }
  if (self->state == NULL || error != NULL)
    return;   /* the window was closed meanwhile */
  g_clear_pointer (&self->mask, g_bytes_unref);
  self->mask = g_bytes_new_take (g_steal_pointer (&d->mask), cu_volume_n_voxels_3d (d->volume));
  cu_viewer_state_set_orientation_known (self->state, d->has_geometry);
  cu_viewer_state_set_volume (self->state, d->volume);
  apply_mask (self);
  /* start on the first slice a finding names */
  for (guint i = 0; self->report != NULL && i < self->report->findings->len; i++)
    {
      const CuQcFinding *f = self->report->findings->pdata[i];
      double ijk[3];
      if (f->slice >= 0 && cu_viewer_state_get_cursor_index (self->state, ijk))
        {
          ijk[2] = CLAMP (f->slice, 0, d->volume->dims[2] - 1);
          cu_viewer_state_set_cursor_index (self->state, ijk);
          break;
        }
    }
  self->image_ready = TRUE;
}

static void
select_uid (CuQcReview *self, const char *uid)
{
  const CuQcSummary *s = find_summary (self, uid);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) task = NULL;
  g_autofree char *name = NULL;
  gboolean same = g_strcmp0 (uid, self->series_uid) == 0;
  LoadData *d;

  if (s == NULL)
    return;
  if (!same)
    {
      g_free (self->series_uid);
      self->series_uid = g_strdup (uid);
    }
  g_clear_pointer (&self->report, cu_qc_report_free);
  self->report = cu_store_qc_load (self->store, uid, NULL);
  name = series_name (s);
  gtk_label_set_text (self->series_title, name);
  show_findings (self);
  show_decision (self);
  show_metrics (self);
  update_cohort_title (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->cohort_plot));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.decide", TRUE);
  if (same && self->image_ready && cu_viewer_state_get_volume (self->state) != NULL)
    return;

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->image_ready = FALSE;
  cu_viewer_state_set_volume (self->state, NULL);
  d = g_new0 (LoadData, 1);
  d->files = cu_store_get_series_files (self->store, uid, &error);
  if (d->files == NULL)
    {
      load_data_free (d);
      gtk_label_set_text (self->series_title, error->message);
      self->image_ready = TRUE;
      return;
    }
  self->load_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->load_cancellable, load_done, NULL);
  g_task_set_task_data (task, d, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
}

static void
row_selected (GtkListBox *box, GtkListBoxRow *row, CuQcReview *self)
{
  if (row == NULL || self->reloading)
    return;
  select_uid (self, g_object_get_data (G_OBJECT (row), "series-uid"));
}

gboolean
cu_qc_review_select_series (CuQcReview *self, const char *series_uid)
{
  g_return_val_if_fail (CU_IS_QC_REVIEW (self), FALSE);
  for (int i = 0;; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (self->series_list, i);
      if (row == NULL)
        return FALSE;
      if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "series-uid"), series_uid) == 0)
        {
          gtk_list_box_select_row (self->series_list, row);
          select_uid (self, series_uid);
          return TRUE;
        }
    }
}

const char *
cu_qc_review_get_series (CuQcReview *self)
{
  g_return_val_if_fail (CU_IS_QC_REVIEW (self), NULL);
  return self->series_uid;
}

CuViewerState *
cu_qc_review_get_viewer_state (CuQcReview *self)
{
  g_return_val_if_fail (CU_IS_QC_REVIEW (self), NULL);
  return self->state;
}

gboolean
cu_qc_review_is_image_ready (CuQcReview *self)
{
  g_return_val_if_fail (CU_IS_QC_REVIEW (self), FALSE);
  return self->image_ready;
}

/* ---- actions -------------------------------------------------------------------------- */

/* The decision, read by the writer thread (its fields only) and by the callback. */
typedef struct
{
  CuQcReview       *self;      /* a reference, released on the UI thread */
  char             *series_uid;
  CuQcDecisionState state;
  char             *reason;
} Decision;

static void
decision_free (Decision *d)
{
  g_object_unref (d->self);
  g_free (d->series_uid);
  g_free (d->reason);
  g_free (d);
}

static gboolean
write_decision (CuStore *store, gpointer data, GError **error)
{
  Decision *d = data;
  return cu_store_qc_decide (store, d->series_uid, d->state, d->reason, error);
}

static void
decided_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Decision *d = user_data;
  g_autoptr (CuQcReview) self = g_object_ref (d->self);
  g_autoptr (GError) error = NULL;
  g_autofree char *msg = NULL;
  g_autofree char *decided = NULL;
  CuQcDecisionState state;

  self->n_writes--;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.decide", self->series_uid != NULL);
  if (!cu_store_write_finish (CU_STORE (source), result, &error))
    {
      decision_free (d);
      if (self->store == NULL)
        return;              /* the window was closed meanwhile */
      toast (self, error->message);
      if (g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID))
        gtk_widget_grab_focus (GTK_WIDGET (self->reason_entry));
      return;
    }
  decided = g_strdup (d->series_uid);
  state = d->state;
  if (self->store != NULL
      && g_strcmp0 (gtk_editable_get_text (GTK_EDITABLE (self->reason_entry)), d->reason) == 0)
    gtk_editable_set_text (GTK_EDITABLE (self->reason_entry), "");
  decision_free (d);
  if (self->store == NULL)
    return;
  /* TRANSLATORS: toast after a decision, e.g. "Rejected: #3 T2W axial" */
  {
    const CuQcSummary *s = find_summary (self, decided);
    g_autofree char *name = s ? series_name (s) : g_strdup (decided);
    msg = g_strdup_printf (_("%s: %s"), cu_qc_decision_to_label (state), name);
  }
  cu_qc_review_reload (self);
  toast (self, msg);
  if (g_strcmp0 (self->series_uid, decided) != 0)
    return;                  /* the user moved on while it was saved */
  /* next series not reviewed, after this one in list order */
  {
    gboolean after = FALSE;
    for (guint i = 0; self->summaries != NULL && i < self->summaries->len; i++)
      {
        const CuQcSummary *s = self->summaries->pdata[i];
        if (g_strcmp0 (s->series_uid, decided) == 0)
          after = TRUE;
        else if (after && s->state == CU_QC_DECISION_NOT_REVIEWED)
          {
            cu_qc_review_select_series (self, s->series_uid);
            break;
          }
      }
  }
}

/* The decision is written off the UI thread: another process's transaction (an import, a
 * check, curata-cli) can hold the workspace for seconds, and the window must not freeze. */
static void
decide_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuQcReview *self = CU_QC_REVIEW (widget);
  CuQcDecisionState state;
  const char *reason = gtk_editable_get_text (GTK_EDITABLE (self->reason_entry));
  Decision *d;

  if (self->series_uid == NULL || self->n_writes > 0
      || !cu_qc_decision_from_string (g_variant_get_string (param, NULL), &state))
    return;
  d = g_new0 (Decision, 1);
  d->self = g_object_ref (self);
  d->series_uid = g_strdup (self->series_uid);
  d->state = state;
  d->reason = g_strdup (reason != NULL ? reason : "");
  self->n_writes++;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.decide", FALSE);
  cu_store_write_async (self->store, write_decision, d, NULL, NULL, decided_cb, d);
}

static gboolean
poll_progress (gpointer user_data)
{
  CuQcReview *self = user_data;
  g_autofree char *message = NULL;
  double f = cu_qc_runner_get_progress (self->runner, &message);

  if (f < 0)
    gtk_progress_bar_pulse (self->job_progress);
  else
    gtk_progress_bar_set_fraction (self->job_progress, f);
  if (message != NULL)
    gtk_progress_bar_set_text (self->job_progress, message);
  return G_SOURCE_CONTINUE;
}

static void
check_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuQcReview *self = user_data;   /* a reference is held for the run */
  g_autoptr (GError) error = NULL;
  guint n = 0, n_err = 0;

  if (self->store == NULL)
    {
      /* closed while the run went on */
      g_object_unref (self);
      return;
    }
  g_clear_handle_id (&self->poll_source, g_source_remove);
  gtk_revealer_set_reveal_child (self->job_revealer, FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.check-all", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.cancel", FALSE);
  if (!cu_qc_runner_run_finish (CU_QC_RUNNER (source), result, &n, &n_err, &error))
    toast (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ? _("Quality check cancelled")
                                                                            : error->message);
  else
    {
      g_autofree char *checked = g_strdup_printf (ngettext ("Checked %u series", "Checked %u series",
                                                            n), n);
      g_autofree char *failing = g_strdup_printf (ngettext ("%u with errors", "%u with errors", n_err),
                                                  n_err);
      /* TRANSLATORS: after a quality check run: "Checked 4 series", "1 with errors" */
      g_autofree char *text = g_strdup_printf (_("%s, %s"), checked, failing);
      toast (self, text);
    }
  cu_qc_review_reload (self);
  g_object_unref (self);
}

void
cu_qc_review_check (CuQcReview *self, const char *const *series_uids)
{
  g_auto (GStrv) all = NULL;

  g_return_if_fail (CU_IS_QC_REVIEW (self));
  if (cu_qc_runner_is_running (self->runner))
    return;
  if (series_uids != NULL && series_uids[0] != NULL && g_str_equal (series_uids[0], "all"))
    {
      GPtrArray *a = g_ptr_array_new ();
      for (guint i = 0; self->summaries != NULL && i < self->summaries->len; i++)
        g_ptr_array_add (a, g_strdup (((CuQcSummary *) self->summaries->pdata[i])->series_uid));
      g_ptr_array_add (a, NULL);
      all = (GStrv) g_ptr_array_free (a, FALSE);
      series_uids = (const char *const *) all;
    }
  gtk_progress_bar_set_fraction (self->job_progress, 0);
  gtk_progress_bar_set_text (self->job_progress, NULL);
  gtk_revealer_set_reveal_child (self->job_revealer, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.check-all", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.cancel", TRUE);
  self->poll_source = g_timeout_add (100, poll_progress, self);
  cu_qc_runner_run_async (self->runner, series_uids, check_done, g_object_ref (self));
}

gboolean
cu_qc_review_is_busy (CuQcReview *self)
{
  g_return_val_if_fail (CU_IS_QC_REVIEW (self), FALSE);
  return cu_qc_runner_is_running (self->runner) || !self->image_ready || self->n_writes > 0;
}

static void
check_all_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  const char *const all[] = { "all", NULL };
  cu_qc_review_check (CU_QC_REVIEW (widget), all);
}

static void
cancel_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  cu_qc_runner_cancel (CU_QC_REVIEW (widget)->runner);
}

/* Escape stops a running check first, and closes the window when nothing runs. */
static void
escape_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuQcReview *self = CU_QC_REVIEW (widget);

  if (cu_qc_runner_is_running (self->runner))
    cu_qc_runner_cancel (self->runner);
  else
    gtk_window_close (GTK_WINDOW (self));
}

static void
mask_toggled (GtkToggleButton *button, CuQcReview *self)
{
  apply_mask (self);
}

static void
metric_changed (GObject *object, GParamSpec *pspec, CuQcReview *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->cohort_plot));
}

/* ---- GObject -------------------------------------------------------------------------- */

static void
cu_qc_review_dispose (GObject *object)
{
  CuQcReview *self = CU_QC_REVIEW (object);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  if (self->runner != NULL)
    cu_qc_runner_cancel (self->runner);
  g_clear_handle_id (&self->poll_source, g_source_remove);
  if (self->protocol_chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->protocol_chooser));
  g_clear_object (&self->protocol_chooser);
  if (self->parent != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->parent), (gpointer *) &self->parent);
  self->parent = NULL;
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_QC_REVIEW);
  g_clear_object (&self->runner);
  g_clear_object (&self->state);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (cu_qc_review_parent_class)->dispose (object);
}

static void
cu_qc_review_finalize (GObject *object)
{
  CuQcReview *self = CU_QC_REVIEW (object);

  g_clear_pointer (&self->summaries, g_ptr_array_unref);
  g_clear_pointer (&self->report, cu_qc_report_free);
  g_clear_pointer (&self->mask, g_bytes_unref);
  g_clear_pointer (&self->plot_points, g_array_unref);
  g_free (self->series_uid);
  G_OBJECT_CLASS (cu_qc_review_parent_class)->finalize (object);
}

static void
cu_qc_review_class_init (CuQcReviewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_qc_review_dispose;
  object_class->finalize = cu_qc_review_finalize;

  g_type_ensure (CU_TYPE_SLICE_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/curata/Curata/ui/cu-qc-review.ui");
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, window_title);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, mask_toggle);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, protocol_button);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, job_revealer);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, job_label);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, job_progress);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, series_list);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, series_title);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, slice_view);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, findings_list);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, decision_label);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, reason_entry);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, accept_button);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, metrics_grid);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, cohort_title);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, metric_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, cohort_plot);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, view_stack);
  gtk_widget_class_bind_template_child (widget_class, CuQcReview, report_view);

  gtk_widget_class_install_action (widget_class, "qc.decide", "s", decide_action);
  gtk_widget_class_install_action (widget_class, "qc.check-all", NULL, check_all_action);
  gtk_widget_class_install_action (widget_class, "qc.cancel", NULL, cancel_action);
  gtk_widget_class_install_action (widget_class, "qc.set-protocol", "s", set_protocol_action);
  gtk_widget_class_install_action (widget_class, "qc.choose-protocol-file", NULL,
                                   choose_protocol_file_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "qc.check-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "qc.decide", "s",
                                       "accepted");
  gtk_widget_class_install_action (widget_class, "qc.escape", NULL, escape_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "qc.escape", NULL);
}

/* ---- protocol ---------------------------------------------------------------------------- */

/* The menu lists the built-in protocols and a file of the site's own; the button shows the
 * workspace's current protocol, so a curator sees what "Missing: …" findings are measured
 * against. */
static void
update_protocol_button (CuQcReview *self)
{
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenu) builtin = g_menu_new ();
  g_autofree char *current = cu_store_qc_get_protocol (self->store);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcProtocol) protocol = NULL;

  for (const char *const *id = cu_qc_protocol_builtin (); *id != NULL; id++)
    {
      g_autoptr (CuQcProtocol) p = cu_qc_protocol_load (*id, NULL);
      g_autoptr (GMenuItem) item = g_menu_item_new (p != NULL ? cu_qc_protocol_get_name (p) : *id, NULL);

      g_menu_item_set_action_and_target (item, "qc.set-protocol", "s", *id);
      g_menu_append_item (builtin, item);
    }
  g_menu_append_section (menu, NULL, G_MENU_MODEL (builtin));
  g_menu_append (menu, _("Protocol _File…"), "qc.choose-protocol-file");
  gtk_menu_button_set_menu_model (self->protocol_button, G_MENU_MODEL (menu));

  protocol = current != NULL ? cu_qc_protocol_load (current, &error) : NULL;
  gtk_menu_button_set_label (self->protocol_button,
                             protocol != NULL ? cu_qc_protocol_get_name (protocol) : _("No Protocol"));
  if (protocol == NULL && error != NULL)
    toast (self, error->message);
}

static gboolean
write_protocol (CuStore *store, gpointer data, GError **error)
{
  return cu_store_qc_set_protocol (store, data, error);
}

static void
protocol_written_cb (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (CuQcReview) self = data;
  g_autoptr (GError) error = NULL;

  self->n_writes--;
  if (self->store == NULL)
    return;                  /* the window was closed meanwhile */
  if (!cu_store_write_finish (CU_STORE (source), result, &error))
    {
      toast (self, error->message);
      return;
    }
  update_protocol_button (self);
  /* The study-level findings are measured against the protocol: show them anew. */
  if (self->series_uid != NULL)
    show_findings (self);
}

/* Written off the UI thread, like a decision (cu-store-write.h). */
static void
set_protocol (CuQcReview *self, const char *id_or_path)
{
  self->n_writes++;
  cu_store_write_async (self->store, write_protocol, g_strdup (id_or_path), g_free, NULL,
                        protocol_written_cb, g_object_ref (self));
}

static void
set_protocol_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  set_protocol (CU_QC_REVIEW (widget), g_variant_get_string (param, NULL));
}

static void
protocol_file_chosen (GtkNativeDialog *dialog, int response, gpointer data)
{
  CuQcReview *self = data;
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT
      && (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL)
    {
      g_autofree char *path = g_file_get_path (file);
      if (path != NULL)
        set_protocol (self, path);
    }
  g_clear_object (&self->protocol_chooser);
}

static void
choose_protocol_file_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  CuQcReview *self = CU_QC_REVIEW (widget);
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->protocol_chooser != NULL)
    return;
  self->protocol_chooser = gtk_file_chooser_native_new (_("Choose a Protocol File"), GTK_WINDOW (self),
                                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"),
                                                        _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Protocol files (*.ini)"));
  gtk_file_filter_add_pattern (filter, "*.ini");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->protocol_chooser), filter);
  g_signal_connect (self->protocol_chooser, "response", G_CALLBACK (protocol_file_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->protocol_chooser));
}

static void
cu_qc_review_init (CuQcReview *self)
{
  g_autoptr (GtkStringList) metrics = gtk_string_list_new (NULL);
  GtkGesture *click;

  g_type_ensure (CU_TYPE_HARMONIZE_REPORT_VIEW);
  gtk_widget_init_template (GTK_WIDGET (self));
  self->state = cu_viewer_state_new ();
  self->plot_points = g_array_new (FALSE, FALSE, sizeof (PlotPoint));
  g_array_set_clear_func (self->plot_points, (GDestroyNotify) plot_point_clear);
  cu_slice_view_set_state (self->slice_view, self->state);
  cu_slice_view_set_plane (self->slice_view, CU_PLANE_ACQUISITION);
  for (const char *const *m = cu_qc_cohort_metrics (); *m != NULL; m++)
    gtk_string_list_append (metrics, *m);
  gtk_drop_down_set_model (self->metric_dropdown, G_LIST_MODEL (metrics));
  gtk_drop_down_set_selected (self->metric_dropdown, 6);   /* SNR1 */
  gtk_drawing_area_set_draw_func (self->cohort_plot, draw_plot, self, NULL);
  click = gtk_gesture_click_new ();
  g_signal_connect (click, "pressed", G_CALLBACK (plot_clicked), self);
  gtk_widget_add_controller (GTK_WIDGET (self->cohort_plot), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (self->series_list, "row-selected", G_CALLBACK (row_selected), self);
  g_signal_connect (self->mask_toggle, "toggled", G_CALLBACK (mask_toggled), self);
  g_signal_connect (self->metric_dropdown, "notify::selected", G_CALLBACK (metric_changed), self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.cancel", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "qc.decide", FALSE);
  self->image_ready = TRUE;
}

CuQcReview *
cu_qc_review_new (GtkWindow *parent, CuStore *store)
{
  CuQcReview *self;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  self = g_object_new (CU_TYPE_QC_REVIEW, "transient-for", parent, NULL);
  self->parent = parent;
  if (parent != NULL)
    g_object_add_weak_pointer (G_OBJECT (parent), (gpointer *) &self->parent);
  self->store = g_object_ref (store);
  self->runner = cu_qc_runner_new (cu_store_get_path (store));
  update_protocol_button (self);
  cu_qc_review_reload (self);
  return self;
}

void
cu_qc_review_show_harmonization (CuQcReview *self)
{
  g_return_if_fail (CU_IS_QC_REVIEW (self));
  adw_view_stack_set_visible_child_name (self->view_stack, "harmonization");
}

GtkWidget *
cu_qc_review_get_harmonization_view (CuQcReview *self)
{
  g_return_val_if_fail (CU_IS_QC_REVIEW (self), NULL);
  return GTK_WIDGET (self->report_view);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize-report-view.c — the harmonization report tab (cu-harmonize-report-view.h).
 *
 * The report is cu_site_report_build(), the same as `curata-cli harmonize --report`, built in
 * a worker thread with its own CuStore on the workspace folder (a store is used by one thread
 * at a time), and drawn by cu_site_report_plot_draw(), the drawing the CLI writes as PNG/SVG:
 * the curator sees in the window exactly the picture a report file holds. The verdict is
 * worded for a curator and follows the CLI's exit status: a feature whose sites differed
 * before (p < 0.05) and still differ after is a site effect that remains, and that is said
 * in red above everything else rather than left to be read off the numbers.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-harmonize-report-view.h"
#include "cu-site-report-plot.h"

struct _CuHarmonizeReportView
{
  GtkBox parent_instance;

  /* template */
  GtkDropDown *sequence_dropdown;
  GtkDropDown *method_dropdown;
  GtkDropDown *site_dropdown;
  GtkWidget *build_button;
  GtkWidget *cancel_button;
  GtkProgressBar *progress_bar;
  GtkLabel *verdict_label;
  GtkLabel *summary_label;
  GtkGrid *stats_grid;
  GtkDrawingArea *plot;

  /* owned */
  CuStore *store;
  GtkStringList *sequences;
  CuSiteReport *report;
  GCancellable *cancellable;
  guint progress_source;
  GMutex progress_lock;
  double progress_fraction;
};

G_DEFINE_FINAL_TYPE (CuHarmonizeReportView, cu_harmonize_report_view, GTK_TYPE_BOX)

/* ---- the report shown ------------------------------------------------------------------ */

static void
draw_plot (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CuHarmonizeReportView *self = CU_HARMONIZE_REPORT_VIEW (user_data);

  if (self->report != NULL)
    cu_site_report_plot_draw (cr, self->report, width, height);
}

static GtkWidget *
cell (const char *text, gboolean heading, gboolean numeric)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0f : 0.0f);
  if (heading)
    gtk_widget_add_css_class (label, "heading");
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  return label;
}

static char *
format_stat (double h, double p, double eta2)
{
  if (!isfinite (h))
    return g_strdup ("—");
  /* Translators: Kruskal–Wallis H, its p-value and η² (share of variance explained by site) */
  return g_strdup_printf (_("H %.2f  p %.2g  η² %.2f"), h, p, eta2);
}

static void
set_verdict_style (GtkLabel *label, const char *style)
{
  gtk_widget_remove_css_class (GTK_WIDGET (label), "error");
  gtk_widget_remove_css_class (GTK_WIDGET (label), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (label), "dim-label");
  if (style != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (label), style);
}

static void
show_report (CuHarmonizeReportView *self)
{
  CuSiteReport *r = self->report;
  GtkWidget *child;
  g_autoptr (GString) remaining = g_string_new (NULL);
  guint n_before = 0, n_remaining = 0, n_removed = 0;
  gboolean after = r != NULL && r->after->len > 0;
  int w, h;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->stats_grid))) != NULL)
    gtk_grid_remove (self->stats_grid, child);
  if (r == NULL)
    {
      gtk_label_set_text (self->verdict_label, "");
      gtk_label_set_text (self->summary_label, "");
      gtk_widget_set_size_request (GTK_WIDGET (self->plot), -1, -1);
      gtk_widget_queue_draw (GTK_WIDGET (self->plot));
      return;
    }

  gtk_grid_attach (self->stats_grid, cell (_("Feature"), TRUE, FALSE), 0, 0, 1, 1);
  gtk_grid_attach (self->stats_grid, cell (_("Before"), TRUE, FALSE), 1, 0, 1, 1);
  gtk_grid_attach (self->stats_grid, cell (_("After"), TRUE, FALSE), 2, 0, 1, 1);
  gtk_grid_attach (self->stats_grid, cell (_("Site effect"), TRUE, FALSE), 3, 0, 1, 1);
  for (guint f = 0; f < r->features->len; f++)
    {
      const CuSiteReportFeature *feat = r->features->pdata[f];
      g_autofree char *b = format_stat (feat->h_before, feat->p_before, feat->eta2_before);
      g_autofree char *a = after ? format_stat (feat->h_after, feat->p_after, feat->eta2_after)
                                 : g_strdup ("—");
      const char *what;
      GtkWidget *verdict;
      const char *style = NULL;

      if (!(isfinite (feat->p_before) && feat->p_before < 0.05))
        what = _("none before");
      else
        {
          n_before++;
          if (!after)
            {
              what = _("present");
              style = "warning";
            }
          else if (cu_site_report_feature_remains (feat))
            {
              what = _("REMAINS");
              style = "error";
              n_remaining++;
              g_string_append_printf (remaining, remaining->len > 0 ? ", %s" : "%s", feat->name);
            }
          else
            {
              what = _("removed");
              style = "success";
              n_removed++;
            }
        }
      verdict = cell (what, FALSE, FALSE);
      if (style != NULL)
        gtk_widget_add_css_class (verdict, style);
      gtk_grid_attach (self->stats_grid, cell (feat->name, FALSE, FALSE), 0, f + 1, 1, 1);
      gtk_grid_attach (self->stats_grid, cell (b, FALSE, TRUE), 1, f + 1, 1, 1);
      gtk_grid_attach (self->stats_grid, cell (a, FALSE, TRUE), 2, f + 1, 1, 1);
      gtk_grid_attach (self->stats_grid, verdict, 3, f + 1, 1, 1);
    }

  {
    g_autofree char *summary = NULL;
    /* Translators: sequence, number of series, number of sites */
    summary = g_strdup_printf (ngettext ("%s: %u series at %u site", "%s: %u series at %u sites",
                                         r->sites->len),
                               r->sequence, r->before->len, r->sites->len);
    if (after)
      {
        g_autofree char *more = g_strdup_printf (_(", %u harmonized by %s"), r->after->len,
                                                 r->method);
        g_autofree char *both = g_strconcat (summary, more, NULL);
        g_free (summary);
        summary = g_steal_pointer (&both);
      }
    gtk_label_set_text (self->summary_label, summary);
  }

  if (r->sites->len < 2)
    {
      gtk_label_set_text (self->verdict_label,
                          _("The cohort has a single site: there is no site effect to measure."));
      set_verdict_style (self->verdict_label, "dim-label");
    }
  else if (r->method != NULL && !after)
    {
      g_autofree char *text =
        g_strdup_printf (_("No series of this cohort has been harmonized by %s yet: only the "
                           "acquired series are shown."), r->method);
      gtk_label_set_text (self->verdict_label, text);
      set_verdict_style (self->verdict_label, "dim-label");
    }
  else if (n_before == 0)
    {
      gtk_label_set_text (self->verdict_label,
                          _("The sites did not differ in any feature before harmonization."));
      set_verdict_style (self->verdict_label, "dim-label");
    }
  else if (!after)
    {
      g_autofree char *text =
        g_strdup_printf (ngettext ("The sites differ in %u feature (p < 0.05).",
                                   "The sites differ in %u features (p < 0.05).", n_before),
                         n_before);
      gtk_label_set_text (self->verdict_label, text);
      set_verdict_style (self->verdict_label, NULL);
    }
  else if (n_remaining > 0)
    {
      g_autofree char *text =
        g_strdup_printf (ngettext ("Harmonization did not reduce the site effect: %u feature "
                                   "still differs between sites (%s).",
                                   "Harmonization did not reduce the site effect: %u features "
                                   "still differ between sites (%s).", n_remaining),
                         n_remaining, remaining->str);
      gtk_label_set_text (self->verdict_label, text);
      set_verdict_style (self->verdict_label, "error");
    }
  else
    {
      g_autofree char *text =
        g_strdup_printf (ngettext ("Harmonization removed the site effect of the %u feature "
                                   "that differed between sites.",
                                   "Harmonization removed the site effect of all %u features "
                                   "that differed between sites.", n_removed), n_removed);
      gtk_label_set_text (self->verdict_label, text);
      set_verdict_style (self->verdict_label, "success");
    }

  cu_site_report_plot_size (r, &w, &h);
  gtk_widget_set_size_request (GTK_WIDGET (self->plot), w, h);
  gtk_widget_queue_draw (GTK_WIDGET (self->plot));
}

/* ---- building ------------------------------------------------------------------------ */

typedef struct
{
  CuHarmonizeReportView *self;   /* progress fields only; kept alive by the task */
  char *workspace;
  char *sequence;
  char *method;
  CuSiteBy site_by;
} BuildData;

static void
build_data_free (BuildData *d)
{
  g_free (d->workspace);
  g_free (d->sequence);
  g_free (d->method);
  g_free (d);
}

static void
progress_cb (double fraction, const char *message, gpointer user_data)
{
  CuHarmonizeReportView *self = user_data;

  g_mutex_lock (&self->progress_lock);
  self->progress_fraction = CLAMP (fraction, 0.0, 1.0);
  g_mutex_unlock (&self->progress_lock);
}

static gboolean
poll_progress (gpointer user_data)
{
  CuHarmonizeReportView *self = CU_HARMONIZE_REPORT_VIEW (user_data);
  double f;

  g_mutex_lock (&self->progress_lock);
  f = self->progress_fraction;
  g_mutex_unlock (&self->progress_lock);
  gtk_progress_bar_set_fraction (self->progress_bar, f);
  return G_SOURCE_CONTINUE;
}

static void
build_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  BuildData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (progress_cb, d->self);
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;
  CuSiteReport *report;

  store = cu_store_open (d->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  report = cu_site_report_build (store, d->sequence, d->method, d->site_by, progress,
                                 cancellable, &error);
  if (report == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, report, (GDestroyNotify) cu_site_report_free);
}

static void
set_busy (CuHarmonizeReportView *self, gboolean busy)
{
  gtk_widget_set_sensitive (self->build_button, !busy);
  gtk_widget_set_visible (self->cancel_button, busy);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), busy);
  if (busy && self->progress_source == 0)
    {
      gtk_progress_bar_set_fraction (self->progress_bar, 0);
      self->progress_source = g_timeout_add (100, poll_progress, self);
    }
  else if (!busy)
    g_clear_handle_id (&self->progress_source, g_source_remove);
}

static void
build_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuHarmonizeReportView *self = CU_HARMONIZE_REPORT_VIEW (source);
  g_autoptr (GError) error = NULL;
  CuSiteReport *report = g_task_propagate_pointer (G_TASK (result), &error);

  g_clear_object (&self->cancellable);
  set_busy (self, FALSE);
  if (report == NULL)
    {
      g_clear_pointer (&self->report, cu_site_report_free);
      show_report (self);
      gtk_label_set_text (self->verdict_label,
                          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                            ? _("Cancelled.") : error->message);
      set_verdict_style (self->verdict_label, "dim-label");
      return;
    }
  g_clear_pointer (&self->report, cu_site_report_free);
  self->report = report;
  show_report (self);
}

static const char *const method_ids[] = { NULL, "zscore", "nyul", "whitestripe", "n4",
                                          "resample" };

void
cu_harmonize_report_view_build (CuHarmonizeReportView *self)
{
  g_autoptr (GTask) task = NULL;
  BuildData *d;
  guint seq = gtk_drop_down_get_selected (self->sequence_dropdown);
  guint method = gtk_drop_down_get_selected (self->method_dropdown);

  g_return_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self));
  if (self->cancellable != NULL || self->store == NULL ||
      seq >= g_list_model_get_n_items (G_LIST_MODEL (self->sequences)))
    return;
  d = g_new0 (BuildData, 1);
  d->self = self;
  d->workspace = g_strdup (cu_store_get_path (self->store));
  d->sequence = g_strdup (gtk_string_list_get_string (self->sequences, seq));
  d->method = g_strdup (method < G_N_ELEMENTS (method_ids) ? method_ids[method] : NULL);
  d->site_by = gtk_drop_down_get_selected (self->site_dropdown) == 1 ? CU_SITE_BY_SCANNER
                                                                     : CU_SITE_BY_PATIENT_PREFIX;
  self->progress_fraction = 0;
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, build_done, NULL);
  g_task_set_source_tag (task, cu_harmonize_report_view_build);
  g_task_set_task_data (task, d, (GDestroyNotify) build_data_free);
  g_task_run_in_thread (task, build_thread);
  set_busy (self, TRUE);
  gtk_label_set_text (self->verdict_label, _("Measuring every series of the cohort…"));
  set_verdict_style (self->verdict_label, "dim-label");
}

void
cu_harmonize_report_view_cancel (CuHarmonizeReportView *self)
{
  g_return_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

/* ---- construction -------------------------------------------------------------------- */

static void
cu_harmonize_report_view_dispose (GObject *object)
{
  CuHarmonizeReportView *self = CU_HARMONIZE_REPORT_VIEW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_HARMONIZE_REPORT_VIEW);
  G_OBJECT_CLASS (cu_harmonize_report_view_parent_class)->dispose (object);
}

static void
cu_harmonize_report_view_finalize (GObject *object)
{
  CuHarmonizeReportView *self = CU_HARMONIZE_REPORT_VIEW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->sequences);
  g_clear_pointer (&self->report, cu_site_report_free);
  g_mutex_clear (&self->progress_lock);
  G_OBJECT_CLASS (cu_harmonize_report_view_parent_class)->finalize (object);
}

static void
cu_harmonize_report_view_class_init (CuHarmonizeReportViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_harmonize_report_view_dispose;
  object_class->finalize = cu_harmonize_report_view_finalize;
  gtk_widget_class_set_template_from_resource (
    widget_class, "/io/github/curata/Curata/ui/cu-harmonize-report-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, CuHarmonizeReportView, name)
  BIND (sequence_dropdown);
  BIND (method_dropdown);
  BIND (site_dropdown);
  BIND (build_button);
  BIND (cancel_button);
  BIND (progress_bar);
  BIND (verdict_label);
  BIND (summary_label);
  BIND (stats_grid);
  BIND (plot);
#undef BIND
  gtk_widget_class_bind_template_callback_full (widget_class, "build_clicked",
                                                G_CALLBACK (cu_harmonize_report_view_build));
  gtk_widget_class_bind_template_callback_full (widget_class, "cancel_clicked",
                                                G_CALLBACK (cu_harmonize_report_view_cancel));
}

static void
cu_harmonize_report_view_init (CuHarmonizeReportView *self)
{
  g_mutex_init (&self->progress_lock);
  gtk_widget_init_template (GTK_WIDGET (self));
  self->sequences = gtk_string_list_new (NULL);
  gtk_drop_down_set_model (self->sequence_dropdown, G_LIST_MODEL (self->sequences));
  gtk_drawing_area_set_draw_func (self->plot, draw_plot, self, NULL);
  set_busy (self, FALSE);
}

GtkWidget *
cu_harmonize_report_view_new (void)
{
  return g_object_new (CU_TYPE_HARMONIZE_REPORT_VIEW, NULL);
}

void
cu_harmonize_report_view_set_store (CuHarmonizeReportView *self, CuStore *store)
{
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autofree char *current = NULL;
  guint seq;

  g_return_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self));
  seq = gtk_drop_down_get_selected (self->sequence_dropdown);
  if (seq < g_list_model_get_n_items (G_LIST_MODEL (self->sequences)))
    current = g_strdup (gtk_string_list_get_string (self->sequences, seq));
  g_set_object (&self->store, store);
  if (store != NULL)
    list = cu_store_qc_list (store, NULL);
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      const CuQcSummary *s = list->pdata[i];
      if (s->checked && s->has_images && s->sequence != NULL &&
          g_hash_table_add (seen, s->sequence))
        g_ptr_array_add (names, s->sequence);
    }
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  g_ptr_array_add (names, NULL);
  gtk_string_list_splice (self->sequences, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->sequences)),
                          (const char *const *) names->pdata);
  if (current != NULL)
    cu_harmonize_report_view_set_sequence (self, current);
  gtk_widget_set_sensitive (self->build_button, names->len > 1 && self->cancellable == NULL);
  if (names->len == 1)
    gtk_label_set_text (self->verdict_label, _("No series has been through the quality gate "
                                               "yet: the cohort is the series it classified."));
}

gboolean
cu_harmonize_report_view_set_sequence (CuHarmonizeReportView *self, const char *sequence)
{
  guint n;

  g_return_val_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self), FALSE);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->sequences));
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->sequences, i), sequence) == 0)
      {
        gtk_drop_down_set_selected (self->sequence_dropdown, i);
        return TRUE;
      }
  return FALSE;
}

void
cu_harmonize_report_view_set_method (CuHarmonizeReportView *self, CuHarmonizeMethod method)
{
  const char *id = cu_harmonize_method_to_string (method);

  g_return_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self));
  for (guint i = 1; i < G_N_ELEMENTS (method_ids); i++)
    if (g_strcmp0 (method_ids[i], id) == 0)
      gtk_drop_down_set_selected (self->method_dropdown, i);
}

gboolean
cu_harmonize_report_view_is_busy (CuHarmonizeReportView *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self), FALSE);
  return self->cancellable != NULL;
}

const CuSiteReport *
cu_harmonize_report_view_get_report (CuHarmonizeReportView *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self), NULL);
  return self->report;
}

const char *
cu_harmonize_report_view_get_verdict (CuHarmonizeReportView *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self), NULL);
  return gtk_label_get_text (self->verdict_label);
}

gboolean
cu_harmonize_report_view_site_effect_remains (CuHarmonizeReportView *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_REPORT_VIEW (self), FALSE);
  if (self->report == NULL || self->report->after->len == 0)
    return FALSE;
  for (guint f = 0; f < self->report->features->len; f++)
    if (cu_site_report_feature_remains (self->report->features->pdata[f]))
      return TRUE;
  return FALSE;
}

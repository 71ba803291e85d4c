/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-motion-dialog.c — the motion correction / co-registration window (cu-motion-dialog.h).
 *
 * The widgets come from the template data/ui/cu-motion-dialog.ui; cu_motion_dialog_new() fills
 * in what depends on the mode and the study (the fixed series to choose from). The job opens its
 * own CuStore on the workspace (a store is used from one thread at a time), reports progress
 * through a mutex-protected record that the main loop polls, and hands back only what the
 * window draws: three 2D slices (reference, moving before, moving after, all on the reference
 * grid) and the motion table.
 *
 * The checkerboard alternates tiles of the reference and of the moving image, each shown with
 * its own 1st–99th percentile window (the contrasts may differ): edges that continue across
 * tiles mean the images are aligned.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-motion-dialog.h"

struct _CuMotionDialog
{
  AdwWindow parent_instance;

  /* template */
  GtkLabel *series_kind_label;
  GtkLabel *series_title;
  GtkWidget *fixed_row;
  GtkDropDown *fixed_dropdown;
  GtkDropDown *metric_dropdown;
  GtkWidget *start_button;
  GtkWidget *cancel_button;
  GtkProgressBar *progress_bar;
  GtkLabel *status_label;
  GtkToggleButton *after_toggle;
  GtkWidget *compare_area;
  GtkWidget *plot_area;

  /* owned */
  char *workspace;
  char *series_uid;
  char *series_label;
  GPtrArray *fixed_uids;
  CuMotionDialogMode mode;
  GCancellable *cancellable;
  gboolean running;
  guint poll_source;
  GMutex lock;          /* guards fraction/message written by the worker */
  double fraction;
  char *message;
  char *result_uid;
  GArray *rows;         /* CuMotionRow, motion correction only */
  double threshold_mm;
  int slice_w, slice_h;
  double aspect;        /* row spacing / column spacing */
  float *reference, *before, *after;
  int shown_volume;     /* 1-based volume compared (motion correction) */
  gboolean show_after;
  gboolean disposed;    /* closed while a job ran: its result is dropped */
};

G_DEFINE_FINAL_TYPE (CuMotionDialog, cu_motion_dialog, ADW_TYPE_WINDOW)

enum
{
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- the job --------------------------------------------------------------------------- */

typedef struct
{
  CuMotionDialog *dialog;   /* ref held by the task */
  char *workspace, *series_uid, *fixed_uid;
  CuMotionDialogMode mode;
  CuRigidMetricType metric;
  /* results */
  char *uid;
  char *metric_used;        /* "metric (why)", registration only */
  GArray *rows;
  int w, h, volume;
  double aspect;
  float *reference, *before, *after;
} Job;

static void
job_free (Job *job)
{
  g_free (job->workspace);
  g_free (job->series_uid);
  g_free (job->fixed_uid);
  g_free (job->uid);
  g_free (job->metric_used);
  g_clear_pointer (&job->rows, g_array_unref);
  g_free (job->reference);
  g_free (job->before);
  g_free (job->after);
  g_free (job);
}

static void
job_progress (double fraction, const char *message, gpointer user_data)
{
  CuMotionDialog *self = user_data;

  g_mutex_lock (&self->lock);
  if (fraction >= 0)
    self->fraction = fraction;
  if (message != NULL)
    {
      g_free (self->message);
      self->message = g_strdup (message);
    }
  g_mutex_unlock (&self->lock);
}

/* The middle slice (k = nz/2) of time point t, copied. */
static float *
middle_slice (const CuVolume *v, int t)
{
  gsize n = (gsize) v->dims[0] * v->dims[1];
  float *out = g_new (float, n);

  memcpy (out, cu_volume_frame (v, t) + (gsize) (v->dims[2] / 2) * n, n * sizeof (float));
  return out;
}

static CuVolume *
frame_volume (const CuVolume *v, int t)
{
  CuVolume *out = cu_volume_copy (v, FALSE);

  out->dims[3] = 1;
  out->voxels = g_memdup2 (cu_volume_frame (v, t), cu_volume_n_voxels_3d (v) * sizeof (float));
  return out;
}

static void
job_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (job_progress, job->dialog);
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;

  store = cu_store_open (job->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (job->mode == CU_MOTION_DIALOG_REGISTER)
    {
      CuRigidOptions options;
      CuRigidTransform t;
      g_autoptr (CuVolume) fixed = NULL;
      g_autoptr (CuVolume) moving = NULL;
      g_autoptr (CuVolume) before = NULL;
      g_autoptr (CuVolume) after = NULL;
      g_autofree char *result_json = NULL;
      g_autoptr (JsonNode) node = NULL;
      double m[12];

      /* The same defaults as curata-cli register: the metric chosen from the two series. */
      cu_rigid_options_init (&options, job->metric);
      job->uid = cu_motion_register_series (store, job->fixed_uid, job->series_uid, &options, &t,
                                            &result_json, progress, cancellable, &error);
      if (job->uid == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      node = json_from_string (result_json, NULL);
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        {
          JsonObject *o = json_node_get_object (node);
          job->metric_used = g_strdup (
              json_object_get_string_member_with_default (o, "metric_reason", ""));
        }
      /* Loaded again for the comparison: the registration keeps no volumes around. */
      fixed = cu_store_load_series_volume (store, job->fixed_uid, NULL, cancellable, &error);
      if (fixed != NULL)
        moving = cu_store_load_series_volume (store, job->series_uid, NULL, cancellable, &error);
      if (moving != NULL)
        before = cu_resample_volume (moving, fixed, NULL, CU_INTERPOLATION_LINEAR, 0.0f,
                                     cancellable, &error);
      cu_rigid_transform_get_matrix (&t, m);
      if (before != NULL)
        after = cu_resample_volume (moving, fixed, m, CU_INTERPOLATION_LINEAR, 0.0f, cancellable,
                                    &error);
      if (after == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      job->w = fixed->dims[0];
      job->h = fixed->dims[1];
      job->aspect = fixed->spacing[1] / fixed->spacing[0];
      job->reference = middle_slice (fixed, 0);
      job->before = middle_slice (before, 0);
      job->after = middle_slice (after, 0);
    }
  else
    {
      CuMotionOptions options;
      g_autoptr (CuVolume) series = NULL;
      g_autoptr (CuVolume) frame = NULL;
      g_autoptr (CuVolume) after = NULL;
      const CuMotionRow *worst = NULL;
      double m[12];

      cu_motion_options_init (&options);
      options.rigid.metric = job->metric;
      job->uid = cu_motion_correct_series (store, job->series_uid, &options, &job->rows, NULL,
                                           progress, cancellable, &error);
      if (job->uid == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      series = cu_store_load_series_volume (store, job->series_uid, NULL, cancellable, &error);
      if (series == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      /* Compare the volume that moved most with the reference. */
      for (guint i = 0; i < job->rows->len; i++)
        {
          const CuMotionRow *r = &g_array_index (job->rows, CuMotionRow, i);
          if (worst == NULL || r->displacement_mm > worst->displacement_mm)
            worst = r;
        }
      frame = frame_volume (series, worst->volume);
      cu_rigid_transform_get_matrix (&worst->transform, m);
      after = cu_resample_volume (frame, frame, m, CU_INTERPOLATION_LINEAR, 0.0f, cancellable,
                                  &error);
      if (after == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      job->volume = worst->volume + 1;
      job->w = series->dims[0];
      job->h = series->dims[1];
      job->aspect = series->spacing[1] / series->spacing[0];
      job->reference = middle_slice (series, options.reference);
      job->before = middle_slice (series, worst->volume);
      job->after = middle_slice (after, 0);
    }
  g_task_return_boolean (task, TRUE);
}

static void
set_running (CuMotionDialog *self, gboolean running)
{
  self->running = running;
  gtk_widget_set_sensitive (self->start_button, !running);
  gtk_widget_set_sensitive (self->cancel_button, running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->fixed_dropdown), !running);
  gtk_widget_set_sensitive (GTK_WIDGET (self->metric_dropdown), !running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), running);
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuMotionDialog *self = CU_MOTION_DIALOG (source);
  Job *job = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;

  g_clear_handle_id (&self->poll_source, g_source_remove);
  if (self->disposed)
    {
      self->running = FALSE;
      return;
    }
  set_running (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status_label, _("Cancelled; no series was written."));
      else
        {
          g_autofree char *text = g_strdup_printf (_("Failed: %s"), error->message);
          gtk_label_set_text (self->status_label, text);
        }
      return;
    }

  g_free (self->result_uid);
  self->result_uid = g_steal_pointer (&job->uid);
  g_clear_pointer (&self->rows, g_array_unref);
  self->rows = g_steal_pointer (&job->rows);
  g_free (self->reference);
  g_free (self->before);
  g_free (self->after);
  self->reference = g_steal_pointer (&job->reference);
  self->before = g_steal_pointer (&job->before);
  self->after = g_steal_pointer (&job->after);
  self->slice_w = job->w;
  self->slice_h = job->h;
  self->aspect = job->aspect;
  self->shown_volume = job->volume;
  self->threshold_mm = 0.5;

  {
    g_autofree char *text = NULL;
    if (self->rows != NULL)
      {
        guint flagged = cu_motion_table_n_flagged (self->rows);
        text = g_strdup_printf (ngettext ("Corrected series %s written. %u volume moved more than "
                                          "0.5 mm between volumes. Compared: volume %d with the "
                                          "reference.",
                                          "Corrected series %s written. %u volumes moved more than "
                                          "0.5 mm between volumes. Compared: volume %d with the "
                                          "reference.", flagged),
                                self->result_uid, flagged, self->shown_volume);
      }
    else
      text = g_strdup_printf (_("Registered series %s written on the grid of the fixed series. "
                                "Metric: %s."),
                              self->result_uid, job->metric_used != NULL ? job->metric_used : "");
    gtk_label_set_text (self->status_label, text);
  }
  gtk_widget_set_visible (self->plot_area, self->rows != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->after_toggle), TRUE);
  cu_motion_dialog_show_after (self, TRUE);
  gtk_widget_queue_draw (self->plot_area);
  g_signal_emit (self, signals[FINISHED], 0);
}

static gboolean
poll_progress (gpointer user_data)
{
  CuMotionDialog *self = user_data;

  g_mutex_lock (&self->lock);
  gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (self->fraction, 0.0, 1.0));
  if (self->message != NULL)
    gtk_progress_bar_set_text (self->progress_bar, self->message);
  g_mutex_unlock (&self->lock);
  return G_SOURCE_CONTINUE;
}

void
cu_motion_dialog_start (CuMotionDialog *self)
{
  g_autoptr (GTask) task = NULL;
  Job *job;
  guint metric_index;

  g_return_if_fail (CU_IS_MOTION_DIALOG (self));
  if (self->running)
    return;
  job = g_new0 (Job, 1);
  job->dialog = self;
  job->workspace = g_strdup (self->workspace);
  job->series_uid = g_strdup (self->series_uid);
  job->mode = self->mode;
  metric_index = gtk_drop_down_get_selected (self->metric_dropdown);
  job->metric = metric_index == 1 ? CU_RIGID_METRIC_MATTES_MI
                : metric_index == 2 ? CU_RIGID_METRIC_NCC
                : metric_index == 3 ? CU_RIGID_METRIC_MEAN_SQUARES
                                    : CU_RIGID_METRIC_AUTO;
  if (self->mode == CU_MOTION_DIALOG_REGISTER)
    {
      guint i = gtk_drop_down_get_selected (self->fixed_dropdown);
      if (i == GTK_INVALID_LIST_POSITION || i >= self->fixed_uids->len)
        {
          gtk_label_set_text (self->status_label,
                              _("This study has no other series to register onto."));
          job_free (job);
          return;
        }
      job->fixed_uid = g_strdup (self->fixed_uids->pdata[i]);
    }

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->fraction = 0.0;
  g_clear_pointer (&self->message, g_free);
  gtk_progress_bar_set_fraction (self->progress_bar, 0.0);
  gtk_progress_bar_set_text (self->progress_bar, _("Starting…"));
  gtk_label_set_text (self->status_label, self->mode == CU_MOTION_DIALOG_REGISTER
                                              ? _("Registering…")
                                              : _("Correcting motion…"));
  set_running (self, TRUE);
  self->poll_source = g_timeout_add (100, poll_progress, self);

  task = g_task_new (self, self->cancellable, job_done, NULL);
  g_task_set_source_tag (task, cu_motion_dialog_start);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
}

gboolean
cu_motion_dialog_is_running (CuMotionDialog *self)
{
  g_return_val_if_fail (CU_IS_MOTION_DIALOG (self), FALSE);
  return self->running;
}

const char *
cu_motion_dialog_get_result_uid (CuMotionDialog *self)
{
  g_return_val_if_fail (CU_IS_MOTION_DIALOG (self), NULL);
  return self->result_uid;
}

void
cu_motion_dialog_show_after (CuMotionDialog *self, gboolean after)
{
  g_return_if_fail (CU_IS_MOTION_DIALOG (self));
  self->show_after = after;
  if (gtk_toggle_button_get_active (self->after_toggle) != after)
    gtk_toggle_button_set_active (self->after_toggle, after);
  gtk_button_set_label (GTK_BUTTON (self->after_toggle), after ? _("Showing: After") : _("Showing: Before"));
  gtk_widget_queue_draw (self->compare_area);
}

void
cu_motion_dialog_set_fixed (CuMotionDialog *self, const char *fixed_uid)
{
  g_return_if_fail (CU_IS_MOTION_DIALOG (self));
  for (guint i = 0; i < self->fixed_uids->len; i++)
    if (g_strcmp0 (self->fixed_uids->pdata[i], fixed_uid) == 0)
      gtk_drop_down_set_selected (self->fixed_dropdown, i);
}

/* ---- drawing --------------------------------------------------------------------------- */

static int
compare_float (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return x < y ? -1 : x > y;
}

static void
percentile_window (const float *v, gsize n, float *lo, float *hi)
{
  g_autofree float *copy = g_memdup2 (v, n * sizeof (float));

  qsort (copy, n, sizeof (float), compare_float);
  *lo = copy[(gsize) (0.01 * (n - 1))];
  *hi = copy[(gsize) (0.99 * (n - 1))];
  if (*hi <= *lo)
    *hi = *lo + 1.0f;
}

static void
draw_compare (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CuMotionDialog *self = user_data;
  const int w = self->slice_w, h = self->slice_h;
  const float *moving = self->show_after ? self->after : self->before;
  float rlo, rhi, mlo, mhi;
  cairo_surface_t *surface;
  unsigned char *data;
  int stride, tile;
  double scale, dw, dh;

  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_paint (cr);
  if (self->reference == NULL || moving == NULL || w <= 0 || h <= 0)
    {
      PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (area),
                                                            _("The comparison appears here when the job has run."));
      int lw, lh;
      pango_layout_get_pixel_size (layout, &lw, &lh);
      cairo_set_source_rgb (cr, 0.8, 0.8, 0.8);
      cairo_move_to (cr, (width - lw) / 2.0, (height - lh) / 2.0);
      pango_cairo_show_layout (cr, layout);
      g_object_unref (layout);
      return;
    }

  percentile_window (self->reference, (gsize) w * h, &rlo, &rhi);
  percentile_window (moving, (gsize) w * h, &mlo, &mhi);
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, w, h);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  tile = MAX (4, MAX (w, h) / 8);
  cairo_surface_flush (surface);
  for (int j = 0; j < h; j++)
    for (int i = 0; i < w; i++)
      {
        gboolean ref = ((i / tile) + (j / tile)) % 2 == 0;
        float v = ref ? self->reference[(gsize) j * w + i] : moving[(gsize) j * w + i];
        float lo = ref ? rlo : mlo, hi = ref ? rhi : mhi;
        int g = (int) CLAMP (255.0f * (v - lo) / (hi - lo), 0.0f, 255.0f);
        guint32 *px = (guint32 *) (data + (gsize) j * stride) + i;
        /* The moving tiles slightly warm, so the two images can be told apart. */
        *px = ref ? (guint32) (g << 16 | g << 8 | g)
                  : (guint32) (MIN (255, g + 12) << 16 | g << 8 | MAX (0, g - 12));
      }
  cairo_surface_mark_dirty (surface);

  dw = w;
  dh = h * self->aspect;
  scale = MIN (width / dw, height / dh);
  cairo_save (cr);
  cairo_translate (cr, (width - dw * scale) / 2.0, (height - dh * scale) / 2.0);
  cairo_scale (cr, scale, scale * self->aspect);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (surface);

  {
    g_autofree char *text = g_strdup (self->show_after ? _("After: reference and corrected tiles")
                                                       : _("Before: reference and original tiles"));
    PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), text);
    cairo_set_source_rgb (cr, 1.0, 0.85, 0.3);
    cairo_move_to (cr, 8, 6);
    pango_cairo_show_layout (cr, layout);
    g_object_unref (layout);
  }
}

static void
plot_panel (GtkWidget *widget, cairo_t *cr, double x0, double y0, double pw, double ph,
            GArray *rows, int what, const char *title, double threshold)
{
  static const double colors[3][3] = { { 0.90, 0.30, 0.25 }, { 0.30, 0.70, 0.30 },
                                       { 0.30, 0.50, 0.95 } };
  guint n = rows->len;
  double vmin = 0, vmax = 0;
  PangoLayout *layout;
  int series = what == 2 ? 1 : 3;

  for (guint i = 0; i < n; i++)
    {
      const CuMotionRow *r = &g_array_index (rows, CuMotionRow, i);
      for (int c = 0; c < series; c++)
        {
          double v = what == 0 ? r->translation_mm[c] : what == 1 ? r->rotation_deg[c] : r->fd_mm;
          vmin = MIN (vmin, v);
          vmax = MAX (vmax, v);
        }
    }
  if (what == 2)
    vmax = MAX (vmax, threshold * 1.2);
  if (vmax - vmin < 1e-6)
    vmax = vmin + 1.0;

  cairo_set_source_rgb (cr, 0.16, 0.16, 0.16);
  cairo_rectangle (cr, x0, y0, pw, ph);
  cairo_fill (cr);
  /* zero line */
  cairo_set_source_rgb (cr, 0.45, 0.45, 0.45);
  cairo_set_line_width (cr, 1.0);
  cairo_move_to (cr, x0, y0 + ph * (vmax / (vmax - vmin)));
  cairo_line_to (cr, x0 + pw, y0 + ph * (vmax / (vmax - vmin)));
  cairo_stroke (cr);

#define PX(i) (x0 + (n > 1 ? (double) (i) / (n - 1) : 0.5) * pw)
#define PY(v) (y0 + ph * ((vmax - (v)) / (vmax - vmin)))
  if (what == 2)
    {
      double dashes[] = { 4.0, 3.0 };
      cairo_set_dash (cr, dashes, 2, 0);
      cairo_set_source_rgb (cr, 0.95, 0.6, 0.2);
      cairo_move_to (cr, x0, PY (threshold));
      cairo_line_to (cr, x0 + pw, PY (threshold));
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);
    }
  for (int c = 0; c < series; c++)
    {
      if (what == 2)
        cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
      else
        cairo_set_source_rgb (cr, colors[c][0], colors[c][1], colors[c][2]);
      cairo_set_line_width (cr, 1.5);
      for (guint i = 0; i < n; i++)
        {
          const CuMotionRow *r = &g_array_index (rows, CuMotionRow, i);
          double v = what == 0 ? r->translation_mm[c] : what == 1 ? r->rotation_deg[c] : r->fd_mm;
          if (i == 0)
            cairo_move_to (cr, PX (i), PY (v));
          else
            cairo_line_to (cr, PX (i), PY (v));
        }
      cairo_stroke (cr);
    }
  if (what == 2)
    for (guint i = 0; i < n; i++)
      {
        const CuMotionRow *r = &g_array_index (rows, CuMotionRow, i);
        if (r->over_threshold)
          cairo_set_source_rgb (cr, 0.95, 0.25, 0.2);
        else
          cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
        cairo_arc (cr, PX (i), PY (r->fd_mm), 3.0, 0, 2 * G_PI);
        cairo_fill (cr);
      }
#undef PX
#undef PY
  {
    g_autofree char *text = g_strdup_printf ("%s   [%.2f … %.2f]", title, vmin, vmax);
    layout = gtk_widget_create_pango_layout (widget, text);
    cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
    cairo_move_to (cr, x0 + 6, y0 + 2);
    pango_cairo_show_layout (cr, layout);
    g_object_unref (layout);
  }
}

static void
draw_plot (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CuMotionDialog *self = user_data;
  double ph = (height - 34) / 3.0;

  cairo_set_source_rgb (cr, 0.1, 0.1, 0.1);
  cairo_paint (cr);
  if (self->rows == NULL || self->rows->len == 0)
    return;
  plot_panel (GTK_WIDGET (area), cr, 4, 4, width - 8, ph - 4, self->rows, 0,
              _("Translation (mm): L red, P green, S blue"), 0);
  plot_panel (GTK_WIDGET (area), cr, 4, 8 + ph, width - 8, ph - 4, self->rows, 1,
              _("Rotation (degrees) about L, P, S"), 0);
  plot_panel (GTK_WIDGET (area), cr, 4, 12 + 2 * ph, width - 8, ph - 4, self->rows, 2,
              _("Framewise displacement (mm); dashed: threshold"), self->threshold_mm);
  {
    /* The horizontal axis: volumes 1 … n, left to right. */
    g_autofree char *first = g_strdup_printf (_("volume %d"), 1);
    g_autofree char *last = g_strdup_printf (_("volume %u"), self->rows->len);
    PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (area), first);
    int lw, lh;

    cairo_set_source_rgb (cr, 0.7, 0.7, 0.7);
    pango_layout_get_pixel_size (layout, &lw, &lh);
    cairo_move_to (cr, 8, height - lh - 2);
    pango_cairo_show_layout (cr, layout);
    pango_layout_set_text (layout, last, -1);
    pango_layout_get_pixel_size (layout, &lw, &lh);
    cairo_move_to (cr, width - lw - 8, height - lh - 2);
    pango_cairo_show_layout (cr, layout);
    g_object_unref (layout);
  }
}

/* ---- construction ---------------------------------------------------------------------- */

static void
start_clicked (CuMotionDialog *self)
{
  cu_motion_dialog_start (self);
}

void
cu_motion_dialog_cancel (CuMotionDialog *self)
{
  g_return_if_fail (CU_IS_MOTION_DIALOG (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

static void
cancel_clicked (CuMotionDialog *self)
{
  cu_motion_dialog_cancel (self);
}

/* Escape stops a running job first (as the Cancel button does) and closes the window only
 * when nothing runs, so one keypress never throws away a registration by accident. */
static gboolean
escape_pressed (GtkWidget *widget, GVariant *args, gpointer user_data)
{
  CuMotionDialog *self = CU_MOTION_DIALOG (widget);

  if (self->running)
    cu_motion_dialog_cancel (self);
  else
    gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

static void
after_toggled (CuMotionDialog *self)
{
  gboolean active = gtk_toggle_button_get_active (self->after_toggle);

  if (active != self->show_after)
    cu_motion_dialog_show_after (self, active);
}

static void
cu_motion_dialog_dispose (GObject *object)
{
  CuMotionDialog *self = CU_MOTION_DIALOG (object);

  /* Closing the window cancels its job. */
  self->disposed = TRUE;
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->poll_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_MOTION_DIALOG);
  G_OBJECT_CLASS (cu_motion_dialog_parent_class)->dispose (object);
}

static void
cu_motion_dialog_finalize (GObject *object)
{
  CuMotionDialog *self = CU_MOTION_DIALOG (object);

  g_free (self->workspace);
  g_free (self->series_uid);
  g_free (self->series_label);
  g_clear_pointer (&self->fixed_uids, g_ptr_array_unref);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
  g_free (self->message);
  g_free (self->result_uid);
  g_clear_pointer (&self->rows, g_array_unref);
  g_free (self->reference);
  g_free (self->before);
  g_free (self->after);
  G_OBJECT_CLASS (cu_motion_dialog_parent_class)->finalize (object);
}

static void
cu_motion_dialog_class_init (CuMotionDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_motion_dialog_dispose;
  object_class->finalize = cu_motion_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-motion-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, series_kind_label);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, series_title);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, fixed_row);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, fixed_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, metric_dropdown);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, start_button);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, after_toggle);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, compare_area);
  gtk_widget_class_bind_template_child (widget_class, CuMotionDialog, plot_area);
  gtk_widget_class_bind_template_callback (widget_class, start_clicked);
  gtk_widget_class_bind_template_callback (widget_class, cancel_clicked);
  gtk_widget_class_bind_template_callback (widget_class, after_toggled);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Escape, 0, escape_pressed, NULL);

  /* A derived series was written (cu_motion_dialog_get_result_uid()). */
  signals[FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cu_motion_dialog_init (CuMotionDialog *self)
{
  g_mutex_init (&self->lock);
  self->fixed_uids = g_ptr_array_new_with_free_func (g_free);
  self->show_after = TRUE;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->compare_area), draw_compare, self, NULL);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->plot_area), draw_plot, self, NULL);
}

static char *
series_label (const CuSeriesRecord *r)
{
  return g_strdup_printf ("#%d %s (%s)", r->series_number,
                          r->series_description != NULL && r->series_description[0] != '\0'
                              ? r->series_description : _("no description"),
                          r->modality != NULL ? r->modality : "?");
}

CuMotionDialog *
cu_motion_dialog_new (GtkWindow *parent, CuStore *store, const char *series_uid,
                      CuMotionDialogMode mode)
{
  CuMotionDialog *self = g_object_new (CU_TYPE_MOTION_DIALOG, NULL);
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (CuSeriesRecord) record = NULL;
  g_autoptr (GtkStringList) fixed_names = gtk_string_list_new (NULL);

  self->workspace = g_strdup (cu_store_get_path (store));
  self->series_uid = g_strdup (series_uid);
  self->mode = mode;
  record = cu_store_get_series (store, series_uid, NULL);
  self->series_label = record != NULL ? series_label (record) : g_strdup (series_uid);
  all = cu_store_list_series (store, NULL);
  for (guint i = 0; all != NULL && record != NULL && i < all->len; i++)
    {
      const CuSeriesRecord *r = all->pdata[i];
      g_autofree char *label = NULL;

      if (g_strcmp0 (r->study_uid, record->study_uid) != 0
          || g_strcmp0 (r->series_uid, series_uid) == 0)
        continue;
      label = series_label (r);
      gtk_string_list_append (fixed_names, label);
      g_ptr_array_add (self->fixed_uids, g_strdup (r->series_uid));
    }

  gtk_window_set_title (GTK_WINDOW (self), mode == CU_MOTION_DIALOG_REGISTER
                                               ? _("Co-register Series")
                                               : _("Motion Correction"));
  if (parent != NULL)
    {
      gtk_window_set_transient_for (GTK_WINDOW (self), parent);
      gtk_window_set_destroy_with_parent (GTK_WINDOW (self), TRUE);
    }
  gtk_label_set_text (self->series_kind_label, mode == CU_MOTION_DIALOG_REGISTER ? _("Moving series")
                                                                                 : _("Series (4D)"));
  gtk_label_set_text (self->series_title, self->series_label);
  gtk_drop_down_set_model (self->fixed_dropdown, G_LIST_MODEL (fixed_names));
  gtk_widget_set_visible (self->fixed_row, mode == CU_MOTION_DIALOG_REGISTER);
  gtk_label_set_text (self->status_label,
                      mode == CU_MOTION_DIALOG_REGISTER
                        ? _("The moving series is registered rigidly onto the fixed one and written as a new "
                            "series on the fixed grid. The originals are not changed.")
                        : _("Every volume is registered rigidly to the first one and the corrected series is "
                            "written as a new series. The originals are not changed."));
  gtk_toggle_button_set_active (self->after_toggle, TRUE);
  return self;
}

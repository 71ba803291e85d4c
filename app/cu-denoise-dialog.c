/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-denoise-dialog.c — denoising from the window (see cu-denoise-dialog.h).
 *
 * Preview: every parameter or slice change schedules a preview after a short pause (so
 * dragging a spin button does not queue dozens); a new preview cancels the one computing, and
 * a result that arrives for an older request is dropped (generation counter). The preview runs
 * cu_denoise_slice() in a worker thread: the filter on the few slices the shown one depends on,
 * so it shows exactly what the volume run will produce for that slice.
 *
 * Run: cu_denoise_volume() then cu_store_write_derived_series() in a worker thread with its own
 * CuStore on the same workspace (a store is used by one thread at a time); progress is polled
 * from the main loop; Cancel (or closing the dialog) cancels and nothing is catalogued.
 *
 * The widgets come from the template data/ui/cu-denoise-dialog.ui (one page of parameter rows
 * per method in a stack); cu_denoise_dialog_new() sets what depends on the series: the slice
 * range, the parameter defaults for its modality and the subtitle.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-denoise-dialog.h"

#define PREVIEW_DELAY_MS 120

struct _CuDenoiseDialog
{
  AdwWindow parent_instance;

  /* template */
  AdwWindowTitle *title;
  GtkWidget *run_button;
  GtkWidget *cancel_button;
  AdwComboRow *method_row;
  GtkStack *params_stack;
  GtkSpinButton *patch_spin, *search_spin, *strength_spin;
  GtkSwitch *nlm_rician_switch;
  AdwComboRow *kind_row;
  GtkSpinButton *iterations_spin, *conductance_spin;
  GtkSwitch *diffusion_rician_switch;
  GtkSpinButton *sigma_mm_spin;
  GtkSpinButton *slice_spin;
  AdwComboRow *view_row;
  GtkLabel *noise_label;
  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkDrawingArea *canvas;

  /* owned */
  char *workspace;
  char *series_uid;
  CuVolume *volume;
  int t;
  double window, level;
  double sigma_rician, sigma_gaussian;    /* estimated noise, 0 = not yet */
  double noise_power;                     /* the Rician NLM's, for sigma_rician; 0 = not yet */
  CuVolume *preview;                      /* one slice */
  int preview_k;
  double preview_seconds;
  double preview_sigma;
  guint preview_source;
  guint generation;
  GCancellable *preview_cancellable;
  gboolean previewing;
  cairo_surface_t *before_surface, *after_surface, *diff_surface;
  double split;                           /* split position, fraction of the width */
  GCancellable *run_cancellable;
  guint progress_source;
  GMutex progress_lock;
  double progress_fraction;
  char *result_uid;
};

G_DEFINE_FINAL_TYPE (CuDenoiseDialog, cu_denoise_dialog, ADW_TYPE_WINDOW)

enum { SIGNAL_DENOISED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void schedule_preview (CuDenoiseDialog *self);

/* ---- parameters ---------------------------------------------------------------------- */

void
cu_denoise_dialog_get_params (CuDenoiseDialog *self, CuDenoiseParams *p)
{
  CuDenoiseMethod method = (CuDenoiseMethod) adw_combo_row_get_selected (self->method_row);

  cu_denoise_params_init (p, method, self->volume->modality);
  p->nlm.patch_radius = gtk_spin_button_get_value_as_int (self->patch_spin);
  p->nlm.search_radius = gtk_spin_button_get_value_as_int (self->search_spin);
  p->nlm.strength = gtk_spin_button_get_value (self->strength_spin);
  p->nlm.rician = gtk_switch_get_active (self->nlm_rician_switch);
  p->diffusion.kind = adw_combo_row_get_selected (self->kind_row) == 1 ? CU_DIFFUSION_CURVATURE
                                                                          : CU_DIFFUSION_PERONA_MALIK;
  p->diffusion.iterations = gtk_spin_button_get_value_as_int (self->iterations_spin);
  p->diffusion.conductance = gtk_spin_button_get_value (self->conductance_spin);
  p->diffusion.rician = gtk_switch_get_active (self->diffusion_rician_switch);
  p->gaussian_sigma_mm = gtk_spin_button_get_value (self->sigma_mm_spin);
}

static gboolean
method_rician (const CuDenoiseParams *p)
{
  return p->method == CU_DENOISE_NLM ? p->nlm.rician : p->diffusion.rician;
}

/* ---- rendering ----------------------------------------------------------------------- */

static cairo_surface_t *
slice_surface (const float *values, int nx, int ny, double window, double level, gboolean diff,
               double diff_range)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, nx, ny);
  guint8 *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);

  cairo_surface_flush (s);
  for (int j = 0; j < ny; j++)
    {
      guint32 *row = (guint32 *) (data + (gsize) j * stride);
      for (int i = 0; i < nx; i++)
        {
          double v = values[(gsize) j * nx + i];
          double g;
          guint8 b;
          if (diff)
            g = 0.5 + 0.5 * v / diff_range;   /* mid grey = nothing removed */
          else
            g = (v - (level - 0.5 - (window - 1) / 2)) / (window - 1);
          g = CLAMP (g, 0.0, 1.0);
          b = (guint8) lround (g * 255.0);
          row[i] = 0xff000000u | ((guint32) b << 16) | ((guint32) b << 8) | b;
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

static void
clear_surfaces (CuDenoiseDialog *self)
{
  g_clear_pointer (&self->before_surface, cairo_surface_destroy);
  g_clear_pointer (&self->after_surface, cairo_surface_destroy);
  g_clear_pointer (&self->diff_surface, cairo_surface_destroy);
}

static void
rebuild_surfaces (CuDenoiseDialog *self)
{
  const int nx = self->volume->dims[0], ny = self->volume->dims[1];
  const int k = (gtk_spin_button_get_value_as_int (self->slice_spin) - 1);
  const float *before = cu_volume_frame (self->volume, self->t) + (gsize) k * nx * ny;

  clear_surfaces (self);
  self->before_surface = slice_surface (before, nx, ny, self->window, self->level, FALSE, 0);
  if (self->preview != NULL && self->preview_k == k)
    {
      g_autofree float *diff = g_new (float, (gsize) nx * ny);
      double range = self->preview_sigma > 0 ? 3.0 * self->preview_sigma : 0.0;

      for (gsize x = 0; x < (gsize) nx * ny; x++)
        diff[x] = before[x] - self->preview->voxels[x];
      if (range <= 0)
        {
          /* Gaussian smoothing has no noise sigma: scale by the spread of the difference */
          double s2 = 0;
          for (gsize x = 0; x < (gsize) nx * ny; x++)
            s2 += (double) diff[x] * diff[x];
          range = 3.0 * sqrt (s2 / ((double) nx * ny));
        }
      if (!(range > 0))
        range = 1.0;
      self->after_surface = slice_surface (self->preview->voxels, nx, ny, self->window,
                                           self->level, FALSE, 0);
      self->diff_surface = slice_surface (diff, nx, ny, 0, 0, TRUE, range);
    }
}

static void
draw_panel (cairo_t *cr, cairo_surface_t *surface, double x, double y, double w, double h,
            int nx, int ny, double sx, double sy, const char *label, double clip_from,
            double clip_to)
{
  /* Keep the aspect ratio of the physical pixel size. */
  double pw = nx * sx, ph = ny * sy;
  double scale = MIN (w / pw, h / ph);
  double ox = x + (w - pw * scale) / 2, oy = y + (h - ph * scale) / 2;

  if (surface == NULL)
    return;
  cairo_save (cr);
  cairo_rectangle (cr, ox + clip_from * pw * scale, oy, (clip_to - clip_from) * pw * scale,
                   ph * scale);
  cairo_clip (cr);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale * sx, scale * sy);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);

  if (label != NULL)
    {
      cairo_text_extents_t ext;
      double lx = ox + clip_from * pw * scale + 6, ly = oy + 18;

      cairo_save (cr);
      cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
      cairo_set_font_size (cr, 13);
      cairo_text_extents (cr, label, &ext);
      /* a dark box keeps the label readable on the noisy difference image */
      cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
      cairo_rectangle (cr, lx - 3, ly + ext.y_bearing - 3, ext.width + 6, ext.height + 6);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 1.0, 0.85, 0.2);
      cairo_move_to (cr, lx, ly);
      cairo_show_text (cr, label);
      cairo_restore (cr);
    }
}

/* Panel geometry shared by drawing and the split drag. The panels go in the grid (columns ×
 * rows) where the slice comes out largest: one row in a wide area, 2 × 2 or one column in a
 * tall one, so the images do not shrink to thumbnails in a sea of black. */
static void
panel_rect (CuDenoiseDialog *self, int width, int height, int index, int n,
            double *x, double *y, double *w, double *h)
{
  const double gap = 6;
  const double pw = self->volume->dims[0] * self->volume->spacing[0];
  const double ph = self->volume->dims[1] * self->volume->spacing[1];
  int cols = n, rows = 1;
  double best = -1;

  for (int c = 1; c <= n; c++)
    {
      int r = (n + c - 1) / c;
      double cw = (width - gap * (c - 1)) / c, ch = (height - gap * (r - 1)) / r;
      double scale = MIN (cw / pw, ch / ph);

      if (scale > best * 1.0001)
        {
          best = scale;
          cols = c;
          rows = r;
        }
    }
  *w = (width - gap * (cols - 1)) / cols;
  *h = (height - gap * (rows - 1)) / rows;
  *x = (index % cols) * (*w + gap);
  *y = (index / cols) * (*h + gap);
}

static void
draw_canvas (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (user_data);
  const int nx = self->volume->dims[0], ny = self->volume->dims[1];
  const double sx = self->volume->spacing[0], sy = self->volume->spacing[1];
  CuDenoiseView view = (CuDenoiseView) adw_combo_row_get_selected (self->view_row);
  double x, y, w, h;

  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_paint (cr);
  if (self->before_surface == NULL)
    rebuild_surfaces (self);

  if (view == CU_DENOISE_VIEW_SPLIT)
    {
      double pw, ph, scale, ox;
      panel_rect (self, width, height, 0, 2, &x, &y, &w, &h);
      draw_panel (cr, self->before_surface, x, y, w, h, nx, ny, sx, sy, _("Before"), 0,
                  self->split);
      draw_panel (cr, self->after_surface ? self->after_surface : self->before_surface, x, y, w,
                  h, nx, ny, sx, sy, _("After"), self->split, 1);
      /* the split line */
      pw = nx * sx;
      ph = ny * sy;
      scale = MIN (w / pw, h / ph);
      ox = x + (w - pw * scale) / 2;
      cairo_set_source_rgb (cr, 1.0, 0.85, 0.2);
      cairo_set_line_width (cr, 2);
      cairo_move_to (cr, ox + self->split * pw * scale, y + (h - ph * scale) / 2);
      cairo_rel_line_to (cr, 0, ph * scale);
      cairo_stroke (cr);
      panel_rect (self, width, height, 1, 2, &x, &y, &w, &h);
      draw_panel (cr, self->diff_surface, x, y, w, h, nx, ny, sx, sy,
                  _("Difference (removed)"), 0, 1);
    }
  else
    {
      panel_rect (self, width, height, 0, 3, &x, &y, &w, &h);
      draw_panel (cr, self->before_surface, x, y, w, h, nx, ny, sx, sy, _("Before"), 0, 1);
      panel_rect (self, width, height, 1, 3, &x, &y, &w, &h);
      draw_panel (cr, self->after_surface, x, y, w, h, nx, ny, sx, sy, _("After"), 0, 1);
      panel_rect (self, width, height, 2, 3, &x, &y, &w, &h);
      draw_panel (cr, self->diff_surface, x, y, w, h, nx, ny, sx, sy,
                  _("Difference (removed)"), 0, 1);
    }
}

static void
split_drag (CuDenoiseDialog *self, double px)
{
  const int nx = self->volume->dims[0], ny = self->volume->dims[1];
  double x, y, w, h, pw = nx * self->volume->spacing[0], ph = ny * self->volume->spacing[1];
  double scale, ox;

  if (adw_combo_row_get_selected (self->view_row) != CU_DENOISE_VIEW_SPLIT)
    return;
  panel_rect (self, gtk_widget_get_width (GTK_WIDGET (self->canvas)),
              gtk_widget_get_height (GTK_WIDGET (self->canvas)), 0, 2, &x, &y, &w, &h);
  scale = MIN (w / pw, h / ph);
  ox = x + (w - pw * scale) / 2;
  self->split = CLAMP ((px - ox) / (pw * scale), 0.0, 1.0);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
drag_begin_cb (GtkGestureDrag *gesture, double x, double y, CuDenoiseDialog *self)
{
  split_drag (self, x);
}

static void
drag_update_cb (GtkGestureDrag *gesture, double dx, double dy, CuDenoiseDialog *self)
{
  double x0, y0;

  gtk_gesture_drag_get_start_point (gesture, &x0, &y0);
  split_drag (self, x0 + dx);
}

/* ---- preview ------------------------------------------------------------------------- */

typedef struct
{
  CuVolume *volume;
  int t, k;
  CuDenoiseParams params;
  guint generation;
  double seconds;
  double sigma;
} PreviewData;

static void
preview_data_free (PreviewData *d)
{
  cu_volume_unref (d->volume);
  g_free (d);
}

static void
preview_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PreviewData *d = task_data;
  GError *error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  CuVolume *out;

  if (d->params.method != CU_DENOISE_GAUSSIAN && d->params.nlm.sigma == 0.0)
    {
      CuNoiseEstimate est;
      if (!cu_noise_estimate (d->volume, d->t, method_rician (&d->params), &est, &error))
        {
          g_task_return_error (task, error);
          return;
        }
      d->params.nlm.sigma = d->params.diffusion.sigma = est.sigma;
    }
  /* Measured once on the whole time point like the sigma, and kept by the dialog: a new
   * preview after a parameter change need not measure it again. */
  if (d->params.method == CU_DENOISE_NLM && d->params.nlm.rician && d->params.nlm.noise_power == 0.0)
    d->params.nlm.noise_power = cu_nlm_noise_power (d->volume, d->t, d->params.nlm.sigma);
  out = cu_denoise_slice (d->volume, d->t, d->k, &d->params, &d->sigma, cancellable, &error);
  d->seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (out == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, out, (GDestroyNotify) cu_volume_unref);
}

static void
preview_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (source);
  PreviewData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  CuVolume *out = g_task_propagate_pointer (G_TASK (result), &error);

  if (d->generation != self->generation)
    {
      /* a newer request superseded this one */
      g_clear_pointer (&out, cu_volume_unref);
      return;
    }
  self->previewing = FALSE;
  g_clear_object (&self->preview_cancellable);
  if (out == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status_label, error->message);
      return;
    }
  g_clear_pointer (&self->preview, cu_volume_unref);
  self->preview = out;
  self->preview_k = d->k;
  self->preview_seconds = d->seconds;
  self->preview_sigma = d->params.method == CU_DENOISE_GAUSSIAN ? 0.0 : d->sigma;
  if (d->params.method != CU_DENOISE_GAUSSIAN)
    {
      g_autofree char *text = NULL;
      if (method_rician (&d->params))
        self->sigma_rician = d->sigma;
      if (d->params.method == CU_DENOISE_NLM && d->params.nlm.rician)
        self->noise_power = d->params.nlm.noise_power;
      else
        self->sigma_gaussian = d->sigma;
      /* Translators: the noise standard deviation estimated from the image */
      text = g_strdup_printf (_("Noise σ (estimated): %.4g"), d->sigma);
      gtk_label_set_text (self->noise_label, text);
    }
  {
    /* Translators: %d is a slice number, %.2f seconds */
    g_autofree char *text = g_strdup_printf (_("Preview of slice %d in %.2f s"), d->k + 1,
                                             d->seconds);
    gtk_label_set_text (self->status_label, text);
  }
  rebuild_surfaces (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static gboolean
start_preview (gpointer user_data)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (user_data);
  g_autoptr (GTask) task = NULL;
  PreviewData *d = g_new0 (PreviewData, 1);

  self->preview_source = 0;
  d->volume = cu_volume_ref (self->volume);
  d->t = self->t;
  d->k = (gtk_spin_button_get_value_as_int (self->slice_spin) - 1);
  d->generation = self->generation;
  cu_denoise_dialog_get_params (self, &d->params);
  /* the cached estimate for this noise model, else the worker estimates it */
  d->params.nlm.sigma = d->params.diffusion.sigma =
    method_rician (&d->params) ? self->sigma_rician : self->sigma_gaussian;
  /* valid only with the cached sigma it was measured for */
  d->params.nlm.noise_power = self->sigma_rician != 0.0 ? self->noise_power : 0.0;

  self->preview_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->preview_cancellable, preview_done, NULL);
  g_task_set_source_tag (task, start_preview);
  g_task_set_task_data (task, d, (GDestroyNotify) preview_data_free);
  g_task_run_in_thread (task, preview_thread);
  gtk_label_set_text (self->status_label, _("Computing the preview…"));
  return G_SOURCE_REMOVE;
}

static void
schedule_preview (CuDenoiseDialog *self)
{
  self->generation++;
  if (self->preview_cancellable != NULL)
    {
      g_cancellable_cancel (self->preview_cancellable);
      g_clear_object (&self->preview_cancellable);
    }
  g_clear_handle_id (&self->preview_source, g_source_remove);
  self->previewing = TRUE;
  self->preview_source = g_timeout_add (PREVIEW_DELAY_MS, start_preview, self);
}

static void
params_changed_cb (CuDenoiseDialog *self)
{
  CuDenoiseMethod method = (CuDenoiseMethod) adw_combo_row_get_selected (self->method_row);

  gtk_stack_set_visible_child_name (self->params_stack, cu_denoise_method_to_string (method));
  schedule_preview (self);
}

static void
slice_changed_cb (CuDenoiseDialog *self)
{
  clear_surfaces (self);
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
  schedule_preview (self);
}

static void
view_changed_cb (CuDenoiseDialog *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

/* ---- run on the volume --------------------------------------------------------------- */

typedef struct
{
  CuDenoiseDialog *self;     /* for the progress fields only; kept alive by the task */
  CuVolume *volume;
  char *workspace;
  char *series_uid;
  CuDenoiseParams params;
} RunData;

static void
run_data_free (RunData *d)
{
  cu_volume_unref (d->volume);
  g_free (d->workspace);
  g_free (d->series_uid);
  g_free (d);
}

static void
run_progress (double fraction, const char *message, gpointer user_data)
{
  CuDenoiseDialog *self = user_data;

  g_mutex_lock (&self->progress_lock);
  self->progress_fraction = fraction;
  g_mutex_unlock (&self->progress_lock);
}

static void
write_progress (double fraction, const char *message, gpointer user_data)
{
  /* writing is the last tenth of the bar */
  run_progress (0.9 + 0.1 * CLAMP (fraction, 0.0, 1.0), message, user_data);
}

static void
filter_progress (double fraction, const char *message, gpointer user_data)
{
  run_progress (0.9 * CLAMP (fraction, 0.0, 1.0), message, user_data);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  g_autoptr (CuProgress) fp = cu_progress_new (filter_progress, d->self);
  g_autoptr (CuProgress) wp = cu_progress_new (write_progress, d->self);
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (CuStore) store = NULL;
  g_autofree char *json = NULL, *description = NULL, *method = NULL;
  GError *error = NULL;
  double sigma = 0;
  char *uid;

  out = cu_denoise_volume (d->volume, &d->params, &sigma, fp, cancellable, &error);
  if (out == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  store = cu_store_open (d->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  json = cu_denoise_params_to_json (&d->params, sigma);
  description = cu_denoise_params_describe (&d->params, sigma);
  method = g_strconcat ("denoise-", cu_denoise_method_to_string (d->params.method), NULL);
  {
    CuDerivedSeriesSpec spec = {
      .source_series_uid = d->series_uid,
      .method = method,
      .derivation_description = description,
      .parameters_json = json,
    };
    uid = cu_store_write_derived_series (store, &spec, out, wp, cancellable, &error);
  }
  if (uid == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, uid, g_free);
}

static gboolean
poll_progress (gpointer user_data)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (user_data);
  double f;

  g_mutex_lock (&self->progress_lock);
  f = self->progress_fraction;
  g_mutex_unlock (&self->progress_lock);
  if (f >= 0)
    gtk_progress_bar_set_fraction (self->progress_bar, f);
  else
    gtk_progress_bar_pulse (self->progress_bar);
  return G_SOURCE_CONTINUE;
}

static void
set_running (CuDenoiseDialog *self, gboolean running)
{
  gtk_widget_set_sensitive (self->run_button, !running);
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), running);
  if (!running)
    g_clear_handle_id (&self->progress_source, g_source_remove);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (source);
  g_autoptr (GError) error = NULL;
  g_autofree char *uid = g_task_propagate_pointer (G_TASK (result), &error);

  g_clear_object (&self->run_cancellable);
  set_running (self, FALSE);
  if (uid == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status_label, _("Cancelled: no series was written."));
      else
        {
          g_autofree char *text = g_strdup_printf (_("Denoising failed: %s"), error->message);
          gtk_label_set_text (self->status_label, text);
        }
      return;
    }
  g_free (self->result_uid);
  self->result_uid = g_strdup (uid);
  {
    g_autofree char *text = g_strdup_printf (_("Written as a new derived series (%s)."), uid);
    gtk_label_set_text (self->status_label, text);
  }
  g_signal_emit (self, signals[SIGNAL_DENOISED], 0, uid);
}

void
cu_denoise_dialog_run (CuDenoiseDialog *self)
{
  g_autoptr (GTask) task = NULL;
  RunData *d;

  g_return_if_fail (CU_IS_DENOISE_DIALOG (self));
  if (self->run_cancellable != NULL)
    return;
  d = g_new0 (RunData, 1);
  d->self = self;
  d->volume = cu_volume_ref (self->volume);
  d->workspace = g_strdup (self->workspace);
  d->series_uid = g_strdup (self->series_uid);
  cu_denoise_dialog_get_params (self, &d->params);
  /* sigma 0: estimated from each time point, and recorded as estimated */

  self->progress_fraction = 0;
  self->run_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->run_cancellable, run_done, NULL);
  g_task_set_source_tag (task, cu_denoise_dialog_run);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
  set_running (self, TRUE);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  self->progress_source = g_timeout_add (100, poll_progress, self);
  gtk_label_set_text (self->status_label, _("Denoising the volume…"));
}

void
cu_denoise_dialog_cancel (CuDenoiseDialog *self)
{
  g_return_if_fail (CU_IS_DENOISE_DIALOG (self));
  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
}

/* ---- construction -------------------------------------------------------------------- */

/* The defaults of the series' modality (Rician noise for MR), as the CLI uses them. */
static void
apply_defaults (CuDenoiseDialog *self)
{
  CuDenoiseParams d;

  cu_denoise_params_init (&d, CU_DENOISE_NLM, self->volume->modality);
  gtk_spin_button_set_value (self->patch_spin, d.nlm.patch_radius);
  gtk_spin_button_set_value (self->search_spin, d.nlm.search_radius);
  gtk_spin_button_set_value (self->strength_spin, d.nlm.strength);
  gtk_switch_set_active (self->nlm_rician_switch, d.nlm.rician);
  gtk_spin_button_set_value (self->iterations_spin, d.diffusion.iterations);
  gtk_spin_button_set_value (self->conductance_spin, d.diffusion.conductance);
  gtk_switch_set_active (self->diffusion_rician_switch, d.diffusion.rician);
  gtk_spin_button_set_value (self->sigma_mm_spin, d.gaussian_sigma_mm);
}

static void
cu_denoise_dialog_dispose (GObject *object)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (object);

  if (self->preview_cancellable != NULL)
    g_cancellable_cancel (self->preview_cancellable);
  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
  g_clear_handle_id (&self->preview_source, g_source_remove);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_DENOISE_DIALOG);
  G_OBJECT_CLASS (cu_denoise_dialog_parent_class)->dispose (object);
}

static void
cu_denoise_dialog_finalize (GObject *object)
{
  CuDenoiseDialog *self = CU_DENOISE_DIALOG (object);

  clear_surfaces (self);
  g_clear_object (&self->preview_cancellable);
  g_clear_object (&self->run_cancellable);
  g_clear_pointer (&self->preview, cu_volume_unref);
  g_clear_pointer (&self->volume, cu_volume_unref);
  g_free (self->workspace);
  g_free (self->series_uid);
  g_free (self->result_uid);
  g_mutex_clear (&self->progress_lock);
  G_OBJECT_CLASS (cu_denoise_dialog_parent_class)->finalize (object);
}

static gboolean
close_request_cb (CuDenoiseDialog *self)
{
  /* Closing cancels a run: nothing half-written is catalogued (cu-derived-series.h). */
  cu_denoise_dialog_cancel (self);
  return FALSE;
}

static void
cu_denoise_dialog_class_init (CuDenoiseDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_denoise_dialog_dispose;
  object_class->finalize = cu_denoise_dialog_finalize;

  signals[SIGNAL_DENOISED] = g_signal_new ("denoised", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-denoise-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, title);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, run_button);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, method_row);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, params_stack);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, patch_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, search_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, strength_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, nlm_rician_switch);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, kind_row);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, iterations_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, conductance_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, diffusion_rician_switch);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, sigma_mm_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, slice_spin);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, view_row);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, noise_label);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, CuDenoiseDialog, canvas);
  gtk_widget_class_bind_template_callback_full (widget_class, "run_clicked",
                                                G_CALLBACK (cu_denoise_dialog_run));
  gtk_widget_class_bind_template_callback_full (widget_class, "cancel_clicked",
                                                G_CALLBACK (cu_denoise_dialog_cancel));
  gtk_widget_class_bind_template_callback (widget_class, params_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, slice_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, view_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, drag_begin_cb);
  gtk_widget_class_bind_template_callback (widget_class, drag_update_cb);
}

static void
cu_denoise_dialog_init (CuDenoiseDialog *self)
{
  g_mutex_init (&self->progress_lock);
  self->split = 0.5;
  self->preview_k = -1;
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
}

CuDenoiseDialog *
cu_denoise_dialog_new (GtkWindow  *parent,
                       const char *workspace,
                       const char *series_uid,
                       const char *series_title,
                       CuVolume   *volume,
                       int         t,
                       int         k,
                       double      window,
                       double      level)
{
  CuDenoiseDialog *self;

  g_return_val_if_fail (volume != NULL && volume->voxels != NULL, NULL);

  self = g_object_new (CU_TYPE_DENOISE_DIALOG, "transient-for", parent, NULL);
  self->workspace = g_strdup (workspace);
  self->series_uid = g_strdup (series_uid);
  self->volume = cu_volume_ref (volume);
  self->t = CLAMP (t, 0, volume->dims[3] - 1);
  self->window = window > 1 ? window : 1;
  self->level = level;
  apply_defaults (self);
  gtk_adjustment_set_upper (gtk_spin_button_get_adjustment (self->slice_spin),
                            volume->dims[2]);
  set_running (self, FALSE);
  adw_window_title_set_subtitle (self->title, series_title != NULL ? series_title : series_uid);
  gtk_spin_button_set_value (self->slice_spin, CLAMP (k, 0, volume->dims[2] - 1) + 1);
  g_signal_connect_swapped (self, "close-request", G_CALLBACK (close_request_cb), self);
  schedule_preview (self);
  return self;
}

void
cu_denoise_dialog_set_method (CuDenoiseDialog *self, CuDenoiseMethod method)
{
  g_return_if_fail (CU_IS_DENOISE_DIALOG (self));
  adw_combo_row_set_selected (self->method_row, method);
}

void
cu_denoise_dialog_set_view (CuDenoiseDialog *self, CuDenoiseView view)
{
  g_return_if_fail (CU_IS_DENOISE_DIALOG (self));
  adw_combo_row_set_selected (self->view_row, view);
}

void
cu_denoise_dialog_set_slice (CuDenoiseDialog *self, int k)
{
  g_return_if_fail (CU_IS_DENOISE_DIALOG (self));
  gtk_spin_button_set_value (self->slice_spin, k + 1);
}

gboolean
cu_denoise_dialog_is_previewing (CuDenoiseDialog *self)
{
  g_return_val_if_fail (CU_IS_DENOISE_DIALOG (self), FALSE);
  return self->previewing;
}

CuVolume *
cu_denoise_dialog_get_preview (CuDenoiseDialog *self, double *seconds)
{
  g_return_val_if_fail (CU_IS_DENOISE_DIALOG (self), NULL);
  if (seconds != NULL)
    *seconds = self->preview_seconds;
  return self->preview;
}

gboolean
cu_denoise_dialog_is_running (CuDenoiseDialog *self)
{
  g_return_val_if_fail (CU_IS_DENOISE_DIALOG (self), FALSE);
  return self->run_cancellable != NULL;
}

const char *
cu_denoise_dialog_get_result (CuDenoiseDialog *self)
{
  g_return_val_if_fail (CU_IS_DENOISE_DIALOG (self), NULL);
  return self->result_uid;
}

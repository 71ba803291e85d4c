/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize-dialog.c — harmonization from the window (see cu-harmonize-dialog.h).
 *
 * Preview: every parameter change schedules a preview after a short pause; a new one cancels
 * the one computing and a result that arrives for an older request is dropped (generation
 * counter). Unlike denoising, harmonization is not local: N4 fits one field to the whole
 * foreground, the normalizations take their statistics from the whole mask and resampling
 * changes the grid, so the preview runs cu_harmonize_volume() on the whole volume in a worker
 * thread. What it shows is therefore exactly what will be written, and "Harmonize" writes
 * that very volume when the parameters have not changed since (an N4 run is not repeated).
 *
 * Each panel is windowed on its own volume's 1st–99th percentiles: a z-scored or
 * Nyúl-standardized image has another scale than its original, and the comparison that
 * matters is of contrast and shading, not of raw numbers.
 *
 * Writing: cu_harmonize_write() in a worker thread with its own CuStore on the workspace (a
 * store is used by one thread at a time): DerivationDescription, lineage and audit as the CLI
 * writes them. Cancel (or closing the dialog) cancels; nothing half-written is catalogued.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-harmonize-dialog.h"

#define PREVIEW_DELAY_MS 200

struct _CuHarmonizeDialog
{
  AdwWindow parent_instance;

  /* template */
  AdwWindowTitle *title;
  GtkWidget *run_button;
  GtkWidget *cancel_button;
  AdwComboRow *method_row;
  GtkStack *params_stack;
  GtkSpinButton *levels_spin, *iterations_spin, *control_points_spin, *shrink_spin;
  GtkSwitch *save_field_switch;
  GtkSpinButton *inplane_spin, *slice_spacing_spin;
  GtkSwitch *axial_switch, *labels_switch;
  AdwComboRow *scale_row;
  GtkLabel *scale_label;
  AdwComboRow *contrast_row;
  GtkSpinButton *width_spin;
  GtkSpinButton *slice_spin;
  GtkLabel *result_label;
  GtkLabel *status_label;
  GtkProgressBar *progress_bar;
  GtkDrawingArea *canvas;

  /* owned */
  char *workspace;
  char *series_uid;
  CuVolume *volume;
  GPtrArray *scales;                /* CuNyulScale, those stored in the workspace */
  CuVolume *preview;                /* the whole harmonized volume */
  CuHarmonizeResult preview_result;
  CuHarmonizeParams preview_params;
  guint preview_generation;         /* generation the preview was computed for */
  guint preview_source;
  guint generation;
  GCancellable *preview_cancellable;
  gboolean previewing;
  double before_lo, before_hi, after_lo, after_hi, field_lo, field_hi;
  GCancellable *run_cancellable;
  guint progress_source;
  GMutex progress_lock;
  double progress_fraction;
  char *result_uid, *field_uid;
};

G_DEFINE_FINAL_TYPE (CuHarmonizeDialog, cu_harmonize_dialog, ADW_TYPE_WINDOW)

enum { SIGNAL_HARMONIZED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void schedule_preview (CuHarmonizeDialog *self);

/* ---- parameters ---------------------------------------------------------------------- */

void
cu_harmonize_dialog_get_params (CuHarmonizeDialog *self, CuHarmonizeParams *p)
{
  CuHarmonizeMethod method = (CuHarmonizeMethod) adw_combo_row_get_selected (self->method_row);
  guint scale = adw_combo_row_get_selected (self->scale_row);
  int levels = gtk_spin_button_get_value_as_int (self->levels_spin);

  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  cu_harmonize_params_init (p, method);
  p->n4.n_levels = CLAMP (levels, 1, CU_N4_MAX_LEVELS);
  for (int l = 0; l < CU_N4_MAX_LEVELS; l++)
    p->n4.iterations[l] = gtk_spin_button_get_value_as_int (self->iterations_spin);
  p->n4.control_points = gtk_spin_button_get_value_as_int (self->control_points_spin);
  p->n4.shrink = gtk_spin_button_get_value_as_int (self->shrink_spin);
  p->spacing[0] = p->spacing[1] = gtk_spin_button_get_value (self->inplane_spin);
  p->spacing[2] = gtk_spin_button_get_value (self->slice_spacing_spin);
  p->axial = gtk_switch_get_active (self->axial_switch);
  p->labels = gtk_switch_get_active (self->labels_switch);
  p->scale = scale < self->scales->len ? self->scales->pdata[scale] : NULL;
  p->contrast = adw_combo_row_get_selected (self->contrast_row) == 1 ? CU_WHITESTRIPE_T2
                                                                      : CU_WHITESTRIPE_T1;
  p->ws_width = gtk_spin_button_get_value (self->width_spin);
  cu_harmonize_params_resolve (p, self->volume);
}

static gboolean
params_equal (const CuHarmonizeParams *a, const CuHarmonizeParams *b)
{
  /* the struct is filled field by field from zero (cu_harmonize_params_init memsets it) */
  return memcmp (a, b, sizeof *a) == 0;
}

/* The Nyúl scales stored in the workspace (harmonize/nyul-NAME.json), by name. */
static void
load_scales (CuHarmonizeDialog *self)
{
  g_autofree char *dir = g_build_filename (self->workspace, "harmonize", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GtkStringList *model = gtk_string_list_new (NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_prefix (name, "nyul-") && g_str_has_suffix (name, ".json"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
      g_autoptr (GError) error = NULL;
      CuNyulScale *scale = cu_nyul_scale_load (path, &error);
      g_autofree char *label = NULL;

      if (scale == NULL)
        {
          g_warning ("%s: %s", path, error->message);
          continue;
        }
      g_ptr_array_add (self->scales, scale);
      /* Translators: a learnt standard scale: its name and how many series it was learnt from */
      label = g_strdup_printf (ngettext ("%s (%u series)", "%s (%u series)", scale->n_training),
                               scale->name != NULL ? scale->name : (char *) names->pdata[i],
                               scale->n_training);
      gtk_string_list_append (model, label);
    }
  adw_combo_row_set_model (self->scale_row, G_LIST_MODEL (model));
  g_object_unref (model);
  gtk_widget_set_visible (GTK_WIDGET (self->scale_label), self->scales->len == 0);
}

/* ---- rendering ----------------------------------------------------------------------- */

static void
percentile_window (const CuVolume *v, double *lo, double *hi)
{
  *lo = cu_volume_percentile (v, 0, 1.0);
  *hi = cu_volume_percentile (v, 0, 99.0);
  if (!(*hi > *lo))
    *hi = *lo + 1;
}

static cairo_surface_t *
slice_surface (const CuVolume *v, int k, double lo, double hi)
{
  const int nx = v->dims[0], ny = v->dims[1];
  const float *values = v->voxels + (gsize) k * nx * ny;
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, nx, ny);
  guint8 *data = cairo_image_surface_get_data (s);
  int stride = cairo_image_surface_get_stride (s);

  cairo_surface_flush (s);
  for (int j = 0; j < ny; j++)
    {
      guint32 *row = (guint32 *) (data + (gsize) j * stride);
      for (int i = 0; i < nx; i++)
        {
          double g = CLAMP ((values[(gsize) j * nx + i] - lo) / (hi - lo), 0.0, 1.0);
          guint8 b = (guint8) lround (g * 255.0);
          row[i] = 0xff000000u | ((guint32) b << 16) | ((guint32) b << 8) | b;
        }
    }
  cairo_surface_mark_dirty (s);
  return s;
}

/* The slice of v through the centre of slice k of the original (same slice for every method
 * but resampling, whose grid differs). */
static int
matching_slice (const CuVolume *original, int k, const CuVolume *v)
{
  double ijk[3] = { (original->dims[0] - 1) / 2.0, (original->dims[1] - 1) / 2.0, k }, lps[3];

  if (memcmp (original->dims, v->dims, sizeof v->dims) == 0)
    return k;
  cu_volume_index_to_lps (original, ijk, lps);
  cu_volume_lps_to_index (v, lps, ijk);
  return CLAMP ((int) lround (ijk[2]), 0, v->dims[2] - 1);
}

static void
draw_panel (cairo_t *cr, const CuVolume *v, int k, double lo, double hi, double x, double y,
            double w, double h, const char *label)
{
  const int nx = v->dims[0], ny = v->dims[1];
  double pw = nx * v->spacing[0], ph = ny * v->spacing[1];
  double scale = MIN (w / pw, h / ph);
  double ox = x + (w - pw * scale) / 2, oy = y + (h - ph * scale) / 2;
  cairo_surface_t *surface = slice_surface (v, k, lo, hi);
  cairo_text_extents_t ext;

  cairo_save (cr);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale * v->spacing[0], scale * v->spacing[1]);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (surface);

  cairo_save (cr);
  cairo_select_font_face (cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13);
  cairo_text_extents (cr, label, &ext);
  /* a dark box keeps the label readable on a bright image */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_rectangle (cr, ox + 3, oy + 18 + ext.y_bearing - 3, ext.width + 6, ext.height + 6);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1.0, 0.85, 0.2);
  cairo_move_to (cr, ox + 6, oy + 18);
  cairo_show_text (cr, label);
  cairo_restore (cr);
}

static void
draw_canvas (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (user_data);
  const int k = gtk_spin_button_get_value_as_int (self->slice_spin) - 1;
  gboolean current = self->preview != NULL && self->preview_generation == self->generation;
  CuVolume *field = current ? self->preview_result.field : NULL;
  int n = field != NULL ? 3 : 2;
  const double gap = 6;
  double w = (width - gap * (n - 1)) / n;

  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_paint (cr);
  draw_panel (cr, self->volume, k, self->before_lo, self->before_hi, 0, 0, w, height,
              _("Before"));
  if (self->preview != NULL)
    draw_panel (cr, self->preview, matching_slice (self->volume, k, self->preview),
                self->after_lo, self->after_hi, w + gap, 0, w, height, _("After"));
  if (field != NULL)
    draw_panel (cr, field, k, self->field_lo, self->field_hi, 2 * (w + gap), 0, w, height,
                _("Estimated bias field"));
  if (self->preview != NULL && !current)
    {
      /* the parameters changed: the After panel is of the previous ones */
      cairo_set_source_rgba (cr, 0, 0, 0, 0.5);
      cairo_rectangle (cr, w + gap, 0, width - w - gap, height);
      cairo_fill (cr);
    }
}

/* ---- preview ------------------------------------------------------------------------- */

static void
set_progress (CuHarmonizeDialog *self, double fraction)
{
  g_mutex_lock (&self->progress_lock);
  self->progress_fraction = fraction;
  g_mutex_unlock (&self->progress_lock);
}

static void
progress_cb (double fraction, const char *message, gpointer user_data)
{
  set_progress (user_data, CLAMP (fraction, 0.0, 1.0));
}

static gboolean
poll_progress (gpointer user_data)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (user_data);
  double f;

  g_mutex_lock (&self->progress_lock);
  f = self->progress_fraction;
  g_mutex_unlock (&self->progress_lock);
  gtk_progress_bar_set_fraction (self->progress_bar, f);
  return G_SOURCE_CONTINUE;
}

static void
update_busy (CuHarmonizeDialog *self)
{
  gboolean running = self->run_cancellable != NULL;
  gboolean busy = running || (self->previewing && self->preview_cancellable != NULL);

  gtk_widget_set_sensitive (self->run_button, !running);
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

typedef struct
{
  CuHarmonizeDialog *self;   /* for the progress fields only; kept alive by the task */
  CuVolume *volume;
  CuHarmonizeParams params;
  CuHarmonizeResult result;
  guint generation;
} PreviewData;

static void
preview_data_free (PreviewData *d)
{
  cu_volume_unref (d->volume);
  cu_harmonize_result_clear (&d->result);
  g_free (d);
}

static void
preview_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  PreviewData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (progress_cb, d->self);
  GError *error = NULL;
  CuVolume *out = cu_harmonize_volume (d->volume, &d->params, &d->result, progress, cancellable,
                                       &error);

  if (out == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, out, (GDestroyNotify) cu_volume_unref);
}

static char *
describe_result (const CuHarmonizeParams *p, const CuHarmonizeResult *r, const CuVolume *out)
{
  switch (p->method)
    {
    case CU_HARMONIZE_ZSCORE:
      /* Translators: mean and standard deviation of the foreground mask */
      return g_strdup_printf (_("Foreground: %zu voxels, mean %.4g, SD %.4g"), r->n_mask,
                              r->mean, r->sd);
    case CU_HARMONIZE_WHITESTRIPE:
      return g_strdup_printf (_("White-matter stripe %.4g…%.4g: mean %.4g, SD %.4g"),
                              r->whitestripe.lower, r->whitestripe.upper, r->mean, r->sd);
    case CU_HARMONIZE_NYUL:
      return g_strdup_printf (_("Landmarks of this series: %.4g (1st percentile) … %.4g "
                                "(99th) onto the standard scale %.4g … %.4g"),
                              r->landmarks[0], r->landmarks[p->scale->n_landmarks - 1],
                              p->scale->standard[0],
                              p->scale->standard[p->scale->n_landmarks - 1]);
    case CU_HARMONIZE_RESAMPLE:
      return g_strdup_printf (_("New grid: %d × %d × %d voxels of %.3g × %.3g × %.3g mm"),
                              out->dims[0], out->dims[1], out->dims[2], out->spacing[0],
                              out->spacing[1], out->spacing[2]);
    case CU_HARMONIZE_N4:
    default:
      {
        g_autoptr (GString) its = g_string_new (NULL);
        for (int l = 0; l < p->n4.n_levels; l++)
          g_string_append_printf (its, l > 0 ? ", %d" : "%d", r->n4.iterations[l]);
        /* Translators: %s is a list of iteration counts, one per fitting level */
        return g_strdup_printf (_("Bias field fitted on %zu voxels; iterations per level: %s"),
                                r->n4.n_mask, its->str);
      }
    }
}

static void
preview_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (source);
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
  update_busy (self);
  if (out == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status_label, _("Preview cancelled."));
      else
        gtk_label_set_text (self->status_label, error->message);
      gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
      return;
    }
  g_clear_pointer (&self->preview, cu_volume_unref);
  cu_harmonize_result_clear (&self->preview_result);
  self->preview = out;
  self->preview_result = d->result;
  memset (&d->result, 0, sizeof d->result);   /* the field now belongs to the dialog */
  self->preview_params = d->params;
  self->preview_generation = d->generation;
  percentile_window (out, &self->after_lo, &self->after_hi);
  if (self->preview_result.field != NULL)
    percentile_window (self->preview_result.field, &self->field_lo, &self->field_hi);
  {
    g_autofree char *what = describe_result (&d->params, &self->preview_result, out);
    /* Translators: %.1f seconds */
    g_autofree char *text = g_strdup_printf (_("Preview of the whole volume in %.1f s"),
                                             self->preview_result.seconds);
    gtk_label_set_text (self->result_label, what);
    gtk_label_set_text (self->status_label, text);
  }
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static gboolean
start_preview (gpointer user_data)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (user_data);
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  PreviewData *d;
  CuHarmonizeParams params;

  self->preview_source = 0;
  cu_harmonize_dialog_get_params (self, &params);
  /* refused at once, with the reason, rather than after a thread */
  if (!cu_harmonize_check_input (self->volume, params.method, &error) ||
      (params.method == CU_HARMONIZE_NYUL && params.scale == NULL))
    {
      self->previewing = FALSE;
      gtk_label_set_text (self->status_label,
                          error != NULL ? error->message
                                        : _("Nyúl standardization needs a learnt standard scale"));
      gtk_label_set_text (self->result_label, "");
      gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
      update_busy (self);
      return G_SOURCE_REMOVE;
    }
  d = g_new0 (PreviewData, 1);
  d->self = self;
  d->volume = cu_volume_ref (self->volume);
  d->params = params;
  d->generation = self->generation;
  set_progress (self, 0);
  self->preview_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->preview_cancellable, preview_done, NULL);
  g_task_set_source_tag (task, start_preview);
  g_task_set_task_data (task, d, (GDestroyNotify) preview_data_free);
  g_task_run_in_thread (task, preview_thread);
  gtk_label_set_text (self->status_label, _("Computing the preview…"));
  update_busy (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_preview (CuHarmonizeDialog *self)
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
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

static void
params_changed_cb (CuHarmonizeDialog *self)
{
  CuHarmonizeMethod method = (CuHarmonizeMethod) adw_combo_row_get_selected (self->method_row);

  gtk_stack_set_visible_child_name (self->params_stack, cu_harmonize_method_to_string (method));
  schedule_preview (self);
}

static void
slice_changed_cb (CuHarmonizeDialog *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self->canvas));
}

/* ---- writing the derived series ------------------------------------------------------ */

typedef struct
{
  CuHarmonizeDialog *self;   /* for the progress fields only; kept alive by the task */
  CuVolume *volume;
  CuVolume *out;             /* the current preview, or NULL: computed here */
  CuHarmonizeResult result;
  CuHarmonizeParams params;
  char *workspace;
  char *series_uid;
  gboolean save_field;
  char *field_uid;
} RunData;

static void
run_data_free (RunData *d)
{
  cu_volume_unref (d->volume);
  g_clear_pointer (&d->out, cu_volume_unref);
  cu_harmonize_result_clear (&d->result);
  g_free (d->workspace);
  g_free (d->series_uid);
  g_free (d->field_uid);
  g_free (d);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  RunData *d = task_data;
  g_autoptr (CuProgress) progress = cu_progress_new (progress_cb, d->self);
  g_autoptr (CuStore) store = NULL;
  GError *error = NULL;
  char *uid;

  if (d->out == NULL)
    {
      d->out = cu_harmonize_volume (d->volume, &d->params, &d->result, progress, cancellable,
                                    &error);
      if (d->out == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  store = cu_store_open (d->workspace, &error);
  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  uid = cu_harmonize_write (store, d->series_uid, &d->params, &d->result, d->out,
                            d->save_field ? &d->field_uid : NULL, progress, cancellable, &error);
  if (uid == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, uid, g_free);
}

static void
run_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (source);
  RunData *d = g_task_get_task_data (G_TASK (result));
  g_autoptr (GError) error = NULL;
  g_autofree char *uid = g_task_propagate_pointer (G_TASK (result), &error);

  g_clear_object (&self->run_cancellable);
  update_busy (self);
  if (uid == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->status_label, _("Cancelled: no series was written."));
      else
        {
          g_autofree char *text = g_strdup_printf (_("Harmonization failed: %s"),
                                                   error->message);
          gtk_label_set_text (self->status_label, text);
        }
      return;
    }
  g_free (self->result_uid);
  self->result_uid = g_strdup (uid);
  g_free (self->field_uid);
  self->field_uid = g_strdup (d->field_uid);
  {
    g_autofree char *text =
      self->field_uid != NULL
        ? g_strdup_printf (_("Written as a new derived series (%s), the bias field as %s."), uid,
                           self->field_uid)
        : g_strdup_printf (_("Written as a new derived series (%s)."), uid);
    gtk_label_set_text (self->status_label, text);
  }
  g_signal_emit (self, signals[SIGNAL_HARMONIZED], 0, uid);
}

void
cu_harmonize_dialog_run (CuHarmonizeDialog *self)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  RunData *d;

  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  if (self->run_cancellable != NULL)
    return;
  d = g_new0 (RunData, 1);
  d->self = self;
  d->volume = cu_volume_ref (self->volume);
  d->workspace = g_strdup (self->workspace);
  d->series_uid = g_strdup (self->series_uid);
  d->save_field = gtk_switch_get_active (self->save_field_switch);
  cu_harmonize_dialog_get_params (self, &d->params);
  if (!cu_harmonize_check_input (self->volume, d->params.method, &error) ||
      (d->params.method == CU_HARMONIZE_NYUL && d->params.scale == NULL))
    {
      gtk_label_set_text (self->status_label,
                          error != NULL ? error->message
                                        : _("Nyúl standardization needs a learnt standard scale"));
      run_data_free (d);
      return;
    }
  if (self->preview != NULL && self->preview_generation == self->generation &&
      params_equal (&d->params, &self->preview_params))
    {
      /* what the preview shows is what is written */
      d->out = cu_volume_ref (self->preview);
      d->result = self->preview_result;
      if (d->result.field != NULL)
        d->result.field = cu_volume_ref (d->result.field);
    }
  set_progress (self, 0);
  self->run_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->run_cancellable, run_done, NULL);
  g_task_set_source_tag (task, cu_harmonize_dialog_run);
  g_task_set_task_data (task, d, (GDestroyNotify) run_data_free);
  g_task_run_in_thread (task, run_thread);
  update_busy (self);
  gtk_label_set_text (self->status_label, d->out != NULL ? _("Writing the derived series…")
                                                         : _("Harmonizing the volume…"));
}

void
cu_harmonize_dialog_cancel (CuHarmonizeDialog *self)
{
  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
  else if (self->preview_cancellable != NULL)
    g_cancellable_cancel (self->preview_cancellable);
}

/* ---- construction -------------------------------------------------------------------- */

static void
apply_defaults (CuHarmonizeDialog *self)
{
  CuHarmonizeParams d;

  cu_harmonize_params_init (&d, CU_HARMONIZE_N4);
  gtk_spin_button_set_value (self->levels_spin, d.n4.n_levels);
  gtk_spin_button_set_value (self->iterations_spin, d.n4.iterations[0]);
  gtk_spin_button_set_value (self->control_points_spin, d.n4.control_points);
  gtk_spin_button_set_value (self->shrink_spin, d.n4.shrink);
  gtk_spin_button_set_value (self->width_spin, d.ws_width);
  /* a common grid starts from the series' own in-plane and slice spacing */
  gtk_spin_button_set_value (self->inplane_spin, MIN (self->volume->spacing[0],
                                                      self->volume->spacing[1]));
  gtk_spin_button_set_value (self->slice_spacing_spin, self->volume->spacing[2]);
}

static void
cu_harmonize_dialog_dispose (GObject *object)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (object);

  if (self->preview_cancellable != NULL)
    g_cancellable_cancel (self->preview_cancellable);
  if (self->run_cancellable != NULL)
    g_cancellable_cancel (self->run_cancellable);
  g_clear_handle_id (&self->preview_source, g_source_remove);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), CU_TYPE_HARMONIZE_DIALOG);
  G_OBJECT_CLASS (cu_harmonize_dialog_parent_class)->dispose (object);
}

static void
cu_harmonize_dialog_finalize (GObject *object)
{
  CuHarmonizeDialog *self = CU_HARMONIZE_DIALOG (object);

  g_clear_object (&self->preview_cancellable);
  g_clear_object (&self->run_cancellable);
  g_clear_pointer (&self->preview, cu_volume_unref);
  cu_harmonize_result_clear (&self->preview_result);
  g_clear_pointer (&self->volume, cu_volume_unref);
  g_clear_pointer (&self->scales, g_ptr_array_unref);
  g_free (self->workspace);
  g_free (self->series_uid);
  g_free (self->result_uid);
  g_free (self->field_uid);
  g_mutex_clear (&self->progress_lock);
  G_OBJECT_CLASS (cu_harmonize_dialog_parent_class)->finalize (object);
}

static gboolean
close_request_cb (CuHarmonizeDialog *self)
{
  /* Closing cancels a run: nothing half-written is catalogued (cu-derived-series.h). */
  cu_harmonize_dialog_cancel (self);
  return FALSE;
}

static void
cu_harmonize_dialog_class_init (CuHarmonizeDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = cu_harmonize_dialog_dispose;
  object_class->finalize = cu_harmonize_dialog_finalize;

  signals[SIGNAL_HARMONIZED] = g_signal_new ("harmonized", G_TYPE_FROM_CLASS (klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                             G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/curata/Curata/ui/cu-harmonize-dialog.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, CuHarmonizeDialog, name)
  BIND (title);
  BIND (run_button);
  BIND (cancel_button);
  BIND (method_row);
  BIND (params_stack);
  BIND (levels_spin);
  BIND (iterations_spin);
  BIND (control_points_spin);
  BIND (shrink_spin);
  BIND (save_field_switch);
  BIND (inplane_spin);
  BIND (slice_spacing_spin);
  BIND (axial_switch);
  BIND (labels_switch);
  BIND (scale_row);
  BIND (scale_label);
  BIND (contrast_row);
  BIND (width_spin);
  BIND (slice_spin);
  BIND (result_label);
  BIND (status_label);
  BIND (progress_bar);
  BIND (canvas);
#undef BIND
  gtk_widget_class_bind_template_callback_full (widget_class, "run_clicked",
                                                G_CALLBACK (cu_harmonize_dialog_run));
  gtk_widget_class_bind_template_callback_full (widget_class, "cancel_clicked",
                                                G_CALLBACK (cu_harmonize_dialog_cancel));
  gtk_widget_class_bind_template_callback (widget_class, params_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, slice_changed_cb);
}

static void
cu_harmonize_dialog_init (CuHarmonizeDialog *self)
{
  g_mutex_init (&self->progress_lock);
  self->scales = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_nyul_scale_free);
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (self->canvas, draw_canvas, self, NULL);
}

CuHarmonizeDialog *
cu_harmonize_dialog_new (GtkWindow  *parent,
                         const char *workspace,
                         const char *series_uid,
                         const char *series_title,
                         CuVolume   *volume,
                         int         k)
{
  CuHarmonizeDialog *self;

  g_return_val_if_fail (volume != NULL && volume->voxels != NULL, NULL);

  self = g_object_new (CU_TYPE_HARMONIZE_DIALOG, "transient-for", parent, NULL);
  self->workspace = g_strdup (workspace);
  self->series_uid = g_strdup (series_uid);
  self->volume = cu_volume_ref (volume);
  percentile_window (volume, &self->before_lo, &self->before_hi);
  load_scales (self);
  apply_defaults (self);
  gtk_adjustment_set_upper (gtk_spin_button_get_adjustment (self->slice_spin), volume->dims[2]);
  adw_window_title_set_subtitle (self->title, series_title != NULL ? series_title : series_uid);
  gtk_spin_button_set_value (self->slice_spin, CLAMP (k, 0, volume->dims[2] - 1) + 1);
  g_signal_connect_swapped (self, "close-request", G_CALLBACK (close_request_cb), self);
  /* z-score first: quick, and what most cohorts need */
  adw_combo_row_set_selected (self->method_row, CU_HARMONIZE_ZSCORE);
  params_changed_cb (self);
  update_busy (self);
  return self;
}

void
cu_harmonize_dialog_set_method (CuHarmonizeDialog *self, CuHarmonizeMethod method)
{
  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  adw_combo_row_set_selected (self->method_row, method);
}

void
cu_harmonize_dialog_set_slice (CuHarmonizeDialog *self, int k)
{
  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  gtk_spin_button_set_value (self->slice_spin, k + 1);
}

void
cu_harmonize_dialog_set_n4_schedule (CuHarmonizeDialog *self, int levels, int iterations)
{
  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  gtk_spin_button_set_value (self->levels_spin, levels);
  gtk_spin_button_set_value (self->iterations_spin, iterations);
}

void
cu_harmonize_dialog_set_save_field (CuHarmonizeDialog *self, gboolean save)
{
  g_return_if_fail (CU_IS_HARMONIZE_DIALOG (self));
  gtk_switch_set_active (self->save_field_switch, save);
}

gboolean
cu_harmonize_dialog_is_previewing (CuHarmonizeDialog *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_DIALOG (self), FALSE);
  return self->previewing;
}

CuVolume *
cu_harmonize_dialog_get_preview (CuHarmonizeDialog *self, CuVolume **field)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_DIALOG (self), NULL);
  if (field != NULL)
    *field = self->preview != NULL ? self->preview_result.field : NULL;
  return self->preview;
}

const char *
cu_harmonize_dialog_get_status (CuHarmonizeDialog *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_DIALOG (self), NULL);
  return gtk_label_get_text (self->status_label);
}

gboolean
cu_harmonize_dialog_is_running (CuHarmonizeDialog *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_DIALOG (self), FALSE);
  return self->run_cancellable != NULL;
}

const char *
cu_harmonize_dialog_get_result (CuHarmonizeDialog *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_DIALOG (self), NULL);
  return self->result_uid;
}

const char *
cu_harmonize_dialog_get_field_result (CuHarmonizeDialog *self)
{
  g_return_val_if_fail (CU_IS_HARMONIZE_DIALOG (self), NULL);
  return self->field_uid;
}

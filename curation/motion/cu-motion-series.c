/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-motion-series.c — load series from the workspace, register or motion-correct them
 * (cu-rigid-registration.c, cu-motion-correct.c) and write the result as a derived series.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>

#include "cu-derived-series.h"
#include "cu-dicom-header.h"
#include "cu-motion-series.h"
#include "cu-qc-sequence.h"
#include "cu-series-class.h"
#include "cu-store-qc.h"

/* Progress of one stage mapped into [base, base + span] of the caller's. */
typedef struct
{
  CuProgress *outer;
  double base, span;
  const char *message;
} Stage;

static void
stage_report (double fraction, const char *message, gpointer user_data)
{
  Stage *s = user_data;

  if (fraction >= 0 && fraction < 1.0)
    cu_progress_report (s->outer, s->base + s->span * fraction,
                        message != NULL ? message : s->message);
}

static CuProgress *
stage_new (Stage *s, CuProgress *outer, double base, double span, const char *message)
{
  s->outer = outer;
  s->base = base;
  s->span = span;
  s->message = message;
  cu_progress_report (outer, base, message);
  return outer != NULL ? cu_progress_new (stage_report, s) : NULL;
}

static char *
frame_of_reference (CuStore *store, const char *series_uid, GError **error)
{
  g_auto (GStrv) files = cu_store_get_series_files (store, series_uid, error);
  g_autoptr (CuDicomHeader) header = NULL;

  if (files == NULL)
    return NULL;
  if (files[0] == NULL)
    return g_strdup ("");
  header = cu_dicom_header_read (files[0], error);
  if (header == NULL)
    return NULL;
  return g_strdup (header->frame_of_reference_uid != NULL ? header->frame_of_reference_uid : "");
}

static char *
node_to_string (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static CuSeriesClass *
classify_series (CuStore *store, const char *uid, GCancellable *cancellable, GError **error)
{
  g_auto (GStrv) files = cu_store_get_series_files (store, uid, error);

  if (files == NULL)
    return NULL;
  return cu_series_class_from_files ((const char *const *) files, cancellable, error);
}

CuRigidMetricType
cu_motion_choose_metric (CuStore *store, const char *fixed_uid, const char *moving_uid,
                         char **reason, GCancellable *cancellable, GError **error)
{
  g_autoptr (CuSeriesClass) fixed = NULL;
  g_autoptr (CuSeriesClass) moving = NULL;
  g_autoptr (GError) local = NULL;
  const char *f, *m;

  fixed = classify_series (store, fixed_uid, cancellable, &local);
  if (fixed != NULL)
    moving = classify_series (store, moving_uid, cancellable, &local);
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return CU_RIGID_METRIC_AUTO;
    }
  f = fixed != NULL ? fixed->sequence : NULL;
  m = moving != NULL ? moving->sequence : NULL;
  /* CU_SEQ_OTHER is an MR series whose contrast was not recognised: it may differ from the
   * other one's, and mutual information is right in both cases, only less precise. */
  if (f != NULL && m != NULL && g_strcmp0 (f, m) == 0 && g_strcmp0 (f, CU_SEQ_OTHER) != 0)
    {
      if (reason != NULL)
        *reason = g_strdup_printf (_("normalized cross-correlation: both series are %s, the "
                                     "same contrast"), f);
      return CU_RIGID_METRIC_NCC;
    }
  if (reason != NULL)
    {
      if (f == NULL || m == NULL || g_strcmp0 (f, m) == 0)
        *reason = g_strdup (_("mutual information: the contrast of the series could not be "
                              "recognised, so it may differ"));
      else
        *reason = g_strdup_printf (_("mutual information: %s onto %s, different contrasts"), m,
                                   f);
    }
  return CU_RIGID_METRIC_MATTES_MI;
}

char *
cu_motion_register_series (CuStore *store, const char *fixed_arg, const char *moving_arg,
                           const CuRigidOptions *options, CuRigidTransform *transform_out,
                           char **result_json_out, CuProgress *progress,
                           GCancellable *cancellable, GError **error)
{
  g_autofree char *fixed_uid = NULL, *moving_uid = NULL, *for_uid = NULL;
  g_autoptr (CuVolume) fixed = NULL;
  g_autoptr (CuVolume) moving = NULL;
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (CuProgress) sub = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *result_json = NULL, *params_json = NULL, *derivation = NULL;
  g_autofree char *metric_reason = NULL;
  CuRigidOptions defaults;
  CuRigidResult result;
  Stage stage;
  double m[12];
  char *uid;

  if (options == NULL)
    cu_rigid_options_init (&defaults, CU_RIGID_METRIC_AUTO);
  else
    defaults = *options;
  options = &defaults;
  fixed_uid = cu_store_resolve_series (store, fixed_arg, error);
  if (fixed_uid == NULL)
    return NULL;
  moving_uid = cu_store_resolve_series (store, moving_arg, error);
  if (moving_uid == NULL)
    return NULL;
  if (defaults.metric == CU_RIGID_METRIC_AUTO)
    {
      cu_progress_report (progress, 0.0, _("Choosing the similarity metric"));
      defaults.metric = cu_motion_choose_metric (store, fixed_uid, moving_uid, &metric_reason,
                                                 cancellable, error);
      if (defaults.metric == CU_RIGID_METRIC_AUTO)
        return NULL;
    }
  for_uid = frame_of_reference (store, fixed_uid, error);
  if (for_uid == NULL)
    return NULL;

  sub = stage_new (&stage, progress, 0.0, 0.1, _("Loading the fixed series"));
  fixed = cu_store_load_series_volume (store, fixed_uid, sub, cancellable, error);
  g_clear_pointer (&sub, cu_progress_free);
  if (fixed == NULL)
    return NULL;
  sub = stage_new (&stage, progress, 0.1, 0.1, _("Loading the moving series"));
  moving = cu_store_load_series_volume (store, moving_uid, sub, cancellable, error);
  g_clear_pointer (&sub, cu_progress_free);
  if (moving == NULL)
    return NULL;

  sub = stage_new (&stage, progress, 0.2, 0.6, _("Registering"));
  if (!cu_rigid_register (fixed, 0, moving, 0, options, &result, sub, cancellable, error))
    return NULL;
  g_clear_pointer (&sub, cu_progress_free);

  cu_progress_report (progress, 0.8, _("Resampling"));
  cu_rigid_transform_get_matrix (&result.transform, m);
  out = cu_resample_volume (moving, fixed, m, CU_INTERPOLATION_BSPLINE, 0.0f, cancellable, error);
  if (out == NULL)
    return NULL;
  out->modality = g_strdup (moving->modality);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "fixed_series_uid");
  json_builder_add_string_value (b, fixed_uid);
  json_builder_set_member_name (b, "moving_series_uid");
  json_builder_add_string_value (b, moving_uid);
  json_builder_set_member_name (b, "metric");
  json_builder_add_string_value (b, cu_rigid_metric_type_to_string (options->metric));
  json_builder_set_member_name (b, "metric_reason");
  if (metric_reason != NULL)
    json_builder_add_string_value (b, metric_reason);
  else
    json_builder_add_string_value (b, _("chosen by the user"));
  json_builder_set_member_name (b, "transform");
  json_builder_add_value (b, cu_rigid_transform_to_json (&result.transform));
  json_builder_set_member_name (b, "final_cost");
  json_builder_add_double_value (b, isfinite (result.cost) ? result.cost : 0.0);
  json_builder_set_member_name (b, "iterations");
  json_builder_add_int_value (b, result.iterations);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  result_json = node_to_string (root);
  {
    g_autoptr(JsonBuilder) pb = json_builder_new ();
    g_autoptr(JsonNode) params = NULL;

    json_builder_begin_object (pb);
    json_builder_set_member_name (pb, "metric");
    json_builder_add_string_value (pb, cu_rigid_metric_type_to_string (options->metric));
    json_builder_set_member_name (pb, "levels");
    json_builder_add_int_value (pb, options->n_levels);
    json_builder_set_member_name (pb, "samples");
    json_builder_add_int_value (pb, options->n_samples);
    json_builder_set_member_name (pb, "bins");
    json_builder_add_int_value (pb, options->bins);
    json_builder_set_member_name (pb, "interpolation");
    json_builder_add_string_value (pb, "bspline");
    json_builder_end_object (pb);
    params = json_builder_get_root (pb);
    params_json = node_to_string (params);
  }
  derivation = g_strdup_printf (
      "Rigid registration (%s, %d levels) onto series %s; resampled with cubic B-spline. "
      "Euler ZYX angles %.4f %.4f %.4f deg, translation %.4f %.4f %.4f mm",
      cu_rigid_metric_type_to_string (options->metric), options->n_levels, fixed_uid,
      result.transform.angles[0] * 180 / G_PI, result.transform.angles[1] * 180 / G_PI,
      result.transform.angles[2] * 180 / G_PI, result.transform.translation[0],
      result.transform.translation[1], result.transform.translation[2]);

  {
    CuDerivedSeriesSpec spec = {
      .source_series_uid = moving_uid,
      .method = "register",
      .series_description = NULL,
      .derivation_description = derivation,
      .frame_of_reference_uid = for_uid[0] != '\0' ? for_uid : NULL,
      .reference_series_uid = fixed_uid,
      .parameters_json = params_json,
      .result_json = result_json,
    };
    sub = stage_new (&stage, progress, 0.85, 0.15, _("Writing the registered series"));
    uid = cu_store_write_derived_series (store, &spec, out, sub, cancellable, error);
  }
  if (uid == NULL)
    return NULL;
  cu_progress_report (progress, 1.0, NULL);
  if (transform_out != NULL)
    *transform_out = result.transform;
  if (result_json_out != NULL)
    *result_json_out = g_steal_pointer (&result_json);
  return uid;
}

char *
cu_motion_correct_series (CuStore *store, const char *series_arg, const CuMotionOptions *options,
                          GArray **rows_out, char **result_json_out, CuProgress *progress,
                          GCancellable *cancellable, GError **error)
{
  g_autofree char *series_uid = NULL, *result_json = NULL, *params_json = NULL,
                  *derivation = NULL;
  g_autoptr (CuVolume) series = NULL;
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GArray) rows = NULL;
  g_autoptr (CuProgress) sub = NULL;
  g_autoptr (JsonNode) table = NULL;
  CuMotionOptions defaults;
  Stage stage;
  char *uid;

  if (options == NULL)
    cu_motion_options_init (&defaults);
  else
    defaults = *options;
  /* The volumes of one series share their contrast. */
  if (defaults.rigid.metric == CU_RIGID_METRIC_AUTO)
    defaults.rigid.metric = CU_RIGID_METRIC_NCC;
  options = &defaults;
  series_uid = cu_store_resolve_series (store, series_arg, error);
  if (series_uid == NULL)
    return NULL;
  sub = stage_new (&stage, progress, 0.0, 0.15, _("Loading the series"));
  series = cu_store_load_series_volume (store, series_uid, sub, cancellable, error);
  g_clear_pointer (&sub, cu_progress_free);
  if (series == NULL)
    return NULL;

  sub = stage_new (&stage, progress, 0.15, 0.7, _("Registering volumes"));
  out = cu_motion_correct (series, options, &rows, sub, cancellable, error);
  g_clear_pointer (&sub, cu_progress_free);
  if (out == NULL)
    return NULL;

  table = cu_motion_table_to_json (rows, options);
  result_json = node_to_string (table);
  /* Built as JSON: a printf "%g" follows LC_NUMERIC and writes 0,5 in a German locale. */
  {
    g_autoptr(JsonBuilder) pb = json_builder_new ();
    g_autoptr(JsonNode) params = NULL;

    json_builder_begin_object (pb);
    json_builder_set_member_name (pb, "metric");
    json_builder_add_string_value (pb, cu_rigid_metric_type_to_string (options->rigid.metric));
    json_builder_set_member_name (pb, "reference");
    json_builder_add_int_value (pb, options->reference + 1);
    json_builder_set_member_name (pb, "threshold_mm");
    json_builder_add_double_value (pb, options->threshold_mm);
    json_builder_set_member_name (pb, "levels");
    json_builder_add_int_value (pb, options->rigid.n_levels);
    json_builder_set_member_name (pb, "samples");
    json_builder_add_int_value (pb, options->rigid.n_samples);
    json_builder_set_member_name (pb, "interpolation");
    json_builder_add_string_value (pb, "bspline");
    json_builder_end_object (pb);
    params = json_builder_get_root (pb);
    params_json = node_to_string (params);
  }
  derivation = g_strdup_printf ("Motion correction: rigid registration (%s) of %d volumes to "
                                "volume %d; resampled with cubic B-spline; %u over %g mm FD",
                                cu_rigid_metric_type_to_string (options->rigid.metric),
                                series->dims[3], options->reference + 1,
                                cu_motion_table_n_flagged (rows), options->threshold_mm);
  {
    CuDerivedSeriesSpec spec = {
      .source_series_uid = series_uid,
      .method = "motion-correct",
      .derivation_description = derivation,
      .parameters_json = params_json,
      .result_json = result_json,
    };
    sub = stage_new (&stage, progress, 0.85, 0.15, _("Writing the corrected series"));
    uid = cu_store_write_derived_series (store, &spec, out, sub, cancellable, error);
  }
  if (uid == NULL)
    return NULL;
  /* The motion found is a quality finding of the source series. The corrected series is
   * written already, so a failure here is reported but does not undo it. */
  {
    g_autoptr (GError) qc_error = NULL;
    if (!cu_store_qc_update_lineage (store, series_uid, &qc_error))
      g_warning ("Could not record the motion as a quality finding of %s: %s", series_uid,
                 qc_error->message);
  }
  cu_progress_report (progress, 1.0, NULL);
  if (rows_out != NULL)
    *rows_out = g_steal_pointer (&rows);
  if (result_json_out != NULL)
    *result_json_out = g_steal_pointer (&result_json);
  return uid;
}

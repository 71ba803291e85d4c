/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize.c — dispatch to the harmonization methods, input checks, parameter records.
 *
 * The methods are in cu-n4.c (Tustison 2010), cu-common-grid.c (B-spline and label-aware
 * resampling), cu-intensity-norm.c (z-score, WhiteStripe: Shinohara 2014) and cu-nyul.c
 * (Nyúl & Udupa 1999/2000), each citing its method. Everything here refuses input a method
 * does not apply to before anything is computed or written: a series without patient
 * geometry cannot go onto a common grid nor have a spatially smooth field, a 4D series
 * mixes volumes whose intensities mean different things (b-values, echoes, contrast
 * phases), an empty foreground leaves nothing to normalize against, and CT is already on a
 * standard scale (Hounsfield units).
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cu-common-grid.h"
#include "cu-derived-series.h"
#include "cu-harmonize.h"
#include "cu-harmonize-error.h"
#include "cu-qc-metrics.h"
#include "cu-series-plan.h"

void
cu_harmonize_params_init (CuHarmonizeParams *p, CuHarmonizeMethod method)
{
  g_return_if_fail (p != NULL);
  memset (p, 0, sizeof *p);
  p->method = method;
  p->mask_threshold = NAN;
  p->contrast = CU_WHITESTRIPE_T1;
  p->ws_width = 0.05;
  p->axial = TRUE;
  cu_n4_params_init (&p->n4);
}

static const char *const method_names[] = { "n4", "resample", "zscore", "nyul", "whitestripe" };

const char *
cu_harmonize_method_to_string (CuHarmonizeMethod m)
{
  return (guint) m < G_N_ELEMENTS (method_names) ? method_names[m] : "unknown";
}

gboolean
cu_harmonize_method_from_string (const char *s, CuHarmonizeMethod *m)
{
  for (guint i = 0; i < G_N_ELEMENTS (method_names); i++)
    if (g_strcmp0 (s, method_names[i]) == 0)
      {
        *m = (CuHarmonizeMethod) i;
        return TRUE;
      }
  return FALSE;
}

CuVolume *
cu_harmonize_load_series (CuStore *store, const char *series_uid, CuProgress *progress,
                          GCancellable *cancellable, GError **error)
{
  g_autofree char *uid = NULL;
  g_auto (GStrv) files = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  guint stack;
  const CuVolume *geometry;

  uid = cu_store_resolve_series (store, series_uid, error);
  if (uid == NULL)
    return NULL;
  files = cu_store_get_series_files (store, uid, error);
  if (files == NULL)
    return NULL;
  plan = cu_series_plan_new_from_files ((const char *const *) files, NULL, cancellable, error);
  if (plan == NULL)
    return NULL;
  stack = cu_series_plan_get_main_stack (plan);
  if (!cu_series_plan_get_stack_has_geometry (plan, stack))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_NO_GEOMETRY,
                   _("Series %s (%s): no patient geometry (ImagePositionPatient, "
                     "ImageOrientationPatient): it cannot be harmonized in space"),
                   uid, files[0]);
      return NULL;
    }
  geometry = cu_series_plan_get_geometry (plan, stack);
  if (geometry->dims[3] > 1)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_4D,
                   _("Series %s (%s): %d volumes (time points, b-values or echoes); "
                     "harmonization takes one volume"), uid, files[0], geometry->dims[3]);
      return NULL;
    }
  return cu_series_plan_load (plan, stack, progress, cancellable, error);
}

gboolean
cu_harmonize_check_input (const CuVolume *v, CuHarmonizeMethod method, GError **error)
{
  const char *what = v->series_uid != NULL ? v->series_uid : _("volume");

  if (v->voxels == NULL)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                   _("%s: no voxels"), what);
      return FALSE;
    }
  if (v->dims[3] != 1)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_4D,
                   _("%s: %d volumes (time points, b-values or echoes); harmonization takes "
                     "one volume"), what, v->dims[3]);
      return FALSE;
    }
  if (method != CU_HARMONIZE_RESAMPLE && v->modality != NULL &&
      g_ascii_strcasecmp (v->modality, "CT") == 0)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_MODALITY,
                   method == CU_HARMONIZE_N4
                     ? _("%s is a CT: N4 corrects the bias field of MR coils; CT has none and "
                         "stays in Hounsfield units")
                     : _("%s is a CT: its Hounsfield units are already a standard scale and "
                         "are not normalized"),
                   what);
      return FALSE;
    }
  return TRUE;
}

guint8 *
cu_harmonize_mask (const CuVolume *v, const CuHarmonizeParams *p, gsize *n_fg, GError **error)
{
  gsize n3 = cu_volume_n_voxels_3d (v), n = 0;
  guint8 *mask;

  if (isnan (p->mask_threshold))
    mask = cu_qc_foreground_mask (v, 0, NULL);
  else
    {
      mask = g_malloc0 (n3);
      for (gsize x = 0; x < n3; x++)
        mask[x] = v->voxels[x] > p->mask_threshold;
    }
  for (gsize x = 0; x < n3; x++)
    n += mask[x] != 0;
  if (n == 0)
    {
      g_free (mask);
      if (isnan (p->mask_threshold))
        g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                     _("%s: the foreground mask (Otsu) is empty"),
                     v->series_uid != NULL ? v->series_uid : _("volume"));
      else
        g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                     _("%s: the foreground mask is empty: no voxel above %g"),
                     v->series_uid != NULL ? v->series_uid : _("volume"), p->mask_threshold);
      return NULL;
    }
  if (n_fg != NULL)
    *n_fg = n;
  return mask;
}

void
cu_harmonize_result_clear (CuHarmonizeResult *r)
{
  if (r == NULL)
    return;
  g_clear_pointer (&r->field, cu_volume_unref);
  memset (r, 0, sizeof *r);
}

CuVolume *
cu_harmonize_volume (const CuVolume *in, const CuHarmonizeParams *p, CuHarmonizeResult *result,
                     CuProgress *progress, GCancellable *cancellable, GError **error)
{
  CuHarmonizeResult local = { 0 };
  CuHarmonizeResult *r = result != NULL ? result : &local;
  g_autofree guint8 *mask = NULL;
  CuVolume *out = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_return_val_if_fail (in != NULL && p != NULL, NULL);
  memset (r, 0, sizeof *r);
  if (!cu_harmonize_check_input (in, p->method, error))
    return NULL;

  if (p->method == CU_HARMONIZE_RESAMPLE)
    {
      g_autoptr (CuVolume) grid = NULL;
      double spacing[3];
      for (int c = 0; c < 3; c++)
        spacing[c] = p->spacing[c] > 0 ? p->spacing[c] : in->spacing[c];
      grid = cu_common_grid_new (in, spacing, p->axial, error);
      if (grid == NULL)
        return NULL;
      out = cu_common_grid_resample (in, grid, p->labels, cancellable, error);
      if (out != NULL)
        memcpy (r->dims, out->dims, sizeof r->dims);
    }
  else
    {
      mask = cu_harmonize_mask (in, p, &r->n_mask, error);
      if (mask == NULL)
        return NULL;
      switch (p->method)
        {
        case CU_HARMONIZE_ZSCORE:
          out = cu_zscore_normalize (in, mask, &r->mean, &r->sd, error);
          break;
        case CU_HARMONIZE_WHITESTRIPE:
          out = cu_whitestripe_normalize (in, mask, p->contrast, p->ws_width, &r->whitestripe,
                                          error);
          r->mean = r->whitestripe.mean;
          r->sd = r->whitestripe.sd;
          break;
        case CU_HARMONIZE_NYUL:
          if (p->scale == NULL)
            {
              g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                           _("Nyúl standardization needs a learnt standard scale"));
              return NULL;
            }
          out = cu_nyul_apply (in, mask, p->scale, error);
          if (out != NULL)
            cu_nyul_landmarks (in, mask, p->scale, r->landmarks);
          break;
        case CU_HARMONIZE_N4:
          out = cu_n4_correct (in, mask, &p->n4, &r->field, &r->n4, progress, cancellable, error);
          break;
        default:
          g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                       _("Unknown harmonization method %d"), (int) p->method);
          return NULL;
        }
    }
  r->seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (out == NULL)
    cu_harmonize_result_clear (r);
  else
    cu_progress_report (progress, 1.0, NULL);
  if (r == &local)
    cu_harmonize_result_clear (&local);
  return out;
}

static void
add_double (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, v);
}

char *
cu_harmonize_params_to_json (const CuHarmonizeParams *p, const CuHarmonizeResult *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, cu_harmonize_method_to_string (p->method));
  if (p->method != CU_HARMONIZE_RESAMPLE)
    {
      json_builder_set_member_name (b, "mask");
      json_builder_add_string_value (b, isnan (p->mask_threshold) ? "otsu" : "threshold");
      if (!isnan (p->mask_threshold))
        add_double (b, "mask_threshold", p->mask_threshold);
      if (r != NULL)
        {
          json_builder_set_member_name (b, "mask_voxels");
          json_builder_add_int_value (b, (gint64) r->n_mask);
        }
    }
  switch (p->method)
    {
    case CU_HARMONIZE_ZSCORE:
      if (r != NULL)
        {
          add_double (b, "mean", r->mean);
          add_double (b, "sd", r->sd);
        }
      break;
    case CU_HARMONIZE_WHITESTRIPE:
      json_builder_set_member_name (b, "contrast");
      json_builder_add_string_value (b, cu_whitestripe_contrast_to_string (p->contrast));
      add_double (b, "width", p->ws_width);
      if (r != NULL)
        {
          add_double (b, "mode", r->whitestripe.mode);
          add_double (b, "mode_quantile", r->whitestripe.mode_quantile);
          add_double (b, "stripe_lower", r->whitestripe.lower);
          add_double (b, "stripe_upper", r->whitestripe.upper);
          add_double (b, "mean", r->mean);
          add_double (b, "sd", r->sd);
        }
      break;
    case CU_HARMONIZE_NYUL:
      if (p->scale != NULL)
        {
          g_autofree char *scale = cu_nyul_scale_to_json (p->scale);
          json_builder_set_member_name (b, "scale");
          json_builder_add_value (b, json_from_string (scale, NULL));
          if (r != NULL)
            {
              json_builder_set_member_name (b, "landmarks");
              json_builder_begin_array (b);
              for (guint i = 0; i < p->scale->n_landmarks; i++)
                json_builder_add_double_value (b, r->landmarks[i]);
              json_builder_end_array (b);
            }
        }
      break;
    case CU_HARMONIZE_RESAMPLE:
      json_builder_set_member_name (b, "spacing");
      json_builder_begin_array (b);
      for (int c = 0; c < 3; c++)
        json_builder_add_double_value (b, p->spacing[c]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "orientation");
      json_builder_add_string_value (b, p->axial ? "axial" : "source");
      json_builder_set_member_name (b, "interpolation");
      json_builder_add_string_value (b, p->labels ? "label-aware" : "bspline3");
      if (r != NULL)
        {
          json_builder_set_member_name (b, "dims");
          json_builder_begin_array (b);
          for (int c = 0; c < 3; c++)
            json_builder_add_int_value (b, r->dims[c]);
          json_builder_end_array (b);
        }
      break;
    case CU_HARMONIZE_N4:
    default:
      json_builder_set_member_name (b, "levels");
      json_builder_add_int_value (b, p->n4.n_levels);
      json_builder_set_member_name (b, "iterations");
      json_builder_begin_array (b);
      for (int l = 0; l < p->n4.n_levels; l++)
        json_builder_add_int_value (b, p->n4.iterations[l]);
      json_builder_end_array (b);
      add_double (b, "convergence", p->n4.convergence);
      json_builder_set_member_name (b, "control_points");
      json_builder_add_int_value (b, p->n4.control_points);
      json_builder_set_member_name (b, "shrink");
      json_builder_add_int_value (b, p->n4.shrink);
      json_builder_set_member_name (b, "histogram_bins");
      json_builder_add_int_value (b, p->n4.histogram_bins);
      add_double (b, "fwhm", p->n4.fwhm);
      add_double (b, "wiener_noise", p->n4.wiener_noise);
      if (r != NULL)
        {
          json_builder_set_member_name (b, "iterations_run");
          json_builder_begin_array (b);
          for (int l = 0; l < p->n4.n_levels; l++)
            json_builder_add_int_value (b, r->n4.iterations[l]);
          json_builder_end_array (b);
          json_builder_set_member_name (b, "final_change");
          json_builder_begin_array (b);
          for (int l = 0; l < p->n4.n_levels; l++)
            json_builder_add_double_value (b, isfinite (r->n4.convergence[l]) ? r->n4.convergence[l] : -1);
          json_builder_end_array (b);
        }
      break;
    }
  if (r != NULL)
    add_double (b, "seconds", r->seconds);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

char *
cu_harmonize_describe (const CuHarmonizeParams *p, const CuHarmonizeResult *r)
{
  char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE], c[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree char *mask = NULL;

  if (isnan (p->mask_threshold))
    mask = g_strdup ("Otsu foreground mask");
  else
    mask = g_strdup_printf ("foreground > %s",
                            g_ascii_formatd (a, sizeof a, "%g", p->mask_threshold));
  switch (p->method)
    {
    case CU_HARMONIZE_ZSCORE:
      g_ascii_formatd (a, sizeof a, "%.6g", r != NULL ? r->mean : 0);
      g_ascii_formatd (b, sizeof b, "%.6g", r != NULL ? r->sd : 0);
      return g_strdup_printf ("Curata z-score normalization: (x - %s) / %s, mean and SD of the %s",
                              a, b, mask);
    case CU_HARMONIZE_WHITESTRIPE:
      g_ascii_formatd (a, sizeof a, "%.6g", r != NULL ? r->mean : 0);
      g_ascii_formatd (b, sizeof b, "%.6g", r != NULL ? r->sd : 0);
      g_ascii_formatd (c, sizeof c, "%g", p->ws_width);
      return g_strdup_printf ("Curata WhiteStripe (Shinohara 2014), %s, width %s: (x - %s) / %s, "
                              "%s", p->contrast == CU_WHITESTRIPE_T1 ? "T1" : "T2", c, a, b,
                              mask);
    case CU_HARMONIZE_NYUL:
      return g_strdup_printf ("Curata Nyul-Udupa histogram standardization (Nyul 2000), "
                              "percentiles 1, 10..90, 99 onto the scale \"%s\" learnt from %u "
                              "series, %s",
                              p->scale != NULL && p->scale->name != NULL ? p->scale->name : "",
                              p->scale != NULL ? p->scale->n_training : 0, mask);
    case CU_HARMONIZE_RESAMPLE:
      g_ascii_formatd (a, sizeof a, "%g", r != NULL && r->dims[0] ? p->spacing[0] : p->spacing[0]);
      g_ascii_formatd (b, sizeof b, "%g", p->spacing[1]);
      g_ascii_formatd (c, sizeof c, "%g", p->spacing[2]);
      return g_strdup_printf ("Curata resampling to a common grid: %s x %s x %s mm, %s, %s",
                              a, b, c, p->axial ? "axial" : "source orientation",
                              p->labels ? "label-aware (largest trilinear label weight)"
                                        : "cubic B-spline (Unser 1999)");
    case CU_HARMONIZE_N4:
    default:
      g_ascii_formatd (a, sizeof a, "%g", p->n4.convergence);
      g_ascii_formatd (b, sizeof b, "%g", p->n4.fwhm);
      g_ascii_formatd (c, sizeof c, "%g", p->n4.wiener_noise);
      return g_strdup_printf ("Curata N4 bias-field correction (Tustison 2010): %d levels x %d "
                              "iterations, convergence %s, %d control points, shrink %d, "
                              "%d bins, FWHM %s, Wiener noise %s, %s",
                              p->n4.n_levels, p->n4.iterations[0], a, p->n4.control_points,
                              p->n4.shrink, p->n4.histogram_bins, b, c, mask);
    }
}

void
cu_harmonize_params_resolve (CuHarmonizeParams *p, const CuVolume *in)
{
  g_return_if_fail (p != NULL && in != NULL);
  if (p->method == CU_HARMONIZE_RESAMPLE)
    for (int c = 0; c < 3; c++)
      if (!(p->spacing[c] > 0))
        p->spacing[c] = in->spacing[c];
}

char *
cu_harmonize_write (CuStore *store, const char *uid, const CuHarmonizeParams *params,
                    const CuHarmonizeResult *r, const CuVolume *out, char **field_uid,
                    CuProgress *progress, GCancellable *cancellable, GError **error)
{
  g_autofree char *json = NULL, *description = NULL, *method_id = NULL, *new_uid = NULL;

  g_return_val_if_fail (store != NULL && uid != NULL && params != NULL && r != NULL, NULL);
  g_return_val_if_fail (out != NULL, NULL);
  json = cu_harmonize_params_to_json (params, r);
  description = cu_harmonize_describe (params, r);
  method_id = g_strconcat ("harmonize-", cu_harmonize_method_to_string (params->method), NULL);
  cu_progress_report (progress, 0.0, _("Writing the derived series"));
  {
    CuDerivedSeriesSpec spec = {
      .source_series_uid = uid,
      .method = method_id,
      .derivation_description = description,
      .parameters_json = json,
    };
    new_uid = cu_store_write_derived_series (store, &spec, out, progress, cancellable, error);
  }
  if (new_uid == NULL)
    return NULL;
  if (params->method == CU_HARMONIZE_N4 && field_uid != NULL && r->field != NULL)
    {
      g_autofree char *fdesc = g_strconcat ("Estimated bias field of ", description, NULL);
      CuDerivedSeriesSpec spec = {
        .source_series_uid = uid,
        .method = "harmonize-n4-field",
        .derivation_description = fdesc,
        .parameters_json = json,
      };
      /* DerivationDescription holds at most 1024 characters */
      if (strlen (fdesc) > 1024)
        fdesc[1024] = '\0';
      *field_uid = cu_store_write_derived_series (store, &spec, r->field, progress, cancellable,
                                                  error);
      if (*field_uid == NULL)
        return NULL;   /* the corrected series is written; the error says the field is not */
    }
  return g_steal_pointer (&new_uid);
}

char *
cu_harmonize_series (CuStore *store, const char *series_uid, const CuHarmonizeParams *p,
                     char **field_uid, CuHarmonizeResult *result, CuProgress *progress,
                     GCancellable *cancellable, GError **error)
{
  g_autoptr (CuVolume) in = NULL, out = NULL;
  g_autofree char *uid = NULL;
  CuHarmonizeResult local = { 0 };
  CuHarmonizeResult *r = result != NULL ? result : &local;
  CuHarmonizeParams params = *p;
  char *new_uid;

  uid = cu_store_resolve_series (store, series_uid, error);
  if (uid == NULL)
    return NULL;
  cu_progress_report (progress, 0.0, _("Loading the series"));
  in = cu_harmonize_load_series (store, uid, progress, cancellable, error);
  if (in == NULL)
    return NULL;
  /* refuse before spending time on the run */
  if (!cu_harmonize_check_input (in, p->method, error))
    return NULL;
  cu_harmonize_params_resolve (&params, in);
  cu_progress_report (progress, 0.0, _("Harmonizing"));
  out = cu_harmonize_volume (in, &params, r, progress, cancellable, error);
  if (out == NULL)
    {
      /* every message names the series (the CLI and the GUI print it as it is) */
      if (error != NULL && *error != NULL && strstr ((*error)->message, uid) == NULL)
        g_prefix_error (error, "%s: ", uid);
      return NULL;
    }
  new_uid = cu_harmonize_write (store, uid, &params, r, out, field_uid, progress, cancellable,
                                error);
  cu_harmonize_result_clear (&local);
  return new_uid;
}

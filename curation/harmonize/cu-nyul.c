/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-nyul.c — Nyúl–Udupa histogram standardization.
 *
 * Method: L. G. Nyúl, J. K. Udupa, "On standardizing the MR image intensity scale", Magnetic
 * Resonance in Medicine 42(6):1072–1081, 1999 (doi:10.1002/(SICI)1522-2594(199912)42:6<1072::
 * AID-MRM11>3.0.CO;2-M); L. G. Nyúl, J. K. Udupa, X. Zhang, "New variants of a method of MRI
 * scale standardization", IEEE Trans. Med. Imaging 19(2):143–150, 2000 (doi:10.1109/42.836373).
 *
 * Training: for each volume of a training cohort, the intensities of the foreground at
 * percentiles pc1 = 1 and pc2 = 99 and at the deciles between (the paper's "L4"
 * configuration) are its landmarks; each volume's landmarks are mapped linearly so that
 * [pc1, pc2] becomes the standard range [s1, s2] = [1, 100], and the standard landmarks are
 * the means over the cohort. Transformation: each volume is mapped piecewise linearly from
 * its own landmarks onto the standard ones; intensities below pc1 and above pc2 follow the
 * first and last segments (the tails are kept, not clipped). Percentiles are order-statistic
 * quantiles with linear interpolation (cu_intensity_quantile). The scale is stored as JSON so
 * that studies arriving later are mapped onto the same scale as the training cohort.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cu-harmonize-error.h"
#include "cu-intensity-norm.h"
#include "cu-nyul.h"

CuNyulScale *
cu_nyul_scale_new (void)
{
  CuNyulScale *s = g_new0 (CuNyulScale, 1);

  s->n_landmarks = 11;
  s->percentiles[0] = 1;
  for (guint i = 1; i <= 9; i++)
    s->percentiles[i] = 10.0 * i;
  s->percentiles[10] = 99;
  s->s_min = 1;
  s->s_max = 100;
  return s;
}

void
cu_nyul_scale_free (CuNyulScale *s)
{
  if (s == NULL)
    return;
  g_free (s->name);
  g_strfreev (s->training_series);
  g_free (s);
}

gboolean
cu_nyul_landmarks (const CuVolume *v, const guint8 *mask, const CuNyulScale *scale, double *out)
{
  gsize n = 0;
  g_autofree float *sorted = cu_intensity_masked_sorted (v, mask, &n);

  if (n == 0)
    return FALSE;
  for (guint i = 0; i < scale->n_landmarks; i++)
    out[i] = cu_intensity_quantile (sorted, n, scale->percentiles[i] / 100.0);
  return TRUE;
}

static gboolean
check_increasing (const double *l, guint n, const char *what, GError **error)
{
  for (guint i = 1; i < n; i++)
    if (!(l[i] > l[i - 1]))
      {
        g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_FAILED,
                     _("%s: the histogram landmarks are not strictly increasing (%g at landmark "
                       "%u, %g before it): too few distinct intensities in the foreground"),
                     what, l[i], i, l[i - 1]);
        return FALSE;
      }
  return TRUE;
}

gboolean
cu_nyul_train (CuNyulScale *scale, const CuVolume *const *volumes, const guint8 *const *masks,
               const char *const *uids, guint n, GError **error)
{
  double sum[CU_NYUL_MAX_LANDMARKS] = { 0 };
  const guint m = scale->n_landmarks;

  if (n == 0)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                   _("No training volume: the standard scale needs at least one"));
      return FALSE;
    }
  for (guint v = 0; v < n; v++)
    {
      double l[CU_NYUL_MAX_LANDMARKS];
      const char *what = uids != NULL && uids[v] != NULL ? uids[v] : _("training volume");

      if (!cu_nyul_landmarks (volumes[v], masks[v], scale, l))
        {
          g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                       _("%s: the foreground mask is empty"), what);
          return FALSE;
        }
      if (!check_increasing (l, m, what, error))
        return FALSE;
      for (guint i = 0; i < m; i++)
        sum[i] += scale->s_min + (l[i] - l[0]) * (scale->s_max - scale->s_min) / (l[m - 1] - l[0]);
    }
  for (guint i = 0; i < m; i++)
    scale->standard[i] = sum[i] / n;
  scale->n_training = n;
  g_clear_pointer (&scale->training_series, g_strfreev);
  if (uids != NULL)
    scale->training_series = g_strdupv ((char **) uids);
  return TRUE;
}

CuVolume *
cu_nyul_apply (const CuVolume *in, const guint8 *mask, const CuNyulScale *scale, GError **error)
{
  double l[CU_NYUL_MAX_LANDMARKS];
  const double *s = scale->standard;
  const guint m = scale->n_landmarks;
  CuVolume *out;
  gsize n3;

  if (scale->n_training == 0)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                   _("The standard scale has not been learnt: train it on a cohort first"));
      return NULL;
    }
  if (!cu_nyul_landmarks (in, mask, scale, l))
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_EMPTY_MASK,
                   _("The foreground mask is empty: there are no landmarks to map"));
      return NULL;
    }
  if (!check_increasing (l, m, in->series_uid != NULL ? in->series_uid : _("volume"), error))
    return NULL;

  out = cu_volume_copy (in, TRUE);
  n3 = cu_volume_n_voxels_3d (in);
  for (gsize x = 0; x < n3; x++)
    {
      double v = in->voxels[x];
      guint i = 0;

      if (!isfinite (v))
        continue;
      /* the segment [l[i], l[i+1]] holding v; the end segments extend beyond pc1 and pc2 */
      while (i + 2 < m && v > l[i + 1])
        i++;
      out->voxels[x] = (float) (s[i] + (v - l[i]) * (s[i + 1] - s[i]) / (l[i + 1] - l[i]));
    }
  return out;
}

char *
cu_nyul_scale_to_json (const CuNyulScale *scale)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "method");
  json_builder_add_string_value (b, "nyul");
  json_builder_set_member_name (b, "name");
  if (scale->name != NULL)
    json_builder_add_string_value (b, scale->name);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "s_min");
  json_builder_add_double_value (b, scale->s_min);
  json_builder_set_member_name (b, "s_max");
  json_builder_add_double_value (b, scale->s_max);
  json_builder_set_member_name (b, "percentiles");
  json_builder_begin_array (b);
  for (guint i = 0; i < scale->n_landmarks; i++)
    json_builder_add_double_value (b, scale->percentiles[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "standard");
  json_builder_begin_array (b);
  for (guint i = 0; i < scale->n_landmarks; i++)
    json_builder_add_double_value (b, scale->standard[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "n_training");
  json_builder_add_int_value (b, scale->n_training);
  json_builder_set_member_name (b, "training_series");
  json_builder_begin_array (b);
  for (guint i = 0; scale->training_series != NULL && scale->training_series[i] != NULL; i++)
    json_builder_add_string_value (b, scale->training_series[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

static gboolean
read_doubles (JsonObject *o, const char *member, double *out, guint *n)
{
  JsonArray *a;
  guint len;

  if (!json_object_has_member (o, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, member)))
    return FALSE;
  a = json_object_get_array_member (o, member);
  len = json_array_get_length (a);
  if (len < 2 || len > CU_NYUL_MAX_LANDMARKS)
    return FALSE;
  for (guint i = 0; i < len; i++)
    {
      JsonNode *e = json_array_get_element (a, i);
      if (json_node_get_value_type (e) != G_TYPE_DOUBLE && json_node_get_value_type (e) != G_TYPE_INT64)
        return FALSE;
      out[i] = json_node_get_double (e);
      if (!isfinite (out[i]))
        return FALSE;
    }
  *n = len;
  return TRUE;
}

CuNyulScale *
cu_nyul_scale_from_json (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (CuNyulScale) s = cu_nyul_scale_new ();
  JsonObject *o;
  guint np = 0, ns = 0;

  if (!json_parser_load_from_data (parser, json, -1, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    goto bad;
  o = json_node_get_object (json_parser_get_root (parser));
  if (g_strcmp0 (json_object_get_string_member_with_default (o, "method", ""), "nyul") != 0)
    goto bad;
  if (!read_doubles (o, "percentiles", s->percentiles, &np) ||
      !read_doubles (o, "standard", s->standard, &ns) || np != ns)
    goto bad;
  s->n_landmarks = np;
  for (guint i = 0; i < np; i++)
    if (s->percentiles[i] < 0 || s->percentiles[i] > 100 ||
        (i > 0 && (!(s->percentiles[i] > s->percentiles[i - 1]) ||
                   !(s->standard[i] > s->standard[i - 1]))))
      goto bad;
  s->s_min = json_object_get_double_member_with_default (o, "s_min", s->standard[0]);
  s->s_max = json_object_get_double_member_with_default (o, "s_max", s->standard[np - 1]);
  s->n_training = (guint) MAX (json_object_get_int_member_with_default (o, "n_training", 0), 0);
  if (s->n_training == 0)
    goto bad;
  if (json_object_has_member (o, "name") && JSON_NODE_HOLDS_VALUE (json_object_get_member (o, "name")))
    s->name = g_strdup (json_object_get_string_member (o, "name"));
  if (json_object_has_member (o, "training_series") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "training_series")))
    {
      JsonArray *a = json_object_get_array_member (o, "training_series");
      GPtrArray *uids = g_ptr_array_new ();
      for (guint i = 0; i < json_array_get_length (a); i++)
        {
          const char *u = json_node_get_string (json_array_get_element (a, i));
          if (u != NULL)
            g_ptr_array_add (uids, g_strdup (u));
        }
      g_ptr_array_add (uids, NULL);
      s->training_series = (char **) g_ptr_array_free (uids, FALSE);
    }
  return g_steal_pointer (&s);

bad:
  g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
               _("Not a learnt Nyúl standard scale (method “nyul”, increasing percentiles and "
                 "standard landmarks of the same length, n_training > 0)"));
  return NULL;
}

gboolean
cu_nyul_scale_save (const CuNyulScale *scale, const char *path, GError **error)
{
  g_autofree char *json = cu_nyul_scale_to_json (scale);

  return g_file_set_contents (path, json, -1, error);
}

CuNyulScale *
cu_nyul_scale_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;
  CuNyulScale *s;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  s = cu_nyul_scale_from_json (text, &local);
  if (s == NULL)
    g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID, "%s: %s", path,
                 local->message);
  return s;
}

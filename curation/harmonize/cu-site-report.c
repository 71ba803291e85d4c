/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-site-report.c — the site effect of a cohort, before and after harmonization.
 *
 * Models trained on multi-site data learn the site when a feature's distribution differs
 * between sites (intensity scale, contrast, noise). For every feature — the MRQy quality
 * metrics the gate computes (Sadri et al., "MRQy", Med. Phys. 47(7), 2020) and simple
 * intensity statistics of the foreground — the report gives, per site, the values of the
 * cohort's series and of their harmonized copies, and two batch-effect statistics:
 *   - Kruskal–Wallis H (W. H. Kruskal, W. A. Wallis, "Use of ranks in one-criterion variance
 *     analysis", JASA 47(260):583–621, 1952), rank-based so that one outlying series does not
 *     decide it, with the tie correction and its χ²(k − 1) p-value;
 *   - η², the share of the feature's variance explained by site (between-site sum of squares
 *     over the total), which says how much of the feature a model could learn from the site.
 * A feature's site effect counts as removed when η² fell and p ≥ 0.05 afterwards; otherwise
 * the report says that harmonization did not remove it.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cu-derived-series.h"
#include "cu-harmonize.h"
#include "cu-harmonize-error.h"
#include "cu-intensity-norm.h"
#include "cu-qc-cohort.h"
#include "cu-qc-metrics.h"
#include "cu-site-report.h"
#include "cu-store-qc.h"

/* ---- statistics ------------------------------------------------------------------------ */

/* Regularized upper incomplete gamma Q(a, x): series for x < a + 1, continued fraction
 * (modified Lentz) otherwise (Press et al., Numerical Recipes, 3rd ed., §6.2). */
static double
gamma_q (double a, double x)
{
  double gln = lgamma (a);

  if (x <= 0)
    return 1.0;
  if (x < a + 1)
    {
      double ap = a, sum = 1.0 / a, del = sum;
      for (int n = 0; n < 500; n++)
        {
          ap += 1;
          del *= x / ap;
          sum += del;
          if (fabs (del) < fabs (sum) * 1e-15)
            break;
        }
      return 1.0 - sum * exp (-x + a * log (x) - gln);
    }
  else
    {
      double b = x + 1 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
      for (int i = 1; i < 500; i++)
        {
          double an = -i * (i - a), del;
          b += 2;
          d = an * d + b;
          if (fabs (d) < 1e-300)
            d = 1e-300;
          c = b + an / c;
          if (fabs (c) < 1e-300)
            c = 1e-300;
          d = 1.0 / d;
          del = d * c;
          h *= del;
          if (fabs (del - 1) < 1e-15)
            break;
        }
      return exp (-x + a * log (x) - gln) * h;
    }
}

typedef struct
{
  double v;
  int g;
} Obs;

static int
compare_obs (const void *a, const void *b)
{
  double x = ((const Obs *) a)->v, y = ((const Obs *) b)->v;
  return (x > y) - (x < y);
}

double
cu_kruskal_wallis (const double *values, const int *group, guint n, guint k, double *p)
{
  g_autofree Obs *o = g_new (Obs, MAX (n, 1));
  g_autofree double *rank_sum = g_new0 (double, MAX (k, 1));
  g_autofree guint *count = g_new0 (guint, MAX (k, 1));
  guint m = 0, groups = 0;
  double ties = 0, h, nn;

  if (p != NULL)
    *p = NAN;
  for (guint i = 0; i < n; i++)
    if (isfinite (values[i]) && group[i] >= 0 && (guint) group[i] < k)
      o[m++] = (Obs) { values[i], group[i] };
  qsort (o, m, sizeof (Obs), compare_obs);
  for (guint i = 0; i < m;)
    {
      guint j = i;
      double r;
      while (j + 1 < m && o[j + 1].v == o[i].v)
        j++;
      r = 0.5 * (i + j) + 1;   /* mid-rank of the tie */
      for (guint t = i; t <= j; t++)
        {
          rank_sum[o[t].g] += r;
          count[o[t].g]++;
        }
      ties += pow (j - i + 1, 3) - (j - i + 1);
      i = j + 1;
    }
  for (guint g = 0; g < k; g++)
    groups += count[g] > 0;
  if (groups < 2 || m < 3)
    return NAN;
  nn = m;
  h = 0;
  for (guint g = 0; g < k; g++)
    if (count[g] > 0)
      h += rank_sum[g] * rank_sum[g] / count[g];
  h = 12.0 / (nn * (nn + 1)) * h - 3 * (nn + 1);
  if (ties > 0)
    {
      double c = 1 - ties / (nn * nn * nn - nn);
      if (c <= 0)
        h = 0;   /* every value equal: no difference */
      else
        h /= c;
    }
  h = MAX (h, 0.0);
  if (p != NULL)
    *p = gamma_q ((groups - 1) / 2.0, h / 2.0);
  return h;
}

double
cu_variance_share (const double *values, const int *group, guint n, guint k)
{
  g_autofree double *sum = g_new0 (double, MAX (k, 1));
  g_autofree guint *count = g_new0 (guint, MAX (k, 1));
  double total = 0, mean, ss_total = 0, ss_between = 0;
  guint m = 0;

  for (guint i = 0; i < n; i++)
    if (isfinite (values[i]) && group[i] >= 0 && (guint) group[i] < k)
      {
        sum[group[i]] += values[i];
        count[group[i]]++;
        total += values[i];
        m++;
      }
  if (m < 2)
    return NAN;
  mean = total / m;
  for (guint i = 0; i < n; i++)
    if (isfinite (values[i]) && group[i] >= 0 && (guint) group[i] < k)
      ss_total += (values[i] - mean) * (values[i] - mean);
  for (guint g = 0; g < k; g++)
    if (count[g] > 0)
      ss_between += count[g] * (sum[g] / count[g] - mean) * (sum[g] / count[g] - mean);
  return ss_total > 0 ? ss_between / ss_total : 0.0;
}

/* ---- features -------------------------------------------------------------------------- */

static const char *const intensity_names[] = { "MEDIAN", "P05", "P95", "IQR" };

double *
cu_site_report_features (const CuVolume *v, const char *const **names_out, guint *n_out)
{
  static gsize names_once = 0;
  const char *const *mrqy = cu_qc_cohort_metrics ();
  g_autofree guint8 *mask = cu_qc_foreground_mask (v, 0, NULL);
  g_autoptr (GArray) metrics = g_array_new (FALSE, TRUE, sizeof (CuQcMetric));
  g_autofree float *sorted = NULL;
  guint n_mrqy = 0, n;
  gsize nv = 0;
  double *values;

  while (mrqy[n_mrqy] != NULL)
    n_mrqy++;
  n = G_N_ELEMENTS (intensity_names) + n_mrqy;
  if (g_once_init_enter (&names_once))
    {
      const char **list = g_new0 (const char *, n + 1);
      for (guint i = 0; i < G_N_ELEMENTS (intensity_names); i++)
        list[i] = intensity_names[i];
      for (guint i = 0; i < n_mrqy; i++)
        list[G_N_ELEMENTS (intensity_names) + i] = mrqy[i];
      g_once_init_leave (&names_once, (gsize) list);
    }
  values = g_new (double, n);
  for (guint i = 0; i < n; i++)
    values[i] = NAN;
  sorted = cu_intensity_masked_sorted (v, mask, &nv);
  if (nv > 0)
    {
      values[0] = cu_intensity_quantile (sorted, nv, 0.5);
      values[1] = cu_intensity_quantile (sorted, nv, 0.05);
      values[2] = cu_intensity_quantile (sorted, nv, 0.95);
      values[3] = cu_intensity_quantile (sorted, nv, 0.75) - cu_intensity_quantile (sorted, nv, 0.25);
      cu_qc_mrqy_metrics (v, mask, metrics);
      for (guint m = 0; m < metrics->len; m++)
        {
          CuQcMetric *cm = &g_array_index (metrics, CuQcMetric, m);
          for (guint i = 0; i < n_mrqy; i++)
            if (strcmp (cm->name, mrqy[i]) == 0)
              values[G_N_ELEMENTS (intensity_names) + i] = cm->value;
        }
    }
  *names_out = (const char *const *) names_once;
  *n_out = n;
  return values;
}

/* ---- the report ------------------------------------------------------------------------ */

static void
row_free (CuSiteReportRow *r)
{
  g_free (r->series_uid);
  g_free (r->source_uid);
  g_free (r->site);
  g_free (r->vendor);
  g_free (r->values);
  g_free (r);
}

static void
feature_free (CuSiteReportFeature *f)
{
  g_free (f->name);
  g_free (f);
}

void
cu_site_report_free (CuSiteReport *r)
{
  if (r == NULL)
    return;
  g_free (r->sequence);
  g_free (r->method);
  g_clear_pointer (&r->features, g_ptr_array_unref);
  g_clear_pointer (&r->before, g_ptr_array_unref);
  g_clear_pointer (&r->after, g_ptr_array_unref);
  g_clear_pointer (&r->sites, g_ptr_array_unref);
  g_free (r);
}

static char *
site_of (const CuQcSummary *s, CuSiteBy by)
{
  if (by == CU_SITE_BY_SCANNER)
    return g_strdup (s->scanner != NULL && *s->scanner ? s->scanner : "?");
  if (s->patient_id != NULL && *s->patient_id)
    {
      const char *dash = strchr (s->patient_id, '-');
      return dash != NULL ? g_strndup (s->patient_id, dash - s->patient_id) : g_strdup (s->patient_id);
    }
  return g_strdup ("?");
}

static int
site_index (GPtrArray *sites, const char *site)
{
  for (guint i = 0; i < sites->len; i++)
    if (strcmp (sites->pdata[i], site) == 0)
      return (int) i;
  return -1;
}

static void
statistics (CuSiteReport *r, GPtrArray *rows, gboolean after)
{
  guint n = rows->len;
  g_autofree double *v = g_new (double, MAX (n, 1));
  g_autofree int *g = g_new (int, MAX (n, 1));

  for (guint f = 0; f < r->features->len; f++)
    {
      CuSiteReportFeature *feat = r->features->pdata[f];
      double h, p, eta;
      for (guint i = 0; i < n; i++)
        {
          CuSiteReportRow *row = rows->pdata[i];
          v[i] = row->values[f];
          g[i] = site_index (r->sites, row->site);
        }
      h = cu_kruskal_wallis (v, g, n, r->sites->len, &p);
      eta = cu_variance_share (v, g, n, r->sites->len);
      if (after)
        {
          feat->h_after = h;
          feat->p_after = p;
          feat->eta2_after = eta;
        }
      else
        {
          feat->h_before = h;
          feat->p_before = p;
          feat->eta2_before = eta;
        }
    }
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

CuSiteReport *
cu_site_report_build (CuStore *store, const char *sequence, const char *method, CuSiteBy by,
                      CuProgress *progress, GCancellable *cancellable, GError **error)
{
  g_autoptr (CuSiteReport) r = g_new0 (CuSiteReport, 1);
  g_autoptr (GPtrArray) list = NULL, derived = NULL;
  g_autoptr (GHashTable) is_derived = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) cohort = g_ptr_array_new ();
  g_autofree char *method_id = method != NULL ? g_strconcat ("harmonize-", method, NULL) : NULL;
  const char *const *names = NULL;
  const char *names_kept[64];
  guint n_features = 0;

  r->sequence = g_strdup (sequence);
  r->method = g_strdup (method);
  r->features = g_ptr_array_new_with_free_func ((GDestroyNotify) feature_free);
  r->before = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  r->after = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  r->sites = g_ptr_array_new_with_free_func (g_free);

  list = cu_store_qc_list (store, error);
  if (list == NULL)
    return NULL;
  derived = cu_store_list_derived_series (store, NULL, error);
  if (derived == NULL)
    return NULL;
  for (guint i = 0; i < derived->len; i++)
    g_hash_table_add (is_derived, ((CuDerivedSeriesInfo *) derived->pdata[i])->series_uid);
  for (guint i = 0; i < list->len; i++)
    {
      CuQcSummary *s = list->pdata[i];
      if (s->checked && s->has_images && g_strcmp0 (s->sequence, sequence) == 0 &&
          !g_hash_table_contains (is_derived, s->series_uid))
        g_ptr_array_add (cohort, s);
    }
  if (cohort->len == 0)
    {
      g_set_error (error, CU_HARMONIZE_ERROR, CU_HARMONIZE_ERROR_INVALID,
                   _("No series of sequence %s that the quality gate has checked"), sequence);
      return NULL;
    }

  for (guint i = 0; i < cohort->len; i++)
    {
      CuQcSummary *s = cohort->pdata[i];
      g_autofree char *site = site_of (s, by);
      const char *ids[2] = { s->series_uid, NULL };
      g_autoptr (GPtrArray) lineage = NULL;

      if (site_index (r->sites, site) < 0)
        g_ptr_array_add (r->sites, g_strdup (site));
      /* the latest harmonized copy made with the method */
      if (method_id != NULL)
        {
          lineage = cu_store_list_derived_series (store, s->series_uid, error);
          if (lineage == NULL)
            return NULL;
          for (guint d = lineage->len; d-- > 0;)
            if (g_strcmp0 (((CuDerivedSeriesInfo *) lineage->pdata[d])->method, method_id) == 0)
              {
                ids[1] = ((CuDerivedSeriesInfo *) lineage->pdata[d])->series_uid;
                break;
              }
        }
      for (int which = 0; which < 2; which++)
        {
          g_autoptr (CuVolume) v = NULL;
          CuSiteReportRow *row;

          if (ids[which] == NULL)
            continue;
          cu_progress_report (progress, (i + 0.5 * which) / cohort->len, _("Measuring the cohort"));
          v = cu_harmonize_load_series (store, ids[which], NULL, cancellable, error);
          if (v == NULL)
            return NULL;
          row = g_new0 (CuSiteReportRow, 1);
          row->series_uid = g_strdup (ids[which]);
          row->source_uid = g_strdup (s->series_uid);
          row->site = g_strdup (site);
          row->vendor = g_strdup (s->scanner != NULL ? s->scanner : "");
          row->values = cu_site_report_features (v, &names, &n_features);
          g_ptr_array_add (which == 0 ? r->before : r->after, row);
        }
    }
  g_ptr_array_sort (r->sites, compare_strings);
  /* features no series has (CT noise on MR) are left out */
  {
    guint kept = 0;
    for (guint f = 0; f < n_features; f++)
      {
        gboolean any = FALSE;
        for (guint i = 0; i < r->before->len && !any; i++)
          any = isfinite (((CuSiteReportRow *) r->before->pdata[i])->values[f]);
        if (!any)
          continue;
        for (int which = 0; which < 2; which++)
          {
            GPtrArray *rows = which == 0 ? r->before : r->after;
            for (guint i = 0; i < rows->len; i++)
              {
                CuSiteReportRow *row = rows->pdata[i];
                row->values[kept] = row->values[f];
              }
          }
        names_kept[kept++] = names[f];
      }
    n_features = kept;
  }
  for (guint f = 0; f < n_features; f++)
    {
      CuSiteReportFeature *feat = g_new0 (CuSiteReportFeature, 1);
      feat->name = g_strdup (names_kept[f]);
      feat->h_after = feat->p_after = feat->eta2_after = NAN;
      g_ptr_array_add (r->features, feat);
    }
  statistics (r, r->before, FALSE);
  if (r->after->len > 0)
    statistics (r, r->after, TRUE);
  cu_progress_report (progress, 1.0, NULL);
  return g_steal_pointer (&r);
}

gboolean
cu_site_report_feature_reduced (const CuSiteReportFeature *f)
{
  return isfinite (f->eta2_after) && isfinite (f->eta2_before) && f->eta2_after < f->eta2_before &&
         (!isfinite (f->p_after) || f->p_after >= 0.05);
}

gboolean
cu_site_report_feature_remains (const CuSiteReportFeature *f)
{
  return isfinite (f->p_before) && f->p_before < 0.05 && isfinite (f->p_after) &&
         f->p_after < 0.05;
}

static void
add_number (JsonBuilder *b, const char *name, double v)
{
  json_builder_set_member_name (b, name);
  if (isfinite (v))
    json_builder_add_double_value (b, v);
  else
    json_builder_add_null_value (b);
}

static void
add_rows (JsonBuilder *b, const char *name, const CuSiteReport *r, GPtrArray *rows)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      CuSiteReportRow *row = rows->pdata[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "series_uid");
      json_builder_add_string_value (b, row->series_uid);
      json_builder_set_member_name (b, "source_series_uid");
      json_builder_add_string_value (b, row->source_uid);
      json_builder_set_member_name (b, "site");
      json_builder_add_string_value (b, row->site);
      json_builder_set_member_name (b, "vendor");
      json_builder_add_string_value (b, row->vendor);
      json_builder_set_member_name (b, "values");
      json_builder_begin_object (b);
      for (guint f = 0; f < r->features->len; f++)
        add_number (b, ((CuSiteReportFeature *) r->features->pdata[f])->name, row->values[f]);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

char *
cu_site_report_to_json (const CuSiteReport *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "sequence");
  json_builder_add_string_value (b, r->sequence);
  json_builder_set_member_name (b, "method");
  if (r->method != NULL)
    json_builder_add_string_value (b, r->method);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "sites");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->sites->len; i++)
    json_builder_add_string_value (b, r->sites->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "features");
  json_builder_begin_array (b);
  for (guint f = 0; f < r->features->len; f++)
    {
      CuSiteReportFeature *feat = r->features->pdata[f];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, feat->name);
      add_number (b, "kruskal_h_before", feat->h_before);
      add_number (b, "p_before", feat->p_before);
      add_number (b, "site_variance_share_before", feat->eta2_before);
      add_number (b, "kruskal_h_after", feat->h_after);
      add_number (b, "p_after", feat->p_after);
      add_number (b, "site_variance_share_after", feat->eta2_after);
      json_builder_set_member_name (b, "site_effect_removed");
      if (r->after->len > 0)
        json_builder_add_boolean_value (b, cu_site_report_feature_reduced (feat));
      else
        json_builder_add_null_value (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  add_rows (b, "before", r, r->before);
  add_rows (b, "after", r, r->after);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, TRUE);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-site-report.h — proof per site: the distribution of quality metrics and intensity
 * features of a cohort per site, before and after harmonization, with a batch-effect
 * statistic per feature (Kruskal–Wallis H across sites and the share of variance explained
 * by site).
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-store.h"
#include "cu-volume.h"

G_BEGIN_DECLS

typedef enum
{
  CU_SITE_BY_PATIENT_PREFIX,   /* the pseudonym's prefix before the first '-' ("SITEA-0001") */
  CU_SITE_BY_SCANNER,          /* manufacturer and model, as the quality gate records them */
} CuSiteBy;

typedef struct
{
  char *series_uid;
  char *source_uid;            /* the cohort series it was derived from (itself before) */
  char *site;
  char *vendor;
  double *values;              /* one per feature, NaN when undefined */
} CuSiteReportRow;

typedef struct
{
  char *name;
  double h_before, p_before, eta2_before;
  double h_after, p_after, eta2_after;     /* NaN without harmonized series */
} CuSiteReportFeature;

typedef struct
{
  char *sequence;
  char *method;                /* "zscore", "nyul"…, or NULL (before only) */
  GPtrArray *features;         /* CuSiteReportFeature */
  GPtrArray *before;           /* CuSiteReportRow */
  GPtrArray *after;            /* CuSiteReportRow */
  GPtrArray *sites;            /* char *, sorted */
} CuSiteReport;

/* Kruskal–Wallis H of n values in k groups (group[i] in 0…k-1), with the correction for ties;
 * *p (may be NULL) receives the χ² (k − 1 degrees of freedom) p-value. NaN values are left
 * out; NaN when fewer than two groups have values. Kruskal & Wallis, JASA 47:583–621, 1952. */
double        cu_kruskal_wallis        (const double *values, const int *group, guint n, guint k,
                                        double *p);
/* Share of the variance explained by group (η² = between-group sum of squares / total). */
double        cu_variance_share        (const double *values, const int *group, guint n, guint k);

/* The features of one volume on its foreground (the quality gate's Otsu mask): the MRQy
 * metrics and the foreground's median, 5th and 95th percentiles and IQR; names[] (static) and
 * values[] hold *n_features entries (caller frees values). */
double       *cu_site_report_features  (const CuVolume *volume, const char *const **names,
                                        guint *n_features);

/* The report of the cohort of `sequence` (the non-derived series the quality gate classified
 * so), and of each one's latest series harmonized with `method` (NULL: before only). */
CuSiteReport *cu_site_report_build     (CuStore      *store,
                                        const char   *sequence,
                                        const char   *method,
                                        CuSiteBy      site_by,
                                        CuProgress   *progress,
                                        GCancellable *cancellable,
                                        GError      **error);
void          cu_site_report_free      (CuSiteReport *report);
char         *cu_site_report_to_json   (const CuSiteReport *report);
/* TRUE when harmonization reduced the site effect of a feature: the share of variance
 * explained by site fell and the site difference is no longer significant (p ≥ 0.05). */
gboolean      cu_site_report_feature_reduced (const CuSiteReportFeature *feature);
/* TRUE when a feature differed between sites before (p < 0.05) and still does after
 * (p < 0.05): the harmonization did not remove its site effect. */
gboolean      cu_site_report_feature_remains (const CuSiteReportFeature *feature);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSiteReport, cu_site_report_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-agreement.c — inter-reader agreement (cu-seg-agreement.h).
 *
 * Methods: Dice, "Measures of the amount of ecologic association between species", Ecology
 * 26(3), 1945, doi:10.2307/1932409; the 95th-percentile Hausdorff distance as defined in
 * Taha & Hanbury, "Metrics for evaluating 3D medical image segmentation", BMC Med. Imaging 15,
 * 2015, doi:10.1186/s12880-015-0068-x (surface voxels: label voxels with a 6-neighbour
 * outside; distances from an exact EDT in mm, cu-seg-distance.c); Cohen, "A coefficient of
 * agreement for nominal scales", Educ. Psychol. Meas. 20(1), 1960,
 * doi:10.1177/001316446002000104. Lesions are matched greedily by decreasing Dice, any
 * overlap counting as a match (the usual detection criterion of lesion-level reader studies).
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-agreement.h"
#include "cu-seg-distance.h"
#include "cu-seg-terminology.h"

double
cu_seg_dice (const CuLabelMap *a, guint8 va, const CuLabelMap *b, guint8 vb)
{
  gsize n = cu_label_map_n_voxels (a), na = 0, nb = 0, both = 0;

  for (gsize v = 0; v < n; v++)
    {
      gboolean in_a = cu_label_map_has (a, v, va), in_b = cu_label_map_has (b, v, vb);
      na += in_a;
      nb += in_b;
      both += in_a && in_b;
    }
  if (na + nb == 0)
    return 1.0;
  return 2.0 * (double) both / (double) (na + nb);
}

static gboolean
is_surface (const CuLabelMap *m, guint8 value, int i, int j, int k)
{
  static const int nb[6][3] = { { 1, 0, 0 }, { -1, 0, 0 }, { 0, 1, 0 }, { 0, -1, 0 },
                                { 0, 0, 1 }, { 0, 0, -1 } };

  if (!cu_label_map_has (m, cu_label_map_index (m, i, j, k), value))
    return FALSE;
  for (int d = 0; d < 6; d++)
    {
      int a = i + nb[d][0], b = j + nb[d][1], c = k + nb[d][2];
      if (a < 0 || b < 0 || c < 0 || a >= m->dims[0] || b >= m->dims[1] || c >= m->dims[2])
        return TRUE;
      if (!cu_label_map_has (m, cu_label_map_index (m, a, b, c), value))
        return TRUE;
    }
  return FALSE;
}

static int
compare_float (const void *x, const void *y)
{
  float a = *(const float *) x, b = *(const float *) y;
  return (a > b) - (a < b);
}

/* 95th percentile of the distances from the surface of (from, vf) to the surface of (to, vt). */
static double
directed_p95 (const CuLabelMap *from, guint8 vf, const CuLabelMap *to, guint8 vt, gboolean *empty)
{
  gsize n = cu_label_map_n_voxels (to);
  g_autofree float *dist = g_new (float, n);
  g_autoptr(GArray) d = g_array_new (FALSE, FALSE, sizeof (float));
  gboolean any = FALSE;
  double pos;
  gsize lo, hi;
  const float *s;

  for (int k = 0; k < to->dims[2]; k++)
    for (int j = 0; j < to->dims[1]; j++)
      for (int i = 0; i < to->dims[0]; i++)
        {
          gboolean surf = is_surface (to, vt, i, j, k);
          dist[cu_label_map_index (to, i, j, k)] = surf ? 0.0f : G_MAXFLOAT;
          any |= surf;
        }
  if (!any)
    {
      *empty = TRUE;
      return NAN;
    }
  cu_seg_edt_squared (dist, to->dims, 3, to->geometry->spacing);
  for (int k = 0; k < from->dims[2]; k++)
    for (int j = 0; j < from->dims[1]; j++)
      for (int i = 0; i < from->dims[0]; i++)
        if (is_surface (from, vf, i, j, k))
          {
            float x = sqrtf (dist[cu_label_map_index (from, i, j, k)]);
            g_array_append_val (d, x);
          }
  if (d->len == 0)
    {
      *empty = TRUE;
      return NAN;
    }
  qsort (d->data, d->len, sizeof (float), compare_float);
  s = (const float *) d->data;
  pos = 0.95 * (double) (d->len - 1);
  lo = (gsize) floor (pos);
  hi = MIN (d->len - 1, lo + 1);
  return s[lo] + (pos - (double) lo) * (s[hi] - s[lo]);
}

double
cu_seg_hd95 (const CuLabelMap *a, guint8 va, const CuLabelMap *b, guint8 vb)
{
  gboolean empty = FALSE;
  double ab = directed_p95 (a, va, b, vb, &empty);
  double ba = empty ? NAN : directed_p95 (b, vb, a, va, &empty);

  if (empty)
    return NAN;
  return MAX (ab, ba);
}

double
cu_seg_cohen_kappa (const int *ra, const int *rb, guint n)
{
  int lo = G_MAXINT, hi = G_MININT, k;
  g_autofree double *pa = NULL, *pb = NULL;
  double po = 0, pe = 0;

  if (n == 0)
    return NAN;
  for (guint i = 0; i < n; i++)
    {
      lo = MIN (lo, MIN (ra[i], rb[i]));
      hi = MAX (hi, MAX (ra[i], rb[i]));
    }
  k = hi - lo + 1;
  pa = g_new0 (double, k);
  pb = g_new0 (double, k);
  for (guint i = 0; i < n; i++)
    {
      po += ra[i] == rb[i];
      pa[ra[i] - lo] += 1;
      pb[rb[i] - lo] += 1;
    }
  po /= n;
  for (int c = 0; c < k; c++)
    pe += (pa[c] / n) * (pb[c] / n);
  if (fabs (1.0 - pe) < 1e-12)
    return NAN;
  return (po - pe) / (1.0 - pe);
}

static void
label_agreement_clear (gpointer p)
{
  g_free (((CuSegLabelAgreement *) p)->name);
}

void
cu_seg_agreement_free (CuSegAgreement *agreement)
{
  if (agreement == NULL)
    return;
  g_array_unref (agreement->labels);
  g_array_unref (agreement->lesions);
  g_free (agreement);
}

static int
score_of (const CuLabelMap *m, guint8 value, const CuSegForm *form)
{
  const CuLabel *l = cu_label_map_get_label (m, value);
  return (form != NULL && l != NULL) ? cu_seg_form_get_score (form, l->form_json) : 0;
}

CuSegAgreement *
cu_seg_agreement_compute (const CuLabelMap *a, const CuLabelMap *b, const CuSegForm *form,
                          GError **error)
{
  CuSegAgreement *ag;
  gboolean in_a[256] = { FALSE }, in_b[256] = { FALSE };
  gboolean lesion_a[256] = { FALSE }, lesion_b[256] = { FALSE };
  gboolean used_a[256] = { FALSE }, used_b[256] = { FALSE };
  gsize n = cu_label_map_n_voxels (a);
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(GArray) ra = NULL, rb = NULL;

  if (!cu_label_map_same_grid (a, b->geometry))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID,
                   _("The two readings are not on the same grid"));
      return NULL;
    }
  ag = g_new0 (CuSegAgreement, 1);
  ag->labels = g_array_new (FALSE, TRUE, sizeof (CuSegLabelAgreement));
  g_array_set_clear_func (ag->labels, label_agreement_clear);
  ag->lesions = g_array_new (FALSE, TRUE, sizeof (CuSegLesionPair));

  for (gsize v = 0; v < cu_label_map_n_bytes (a); v++)
    in_a[a->data[v]] = TRUE;
  for (gsize v = 0; v < cu_label_map_n_bytes (b); v++)
    in_b[b->data[v]] = TRUE;
  for (guint i = 0; i < cu_label_map_get_n_labels (a); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (a, i);
      in_a[l->value] = TRUE;
      lesion_a[l->value] = cu_seg_label_is_lesion (l);
    }
  for (guint i = 0; i < cu_label_map_get_n_labels (b); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (b, i);
      in_b[l->value] = TRUE;
      lesion_b[l->value] = cu_seg_label_is_lesion (l);
    }

  /* Per label value. */
  for (int value = 1; value < 256; value++)
    {
      CuSegLabelAgreement la = { 0 };
      const CuLabel *l;

      if (!in_a[value] && !in_b[value])
        continue;
      la.value = (guint8) value;
      l = cu_label_map_get_label (a, (guint8) value);
      if (l == NULL)
        l = cu_label_map_get_label (b, (guint8) value);
      la.name = g_strdup (l != NULL ? l->name : "");
      la.n_a = cu_label_map_count (a, (guint8) value);
      la.n_b = cu_label_map_count (b, (guint8) value);
      la.dice = cu_seg_dice (a, (guint8) value, b, (guint8) value);
      la.hd95_mm = cu_seg_hd95 (a, (guint8) value, b, (guint8) value);
      g_array_append_val (ag->labels, la);
    }

  /* Lesions: every pair of lesion labels that overlap, best Dice first. */
  candidates = g_array_new (FALSE, FALSE, sizeof (CuSegLesionPair));
  {
    g_autofree guint32 *overlap = g_new0 (guint32, 256 * 256);
    /* Every pair of labels at a voxel, over the layers of both. */
    for (gsize v = 0; v < n; v++)
      for (int la = 0; la < a->n_layers; la++)
        {
          guint8 x = a->data[(gsize) la * n + v];
          if (x == 0)
            continue;
          for (int lb = 0; lb < b->n_layers; lb++)
            {
              guint8 y = b->data[(gsize) lb * n + v];
              if (y != 0)
                overlap[x * 256 + y]++;
            }
        }
    for (int x = 1; x < 256; x++)
      for (int y = 1; y < 256; y++)
        if (overlap[x * 256 + y] > 0 && lesion_a[x] && lesion_b[y])
          {
            CuSegLesionPair p = { (guint8) x, (guint8) y, 0, 0, 0 };
            p.dice = cu_seg_dice (a, (guint8) x, b, (guint8) y);
            g_array_append_val (candidates, p);
          }
  }
  while (candidates->len > 0)
    {
      guint best = 0;
      CuSegLesionPair p;

      for (guint c = 1; c < candidates->len; c++)
        if (g_array_index (candidates, CuSegLesionPair, c).dice
            > g_array_index (candidates, CuSegLesionPair, best).dice)
          best = c;
      p = g_array_index (candidates, CuSegLesionPair, best);
      g_array_remove_index (candidates, best);
      if (used_a[p.a_value] || used_b[p.b_value])
        continue;
      used_a[p.a_value] = used_b[p.b_value] = TRUE;
      p.score_a = score_of (a, p.a_value, form);
      p.score_b = score_of (b, p.b_value, form);
      g_array_append_val (ag->lesions, p);
      ag->n_matched++;
    }
  for (int x = 1; x < 256; x++)
    if (lesion_a[x] && !used_a[x])
      {
        CuSegLesionPair p = { (guint8) x, 0, 0, score_of (a, (guint8) x, form), 0 };
        g_array_append_val (ag->lesions, p);
      }
  for (int y = 1; y < 256; y++)
    if (lesion_b[y] && !used_b[y])
      {
        CuSegLesionPair p = { 0, (guint8) y, 0, 0, score_of (b, (guint8) y, form) };
        g_array_append_val (ag->lesions, p);
      }

  ra = g_array_new (FALSE, FALSE, sizeof (int));
  rb = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < ag->lesions->len; i++)
    {
      const CuSegLesionPair *p = &g_array_index (ag->lesions, CuSegLesionPair, i);
      if (p->score_a == 0 && p->score_b == 0)
        continue;
      g_array_append_val (ra, p->score_a);
      g_array_append_val (rb, p->score_b);
    }
  ag->n_scored = ra->len;
  ag->kappa = cu_seg_cohen_kappa ((const int *) ra->data, (const int *) rb->data, ra->len);
  return ag;
}

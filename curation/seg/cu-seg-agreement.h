/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-agreement.h — agreement between two readers' segmentations of one series: Dice and
 * 95th-percentile Hausdorff distance per label, lesion matching, Cohen's κ on lesion scores.
 */
#pragma once

#include "cu-label-map.h"
#include "cu-seg-form.h"

G_BEGIN_DECLS

typedef struct
{
  guint8 value;
  char *name;
  gsize n_a, n_b;          /* voxels in each reading */
  double dice;             /* 1 when both are empty */
  double hd95_mm;          /* NaN when one of them is empty */
} CuSegLabelAgreement;

typedef struct
{
  guint8 a_value, b_value; /* 0 when the lesion is missing in that reading */
  double dice;
  int score_a, score_b;    /* form score (e.g. PI-RADS category), 0 when none */
} CuSegLesionPair;

typedef struct
{
  GArray *labels;          /* CuSegLabelAgreement, by value */
  GArray *lesions;         /* CuSegLesionPair: matched pairs first, then unmatched */
  guint n_matched;
  double kappa;            /* Cohen's κ on scores over all lesions (missing = category 0); NaN if undefined */
  guint n_scored;
} CuSegAgreement;

/* Dice coefficient 2|A∩B| / (|A| + |B|) of label va in a and vb in b (1 when both empty). */
double           cu_seg_dice       (const CuLabelMap *a, guint8 va, const CuLabelMap *b, guint8 vb);
/* Symmetric 95th-percentile Hausdorff distance in mm between the surfaces (max of the two
 * directed 95th percentiles, as MedPy's hd95); NaN when either is empty. */
double           cu_seg_hd95       (const CuLabelMap *a, guint8 va, const CuLabelMap *b, guint8 vb);
/* Cohen's κ of two raters' integer categories; NaN when undefined (n = 0 or chance = 1). */
double           cu_seg_cohen_kappa (const int *ra, const int *rb, guint n);
/* Everything above; form may be NULL (no scores). Error when grids differ. */
CuSegAgreement  *cu_seg_agreement_compute (const CuLabelMap *a, const CuLabelMap *b,
                                           const CuSegForm *form, GError **error);
void             cu_seg_agreement_free    (CuSegAgreement *agreement);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSegAgreement, cu_seg_agreement_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-terminology.h — coded meanings for labels (lesion types and anatomic regions, DICOM
 * CID 7150/7151 style), from the terms.tsv of the packs (data/packs/README.md).
 */
#pragma once

#include "cu-label-map.h"
#include "cu-pack-set.h"

G_BEGIN_DECLS

typedef struct
{
  const char *id;            /* "lesion", "prostate-pz" … */
  const char *group;         /* "lesion" or "anatomy" */
  const char *name;          /* display name (English; cu_seg_term_get_display_name) */
  const char *category_code, *category_meaning;
  const char *type_code, *type_meaning;
  guint8 rgb[3];
  const char *category_scheme, *type_scheme;   /* "SCT", "DCM", a pack's 99… scheme */
  const char *pack_id;
} CuSegTerm;

/* The terms of the default packs (cu_pack_set_default), in pack and file order (owned by the
 * library; built once, thread-safe). */
const CuSegTerm *cu_seg_terminology_get (guint *n_terms);
const CuSegTerm *cu_seg_terminology_find (const char *id);
/* The terms of a set of packs (a workspace's), owned by the set's lifetime cache. */
const CuSegTerm *cu_seg_terminology_get_for  (CuPackSet *packs, guint *n_terms);
const CuSegTerm *cu_seg_terminology_find_in  (CuPackSet *packs, const char *id);
/* The term's name in the user's language, when the catalogue has it. */
const char      *cu_seg_term_get_display_name (const CuSegTerm *term);
/* Fill the coded fields (and the colour when set_color) of label from a term. */
void             cu_seg_term_apply      (const CuSegTerm *term, CuLabel *label, gboolean set_color);

G_END_DECLS

G_BEGIN_DECLS
/* Whether a label stands for a lesion: its term is in the "lesion" group, its category is
 * Morphologically Altered Structure (49755003), or it carries lesion form answers. */
gboolean         cu_seg_label_is_lesion (const CuLabel *label);
/* The label's name to show: its term's translated name when it carries the term's own name. */
const char      *cu_seg_label_get_display_name (const CuLabel *label);
G_END_DECLS

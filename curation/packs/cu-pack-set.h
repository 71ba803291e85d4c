/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-pack-set.h — the packs a workspace uses, combined: one eCRF layout (the variables of
 * every pack, in layout order, enums extended), one terminology, the forms, protocols and
 * rules of all. Immutable and reference-counted: a change of packs makes a new set.
 */
#pragma once

#include "cu-pack.h"

G_BEGIN_DECLS

typedef struct _CuPackSet CuPackSet;

/* Combine packs (CuPack, taken). Fails when a pack needs one that is not there, or two
 * define the same variable, term, form, protocol or rule, or a reference across packs (a
 * condition, an event date, an "enum+") names nothing. */
CuPackSet     *cu_pack_set_new              (GPtrArray *packs, GError **error);
/* Shipped packs by id (their Requires= are added first). */
CuPackSet     *cu_pack_set_new_builtin      (const char *const *ids, GError **error);
/* What a workspace without a choice uses: common + prostate (cached; do not unref). */
CuPackSet     *cu_pack_set_default          (void);
/* Every shipped pack (cached; do not unref): the columns any rule may name. */
CuPackSet     *cu_pack_set_all_builtin      (void);
CuPackSet     *cu_pack_set_ref              (CuPackSet *set);
void           cu_pack_set_unref            (CuPackSet *set);

guint          cu_pack_set_get_n_packs      (CuPackSet *set);
const CuPack  *cu_pack_set_get_pack         (CuPackSet *set, guint index);
const CuPack  *cu_pack_set_find_pack        (CuPackSet *set, const char *id);
/* "common;prostate": the ids, in dependency order. */
char          *cu_pack_set_describe         (CuPackSet *set);

/* Variables in layout order (CuPackVariable, borrowed) and NULL-terminated names. */
GPtrArray     *cu_pack_set_get_variables    (CuPackSet *set);
const char *const *cu_pack_set_get_variable_names (CuPackSet *set);
const CuPackVariable *cu_pack_set_find_variable (CuPackSet *set, const char *name);
GPtrArray     *cu_pack_set_get_terms        (CuPackSet *set);   /* CuPackTerm */
const CuPackTerm *cu_pack_set_find_term     (CuPackSet *set, const char *id);
GPtrArray     *cu_pack_set_get_forms        (CuPackSet *set);   /* CuPackFile */
const CuPackFile *cu_pack_set_find_form     (CuPackSet *set, const char *id);
GPtrArray     *cu_pack_set_get_protocols    (CuPackSet *set);   /* CuPackFile */
const CuPackFile *cu_pack_set_find_protocol (CuPackSet *set, const char *id);
GPtrArray     *cu_pack_set_get_rules        (CuPackSet *set);   /* CuPackFile */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuPackSet, cu_pack_set_unref)

G_END_DECLS

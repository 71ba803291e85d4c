/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-packs.h — the project packs a workspace uses (cu-pack-set.h): its eCRF variables,
 * terms, forms, protocols and rules. Shipped packs are used from Curata; a project's own pack
 * is copied into the workspace (packs/ID/) so that the workspace carries what it was
 * checked with. Changing packs is audited ("packs").
 */
#pragma once

#include "cu-store.h"
#include "cu-pack-set.h"

G_BEGIN_DECLS

typedef struct
{
  char *id;
  char *origin;     /* "built-in" or "workspace" */
  char *version;
} CuStorePack;

void       cu_store_pack_free (CuStorePack *pack);

/* The workspace's packs (a new reference). Never NULL: a workspace whose packs cannot be read
 * (a pack folder removed by hand) falls back to the default packs, with a warning. */
CuPackSet *cu_store_get_packs    (CuStore *self);
/* The same, or NULL with the reason. */
CuPackSet *cu_store_load_packs   (CuStore *self, GError **error);
/* The chosen packs, in order (CuStorePack). */
GPtrArray *cu_store_list_packs   (CuStore *self, GError **error);
/* Add a shipped pack by id, or a pack folder (checked, then copied into the workspace; a pack
 * of the same id in the workspace is replaced). The packs it requires are added too. The
 * combination must load, or nothing changes. *added_id: the pack's id. */
gboolean   cu_store_add_pack     (CuStore *self, const char *id_or_folder, char **added_id,
                                  GError **error);
/* Remove a pack; refused for "common" and when another chosen pack requires it. */
gboolean   cu_store_remove_pack  (CuStore *self, const char *id, GError **error);

G_END_DECLS

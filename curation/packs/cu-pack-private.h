/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-pack-private.h — the parts of the pack loader shared between its files.
 */
#pragma once

#include "cu-pack.h"

G_BEGIN_DECLS

void            _cu_pack_fail               (GError **error, const char *file, guint line,
                                             const char *field, const char *format, ...)
                                             G_GNUC_PRINTF (5, 6);
guint           _cu_pack_find_line          (const char *text, const char *prefix, guint from);
guint           _cu_pack_line_of            (const char *text, const char *needle);
gboolean        _cu_pack_is_id              (const char *s);
gboolean        _cu_pack_scheme_known       (const char *scheme);
int             _cu_pack_compare_strv_items (gconstpointer a, gconstpointer b, gpointer data);
void            _cu_pack_variable_free      (CuPackVariable *v);
CuPackVariable *_cu_pack_variable_copy      (const CuPackVariable *v);

gboolean _cu_pack_parse_ecrf       (CuPack *pack, const char *text, const char *shown, GError **error);
gboolean _cu_pack_parse_terms      (CuPack *pack, const char *text, const char *shown, GError **error);
gboolean _cu_pack_parse_unverified (CuPack *pack, const char *text, const char *shown, GError **error);
gboolean _cu_pack_check_form       (CuPack *pack, const char *text, const char *shown, char **id,
                                    GError **error);
gboolean _cu_pack_check_protocol   (CuPack *pack, const char *text, const char *shown, char **id,
                                    GError **error);
gboolean _cu_pack_check_codes      (CuPack *pack, GError **error);

G_END_DECLS

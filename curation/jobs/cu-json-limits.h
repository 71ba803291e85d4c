/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-json-limits.h — a check of JSON text from outside before json-glib parses it.
 *
 * json-glib's parser recurses once per level of nesting, so a file nested a hundred thousand
 * levels deep overflows the stack before anything could look at it. Curata's own JSON files
 * (bundle and export manifests) are a few levels deep: the text is checked first, without
 * recursion.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when text is one JSON object or array (white space around it only), made of JSON
 * tokens only (RFC 8259: double-quoted strings, no comments,
 * no single quotes — json-glib's scanner is more lenient) with arrays and objects nested at
 * most max_depth deep. Strict tokens are what makes the count here the nesting the parser
 * will see: nothing it could read as a string or a comment hides a bracket from it. Otherwise
 * FALSE with *reason (translated, to be prefixed with the file's name; free with g_free). */
gboolean cu_json_text_within (const char *text, gsize len, guint max_depth, char **reason);

G_END_DECLS

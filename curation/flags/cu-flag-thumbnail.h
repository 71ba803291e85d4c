/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-thumbnail.h — a PNG thumbnail of a flagged series for the site's report, drawn from
 * decoded pixels only (no header value burned in).
 */
#pragma once

#include "cu-store.h"

G_BEGIN_DECLS

/* The slice at lps (LPS mm, marked with a cross), or the middle slice when lps is NULL, of
 * the series' main stack; the longer side max_size pixels. Fails with the loader's error
 * when the series cannot be decoded. */
GBytes *cu_flag_thumbnail_png (CuStore *store, const char *series_uid, const double *lps,
                               int max_size, GError **error);

G_END_DECLS

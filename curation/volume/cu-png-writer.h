/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-png-writer.h — an RGBA8 image written as a PNG file, with zlib only (no GTK, so that
 * curata-cli can write snapshots, and the site bundle thumbnails).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Rows top to bottom, stride bytes apart. The file is replaced atomically; errors are in
 * G_FILE_ERROR (I/O) or G_IO_ERROR_INVALID_ARGUMENT (bad size). */
gboolean cu_png_write_rgba (const char *path, const guint8 *rgba, int width, int height,
                            gsize stride, GError **error);

/* The same, as the PNG file's bytes. */
GBytes  *cu_png_encode_rgba (const guint8 *rgba, int width, int height, gsize stride,
                             GError **error);

G_END_DECLS

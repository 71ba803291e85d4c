/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-demo.h — the built-in demo study: a pseudonymized synthetic MR-like phantom written as
 * DICOM by Curata itself, plus a small clinical CSV.
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"

G_BEGIN_DECLS

/* Write the demo study into dir (created if needed): two series of one study with different
 * orientation/resolution, proper geometry tags, PatientIdentityRemoved=YES, and
 * clinical.csv. Returns the list of files written (NULL-terminated) or NULL with error. */
char **cu_demo_write (const char *dir, CuProgress *progress, GError **error);

G_END_DECLS

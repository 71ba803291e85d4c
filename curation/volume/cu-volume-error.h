/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume-error.h — error domain for volumes and NIfTI I/O.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_VOLUME_ERROR (cu_volume_error_quark ())

typedef enum
{
  CU_VOLUME_ERROR_INVALID,
  CU_VOLUME_ERROR_TOO_LARGE,
  CU_VOLUME_ERROR_IO,
} CuVolumeError;

GQuark cu_volume_error_quark (void);

G_END_DECLS

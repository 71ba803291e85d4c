/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-denoise-error.h — error domain for the filters in curation/denoise/.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_DENOISE_ERROR (cu_denoise_error_quark ())

typedef enum
{
  CU_DENOISE_ERROR_INVALID,   /* a parameter out of range, or a volume without voxels */
  CU_DENOISE_ERROR_FAILED,    /* the input cannot be processed (e.g. no noise to estimate) */
} CuDenoiseError;

GQuark cu_denoise_error_quark (void);

G_END_DECLS

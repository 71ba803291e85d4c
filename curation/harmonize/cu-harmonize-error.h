/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize-error.h — error domain for curation/harmonize/.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_HARMONIZE_ERROR (cu_harmonize_error_quark ())

typedef enum
{
  CU_HARMONIZE_ERROR_INVALID,       /* a parameter out of range */
  CU_HARMONIZE_ERROR_NO_GEOMETRY,   /* the series has no patient geometry (position/orientation) */
  CU_HARMONIZE_ERROR_4D,            /* more than one volume (time points, b-values, echoes) */
  CU_HARMONIZE_ERROR_EMPTY_MASK,    /* the foreground mask holds no voxel (or too few) */
  CU_HARMONIZE_ERROR_MODALITY,      /* the method does not apply to the modality (CT asked for N4) */
  CU_HARMONIZE_ERROR_FAILED,        /* the input cannot be processed (e.g. a flat histogram) */
} CuHarmonizeError;

GQuark cu_harmonize_error_quark (void);

G_END_DECLS

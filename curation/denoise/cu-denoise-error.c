/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-denoise-error.c — error domain for the filters in curation/denoise/.
 */
#include "config.h"

#include "cu-denoise-error.h"

G_DEFINE_QUARK (cu-denoise-error-quark, cu_denoise_error)

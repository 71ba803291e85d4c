/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-harmonize-error.c — error domain for curation/harmonize/.
 */
#include "config.h"

#include "cu-harmonize-error.h"

G_DEFINE_QUARK (cu-harmonize-error-quark, cu_harmonize_error)

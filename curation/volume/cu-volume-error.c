/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-volume-error.c
 */
#include "cu-volume-error.h"

G_DEFINE_QUARK (cu-volume-error-quark, cu_volume_error)

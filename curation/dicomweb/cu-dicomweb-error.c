/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-error.c — the error domain of curation/dicomweb/.
 */
#include "config.h"

#include "cu-dicomweb-error.h"

G_DEFINE_QUARK (cu-dicomweb-error-quark, cu_dicomweb_error)

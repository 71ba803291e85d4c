/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flags-private.h — what cu-flags.c shares with cu-flag-bundle.c. Used only inside
 * curation/flags/ and by tests.
 */
#pragma once

#include "cu-flags.h"

G_BEGIN_DECLS

/* Change state (or only record when to == current and allow_same) with the answer fields of
 * a site's reply; no transaction of its own. */
gboolean _cu_flags_transition (CuStore *store, gint64 id, CuFlagState to, const char *comment,
                               const char *answer, const char *corrected_value,
                               const char *bundle_id, gboolean allow_same, GError **error);
/* The rule run and reconciliation, inside a transaction the caller holds. */
CuFlagCheckReport *_cu_flags_check_locked (CuStore *store, GError **error);

/* Inside the check's transaction: the active pseudonymization flags (kind "deid") whose
 * study is no longer quarantined are resolved, and every quarantined study gets one, unless a
 * curator accepted or withdrew its flag before; the flags opened are added to report
 * (cu-flag-sources.c). */
gboolean _cu_flags_sync_deid (CuStore *store, CuFlagCheckReport *report, GError **error);

G_END_DECLS

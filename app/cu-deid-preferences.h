/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-deid-preferences.h — the workspace's pseudonymization check settings: PS3.15 profile
 * options and the pseudonym pattern.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_TYPE_DEID_PREFERENCES (cu_deid_preferences_get_type ())
G_DECLARE_FINAL_TYPE (CuDeidPreferences, cu_deid_preferences, CU, DEID_PREFERENCES, AdwWindow)

/* Shows store's configuration; "Save" stores it (cu_store_set_deid_config: the gates become
 * pending) and emits "applied", after which the caller checks the workspace again. */
CuDeidPreferences *cu_deid_preferences_new (GtkWindow *parent, CuStore *store);

/* The options the check boxes say, and the pattern typed (NULL when empty); for tests. */
CuDeidOptions      cu_deid_preferences_get_options (CuDeidPreferences *self);
void               cu_deid_preferences_set_option  (CuDeidPreferences *self, CuDeidOptions option,
                                                    gboolean active);
/* Whether Save is possible: something changed and the pattern is a valid expression. */
gboolean           cu_deid_preferences_can_apply   (CuDeidPreferences *self);
/* Save, as the button does; FALSE with the reason shown in the window when refused. */
gboolean           cu_deid_preferences_apply       (CuDeidPreferences *self);

G_END_DECLS

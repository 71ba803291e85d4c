/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-application.h — the Curata GTK application: `curata [--workspace DIR] [--open-demo]`.
 */
#pragma once

#include <adwaita.h>

#include "curation.h"

G_BEGIN_DECLS

#define CU_TYPE_APPLICATION (cu_application_get_type ())
G_DECLARE_FINAL_TYPE (CuApplication, cu_application, CU, APPLICATION, AdwApplication)

CuApplication *cu_application_new       (void);
CuStore       *cu_application_get_store (CuApplication *self);

/* cu-application-actions.c */
void _cu_application_init_actions (CuApplication *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-withdraw.c — withdrawal of consent (cu-release.h). */
#include "config.h"

#include "cu-release.h"

gboolean
cu_release_withdraw (CuStore *store, const char *patient_id, const char *reason, GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return FALSE;
}

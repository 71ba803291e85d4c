/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-ledger.c — the release secret, digests, the ledger and kept date offsets. */
#include "config.h"

#include "cu-release.h"

char *
cu_release_digest (CuStore *store, const char *kind, const void *data, gsize len, GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return NULL;
}

char *
cu_release_pixel_digest (CuStore *store, const char *sop_instance_uid, GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return NULL;
}

gboolean
cu_release_mark_written (CuStore *store, const char *name, const char *written_to,
                         const char *manifest_sha256, const GArray *entries, GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return FALSE;
}

gboolean
cu_release_patient_offset (CuStore *store, const char *patient_id, const char *patient_name,
                           int *offset_days, GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return FALSE;
}

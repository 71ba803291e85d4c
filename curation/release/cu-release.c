/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release.c — the release model: create, get, list, add, remove (cu-release.h). */
#include "config.h"

#include "cu-release.h"

G_DEFINE_QUARK (cu-release-error-quark, cu_release_error)

const char *
cu_release_mode_to_string (CuReleaseMode mode)
{
  return mode == CU_RELEASE_PSEUDONYMIZED ? "pseudonymized" : "anonymized";
}

gboolean
cu_release_mode_from_string (const char *text, CuReleaseMode *mode)
{
  if (g_strcmp0 (text, "anonymized") == 0)
    *mode = CU_RELEASE_ANONYMIZED;
  else if (g_strcmp0 (text, "pseudonymized") == 0)
    *mode = CU_RELEASE_PSEUDONYMIZED;
  else
    return FALSE;
  return TRUE;
}

void
cu_release_free (CuRelease *release)
{
  if (release == NULL)
    return;
  g_free (release->name);
  g_free (release->created_by);
  g_free (release->created_at);
  g_free (release->written_at);
  g_free (release->written_to);
  g_free (release->manifest_sha256);
  g_strfreev (release->items);
  g_free (release);
}

static gboolean
not_yet (GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return FALSE;
}

CuRelease *
cu_release_create (CuStore *store, const char *name, CuReleaseMode mode, gboolean shift_dates,
                   GError **error)
{
  not_yet (error);
  return NULL;
}

CuRelease *
cu_release_get (CuStore *store, const char *name, GError **error)
{
  not_yet (error);
  return NULL;
}

GPtrArray *
cu_release_list (CuStore *store, GError **error)
{
  not_yet (error);
  return NULL;
}

gboolean
cu_release_add (CuStore *store, const char *name, const char *const *items, GError **error)
{
  return not_yet (error);
}

gboolean
cu_release_remove (CuStore *store, const char *name, const char *const *items, GError **error)
{
  return not_yet (error);
}

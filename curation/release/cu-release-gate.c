/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-gate.c — the release gate: what of a release goes and what is held back, and why. */
#include "config.h"

#include "cu-release.h"

const char *
cu_release_hold_kind_to_string (CuReleaseHoldKind kind)
{
  static const char *const names[] = {
    [CU_RELEASE_HOLD_DEID] = "deid",
    [CU_RELEASE_HOLD_SUPERSEDED] = "superseded",
    [CU_RELEASE_HOLD_QC_REJECTED] = "qc-rejected",
    [CU_RELEASE_HOLD_QC_NOT_REVIEWED] = "qc-not-reviewed",
    [CU_RELEASE_HOLD_QC_ASK_SITE] = "qc-ask-site",
    [CU_RELEASE_HOLD_INVALID] = "invalid",
    [CU_RELEASE_HOLD_FLAG] = "flag",
    [CU_RELEASE_HOLD_INCLUSION] = "inclusion",
    [CU_RELEASE_HOLD_WITHDRAWN] = "withdrawn",
    [CU_RELEASE_HOLD_ALREADY_SENT] = "already-sent",
    [CU_RELEASE_HOLD_RESENT] = "resent",
  };
  if ((guint) kind < G_N_ELEMENTS (names))
    return names[kind];
  return "unknown";
}

void
cu_release_plan_free (CuReleasePlan *plan)
{
  if (plan == NULL)
    return;
  cu_release_free (plan->release);
  g_clear_pointer (&plan->patients, g_ptr_array_unref);
  g_strfreev (plan->withdrawn);
  g_free (plan);
}

gboolean
cu_release_plan_has_holds (const CuReleasePlan *plan)
{
  return plan->n_series_held > 0;
}

JsonNode *
cu_release_plan_to_json (const CuReleasePlan *plan)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

CuReleasePlan *
cu_release_check (CuStore *store, const char *name, CuProgress *progress,
                  GCancellable *cancellable, GError **error)
{
  g_set_error_literal (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_NOT_FOUND, "not implemented yet");
  return NULL;
}

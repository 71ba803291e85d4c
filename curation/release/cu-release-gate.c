/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-gate.c — the release gate: per patient, study and series of a release, what goes
 * and what is held back, and why (cu-release.h lists the conditions).
 *
 * Everything is read again from the workspace on each call, and every condition is evaluated
 * at every level, so that one check shows the curator all there is to fix rather than the first
 * obstacle. A series goes only when it, its study and its patient hold nothing.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-flag-rules.h"
#include "cu-flags.h"
#include "cu-release-private.h"
#include "cu-series-plan.h"
#include "cu-store-qc.h"

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

/* ---- Plan structures ---------------------------------------------------------------- */

static void
hold_free (CuReleaseHold *hold)
{
  if (hold == NULL)
    return;
  g_free (hold->message);
  g_free (hold->target);
  g_free (hold);
}

static void
add_hold (GPtrArray *holds, CuReleaseHoldKind kind, const char *target, gint64 flag_id,
          char *message)
{
  CuReleaseHold *hold = g_new0 (CuReleaseHold, 1);

  hold->kind = kind;
  hold->message = message;
  hold->target = g_strdup (target);
  hold->flag_id = flag_id;
  g_ptr_array_add (holds, hold);
}

static void
series_plan_free (CuReleaseSeriesPlan *s)
{
  if (s == NULL)
    return;
  g_free (s->series_uid);
  g_free (s->modality);
  g_free (s->description);
  g_clear_pointer (&s->holds, g_ptr_array_unref);
  g_free (s);
}

static void
study_plan_free (CuReleaseStudyPlan *s)
{
  if (s == NULL)
    return;
  g_free (s->study_uid);
  g_free (s->study_date);
  g_free (s->override_reason);
  g_free (s->override_user);
  g_free (s->override_time);
  g_clear_pointer (&s->holds, g_ptr_array_unref);
  g_clear_pointer (&s->series, g_ptr_array_unref);
  g_free (s);
}

static void
patient_plan_free (CuReleasePatientPlan *p)
{
  if (p == NULL)
    return;
  g_free (p->patient_id);
  g_free (p->patient_name);
  g_clear_pointer (&p->holds, g_ptr_array_unref);
  g_clear_pointer (&p->studies, g_ptr_array_unref);
  g_free (p);
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
  g_return_val_if_fail (plan != NULL, FALSE);

  for (guint i = 0; i < plan->patients->len; i++)
    {
      const CuReleasePatientPlan *p = plan->patients->pdata[i];

      if (!p->go || p->holds->len > 0)
        return TRUE;
      for (guint k = 0; k < p->studies->len; k++)
        {
          const CuReleaseStudyPlan *st = p->studies->pdata[k];

          if (!st->go || st->holds->len > 0)
            return TRUE;
          for (guint s = 0; s < st->series->len; s++)
            if (!((CuReleaseSeriesPlan *) st->series->pdata[s])->go)
              return TRUE;
        }
    }
  return FALSE;
}

/* ---- JSON --------------------------------------------------------------------------- */

static void
set_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_holds_json (JsonBuilder *b, GPtrArray *holds)
{
  json_builder_set_member_name (b, "holds");
  json_builder_begin_array (b);
  for (guint i = 0; i < holds->len; i++)
    {
      const CuReleaseHold *h = holds->pdata[i];

      json_builder_begin_object (b);
      set_string (b, "kind", cu_release_hold_kind_to_string (h->kind));
      set_string (b, "message", h->message);
      set_string (b, "target", h->target);
      if (h->flag_id != 0)
        {
          json_builder_set_member_name (b, "flag_id");
          json_builder_add_int_value (b, h->flag_id);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

JsonNode *
cu_release_plan_to_json (const CuReleasePlan *plan)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const CuRelease *r = plan->release;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "release");
  json_builder_begin_object (b);
  set_string (b, "name", r->name);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, r->version);
  set_string (b, "mode", cu_release_mode_to_string (r->mode));
  json_builder_set_member_name (b, "shift_dates");
  json_builder_add_boolean_value (b, r->shift_dates);
  set_string (b, "written_at", r->written_at);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "has_holds");
  json_builder_add_boolean_value (b, cu_release_plan_has_holds (plan));
  json_builder_set_member_name (b, "counts");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "patients_go");
  json_builder_add_int_value (b, plan->n_patients_go);
  json_builder_set_member_name (b, "studies_go");
  json_builder_add_int_value (b, plan->n_studies_go);
  json_builder_set_member_name (b, "series_go");
  json_builder_add_int_value (b, plan->n_series_go);
  json_builder_set_member_name (b, "instances_go");
  json_builder_add_int_value (b, plan->n_instances_go);
  json_builder_set_member_name (b, "series_held");
  json_builder_add_int_value (b, plan->n_series_held);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "withdrawn");
  json_builder_begin_array (b);
  for (guint i = 0; plan->withdrawn != NULL && plan->withdrawn[i] != NULL; i++)
    json_builder_add_string_value (b, plan->withdrawn[i]);
  json_builder_end_array (b);

  json_builder_set_member_name (b, "patients");
  json_builder_begin_array (b);
  for (guint i = 0; i < plan->patients->len; i++)
    {
      const CuReleasePatientPlan *p = plan->patients->pdata[i];

      json_builder_begin_object (b);
      set_string (b, "patient_id", p->patient_id);
      set_string (b, "patient_name", p->patient_name);
      json_builder_set_member_name (b, "go");
      json_builder_add_boolean_value (b, p->go);
      add_holds_json (b, p->holds);
      json_builder_set_member_name (b, "studies");
      json_builder_begin_array (b);
      for (guint k = 0; k < p->studies->len; k++)
        {
          const CuReleaseStudyPlan *st = p->studies->pdata[k];

          json_builder_begin_object (b);
          set_string (b, "study_uid", st->study_uid);
          set_string (b, "study_date", st->study_date);
          json_builder_set_member_name (b, "go");
          json_builder_add_boolean_value (b, st->go);
          json_builder_set_member_name (b, "override");
          if (st->override_reason != NULL)
            {
              json_builder_begin_object (b);
              set_string (b, "reason", st->override_reason);
              set_string (b, "user", st->override_user);
              set_string (b, "time", st->override_time);
              json_builder_end_object (b);
            }
          else
            json_builder_add_null_value (b);
          add_holds_json (b, st->holds);
          json_builder_set_member_name (b, "series");
          json_builder_begin_array (b);
          for (guint s = 0; s < st->series->len; s++)
            {
              const CuReleaseSeriesPlan *se = st->series->pdata[s];

              json_builder_begin_object (b);
              set_string (b, "series_uid", se->series_uid);
              json_builder_set_member_name (b, "series_number");
              json_builder_add_int_value (b, se->series_number);
              set_string (b, "modality", se->modality);
              set_string (b, "description", se->description);
              json_builder_set_member_name (b, "n_instances");
              json_builder_add_int_value (b, se->n_instances);
              json_builder_set_member_name (b, "derived");
              json_builder_add_boolean_value (b, se->derived);
              json_builder_set_member_name (b, "go");
              json_builder_add_boolean_value (b, se->go);
              add_holds_json (b, se->holds);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- The check ---------------------------------------------------------------------- */

typedef struct
{
  CuStore *store;
  CuRelease *release;
  GHashTable *inclusion;     /* person_id → GPtrArray of CuRuleFinding (borrowed) */
  GPtrArray *findings;       /* owns the CuRuleFinding */
  gboolean check_pixels;     /* the ledger holds pixel digests at all */
  GCancellable *cancellable;
} Check;

static CuReleasePatientPlan *
find_or_add_patient (GPtrArray *patients, const char *id, const char *name)
{
  CuReleasePatientPlan *p;

  for (guint i = 0; i < patients->len; i++)
    {
      p = patients->pdata[i];
      if (strcmp (p->patient_id, id) == 0 && strcmp (p->patient_name, name) == 0)
        return p;
    }
  p = g_new0 (CuReleasePatientPlan, 1);
  p->patient_id = g_strdup (id);
  p->patient_name = g_strdup (name);
  p->holds = g_ptr_array_new_with_free_func ((GDestroyNotify) hold_free);
  p->studies = g_ptr_array_new_with_free_func ((GDestroyNotify) study_plan_free);
  g_ptr_array_add (patients, p);
  return p;
}

/* The patients and studies the release's items name, in item order, each study once. */
static gboolean
collect_items (Check *c, GPtrArray *patients, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  sqlite3_stmt *stmt;
  int rc = SQLITE_DONE;

  g_autoptr (GHashTable) matched = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  stmt = _cu_store_prepare (c->store->db,
                            "SELECT p.patient_id, p.patient_name, st.study_uid, st.study_date,"
                            " it.item"
                            " FROM release_item it"
                            " JOIN study st ON (it.kind = 'study' AND st.study_uid = it.item)"
                            " OR (it.kind = 'patient' AND st.patient_ref IN"
                            "     (SELECT id FROM patient WHERE patient_id = it.item))"
                            " JOIN patient p ON p.id = st.patient_ref"
                            " WHERE it.release_ref = ?1"
                            " ORDER BY it.id, st.study_date, st.study_uid", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, c->release->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *id = (const char *) sqlite3_column_text (stmt, 0);
      const char *name = (const char *) sqlite3_column_text (stmt, 1);
      const char *uid = (const char *) sqlite3_column_text (stmt, 2);
      CuReleasePatientPlan *p;
      CuReleaseStudyPlan *st;

      g_hash_table_add (matched, _cu_release_col_text (stmt, 4));
      if (g_hash_table_contains (seen, uid))
        continue;
      p = find_or_add_patient (patients, id, name);
      st = g_new0 (CuReleaseStudyPlan, 1);
      st->study_uid = g_strdup (uid);
      st->study_date = _cu_release_col_text (stmt, 3);
      st->holds = g_ptr_array_new_with_free_func ((GDestroyNotify) hold_free);
      st->series = g_ptr_array_new_with_free_func ((GDestroyNotify) series_plan_free);
      g_ptr_array_add (p->studies, st);
      g_hash_table_add (seen, st->study_uid);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (c->store->db, error, _("Reading the release failed"));
      return FALSE;
    }

  /* An item whose studies were removed from the catalog since it was added is not dropped in
   * silence: it holds the release until a curator removes it. */
  for (guint i = 0; c->release->items[i] != NULL; i++)
    {
      const char *item = c->release->items[i];
      CuReleasePatientPlan *p;

      if (g_hash_table_contains (matched, item))
        continue;
      p = find_or_add_patient (patients, item, "");
      add_hold (p->holds, CU_RELEASE_HOLD_INVALID, item, 0,
                g_strdup_printf (_("%s is no longer in the workspace: remove it from the "
                                   "release"), item));
    }
  return TRUE;
}

static gboolean
has_clinical_data (CuStore *store, const char *patient_id)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT 1 FROM clinical_person WHERE person_id = ?1",
                                          NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, patient_id, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return found;
}

static gboolean
check_patient (Check *c, CuReleasePatientPlan *p, GError **error)
{
  g_autofree char *digest = cu_release_patient_digest (c->store, p->patient_id, p->patient_name,
                                                       error);
  g_autofree char *reason = NULL;
  g_autofree char *time = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) flags = NULL;
  g_autoptr (CuLedgerHit) hit = NULL;
  GPtrArray *rows;
  CuFlagFilter filter = { 0 };

  if (digest == NULL)
    return FALSE;

  if (_cu_release_find_withdrawal (c->store, p->patient_id, digest, &reason, &time, &local))
    add_hold (p->holds, CU_RELEASE_HOLD_WITHDRAWN, p->patient_id, 0,
              /* Translators: %s: the pseudonym, the date, the reason given */
              g_strdup_printf (_("Patient %s withdrew consent on %.10s (%s): never released "
                                 "again"), p->patient_id, time, reason));
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  /* Anonymized: the patient may never go twice. Pseudonymized: later time points of a patient
   * sent pseudonymized may follow, but not of one sent anonymized (the receiver would hold two
   * people that are one, and no key can join them). */
  hit = _cu_release_ledger_find (c->store, "patient", digest,
                                 c->release->mode == CU_RELEASE_ANONYMIZED ? -1
                                 : CU_RELEASE_ANONYMIZED, &local);
  if (hit != NULL)
    {
      g_autofree char *earlier = _cu_ledger_hit_describe (hit);
      add_hold (p->holds, CU_RELEASE_HOLD_ALREADY_SENT, hit->name, 0,
                /* Translators: %s: the pseudonym; the earlier release (name, version, date);
                 * its mode ("anonymized") */
                g_strdup_printf (_("Patient %s was released in %s (%s): a patient is never "
                                   "sent twice"), p->patient_id, earlier,
                                 cu_release_mode_to_string (hit->mode)));
    }
  else if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }

  filter.person_id = p->patient_id;
  filter.state = "active";
  filter.severity = "error";
  flags = cu_flags_list (c->store, &filter, error);
  if (flags == NULL)
    return FALSE;
  for (guint i = 0; i < flags->len; i++)
    {
      const CuFlag *f = flags->pdata[i];
      g_autofree char *target = NULL;

      /* A pseudonymization flag asks the site to send a quarantined study again: the gate
       * holds that study, and the patient's other studies may go. */
      if (f->kind == CU_FLAG_KIND_DEID)
        continue;
      target = g_strdup_printf ("%" G_GINT64_FORMAT, f->id);
      add_hold (p->holds, CU_RELEASE_HOLD_FLAG, target, f->id,
                /* Translators: an open consistency flag holds a patient back: the rule id, the
                 * flag number, its state ("Open"…), its message */
                g_strdup_printf (_("Error flag %s #%lld is %s: %s"), f->rule_id,
                                 (long long) f->id, cu_flag_state_to_label (f->state), f->message));
    }

  rows = g_hash_table_lookup (c->inclusion, p->patient_id);
  for (guint i = 0; rows != NULL && i < rows->len; i++)
    {
      const CuRuleFinding *f = rows->pdata[i];
      add_hold (p->holds, CU_RELEASE_HOLD_INCLUSION, f->rule_id, 0,
                /* Translators: an inclusion rule does not hold: its id, its title, why */
                g_strdup_printf (_("Inclusion rule %s (%s) is not met: %s"), f->rule_id, f->title,
                                 f->message));
    }
  if (c->release->mode == CU_RELEASE_ANONYMIZED && !has_clinical_data (c->store, p->patient_id))
    add_hold (p->holds, CU_RELEASE_HOLD_INCLUSION, NULL, 0,
              g_strdup_printf (_("Patient %s has no clinical data: an anonymized release sends "
                                 "only complete cases, as nothing can be added to them later"),
                               p->patient_id));
  return TRUE;
}

static gboolean
check_study (Check *c, CuReleaseStudyPlan *st, GError **error)
{
  g_autofree char *reason = NULL;
  g_autofree char *digest = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (CuLedgerHit) hit = NULL;
  CuGateState state = CU_GATE_PENDING;

  if (!cu_store_study_may_leave (c->store, st->study_uid, &state, &reason))
    add_hold (st->holds, state == CU_GATE_SUPERSEDED ? CU_RELEASE_HOLD_SUPERSEDED
                                                     : CU_RELEASE_HOLD_DEID,
              st->study_uid, 0,
              /* Translators: %s: the StudyInstanceUID, then why its pseudonymization gate
               * holds it */
              g_strdup_printf (_("Study %s stays: %s"), st->study_uid, reason));
  else if (state == CU_GATE_OVERRIDDEN)
    {
      g_autoptr (CuStudyGate) gate = cu_store_get_study_gate (c->store, st->study_uid, NULL);
      if (gate != NULL)
        {
          st->override_reason = g_strdup (gate->reason);
          st->override_user = g_strdup (gate->user);
          st->override_time = g_strdup (gate->time);
        }
    }

  digest = cu_release_digest (c->store, "study", st->study_uid, strlen (st->study_uid), error);
  if (digest == NULL)
    return FALSE;
  hit = _cu_release_ledger_find (c->store, "study", digest, -1, &local);
  if (hit != NULL)
    {
      g_autofree char *earlier = _cu_ledger_hit_describe (hit);
      add_hold (st->holds, CU_RELEASE_HOLD_ALREADY_SENT, hit->name, 0,
                g_strdup_printf (_("Study %s was released in %s: a study is never sent twice"),
                                 st->study_uid, earlier));
    }
  else if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

/* The curator's own decision on a series: FALSE when none (not reviewed, or reset). */
static gboolean
own_decision (CuStore *store, const char *series_uid, CuQcDecisionState *state, char **reason)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT state, reason FROM qc_decision"
                                          " WHERE series_uid = ?1 AND state != 'not-reviewed'",
                                          NULL);
  gboolean found = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    found = cu_qc_decision_from_string ((const char *) sqlite3_column_text (stmt, 0), state);
  if (found)
    *reason = _cu_release_col_text (stmt, 1);
  sqlite3_finalize (stmt);
  return found;
}

static char *
source_of (CuStore *store, const char *series_uid)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
                                          "SELECT source_series_uid FROM derived_series"
                                          " WHERE series_uid = ?1", NULL);
  char *source = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    source = _cu_release_col_text (stmt, 0);
  sqlite3_finalize (stmt);
  return source;
}

/* "Series 3 (MR, t2_tse_tra)": how a hold names a series. */
static char *
series_label (const CuReleaseSeriesPlan *se)
{
  if (se->description != NULL && *se->description != '\0')
    return g_strdup_printf (_("Series %d (%s, %s)"), se->series_number,
                            se->modality != NULL ? se->modality : "?", se->description);
  return g_strdup_printf (_("Series %d (%s)"), se->series_number,
                          se->modality != NULL ? se->modality : "?");
}

static void
check_qc (Check *c, CuReleaseSeriesPlan *se)
{
  g_autofree char *label = series_label (se);
  g_autofree char *reason = NULL;
  g_autofree char *decided_on = g_strdup (se->series_uid);
  CuQcDecisionState state = CU_QC_DECISION_NOT_REVIEWED;
  gboolean found = own_decision (c->store, se->series_uid, &state, &reason);

  /* A derived series (denoised, registered) follows its source's decision unless a curator
   * decided on it; the chain is followed to the original, a few steps at most. */
  for (guint depth = 0; !found && depth < 16; depth++)
    {
      char *source = source_of (c->store, decided_on);
      if (source == NULL)
        break;
      g_free (decided_on);
      decided_on = source;
      found = own_decision (c->store, decided_on, &state, &reason);
    }

  switch (found ? state : CU_QC_DECISION_NOT_REVIEWED)
    {
    case CU_QC_DECISION_ACCEPTED:
    case CU_QC_DECISION_ACCEPTED_REMARK:
      return;
    case CU_QC_DECISION_REJECTED:
      add_hold (se->holds, CU_RELEASE_HOLD_QC_REJECTED, decided_on, 0,
                strcmp (decided_on, se->series_uid) == 0
                /* Translators: %s: the series ("Series 3 (MR, t2)"), the curator's reason */
                ? g_strdup_printf (_("%s was rejected at the quality gate: %s"), label,
                                   reason != NULL ? reason : "")
                /* Translators: %s: the derived series, its source's UID, the reason */
                : g_strdup_printf (_("%s follows its source series %s, rejected at the quality "
                                     "gate: %s"), label, decided_on, reason != NULL ? reason : ""));
      return;
    case CU_QC_DECISION_ASK_SITE:
      add_hold (se->holds, CU_RELEASE_HOLD_QC_ASK_SITE, decided_on, 0,
                g_strdup_printf (_("%s waits for an answer from the site: %s"), label,
                                 reason != NULL ? reason : ""));
      return;
    case CU_QC_DECISION_NOT_REVIEWED:
    default:
      add_hold (se->holds, CU_RELEASE_HOLD_QC_NOT_REVIEWED, se->series_uid, 0,
                g_strdup_printf (_("%s has not been reviewed at the quality gate"), label));
      return;
    }
}

/* Header values no reader can use, as the anonymized export checks them. */
static gboolean
check_values (Check *c, CuReleaseSeriesPlan *se, const char *const *paths)
{
  g_autoptr (CuSeriesPlan) plan = cu_series_plan_new_from_files (paths, NULL, c->cancellable, NULL);
  g_autoptr (GError) local = NULL;

  /* Series without images (SR, …) have no plan: nothing to check. */
  if (plan == NULL || cu_series_plan_check_values (plan, &local))
    return TRUE;
  {
    g_autofree char *label = series_label (se);
    add_hold (se->holds, CU_RELEASE_HOLD_INVALID, se->series_uid, 0,
              g_strdup_printf (_("%s has header values no reader can use: %s"), label,
                               local->message));
  }
  return FALSE;
}

static gboolean
check_ledger (Check *c, CuReleaseSeriesPlan *se, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (c->store->db,
                                          "SELECT i.sop_instance_uid, i.has_pixels FROM instance i"
                                          " JOIN series se ON se.id = i.series_ref"
                                          " WHERE se.series_uid = ?1", error);
  g_autoptr (GPtrArray) uids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) pixels = g_array_new (FALSE, FALSE, sizeof (gboolean));
  g_autoptr (CuLedgerHit) sent = NULL;
  g_autoptr (CuLedgerHit) resent = NULL;
  guint n_sent = 0, n_resent = 0;
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, se->series_uid, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gboolean has = sqlite3_column_int (stmt, 1) != 0;
      g_ptr_array_add (uids, _cu_release_col_text (stmt, 0));
      g_array_append_val (pixels, has);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (c->store->db, error, _("Reading the catalog failed"));
      return FALSE;
    }

  for (guint i = 0; i < uids->len; i++)
    {
      const char *uid = uids->pdata[i];
      g_autofree char *digest = cu_release_digest (c->store, "instance", uid, strlen (uid), error);
      g_autoptr (GError) local = NULL;
      CuLedgerHit *hit;

      if (digest == NULL)
        return FALSE;
      hit = _cu_release_ledger_find (c->store, "instance", digest, -1, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (hit != NULL)
        {
          n_sent++;
          if (sent == NULL)
            sent = hit;
          else
            _cu_ledger_hit_free (hit);
          continue;
        }
      if (!c->check_pixels || !g_array_index (pixels, gboolean, i))
        continue;
      {
        g_autofree char *pixel_digest = cu_release_pixel_digest (c->store, uid, &local);

        /* An image that cannot be decoded here cannot be compared; the writer, which must
         * decode it too, will fail on it with the reason. */
        if (pixel_digest == NULL)
          continue;
        hit = _cu_release_ledger_find (c->store, "pixels", pixel_digest, -1, &local);
        if (local != NULL)
          {
            g_propagate_error (error, g_steal_pointer (&local));
            return FALSE;
          }
        if (hit != NULL)
          {
            n_resent++;
            if (resent == NULL)
              resent = hit;
            else
              _cu_ledger_hit_free (hit);
          }
      }
    }

  if (sent != NULL)
    {
      g_autofree char *label = series_label (se);
      g_autofree char *earlier = _cu_ledger_hit_describe (sent);
      add_hold (se->holds, CU_RELEASE_HOLD_ALREADY_SENT, sent->name, 0,
                /* Translators: %s: the series, then the earlier release */
                g_strdup_printf (ngettext ("%s: %u image was released in %s already",
                                           "%s: %u images were released in %s already", n_sent),
                                 label, n_sent, earlier));
    }
  if (resent != NULL)
    {
      g_autofree char *label = series_label (se);
      g_autofree char *earlier = _cu_ledger_hit_describe (resent);
      add_hold (se->holds, CU_RELEASE_HOLD_RESENT, resent->name, 0,
                g_strdup_printf (ngettext ("%s: %u image has the very pixels of an image released "
                                           "in %s: the site sent it again, perhaps under another "
                                           "pseudonym",
                                           "%s: %u images have the very pixels of images released "
                                           "in %s: the site sent them again, perhaps under another "
                                           "pseudonym", n_resent),
                                 label, n_resent, earlier));
    }
  return TRUE;
}

static gboolean
collect_series (Check *c, CuReleaseStudyPlan *st, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (c->store->db,
                                          "SELECT se.series_uid, se.series_number, se.modality,"
                                          " se.description,"
                                          " (SELECT count (*) FROM instance i WHERE i.series_ref = se.id),"
                                          " EXISTS (SELECT 1 FROM derived_series d"
                                          "         WHERE d.series_uid = se.series_uid)"
                                          " FROM series se JOIN study s ON s.id = se.study_ref"
                                          " WHERE s.study_uid = ?1"
                                          " ORDER BY se.series_number, se.series_uid", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, st->study_uid, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CuReleaseSeriesPlan *se = g_new0 (CuReleaseSeriesPlan, 1);

      se->series_uid = _cu_release_col_text (stmt, 0);
      se->series_number = sqlite3_column_int (stmt, 1);
      se->modality = _cu_release_col_text (stmt, 2);
      se->description = _cu_release_col_text (stmt, 3);
      se->n_instances = (guint) sqlite3_column_int (stmt, 4);
      se->derived = sqlite3_column_int (stmt, 5) != 0;
      se->holds = g_ptr_array_new_with_free_func ((GDestroyNotify) hold_free);
      g_ptr_array_add (st->series, se);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (c->store->db, error, _("Reading the catalog failed"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_series (Check *c, CuReleaseSeriesPlan *se, GError **error)
{
  g_auto (GStrv) paths = cu_store_get_series_files (c->store, se->series_uid, error);

  if (paths == NULL)
    return FALSE;
  check_qc (c, se);
  check_values (c, se, (const char *const *) paths);
  return check_ledger (c, se, error);
}

/* Pseudonymized: the pseudonyms withdrawn since the previous written pseudonymized release
 * was created. Measured from its creation rather than its writing, a withdrawal recorded while
 * that release was being checked or written is listed again in the next one rather than lost. */
static GStrv
withdrawn_since_last (Check *c, GError **error)
{
  g_autoptr (GStrvBuilder) list = g_strv_builder_new ();
  sqlite3_stmt *stmt;
  int rc;

  if (c->release->mode != CU_RELEASE_PSEUDONYMIZED)
    return g_strv_builder_end (list);
  stmt = _cu_store_prepare (c->store->db,
                            "SELECT DISTINCT patient_id FROM release_withdrawal"
                            " WHERE time >= coalesce ((SELECT max (created_at) FROM release"
                            "   WHERE mode = 'pseudonymized' AND written_at IS NOT NULL AND id != ?1), '')"
                            " ORDER BY patient_id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, c->release->id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (list, (const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (c->store->db, error, _("Reading the withdrawals failed"));
      return NULL;
    }
  return g_strv_builder_end (list);
}

CuReleasePlan *
cu_release_check (CuStore *store, const char *name, CuProgress *progress,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr (CuReleasePlan) plan = g_new0 (CuReleasePlan, 1);
  g_autoptr (GPtrArray) rules = NULL;
  g_autoptr (GHashTable) inclusion = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                            (GDestroyNotify) g_ptr_array_unref);
  Check c = { 0 };
  guint n_series = 0, done = 0;

  g_return_val_if_fail (CU_IS_STORE (store) && name != NULL, NULL);

  plan->patients = g_ptr_array_new_with_free_func ((GDestroyNotify) patient_plan_free);
  plan->release = _cu_release_load (store, name, error);
  if (plan->release == NULL)
    return NULL;
  c.store = store;
  c.release = plan->release;
  c.cancellable = cancellable;
  c.inclusion = inclusion;
  /* Decoding every image is the slow part of a check: only worth it when there is something
   * to compare with. */
  c.check_pixels = _cu_release_ledger_has_kind (store, "pixels");

  rules = cu_inclusion_rules_load (cu_store_get_path (store), error);
  if (rules == NULL)
    return NULL;
  c.findings = cu_flags_evaluate (store, rules, error);
  if (c.findings == NULL)
    return NULL;
  for (guint i = 0; i < c.findings->len; i++)
    {
      CuRuleFinding *f = c.findings->pdata[i];
      GPtrArray *rows = g_hash_table_lookup (inclusion, f->person_id);
      if (rows == NULL)
        {
          rows = g_ptr_array_new ();
          g_hash_table_insert (inclusion, f->person_id, rows);
        }
      g_ptr_array_add (rows, f);
    }

  if (!collect_items (&c, plan->patients, error))
    goto fail;
  for (guint i = 0; i < plan->patients->len; i++)
    {
      CuReleasePatientPlan *p = plan->patients->pdata[i];
      for (guint k = 0; k < p->studies->len; k++)
        if (!collect_series (&c, p->studies->pdata[k], error))
          goto fail;
        else
          n_series += ((CuReleaseStudyPlan *) p->studies->pdata[k])->series->len;
    }

  for (guint i = 0; i < plan->patients->len; i++)
    {
      CuReleasePatientPlan *p = plan->patients->pdata[i];

      if (!check_patient (&c, p, error))
        goto fail;
      for (guint k = 0; k < p->studies->len; k++)
        {
          CuReleaseStudyPlan *st = p->studies->pdata[k];

          if (!check_study (&c, st, error))
            goto fail;
          for (guint s = 0; s < st->series->len; s++)
            {
              CuReleaseSeriesPlan *se = st->series->pdata[s];

              if (g_cancellable_set_error_if_cancelled (cancellable, error))
                goto fail;
              cu_progress_report_count (progress, done++, n_series, _("Checking the release"));
              if (!check_series (&c, se, error))
                goto fail;
              se->go = se->holds->len == 0 && st->holds->len == 0 && p->holds->len == 0;
              if (se->go)
                {
                  st->go = TRUE;
                  plan->n_series_go++;
                  plan->n_instances_go += se->n_instances;
                }
              else
                plan->n_series_held++;
            }
          st->go = st->go && st->holds->len == 0 && p->holds->len == 0;
          if (st->go)
            {
              p->go = TRUE;
              plan->n_studies_go++;
            }
        }
      p->go = p->go && p->holds->len == 0;
      if (p->go)
        plan->n_patients_go++;
    }
  cu_progress_report_count (progress, n_series, n_series, _("Checking the release"));

  plan->withdrawn = withdrawn_since_last (&c, error);
  if (plan->withdrawn == NULL)
    goto fail;
  g_clear_pointer (&c.findings, g_ptr_array_unref);
  return g_steal_pointer (&plan);

fail:
  g_clear_pointer (&c.findings, g_ptr_array_unref);
  return NULL;
}

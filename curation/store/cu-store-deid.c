/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-deid.c — the pseudonymization gate in the workspace: check configuration,
 * findings, study gates, overrides.
 *
 * The method is DICOM PS3.15 Annex E (Basic Application Level Confidentiality Profile) as
 * implemented by cu-deid-check.c; this file only keeps its results and turns them into a
 * per-study decision:
 *
 *   - findings are stored per instance (replaced whenever the file is read again) and per
 *     study (the one-pseudonym-per-study check, recomputed with the gate);
 *   - a study with an ERROR finding not covered by an override is quarantined; a study whose
 *     error findings were all accepted by an override stays overridden; otherwise it passed;
 *   - an override marks the error findings present at that moment. A finding is "the same"
 *     when its tag path, rule, keyword and masked value are the same, so re-reading an
 *     unchanged file keeps the override, while a new finding (a changed value, a new file,
 *     another attribute) quarantines the study again: the curator accepted what they saw,
 *     not what came later.
 *
 * Every gate change and every override is written to the audit log.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-store-private.h"
#include "cu-store-flags.h"

#define SETTING_DEID_OPTIONS  "deid.options"
#define SETTING_DEID_PATTERN  "deid.pseudonym_pattern"

/* ---- Gate states -------------------------------------------------------------------- */

static const char *const state_ids[] = { "pending", "passed", "quarantined", "overridden",
                                         "superseded" };

const char *
cu_gate_state_to_string (CuGateState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (state_ids), "pending");
  return state_ids[state];
}

const char *
cu_gate_state_to_label (CuGateState state)
{
  static const char *const labels[] = {
    N_("Not checked"), N_("Passed"), N_("Quarantined"), N_("Overridden"), N_("Superseded"),
  };

  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (labels), "");
  return _(labels[state]);
}

CuGateState
_cu_gate_state_from_string (const char *text)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (state_ids); i++)
    if (strcmp (text, state_ids[i]) == 0)
      return (CuGateState) i;
  return CU_GATE_PENDING;
}

void
cu_study_gate_free (CuStudyGate *gate)
{
  if (gate == NULL)
    return;
  g_free (gate->study_uid);
  g_free (gate->reason);
  g_free (gate->user);
  g_free (gate->time);
  g_free (gate->checked_at);
  g_free (gate->superseded_by);
  g_free (gate);
}

static char *
column_strdup (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static void
bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

/* ---- Settings ----------------------------------------------------------------------- */

static char *
get_setting (CuStore *self, const char *key, gboolean *found, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "SELECT value FROM setting WHERE key = ?1",
                                          error);
  char *value = NULL;
  int rc;

  *found = FALSE;
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      value = column_strdup (stmt, 0);
      *found = TRUE;
    }
  else if (rc != SQLITE_DONE)
    _cu_store_set_db_error (self->db, error, _("Reading the workspace settings failed"));
  sqlite3_finalize (stmt);
  return value;
}

gboolean
cu_store_get_deid_config (CuStore *self, CuDeidConfig *config, GError **error)
{
  g_autofree char *options = NULL;
  g_autofree char *pattern = NULL;
  gboolean found_options, found_pattern;
  GError *local_error = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  memset (config, 0, sizeof *config);
  options = get_setting (self, SETTING_DEID_OPTIONS, &found_options, &local_error);
  if (local_error == NULL)
    pattern = get_setting (self, SETTING_DEID_PATTERN, &found_pattern, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }

  if (!found_options)
    config->options = CU_DEID_OPTIONS_SITE_DEFAULT;
  else if (!cu_deid_options_parse (options, &config->options, error))
    {
      g_prefix_error (error, _("The workspace's de-identification options are invalid: "));
      return FALSE;
    }

  if (!found_pattern)
    config->pseudonym_pattern = g_strdup (CU_STORE_DEFAULT_PSEUDONYM_PATTERN);
  else if (pattern != NULL && *pattern != '\0')
    config->pseudonym_pattern = g_steal_pointer (&pattern);
  return TRUE;
}

gboolean
cu_store_set_deid_config (CuStore *self, const CuDeidConfig *config, GError **error)
{
  g_autofree char *options = NULL;
  const char *pattern;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (config != NULL, FALSE);

  pattern = config->pseudonym_pattern != NULL ? config->pseudonym_pattern : "";
  if (*pattern != '\0')
    {
      g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, error);
      if (regex == NULL)
        {
          g_prefix_error (error, _("Invalid pseudonym pattern: "));
          return FALSE;
        }
    }

  CuDeidConfig old = { 0 };
  if (!cu_store_get_deid_config (self, &old, error))
    return FALSE;
  gboolean changed = old.options != config->options
                     || g_strcmp0 (old.pseudonym_pattern != NULL ? old.pseudonym_pattern : "",
                                   pattern) != 0;
  g_free (old.pseudonym_pattern);
  int n_reopened = 0;

  options = cu_deid_options_to_string (config->options);
  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!cu_store_set_setting (self, SETTING_DEID_OPTIONS, options, error)
      || !cu_store_set_setting (self, SETTING_DEID_PATTERN, pattern, error))
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  /* Gates decided under another configuration no longer say anything about this one: they
   * are pending (annotation and export locked) until cu_store_deid_recheck decides again.
   * The findings stay as they were, so the curator still sees why a study was quarantined.
   *
   * Overrides: an override accepted the specific findings it saw (deid_finding.overridden),
   * not a configuration. The recheck replaces each file's findings; a new finding that is
   * the same as an accepted one (same tag path, rule, keyword and masked value, see
   * finding_key) stays accepted, because the curator already judged that value in that
   * place. Whatever the new configuration finds beyond that is not covered: the study is
   * quarantined again and needs a new override. An overridden study whose accepted findings
   * all vanish under the new configuration simply passes. The override's reason, user and
   * time stay on the gate row while it is pending and are kept if it comes back
   * overridden. */
  if (changed)
    {
      if (!_cu_store_exec (self->db,
                           "UPDATE study_gate SET state = 'pending', checked_at = NULL"
                           " WHERE state <> 'pending'", error))
        {
          _cu_store_exec (self->db, "ROLLBACK", NULL);
          return FALSE;
        }
      n_reopened = sqlite3_changes (self->db);
    }
  if (!_cu_store_exec (self->db, "COMMIT", error))
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  {
    g_autofree char *detail = g_strdup_printf ("options=%s pattern=%s gates_reopened=%d",
                                               options, pattern, n_reopened);
    g_autoptr(GError) audit_error = NULL;
    if (!cu_store_audit (self, "deid-config", NULL, detail, &audit_error))
      g_warning ("Could not write the audit log: %s", audit_error->message);
  }
  return TRUE;
}

/* ---- Reading gates and findings ----------------------------------------------------- */

/* A superseded study shows as such, with the superseding's reason, user and time; the gate
 * underneath is kept for the record. */
#define GATE_SELECT \
  "SELECT st.study_uid," \
  "       CASE WHEN ss.study_ref IS NOT NULL THEN 'superseded'" \
  "            ELSE coalesce (g.state, 'pending') END," \
  "       coalesce (g.n_errors, 0), coalesce (g.n_warnings, 0)," \
  "       coalesce (ss.reason, g.reason), coalesce (ss.user, g.user)," \
  "       coalesce (ss.time, g.time), g.checked_at, ss.by_study_uid" \
  "  FROM study st LEFT JOIN study_gate g ON g.study_ref = st.id" \
  "  LEFT JOIN study_superseded ss ON ss.study_ref = st.id "

static CuStudyGate *
gate_from_row (sqlite3_stmt *stmt)
{
  CuStudyGate *gate = g_new0 (CuStudyGate, 1);

  gate->study_uid = column_strdup (stmt, 0);
  gate->state = _cu_gate_state_from_string ((const char *) sqlite3_column_text (stmt, 1));
  gate->n_errors = sqlite3_column_int (stmt, 2);
  gate->n_warnings = sqlite3_column_int (stmt, 3);
  gate->reason = column_strdup (stmt, 4);
  gate->user = column_strdup (stmt, 5);
  gate->time = column_strdup (stmt, 6);
  gate->checked_at = column_strdup (stmt, 7);
  gate->superseded_by = column_strdup (stmt, 8);
  return gate;
}

CuStudyGate *
cu_store_get_study_gate (CuStore *self, const char *study_uid, GError **error)
{
  CuStudyGate *gate = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (study_uid != NULL, NULL);

  stmt = _cu_store_prepare (self->db, GATE_SELECT " WHERE st.study_uid = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    gate = gate_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("No study %s in the workspace"), study_uid);
  else
    _cu_store_set_db_error (self->db, error, _("Reading a study's gate failed"));
  sqlite3_finalize (stmt);
  return gate;
}

GPtrArray *
cu_store_list_gates (CuStore *self, GError **error)
{
  g_autoptr(GPtrArray) gates = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  stmt = _cu_store_prepare (self->db, GATE_SELECT " ORDER BY st.study_uid", error);
  if (stmt == NULL)
    return NULL;
  gates = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_study_gate_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (gates, gate_from_row (stmt));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the study gates failed"));
      return NULL;
    }
  return g_steal_pointer (&gates);
}

gboolean
cu_store_study_can_annotate (CuStore *self, const char *study_uid)
{
  g_autoptr(CuStudyGate) gate = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  if (study_uid == NULL)
    return FALSE;
  gate = cu_store_get_study_gate (self, study_uid, NULL);
  return gate != NULL && (gate->state == CU_GATE_PASSED || gate->state == CU_GATE_OVERRIDDEN);
}

GPtrArray *
cu_store_list_findings (CuStore *self, const char *study_uid, GError **error)
{
  g_autoptr(GPtrArray) findings = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  stmt = _cu_store_prepare (self->db,
                            "SELECT f.path, f.tag_path, f.keyword, f.rule, f.expected, f.found,"
                            "       f.severity"
                            "  FROM deid_finding f JOIN study st ON f.study_ref = st.id"
                            " WHERE ?1 IS NULL OR st.study_uid = ?1"
                            " ORDER BY st.study_uid, f.severity DESC, f.path, f.tag_path, f.id",
                            error);
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, study_uid);
  findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CuDeidFinding *f = g_new0 (CuDeidFinding, 1);

      f->path = column_strdup (stmt, 0);
      f->tag_path = column_strdup (stmt, 1);
      f->keyword = column_strdup (stmt, 2);
      f->rule = column_strdup (stmt, 3);
      f->expected = column_strdup (stmt, 4);
      f->found = column_strdup (stmt, 5);
      f->severity = (CuDeidSeverity) sqlite3_column_int (stmt, 6);
      g_ptr_array_add (findings, f);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the de-identification findings failed"));
      return NULL;
    }
  return g_steal_pointer (&findings);
}

/* ---- Override ----------------------------------------------------------------------- */

static gboolean
exec_bound (CuStore *self, const char *sql, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, sql, error);
  gboolean ok;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Writing the study gate failed"));
  sqlite3_finalize (stmt);
  return ok;
}

gboolean
cu_store_override_study (CuStore *self, const char *study_uid, const char *reason,
                         GError **error)
{
  g_autofree char *trimmed = NULL;
  g_autofree char *now = NULL;
  g_autofree char *detail = NULL;
  g_autoptr(CuStudyGate) gate = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  g_autoptr(JsonNode) root = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 study_id = -1;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (study_uid != NULL, FALSE);

  trimmed = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  if (*trimmed == '\0')
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("An override needs a reason: say why the findings are acceptable"));
      return FALSE;
    }

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  gate = cu_store_get_study_gate (self, study_uid, error);
  if (gate == NULL)
    goto fail;
  if (gate->state != CU_GATE_QUARANTINED)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("Study %s is not quarantined (%s): there is nothing to override"),
                   study_uid, cu_gate_state_to_label (gate->state));
      goto fail;
    }

  stmt = _cu_store_prepare (self->db, "SELECT id FROM study WHERE study_uid = ?1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    study_id = sqlite3_column_int64 (stmt, 0);
  g_clear_pointer (&stmt, sqlite3_finalize);

  if (!exec_bound (self, "UPDATE deid_finding SET overridden = 1"
                         " WHERE study_ref = ?1 AND severity >= 2", study_id, error))
    goto fail;

  now = _cu_store_now_iso8601 ();
  stmt = _cu_store_prepare (self->db,
                            "UPDATE study_gate SET state = 'overridden', reason = ?2, user = ?3,"
                            " time = ?4 WHERE study_ref = ?1",
                            error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, study_id);
  sqlite3_bind_text (stmt, 2, trimmed, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, now, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Writing the study gate failed"));
      goto fail;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);

  /* The audit row is part of the transaction: an override that is not logged does not
   * happen. */
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, trimmed);
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, gate->n_errors);
  json_builder_set_member_name (b, "warnings");
  json_builder_add_int_value (b, gate->n_warnings);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  detail = json_generator_to_data (gen, NULL);
  /* written here rather than by cu_store_audit, so that the gate and the log carry the
   * same time */
  if (!_cu_store_audit_append (self->db, now, g_get_user_name (), "deid-override", study_uid,
                               detail, error))
    goto fail;

  if (!_cu_store_exec (self->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  g_clear_pointer (&stmt, sqlite3_finalize);
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return FALSE;
}

/* ---- Recording findings and recomputing gates (import, recheck) --------------------- */

struct _CuStoreDeid
{
  CuStore *store;
  CuDeidProfile *profile;
  CuDeidChecker *checker;
  char *now;
  GHashTable *touched;          /* study ids (gint64 *) of the current batch */

  sqlite3_stmt *study_of_instance;
  sqlite3_stmt *studies_of_findings;
  sqlite3_stmt *overridden_of_instance;
  sqlite3_stmt *delete_of_instance;
  sqlite3_stmt *overridden_of_study;
  sqlite3_stmt *delete_of_study;
  sqlite3_stmt *insert_finding;
  sqlite3_stmt *upsert_pseudonym;
  sqlite3_stmt *study_pairs;
  sqlite3_stmt *counts;
  sqlite3_stmt *gate_state;
  sqlite3_stmt *write_gate;
};

CuStoreDeid *
_cu_store_deid_new (CuStore *store, GError **error)
{
  g_autoptr(CuStoreDeid) ctx = g_new0 (CuStoreDeid, 1);
  CuDeidConfig config = { 0 };
  struct { sqlite3_stmt **stmt; const char *sql; } table[] = {
    { &ctx->study_of_instance,
      "SELECT se.study_ref FROM instance i JOIN series se ON i.series_ref = se.id"
      " WHERE i.id = ?1" },
    { &ctx->studies_of_findings,
      "SELECT DISTINCT study_ref FROM deid_finding WHERE instance_ref = ?1" },
    { &ctx->overridden_of_instance,
      "SELECT tag_path, rule, keyword, found FROM deid_finding"
      " WHERE instance_ref = ?1 AND overridden = 1" },
    { &ctx->delete_of_instance, "DELETE FROM deid_finding WHERE instance_ref = ?1" },
    { &ctx->overridden_of_study,
      "SELECT tag_path, rule, keyword, found FROM deid_finding"
      " WHERE study_ref = ?1 AND instance_ref IS NULL AND overridden = 1" },
    { &ctx->delete_of_study,
      "DELETE FROM deid_finding WHERE study_ref = ?1 AND instance_ref IS NULL" },
    { &ctx->insert_finding,
      "INSERT INTO deid_finding (study_ref, instance_ref, path, tag_path, keyword, rule,"
      "                          expected, found, severity, overridden)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)" },
    { &ctx->upsert_pseudonym,
      "INSERT INTO instance_pseudonym (instance_ref, patient_id, patient_name) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (instance_ref) DO UPDATE SET patient_id = excluded.patient_id,"
      "   patient_name = excluded.patient_name" },
    { &ctx->study_pairs,
      "SELECT DISTINCT ip.patient_id, ip.patient_name FROM instance_pseudonym ip"
      "  JOIN instance i ON ip.instance_ref = i.id JOIN series se ON i.series_ref = se.id"
      " WHERE se.study_ref = ?1 ORDER BY 1, 2" },
    { &ctx->counts,
      "SELECT coalesce (sum (severity >= 2 AND overridden = 0), 0),"
      "       coalesce (sum (severity >= 2 AND overridden = 1), 0),"
      "       coalesce (sum (severity = 1), 0)"
      "  FROM deid_finding WHERE study_ref = ?1" },
    { &ctx->gate_state,
      "SELECT st.study_uid, coalesce (g.state, 'pending') FROM study st"
      "  LEFT JOIN study_gate g ON g.study_ref = st.id WHERE st.id = ?1" },
    { &ctx->write_gate,
      "INSERT INTO study_gate (study_ref, state, n_errors, n_warnings, checked_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5)"
      " ON CONFLICT (study_ref) DO UPDATE SET state = excluded.state,"
      "   n_errors = excluded.n_errors, n_warnings = excluded.n_warnings,"
      "   checked_at = excluded.checked_at,"
      "   reason = CASE WHEN excluded.state = 'overridden' THEN reason END,"
      "   user = CASE WHEN excluded.state = 'overridden' THEN user END,"
      "   time = CASE WHEN excluded.state = 'overridden' THEN time END" },
  };

  ctx->store = store;
  ctx->touched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  ctx->now = _cu_store_now_iso8601 ();
  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      *table[i].stmt = _cu_store_prepare (store->db, table[i].sql, error);
      if (*table[i].stmt == NULL)
        return NULL;
    }

  if (!cu_store_get_deid_config (store, &config, error))
    return NULL;
  ctx->profile = cu_deid_profile_new_default (error);
  if (ctx->profile != NULL)
    ctx->checker = cu_deid_checker_new (ctx->profile, &config, error);
  g_free (config.pseudonym_pattern);
  if (ctx->checker == NULL)
    {
      g_prefix_error (error, _("Cannot check de-identification: "));
      return NULL;
    }
  return g_steal_pointer (&ctx);
}

void
_cu_store_deid_free (CuStoreDeid *ctx)
{
  sqlite3_stmt **stmts[] = {
    &ctx->study_of_instance, &ctx->studies_of_findings, &ctx->overridden_of_instance,
    &ctx->delete_of_instance, &ctx->overridden_of_study, &ctx->delete_of_study,
    &ctx->insert_finding, &ctx->upsert_pseudonym, &ctx->study_pairs, &ctx->counts,
    &ctx->gate_state, &ctx->write_gate,
  };

  if (ctx == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (stmts); i++)
    g_clear_pointer (stmts[i], sqlite3_finalize);
  g_clear_pointer (&ctx->checker, cu_deid_checker_free);
  g_clear_pointer (&ctx->profile, cu_deid_profile_free);
  g_clear_pointer (&ctx->touched, g_hash_table_unref);
  g_free (ctx->now);
  g_free (ctx);
}

CuDeidChecker *
_cu_store_deid_get_checker (CuStoreDeid *ctx)
{
  return ctx->checker;
}

static gboolean
step_reset (CuStoreDeid *ctx, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      _cu_store_set_db_error (ctx->store->db, error, _("Writing the de-identification findings failed"));
      return FALSE;
    }
  return TRUE;
}

static void
touch (CuStoreDeid *ctx, gint64 study_id)
{
  if (study_id >= 0)
    g_hash_table_add (ctx->touched, g_memdup2 (&study_id, sizeof study_id));
}

/* Mark the studies that hold findings of an instance about to change or disappear. */
void
_cu_store_deid_touch_instance (CuStoreDeid *ctx, gint64 instance_id)
{
  sqlite3_stmt *s = ctx->studies_of_findings;

  sqlite3_bind_int64 (s, 1, instance_id);
  while (sqlite3_step (s) == SQLITE_ROW)
    touch (ctx, sqlite3_column_int64 (s, 0));
  sqlite3_reset (s);

  s = ctx->study_of_instance;
  sqlite3_bind_int64 (s, 1, instance_id);
  if (sqlite3_step (s) == SQLITE_ROW)
    touch (ctx, sqlite3_column_int64 (s, 0));
  sqlite3_reset (s);
}

static char *
finding_key (const char *tag_path, const char *rule, const char *keyword, const char *found)
{
  return g_strjoin ("\x1f", tag_path ? tag_path : "", rule ? rule : "", keyword ? keyword : "",
                    found ? found : "", NULL);
}

static GHashTable *
collect_keys (sqlite3_stmt *s, gint64 id)
{
  GHashTable *keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  sqlite3_bind_int64 (s, 1, id);
  while (sqlite3_step (s) == SQLITE_ROW)
    g_hash_table_add (keys, finding_key ((const char *) sqlite3_column_text (s, 0),
                                         (const char *) sqlite3_column_text (s, 1),
                                         (const char *) sqlite3_column_text (s, 2),
                                         (const char *) sqlite3_column_text (s, 3)));
  sqlite3_reset (s);
  return keys;
}

static gboolean
insert_findings (CuStoreDeid *ctx, gint64 study_id, gint64 instance_id, GPtrArray *findings,
                 GHashTable *overridden, GError **error)
{
  sqlite3_stmt *s = ctx->insert_finding;

  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CuDeidFinding *f = findings->pdata[i];
      g_autofree char *key = overridden != NULL
                             ? finding_key (f->tag_path, f->rule, f->keyword, f->found) : NULL;

      sqlite3_bind_int64 (s, 1, study_id);
      if (instance_id >= 0)
        sqlite3_bind_int64 (s, 2, instance_id);
      else
        sqlite3_bind_null (s, 2);
      bind_text (s, 3, f->path);
      bind_text (s, 4, f->tag_path != NULL ? f->tag_path : "");
      bind_text (s, 5, f->keyword);
      bind_text (s, 6, f->rule != NULL ? f->rule : "");
      bind_text (s, 7, f->expected);
      bind_text (s, 8, f->found);
      sqlite3_bind_int (s, 9, (int) f->severity);
      sqlite3_bind_int (s, 10, f->severity == CU_DEID_SEVERITY_ERROR && overridden != NULL
                               && g_hash_table_contains (overridden, key));
      if (!step_reset (ctx, s, error))
        return FALSE;
    }
  return TRUE;
}

/* Replace the findings of one instance (just catalogued) by those of its latest check, and
 * remember its pseudonym. findings may be NULL: the file was not checked (no checker). */
gboolean
_cu_store_deid_record_instance (CuStoreDeid *ctx, gint64 instance_id, const char *patient_id,
                                const char *patient_name, GPtrArray *findings, GError **error)
{
  g_autoptr(GHashTable) overridden = NULL;
  gint64 study_id = -1;
  sqlite3_stmt *s;

  /* The instance may have moved to another study (a corrected StudyInstanceUID): the old
   * study's gate must be recomputed too. */
  _cu_store_deid_touch_instance (ctx, instance_id);

  s = ctx->study_of_instance;
  sqlite3_bind_int64 (s, 1, instance_id);
  if (sqlite3_step (s) == SQLITE_ROW)
    study_id = sqlite3_column_int64 (s, 0);
  sqlite3_reset (s);
  if (study_id < 0)
    return TRUE;

  s = ctx->upsert_pseudonym;
  sqlite3_bind_int64 (s, 1, instance_id);
  bind_text (s, 2, patient_id != NULL ? patient_id : "");
  bind_text (s, 3, patient_name != NULL ? patient_name : "");
  if (!step_reset (ctx, s, error))
    return FALSE;

  overridden = collect_keys (ctx->overridden_of_instance, instance_id);
  sqlite3_bind_int64 (ctx->delete_of_instance, 1, instance_id);
  if (!step_reset (ctx, ctx->delete_of_instance, error))
    return FALSE;
  return insert_findings (ctx, study_id, instance_id, findings, overridden, error);
}

/* _cu_store_deid_record_instance for an instance row just inserted into study_id: it has no
 * findings, pseudonym or overrides yet (they go with the row, ON DELETE CASCADE), so there is
 * nothing to look up or replace. */
gboolean
_cu_store_deid_record_new_instance (CuStoreDeid *ctx, gint64 instance_id, gint64 study_id,
                                    const char *patient_id, const char *patient_name,
                                    GPtrArray *findings, GError **error)
{
  sqlite3_stmt *s = ctx->upsert_pseudonym;

  touch (ctx, study_id);
  sqlite3_bind_int64 (s, 1, instance_id);
  bind_text (s, 2, patient_id != NULL ? patient_id : "");
  bind_text (s, 3, patient_name != NULL ? patient_name : "");
  if (!step_reset (ctx, s, error))
    return FALSE;
  return insert_findings (ctx, study_id, instance_id, findings, NULL, error);
}

static void
audit_gate (CuStoreDeid *ctx, const char *study_uid, const char *state, gint64 n_errors,
            gint64 n_warnings)
{
  g_autofree char *detail = NULL;
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "state");
    json_builder_add_string_value (db, state);
    json_builder_set_member_name (db, "errors");
    json_builder_add_int_value (db, n_errors);
    json_builder_set_member_name (db, "warnings");
    json_builder_add_int_value (db, n_warnings);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
  if (!cu_store_audit (ctx->store, "deid-gate", study_uid, detail, &error))
    g_warning ("Could not write the audit log: %s", error->message);
}

static gboolean
update_gate (CuStoreDeid *ctx, gint64 study_id, GError **error)
{
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  g_autoptr(GHashTable) overridden = NULL;
  g_autofree char *study_uid = NULL;
  g_autofree char *old_state = NULL;
  gint64 n_new_errors = 0, n_accepted = 0, n_warnings = 0;
  const char *state;
  sqlite3_stmt *s;

  s = ctx->gate_state;
  sqlite3_bind_int64 (s, 1, study_id);
  if (sqlite3_step (s) == SQLITE_ROW)
    {
      study_uid = column_strdup (s, 0);
      old_state = column_strdup (s, 1);
    }
  sqlite3_reset (s);
  if (study_uid == NULL)
    return TRUE;   /* the study is gone (its last instance was removed) */

  /* Study-level findings: one pseudonym per study, over every instance's pair. */
  s = ctx->study_pairs;
  sqlite3_bind_int64 (s, 1, study_id);
  while (sqlite3_step (s) == SQLITE_ROW)
    {
      g_ptr_array_add (pairs, column_strdup (s, 0));
      g_ptr_array_add (pairs, column_strdup (s, 1));
    }
  sqlite3_reset (s);
  if (pairs->len > 0)
    cu_deid_check_study (ctx->checker, study_uid, (const char *const *) pairs->pdata,
                         pairs->len / 2, findings);

  overridden = collect_keys (ctx->overridden_of_study, study_id);
  sqlite3_bind_int64 (ctx->delete_of_study, 1, study_id);
  if (!step_reset (ctx, ctx->delete_of_study, error)
      || !insert_findings (ctx, study_id, -1, findings, overridden, error))
    return FALSE;

  s = ctx->counts;
  sqlite3_bind_int64 (s, 1, study_id);
  if (sqlite3_step (s) == SQLITE_ROW)
    {
      n_new_errors = sqlite3_column_int64 (s, 0);
      n_accepted = sqlite3_column_int64 (s, 1);
      n_warnings = sqlite3_column_int64 (s, 2);
    }
  sqlite3_reset (s);

  if (n_new_errors > 0)
    state = "quarantined";
  else if (n_accepted > 0)
    state = "overridden";
  else
    state = "passed";

  s = ctx->write_gate;
  sqlite3_bind_int64 (s, 1, study_id);
  sqlite3_bind_text (s, 2, state, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (s, 3, n_new_errors + n_accepted);
  sqlite3_bind_int64 (s, 4, n_warnings);
  sqlite3_bind_text (s, 5, ctx->now, -1, SQLITE_STATIC);
  if (!step_reset (ctx, s, error))
    return FALSE;

  if (g_strcmp0 (old_state, state) != 0)
    audit_gate (ctx, study_uid, state, n_new_errors + n_accepted, n_warnings);
  return TRUE;
}

/* Recompute the gates of the studies touched since the last call; inside the caller's
 * transaction, so that a batch and its gates commit together. */
gboolean
_cu_store_deid_update_gates (CuStoreDeid *ctx, GError **error)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, ctx->touched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!update_gate (ctx, *(gint64 *) key, error))
      return FALSE;
  g_hash_table_remove_all (ctx->touched);
  return TRUE;
}

/* Check one file on any thread: the findings, or one ERROR finding when the check could
 * not read it (a gate must not pass what it could not look at). */
GPtrArray *
_cu_store_deid_check_file (CuDeidChecker *checker, const char *path)
{
  GPtrArray *findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  g_autoptr(GError) error = NULL;

  if (!cu_deid_check_file (checker, path, findings, &error))
    {
      CuDeidFinding *f = g_new0 (CuDeidFinding, 1);

      f->path = g_strdup (path);
      f->tag_path = g_strdup ("");
      f->rule = g_strdup ("unreadable");
      f->expected = g_strdup (_("a file the check can read"));
      f->found = g_strdup (error != NULL ? error->message : _("unreadable"));
      f->severity = CU_DEID_SEVERITY_ERROR;
      g_ptr_array_add (findings, f);
    }
  return findings;
}

/* ---- Recheck ------------------------------------------------------------------------ */

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Count one check's error findings: those the curator accepted (their key among overridden)
 * and the others. */
static void
count_errors (GPtrArray *findings, GHashTable *overridden, guint *n_open, guint *n_accepted)
{
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      const CuDeidFinding *f = findings->pdata[i];
      g_autofree char *key = NULL;

      if (f->severity != CU_DEID_SEVERITY_ERROR)
        continue;
      key = finding_key (f->tag_path, f->rule, f->keyword, f->found);
      if (g_hash_table_contains (overridden, key))
        (*n_accepted)++;
      else
        (*n_open)++;
    }
}

gboolean
cu_store_verify_study_gate (CuStore *self, const char *study_uid, CuGateState *state,
                            guint *n_errors, GError **error)
{
  g_autoptr(CuStoreDeid) ctx = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) study_findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  g_autoptr(GHashTable) seen_pairs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) study_overridden = NULL;
  sqlite3_stmt *stmt;
  gint64 study_id = -1;
  guint n_open = 0, n_accepted = 0;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (study_uid != NULL && state != NULL, FALSE);

  ctx = _cu_store_deid_new (self, error);
  if (ctx == NULL)
    return FALSE;
  stmt = _cu_store_prepare (self->db,
                            "SELECT st.id, i.id, i.path FROM study st"
                            "  LEFT JOIN series se ON se.study_ref = st.id"
                            "  LEFT JOIN instance i ON i.series_ref = se.id"
                            " WHERE st.study_uid = ?1 ORDER BY i.path", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, study_uid);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      study_id = sqlite3_column_int64 (stmt, 0);
      if (sqlite3_column_type (stmt, 1) != SQLITE_NULL)
        {
          gint64 id = sqlite3_column_int64 (stmt, 1);
          g_array_append_val (ids, id);
          g_ptr_array_add (paths, column_strdup (stmt, 2));
        }
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the instances failed"));
      return FALSE;
    }
  if (study_id < 0)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   _("No study %s in the workspace"), study_uid);
      return FALSE;
    }

  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_autoptr(GHashTable) overridden = NULL;
      g_autoptr(GError) read_error = NULL;
      g_autoptr(CuDicomHeader) h = cu_deid_check_read (ctx->checker, paths->pdata[i], findings,
                                                       &read_error);

      if (h == NULL)
        {
          /* What cannot be read now cannot be vouched for now. */
          n_open++;
          continue;
        }
      g_hash_table_add (seen_pairs, g_strjoin ("\x1f", h->patient_id != NULL ? h->patient_id : "",
                                               h->patient_name != NULL ? h->patient_name : "", NULL));
      overridden = collect_keys (ctx->overridden_of_instance, g_array_index (ids, gint64, i));
      count_errors (findings, overridden, &n_open, &n_accepted);
    }
  /* The pairs as the import gives them to the study check (DISTINCT … ORDER BY 1, 2), so
   * that its findings carry the same text as those the curator overrode. */
  {
    g_autofree gpointer *keys = g_hash_table_get_keys_as_array (seen_pairs, NULL);
    guint n = g_hash_table_size (seen_pairs);

    qsort (keys, n, sizeof (gpointer), compare_strings);
    for (guint i = 0; i < n; i++)
      {
        const char *sep = strchr (keys[i], '\x1f');
        g_ptr_array_add (pairs, g_strndup (keys[i], sep - (const char *) keys[i]));
        g_ptr_array_add (pairs, g_strdup (sep + 1));
      }
  }
  if (pairs->len > 0)
    cu_deid_check_study (ctx->checker, study_uid, (const char *const *) pairs->pdata,
                         pairs->len / 2, study_findings);
  study_overridden = collect_keys (ctx->overridden_of_study, study_id);
  count_errors (study_findings, study_overridden, &n_open, &n_accepted);

  *state = n_open > 0 ? CU_GATE_QUARANTINED : n_accepted > 0 ? CU_GATE_OVERRIDDEN : CU_GATE_PASSED;
  if (n_errors != NULL)
    *n_errors = n_open;
  return TRUE;
}


gboolean
cu_store_deid_recheck (CuStore *self, const char *study_uid, CuProgress *progress,
                       GCancellable *cancellable, GError **error)
{
  g_autoptr(CuStoreDeid) ctx = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) pids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) pnames = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  guint in_batch = 0;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);

  ctx = _cu_store_deid_new (self, error);
  if (ctx == NULL)
    return FALSE;

  stmt = _cu_store_prepare (self->db,
                            "SELECT i.id, i.path, ip.patient_id, ip.patient_name FROM instance i"
                            "  JOIN series se ON i.series_ref = se.id"
                            "  JOIN study st ON se.study_ref = st.id"
                            "  LEFT JOIN instance_pseudonym ip ON ip.instance_ref = i.id"
                            " WHERE ?1 IS NULL OR st.study_uid = ?1 ORDER BY i.path",
                            error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, study_uid);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (ids, id);
      g_ptr_array_add (paths, column_strdup (stmt, 1));
      g_ptr_array_add (pids, column_strdup (stmt, 2));
      g_ptr_array_add (pnames, column_strdup (stmt, 3));
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the instances failed"));
      return FALSE;
    }
  if (study_uid != NULL && ids->len == 0)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   _("No study %s in the workspace"), study_uid);
      return FALSE;
    }

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr(GPtrArray) findings = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto fail;
      findings = _cu_store_deid_check_file (ctx->checker, paths->pdata[i]);
      if (!_cu_store_deid_record_instance (ctx, g_array_index (ids, gint64, i), pids->pdata[i],
                                           pnames->pdata[i], findings, error))
        goto fail;
      if (++in_batch >= 500 || i + 1 == ids->len)
        {
          if (!_cu_store_deid_update_gates (ctx, error)
              || !_cu_store_exec (self->db, "COMMIT", error)
              || (i + 1 < ids->len && !_cu_store_exec (self->db, "BEGIN IMMEDIATE", error)))
            goto fail;
          in_batch = 0;
        }
      {
        g_autofree char *msg = g_strdup_printf (_("Checking de-identification: %u of %u files"),
                                                i + 1, ids->len);
        cu_progress_report_count (progress, i + 1, ids->len, msg);
      }
    }
  if (ids->len == 0 && !_cu_store_exec (self->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return FALSE;
}

/* Whether a study may leave: its pseudonymization gate passed, or was overridden by a
 * curator with a reason. Pending (never checked) and quarantined studies stay: the export
 * applies the Basic Profile anyway, but a study whose pseudonymization nobody vouched for
 * should not reach the repository unseen. */
gboolean
cu_store_study_may_leave (CuStore *store, const char *study_uid, CuGateState *state,
                          char **reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuStudyGate) gate = cu_store_get_study_gate (store, study_uid, &error);

  g_return_val_if_fail (CU_IS_STORE (store) && study_uid != NULL && reason != NULL, FALSE);

  if (state != NULL)
    *state = gate != NULL ? gate->state : CU_GATE_PENDING;
  if (gate == NULL)
    {
      *reason = g_strdup (error != NULL ? error->message : "");
      return FALSE;
    }
  if (gate->state == CU_GATE_PASSED || gate->state == CU_GATE_OVERRIDDEN)
    {
      CuGateState now = CU_GATE_PENDING;
      guint n_errors = 0;

      /* The stored state is a row anyone holding the workspace file can change: the study
       * leaves only if its files, checked again now, agree. */
      if (!cu_store_verify_study_gate (store, study_uid, &now, &n_errors, &error))
        {
          /* Translators: why a study was not exported; %s says why it could not be checked */
          *reason = g_strdup_printf (_("its pseudonymization could not be checked again: %s"),
                                     error->message);
          return FALSE;
        }
      if (now == CU_GATE_PASSED || now == CU_GATE_OVERRIDDEN)
        return TRUE;
      /* Translators: why a study was not exported; %s is the stored gate state ("Passed"…) */
      *reason = g_strdup_printf (ngettext ("the gate is recorded as %s, but checked again now %u "
                                           "error finding has no override: the workspace was "
                                           "changed outside Curata; run deid-check",
                                           "the gate is recorded as %s, but checked again now %u "
                                           "error findings have no override: the workspace was "
                                           "changed outside Curata; run deid-check", n_errors),
                                 cu_gate_state_to_label (gate->state), n_errors);
      return FALSE;
    }
  if (gate->state == CU_GATE_SUPERSEDED)
    {
      /* Translators: why a study was not exported; %s is the StudyInstanceUID of its fixed
       * copy */
      *reason = g_strdup_printf (_("superseded by study %s: export that one instead"),
                                 gate->superseded_by != NULL ? gate->superseded_by : "?");
      return FALSE;
    }
  /* Translators: why a study was not exported; %s is "Quarantined", "Not checked"… */
  *reason = g_strdup_printf (_("pseudonymization gate: %s"), cu_gate_state_to_label (gate->state));
  return FALSE;
}

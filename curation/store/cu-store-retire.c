/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-retire.c — retiring studies from the pseudonymization gate: a quarantined study
 * superseded by the fixed copy that replaced it, and a study removed from the catalog.
 *
 * Why superseding exists: a site fixes a quarantined study by de-identifying it again. When it
 * keeps the UIDs, the fixed files replace the old instances and the gate follows on import
 * (cu-importer.c). When it remaps them (the usual PS3.15 behaviour, Retain UIDs off), the
 * fixed copy is a new study and the old one would stay quarantined forever. The curator then
 * records that the new study supersedes the old one: the old one is kept for the record
 * (nothing is deleted by a gate, ARCHITECTURE.md), but shown as superseded, never exported
 * and never opened for annotation.
 *
 * What makes a plausible fixed copy (cu_store_supersede_study refuses anything else, the
 * candidates list offers only these):
 *   - the same pseudonym (PatientID), or, when the old study's PatientID was itself flagged
 *     (an ERROR finding on PatientID: the site sent an original identifier), any pseudonym;
 *   - the same study date (dates are kept in step 1: Retain Longitudinal Full Dates);
 *   - the same series numbers (a re-export renames UIDs, not series).
 *
 * Removing a study takes its catalog rows away (series, instances, findings, gate, superseded
 * record, automatic QC results); the DICOM files stay on disk. Curation work attached to it
 * (curator QC decisions, segmentations, derived series, consistency flags, studies it
 * supersedes) makes the store refuse unless forced, and the refusal says what there is. When
 * forced: decisions and segmentations of its series go with it (they describe series that no
 * longer exist in the catalog), studies it superseded return to their own gate (the audit log
 * records it), and flags stay: they belong to the site's answer cycle (curation/flags) and the
 * next consistency check decides about them.
 *
 * Every superseding and removal is one transaction with its audit row.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-store-private.h"

static char *
col_dup (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static char *
json_to_text (JsonBuilder *b)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* ---- What a study looks like ------------------------------------------------------------ */

typedef struct
{
  gint64 id;
  gint64 patient_ref;
  char *study_uid;
  char *patient_id;
  char *study_date;
  char *description;
  char *series_numbers;     /* sorted, comma-separated */
  gboolean id_flagged;      /* an ERROR finding on PatientID: not an acceptable pseudonym */
} StudyShape;

static void
study_shape_clear (StudyShape *s)
{
  g_free (s->study_uid);
  g_free (s->patient_id);
  g_free (s->study_date);
  g_free (s->description);
  g_free (s->series_numbers);
  memset (s, 0, sizeof *s);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (StudyShape, study_shape_clear)

static gboolean
study_shape (CuStore *self, const char *study_uid, StudyShape *out, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db,
    "SELECT st.id, st.patient_ref, st.study_uid, p.patient_id, coalesce (st.study_date, ''),"
    "       coalesce (st.description, ''),"
    "       (SELECT group_concat (n, ',') FROM (SELECT DISTINCT coalesce (se.series_number, -1) AS n"
    "          FROM series se WHERE se.study_ref = st.id ORDER BY 1)),"
    "       EXISTS (SELECT 1 FROM deid_finding f WHERE f.study_ref = st.id AND f.severity >= 2"
    "                  AND f.keyword = 'PatientID')"
    "  FROM study st JOIN patient p ON st.patient_ref = p.id WHERE st.study_uid = ?1", error);
  int rc;

  memset (out, 0, sizeof *out);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      out->id = sqlite3_column_int64 (stmt, 0);
      out->patient_ref = sqlite3_column_int64 (stmt, 1);
      out->study_uid = col_dup (stmt, 2);
      out->patient_id = col_dup (stmt, 3);
      out->study_date = col_dup (stmt, 4);
      out->description = col_dup (stmt, 5);
      out->series_numbers = col_dup (stmt, 6);
      out->id_flagged = sqlite3_column_int (stmt, 7) != 0;
    }
  sqlite3_finalize (stmt);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("No study %s in the workspace"), study_uid);
  else
    _cu_store_set_db_error (self->db, error, _("Reading a study failed"));
  return FALSE;
}

/* NULL when now may supersede old, else why not (translated). */
static char *
supersede_refusal (const CuStudyGate *old_gate, const CuStudyGate *new_gate,
                   const StudyShape *old, const StudyShape *now)
{
  if (strcmp (old->study_uid, now->study_uid) == 0)
    return g_strdup (_("a study cannot supersede itself"));
  if (old_gate->state != CU_GATE_QUARANTINED && old_gate->state != CU_GATE_PENDING)
    /* TRANSLATORS: %s is a gate state: "Passed", "Overridden", "Superseded" */
    return g_strdup_printf (_("it is %s; only a quarantined or unchecked study is superseded"),
                            cu_gate_state_to_label (old_gate->state));
  if (new_gate->state == CU_GATE_SUPERSEDED)
    return g_strdup (_("the replacement is itself superseded"));
  if (g_strcmp0 (old->patient_id, now->patient_id) != 0 && !old->id_flagged)
    return g_strdup (_("the two studies have different pseudonyms (PatientID)"));
  if (g_strcmp0 (old->study_date, now->study_date) != 0)
    return g_strdup (_("the two studies have different study dates"));
  if (g_strcmp0 (old->series_numbers, now->series_numbers) != 0)
    return g_strdup (_("the two studies have different series (series numbers)"));
  return NULL;
}

/* ---- Superseding ------------------------------------------------------------------------- */

gboolean
cu_store_supersede_study (CuStore *self, const char *old_uid, const char *new_uid,
                          const char *reason, GError **error)
{
  g_autoptr(CuStudyGate) old_gate = NULL;
  g_autoptr(CuStudyGate) new_gate = NULL;
  g_auto(StudyShape) old = { 0 };
  g_auto(StudyShape) now = { 0 };
  g_autofree char *why = NULL;
  g_autofree char *stripped = NULL;
  g_autofree char *time = NULL;
  g_autofree char *detail = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (old_uid != NULL && new_uid != NULL, FALSE);

  stripped = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  if (*stripped == '\0')
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("Superseding a study needs a reason"));
      return FALSE;
    }

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  old_gate = cu_store_get_study_gate (self, old_uid, error);
  if (old_gate == NULL)
    goto fail;
  new_gate = cu_store_get_study_gate (self, new_uid, error);
  if (new_gate == NULL)
    goto fail;
  if (!study_shape (self, old_uid, &old, error) || !study_shape (self, new_uid, &now, error))
    goto fail;
  why = supersede_refusal (old_gate, new_gate, &old, &now);
  if (why != NULL)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("Study %s cannot be superseded by %s: %s"), old_uid, new_uid, why);
      goto fail;
    }

  time = _cu_store_now_iso8601 ();
  stmt = _cu_store_prepare (self->db,
                            "INSERT INTO study_superseded (study_ref, by_study_uid, reason, user, time)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, old.id);
  sqlite3_bind_text (stmt, 2, now.study_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, stripped, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, time, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    _cu_store_set_db_error (self->db, error, _("Recording the superseded study failed"));
  sqlite3_finalize (stmt);
  if (!ok)
    goto fail;

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "superseded_by");
  json_builder_add_string_value (b, now.study_uid);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, stripped);
  json_builder_set_member_name (b, "previous_state");
  json_builder_add_string_value (b, cu_gate_state_to_string (old_gate->state));
  json_builder_set_member_name (b, "errors");
  json_builder_add_int_value (b, old_gate->n_errors);
  json_builder_end_object (b);
  detail = json_to_text (b);
  /* The audit row is part of the transaction: a retirement that is not logged does not
   * happen. */
  if (!cu_store_audit (self, "study-superseded", old.study_uid, detail, error)
      || !_cu_store_exec (self->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return FALSE;
}

void
cu_supersede_candidate_free (CuSupersedeCandidate *candidate)
{
  if (candidate == NULL)
    return;
  g_free (candidate->study_uid);
  g_free (candidate->patient_id);
  g_free (candidate->study_date);
  g_free (candidate->description);
  g_free (candidate);
}

GPtrArray *
cu_store_list_supersede_candidates (CuStore *self, const char *old_uid, GError **error)
{
  g_autoptr(GPtrArray) gates = NULL;
  g_autoptr(GPtrArray) out = NULL;
  g_autoptr(CuStudyGate) old_gate = NULL;
  g_auto(StudyShape) old = { 0 };

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  g_return_val_if_fail (old_uid != NULL, NULL);

  old_gate = cu_store_get_study_gate (self, old_uid, error);
  if (old_gate == NULL || !study_shape (self, old_uid, &old, error))
    return NULL;
  gates = cu_store_list_gates (self, error);
  if (gates == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_supersede_candidate_free);
  for (guint i = 0; i < gates->len; i++)
    {
      const CuStudyGate *g = gates->pdata[i];
      g_auto(StudyShape) now = { 0 };
      g_autofree char *why = NULL;
      CuSupersedeCandidate *c;

      if (strcmp (g->study_uid, old.study_uid) == 0)
        continue;
      if (!study_shape (self, g->study_uid, &now, error))
        return NULL;
      why = supersede_refusal (old_gate, g, &old, &now);
      if (why != NULL)
        continue;
      c = g_new0 (CuSupersedeCandidate, 1);
      c->study_uid = g_steal_pointer (&now.study_uid);
      c->patient_id = g_steal_pointer (&now.patient_id);
      c->study_date = g_steal_pointer (&now.study_date);
      c->description = g_steal_pointer (&now.description);
      c->state = g->state;
      c->same_pseudonym = g_strcmp0 (old.patient_id, c->patient_id) == 0;
      g_ptr_array_add (out, c);
    }
  /* Passed studies first: the fixed copy the curator is looking for has no findings left. */
  for (guint i = 0, j = 0; i < out->len; i++)
    if (((CuSupersedeCandidate *) out->pdata[i])->state == CU_GATE_PASSED)
      {
        gpointer tmp = out->pdata[j];
        out->pdata[j++] = out->pdata[i];
        out->pdata[i] = tmp;
      }
  return g_steal_pointer (&out);
}

/* The import's offer: which of the studies just imported could supersede a quarantined one.
 * Checked from the quarantined side (there are few), with the rules of supersede_refusal. */
GPtrArray *
cu_store_find_fixed_copies (CuStore *self, const char *const *new_study_uids, GError **error)
{
  g_autoptr(GPtrArray) gates = NULL;
  g_autoptr(GPtrArray) pairs = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (CU_IS_STORE (self), NULL);

  if (new_study_uids == NULL || new_study_uids[0] == NULL)
    return g_steal_pointer (&pairs);
  gates = cu_store_list_gates (self, error);
  if (gates == NULL)
    return NULL;
  for (guint i = 0; i < gates->len; i++)
    {
      const CuStudyGate *g = gates->pdata[i];
      g_autoptr(GPtrArray) candidates = NULL;

      if (g->state != CU_GATE_QUARANTINED)
        continue;
      candidates = cu_store_list_supersede_candidates (self, g->study_uid, error);
      if (candidates == NULL)
        return NULL;
      for (guint c = 0; c < candidates->len; c++)
        {
          const CuSupersedeCandidate *cand = candidates->pdata[c];
          if (g_strv_contains (new_study_uids, cand->study_uid))
            {
              g_ptr_array_add (pairs, g_strdup (g->study_uid));
              g_ptr_array_add (pairs, g_strdup (cand->study_uid));
            }
        }
    }
  return g_steal_pointer (&pairs);
}

/* ---- Curation work attached to a study --------------------------------------------------- */

static gint64
count_for (CuStore *self, const char *sql, gint64 study_id, const char *study_uid,
           GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, sql, error);
  gint64 n = -1;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, study_id);
  sqlite3_bind_text (stmt, 2, study_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  else
    _cu_store_set_db_error (self->db, error, _("Reading a study's curation work failed"));
  sqlite3_finalize (stmt);
  return n;
}

#define SERIES_OF_STUDY "(SELECT series_uid FROM series WHERE study_ref = ?1)"

static gboolean
study_work (CuStore *self, const StudyShape *shape, CuStudyWork *work, GError **error)
{
  struct { guint *out; const char *sql; } queries[] = {
    { &work->n_qc_decisions,
      "SELECT count(*) FROM qc_decision WHERE state <> 'not-reviewed'"
      "   AND series_uid IN " SERIES_OF_STUDY },
    { &work->n_segmentations,
      "SELECT count(DISTINCT series_uid || char(31) || reader) FROM segmentation"
      " WHERE series_uid IN " SERIES_OF_STUDY },
    { &work->n_derived_series,
      "SELECT count(*) FROM derived_series WHERE series_uid IN " SERIES_OF_STUDY },
    { &work->n_flags,
      "SELECT count(*) FROM flag WHERE (study_uid = ?2 OR series_uid IN " SERIES_OF_STUDY ")"
      "   AND state <> 'withdrawn'" },
    { &work->n_superseded,
      "SELECT count(*) FROM study_superseded WHERE by_study_uid = ?2" },
  };

  memset (work, 0, sizeof *work);
  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      gint64 n = count_for (self, queries[i].sql, shape->id, shape->study_uid, error);
      if (n < 0)
        return FALSE;
      *queries[i].out = (guint) n;
    }
  return TRUE;
}

gboolean
cu_store_get_study_work (CuStore *self, const char *study_uid, CuStudyWork *work,
                         GError **error)
{
  g_auto(StudyShape) shape = { 0 };

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (study_uid != NULL && work != NULL, FALSE);

  return study_shape (self, study_uid, &shape, error) && study_work (self, &shape, work, error);
}

char *
cu_study_work_describe (const CuStudyWork *work)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (work != NULL, NULL);
  if (work->n_qc_decisions > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u quality decision",
                                                       "%u quality decisions",
                                                       work->n_qc_decisions),
                                             work->n_qc_decisions));
  if (work->n_segmentations > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u segmentation", "%u segmentations",
                                                       work->n_segmentations),
                                             work->n_segmentations));
  if (work->n_derived_series > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u derived series", "%u derived series",
                                                       work->n_derived_series),
                                             work->n_derived_series));
  if (work->n_flags > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("%u consistency flag",
                                                       "%u consistency flags", work->n_flags),
                                             work->n_flags));
  if (work->n_superseded > 0)
    g_ptr_array_add (parts, g_strdup_printf (ngettext ("it supersedes %u study",
                                                       "it supersedes %u studies",
                                                       work->n_superseded),
                                             work->n_superseded));
  if (parts->len == 0)
    return NULL;
  g_ptr_array_add (parts, NULL);
  return g_strjoinv (", ", (char **) parts->pdata);
}

/* ---- Removing ------------------------------------------------------------------------------ */

gboolean
cu_store_remove_study (CuStore *self, const char *study_uid, const char *reason,
                       gboolean force, GError **error)
{
  g_autoptr(CuStudyGate) gate = NULL;
  g_auto(StudyShape) shape = { 0 };
  g_autofree char *stripped = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *work_text = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(GPtrArray) restored = g_ptr_array_new_with_free_func (g_free);
  CuStudyWork work;
  gint64 n_instances = -1, n_series = -1;
  sqlite3_stmt *stmt;
  /* What goes with the study. The series' QC results are keyed by SeriesInstanceUID (they
   * survive a re-import), so they are deleted by UID here; the catalog rows below the study
   * go by ON DELETE CASCADE; a patient left without studies goes too. */
  static const char *const deletes[] = {
    "DELETE FROM qc_finding WHERE series_uid IN " SERIES_OF_STUDY,
    "DELETE FROM qc_metric WHERE series_uid IN " SERIES_OF_STUDY,
    "DELETE FROM qc_run WHERE series_uid IN " SERIES_OF_STUDY,
    "DELETE FROM qc_decision WHERE series_uid IN " SERIES_OF_STUDY,
    "DELETE FROM segmentation WHERE series_uid IN " SERIES_OF_STUDY,
    "DELETE FROM derived_series WHERE series_uid IN " SERIES_OF_STUDY,
    "DELETE FROM study WHERE id = ?1",
    "DELETE FROM patient WHERE id = ?2 AND NOT EXISTS (SELECT 1 FROM study WHERE patient_ref = ?2)",
  };

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (study_uid != NULL, FALSE);

  stripped = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  if (*stripped == '\0')
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("Removing a study needs a reason"));
      return FALSE;
    }

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  gate = cu_store_get_study_gate (self, study_uid, error);
  if (gate == NULL || !study_shape (self, study_uid, &shape, error)
      || !study_work (self, &shape, &work, error))
    goto fail;
  work_text = cu_study_work_describe (&work);
  if (work_text != NULL && !force)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IN_USE,
                   _("Study %s has curation work attached (%s); it was not removed"),
                   study_uid, work_text);
      goto fail;
    }

  n_series = count_for (self, "SELECT count(*) FROM series WHERE study_ref = ?1",
                        shape.id, shape.study_uid, error);
  n_instances = count_for (self, "SELECT count(*) FROM instance i JOIN series se"
                                 " ON i.series_ref = se.id WHERE se.study_ref = ?1",
                         shape.id, shape.study_uid, error);
  if (n_series < 0 || n_instances < 0)
    goto fail;

  /* Studies this one superseded get their own gate back: what retired them is gone. */
  stmt = _cu_store_prepare (self->db,
                            "SELECT st.study_uid FROM study_superseded ss"
                            "  JOIN study st ON ss.study_ref = st.id WHERE ss.by_study_uid = ?1"
                            " ORDER BY 1", error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, shape.study_uid, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (restored, col_dup (stmt, 0));
  sqlite3_finalize (stmt);
  stmt = _cu_store_prepare (self->db, "DELETE FROM study_superseded WHERE by_study_uid = ?1",
                            error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, shape.study_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Removing the study failed"));
      sqlite3_finalize (stmt);
      goto fail;
    }
  sqlite3_finalize (stmt);

  for (guint i = 0; i < G_N_ELEMENTS (deletes); i++)
    {
      gboolean ok;

      stmt = _cu_store_prepare (self->db, deletes[i], error);
      if (stmt == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, shape.id);
      if (sqlite3_bind_parameter_count (stmt) >= 2)
        sqlite3_bind_int64 (stmt, 2, shape.patient_ref);
      ok = sqlite3_step (stmt) == SQLITE_DONE;
      if (!ok)
        _cu_store_set_db_error (self->db, error, _("Removing the study failed"));
      sqlite3_finalize (stmt);
      if (!ok)
        goto fail;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, stripped);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, cu_gate_state_to_string (gate->state));
  json_builder_set_member_name (b, "patient_id");
  json_builder_add_string_value (b, shape.patient_id);
  json_builder_set_member_name (b, "series");
  json_builder_add_int_value (b, n_series);
  json_builder_set_member_name (b, "instances");
  json_builder_add_int_value (b, n_instances);
  json_builder_set_member_name (b, "forced");
  json_builder_add_boolean_value (b, force);
  if (work_text != NULL)
    {
      json_builder_set_member_name (b, "work_removed");
      json_builder_add_string_value (b, work_text);
    }
  json_builder_set_member_name (b, "no_longer_superseded");
  json_builder_begin_array (b);
  for (guint i = 0; i < restored->len; i++)
    json_builder_add_string_value (b, restored->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "files_kept_on_disk");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  detail = json_to_text (b);
  if (!cu_store_audit (self, "study-removed", shape.study_uid, detail, error)
      || !_cu_store_exec (self->db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  _cu_store_exec (self->db, "ROLLBACK", NULL);
  return FALSE;
}

/* ---- Resolving a study UID ------------------------------------------------------------- */

char *
cu_store_resolve_study (CuStore *self, const char *uid_or_prefix, GError **error)
{
  return _cu_store_resolve_uid (self, TRUE, uid_or_prefix, error);
}

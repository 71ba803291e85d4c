/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-qc.c — the quality gate in the workspace (cu-store-qc.h).
 *
 * The checks themselves are curation/qc/'s; this file keeps their results (the last run of a
 * series replaces the previous one, in one transaction) and the curator's decisions. A
 * decision is never inferred from the findings: error findings make a series a candidate for
 * rejection, but only a person accepts or rejects, and every decision is in the audit log.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-qc-check.h"
#include "cu-qc-cohort.h"
#include "cu-qc-protocol.h"
#include "cu-store-packs.h"
#include "cu-store-flags.h"
#include "cu-store-private.h"
#include "cu-store-qc.h"

static const char *const decision_ids[] = {
  "not-reviewed", "accepted", "accepted-remark", "rejected", "ask-site",
};

const char *
cu_qc_decision_to_string (CuQcDecisionState state)
{
  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (decision_ids), "not-reviewed");
  return decision_ids[state];
}

gboolean
cu_qc_decision_from_string (const char *text, CuQcDecisionState *state)
{
  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (decision_ids); i++)
    if (strcmp (text, decision_ids[i]) == 0)
      {
        *state = (CuQcDecisionState) i;
        return TRUE;
      }
  return FALSE;
}

const char *
cu_qc_decision_to_label (CuQcDecisionState state)
{
  static const char *const labels[] = {
    N_("Not reviewed"), N_("Accepted"), N_("Accepted with remark"), N_("Rejected"), N_("Ask the site"),
  };

  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (labels), "");
  return _(labels[state]);
}

void
cu_qc_decision_free (CuQcDecision *d)
{
  if (d == NULL)
    return;
  g_free (d->series_uid);
  g_free (d->reason);
  g_free (d->user);
  g_free (d->time);
  g_free (d);
}

void
cu_qc_summary_free (CuQcSummary *s)
{
  if (s == NULL)
    return;
  g_free (s->series_uid);
  g_free (s->study_uid);
  g_free (s->patient_id);
  g_free (s->modality);
  g_free (s->description);
  g_free (s->sequence);
  g_free (s->plane);
  g_free (s->scanner);
  g_free (s->stack_label);
  g_free (s->checked_at);
  g_free (s->reason);
  g_free (s);
}

void
cu_qc_metric_point_free (CuQcMetricPoint *p)
{
  if (p == NULL)
    return;
  g_free (p->series_uid);
  g_free (p->sequence);
  g_free (p->scanner);
  g_free (p);
}

static char *
col_dup (sqlite3_stmt *stmt, int col)
{
  const unsigned char *text = sqlite3_column_text (stmt, col);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

static void
bind_text_or_null (sqlite3_stmt *stmt, int i, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, i);
}

/* ---- Running and storing ------------------------------------------------------------- */

/* Run one statement whose ?1 is the series UID and ?2, when given, a text; FALSE with error
 * when it does not complete. */
static gboolean
run_for_series (sqlite3 *db, const char *sql, const char *series_uid, const char *text,
                GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (db, sql, error);
  gboolean done;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  if (text != NULL)
    sqlite3_bind_text (stmt, 2, text, -1, SQLITE_STATIC);
  done = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!done)
    _cu_store_set_db_error (db, error, _("Storing the quality check failed"));
  return done;
}

gboolean
cu_store_qc_save (CuStore *self, const CuQcReport *r, GError **error)
{
  g_autofree char *now = _cu_store_now_iso8601 ();
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (r != NULL && r->series_uid != NULL, FALSE);

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!run_for_series (self->db, "DELETE FROM qc_finding WHERE series_uid = ?1", r->series_uid, NULL, error)
      || !run_for_series (self->db, "DELETE FROM qc_metric WHERE series_uid = ?1", r->series_uid, NULL, error))
    goto out;

  stmt = _cu_store_prepare (self->db,
                            "INSERT OR REPLACE INTO qc_run (series_uid, time, n_errors, n_warnings,"
                            " n_info, modality, sequence, plane, scanner, stack_label, mask_threshold)"
                            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)", error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_text (stmt, 1, r->series_uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 3, r->n_errors);
  sqlite3_bind_int (stmt, 4, r->n_warnings);
  sqlite3_bind_int (stmt, 5, r->n_info);
  bind_text_or_null (stmt, 6, r->modality);
  bind_text_or_null (stmt, 7, r->sequence);
  bind_text_or_null (stmt, 8, r->plane);
  bind_text_or_null (stmt, 9, r->scanner);
  bind_text_or_null (stmt, 10, r->stack_label);
  if (isfinite (r->mask_threshold))
    sqlite3_bind_double (stmt, 11, r->mask_threshold);
  else
    sqlite3_bind_null (stmt, 11);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    goto db_error;
  sqlite3_finalize (stmt);

  stmt = _cu_store_prepare (self->db,
                            "INSERT INTO qc_finding (series_uid, code, severity, message, slice,"
                            " attribute, path) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", error);
  if (stmt == NULL)
    goto out;
  for (guint i = 0; i < r->findings->len; i++)
    {
      const CuQcFinding *f = r->findings->pdata[i];
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, r->series_uid, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, f->code, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, cu_qc_severity_to_string (f->severity), -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, f->message != NULL ? f->message : "", -1, SQLITE_STATIC);
      if (f->slice >= 0)
        sqlite3_bind_int (stmt, 5, f->slice);
      else
        sqlite3_bind_null (stmt, 5);
      bind_text_or_null (stmt, 6, f->attribute);
      bind_text_or_null (stmt, 7, f->path);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        goto db_error;
    }
  sqlite3_finalize (stmt);

  stmt = _cu_store_prepare (self->db,
                            "INSERT INTO qc_metric (series_uid, name, value) VALUES (?1, ?2, ?3)", error);
  if (stmt == NULL)
    goto out;
  for (guint i = 0; i < r->metrics->len + r->parameters->len; i++)
    {
      /* parameters share the table; their names start with "P_" */
      const CuQcMetric *m = i < r->metrics->len ? &g_array_index (r->metrics, CuQcMetric, i)
                                                : &g_array_index (r->parameters, CuQcMetric, i - r->metrics->len);
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, r->series_uid, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, m->name, -1, SQLITE_STATIC);
      if (isfinite (m->value))
        sqlite3_bind_double (stmt, 3, m->value);
      else
        sqlite3_bind_null (stmt, 3);
      if (sqlite3_step (stmt) != SQLITE_DONE)
        goto db_error;
    }
  sqlite3_finalize (stmt);
  stmt = NULL;
  ok = _cu_store_exec (self->db, "COMMIT", error);
  goto out;

db_error:
  _cu_store_set_db_error (self->db, error, _("Storing the quality check failed"));
out:
  if (stmt != NULL)
    sqlite3_finalize (stmt);
  if (!ok)
    _cu_store_exec (self->db, "ROLLBACK", NULL);
  return ok;
}

/* ---- findings from the series' lineage -------------------------------------------------- */

/* The motion a motion correction measured (cu-motion-correct.h's table in derived_series.result)
 * is a finding of the source series: a curator deciding on a 4D series must see that volumes
 * moved, whether or not the corrected copy is used. NULL when no motion correction ran. */
static CuQcFinding *
motion_finding (CuStore *self, const char *series_uid)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *derived = NULL, *result = NULL;
  sqlite3_stmt *stmt;
  JsonObject *o;
  JsonArray *volumes, *flagged;
  double threshold, max_fd;
  guint n, k;

  stmt = _cu_store_prepare (self->db,
                            "SELECT series_uid, result FROM derived_series"
                            " WHERE source_series_uid = ?1 AND method = 'motion-correct'"
                            " ORDER BY time DESC, rowid DESC LIMIT 1", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      derived = col_dup (stmt, 0);
      result = col_dup (stmt, 1);
    }
  sqlite3_finalize (stmt);
  if (result == NULL || !json_parser_load_from_data (parser, result, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  o = json_node_get_object (json_parser_get_root (parser));
  volumes = json_object_get_array_member (o, "volumes");
  flagged = json_object_get_array_member (o, "flagged");
  if (volumes == NULL || flagged == NULL)
    return NULL;
  n = json_array_get_length (volumes);
  k = json_array_get_length (flagged);
  threshold = json_object_get_double_member_with_default (o, "threshold_mm", NAN);
  max_fd = json_object_get_double_member_with_default (o, "max_fd_mm", NAN);
  if (k > 0)
    return cu_qc_finding_new (CU_QC_MOTION, CU_QC_SEVERITY_WARNING, -1, NULL, NULL,
                              g_strdup_printf (_("Motion: %u of %u volumes moved more than %.2g mm "
                                                 "(framewise displacement, largest %.2f mm); the "
                                                 "motion-corrected copy is series %s"),
                                               k, n, threshold, max_fd, derived));
  return cu_qc_finding_new (CU_QC_MOTION, CU_QC_SEVERITY_INFO, -1, NULL, NULL,
                            g_strdup_printf (_("Motion within %.2g mm over %u volumes (framewise "
                                               "displacement, largest %.2f mm)"),
                                             threshold, n, max_fd));
}

gboolean
cu_store_qc_update_lineage (CuStore *self, const char *series_uid, GError **error)
{
  g_autoptr (CuQcFinding) f = NULL;
  sqlite3_stmt *stmt;
  gboolean checked, ok;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  g_return_val_if_fail (series_uid != NULL, FALSE);

  stmt = _cu_store_prepare (self->db, "SELECT 1 FROM qc_run WHERE series_uid = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  checked = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  /* A series not checked yet gets them from cu_store_qc_run. */
  if (!checked)
    return TRUE;

  f = motion_finding (self, series_uid);
  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  ok = run_for_series (self->db, "DELETE FROM qc_finding WHERE series_uid = ?1 AND code = ?2",
                       series_uid, CU_QC_MOTION, error);
  if (ok && f != NULL)
    {
      ok = FALSE;
      stmt = _cu_store_prepare (self->db,
                                "INSERT INTO qc_finding (series_uid, code, severity, message)"
                                " VALUES (?1, ?2, ?3, ?4)", error);
      if (stmt != NULL)
        {
          sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 2, f->code, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 3, cu_qc_severity_to_string (f->severity), -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 4, f->message, -1, SQLITE_STATIC);
          ok = sqlite3_step (stmt) == SQLITE_DONE;
          if (!ok)
            _cu_store_set_db_error (self->db, error, _("Storing the quality check failed"));
          sqlite3_finalize (stmt);
        }
    }
  /* The run's counts follow its findings. */
  ok = ok && run_for_series (self->db,
                             "UPDATE qc_run SET"
                             " n_errors = (SELECT count(*) FROM qc_finding WHERE series_uid = ?1 AND severity = 'error'),"
                             " n_warnings = (SELECT count(*) FROM qc_finding WHERE series_uid = ?1 AND severity = 'warning'),"
                             " n_info = (SELECT count(*) FROM qc_finding WHERE series_uid = ?1 AND severity = 'info')"
                             " WHERE series_uid = ?1", series_uid, NULL, error);
  ok = ok && _cu_store_exec (self->db, "COMMIT", error);
  if (!ok)
    _cu_store_exec (self->db, "ROLLBACK", NULL);
  return ok;
}

CuQcReport *
cu_store_qc_run (CuStore *self, const char *series_uid, CuProgress *progress,
                 GCancellable *cancellable, GError **error)
{
  g_autofree char *uid = NULL;
  g_auto (GStrv) files = NULL;
  g_autoptr (CuQcReport) report = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  uid = cu_store_resolve_series (self, series_uid, error);
  if (uid == NULL)
    return NULL;
  files = cu_store_get_series_files (self, uid, error);
  if (files == NULL)
    return NULL;
  report = cu_qc_run_files ((const char *const *) files, progress, cancellable, error);
  if (report == NULL)
    return NULL;
  /* The catalog's UID is authoritative (a file without one would leave it NULL). */
  g_free (report->series_uid);
  report->series_uid = g_strdup (uid);
  {
    CuQcFinding *motion = motion_finding (self, uid);
    if (motion != NULL)
      cu_qc_report_add (report, motion);
  }
  if (!cu_store_qc_save (self, report, error))
    return NULL;
  return g_steal_pointer (&report);
}

CuQcReport *
cu_store_qc_load (CuStore *self, const char *series_uid, GError **error)
{
  g_autoptr (CuQcReport) r = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db,
                            "SELECT modality, sequence, plane, scanner, stack_label, mask_threshold,"
                            " (SELECT nullif (trim (se.body_part), '') FROM series se"
                            "   WHERE se.series_uid = qc_run.series_uid)"
                            " FROM qc_run WHERE series_uid = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                   _("Series %s has not been checked yet"), series_uid);
      return NULL;
    }
  r = cu_qc_report_new ();
  r->series_uid = g_strdup (series_uid);
  r->modality = col_dup (stmt, 0);
  r->sequence = col_dup (stmt, 1);
  r->plane = col_dup (stmt, 2);
  r->scanner = col_dup (stmt, 3);
  r->stack_label = col_dup (stmt, 4);
  r->mask_threshold = sqlite3_column_type (stmt, 5) == SQLITE_NULL ? NAN : sqlite3_column_double (stmt, 5);
  r->body_part = col_dup (stmt, 6);
  sqlite3_finalize (stmt);

  stmt = _cu_store_prepare (self->db,
                            "SELECT code, severity, message, slice, attribute, path FROM qc_finding"
                            " WHERE series_uid = ?1 ORDER BY id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    cu_qc_report_add (r, cu_qc_finding_new ((const char *) sqlite3_column_text (stmt, 0),
                                            cu_qc_severity_from_string ((const char *) sqlite3_column_text (stmt, 1)),
                                            sqlite3_column_type (stmt, 3) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 3),
                                            (const char *) sqlite3_column_text (stmt, 4),
                                            (const char *) sqlite3_column_text (stmt, 5),
                                            col_dup (stmt, 2)));
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the quality findings failed"));
      return NULL;
    }

  stmt = _cu_store_prepare (self->db, "SELECT name, value FROM qc_metric WHERE series_uid = ?1 ORDER BY rowid",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);
      double value = sqlite3_column_type (stmt, 1) == SQLITE_NULL ? NAN : sqlite3_column_double (stmt, 1);
      if (g_str_has_prefix (name, "P_"))
        {
          CuQcMetric m = { { 0 }, value };
          g_strlcpy (m.name, name, sizeof m.name);
          g_array_append_val (r->parameters, m);
        }
      else
        cu_qc_report_set_metric (r, name, value);
    }
  sqlite3_finalize (stmt);
  return g_steal_pointer (&r);
}

GPtrArray *
cu_store_qc_list (CuStore *self, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_summary_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db,
                            "SELECT se.series_uid, st.study_uid, p.patient_id, se.series_number,"
                            "       se.modality, se.description, r.time, r.n_errors, r.n_warnings,"
                            "       r.n_info, r.sequence, r.plane, r.scanner, r.stack_label,"
                            "       d.state, d.reason,"
                            "       EXISTS (SELECT 1 FROM instance i WHERE i.series_ref = se.id"
                            "                 AND i.has_pixels AND i.rows > 0 AND i.columns > 0)"
                            "         AND coalesce (se.modality, '') NOT IN"
                            "           ('SEG', 'RTSTRUCT', 'SR', 'RTPLAN', 'KO', 'PR', 'REG')"
                            "  FROM series se JOIN study st ON se.study_ref = st.id"
                            "  JOIN patient p ON st.patient_ref = p.id"
                            "  LEFT JOIN qc_run r ON r.series_uid = se.series_uid"
                            "  LEFT JOIN qc_decision d ON d.series_uid = se.series_uid"
                            " ORDER BY p.patient_id, st.study_date, st.study_uid, se.series_number,"
                            "          se.series_uid", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CuQcSummary *s = g_new0 (CuQcSummary, 1);
      s->series_uid = col_dup (stmt, 0);
      s->study_uid = col_dup (stmt, 1);
      s->patient_id = col_dup (stmt, 2);
      s->series_number = sqlite3_column_type (stmt, 3) == SQLITE_NULL ? -1 : sqlite3_column_int (stmt, 3);
      s->modality = col_dup (stmt, 4);
      s->description = col_dup (stmt, 5);
      s->checked = sqlite3_column_type (stmt, 6) != SQLITE_NULL;
      s->checked_at = col_dup (stmt, 6);
      s->n_errors = sqlite3_column_int (stmt, 7);
      s->n_warnings = sqlite3_column_int (stmt, 8);
      s->n_info = sqlite3_column_int (stmt, 9);
      s->sequence = col_dup (stmt, 10);
      s->plane = col_dup (stmt, 11);
      s->scanner = col_dup (stmt, 12);
      s->stack_label = col_dup (stmt, 13);
      if (!cu_qc_decision_from_string ((const char *) sqlite3_column_text (stmt, 14), &s->state))
        s->state = CU_QC_DECISION_NOT_REVIEWED;
      s->reason = col_dup (stmt, 15);
      s->has_images = sqlite3_column_int (stmt, 16) != 0;
      g_ptr_array_add (list, s);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Listing the quality gate failed"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

char **
cu_store_qc_list_unchecked (CuStore *self, GError **error)
{
  g_autoptr (GPtrArray) list = cu_store_qc_list (self, error);
  GPtrArray *uids;

  if (list == NULL)
    return NULL;
  uids = g_ptr_array_new ();
  for (guint i = 0; i < list->len; i++)
    {
      const CuQcSummary *s = list->pdata[i];
      if (!s->checked && s->has_images)
        g_ptr_array_add (uids, g_strdup (s->series_uid));
    }
  g_ptr_array_add (uids, NULL);
  return (char **) g_ptr_array_free (uids, FALSE);
}

/* ---- Decisions ----------------------------------------------------------------------- */

CuQcDecision *
cu_store_qc_get_decision (CuStore *self, const char *series_uid, GError **error)
{
  CuQcDecision *d;
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db,
                            "SELECT state, reason, user, time FROM qc_decision WHERE series_uid = ?1",
                            error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  d = g_new0 (CuQcDecision, 1);
  d->series_uid = g_strdup (series_uid);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      if (!cu_qc_decision_from_string ((const char *) sqlite3_column_text (stmt, 0), &d->state))
        d->state = CU_QC_DECISION_NOT_REVIEWED;
      d->reason = col_dup (stmt, 1);
      d->user = col_dup (stmt, 2);
      d->time = col_dup (stmt, 3);
    }
  sqlite3_finalize (stmt);
  return d;
}

#define ASK_SITE_RULE "qc-ask-site"

/* In the decision's transaction: "ask the site" raises an image flag on the series (one per
 * series; a new reason refreshes its text), so that the question reaches the site's bundle;
 * any other decision resolves the series' open one, since the curator no longer waits for the
 * site. */
static gboolean
sync_ask_site_flag (CuStore *self, const char *uid, CuQcDecisionState state, const char *reason,
                    const char *now, GError **error)
{
  g_autofree char *key = g_strconcat (ASK_SITE_RULE "\x1f", uid, NULL);
  sqlite3_stmt *stmt;
  g_autoptr (GArray) open_ids = NULL;

  if (state == CU_QC_DECISION_ASK_SITE)
    {
      g_autoptr (CuSeriesRecord) rec = cu_store_get_series (self, uid, error);
      CuStoreFlagSpec spec = { 0 };

      if (rec == NULL)
        return FALSE;
      spec.kind = "image";
      spec.rule_id = ASK_SITE_RULE;
      spec.severity = "warning";
      spec.title = "Question about a series";
      spec.key = key;
      spec.person_id = rec->patient_id;
      spec.study_uid = rec->study_uid;
      spec.series_uid = uid;
      spec.message = reason;
      return cu_store_flag_raise (self, &spec, _("raised by a quality decision: ask the site"), NULL,
                                  error) != 0;
    }

  stmt = _cu_store_prepare (self->db, "SELECT id, state FROM flag WHERE key = ?1"
                                      " AND state IN ('open', 'sent', 'answered')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  open_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (open_ids, id);
    }
  sqlite3_finalize (stmt);
  for (guint i = 0; i < open_ids->len; i++)
    {
      gint64 id = g_array_index (open_ids, gint64, i);
      g_autofree char *comment = g_strdup_printf (_("closed: the curator decided “%s”"),
                                                  cu_qc_decision_to_label (state));
      g_autofree char *from = NULL;

      stmt = _cu_store_prepare (self->db, "SELECT state FROM flag WHERE id = ?1", error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        from = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      sqlite3_finalize (stmt);
      if (!cu_store_flag_set_state_row (self, id, "resolved", now, error)
          || !cu_store_flag_record_event (self, id, from, "resolved", comment, NULL, NULL, NULL, now,
                                          error))
        return FALSE;
    }
  return TRUE;
}

gboolean
cu_store_qc_decide (CuStore *self, const char *series_uid, CuQcDecisionState state,
                    const char *reason, GError **error)
{
  g_autofree char *uid = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (reason != NULL ? reason : ""));
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autoptr (CuQcDecision) before = NULL;
  g_autoptr (JsonBuilder) b = NULL;
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *detail = NULL;
  g_autoptr (CuQcReport) report = NULL;
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  if ((guint) state >= CU_QC_DECISION_N_STATES)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID, _("Unknown decision"));
      return FALSE;
    }
  uid = cu_store_resolve_series (self, series_uid, error);
  if (uid == NULL)
    return FALSE;
  if (*trimmed == '\0' && state != CU_QC_DECISION_ACCEPTED && state != CU_QC_DECISION_NOT_REVIEWED)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_INVALID,
                   _("“%s” needs a reason: say what the readers or the site should know"),
                   cu_qc_decision_to_label (state));
      return FALSE;
    }
  before = cu_store_qc_get_decision (self, uid, error);
  if (before == NULL)
    return FALSE;
  report = cu_store_qc_load (self, uid, NULL);

  if (!_cu_store_exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = _cu_store_prepare (self->db,
                            "INSERT OR REPLACE INTO qc_decision (series_uid, state, reason, user, time)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (stmt == NULL)
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, cu_qc_decision_to_string (state), -1, SQLITE_STATIC);
  bind_text_or_null (stmt, 3, *trimmed ? trimmed : NULL);
  sqlite3_bind_text (stmt, 4, g_get_user_name (), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, now, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  sqlite3_finalize (stmt);
  if (!ok)
    {
      _cu_store_set_db_error (self->db, error, _("Recording the decision failed"));
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }

  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, cu_qc_decision_to_string (state));
  json_builder_set_member_name (b, "previous");
  json_builder_add_string_value (b, cu_qc_decision_to_string (before->state));
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, trimmed);
  json_builder_set_member_name (b, "errors");
  if (report != NULL)
    json_builder_add_int_value (b, report->n_errors);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  detail = json_generator_to_data (gen, NULL);
  if (!cu_store_audit (self, "qc-decision", uid, detail, error)
      || !sync_ask_site_flag (self, uid, state, trimmed, now, error))
    {
      _cu_store_exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  return _cu_store_exec (self->db, "COMMIT", error);
}

gboolean
cu_store_series_can_annotate (CuStore *self, const char *series_uid)
{
  g_autoptr (CuSeriesRecord) rec = NULL;
  g_autoptr (CuQcDecision) d = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  if (series_uid == NULL)
    return FALSE;
  rec = cu_store_get_series (self, series_uid, NULL);
  if (rec == NULL || !cu_store_study_can_annotate (self, rec->study_uid))
    return FALSE;
  d = cu_store_qc_get_decision (self, series_uid, NULL);
  return d != NULL && (d->state == CU_QC_DECISION_ACCEPTED || d->state == CU_QC_DECISION_ACCEPTED_REMARK);
}

GPtrArray *
cu_store_qc_metric_points (CuStore *self, const char *metric, GError **error)
{
  g_autoptr (GPtrArray) points = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_metric_point_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db,
                            "SELECT m.series_uid, r.sequence, r.scanner, m.value FROM qc_metric m"
                            "  JOIN qc_run r ON r.series_uid = m.series_uid"
                            " WHERE m.name = ?1 AND m.value IS NOT NULL ORDER BY m.series_uid", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, metric, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CuQcMetricPoint *p = g_new0 (CuQcMetricPoint, 1);
      p->series_uid = col_dup (stmt, 0);
      p->sequence = col_dup (stmt, 1);
      p->scanner = col_dup (stmt, 2);
      p->value = sqlite3_column_double (stmt, 3);
      g_ptr_array_add (points, p);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (self->db, error, _("Reading the quality metrics failed"));
      return NULL;
    }
  return g_steal_pointer (&points);
}

/* Smaller groups have no meaningful median and spread. */
#define MIN_GROUP 5

static int
compare_outliers (gconstpointer pa, gconstpointer pb)
{
  const CuQcOutlier *a = *(CuQcOutlier *const *) pa, *b = *(CuQcOutlier *const *) pb;
  double x = fabs (a->z), y = fabs (b->z);
  return x > y ? -1 : x < y;
}

GPtrArray *
cu_store_qc_cohort_outliers (CuStore *self, double threshold, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_outlier_free);
  const char *const *metrics = cu_qc_cohort_metrics ();

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  for (guint m = 0; metrics[m] != NULL; m++)
    {
      g_autoptr (GPtrArray) points = cu_store_qc_metric_points (self, metrics[m], error);
      g_autoptr (GHashTable) groups = NULL;
      GHashTableIter it;
      gpointer key, value;

      if (points == NULL)
        return NULL;
      groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_ptr_array_unref);
      for (guint i = 0; i < points->len; i++)
        {
          CuQcMetricPoint *p = points->pdata[i];
          const char *seq = p->sequence != NULL ? p->sequence : "";
          GPtrArray *g = g_hash_table_lookup (groups, seq);
          if (g == NULL)
            g_hash_table_insert (groups, (gpointer) seq, g = g_ptr_array_new ());
          g_ptr_array_add (g, p);
        }
      g_hash_table_iter_init (&it, groups);
      while (g_hash_table_iter_next (&it, &key, &value))
        {
          GPtrArray *g = value;
          g_autofree double *v = NULL;
          g_autofree double *z = NULL;
          double median;

          if (g->len < MIN_GROUP)
            continue;
          v = g_new (double, g->len);
          z = g_new (double, g->len);
          for (guint i = 0; i < g->len; i++)
            v[i] = ((CuQcMetricPoint *) g->pdata[i])->value;
          cu_qc_robust_z (v, g->len, z, &median, NULL);
          for (guint i = 0; i < g->len; i++)
            if (isfinite (z[i]) && fabs (z[i]) > threshold)
              {
                CuQcMetricPoint *p = g->pdata[i];
                CuQcOutlier *o = g_new0 (CuQcOutlier, 1);
                o->series_uid = g_strdup (p->series_uid);
                o->sequence = g_strdup (p->sequence);
                o->scanner = g_strdup (p->scanner);
                g_strlcpy (o->metric, metrics[m], sizeof o->metric);
                o->value = p->value;
                o->median = median;
                o->z = z[i];
                g_ptr_array_add (out, o);
              }
        }
    }
  g_ptr_array_sort (out, compare_outliers);
  return g_steal_pointer (&out);
}

/* ---- Protocol conformance ------------------------------------------------------------ */

#define SETTING_PROTOCOL "qc.protocol"

char *
cu_store_qc_get_protocol (CuStore *self)
{
  sqlite3_stmt *stmt;
  char *value = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), NULL);
  stmt = _cu_store_prepare (self->db, "SELECT value FROM setting WHERE key = ?1", NULL);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, SETTING_PROTOCOL, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        value = col_dup (stmt, 0);
      sqlite3_finalize (stmt);
    }
  return value != NULL ? value : g_strdup (CU_QC_PROTOCOL_DEFAULT);
}

gboolean
cu_store_qc_set_protocol (CuStore *self, const char *id_or_path, GError **error)
{
  g_autoptr (CuQcProtocol) p = NULL;
  g_autofree char *stored = NULL;

  g_return_val_if_fail (CU_IS_STORE (self), FALSE);
  p = cu_qc_protocol_load (id_or_path, error);
  if (p == NULL)
    return FALSE;
  /* a file is kept by its absolute path: the workspace may be used from another folder */
  stored = g_path_is_absolute (id_or_path) || g_str_equal (id_or_path, cu_qc_protocol_get_id (p))
           ? g_strdup (id_or_path) : g_canonicalize_filename (id_or_path, NULL);
  if (!cu_store_set_setting (self, SETTING_PROTOCOL, stored, error))
    return FALSE;
  return cu_store_audit (self, "qc-protocol", NULL, stored, error);
}

void
cu_qc_study_conformance_free (CuQcStudyConformance *c)
{
  if (c == NULL)
    return;
  g_free (c->study_uid);
  g_free (c->patient_id);
  g_free (c->protocols);
  g_clear_pointer (&c->findings, g_ptr_array_unref);
  g_free (c);
}

static char *
chosen_protocol (CuStore *self)
{
  sqlite3_stmt *stmt = _cu_store_prepare (self->db, "SELECT value FROM setting WHERE key = ?1", NULL);
  char *value = NULL;

  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, SETTING_PROTOCOL, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        value = col_dup (stmt, 0);
      sqlite3_finalize (stmt);
    }
  return value;
}

GPtrArray *
cu_store_qc_protocols (CuStore *self, GError **error)
{
  g_autofree char *chosen = chosen_protocol (self);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_protocol_free);

  if (chosen != NULL)
    {
      CuQcProtocol *p = cu_qc_protocol_load (chosen, error);
      if (p == NULL)
        return NULL;
      g_ptr_array_add (out, p);
    }
  else
    {
      g_autoptr (CuPackSet) packs = cu_store_get_packs (self);
      GPtrArray *files = cu_pack_set_get_protocols (packs);

      for (guint i = 0; i < files->len; i++)
        {
          const CuPackFile *f = files->pdata[i];
          CuQcProtocol *p = cu_qc_protocol_new_from_data (f->text, f->file, error);
          if (p == NULL)
            return NULL;
          g_ptr_array_add (out, p);
        }
    }
  return g_steal_pointer (&out);
}

/* Judge one study by every protocol that applies to it. */
static CuQcStudyConformance *
conformance (GPtrArray *protocols, const char *study_uid, const char *patient_id, GPtrArray *reports)
{
  CuQcStudyConformance *c = g_new0 (CuQcStudyConformance, 1);
  g_autoptr (GString) ids = g_string_new (NULL);
  guint n_applied = 0;

  c->study_uid = g_strdup (study_uid);
  c->patient_id = g_strdup (patient_id);
  c->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_finding_free);
  for (guint p = 0; p < protocols->len; p++)
    if (cu_qc_protocol_applies (protocols->pdata[p], reports))
      n_applied++;
  for (guint p = 0; p < protocols->len; p++)
    {
      CuQcProtocol *protocol = protocols->pdata[p];
      g_autoptr (GPtrArray) f = NULL;

      if (!cu_qc_protocol_applies (protocol, reports) && !(n_applied == 0 && protocols->len == 1))
        continue;
      f = cu_qc_protocol_check (protocol, reports);
      if (n_applied > 0)
        g_string_append_printf (ids, "%s%s", ids->len ? ", " : "", cu_qc_protocol_get_id (protocol));
      for (guint k = 0; k < f->len; k++)
        {
          CuQcFinding *finding = f->pdata[k];
          if (n_applied > 1)
            {
              /* several protocols judge the study: say which one a finding is of */
              char *m = g_strdup_printf ("%s: %s", cu_qc_protocol_get_name (protocol), finding->message);
              g_free (finding->message);
              finding->message = m;
            }
          g_ptr_array_add (c->findings, g_steal_pointer (&f->pdata[k]));
        }
    }
  if (n_applied == 0 && protocols->len != 1)
    {
      g_autoptr (GString) all = g_string_new (NULL);
      for (guint p = 0; p < protocols->len; p++)
        g_string_append_printf (all, "%s%s", p ? ", " : "", cu_qc_protocol_get_name (protocols->pdata[p]));
      g_ptr_array_add (c->findings,
                       cu_qc_finding_new (CU_QC_PROTOCOL, CU_QC_SEVERITY_INFO, -1, NULL, NULL,
                                          protocols->len == 0
                                            ? g_strdup (_("Outside every protocol: the workspace's packs have none"))
                                            : g_strdup_printf (_("Outside every protocol of the workspace (%s): "
                                                                 "not judged by any of them"),
                                                               all->str)));
    }
  c->protocols = n_applied > 0 ? g_strdup (ids->str) : NULL;
  for (guint k = 0; k < c->findings->len; k++)
    {
      CuQcSeverity sev = ((CuQcFinding *) c->findings->pdata[k])->severity;
      c->n_errors += sev == CU_QC_SEVERITY_ERROR;
      c->n_warnings += sev == CU_QC_SEVERITY_WARNING;
    }
  return c;
}

GPtrArray *
cu_store_qc_check_protocol (CuStore *self, const char *study_uid, GError **error)
{
  g_autoptr (GPtrArray) protocols = cu_store_qc_protocols (self, error);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_study_conformance_free);
  guint i = 0;

  if (protocols == NULL)
    return NULL;
  list = cu_store_qc_list (self, error);
  if (list == NULL)
    return NULL;
  /* the list is ordered by study: one group of consecutive rows per study */
  while (i < list->len)
    {
      const CuQcSummary *first = list->pdata[i];
      g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_report_free);
      CuQcStudyConformance *c;
      guint j = i;

      for (; j < list->len && g_strcmp0 (((CuQcSummary *) list->pdata[j])->study_uid, first->study_uid) == 0; j++)
        {
          const CuQcSummary *s = list->pdata[j];
          CuQcReport *r = s->checked ? cu_store_qc_load (self, s->series_uid, NULL) : NULL;
          if (r != NULL)
            g_ptr_array_add (reports, r);
        }
      if (study_uid == NULL || g_strcmp0 (study_uid, first->study_uid) == 0)
        {
          c = conformance (protocols, first->study_uid, first->patient_id, reports);
          g_ptr_array_add (out, c);
        }
      i = j;
    }
  return g_steal_pointer (&out);
}

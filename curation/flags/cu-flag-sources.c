/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-sources.c — the flags that do not come from the consistency rules: raised by hand
 * (a question, an image request, an incidental finding), by the pseudonymization gate (a
 * quarantined study to send again), and closed by the fixed copy that answers them.
 *
 * A flag of these kinds lives the same life as a rule's (cu-flags.h): same states, history
 * and audit rows, same bundles. What differs is what closes it: a rule's flag closes when the
 * rule no longer finds its cause; an image flag when a fixed copy of its series passes the
 * gates; a pseudonymization flag when its study (or the copy replacing it) passes the gate.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "cu-flags-private.h"
#include "cu-release.h"
#include "cu-seg-measure.h"
#include "cu-store-seg.h"
#include "cu-store-flags.h"
#include "cu-store-private.h"
#include "cu-store-qc.h"

/* ---- By hand ------------------------------------------------------------------------ */

static gint64 raise_deid (CuStore *store, const char *study_uid, const char *note, GError **error);

static char *
study_patient (CuStore *store, const char *study_uid)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT p.patient_id FROM study st JOIN patient p ON p.id = st.patient_ref WHERE st.study_uid = ?1",
    NULL);
  char *patient = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, study_uid, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    patient = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return patient;
}

static gboolean
patient_known (CuStore *store, const char *patient_id)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT 1 FROM patient WHERE patient_id = ?1 UNION SELECT 1 FROM clinical_person WHERE person_id = ?1",
    NULL);
  gboolean known = FALSE;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, patient_id, -1, SQLITE_STATIC);
  known = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return known;
}

/* A flag about a lesion: the label's name, volume and longest diameter go in front of the
 * message (the site finds the lesion by them and by the marked thumbnail, never by a UID) and
 * in the details; its centroid in *lps. */
static gboolean
lesion_details (CuStore *store, const char *series, const CuFlagNew *spec, char **message,
                char **details, double lps[3], GError **error)
{
  const char *reader = spec->reader != NULL ? spec->reader : cu_store_seg_default_reader ();
  g_autoptr(CuLabelMap) map = NULL;
  const CuLabel *label = NULL;
  CuSegMeasure m;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *about = NULL, *note = NULL;

  if (spec->lesion < 1 || spec->lesion > 255)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("A lesion is a label value from 1 to 255, not %d"), spec->lesion);
      return FALSE;
    }
  map = cu_store_seg_load (store, series, reader, 0, NULL, error);
  if (map == NULL)
    return FALSE;
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    if (cu_label_map_get_label_at (map, i)->value == spec->lesion)
      label = cu_label_map_get_label_at (map, i);
  if (!cu_seg_measure (map, (guint8) spec->lesion, &m))
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                   _("Label %d has no voxel in %s's segmentation of series %s"), spec->lesion,
                   reader, series);
      return FALSE;
    }
  memcpy (lps, m.centroid_lps, sizeof m.centroid_lps);
  /* TRANSLATORS: a flag about a lesion: label value, name, volume (mL), longest diameter (mm) */
  about = g_strdup_printf (_("Lesion %d “%s” (%.2f mL, longest diameter %.1f mm)"), spec->lesion,
                           label != NULL && label->name != NULL ? label->name : "",
                           m.volume_ml, m.longest_diameter_mm);
  note = g_strdup (*message);
  if ((*message)[0] != '\0')
    {
      char *joined = g_strdup_printf ("%s: %s", about, *message);
      g_free (*message);
      *message = joined;
    }
  else
    {
      g_free (*message);
      *message = g_steal_pointer (&about);
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "lesion");
  json_builder_add_int_value (b, spec->lesion);
  json_builder_set_member_name (b, "lesion_name");
  json_builder_add_string_value (b, label != NULL && label->name != NULL ? label->name : "");
  json_builder_set_member_name (b, "volume_ml");
  json_builder_add_double_value (b, m.volume_ml);
  json_builder_set_member_name (b, "longest_diameter_mm");
  json_builder_add_double_value (b, m.longest_diameter_mm);
  json_builder_set_member_name (b, "note");
  json_builder_add_string_value (b, note);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  *details = json_to_string (root, FALSE);
  return TRUE;
}

gint64
cu_flags_add (CuStore *store, const CuFlagNew *spec, GError **error)
{
  g_autofree char *series = NULL, *study = NULL, *patient = NULL, *message = NULL;
  g_autofree char *key = NULL, *position = NULL, *uuid = NULL, *details = NULL;
  CuStoreFlagSpec row = { 0 };
  const double *where = spec->position;
  double lesion_lps[3];
  const char *severity;
  gint64 id;

  g_return_val_if_fail (CU_IS_STORE (store) && spec != NULL, 0);

  if (spec->kind == CU_FLAG_KIND_RULE)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("A flag raised by hand is a question, an image request, an incidental finding "
                     "or a study to send again after fixing its pseudonymization"));
      return 0;
    }
  message = g_strstrip (g_strdup (spec->message != NULL ? spec->message : ""));
  if (message[0] == '\0' && spec->kind != CU_FLAG_KIND_DEID && spec->lesion == 0)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("The flag needs a message: say what the site should do or answer"));
      return 0;
    }
  severity = spec->severity != NULL ? spec->severity
             : spec->kind == CU_FLAG_KIND_INCIDENTAL ? "error" : "warning";
  if (strcmp (severity, "info") != 0 && strcmp (severity, "warning") != 0
      && strcmp (severity, "error") != 0)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("Unknown severity “%s”: info, warning or error"), severity);
      return 0;
    }

  if (spec->series_uid != NULL)
    {
      g_autoptr(CuSeriesRecord) rec = NULL;

      series = cu_store_resolve_series (store, spec->series_uid, error);
      if (series == NULL)
        return 0;
      rec = cu_store_get_series (store, series, error);
      if (rec == NULL)
        return 0;
      study = g_strdup (rec->study_uid);
      patient = g_strdup (rec->patient_id);
    }
  else if (spec->study_uid != NULL)
    {
      study = cu_store_resolve_study (store, spec->study_uid, error);
      if (study == NULL)
        return 0;
      patient = study_patient (store, study);
    }
  else if (spec->patient_id != NULL && patient_known (store, spec->patient_id))
    patient = g_strdup (spec->patient_id);
  if (patient == NULL)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                   _("No patient “%s” in the workspace (neither images nor clinical data)"),
                   spec->patient_id != NULL ? spec->patient_id : "");
      return 0;
    }
  if ((spec->kind == CU_FLAG_KIND_IMAGE || spec->kind == CU_FLAG_KIND_DEID) && study == NULL)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("An image request names the study or series it is about"));
      return 0;
    }
  if (spec->kind == CU_FLAG_KIND_DEID)
    {
      if (!cu_store_begin_write (store, error))
        return 0;
      id = raise_deid (store, study, message, error);
      if (id == 0 || !cu_store_commit (store, error))
        {
          cu_store_rollback (store);
          return 0;
        }
      return id;
    }
  if (spec->lesion != 0)
    {
      if (series == NULL)
        {
          g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                       _("A lesion is named in the segmentation of a series: give the series"));
          return 0;
        }
      if (!lesion_details (store, series, spec, &message, &details, lesion_lps, error))
        return 0;
      if (spec->position == NULL)
        where = lesion_lps;
    }
  if (where != NULL)
    {
      char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE], z[G_ASCII_DTOSTR_BUF_SIZE];

      for (int i = 0; i < 3; i++)
        if (!isfinite (where[i]))
          {
            g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                         _("The position must be three finite numbers (LPS, mm)"));
            return 0;
          }
      position = g_strdup_printf ("%s,%s,%s", g_ascii_formatd (x, sizeof x, "%.2f", where[0]),
                                  g_ascii_formatd (y, sizeof y, "%.2f", where[1]),
                                  g_ascii_formatd (z, sizeof z, "%.2f", where[2]));
    }

  /* Each flag raised by hand is its own question: its key never repeats. */
  uuid = g_uuid_string_random ();
  row.kind = cu_flag_kind_to_string (spec->kind);
  row.rule_id = spec->kind == CU_FLAG_KIND_QUESTION ? "manual-question"
                : spec->kind == CU_FLAG_KIND_IMAGE ? "manual-image" : "incidental";
  key = g_strjoin ("\x1f", row.rule_id, patient, uuid, NULL);
  row.severity = severity;
  row.title = spec->kind == CU_FLAG_KIND_QUESTION ? "Question from the curators"
              : spec->kind == CU_FLAG_KIND_IMAGE ? "Images to send again" : "Incidental finding";
  row.key = key;
  row.person_id = patient;
  row.study_uid = study;
  row.series_uid = series;
  row.message = message;
  row.urgent = spec->kind == CU_FLAG_KIND_INCIDENTAL;
  row.position = position;
  row.details = details;

  if (!cu_store_begin_write (store, error))
    return 0;
  id = cu_store_flag_raise (store, &row, _("raised by hand"), NULL, error);
  if (id == 0 || !cu_store_commit (store, error))
    {
      cu_store_rollback (store);
      return 0;
    }
  return id;
}

/* ---- Pseudonymization --------------------------------------------------------------- */

#define DEID_RULE "deid-resend"

/* The pseudonym to file the flag under: the study's PatientID, unless the check found that
 * PatientID itself is not a pseudonym; then only its masked form may leave the workspace. */
static char *
deid_person (GPtrArray *findings, const char *patient_id)
{
  for (guint i = 0; findings != NULL && i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      if (f->severity == CU_DEID_SEVERITY_ERROR && g_strcmp0 (f->keyword, "PatientID") == 0)
        return g_strdup (f->found != NULL ? f->found : "?");
    }
  return g_strdup (patient_id);
}

/* In the caller's transaction: the pseudonymization flag of a quarantined study (one per
 * study: raising it again refreshes it), with what the check found in its details. */
static gint64
raise_deid (CuStore *store, const char *study_uid, const char *note, GError **error)
{
  g_autoptr(CuStudyGate) gate = cu_store_get_study_gate (store, study_uid, error);
  g_autoptr(GPtrArray) findings = NULL;
  g_autofree char *patient = NULL, *person = NULL, *key = NULL, *message = NULL;
  g_autofree char *details = NULL, *site = NULL;
  g_autoptr(GHashTable) attributes = NULL;
  g_autoptr(GString) names = g_string_new (NULL);
  CuStoreFlagSpec row = { 0 };

  if (gate == NULL)
    return 0;
  if (gate->state != CU_GATE_QUARANTINED && gate->state != CU_GATE_PENDING)
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("Study %s is not quarantined by the pseudonymization gate (%s): there is "
                     "nothing for the site to fix"), study_uid, cu_gate_state_to_label (gate->state));
      return 0;
    }
  patient = study_patient (store, study_uid);
  findings = cu_store_list_findings (store, study_uid, error);
  if (patient == NULL || findings == NULL)
    return 0;
  attributes = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint j = 0; j < findings->len; j++)
    {
      CuDeidFinding *f = findings->pdata[j];
      const char *name = f->keyword != NULL ? f->keyword : f->rule;

      if (f->severity != CU_DEID_SEVERITY_ERROR || name == NULL
          || !g_hash_table_add (attributes, (gpointer) name))
        continue;
      g_string_append_printf (names, "%s%s", names->len ? ", " : "", name);
    }
  person = deid_person (findings, patient);
  key = g_strjoin ("\x1f", DEID_RULE, study_uid, NULL);
  message = note != NULL && note[0] != '\0'
            ? g_strdup (note)
            : g_strdup_printf ("The site's pseudonymization left identifying data in this study "
                               "(%d findings: %s). Fix the pseudonymization and send the study again.",
                               gate->n_errors, names->str);
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "errors");
    json_builder_add_int_value (b, gate->n_errors);
    json_builder_set_member_name (b, "attributes");
    json_builder_add_string_value (b, names->str);
    json_builder_end_object (b);
    root = json_builder_get_root (b);
    details = json_to_string (root, FALSE);
  }
  /* The site is the one of the study's pseudonym, even when the flag carries the masked one. */
  site = cu_store_person_site (store, patient);
  row.kind = "deid";
  row.rule_id = DEID_RULE;
  row.severity = "error";
  row.title = "Study to send again after fixing the pseudonymization";
  row.key = key;
  row.person_id = person;
  row.study_uid = study_uid;
  row.site = site;
  row.message = message;
  row.details = details;
  return cu_store_flag_raise (store, &row, _("sent back: the study is quarantined by the "
                                             "pseudonymization gate"), NULL, error);
}

/* Whether a curator set the pseudonymization flag of a study aside (accepted as is, or
 * withdrawn): the check does not raise it again, as it does not a rule's. */
static gboolean
deid_set_aside (CuStore *store, const char *key)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT 1 FROM flag WHERE key = ?1 AND state IN ('accepted', 'withdrawn')", NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_finalize (stmt);
  return found;
}

gboolean
_cu_flags_sync_deid (CuStore *store, CuFlagCheckReport *report, GError **error)
{
  g_autoptr(GArray) active = cu_store_flag_active_ids (store, "deid", error);
  g_autoptr(GPtrArray) gates = NULL;

  if (active == NULL)
    return FALSE;
  /* Only the site can fix what its pseudonymizer left: every quarantined study goes back to
   * it as a flag, found by the check as a rule's finding is (and refreshed when it is still
   * open, as the gate's findings may have changed). */
  gates = cu_store_list_gates (store, error);
  if (gates == NULL)
    return FALSE;
  for (guint i = 0; i < gates->len; i++)
    {
      const CuStudyGate *gate = gates->pdata[i];
      g_autofree char *key = NULL;
      gboolean was_active = FALSE;
      gint64 id;

      if (gate->state != CU_GATE_QUARANTINED)
        continue;
      key = g_strjoin ("\x1f", DEID_RULE, gate->study_uid, NULL);
      if (deid_set_aside (store, key))
        {
          report->n_suppressed++;
          continue;
        }
      for (guint a = 0; a < active->len && !was_active; a++)
        {
          g_autoptr(CuFlag) flag = cu_flags_get (store, g_array_index (active, gint64, a), NULL);
          was_active = flag != NULL && g_strcmp0 (flag->study_uid, gate->study_uid) == 0;
        }
      id = raise_deid (store, gate->study_uid, NULL, error);
      if (id == 0)
        return FALSE;
      if (was_active)
        report->n_still_open++;
      else
        {
          g_ptr_array_add (report->opened, cu_flags_get (store, id, NULL));
          report->n_new++;
        }
    }

  /* Flags whose study is no longer quarantined: passed, overridden, superseded or removed. */
  for (guint i = 0; i < active->len; i++)
    {
      gint64 id = g_array_index (active, gint64, i);
      g_autoptr(CuFlag) flag = cu_flags_get (store, id, error);
      g_autoptr(CuStudyGate) gate = NULL;

      if (flag == NULL)
        return FALSE;
      gate = flag->study_uid != NULL ? cu_store_get_study_gate (store, flag->study_uid, NULL) : NULL;
      if (gate != NULL && (gate->state == CU_GATE_QUARANTINED || gate->state == CU_GATE_PENDING))
        continue;
      if (!_cu_flags_transition (store, id, CU_FLAG_RESOLVED,
                                 _("closed automatically: the study is no longer quarantined"),
                                 NULL, NULL, NULL, FALSE, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- Fixed copies ------------------------------------------------------------------- */

/* Pixel digests (cu-release.h) of a series' instances; NULL entries skipped. */
static GHashTable *
series_digests (CuStore *store, const char *series_uid)
{
  GHashTable *digests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) sops = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT i.sop_instance_uid FROM instance i JOIN series se ON se.id = i.series_ref"
    " WHERE se.series_uid = ?1", NULL);

  if (stmt == NULL)
    return digests;
  sqlite3_bind_text (stmt, 1, series_uid, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (sops, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_finalize (stmt);
  for (guint i = 0; i < sops->len; i++)
    {
      /* An image that cannot be decoded (the damage a copy is asked for) has no digest. */
      char *d = cu_release_pixel_digest (store, sops->pdata[i], NULL);
      if (d != NULL)
        g_hash_table_add (digests, d);
    }
  return digests;
}

static gboolean
share_digest (GHashTable *a, GHashTable *b)
{
  GHashTableIter it;
  gpointer key;

  g_hash_table_iter_init (&it, a);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (g_hash_table_contains (b, key))
      return TRUE;
  return FALSE;
}

/* Whether series (a copy) passes the gates; why not in *why. */
static gboolean
copy_passes (CuStore *store, const CuSeriesRecord *copy, GCancellable *cancellable, char **why,
             GError **error)
{
  g_autoptr(CuQcReport) qc = NULL;
  g_autoptr(GError) local = NULL;

  if (!cu_store_study_can_annotate (store, copy->study_uid))
    {
      *why = g_strdup (_("its study does not pass the pseudonymization gate"));
      return FALSE;
    }
  qc = cu_store_qc_load (store, copy->series_uid, &local);
  if (qc == NULL && g_error_matches (local, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
    {
      g_clear_error (&local);
      qc = cu_store_qc_run (store, copy->series_uid, NULL, cancellable, &local);
    }
  if (qc == NULL)
    {
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      *why = g_strdup_printf (_("its quality check failed: %s"), local->message);
      return FALSE;
    }
  if (qc->n_errors > 0)
    {
      const CuQcFinding *first = qc->findings->len > 0 ? qc->findings->pdata[0] : NULL;
      *why = g_strdup_printf (ngettext ("its quality check finds %d error (%s)",
                                        "its quality check finds %d errors (%s)", qc->n_errors),
                              qc->n_errors, first != NULL ? first->message : "");
      return FALSE;
    }
  return TRUE;
}

/* The protocol requirement a forwarded protocol flag asks for (cu-flag-forward.c), or NULL. */
static char *
flag_requirement (const CuFlag *f)
{
  g_autoptr(JsonNode) node = f->details != NULL ? json_from_string (f->details, NULL) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return g_strdup (json_object_get_string_member_with_default (json_node_get_object (node),
                                                               "requirement", NULL));
}

/* Whether a study meets a requirement of its protocol (NULL: all of them) once the series
 * just imported (new) were checked; what it still lacks in *why. */
static gboolean
study_conforms (CuStore *store, const char *study_uid, const char *requirement,
                const char *const *new, GCancellable *cancellable, char **why, GError **error)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GString) missing = g_string_new (NULL);

  for (guint j = 0; new != NULL && new[j] != NULL; j++)
    {
      g_autoptr(CuSeriesRecord) rec = cu_store_get_series (store, new[j], NULL);
      g_autoptr(CuQcReport) qc = NULL;
      g_autoptr(GError) local = NULL;

      if (rec == NULL || g_strcmp0 (rec->study_uid, study_uid) != 0)
        continue;
      qc = cu_store_qc_load (store, rec->series_uid, &local);
      if (qc == NULL && g_error_matches (local, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
        {
          g_clear_error (&local);
          qc = cu_store_qc_run (store, rec->series_uid, NULL, cancellable, &local);
        }
      if (qc == NULL && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }
  results = cu_store_qc_check_protocol (store, study_uid, error);
  if (results == NULL)
    return FALSE;
  for (guint i = 0; i < results->len; i++)
    {
      const CuQcStudyConformance *c = results->pdata[i];
      for (guint k = 0; k < c->findings->len; k++)
        {
          const CuQcFinding *finding = c->findings->pdata[k];
          if (finding->severity == CU_QC_SEVERITY_INFO
              || (requirement != NULL && g_strcmp0 (finding->attribute, requirement) != 0))
            continue;
          if (missing->len > 0)
            g_string_append (missing, "; ");
          g_string_append (missing, finding->message);
        }
    }
  if (missing->len > 0)
    {
      *why = g_string_free (g_steal_pointer (&missing), FALSE);
      return FALSE;
    }
  return TRUE;
}

static gboolean
close_with (CuStore *store, gint64 id, const char *comment, GPtrArray *closed, GError **error)
{
  if (!cu_flags_set_state (store, id, CU_FLAG_RESOLVED, comment, error))
    return FALSE;
  if (closed != NULL)
    g_ptr_array_add (closed, cu_flags_get (store, id, NULL));
  return TRUE;
}

gboolean
cu_flags_match_fixed_copies (CuStore *store, const char *const *series_uids,
                             GCancellable *cancellable, GPtrArray **closed_out, GError **error)
{
  CuFlagFilter image_filter = { .state = "active", .kind = "image" };
  CuFlagFilter deid_filter = { .state = "active", .kind = "deid" };
  g_autoptr(GPtrArray) images = NULL, deids = NULL;
  g_autoptr(GPtrArray) closed = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_free);
  g_autoptr(GHashTable) new_studies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_return_val_if_fail (CU_IS_STORE (store), FALSE);

  if (closed_out != NULL)
    *closed_out = NULL;
  images = cu_flags_list (store, &image_filter, error);
  if (images == NULL)
    return FALSE;
  deids = cu_flags_list (store, &deid_filter, error);
  if (deids == NULL)
    return FALSE;

  for (guint i = 0; i < images->len; i++)
    {
      CuFlag *f = images->pdata[i];
      g_autoptr(CuSeriesRecord) flagged = NULL;
      g_autoptr(GHashTable) flagged_digests = NULL;

      if (f->series_uid == NULL)
        continue;
      flagged = cu_store_get_series (store, f->series_uid, NULL);
      if (flagged == NULL)
        continue;
      for (guint j = 0; series_uids != NULL && series_uids[j] != NULL; j++)
        {
          g_autoptr(CuSeriesRecord) copy = NULL;
          g_autoptr(GHashTable) copy_digests = NULL;
          g_autofree char *why = NULL, *comment = NULL;
          gboolean same_identity, match;

          if (strcmp (series_uids[j], f->series_uid) == 0)
            continue;
          copy = cu_store_get_series (store, series_uids[j], NULL);
          if (copy == NULL)
            continue;
          same_identity = g_strcmp0 (copy->patient_id, f->person_id) == 0
                          && g_strcmp0 (copy->study_date, flagged->study_date) == 0
                          && copy->series_number == flagged->series_number
                          && g_strcmp0 (copy->modality, flagged->modality) == 0;
          match = same_identity;
          /* A copy re-sent under other identifiers is recognised by its images: only series
           * of the same modality and image size can share one. */
          if (!match && g_strcmp0 (copy->modality, flagged->modality) == 0
              && copy->rows == flagged->rows && copy->columns == flagged->columns)
            {
              if (flagged_digests == NULL)
                flagged_digests = series_digests (store, f->series_uid);
              copy_digests = series_digests (store, series_uids[j]);
              match = share_digest (copy_digests, flagged_digests);
            }
          if (!match)
            continue;
          if (!copy_passes (store, copy, cancellable, &why, error))
            {
              if (why == NULL)
                return FALSE;   /* cancelled */
              comment = g_strdup_printf (_("a copy arrived (series %d, %s) but it does not pass the "
                                           "gates: %s"), copy->series_number, copy->series_uid, why);
              if (!cu_flags_comment (store, f->id, comment, error))
                return FALSE;
              continue;
            }
          comment = g_strdup_printf (_("closed: a fixed copy arrived (series %d, %s, matched by %s) "
                                       "and passed the pseudonymization and quality gates"),
                                     copy->series_number, copy->series_uid,
                                     same_identity ? _("pseudonym, study date and series number")
                                                   : _("identical images"));
          if (!close_with (store, f->id, comment, closed, error))
            return FALSE;
          break;
        }
    }

  for (guint j = 0; series_uids != NULL && series_uids[j] != NULL; j++)
    {
      g_autoptr(CuSeriesRecord) rec = cu_store_get_series (store, series_uids[j], NULL);
      if (rec != NULL)
        g_hash_table_add (new_studies, g_strdup (rec->study_uid));
    }

  /* A forwarded protocol finding ("missing: DWI b ≥ 1400") asks for series the study lacks:
   * the flag closes once series sent for that study make it conform. */
  for (guint i = 0; i < images->len; i++)
    {
      CuFlag *f = images->pdata[i];
      g_autofree char *why = NULL, *requirement = NULL;

      if (f->series_uid != NULL || f->study_uid == NULL || g_strcmp0 (f->rule_id, "qc-finding") != 0
          || !g_hash_table_contains (new_studies, f->study_uid))
        continue;
      requirement = flag_requirement (f);
      if (!study_conforms (store, f->study_uid, requirement, series_uids, cancellable, &why, error))
        {
          g_autofree char *comment = NULL;
          if (why == NULL)
            return FALSE;   /* cancelled, or the workspace failed */
          comment = g_strdup_printf (_("series arrived for the study, but what was asked for is "
                                       "still missing or out of range: %s"), why);
          if (!cu_flags_comment (store, f->id, comment, error))
            return FALSE;
          continue;
        }
      if (!close_with (store, f->id, _("closed: the series sent for the study meet what its "
                                       "protocol asked for"), closed, error))
        return FALSE;
    }

  /* Pseudonymization flags: the study passes now (its files were sent again with the same
   * UIDs), or a fixed copy that passes supersedes it or may. */
  if (deids->len > 0 && g_hash_table_size (new_studies) > 0)
    {
      g_autofree const char **uids = (const char **) g_hash_table_get_keys_as_array (new_studies, NULL);
      g_autoptr(GPtrArray) pairs = cu_store_find_fixed_copies (store, uids, error);

      if (pairs == NULL)
        return FALSE;
      for (guint i = 0; i < deids->len; i++)
        {
          CuFlag *f = deids->pdata[i];
          g_autoptr(CuStudyGate) gate = NULL;
          g_autofree char *comment = NULL;

          if (f->study_uid == NULL)
            continue;
          gate = cu_store_get_study_gate (store, f->study_uid, NULL);
          if (gate != NULL && (gate->state == CU_GATE_PASSED || gate->state == CU_GATE_OVERRIDDEN)
              && g_hash_table_contains (new_studies, f->study_uid))
            comment = g_strdup (_("closed: the study was sent again and passes the "
                                  "pseudonymization gate"));
          for (guint k = 0; comment == NULL && k + 1 < pairs->len; k += 2)
            if (strcmp (pairs->pdata[k], f->study_uid) == 0
                && cu_store_study_can_annotate (store, pairs->pdata[k + 1]))
              comment = g_strdup_printf (_("closed: a fixed copy (study %s) arrived and passes the "
                                           "pseudonymization gate"), (const char *) pairs->pdata[k + 1]);
          if (comment != NULL && !close_with (store, f->id, comment, closed, error))
            return FALSE;
        }
    }
  if (closed_out != NULL)
    *closed_out = g_steal_pointer (&closed);
  return TRUE;
}

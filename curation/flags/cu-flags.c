/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flags.c — running the consistency rules and keeping the flags they raise.
 *
 * The rules read views of the workspace, made here on each run, so that the catalog and the
 * clinical tables can change shape without breaking a project's rules: `clinical` (one row
 * per eCRF patient, the wide layout's variables as columns), `clinical_values`,
 * `dicom_patient`, `dicom_study`, `dicom_series`, `dicom_study_pseudonym`
 * (data/rules/README.md documents their columns). The ones rules join are materialized as
 * indexed TEMP tables for the run: as plain views, a rule that joins `clinical` with itself
 * (CLIN-16) or probes it per study recomputed the pivot for every row, quadratic in the
 * cohort.
 */
#include "config.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <glib/gi18n-lib.h>

#include "cu-clinical.h"
#include "cu-flag-rules.h"
#include "cu-flags-private.h"
#include "cu-series-class.h"
#include "cu-store-flags.h"
#include "cu-store-packs.h"
#include "cu-store-private.h"

G_DEFINE_QUARK (cu-flags-error-quark, cu_flags_error)

static const char *const state_names[] = {
  "open", "sent", "answered", "resolved", "accepted", "withdrawn",
};

const char *
cu_flag_state_to_string (CuFlagState state)
{
  return state <= CU_FLAG_WITHDRAWN ? state_names[state] : "open";
}

gboolean
cu_flag_state_from_string (const char *text, CuFlagState *state)
{
  for (guint i = 0; i < G_N_ELEMENTS (state_names); i++)
    if (g_strcmp0 (text, state_names[i]) == 0)
      {
        *state = i;
        return TRUE;
      }
  return FALSE;
}

const char *
cu_flag_state_to_label (CuFlagState state)
{
  switch (state)
    {
    case CU_FLAG_OPEN: return _("Open");
    case CU_FLAG_SENT: return _("Sent to site");
    case CU_FLAG_ANSWERED: return _("Answered");
    case CU_FLAG_RESOLVED: return _("Resolved");
    case CU_FLAG_ACCEPTED: return _("Accepted as is");
    case CU_FLAG_WITHDRAWN: return _("Withdrawn");
    }
  return "";
}

gboolean
cu_flag_state_is_active (CuFlagState state)
{
  return state == CU_FLAG_OPEN || state == CU_FLAG_SENT || state == CU_FLAG_ANSWERED;
}

static const char *const kind_names[] = { "rule", "image", "question", "incidental", "deid" };

const char *
cu_flag_kind_to_string (CuFlagKind kind)
{
  return (guint) kind < G_N_ELEMENTS (kind_names) ? kind_names[kind] : "rule";
}

gboolean
cu_flag_kind_from_string (const char *text, CuFlagKind *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (text, kind_names[i]) == 0)
      {
        *kind = i;
        return TRUE;
      }
  return FALSE;
}

const char *
cu_flag_kind_to_label (CuFlagKind kind)
{
  switch (kind)
    {
    case CU_FLAG_KIND_RULE: return _("Clinical data");
    case CU_FLAG_KIND_IMAGE: return _("Images");
    case CU_FLAG_KIND_QUESTION: return _("Question");
    case CU_FLAG_KIND_INCIDENTAL: return _("Incidental finding");
    case CU_FLAG_KIND_DEID: return _("Pseudonymization");
    }
  return "";
}

void
cu_flag_free (CuFlag *flag)
{
  if (flag == NULL)
    return;
  g_free (flag->rule_id);
  g_free (flag->severity);
  g_free (flag->title);
  g_free (flag->person_id);
  g_free (flag->study_uid);
  g_free (flag->series_uid);
  g_free (flag->variable);
  g_free (flag->site);
  g_free (flag->message);
  g_free (flag->details);
  g_free (flag->created_at);
  g_free (flag->updated_at);
  g_free (flag);
}

void
cu_flag_event_free (CuFlagEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->time);
  g_free (event->user);
  g_free (event->from_state);
  g_free (event->to_state);
  g_free (event->comment);
  g_free (event->answer);
  g_free (event->corrected_value);
  g_free (event);
}

void
cu_flag_check_report_free (CuFlagCheckReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->closed, g_ptr_array_unref);
  g_clear_pointer (&report->opened, g_ptr_array_unref);
  g_clear_pointer (&report->rule_errors, g_ptr_array_unref);
  g_free (report);
}

static char *
col_text (sqlite3_stmt *stmt, int i)
{
  const unsigned char *t = sqlite3_column_text (stmt, i);
  return t != NULL ? g_strdup ((const char *) t) : NULL;
}

/* ---- Views -------------------------------------------------------------------------- */

/* DICOM DA (YYYYMMDD) → ISO YYYY-MM-DD, NULL when it is not one. */
#define ISO_DA(x) \
  "(CASE WHEN trim (" x ") GLOB '[0-9][0-9][0-9][0-9][0-1][0-9][0-3][0-9]' THEN substr (trim (" x "), 1, 4)" \
  " || '-' || substr (trim (" x "), 5, 2) || '-' || substr (trim (" x "), 7, 2) END)"

/* One column of the clinical view: integers and decimals as numbers, the rest as text. */
static void
add_clinical_column (GString *clinical, GHashTable *done, const CuPackVariable *v)
{
  const char *cast = v->type == CU_PACK_VAR_INTEGER ? "INTEGER" : v->type == CU_PACK_VAR_DECIMAL ? "REAL" : NULL;

  if (v->key || !g_hash_table_add (done, v->name))
    return;
  if (cast != NULL)
    g_string_append_printf (clinical, ", CAST (max (CASE WHEN v.variable = '%s' THEN v.value END)"
                            " AS %s) AS %s", v->name, cast, v->name);
  else
    g_string_append_printf (clinical, ", max (CASE WHEN v.variable = '%s' THEN v.value END) AS %s",
                            v->name, v->name);
}

/* The views of data/packs/common/rules/README.md. The clinical view has a column for every
 * variable of the workspace's packs and of every shipped pack (empty when the workspace does
 * not use it), so that a shared rule naming a variable of another cancer still runs. */
static gboolean
create_views (sqlite3 *db, CuPackSet *packs, GError **error)
{
  g_autoptr(GString) clinical = g_string_new ("DROP TABLE IF EXISTS temp.clinical;"
                                              "CREATE TEMP TABLE clinical AS SELECT p.person_id, p.site");
  g_autoptr(GString) required = g_string_new ("DROP TABLE IF EXISTS temp.ecrf_required;"
                                              "CREATE TEMP TABLE ecrf_required (cancer TEXT, variable TEXT);");
  g_autoptr(GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *vars = cu_pack_set_get_variables (packs);
  GPtrArray *all = cu_pack_set_get_variables (cu_pack_set_all_builtin ());

  for (guint i = 0; i < vars->len; i++)
    {
      const CuPackVariable *v = vars->pdata[i];

      add_clinical_column (clinical, done, v);
      /* names and cancer types are checked identifiers (cu-pack-tables.c): no quoting issue */
      if (v->required_for != NULL && strchr (v->required_for, '\'') == NULL)
        g_string_append_printf (required, "INSERT INTO temp.ecrf_required VALUES ('%s', '%s');",
                                v->required_for, v->name);
    }
  for (guint i = 0; i < all->len; i++)
    add_clinical_column (clinical, done, all->pdata[i]);
  g_string_append (clinical, " FROM main.clinical_person p LEFT JOIN main.clinical_value v"
                             " ON v.person_id = p.person_id GROUP BY p.person_id;"
                             "CREATE INDEX temp.clinical_person_id ON clinical (person_id);");
  if (!_cu_store_exec (db, clinical->str, error) || !_cu_store_exec (db, required->str, error))
    return FALSE;

  return _cu_store_exec (db,
    "DROP VIEW IF EXISTS temp.clinical_values;"
    "CREATE TEMP VIEW clinical_values AS SELECT person_id, variable, value FROM main.clinical_value;"

    "DROP VIEW IF EXISTS temp.dicom_patient;"
    "CREATE TEMP VIEW dicom_patient AS SELECT patient_id AS person_id, patient_name,"
    "  nullif (trim (sex), '') AS sex, " ISO_DA ("birth_date") " AS birth_date FROM main.patient;"

    "DROP TABLE IF EXISTS temp.dicom_study;"
    "CREATE TEMP TABLE dicom_study AS SELECT p.patient_id AS person_id, st.study_uid,"
    "  " ISO_DA ("st.study_date") " AS study_date, st.description,"
    "  (SELECT count (*) FROM main.series se WHERE se.study_ref = st.id) AS n_series,"
    "  (SELECT group_concat (DISTINCT se.modality) FROM main.series se WHERE se.study_ref = st.id) AS modalities,"
    "  (SELECT group_concat (DISTINCT nullif (trim (se.body_part), '')) FROM main.series se"
    "     WHERE se.study_ref = st.id) AS body_parts,"
    "  nullif (trim (p.sex), '') AS dicom_sex, " ISO_DA ("p.birth_date") " AS dicom_birth_date,"
    "  (SELECT c.patient_age FROM main.series se JOIN main.series_class c ON c.series_uid = se.series_uid"
    "     WHERE se.study_ref = st.id AND c.patient_age IS NOT NULL LIMIT 1) AS patient_age,"
    "  NULL AS patient_age_years"
    " FROM main.study st JOIN main.patient p ON p.id = st.patient_ref;"
    /* PatientAge (AS, PS3.5 Table 6.2-1: nnnD, nnnW, nnnM or nnnY) in years. */
    "UPDATE dicom_study SET patient_age_years = CASE"
    "  WHEN patient_age NOT GLOB '[0-9][0-9][0-9][DWMY]' THEN NULL"
    "  WHEN substr (patient_age, 4, 1) = 'Y' THEN CAST (substr (patient_age, 1, 3) AS REAL)"
    "  WHEN substr (patient_age, 4, 1) = 'M' THEN CAST (substr (patient_age, 1, 3) AS REAL) / 12"
    "  WHEN substr (patient_age, 4, 1) = 'W' THEN CAST (substr (patient_age, 1, 3) AS REAL) * 7 / 365.25"
    "  ELSE CAST (substr (patient_age, 1, 3) AS REAL) / 365.25 END;"
    "CREATE INDEX temp.dicom_study_person ON dicom_study (person_id);"
    "CREATE INDEX temp.dicom_study_uid ON dicom_study (study_uid);"

    "DROP TABLE IF EXISTS temp.dicom_series;"
    "CREATE TEMP TABLE dicom_series AS SELECT p.patient_id AS person_id, st.study_uid,"
    "  " ISO_DA ("st.study_date") " AS study_date, se.series_uid, se.series_number, se.modality,"
    "  se.description, nullif (trim (se.body_part), '') AS body_part,"
    "  coalesce (c.image_type,"
    "    (SELECT i.image_type FROM main.instance i WHERE i.series_ref = se.id LIMIT 1)) AS image_type,"
    "  c.sequence, c.plane, c.b_max, c.n_volumes, c.scanning_sequence, c.sequence_name,"
    "  c.repetition_time, c.echo_time"
    " FROM main.series se JOIN main.study st ON st.id = se.study_ref"
    "  JOIN main.patient p ON p.id = st.patient_ref"
    "  LEFT JOIN main.series_class c ON c.series_uid = se.series_uid;"
    "CREATE INDEX temp.dicom_series_study ON dicom_series (study_uid);"

    "DROP TABLE IF EXISTS temp.dicom_study_pseudonym;"
    "CREATE TEMP TABLE dicom_study_pseudonym AS SELECT DISTINCT st.study_uid, ip.patient_id AS person_id"
    " FROM main.instance_pseudonym ip JOIN main.instance i ON i.id = ip.instance_ref"
    "  JOIN main.series se ON se.id = i.series_ref JOIN main.study st ON st.id = se.study_ref;"
    "CREATE INDEX temp.dicom_study_pseudonym_study ON dicom_study_pseudonym (study_uid);",
    error);
}

/* ---- Workspace id ------------------------------------------------------------------- */

char *
cu_flags_workspace_id (CuStore *store, GError **error)
{
  sqlite3_stmt *stmt;
  char *id = NULL;

  stmt = _cu_store_prepare (store->db, "SELECT value FROM setting WHERE key = 'workspace_id'", error);
  if (stmt == NULL)
    return NULL;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = col_text (stmt, 0);
  sqlite3_finalize (stmt);
  if (id != NULL)
    return id;

  id = g_uuid_string_random ();
  stmt = _cu_store_prepare (store->db,
                            "INSERT OR IGNORE INTO setting (key, value) VALUES ('workspace_id', ?1)", error);
  if (stmt == NULL)
    {
      g_free (id);
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Storing the workspace identity failed"));
      sqlite3_finalize (stmt);
      g_free (id);
      return NULL;
    }
  sqlite3_finalize (stmt);
  g_free (id);
  /* Another process may have won the race: read back what is stored. */
  stmt = _cu_store_prepare (store->db, "SELECT value FROM setting WHERE key = 'workspace_id'", error);
  if (stmt == NULL)
    return NULL;
  id = sqlite3_step (stmt) == SQLITE_ROW ? col_text (stmt, 0) : NULL;
  sqlite3_finalize (stmt);
  if (id == NULL)
    _cu_store_set_db_error (store->db, error, _("Reading the workspace identity failed"));
  return id;
}

/* ---- Reading flags ------------------------------------------------------------------ */

#define FLAG_COLUMNS \
  "f.id, f.rule_id, f.severity, f.title, f.person_id, f.study_uid, f.series_uid, f.variable," \
  " f.site, f.message, f.details, f.state, f.created_at, f.updated_at, f.kind, f.urgent, f.position"

static CuFlag *
flag_from_row (sqlite3_stmt *stmt)
{
  CuFlag *flag = g_new0 (CuFlag, 1);
  g_autofree char *state = NULL;

  flag->id = sqlite3_column_int64 (stmt, 0);
  flag->rule_id = col_text (stmt, 1);
  flag->severity = col_text (stmt, 2);
  flag->title = col_text (stmt, 3);
  flag->person_id = col_text (stmt, 4);
  flag->study_uid = col_text (stmt, 5);
  flag->series_uid = col_text (stmt, 6);
  flag->variable = col_text (stmt, 7);
  flag->site = col_text (stmt, 8);
  flag->message = col_text (stmt, 9);
  flag->details = col_text (stmt, 10);
  state = col_text (stmt, 11);
  cu_flag_state_from_string (state, &flag->state);
  flag->created_at = col_text (stmt, 12);
  flag->updated_at = col_text (stmt, 13);
  cu_flag_kind_from_string ((const char *) sqlite3_column_text (stmt, 14), &flag->kind);
  flag->urgent = sqlite3_column_int (stmt, 15) != 0;
  if (sqlite3_column_text (stmt, 16) != NULL)
    {
      g_auto(GStrv) xyz = g_strsplit ((const char *) sqlite3_column_text (stmt, 16), ",", 4);

      if (g_strv_length (xyz) == 3)
        {
          flag->has_position = TRUE;
          for (int i = 0; i < 3; i++)
            flag->position[i] = g_ascii_strtod (xyz[i], NULL);
        }
    }
  return flag;
}

GPtrArray *
cu_flags_list (CuStore *store, const CuFlagFilter *filter, GError **error)
{
  static const CuFlagFilter none = { 0 };
  sqlite3_stmt *stmt;
  GPtrArray *flags;
  int rc;

  if (filter == NULL)
    filter = &none;
  stmt = _cu_store_prepare (store->db,
    "SELECT " FLAG_COLUMNS " FROM flag f"
    " WHERE (?1 IS NULL OR f.site = ?1) AND (?2 IS NULL OR f.rule_id = ?2)"
    "   AND (?3 IS NULL OR f.severity = ?3) AND (?4 IS NULL OR f.person_id = ?4)"
    "   AND (?5 IS NULL OR f.state = ?5 OR (?5 = 'active' AND f.state IN ('open', 'sent', 'answered')))"
    "   AND (?6 IS NULL OR instr (lower (f.person_id), lower (?6)) > 0)"
    "   AND (?7 IS NULL OR f.kind = ?7) AND (?8 = 0 OR f.urgent = 1)"
    " ORDER BY f.urgent DESC, f.site, f.person_id, f.rule_id, f.id", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, filter->site, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, filter->rule_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, filter->severity, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, filter->person_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 5, filter->state, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 6, filter->person_search, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 7, filter->kind, -1, SQLITE_STATIC);
  sqlite3_bind_int (stmt, 8, filter->urgent_only);
  flags = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (flags, flag_from_row (stmt));
  /* A list cut short by a failed read would pass for the whole list (a bundle without some
   * of the site's flags). */
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the flags failed"));
      g_clear_pointer (&flags, g_ptr_array_unref);
    }
  sqlite3_finalize (stmt);
  return flags;
}

CuFlag *
cu_flags_get (CuStore *store, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db, "SELECT " FLAG_COLUMNS " FROM flag f WHERE f.id = ?1",
                                          error);
  CuFlag *flag = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    flag = flag_from_row (stmt);
  sqlite3_finalize (stmt);
  if (flag == NULL)
    g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND, _("There is no flag %lld"),
                 (long long) id);
  return flag;
}

GPtrArray *
cu_flags_events (CuStore *store, gint64 id, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT time, user, from_state, to_state, comment, answer, corrected_value FROM flag_event"
    " WHERE flag_ref = ?1 ORDER BY id", error);
  GPtrArray *events;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, id);
  events = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_event_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      CuFlagEvent *e = g_new0 (CuFlagEvent, 1);
      e->time = col_text (stmt, 0);
      e->user = col_text (stmt, 1);
      e->from_state = col_text (stmt, 2);
      e->to_state = col_text (stmt, 3);
      e->comment = col_text (stmt, 4);
      e->answer = col_text (stmt, 5);
      e->corrected_value = col_text (stmt, 6);
      g_ptr_array_add (events, e);
    }
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the flags failed"));
      g_clear_pointer (&events, g_ptr_array_unref);
    }
  sqlite3_finalize (stmt);
  return events;
}

GHashTable *
cu_flags_active_by_person (CuStore *store, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT person_id, count (*) FROM flag WHERE state IN ('open', 'sent', 'answered')"
    " GROUP BY person_id", error);
  GHashTable *counts;
  int rc;

  if (stmt == NULL)
    return NULL;
  counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_hash_table_insert (counts, col_text (stmt, 0), GUINT_TO_POINTER (sqlite3_column_int (stmt, 1)));
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the flags failed"));
      g_clear_pointer (&counts, g_hash_table_unref);
    }
  sqlite3_finalize (stmt);
  return counts;
}

GStrv
cu_flags_sites (CuStore *store, GError **error)
{
  sqlite3_stmt *stmt = _cu_store_prepare (store->db,
    "SELECT DISTINCT site FROM flag WHERE site IS NOT NULL ORDER BY site", error);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_strv_builder_add (b, (const char *) sqlite3_column_text (stmt, 0));
  if (rc != SQLITE_DONE)
    {
      _cu_store_set_db_error (store->db, error, _("Reading the flags failed"));
      sqlite3_finalize (stmt);
      return NULL;
    }
  sqlite3_finalize (stmt);
  return g_strv_builder_end (b);
}

/* ---- Lifecycle ---------------------------------------------------------------------- */

static gboolean
transition_allowed (CuFlagState from, CuFlagState to)
{
  if (!cu_flag_state_is_active (from))
    return to == CU_FLAG_OPEN;         /* reopen */
  switch (to)
    {
    case CU_FLAG_OPEN: return from != CU_FLAG_OPEN;
    case CU_FLAG_SENT: return from == CU_FLAG_OPEN || from == CU_FLAG_ANSWERED;
    case CU_FLAG_ANSWERED: return from == CU_FLAG_OPEN || from == CU_FLAG_SENT;
    case CU_FLAG_RESOLVED:
    case CU_FLAG_ACCEPTED:
    case CU_FLAG_WITHDRAWN: return TRUE;
    }
  return FALSE;
}

/* The history row and its audit row: the store keeps both (cu-store-flags.h). */
#define record_event cu_store_flag_record_event

gboolean
_cu_flags_transition (CuStore *store, gint64 id, CuFlagState to, const char *comment,
                      const char *answer, const char *corrected_value, const char *bundle_id,
                      gboolean allow_same, GError **error)
{
  g_autoptr(CuFlag) flag = cu_flags_get (store, id, error);
  g_autofree char *now = _cu_store_now_iso8601 ();
  gboolean ok;

  if (flag == NULL)
    return FALSE;
  if (!(allow_same && flag->state == to) && !transition_allowed (flag->state, to))
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION,
                   _("Flag %lld is “%s”: it cannot become “%s”"), (long long) id,
                   cu_flag_state_to_string (flag->state), cu_flag_state_to_string (to));
      return FALSE;
    }
  ok = cu_store_flag_set_state_row (store, id, cu_flag_state_to_string (to), now, error);
  return ok && record_event (store, id, cu_flag_state_to_string (flag->state),
                             cu_flag_state_to_string (to), comment, answer, corrected_value,
                             bundle_id, now, error);
}

gboolean
cu_flags_set_state (CuStore *store, gint64 id, CuFlagState state, const char *comment,
                    GError **error)
{
  g_return_val_if_fail (CU_IS_STORE (store), FALSE);

  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!_cu_flags_transition (store, id, state, comment, NULL, NULL, NULL, FALSE, error)
      || !_cu_store_exec (store->db, "COMMIT", error))
    {
      _cu_store_exec (store->db, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

gboolean
cu_flags_comment (CuStore *store, gint64 id, const char *comment, GError **error)
{
  g_autoptr(CuFlag) flag = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (comment != NULL ? comment : ""));

  if (trimmed[0] == '\0')
    {
      g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION, _("The comment is empty"));
      return FALSE;
    }
  flag = cu_flags_get (store, id, error);
  if (flag == NULL)
    return FALSE;
  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!_cu_flags_transition (store, id, flag->state, comment, NULL, NULL, NULL, TRUE, error)
      || !_cu_store_exec (store->db, "COMMIT", error))
    {
      _cu_store_exec (store->db, "ROLLBACK", NULL);
      return FALSE;
    }
  return TRUE;
}

/* ---- Running the rules -------------------------------------------------------------- */

typedef struct
{
  char *key;
  char *person_id, *study_uid, *series_uid, *variable;
  char *message;
  char *translated;   /* the message in the current locale (English when not translated) */
  char *details;
} Finding;

static void
finding_free (Finding *f)
{
  g_free (f->key);
  g_free (f->person_id);
  g_free (f->study_uid);
  g_free (f->series_uid);
  g_free (f->variable);
  g_free (f->message);
  g_free (f->translated);
  g_free (f->details);
  g_free (f);
}

static char *
nonempty (char *s)
{
  if (s != NULL && s[0] == '\0')
    {
      g_free (s);
      return NULL;
    }
  return s;
}

/* Run one rule; its findings are appended (deduplicated by key). */
static gboolean
run_rule (sqlite3 *db, const CuFlagRule *rule, GHashTable *seen, GPtrArray *findings, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int n_cols, person_col = -1;
  int rc;

  if (sqlite3_prepare_v2 (db, rule->sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      g_set_error (error, CU_FLAG_RULE_ERROR, CU_FLAG_RULE_ERROR_QUERY, "%s (%s): %s", rule->id,
                   rule->origin, sqlite3_errmsg (db));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  /* Rules read; they must not write, whatever a project's file says. */
  if (!sqlite3_stmt_readonly (stmt))
    {
      g_set_error (error, CU_FLAG_RULE_ERROR, CU_FLAG_RULE_ERROR_QUERY,
                   _("%s (%s): a rule must be a query that only reads"), rule->id, rule->origin);
      sqlite3_finalize (stmt);
      return FALSE;
    }
  n_cols = sqlite3_column_count (stmt);
  for (int i = 0; i < n_cols; i++)
    if (strcmp (sqlite3_column_name (stmt, i), "person_id") == 0)
      person_col = i;
  if (person_col < 0)
    {
      g_set_error (error, CU_FLAG_RULE_ERROR, CU_FLAG_RULE_ERROR_QUERY,
                   _("%s (%s): the query has no person_id column"), rule->id, rule->origin);
      sqlite3_finalize (stmt);
      return FALSE;
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      Finding *f = g_new0 (Finding, 1);

      json_builder_begin_object (b);
      for (int i = 0; i < n_cols; i++)
        {
          const char *name = sqlite3_column_name (stmt, i);
          char *text = col_text (stmt, i);

          g_hash_table_insert (values, (gpointer) name, text);
          if (strcmp (name, "person_id") == 0)
            f->person_id = g_strdup (text);
          else if (strcmp (name, "study_uid") == 0)
            f->study_uid = nonempty (g_strdup (text));
          else if (strcmp (name, "series_uid") == 0)
            f->series_uid = nonempty (g_strdup (text));
          else if (strcmp (name, "variable") == 0)
            f->variable = nonempty (g_strdup (text));
          else
            {
              json_builder_set_member_name (b, name);
              if (text != NULL)
                json_builder_add_string_value (b, text);
              else
                json_builder_add_null_value (b);
            }
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      f->details = json_to_string (root, FALSE);
      {
        const char *variant = g_hash_table_lookup (values, "variant");
        const char *english = cu_flag_rule_template (rule, variant);
        g_autofree char *field = variant != NULL && english != rule->message
                                 ? g_strconcat ("message.", variant, NULL) : g_strdup ("message");
        g_autofree char *context = cu_flag_rule_context (rule->id, field);

        f->message = cu_flag_rule_format (english, values);
        /* A project's rule, or a shipped id whose text a project changed, has no entry in the
         * catalogue and stays in English. */
        f->translated = cu_flag_rule_format (g_dpgettext2 (GETTEXT_PACKAGE, context, english),
                                             values);
      }
      if (f->person_id == NULL)
        f->person_id = g_strdup ("");
      f->key = g_strjoin ("\x1f", rule->id, f->person_id, f->study_uid ? f->study_uid : "",
                          f->series_uid ? f->series_uid : "", f->variable ? f->variable : "", NULL);
      if (g_hash_table_contains (seen, f->key))
        {
          finding_free (f);
          continue;
        }
      g_hash_table_add (seen, g_strdup (f->key));
      g_ptr_array_add (findings, f);
    }
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, CU_FLAG_RULE_ERROR, CU_FLAG_RULE_ERROR_QUERY, "%s (%s): %s", rule->id,
                   rule->origin, sqlite3_errmsg (db));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  return TRUE;
}

/* Reconcile one rule's findings with the stored flags. */
static gboolean
reconcile (CuStore *store, const CuFlagRule *rule, GPtrArray *findings, CuFlagCheckReport *report,
           const char *now, GError **error)
{
  sqlite3 *db = store->db;
  g_autoptr(GHashTable) found = g_hash_table_new (g_str_hash, g_str_equal);
  sqlite3_stmt *stmt;
  g_autoptr(GArray) to_close = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < findings->len; i++)
    {
      Finding *f = findings->pdata[i];
      gint64 id = 0;
      g_autofree char *state_text = NULL;
      CuFlagState state = CU_FLAG_OPEN;

      g_hash_table_add (found, f->key);
      stmt = _cu_store_prepare (db, "SELECT id, state FROM flag WHERE key = ?1 ORDER BY id DESC LIMIT 1",
                                error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, f->key, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          id = sqlite3_column_int64 (stmt, 0);
          state_text = col_text (stmt, 1);
          cu_flag_state_from_string (state_text, &state);
        }
      sqlite3_finalize (stmt);

      if (id != 0 && cu_flag_state_is_active (state))
        {
          /* Same finding: refresh what it says (values may have changed), keep the flag. */
          stmt = _cu_store_prepare (db, "UPDATE flag SET message = ?2, details = ?3, severity = ?4,"
                                        " title = ?5, last_seen_at = ?6 WHERE id = ?1", error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, id);
          sqlite3_bind_text (stmt, 2, f->message, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 3, f->details, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 4, rule->severity, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 5, rule->title, -1, SQLITE_STATIC);
          sqlite3_bind_text (stmt, 6, now, -1, SQLITE_STATIC);
          if (sqlite3_step (stmt) != SQLITE_DONE)
            {
              _cu_store_set_db_error (db, error, _("Storing a flag failed"));
              sqlite3_finalize (stmt);
              return FALSE;
            }
          sqlite3_finalize (stmt);
          report->n_still_open++;
        }
      else if (id != 0 && (state == CU_FLAG_ACCEPTED || state == CU_FLAG_WITHDRAWN))
        report->n_suppressed++;
      else
        {
          CuStoreFlagSpec spec = {
            .kind = "rule", .rule_id = rule->id, .severity = rule->severity, .title = rule->title,
            .key = f->key, .person_id = f->person_id, .study_uid = f->study_uid,
            .series_uid = f->series_uid, .variable = f->variable, .message = f->message,
            .details = f->details,
          };

          id = cu_store_flag_raise (store, &spec, _("found by the consistency check"), NULL, error);
          if (id == 0)
            return FALSE;
          g_ptr_array_add (report->opened, cu_flags_get (store, id, NULL));
          report->n_new++;
        }
    }

  /* Active flags of this rule that the run did not find again: their cause is gone. */
  stmt = _cu_store_prepare (db, "SELECT id, key FROM flag WHERE rule_id = ?1"
                                " AND state IN ('open', 'sent', 'answered')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, rule->id, -1, SQLITE_STATIC);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    if (!g_hash_table_contains (found, (const char *) sqlite3_column_text (stmt, 1)))
      {
        gint64 id = sqlite3_column_int64 (stmt, 0);
        g_array_append_val (to_close, id);
      }
  sqlite3_finalize (stmt);
  for (guint i = 0; i < to_close->len; i++)
    {
      gint64 id = g_array_index (to_close, gint64, i);

      if (!_cu_flags_transition (store, id, CU_FLAG_RESOLVED,
                                 _("closed automatically: the rules were run again and the cause "
                                   "has disappeared"), NULL, NULL, NULL, FALSE, error))
        return FALSE;
      g_ptr_array_add (report->closed, cu_flags_get (store, id, NULL));
    }
  return TRUE;
}

CuFlagCheckReport *
_cu_flags_check_locked (CuStore *store, GError **error)
{
  g_autoptr(CuFlagCheckReport) report = g_new0 (CuFlagCheckReport, 1);
  g_autoptr(GPtrArray) rules = NULL;
  g_autoptr(CuPackSet) packs = NULL;
  g_autofree char *now = _cu_store_now_iso8601 ();
  g_autofree char *detail = NULL;
  sqlite3_stmt *stmt;

  report->closed = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_free);
  report->opened = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_free);
  report->rule_errors = g_ptr_array_new_with_free_func (g_free);

  packs = cu_store_get_packs (store);
  rules = cu_flag_rules_load_packs (packs, cu_store_get_path (store), error);
  if (rules == NULL)
    return NULL;
  if (!create_views (store->db, packs, error))
    return NULL;
  report->n_rules = rules->len;

  for (guint r = 0; r < rules->len; r++)
    {
      const CuFlagRule *rule = rules->pdata[r];
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) finding_free);
      g_autoptr(GError) rule_error = NULL;

      if (!run_rule (store->db, rule, seen, findings, &rule_error))
        {
          g_ptr_array_add (report->rule_errors, g_strdup (rule_error->message));
          continue;
        }
      report->n_findings += findings->len;
      if (!reconcile (store, rule, findings, report, now, error))
        return NULL;
    }

  if (!_cu_flags_sync_deid (store, report, error))
    return NULL;

  stmt = _cu_store_prepare (store->db, "SELECT count (*) FROM flag WHERE state IN ('open', 'sent', 'answered')",
                            error);
  if (stmt == NULL)
    return NULL;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    report->n_active = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);

  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "rules");
    json_builder_add_int_value (db, report->n_rules);
    json_builder_set_member_name (db, "findings");
    json_builder_add_int_value (db, report->n_findings);
    json_builder_set_member_name (db, "new");
    json_builder_add_int_value (db, report->n_new);
    json_builder_set_member_name (db, "still_open");
    json_builder_add_int_value (db, report->n_still_open);
    json_builder_set_member_name (db, "closed");
    json_builder_add_int_value (db, report->closed->len);
    json_builder_set_member_name (db, "rule_errors");
    json_builder_add_int_value (db, report->rule_errors->len);
    json_builder_set_member_name (db, "active");
    json_builder_add_int_value (db, report->n_active);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
  if (!cu_store_audit (store, "flags-check", NULL, detail, error))
    return NULL;
  return g_steal_pointer (&report);
}

void
cu_rule_finding_free (CuRuleFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->rule_id);
  g_free (finding->title);
  g_free (finding->person_id);
  g_free (finding->study_uid);
  g_free (finding->message);
  g_free (finding);
}

GPtrArray *
cu_flags_evaluate (CuStore *store, GPtrArray *rules, GError **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_rule_finding_free);

  g_return_val_if_fail (CU_IS_STORE (store) && rules != NULL, NULL);

  if (!cu_series_class_update (store, NULL, NULL, NULL, error))
    return NULL;
  /* The views are TEMP tables of this connection: made without the write lock. */
  {
    g_autoptr(CuPackSet) packs = cu_store_get_packs (store);
    if (!create_views (store->db, packs, error))
      return NULL;
  }
  for (guint r = 0; r < rules->len; r++)
    {
      const CuFlagRule *rule = rules->pdata[r];
      g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) finding_free);
      g_autofree char *title_context = cu_flag_rule_context (rule->id, "title");

      if (!run_rule (store->db, rule, seen, findings, error))
        return NULL;
      for (guint i = 0; i < findings->len; i++)
        {
          Finding *f = findings->pdata[i];
          CuRuleFinding *o = g_new0 (CuRuleFinding, 1);

          o->rule_id = g_strdup (rule->id);
          o->title = g_strdup (rule->title != NULL
                               ? g_dpgettext2 (GETTEXT_PACKAGE, title_context, rule->title) : rule->id);
          o->person_id = g_strdup (f->person_id);
          o->study_uid = g_strdup (f->study_uid);
          o->message = g_strdup (f->translated);
          g_ptr_array_add (out, o);
        }
    }
  return g_steal_pointer (&out);
}

CuFlagCheckReport *
cu_flags_check (CuStore *store, GError **error)
{
  CuFlagCheckReport *report;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);

  /* Series new since the last run are classified first, outside the rules' transaction:
   * reading their headers may take a while and needs no lock. */
  if (!cu_series_class_update (store, NULL, NULL, NULL, error))
    return NULL;
  if (!_cu_store_exec (store->db, "BEGIN IMMEDIATE", error))
    return NULL;
  report = _cu_flags_check_locked (store, error);
  if (report == NULL || !_cu_store_exec (store->db, "COMMIT", error))
    {
      _cu_store_exec (store->db, "ROLLBACK", NULL);
      g_clear_pointer (&report, cu_flag_check_report_free);
      return NULL;
    }
  return report;
}

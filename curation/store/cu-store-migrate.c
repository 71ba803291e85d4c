/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-migrate.c — the workspace schema and its migrations.
 *
 * The schema version lives in PRAGMA user_version. migrations[i] takes a database from
 * version i to version i + 1; each step runs in its own transaction together with the
 * user_version update, so a crash leaves the database at a version it really has. Steps are
 * only ever appended: a released step is never edited, because workspaces in the field were
 * built by it. A database whose version is newer than this build knows is refused
 * (CU_STORE_ERROR_VERSION) rather than opened, so an older Curata never writes rows a newer
 * schema would misread.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-store-private.h"

/* Version 1: the catalog (patient → study → series → instance), files that could not be
 * imported, and the audit log.
 *
 * Keys: study, series and instance are identified by their DICOM UIDs. A patient is
 * identified by PatientID and PatientName together, because pseudonymized and phantom data
 * often leave PatientID empty for unrelated subjects.
 *
 * instance.position/orientation/pixel_spacing hold DICOM-style backslash-separated decimal
 * strings of the top-level attributes (NULL when absent), which later issues (QC, browsing)
 * read without opening the file; the authoritative per-frame geometry is always re-read
 * from the file by the series plan. mtime is seconds since the epoch plus the nanosecond
 * part, so a rewrite within the same second is still noticed. */
static const char migration_1[] =
  "CREATE TABLE patient ("
  "  id INTEGER PRIMARY KEY,"
  "  patient_id TEXT NOT NULL DEFAULT '',"
  "  patient_name TEXT NOT NULL DEFAULT '',"
  "  sex TEXT,"
  "  birth_date TEXT,"
  "  identity_removed TEXT,"
  "  UNIQUE (patient_id, patient_name));"

  "CREATE TABLE study ("
  "  id INTEGER PRIMARY KEY,"
  "  patient_ref INTEGER NOT NULL REFERENCES patient (id) ON DELETE CASCADE,"
  "  study_uid TEXT NOT NULL UNIQUE,"
  "  study_date TEXT,"
  "  study_time TEXT,"
  "  description TEXT,"
  "  study_id TEXT,"
  "  accession_number TEXT);"
  "CREATE INDEX study_patient ON study (patient_ref);"

  "CREATE TABLE series ("
  "  id INTEGER PRIMARY KEY,"
  "  study_ref INTEGER NOT NULL REFERENCES study (id) ON DELETE CASCADE,"
  "  series_uid TEXT NOT NULL UNIQUE,"
  "  series_number INTEGER,"
  "  modality TEXT,"
  "  description TEXT,"
  "  series_date TEXT,"
  "  series_time TEXT,"
  "  frame_of_reference_uid TEXT,"
  "  manufacturer TEXT,"
  "  body_part TEXT);"
  "CREATE INDEX series_study ON series (study_ref);"

  "CREATE TABLE instance ("
  "  id INTEGER PRIMARY KEY,"
  "  series_ref INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,"
  "  sop_instance_uid TEXT NOT NULL UNIQUE,"
  "  sop_class_uid TEXT,"
  "  path TEXT NOT NULL UNIQUE,"
  "  file_size INTEGER NOT NULL,"
  "  mtime INTEGER NOT NULL,"
  "  mtime_nsec INTEGER NOT NULL DEFAULT 0,"
  "  transfer_syntax TEXT,"
  "  has_preamble INTEGER NOT NULL DEFAULT 1,"
  "  instance_number INTEGER,"
  "  acquisition_number INTEGER,"
  "  has_pixels INTEGER NOT NULL DEFAULT 1,"
  "  rows INTEGER,"
  "  columns INTEGER,"
  "  number_of_frames INTEGER,"
  "  samples_per_pixel INTEGER,"
  "  bits_allocated INTEGER,"
  "  bits_stored INTEGER,"
  "  pixel_representation INTEGER,"
  "  photometric TEXT,"
  "  image_type TEXT,"
  "  position TEXT,"
  "  orientation TEXT,"
  "  pixel_spacing TEXT,"
  "  slice_thickness REAL,"
  "  rescale_slope REAL,"
  "  rescale_intercept REAL,"
  "  echo_time REAL,"
  "  temporal_position INTEGER,"
  "  imported_at TEXT NOT NULL);"
  "CREATE INDEX instance_series ON instance (series_ref, instance_number);"

  "CREATE TABLE rejected_file ("
  "  path TEXT PRIMARY KEY,"
  "  reason TEXT NOT NULL,"
  "  code INTEGER NOT NULL,"
  "  file_size INTEGER,"
  "  mtime INTEGER,"
  "  last_attempt TEXT NOT NULL);"

  "CREATE TABLE audit_log ("
  "  id INTEGER PRIMARY KEY,"
  "  time TEXT NOT NULL,"
  "  user TEXT NOT NULL,"
  "  action TEXT NOT NULL,"
  "  object TEXT,"
  "  detail TEXT);"
  "CREATE INDEX audit_log_time ON audit_log (time);"
  "CREATE INDEX audit_log_object ON audit_log (object);";

/* Version 2: the pseudonymization gate (PS3.15 Annex E check on import).
 *
 * setting holds workspace settings as text; an absent key means the built-in default
 * (cu-store-deid.c), so a newer Curata may change a default that a workspace never chose.
 *
 * deid_finding keeps what the check found, one row per finding: instance_ref is NULL for
 * study-level findings (one pseudonym per study). found is already masked by the checker:
 * the catalog never stores a value the profile says must not be there. overridden marks
 * findings a curator has accepted with a reasoned override; a finding that appears later
 * (a re-read file, a new instance) is not covered by that override.
 *
 * instance_pseudonym keeps each instance's PatientID/PatientName, because the catalog files
 * a study under the patient of its first instance and the study-level check needs every
 * instance's pair. The rows of v1 workspaces are filled from that patient, the best a
 * catalog without per-instance identifiers can do.
 *
 * study_gate: pending (not checked yet: workspaces from version 1 until their files are
 * re-read), passed, quarantined (error findings), overridden (reason, user and time of the
 * override; the audit log has the same). */
static const char migration_2[] =
  "CREATE TABLE setting ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL);"

  "CREATE TABLE deid_finding ("
  "  id INTEGER PRIMARY KEY,"
  "  study_ref INTEGER NOT NULL REFERENCES study (id) ON DELETE CASCADE,"
  "  instance_ref INTEGER REFERENCES instance (id) ON DELETE CASCADE,"
  "  path TEXT,"
  "  tag_path TEXT NOT NULL DEFAULT '',"
  "  keyword TEXT,"
  "  rule TEXT NOT NULL,"
  "  expected TEXT,"
  "  found TEXT,"
  "  severity INTEGER NOT NULL,"
  "  overridden INTEGER NOT NULL DEFAULT 0);"
  "CREATE INDEX deid_finding_study ON deid_finding (study_ref);"
  "CREATE INDEX deid_finding_instance ON deid_finding (instance_ref);"

  "CREATE TABLE instance_pseudonym ("
  "  instance_ref INTEGER PRIMARY KEY REFERENCES instance (id) ON DELETE CASCADE,"
  "  patient_id TEXT NOT NULL DEFAULT '',"
  "  patient_name TEXT NOT NULL DEFAULT '');"
  "INSERT INTO instance_pseudonym (instance_ref, patient_id, patient_name)"
  "  SELECT i.id, p.patient_id, p.patient_name FROM instance i"
  "    JOIN series se ON i.series_ref = se.id JOIN study st ON se.study_ref = st.id"
  "    JOIN patient p ON st.patient_ref = p.id;"

  "CREATE TABLE study_gate ("
  "  study_ref INTEGER PRIMARY KEY REFERENCES study (id) ON DELETE CASCADE,"
  "  state TEXT NOT NULL DEFAULT 'pending'"
  "    CHECK (state IN ('pending', 'passed', 'quarantined', 'overridden')),"
  "  n_errors INTEGER NOT NULL DEFAULT 0,"
  "  n_warnings INTEGER NOT NULL DEFAULT 0,"
  "  reason TEXT,"
  "  user TEXT,"
  "  time TEXT,"
  "  checked_at TEXT);"
  "INSERT INTO study_gate (study_ref) SELECT id FROM study;";

/* Version 3: lineage of derived series (cu-derived-series.h). One row per series Curata
 * wrote from another: what it came from, the reference it was aligned to (registration),
 * the method with its parameters and results as JSON (a motion table, a transform), who
 * made it and when. The series itself is catalogued like any other. */
static const char migration_3[] =
  "CREATE TABLE derived_series ("
  "  series_uid TEXT PRIMARY KEY,"
  "  source_series_uid TEXT NOT NULL,"
  "  reference_series_uid TEXT,"
  "  method TEXT NOT NULL,"
  "  parameters TEXT,"
  "  result TEXT,"
  "  user TEXT NOT NULL,"
  "  time TEXT NOT NULL);"
  "CREATE INDEX derived_series_source ON derived_series (source_series_uid);";

/* Version 4: clinical data (eCRF export) and consistency flags (curation/flags/).
 *
 * clinical_person / clinical_value: the site's variables per pseudonym (person_id = DICOM
 * PatientID), one row per variable in the wide layout's names; the site the data came from
 * (flag bundles go to it). clinical_history keeps every replaced value (a new export, a
 * correction sent back by the site) with its source, user and time.
 *
 * flag: one finding of a rule; key = rule, person, study, series and variable, so a re-run
 * finds its flag again. flag_event is the lifecycle history with comments and the site's
 * answers. flag_bundle records the bundles exported to sites (checksum of the manifest) and
 * when their answers were applied, so a bundle is applied once and only here. */
static const char migration_4[] =
  "CREATE TABLE clinical_person ("
  "  person_id TEXT PRIMARY KEY,"
  "  site TEXT NOT NULL,"
  "  source TEXT,"
  "  imported_at TEXT NOT NULL);"

  "CREATE TABLE clinical_value ("
  "  person_id TEXT NOT NULL REFERENCES clinical_person (person_id) ON DELETE CASCADE,"
  "  variable TEXT NOT NULL,"
  "  value TEXT NOT NULL,"
  "  source TEXT,"
  "  source_line INTEGER,"
  "  updated_at TEXT NOT NULL,"
  "  PRIMARY KEY (person_id, variable));"

  "CREATE TABLE clinical_history ("
  "  id INTEGER PRIMARY KEY,"
  "  person_id TEXT NOT NULL,"
  "  variable TEXT NOT NULL,"
  "  old_value TEXT,"
  "  new_value TEXT,"
  "  source TEXT,"
  "  reason TEXT,"
  "  user TEXT NOT NULL,"
  "  time TEXT NOT NULL);"
  "CREATE INDEX clinical_history_person ON clinical_history (person_id, variable);"

  "CREATE TABLE flag ("
  "  id INTEGER PRIMARY KEY,"
  "  rule_id TEXT NOT NULL,"
  "  severity TEXT NOT NULL,"
  "  title TEXT,"
  "  key TEXT NOT NULL,"
  "  person_id TEXT NOT NULL,"
  "  study_uid TEXT,"
  "  series_uid TEXT,"
  "  variable TEXT,"
  "  site TEXT,"
  "  message TEXT NOT NULL,"
  "  details TEXT,"
  "  state TEXT NOT NULL DEFAULT 'open'"
  "    CHECK (state IN ('open', 'sent', 'answered', 'resolved', 'accepted', 'withdrawn')),"
  "  created_at TEXT NOT NULL,"
  "  updated_at TEXT NOT NULL,"
  "  last_seen_at TEXT);"
  "CREATE INDEX flag_key ON flag (key);"
  "CREATE INDEX flag_person ON flag (person_id);"

  "CREATE TABLE flag_event ("
  "  id INTEGER PRIMARY KEY,"
  "  flag_ref INTEGER NOT NULL REFERENCES flag (id) ON DELETE CASCADE,"
  "  time TEXT NOT NULL,"
  "  user TEXT NOT NULL,"
  "  from_state TEXT,"
  "  to_state TEXT NOT NULL,"
  "  comment TEXT,"
  "  answer TEXT,"
  "  corrected_value TEXT,"
  "  bundle_id TEXT);"
  "CREATE INDEX flag_event_flag ON flag_event (flag_ref);"

  "CREATE TABLE flag_bundle ("
  "  bundle_id TEXT PRIMARY KEY,"
  "  site TEXT NOT NULL,"
  "  checksum TEXT NOT NULL,"
  "  created_at TEXT NOT NULL,"
  "  created_by TEXT NOT NULL,"
  "  applied_at TEXT,"
  "  applied_by TEXT,"
  "  answers_sha256 TEXT);"
  "CREATE TABLE flag_bundle_item ("
  "  bundle_id TEXT NOT NULL REFERENCES flag_bundle (bundle_id) ON DELETE CASCADE,"
  "  flag_ref INTEGER NOT NULL REFERENCES flag (id) ON DELETE CASCADE,"
  "  PRIMARY KEY (bundle_id, flag_ref));";
/* Version 5: the quality gate (cu-store-qc.h). qc_run holds the last check of a series (when,
 * the counts, what was recognised: sequence type, plane, scanner, the mask threshold);
 * qc_finding its findings (one row each, replaced by the next run); qc_metric the image
 * quality metrics (name → value, NULL when not computable); qc_decision the curator's state
 * with reason, user and time (the audit log keeps every change). Keyed by SeriesInstanceUID
 * like derived_series, so a decision survives a series being re-imported. */
static const char migration_5[] =
  "CREATE TABLE qc_run ("
  "  series_uid TEXT PRIMARY KEY,"
  "  time TEXT NOT NULL,"
  "  n_errors INTEGER NOT NULL DEFAULT 0,"
  "  n_warnings INTEGER NOT NULL DEFAULT 0,"
  "  n_info INTEGER NOT NULL DEFAULT 0,"
  "  modality TEXT,"
  "  sequence TEXT,"
  "  plane TEXT,"
  "  scanner TEXT,"
  "  stack_label TEXT,"
  "  mask_threshold REAL);"
  "CREATE TABLE qc_finding ("
  "  id INTEGER PRIMARY KEY,"
  "  series_uid TEXT NOT NULL,"
  "  code TEXT NOT NULL,"
  "  severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'error')),"
  "  message TEXT NOT NULL,"
  "  slice INTEGER,"
  "  attribute TEXT,"
  "  path TEXT);"
  "CREATE INDEX qc_finding_series ON qc_finding (series_uid);"
  "CREATE TABLE qc_metric ("
  "  series_uid TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  value REAL,"
  "  PRIMARY KEY (series_uid, name));"
  "CREATE TABLE qc_decision ("
  "  series_uid TEXT PRIMARY KEY,"
  "  state TEXT NOT NULL CHECK (state IN ('not-reviewed', 'accepted', 'accepted-remark',"
  "                                       'rejected', 'ask-site')),"
  "  reason TEXT,"
  "  user TEXT,"
  "  time TEXT);";
/* Version 6: segmentations (cu-store-seg.h). One row per saved version of a reader's label
 * map of a series: the grid it was drawn on (dims + spacing/origin/direction as JSON), the label
 * table with lesion forms (JSON), the zlib-compressed 8-bit labels, who saved it and when.
 * kind: reading (autosaved after every stroke), imported (from a file), final (adjudicated). */
static const char migration_6[] =
  "CREATE TABLE segmentation ("
  "  id INTEGER PRIMARY KEY,"
  "  series_uid TEXT NOT NULL,"
  "  reader TEXT NOT NULL,"
  "  version INTEGER NOT NULL,"
  "  kind TEXT NOT NULL DEFAULT 'reading' CHECK (kind IN ('reading', 'imported', 'final')),"
  "  nx INTEGER NOT NULL,"
  "  ny INTEGER NOT NULL,"
  "  nz INTEGER NOT NULL,"
  "  grid TEXT NOT NULL,"
  "  labels TEXT NOT NULL,"
  "  data BLOB NOT NULL,"
  "  n_labelled INTEGER NOT NULL DEFAULT 0,"
  "  n_labels INTEGER NOT NULL DEFAULT 0,"
  "  note TEXT,"
  "  user TEXT NOT NULL,"
  "  time TEXT NOT NULL,"
  "  UNIQUE (series_uid, reader, version));";
/* Version 7: a quarantined study retired by the fixed copy that replaced it
 * (cu_store_supersede_study): shown as superseded, never exported, never opened for
 * annotation. The gate underneath stays what the check says; by_study_uid is text, not a
 * reference, so that the record survives the superseding study being removed. */
static const char migration_7[] =
  "CREATE TABLE study_superseded ("
  "  study_ref INTEGER PRIMARY KEY REFERENCES study (id) ON DELETE CASCADE,"
  "  by_study_uid TEXT NOT NULL,"
  "  reason TEXT NOT NULL,"
  "  user TEXT NOT NULL,"
  "  time TEXT NOT NULL);";

/* Version 8: the series classification the consistency rules read (curation/flags/
 * cu-series-class.h): what kind of series it is (T2W, DWI, ADC, DCE … as the quality gate's
 * sequence recogniser says), its plane, its highest b-value and number of volumes, and the
 * PatientAge its images carry. Filled from the files' headers the first time the rules run
 * after an import (n_files says how many files it saw, so a series that grew is redone). */
static const char migration_8[] =
  "CREATE TABLE series_class ("
  "  series_uid TEXT PRIMARY KEY,"
  "  sequence TEXT,"
  "  plane TEXT,"
  "  b_max REAL,"
  "  n_volumes INTEGER,"
  "  image_type TEXT,"
  "  scanning_sequence TEXT,"
  "  sequence_name TEXT,"
  "  repetition_time REAL,"
  "  echo_time REAL,"
  "  patient_age TEXT,"
  "  n_files INTEGER NOT NULL,"
  "  classified_at TEXT NOT NULL);";

/* Version 9: the tamper-evident audit log (cu-store-audit.c). Every row carries a SHA-256
 * hash chained to the row before it. The rows already there are hashed as they are found and
 * an "audit-chain-start" row says how many: the chain proves that nothing was edited after
 * this migration, not before it. */
static const char migration_9[] =
  "ALTER TABLE audit_log ADD COLUMN hash TEXT;";

/* Version 10: segmentation sessions (curation/seg/cu-seg-session.h). Each version records the
 * version its session started from (based_on: two sessions of one reader that start from the
 * same version are seen, and the second merges instead of hiding the first) and the undo and
 * redo lists of that session as JSON arrays of seg_stroke ids, newest first, so that reopening
 * the series can undo the strokes of an earlier session. seg_stroke holds each undo step once:
 * the changed runs with their bytes before and after (cu-seg-diff.h), compressed. */
static const char migration_10[] =
  "ALTER TABLE segmentation ADD COLUMN based_on INTEGER;"
  "ALTER TABLE segmentation ADD COLUMN undo TEXT;"
  "ALTER TABLE segmentation ADD COLUMN redo TEXT;"
  "CREATE TABLE seg_stroke ("
  "  id INTEGER PRIMARY KEY,"
  "  series_uid TEXT NOT NULL,"
  "  reader TEXT NOT NULL,"
  "  name TEXT NOT NULL,"
  "  data BLOB NOT NULL);"
  "CREATE INDEX seg_stroke_owner ON seg_stroke (series_uid, reader);";

/* Version 11: releases (curation/release/cu-release.h).
 *
 * release: a named, versioned unit for the central repository; open while written_at is NULL,
 * frozen once written (written_to, manifest_sha256). release_item: what a curator added, a
 * patient by its pseudonym or a study by its full UID (kind says which).
 *
 * release_ledger: what written releases carried, as keyed one-way digests only (HMAC-SHA-256
 * under the workspace's secret, setting "release.secret", 32 random bytes made on first use)
 * of the source PatientID + PatientName ("patient"), StudyInstanceUID ("study"),
 * SOPInstanceUID ("instance") and decoded pixel data ("pixels"), with the release and the
 * time. The privacy argument: the ledger holds no new identifier of any kind, so it cannot map
 * a released (anonymized) ID back to a source one, whoever reads it; without the secret a
 * digest cannot even be tested against a guessed PatientID; with it, it answers only "was
 * this sent before, when, in which release". Rows reference the release without cascade: a
 * ledger row is never deleted.
 *
 * release_withdrawal: patients who withdrew consent, by the site's pseudonym (pseudonymized
 * packages list it for deletion at the receiver, who knows only that pseudonym) and by the
 * patient digest (so the block holds if the catalog entry is removed and re-imported), with
 * reason, user and time. Anonymized mode keeps nothing more: a withdrawal of a patient
 * released anonymized is refused, and no anonymized ID is stored anywhere to forward.
 *
 * release_patient_offset: pseudonymized mode only, the per-patient date offset kept so later
 * time points shift alike; keyed by the patient digest. Anonymized offsets exist only in
 * memory while a package is written.
 *
 * instance_pixel_digest: the pixel digest of an instance, valid while its file is unchanged
 * (size and mtime), because decoding every image for each check would take minutes. */
static const char migration_11[] =
  "CREATE TABLE release ("
  "  id INTEGER PRIMARY KEY,"
  "  name TEXT NOT NULL,"
  "  version INTEGER NOT NULL,"
  "  mode TEXT NOT NULL CHECK (mode IN ('anonymized', 'pseudonymized')),"
  "  shift_dates INTEGER NOT NULL,"
  "  created_by TEXT NOT NULL,"
  "  created_at TEXT NOT NULL,"
  "  written_at TEXT,"
  "  written_to TEXT,"
  "  manifest_sha256 TEXT,"
  "  UNIQUE (name, version));"
  "CREATE TABLE release_item ("
  "  id INTEGER PRIMARY KEY,"
  "  release_ref INTEGER NOT NULL REFERENCES release (id) ON DELETE CASCADE,"
  "  kind TEXT NOT NULL CHECK (kind IN ('patient', 'study')),"
  "  item TEXT NOT NULL,"
  "  UNIQUE (release_ref, kind, item));"
  "CREATE TABLE release_ledger ("
  "  id INTEGER PRIMARY KEY,"
  "  kind TEXT NOT NULL CHECK (kind IN ('patient', 'study', 'instance', 'pixels')),"
  "  digest TEXT NOT NULL,"
  "  release_ref INTEGER NOT NULL REFERENCES release (id),"
  "  time TEXT NOT NULL);"
  "CREATE INDEX release_ledger_digest ON release_ledger (digest);"
  "CREATE TABLE release_withdrawal ("
  "  id INTEGER PRIMARY KEY,"
  "  patient_id TEXT NOT NULL,"
  "  patient_digest TEXT NOT NULL,"
  "  reason TEXT NOT NULL,"
  "  user TEXT NOT NULL,"
  "  time TEXT NOT NULL);"
  "CREATE INDEX release_withdrawal_patient ON release_withdrawal (patient_id);"
  "CREATE INDEX release_withdrawal_digest ON release_withdrawal (patient_digest);"
  "CREATE TABLE release_patient_offset ("
  "  patient_digest TEXT PRIMARY KEY,"
  "  offset_days INTEGER NOT NULL,"
  "  created_at TEXT NOT NULL);"
  "CREATE TABLE instance_pixel_digest ("
  "  sop_instance_uid TEXT PRIMARY KEY,"
  "  file_size INTEGER NOT NULL,"
  "  mtime INTEGER NOT NULL,"
  "  mtime_nsec INTEGER NOT NULL,"
  "  digest TEXT NOT NULL);";

/* Version 12: DICOMweb servers and pushes (curation/dicomweb/).
 *
 * dicomweb_server: a site's servers, configured once per workspace so that every curator of
 * it sees the same list. Never the secret: that goes to the desktop keyring (or an environment
 * variable / file on headless machines), so a copied workspace carries no password.
 *
 * dicomweb_push: the outcome of each SOP instance of a written release sent to a server, as
 * the STOW-RS response reported it; a later push of the same release to the same server skips
 * the instances stored, which is what makes an interrupted push resumable. */
static const char migration_12[] =
  "CREATE TABLE dicomweb_server ("
  "  name TEXT PRIMARY KEY,"
  "  base_url TEXT NOT NULL,"
  "  auth TEXT NOT NULL CHECK (auth IN ('none', 'basic', 'bearer')),"
  "  user TEXT,"
  "  ca_file TEXT,"
  "  created_at TEXT NOT NULL);"
  "CREATE TABLE dicomweb_push ("
  "  release_ref INTEGER NOT NULL REFERENCES release (id) ON DELETE CASCADE,"
  "  server TEXT NOT NULL,"
  "  base_url TEXT NOT NULL,"
  "  sop_instance_uid TEXT NOT NULL,"
  "  path TEXT NOT NULL,"
  "  state TEXT NOT NULL CHECK (state IN ('stored', 'failed')),"
  "  reason TEXT,"
  "  time TEXT NOT NULL,"
  "  PRIMARY KEY (release_ref, server, sop_instance_uid));";

/* Version 13: every question to the site is a flag (curation/flags/cu-flags.h). kind says
 * which: "rule" (a consistency rule, as before), "image" (a series the site must send again:
 * a QC "ask the site" decision, a forwarded finding, a corrupted or incomplete series),
 * "question" (a curator's free question), "incidental" (an incidental finding the site must
 * pass to the treating physician) or "deid" (a study to send again after fixing the site's
 * pseudonymization). urgent: incidental findings, which never wait for a scheduled bundle.
 * position: the LPS point (mm, "x,y,z") a curator marked, or NULL. */
static const char migration_13[] =
  "ALTER TABLE flag ADD COLUMN kind TEXT NOT NULL DEFAULT 'rule'"
  "  CHECK (kind IN ('rule', 'image', 'question', 'incidental', 'deid'));"
  "ALTER TABLE flag ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE flag ADD COLUMN position TEXT;"
  "CREATE INDEX flag_kind ON flag (kind, state);"
  "CREATE INDEX flag_series ON flag (series_uid);";

/* Version 14: layered segmentations (cu-label-map.h). A version's data holds n_layers label
 * maps one after the other; every version saved before has one, which is what the default
 * gives it, so old segmentations load unchanged. */
static const char migration_14[] =
  "ALTER TABLE segmentation ADD COLUMN n_layers INTEGER NOT NULL DEFAULT 1"
  "  CHECK (n_layers BETWEEN 1 AND 255);";

/* Version 15: the project packs a workspace uses (curation/packs/, data/packs/README.md), in
 * the order chosen. origin "built-in" is a pack shipped with Curata, "workspace" one copied
 * into the workspace's packs/ folder. A workspace made before packs existed did prostate
 * work with the shared rules: it keeps exactly that. */
static const char migration_15[] =
  "CREATE TABLE workspace_pack ("
  "  id TEXT PRIMARY KEY,"
  "  position INTEGER NOT NULL,"
  "  origin TEXT NOT NULL CHECK (origin IN ('built-in', 'workspace')),"
  "  version TEXT NOT NULL,"
  "  added_at TEXT);"
  "INSERT INTO workspace_pack (id, position, origin, version) VALUES"
  "  ('common', 0, 'built-in', '1.0.0'), ('prostate', 1, 'built-in', '1.0.0');";

/* Version 16: measurements readers keep on a series (cu-store-measure.h): ruler, ellipse ROI,
 * angle, arrow; points in LPS mm as JSON [[x,y,z],…], results (length, area, statistics) as a
 * JSON object computed when saved; frame: the volume of a 4D series; label: the segmentation
 * label (lesion) it belongs to, 0 for none. */
static const char migration_16[] =
  "CREATE TABLE measurement ("
  "  id INTEGER PRIMARY KEY,"
  "  series_uid TEXT NOT NULL,"
  "  reader TEXT NOT NULL,"
  "  kind TEXT NOT NULL CHECK (kind IN ('ruler', 'ellipse', 'angle', 'arrow')),"
  "  frame INTEGER NOT NULL DEFAULT 0,"
  "  points TEXT NOT NULL,"
  "  text TEXT,"
  "  label INTEGER NOT NULL DEFAULT 0,"
  "  results TEXT,"
  "  created TEXT NOT NULL,"
  "  modified TEXT NOT NULL);"
  "CREATE INDEX measurement_series ON measurement (series_uid, reader);";

/* A step: SQL, then (for what SQL cannot compute) a function, in the same transaction. */
typedef struct
{
  const char *sql;
  gboolean (*run) (sqlite3 *db, GError **error);
} Migration;

static const Migration migrations[] = {
  { migration_1, NULL },
  { migration_2, NULL },
  { migration_3, NULL },
  { migration_4, NULL },
  { migration_5, NULL },
  { migration_6, NULL },
  { migration_7, NULL },
  { migration_8, NULL },
  { migration_9, _cu_store_audit_seal },
  { migration_10, NULL },
  { migration_11, NULL },
  { migration_12, NULL },
  { migration_13, NULL },
  { migration_14, NULL },
  { migration_15, NULL },
  { migration_16, NULL },
};

int
_cu_store_latest_version (void)
{
  return (int) G_N_ELEMENTS (migrations);
}

static int
read_user_version (sqlite3 *db, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
    {
      _cu_store_set_db_error (db, error, _("Reading the workspace version failed"));
      return -1;
    }
  if (sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  else
    _cu_store_set_db_error (db, error, _("Reading the workspace version failed"));
  sqlite3_finalize (stmt);
  return version;
}

int
_cu_store_migrate (sqlite3 *db, GError **error)
{
  return _cu_store_migrate_to (db, _cu_store_latest_version (), error);
}

int
_cu_store_migrate_to (sqlite3 *db, int target, GError **error)
{
  int version = read_user_version (db, error);
  int latest = _cu_store_latest_version ();

  if (version < 0)
    return -1;
  if (version > latest)
    {
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_VERSION,
                   _("The workspace has schema version %d, but this version of Curata only "
                     "knows up to %d; open it with a newer Curata"), version, latest);
      return -1;
    }

  g_return_val_if_fail (target <= latest, -1);

  for (; version < target; version++)
    {
      g_autofree char *set_version = NULL;

      /* IMMEDIATE: take the write lock first, so two processes opening a fresh workspace
       * at once cannot both run the same step. */
      if (!_cu_store_exec (db, "BEGIN IMMEDIATE", error))
        return -1;

      /* Re-read under the lock: another process may have migrated meanwhile. */
      {
        int now = read_user_version (db, error);
        if (now < 0)
          goto fail;
        if (now != version)
          {
            _cu_store_exec (db, "ROLLBACK", NULL);
            if (now > latest)
              {
                g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_VERSION,
                             _("The workspace has schema version %d, but this version of "
                               "Curata only knows up to %d"), now, latest);
                return -1;
              }
            version = now - 1;
            continue;
          }
      }

      if (!_cu_store_exec (db, migrations[version].sql, error))
        goto fail;
      if (migrations[version].run != NULL && !migrations[version].run (db, error))
        goto fail;
      set_version = g_strdup_printf ("PRAGMA user_version = %d", version + 1);
      if (!_cu_store_exec (db, set_version, error))
        goto fail;
      if (!_cu_store_exec (db, "COMMIT", error))
        goto fail;
      continue;

    fail:
      _cu_store_exec (db, "ROLLBACK", NULL);
      g_prefix_error (error, _("Upgrading the workspace to version %d failed: "), version + 1);
      return -1;
    }

  return version;
}

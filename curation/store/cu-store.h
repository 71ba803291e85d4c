/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store.h — the workspace: a folder holding workspace.sqlite (+ objects/ for files Curata
 * writes). The catalog is patient → study → series → instance; pixel data stays in the DICOM
 * files, which the catalog references by path.
 *
 * A CuStore is used from one thread at a time; open a second CuStore on the same folder for
 * another thread (SQLite WAL lets readers and one writer work together).
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"
#include "cu-deid-check.h"

G_BEGIN_DECLS

#define CU_STORE_ERROR (cu_store_error_quark ())

typedef enum
{
  CU_STORE_ERROR_IO,         /* folder cannot be created or opened */
  CU_STORE_ERROR_DATABASE,   /* SQLite failed (locked, corrupt, full disk) */
  CU_STORE_ERROR_VERSION,    /* the workspace was written by a newer Curata */
  CU_STORE_ERROR_NOT_FOUND,  /* no series/study matches */
  CU_STORE_ERROR_AMBIGUOUS,  /* a UID prefix matches several series */
  CU_STORE_ERROR_INVALID,    /* a request that cannot be done (override without a reason…) */
  CU_STORE_ERROR_IN_USE,     /* removal refused: curation work is attached (say what) */
  CU_STORE_ERROR_DISK_FULL,  /* no space left (or quota exceeded) on the workspace's disk */
} CuStoreError;

GQuark cu_store_error_quark (void);

#define CU_TYPE_STORE (cu_store_get_type ())
G_DECLARE_FINAL_TYPE (CuStore, cu_store, CU, STORE, GObject)

/* $XDG_DATA_HOME/curata/default */
char        *cu_store_default_path   (void);
/* Open (creating and migrating if needed) the workspace at dir. */
CuStore     *cu_store_open           (const char *dir, GError **error);
const char  *cu_store_get_path       (CuStore *self);
int          cu_store_get_schema_version (CuStore *self);

/* The pseudonymization gate of a study (cu-store-deid.c). */
typedef enum
{
  CU_GATE_PENDING,       /* not checked (catalogued by a Curata without the gate) */
  CU_GATE_PASSED,        /* no error finding */
  CU_GATE_QUARANTINED,   /* error findings: viewable, not open for annotation */
  CU_GATE_OVERRIDDEN,    /* error findings accepted by a curator, with a reason (audited) */
  CU_GATE_SUPERSEDED,    /* retired by a fixed copy (audited): shown as such, never exported */
} CuGateState;

/* "pending", "passed", "quarantined", "overridden", "superseded": stable, for JSON and the
 * database. */
const char  *cu_gate_state_to_string (CuGateState state);
/* Translated, for people. */
const char  *cu_gate_state_to_label  (CuGateState state);

/* One row per series, for the browser and `list`. */
typedef struct
{
  char *patient_id;
  char *patient_name;
  char *study_uid;
  char *study_date;
  char *study_description;
  char *series_uid;
  int series_number;
  char *modality;
  char *series_description;
  int n_instances;
  int rows, columns;
  int number_of_frames;   /* summed over instances */
  /* Added with the gate (compatible: appended). */
  CuGateState study_gate; /* of the series' study */
} CuSeriesRecord;

void         cu_series_record_free   (CuSeriesRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSeriesRecord, cu_series_record_free)

/* All series ordered by patient, study date, series number; CuSeriesRecord elements. */
GPtrArray   *cu_store_list_series    (CuStore *self, GError **error);
/* Resolve a SeriesInstanceUID or a unique prefix of one to the full UID. */
char        *cu_store_resolve_series (CuStore *self, const char *uid_or_prefix, GError **error);
/* Paths of the instances of a series (full UID), in catalog order. NULL-terminated. */
char       **cu_store_get_series_files (CuStore *self, const char *series_uid, GError **error);
CuSeriesRecord *cu_store_get_series  (CuStore *self, const char *series_uid, GError **error);
gboolean     cu_store_is_empty       (CuStore *self);

/* Audit log: who (OS user) did what, when. detail may be NULL. */
gboolean     cu_store_audit          (CuStore *self, const char *action, const char *object,
                                      const char *detail, GError **error);

/* ---- Pseudonymization gate (cu-store-deid.c) ----------------------------------------
 *
 * Every instance the import reads is checked against the PS3.15 Basic Profile under the
 * workspace's options (cu-deid-check.h); its findings are stored, and the gate of each study
 * the import touched is recomputed: quarantined when any finding is an ERROR, else passed.
 * Re-reading a changed file replaces its findings. An override accepts the findings present
 * at that moment and lasts until a finding appears that it did not cover. */

/* The built-in pseudonym pattern for PatientID: two to five capital letters, a hyphen, then
 * capitals, digits and hyphens, e.g. the demo study's "CUR-DEMO-0001". Sites set their own. */
#define CU_STORE_DEFAULT_PSEUDONYM_PATTERN "^[A-Z]{2,5}-[A-Z0-9-]+$"

typedef struct
{
  char *study_uid;
  CuGateState state;
  int n_errors;          /* ERROR findings (including overridden ones) */
  int n_warnings;
  char *reason;          /* of the override, or NULL */
  char *user;            /* who overrode, or NULL */
  char *time;            /* when (ISO 8601 UTC), or NULL */
  char *checked_at;      /* last check, or NULL when pending */
  /* Added with superseding (compatible: appended). For a superseded study: the study that
   * replaced it; reason, user and time are then those of the superseding. */
  char *superseded_by;
} CuStudyGate;

void         cu_study_gate_free      (CuStudyGate *gate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuStudyGate, cu_study_gate_free)

/* The workspace's check configuration (defaults: CU_DEID_OPTIONS_SITE_DEFAULT and
 * CU_STORE_DEFAULT_PSEUDONYM_PATTERN). The caller frees config->pseudonym_pattern. */
gboolean     cu_store_get_deid_config (CuStore *self, CuDeidConfig *config, GError **error);
/* Store a configuration (pattern NULL or "" = not checked; an invalid regex is an error).
 * When it differs from the stored one, every gate decided under the old one becomes pending
 * (not checked under the current configuration: annotation and export locked) in the same
 * transaction, until cu_store_deid_recheck decides again; findings and overrides are kept
 * for that recheck. The audit log records the change and how many gates it reopened. */
gboolean     cu_store_set_deid_config (CuStore *self, const CuDeidConfig *config, GError **error);

/* The gate of a study (full StudyInstanceUID); CU_STORE_ERROR_NOT_FOUND if none. */
CuStudyGate *cu_store_get_study_gate (CuStore *self, const char *study_uid, GError **error);
/* Gates of every study, ordered by study UID; CuStudyGate elements. */
GPtrArray   *cu_store_list_gates     (CuStore *self, GError **error);
/* Findings of a study (NULL: of the whole workspace), errors first, then by file and tag;
 * CuDeidFinding elements. */
GPtrArray   *cu_store_list_findings  (CuStore *self, const char *study_uid, GError **error);
/* Record a curator's reasoned override of a quarantined study: the state becomes
 * overridden, the audit log gets "deid-override" (object: the study UID; detail: JSON with
 * the reason and the findings accepted) with the OS user and the time. An empty or blank
 * reason, or a study that is not quarantined, is CU_STORE_ERROR_INVALID; an unknown study is
 * CU_STORE_ERROR_NOT_FOUND. */
gboolean     cu_store_override_study (CuStore *self, const char *study_uid, const char *reason,
                                      GError **error);
/* The gate a study has now, decided again from its files rather than from the stored state
 * (which anyone holding the workspace file can change): every file checked again with the
 * current configuration, each error finding held against the overrides on record. Writes
 * nothing. *state: passed, overridden or quarantined; *n_errors (may be NULL): the error
 * findings without an override. For exports. */
gboolean     cu_store_verify_study_gate (CuStore *self, const char *study_uid, CuGateState *state,
                                         guint *n_errors, GError **error);
/* Whether the study may leave the workspace (anonymized export, release): its gate passed or
 * was overridden, and its files, checked again now (cu_store_verify_study_gate), agree. FALSE
 * with a translated reason otherwise (pending, quarantined, superseded, changed outside
 * Curata). *state (may be NULL) receives the stored state. */
gboolean     cu_store_study_may_leave (CuStore *self, const char *study_uid, CuGateState *state,
                                       char **reason);
/* Whether the study may be opened for annotation: passed or overridden. */
gboolean     cu_store_study_can_annotate (CuStore *self, const char *study_uid);
/* Check again every catalogued instance (of one study, or all when study_uid is NULL) with
 * the current configuration, and recompute the gates. For pending studies, and after the
 * configuration changed. */
gboolean     cu_store_deid_recheck   (CuStore *self, const char *study_uid, CuProgress *progress,
                                      GCancellable *cancellable, GError **error);

/* ---- Retiring studies (cu-store-retire.c) -------------------------------------------
 *
 * A quarantined study whose fixed copy arrived as a new study (the site remapped the UIDs) is
 * superseded by it; a study can also be removed from the catalog (the files stay on disk).
 * Both need a reason and are written to the audit log with the OS user and the time. */

/* A full StudyInstanceUID or a unique prefix of one (an exact match wins). */
char        *cu_store_resolve_study  (CuStore *self, const char *uid_or_prefix, GError **error);

/* Retire old_uid in favour of new_uid: old becomes superseded (never exported, never opened
 * for annotation, shown as superseded with the study that replaced it) and the audit log gets
 * "study-superseded". Refused with CU_STORE_ERROR_INVALID, saying why, unless old is
 * quarantined or pending, new is another study that is not superseded itself, both have the
 * same study date and series numbers, and the same PatientID (unless old's PatientID was
 * flagged as not being a pseudonym). Unknown studies are CU_STORE_ERROR_NOT_FOUND. */
gboolean     cu_store_supersede_study (CuStore *self, const char *old_uid, const char *new_uid,
                                       const char *reason, GError **error);

typedef struct
{
  char *study_uid;
  char *patient_id;
  char *study_date;
  char *description;
  CuGateState state;
  gboolean same_pseudonym;
} CuSupersedeCandidate;

void         cu_supersede_candidate_free (CuSupersedeCandidate *candidate);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSupersedeCandidate, cu_supersede_candidate_free)

/* The studies that could supersede old_uid by the rules above (passed ones first);
 * CuSupersedeCandidate elements, empty when there is none. */
GPtrArray   *cu_store_list_supersede_candidates (CuStore *self, const char *old_uid,
                                                 GError **error);

/* After an import: the quarantined studies that a study of new_study_uids (NULL-terminated)
 * could supersede, as pairs (old, new) of char * in one flat array; empty when none. */
GPtrArray   *cu_store_find_fixed_copies (CuStore *self, const char *const *new_study_uids,
                                         GError **error);

/* Curation work attached to a study. */
typedef struct
{
  guint n_qc_decisions;     /* curator decisions on its series (not "not reviewed") */
  guint n_segmentations;    /* (series, reader) pairs with saved segmentations */
  guint n_derived_series;   /* series Curata derived (denoised, registered…) */
  guint n_flags;            /* consistency flags about it, not withdrawn */
  guint n_superseded;       /* studies it supersedes */
} CuStudyWork;

gboolean     cu_store_get_study_work (CuStore *self, const char *study_uid, CuStudyWork *work,
                                      GError **error);
/* "2 quality decisions, 1 segmentation" (translated), or NULL when there is no work. */
char        *cu_study_work_describe  (const CuStudyWork *work);

/* Remove a study from the catalog: its series, instances, findings, gate and QC results go,
 * the DICOM files on disk are not touched; audited ("study-removed", with the reason and what
 * was removed). With curation work attached it is refused (CU_STORE_ERROR_IN_USE, naming
 * the work) unless force: then decisions, segmentations and lineage of its series go too,
 * studies it superseded return to their own gate, and flags stay (the next consistency check
 * decides about them). */
gboolean     cu_store_remove_study   (CuStore *self, const char *study_uid, const char *reason,
                                      gboolean force, GError **error);

/* ---- Import ------------------------------------------------------------------------- */

typedef struct
{
  char *path;
  char *reason;       /* translated, for people */
  int code;           /* CuDicomError code, or -1 for filesystem problems */
} CuImportRejection;

typedef struct
{
  guint n_files_seen;       /* regular files looked at */
  guint n_imported;         /* instances added */
  guint n_updated;          /* instances whose file changed (size/mtime) and were re-read */
  guint n_unchanged;        /* already catalogued, same size and mtime */
  guint n_duplicates;       /* same SOPInstanceUID at another path: kept the first */
  guint n_skipped;          /* DICOMDIR: an index of files the folder scan imports */
  GPtrArray *rejected;      /* CuImportRejection elements */
  GPtrArray *series_uids;   /* series touched by this import (char *) */
  /* Added with the implementation (compatible: appended): the files behind n_skipped and
   * n_duplicates, with their reasons, so that nothing is skipped silently. */
  GPtrArray *skipped;       /* CuImportRejection elements (DICOMDIR…) */
  GPtrArray *duplicates;    /* CuImportRejection elements: reason names the catalogued path */
} CuImportReport;

void         cu_import_report_free   (CuImportReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuImportReport, cu_import_report_free)

/* Scan files and folders recursively (following symlinks once, detecting loops), read headers
 * only, and catalog every DICOM instance. One transaction per batch; re-import is idempotent
 * by SOPInstanceUID. Bad files end up in report->rejected, they do not fail the import.
 * Returns NULL only on a workspace-level failure (database error, cancellation).
 *
 * Details (cu-importer.c has the reasons):
 *  - a file catalogued at the same path with the same size and mtime is not read again;
 *  - objects without pixel data (SR, RTSTRUCT, RTPLAN, waveforms) are instances too;
 *  - a DICOMDIR is skipped (report->skipped), its files come from the folder scan;
 *  - the same SOPInstanceUID at a second path is a duplicate (report->duplicates) unless the
 *    catalogued file no longer exists, in which case the instance moves to the new path;
 *  - files without SOP/Study/Series Instance UID, unreadable or non-DICOM files, link loops,
 *    broken links and special files are rejected with a reason (also kept in rejected_file);
 *  - cancelling rolls back the current batch only and records "import-cancelled" in the
 *    audit log; every completed import records "import" with the paths and counts. */
CuImportReport *cu_store_import      (CuStore           *self,
                                      const char *const *paths,
                                      CuProgress        *progress,
                                      GCancellable      *cancellable,
                                      GError           **error);

G_END_DECLS

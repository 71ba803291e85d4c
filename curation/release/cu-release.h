/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release.h — releases: named, versioned units of curated cases for the central repository,
 * the release gate that decides what may leave, and the ledger that keeps any patient, study or
 * image from leaving twice.
 *
 * A release is created (name, mode), filled with items (a patient by its pseudonym, or a study
 * by StudyInstanceUID or a unique prefix), checked (cu_release_check: a CuReleasePlan saying
 * per patient, study and series what goes and what is held back and why), then written once
 * (cu-release-writer.h), after which it is frozen: a later release of the same name is a new
 * version.
 *
 * The release gate. A series goes only when all of these hold:
 *  - its study's pseudonymization gate passed or was overridden (the override is named in the
 *    plan and in the package's provenance), checked again against the files (as anonymize does);
 *  - the series is accepted at the quality gate (accepted or accepted with a remark); rejected,
 *    ask-site and not-reviewed series are held back and listed, never silently included; a
 *    derived series follows its source's decision unless it has its own;
 *  - no consistency flag of error severity is active (open, sent, answered) for the patient;
 *  - the workspace's inclusion rules hold for the patient (shipped: INCL-01, at least 12 months
 *    of follow-up after treatment, death within the year excepted; a workspace adds its own as
 *    SQL files in <workspace>/inclusion/, read like data/rules/); in anonymized mode a patient
 *    without clinical data is held (no later time point can ever be added);
 *  - the patient is not withdrawn, and the ledger does not already hold the patient (anonymized
 *    mode), the study or any of its images (both modes), also when a site re-sent them under
 *    another pseudonym (pixel digest).
 *
 * The ledger. For every patient, study and instance a written release carried, the workspace
 * keeps a keyed one-way digest, HMAC-SHA-256 with a per-workspace secret of 32 random bytes that
 * never leaves the workspace (setting "release.secret"), of: the source PatientID + PatientName
 * (kind "patient"), the StudyInstanceUID ("study"), the SOPInstanceUID ("instance") and the
 * decoded pixel data ("pixels"). Without the secret a digest cannot be tested against a guessed
 * identifier; with it, a digest still maps to no new identifier: in anonymized mode the ledger
 * holds no new ID at all. It answers only "was this sent before, when, in which release".
 *
 * The privacy argument, in full (schema version 11, cu-store-migrate.c): what the workspace
 * keeps about released data is (a) these digests, keyed, of identifiers it holds anyway in its
 * catalog, (b) for withdrawals, the site's pseudonym (the only key a pseudonymized receiver
 * knows, needed to ask it to delete) and the patient digest, (c) in pseudonymized mode only, a
 * per-patient date offset keyed by the patient digest, and (d) a per-instance cache of pixel
 * digests. None of it is a new (anonymized) identifier or an anonymized date offset: those
 * exist only in memory while a package is written. Whoever holds the whole workspace, secret
 * included, learns which source patients were released when, which the audit log says anyway,
 * and still cannot tell which anonymized ID in a package is which patient. A uniform image (all
 * one value) is digested with its SOP Instance UID, as its pixels identify nothing and would
 * match every other blank image.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-store.h"

G_BEGIN_DECLS

#define CU_RELEASE_ERROR (cu_release_error_quark ())
typedef enum
{
  CU_RELEASE_ERROR_NOT_FOUND,      /* no release of that name / no such patient or study */
  CU_RELEASE_ERROR_EXISTS,         /* create: an open release of that name exists */
  CU_RELEASE_ERROR_FROZEN,         /* add/remove to a release already written */
  CU_RELEASE_ERROR_ALREADY_SENT,   /* the ledger holds the patient/study/instance (says when, where) */
  CU_RELEASE_ERROR_WITHDRAWN,      /* the patient was withdrawn */
  CU_RELEASE_ERROR_REFUSED,        /* withdraw in anonymized mode of a released patient, … */
  CU_RELEASE_ERROR_OUTPUT,         /* write: the output folder exists, cannot be written */
  CU_RELEASE_ERROR_NOT_WRITTEN,    /* a package is needed and this version has none */
} CuReleaseError;
GQuark cu_release_error_quark (void);

typedef enum
{
  CU_RELEASE_ANONYMIZED,     /* new ID without any table, dates shifted per patient (random) */
  CU_RELEASE_PSEUDONYMIZED,  /* the site's pseudonym kept; per-patient offset kept in the workspace */
} CuReleaseMode;

const char *cu_release_mode_to_string   (CuReleaseMode mode);   /* "anonymized" … */
gboolean    cu_release_mode_from_string (const char *text, CuReleaseMode *mode);

typedef struct
{
  gint64 id;
  char *name;
  int version;             /* 1, 2 … per name */
  CuReleaseMode mode;
  gboolean shift_dates;    /* pseudonymized mode: dates shifted by the kept per-patient offset
                              (else kept as they are); anonymized mode: always TRUE */
  char *created_by, *created_at;      /* ISO 8601 UTC */
  char *written_at;                   /* NULL while open */
  char *written_to;                   /* the package folder, NULL while open */
  char *manifest_sha256;              /* of the written manifest.json, NULL while open */
  GStrv items;                        /* what was added: pseudonyms and full study UIDs */
} CuRelease;

void        cu_release_free (CuRelease *release);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuRelease, cu_release_free)

/* ---- The model ---------------------------------------------------------------------- */

/* Create a new open release (version = 1 + the highest written version of that name). */
CuRelease  *cu_release_create   (CuStore *store, const char *name, CuReleaseMode mode,
                                 gboolean shift_dates, GError **error);
/* The open release of that name, else its latest written version. */
CuRelease  *cu_release_get      (CuStore *store, const char *name, GError **error);
/* A written version of that name: `version`, or the highest written one when version is 0
 * (an open version being prepared is skipped). CU_RELEASE_ERROR_NOT_WRITTEN when the release
 * exists but that version, or no version, was written. */
CuRelease  *cu_release_get_written (CuStore *store, const char *name, int version,
                                    GError **error);
/* Every release, newest first (CuRelease). */
GPtrArray  *cu_release_list     (CuStore *store, GError **error);
/* Add patients (PatientID pseudonyms) or studies (UIDs or unique prefixes). Refuses, naming the
 * earlier release and its date, a patient already in the ledger in anonymized mode, and a
 * withdrawn patient; an item given twice is added once. Audited. */
gboolean    cu_release_add      (CuStore *store, const char *name, const char *const *items,
                                 GError **error);
gboolean    cu_release_remove   (CuStore *store, const char *name, const char *const *items,
                                 GError **error);

/* ---- The gate ----------------------------------------------------------------------- */

typedef enum
{
  CU_RELEASE_HOLD_DEID,            /* pseudonymization gate quarantined / pending / changed */
  CU_RELEASE_HOLD_SUPERSEDED,      /* retired by a fixed copy */
  CU_RELEASE_HOLD_QC_REJECTED,
  CU_RELEASE_HOLD_QC_NOT_REVIEWED,
  CU_RELEASE_HOLD_QC_ASK_SITE,
  CU_RELEASE_HOLD_INVALID,         /* header values no reader can use (series plan check) */
  CU_RELEASE_HOLD_FLAG,            /* an active error flag of the patient */
  CU_RELEASE_HOLD_INCLUSION,       /* an inclusion rule (or no clinical data in anonymized mode) */
  CU_RELEASE_HOLD_WITHDRAWN,
  CU_RELEASE_HOLD_ALREADY_SENT,    /* ledger: patient, study or instance sent before */
  CU_RELEASE_HOLD_RESENT,          /* ledger: the same pixels were sent before (new pseudonym) */
} CuReleaseHoldKind;

const char *cu_release_hold_kind_to_string (CuReleaseHoldKind kind);  /* "qc-rejected" … */

typedef struct
{
  CuReleaseHoldKind kind;
  char *message;      /* translated, one line, names what and why */
  char *target;       /* what to act on: study UID (deid), series UID (qc), rule id (inclusion),
                         release name (already sent), or NULL */
  gint64 flag_id;     /* CU_RELEASE_HOLD_FLAG: the flag; else 0 */
} CuReleaseHold;

typedef struct
{
  char *series_uid;
  int series_number;
  char *modality, *description;
  guint n_instances;
  gboolean derived;             /* written by Curata (denoise, registration …) */
  gboolean go;
  GPtrArray *holds;             /* CuReleaseHold; empty when go */
} CuReleaseSeriesPlan;

typedef struct
{
  char *study_uid;
  char *study_date;             /* DICOM DA, or NULL */
  char *override_reason;        /* the pseudonymization override this study leaves under, or NULL */
  char *override_user, *override_time;
  gboolean go;                  /* at least one series goes and nothing holds the whole study */
  GPtrArray *holds;             /* study-level holds (deid, superseded, already sent) */
  GPtrArray *series;            /* CuReleaseSeriesPlan */
} CuReleaseStudyPlan;

typedef struct
{
  char *patient_id, *patient_name;   /* as in the workspace (the site's pseudonym) */
  gboolean go;
  GPtrArray *holds;             /* patient-level holds (flag, inclusion, withdrawn, already sent) */
  GPtrArray *studies;           /* CuReleaseStudyPlan */
} CuReleasePatientPlan;

typedef struct
{
  CuRelease *release;
  GPtrArray *patients;          /* CuReleasePatientPlan */
  guint n_patients_go, n_studies_go, n_series_go, n_instances_go;
  guint n_series_held;          /* series of the release's items that stay */
  GStrv withdrawn;              /* pseudonymized mode: pseudonyms withdrawn since the previous
                                   written pseudonymized release was created (so a withdrawal
                                   made while it was being written is listed again, never
                                   lost), for deletion by the receiver; empty in anonymized
                                   mode */
} CuReleasePlan;

void        cu_release_plan_free (CuReleasePlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuReleasePlan, cu_release_plan_free)
/* TRUE when anything of the release's items is held back (the CLI's exit status 3). */
gboolean    cu_release_plan_has_holds (const CuReleasePlan *plan);
/* The plan as JSON (the same for `release check --json` and the GUI's tests). */
JsonNode   *cu_release_plan_to_json   (const CuReleasePlan *plan);

/* Evaluate the gate for every item of the release (re-read under the workspace, nothing
 * cached across calls). */
CuReleasePlan *cu_release_check (CuStore *store, const char *name, CuProgress *progress,
                                 GCancellable *cancellable, GError **error);

/* ---- Withdrawal --------------------------------------------------------------------- */

/* Record that a patient (pseudonym) withdrew consent. Refused (CU_RELEASE_ERROR_REFUSED, with
 * the reason) when the patient was released in anonymized mode: that data cannot be traced.
 * Blocks the patient from every later release; audited. */
gboolean    cu_release_withdraw (CuStore *store, const char *patient_id, const char *reason,
                                 GError **error);

/* ---- The ledger --------------------------------------------------------------------- */

/* HMAC-SHA-256 (hex) of data under the workspace's release secret, created on first use. kind
 * ("patient", "study", "instance", "pixels") is mixed in so that digests of different kinds
 * never collide. */
char       *cu_release_digest       (CuStore *store, const char *kind, const void *data,
                                     gsize len, GError **error);
/* The digest of a source patient (kind "patient"): of PatientID, a 0x1F separator and
 * PatientName, as they are in the workspace. What the writer records in the ledger and the gate
 * looks up must be made the same way, so both call this. */
char       *cu_release_patient_digest (CuStore *store, const char *patient_id,
                                       const char *patient_name, GError **error);
/* The digest of an instance's decoded pixel data (all frames, as stored after decoding, before
 * rescale, with rows, columns, samples, frames and bits allocated), cached per instance in the
 * workspace while its file is unchanged. CU_RELEASE_ERROR_NOT_FOUND for an instance without
 * pixel data (SR …) or one that cannot be decoded, with the file and the reason. */
char       *cu_release_pixel_digest (CuStore *store, const char *sop_instance_uid,
                                     GError **error);

typedef struct
{
  const char *kind;       /* "patient", "study", "instance", "pixels" */
  const char *digest;     /* cu_release_digest */
} CuLedgerEntry;

/* Mark the release written (folder, manifest digest, time) and add its ledger entries (array
 * of CuLedgerEntry, copied), in one transaction with the "release-write" audit row. Called by
 * the writer only after the package is complete and renamed into place. */
gboolean    cu_release_mark_written (CuStore *store, const char *name, const char *written_to,
                                     const char *manifest_sha256, const GArray *entries,
                                     GError **error);

/* Pseudonymized mode: the date offset (days) kept for a patient, created (random, as the
 * anonymizer's range) on first use so later time points shift alike. Anonymized mode never
 * calls this. */
gboolean    cu_release_patient_offset (CuStore *store, const char *patient_id,
                                       const char *patient_name, int *offset_days,
                                       GError **error);

G_END_DECLS

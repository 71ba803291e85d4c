/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-anonymizer.h — step-2 anonymized export (PS3.15 Annex E, Basic Application Level
 * Confidentiality Profile with the Retain Longitudinal Temporal Information with Modified Dates
 * and Retain Patient Characteristics options).
 *
 * An anonymizer is one export session. It holds, in memory only and never written anywhere:
 *  - per original patient, a new random patient identifier ("ANON-" + 16 random hex digits,
 *    used as PatientID and PatientName) and one random date offset in whole days, uniform over
 *    [-3650, -365] ∪ [365, 3650] (one to ten years, either direction: a shifted date is never
 *    within a year of the true one, and its sign gives nothing away), different for every patient
 *    of the session. Every DA and DT value of
 *    every study of that patient moves by that offset, so intervals survive exactly; TM values
 *    stay (a whole-day shift does not change a time of day);
 *  - a UID map, original → new random 2.25 UID, shared by all files of the session, so
 *    references between objects (ReferencedSOPInstanceUID, FrameOfReferenceUID, study and
 *    series UIDs inside sequences) still resolve after the export.
 * Randomness comes from the operating system's cryptographic generator (getrandom). Freeing
 * the anonymizer wipes the tables: no correspondence between old and new identifiers survives
 * the session. Two sessions give different identifiers for the same patient.
 *
 * A release (cu-release-writer.h) drives one session for a whole package and may set a
 * patient's identity from outside (pseudonymized mode: the site's pseudonym and the offset the
 * workspace keeps, 0 when dates are kept), and reads the UID map to write the SEG and SR objects
 * that reference the anonymized images.
 *
 * A deliberate exception to the profile: the SeriesDescription and DerivationDescription of a
 * DERIVED series that Curata itself wrote (denoised, motion-corrected, registered: the
 * derived_series table lists them, cu_anonymizer_keep_descriptions) are kept. Their text is
 * Curata's own (the method and its parameters, after the source series' description, which the
 * pseudonymization gate has seen), and without it a receiver could not tell a derived series
 * from its original. The source it references (ReferencedSeriesSequence, SourceImageSequence)
 * is remapped like every UID, so it names the source's new UID in the same package.
 */
#pragma once

#include <gio/gio.h>

#include "cu-deid-profile.h"
#include "cu-progress.h"
#include "cu-store.h"

G_BEGIN_DECLS

/* The options the export applies (and the exported files are checked with). */
#define CU_ANONYMIZER_OPTIONS CU_DEID_OPTIONS_EXPORT
/* The pattern of the new patient identifiers (a GRegex), for checking the exported set. */
#define CU_ANONYMIZER_PSEUDONYM_PATTERN "^ANON-[0-9A-F]{16}$"
/* Written at the top of an export folder that received files: what was exported (counts,
 * never an identifier) and the head of the workspace's audit trail at that moment
 * (cu-store-audit.h), so that history rewritten after the hand-off shows. */
#define CU_ANONYMIZER_MANIFEST "export-manifest.json"
/* The implicit anonymized release every export is recorded as (see export_store). */
#define CU_ANONYMIZER_RELEASE "anonymize"
/* The offset range, in days (see above). */
#define CU_ANONYMIZER_MIN_OFFSET_DAYS 365
#define CU_ANONYMIZER_MAX_OFFSET_DAYS 3650

typedef struct _CuAnonymizer CuAnonymizer;

/* profile NULL = the built-in 2024b table. */
CuAnonymizer *cu_anonymizer_new            (const CuDeidProfile *profile,
                                            GError             **error);
void          cu_anonymizer_free           (CuAnonymizer *self);

/* Anonymize one file into out_dir/<new patient id>/<new study UID>/<new series UID>/
 * <new SOP instance UID>.dcm (folders created as needed); *out_path (may be NULL) receives the
 * path written. Never aborts on a bad file: it fails with a CU_DICOM_ERROR. */
gboolean      cu_anonymizer_anonymize_file (CuAnonymizer *self,
                                            const char   *in_path,
                                            const char   *out_dir,
                                            char        **out_path,
                                            GError      **error);

/* For the exporter of clinical data of the same session: the new identifier and the date
 * offset given to the patient whose original PatientID is patient_id (as it appears in the
 * DICOM files). FALSE if that patient has no file in this session yet. Both stay in memory. */
gboolean      cu_anonymizer_lookup_patient (CuAnonymizer *self,
                                            const char   *patient_id,
                                            const char  **new_patient_id,
                                            int          *date_offset_days);

/* Give the patient whose files carry patient_id / patient_name (as cu_anonymizer_anonymize_file
 * keys them: by PatientID, else by PatientName) the identity new_patient_id (PatientID and
 * PatientName of its files) and the date offset offset_days, instead of random ones. Must be
 * called before the first file of that patient; replaces an identity set before. */
void          cu_anonymizer_set_patient    (CuAnonymizer *self,
                                            const char   *patient_id,
                                            const char   *patient_name,
                                            const char   *new_patient_id,
                                            int           date_offset_days);
/* Dates kept as they are (pseudonymized release without a date shift): every patient set
 * with offset 0, and the files say LongitudinalTemporalInformationModified UNMODIFIED with the
 * Retain Longitudinal Temporal Information Full Dates option (113106) instead of 113107. */
void          cu_anonymizer_set_dates_kept (CuAnonymizer *self,
                                            gboolean      kept);
/* Keep SeriesDescription and DerivationDescription of this series (full SeriesInstanceUID of
 * a derived series Curata wrote; see the exception above). */
void          cu_anonymizer_keep_descriptions (CuAnonymizer *self,
                                               const char   *series_uid);
/* cu_anonymizer_keep_descriptions for every derived series of the workspace's lineage
 * table. */
gboolean      cu_anonymizer_keep_derived_descriptions (CuAnonymizer *self,
                                                       CuStore      *store,
                                                       GError      **error);
/* The new UID the session gave original (NULL when no file of the session carried it yet).
 * Owned by the session. */
const char   *cu_anonymizer_lookup_uid     (CuAnonymizer *self,
                                            const char   *original);
/* The new UID for original, made now if the session has none yet (for objects written beside
 * the anonymized files that must reference the same entity). Owned by the session. */
const char   *cu_anonymizer_map_uid        (CuAnonymizer *self,
                                            const char   *original);

/* Shift a DICOM DA ("YYYYMMDD", also the old "YYYY.MM.DD") or DT ("YYYYMMDDHHMMSS.FFFFFF&ZZXX",
 * any precision) value, multi-valued and ranges included, by days. Returns a newly allocated
 * string, or NULL when the value is not a date (which the caller must then not keep). */
char         *cu_anonymizer_shift_date     (const char *value,
                                            gboolean    is_datetime,
                                            int         days);

/* ---- Export from a workspace ------------------------------------------------------- */

typedef struct
{
  char *study_uid;     /* original StudyInstanceUID (workspace-side information) */
  char *reason;        /* translated */
} CuAnonymizeHeld;

typedef struct
{
  guint n_studies;      /* studies exported */
  guint n_patients;     /* distinct patients exported */
  guint n_files;        /* files written */
  GPtrArray *files;     /* char *: paths written */
  GPtrArray *held;      /* CuAnonymizeHeld: studies not exported because of their gate */
  GPtrArray *failed;    /* CuAnonymizeHeld: study_uid holds the original file path */
} CuAnonymizeReport;

void cu_anonymize_report_free (CuAnonymizeReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuAnonymizeReport, cu_anonymize_report_free)

/* Export studies of store into out_dir: studies holds full StudyInstanceUIDs or unique
 * prefixes (NULL or empty: every study). A study exports only when its pseudonymization gate
 * lets it (passed, or overridden with a reason) and the release gate (cu-release.h) does, as
 * for an anonymized release named CU_ANONYMIZER_RELEASE: no active error flag for the patient,
 * the inclusion rules hold (judged for patients with clinical data: images alone go as
 * before), the patient is not withdrawn, and the ledger holds neither the
 * study nor any of its images; a series rejected or sent back to the site at the quality gate
 * stays (one nobody reviewed yet still goes: this is the quick path; a release holds it).
 * What stays is listed in report->held (a series as "series UID: reason" under its study). A
 * file that cannot be rewritten goes to report->failed, the rest continues. Records
 * "anonymize-export" in the audit log (output folder and counts; never an identifier), writes
 * CU_ANONYMIZER_MANIFEST when files were written, and then records the export in the release
 * ledger as the next version of CU_ANONYMIZER_RELEASE: exporting the same study again is
 * refused (held, naming the earlier export and its date) rather than silently giving its
 * patient a second new identity.
 * Returns NULL on an unknown or ambiguous study (CU_STORE_ERROR_NOT_FOUND/_AMBIGUOUS), a
 * workspace error or cancellation. */
CuAnonymizeReport *cu_anonymizer_export_store (CuAnonymizer      *self,
                                               CuStore           *store,
                                               const char *const *studies,
                                               const char        *out_dir,
                                               CuProgress        *progress,
                                               GCancellable      *cancellable,
                                               GError           **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuAnonymizer, cu_anonymizer_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-deid-check.h — does a file (or a study) meet the pseudonymization profile?
 *
 * Findings come from the profile table (an attribute present that must be absent, a value that
 * must be empty or a dummy, a UID that must be remapped, private groups without Retain Safe
 * Private, overlays and curves) and from a residual-PHI scan beyond the table (identity-removed
 * marker, burned-in annotation, free text that looks like names/dates of birth/phone numbers/
 * addresses/identifiers, the site's pseudonym pattern, pseudonym consistency across a study,
 * UIDs under known vendor or hospital roots). A finding never carries the value itself, only a
 * masked description of it.
 */
#pragma once

#include <gio/gio.h>

#include "cu-deid-profile.h"
#include "cu-dicom-header.h"

G_BEGIN_DECLS

typedef enum
{
  CU_DEID_SEVERITY_INFO,
  CU_DEID_SEVERITY_WARNING,   /* should be looked at; does not quarantine */
  CU_DEID_SEVERITY_ERROR,     /* quarantines the study */
} CuDeidSeverity;

typedef struct
{
  char *path;          /* file */
  char *tag_path;      /* "(0008,1110)[0]/(0008,1155)", or "" for file/study-level findings */
  char *keyword;       /* "PatientBirthDate", or NULL */
  char *rule;          /* stable id: "profile", "private", "overlay", "curve", "marker",
                          "burned-in", "phi-text", "pseudonym-pattern", "pseudonym-consistency",
                          "uid-root" */
  char *expected;      /* what the profile expects, translated ("must be absent (X)") */
  char *found;         /* what was found, masked ("present, 8 characters: 1*****12") */
  CuDeidSeverity severity;
} CuDeidFinding;

void cu_deid_finding_free (CuDeidFinding *finding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDeidFinding, cu_deid_finding_free)

typedef struct
{
  CuDeidOptions options;
  char *pseudonym_pattern;    /* GRegex for PatientID/PatientName, NULL = not checked */
} CuDeidConfig;

typedef struct _CuDeidChecker CuDeidChecker;

/* A checker is immutable once made and may be used from several threads at once. profile must
 * outlive the checker (NULL: the built-in table, owned by the checker); config NULL means the
 * site defaults without a pseudonym pattern. An invalid pattern gives CU_DEID_ERROR_PATTERN.
 * Without a pattern, a PatientID that is not empty or a placeholder is reported by the profile
 * rule (Z/D): a pseudonym cannot be told from an original identifier unless the site says what
 * its pseudonyms look like. With a pattern, PatientID must match it and PatientName must match
 * it, be empty or be a placeholder such as ANONYMOUS (rule "pseudonym-pattern"). */
CuDeidChecker *cu_deid_checker_new   (const CuDeidProfile *profile,
                                      const CuDeidConfig  *config,
                                      GError             **error);
void           cu_deid_checker_free  (CuDeidChecker *self);

/* Check one file; appends CuDeidFinding elements to findings. Returns FALSE only when the file
 * cannot be read. */
gboolean       cu_deid_check_file    (CuDeidChecker *self,
                                      const char    *path,
                                      GPtrArray     *findings,
                                      GError       **error);

/* Read path's header and check the file in the same parse (cu_dicom_header_read_walk): what
 * the import and `deid-check FILES` do for every file. Returns the header, or NULL with error
 * when the header cannot be read (then nothing is appended to findings). self NULL: only the
 * header is read. */
CuDicomHeader *cu_deid_check_read    (CuDeidChecker *self,
                                      const char    *path,
                                      GPtrArray     *findings,
                                      GError       **error);

/* cu_deid_check_read for n files at once (cu_dicom_header_read_walk_batch: one round trip to
 * a parser process for all of them). For each file i: headers[i] (or NULL and errors[i]) and,
 * when self is not NULL, its findings appended to findings[i]. */
void           cu_deid_check_read_batch (CuDeidChecker      *self,
                                         guint               n,
                                         const char *const  *paths,
                                         CuDicomHeader     **headers,
                                         GPtrArray         **findings,
                                         GError            **errors);

/* Study-level checks over the (PatientID, PatientName) pairs of its instances: one pseudonym
 * per study. pairs holds 2·n strings. Appends findings (their path is study_uid). */
void           cu_deid_check_study   (CuDeidChecker      *self,
                                      const char         *study_uid,
                                      const char *const  *pairs,
                                      guint               n,
                                      GPtrArray          *findings);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDeidChecker, cu_deid_checker_free)

G_END_DECLS

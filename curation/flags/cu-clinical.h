/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-clinical.h — the site's clinical data (eCRF export) in the workspace.
 *
 * The export comes in the two layouts of ecrf_csv_format.md: wide (one row per patient,
 * ecrf_patients.csv) or long (one row per fact, ecrf_events.csv). Both are read into the
 * same per-patient variables (the wide layout's column names) and linked to imaging by
 * pseudonym: person_id = DICOM PatientID. Every value is validated; a file with any
 * rejected row imports nothing. A value that changes (new export, a site's correction)
 * keeps its previous value in the history.
 */
#pragma once

#include "cu-store.h"
#include "cu-pack-set.h"

G_BEGIN_DECLS

#define CU_CLINICAL_ERROR (cu_clinical_error_quark ())

typedef enum
{
  CU_CLINICAL_ERROR_INVALID,     /* a value that is not valid for its variable */
  CU_CLINICAL_ERROR_UNKNOWN,     /* an unknown variable */
  CU_CLINICAL_ERROR_REJECTED,    /* the file has rejected rows (see the report) */
} CuClinicalError;

GQuark cu_clinical_error_quark (void);

/* A rejected value or row: file, 1-based line, column (or variable), reason. */
typedef struct
{
  char *file;
  guint line;
  char *column;   /* NULL for problems of the whole row */
  char *value;    /* the offending text, or NULL */
  char *reason;   /* translated */
} CuClinicalIssue;

void cu_clinical_issue_free (CuClinicalIssue *issue);

typedef struct
{
  char *path;
  char *layout;            /* "wide" or "long" */
  char separator;
  guint n_rows;            /* data rows read */
  guint n_persons;
  guint n_added;           /* values new to the workspace */
  guint n_changed;         /* values that replaced another (history kept) */
  guint n_removed;         /* values now empty (history kept) */
  guint n_unchanged;
  GPtrArray *issues;       /* CuClinicalIssue; non-empty = nothing was imported */
} CuClinicalReport;

void cu_clinical_report_free (CuClinicalReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuClinicalReport, cu_clinical_report_free)

/* The layout's name for people (translated): "wide" / "long" as the report's layout says. */
const char *cu_clinical_layout_label (const char *layout);

/* The variables of the wide layout of the default packs (common + prostate), in column order
 * (NULL-terminated, static). A workspace's own: cu_pack_set_get_variable_names(). */
const char *const *cu_clinical_variables (void);
/* The columns of the wide layout of ecrf_csv_format.md itself, in its order: the variables
 * above without the workspace's additions (the imaging dates of XREF-06). What leaves in a
 * release is these and nothing else (NULL-terminated, static). */
const char *const *cu_clinical_layout_variables (void);
/* Whether the variable holds a date (YYYY-MM-DD). */
gboolean    cu_clinical_variable_is_date (const char *variable);
/* Check one value of a variable and return it in canonical form (dates YYYY-MM-DD, decimal
 * point, trimmed). decimal_comma accepts "7,4". Empty text is valid (missing) and gives "". */
char       *cu_clinical_normalize (const char *variable, const char *text, gboolean decimal_comma,
                                   GError **error);
/* Same, with the variables of packs. */
char       *cu_clinical_normalize_in (CuPackSet *packs, const char *variable, const char *text,
                                      gboolean decimal_comma, GError **error);

/* Read the file and store its values under site (NULL: the pseudonym's prefix before the
 * first '-'). Returns NULL only when the file cannot be read or the workspace fails; rejected
 * rows are in report->issues, and then nothing was stored. Audited as "clinical-import". */
CuClinicalReport *cu_clinical_import (CuStore *store, const char *path, const char *site,
                                      GError **error);
/* Same, from text already read (path names it in issues). */
CuClinicalReport *cu_clinical_import_text (CuStore *store, const char *path, const char *text,
                                           gssize len, const char *site, GError **error);

/* Set one value as a correction (the old value goes to the history with reason), validating
 * it first. Used when a site's answer corrects a value. No transaction of its own. */
gboolean    cu_clinical_set_value (CuStore *store, const char *person_id, const char *variable,
                                   const char *value, const char *source, const char *reason,
                                   GError **error);
/* Current value, or NULL when missing. */
char       *cu_clinical_get_value (CuStore *store, const char *person_id, const char *variable);
/* History rows of a person (variable NULL = all) as "variable\told\tnew\tsource" strings,
 * oldest first; for tests and the CLI. */
GPtrArray  *cu_clinical_history   (CuStore *store, const char *person_id, const char *variable,
                                   GError **error);
/* The persons with clinical data. */
guint       cu_clinical_count_persons (CuStore *store);

/* The site a pseudonym belongs to when nobody said: its prefix before the first '-', or the
 * whole pseudonym. */
char       *cu_clinical_default_site (const char *person_id);

G_END_DECLS

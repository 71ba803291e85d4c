/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-clinical-export.h — the clinical data of released patients, re-keyed and date-shifted the
 * way their images were, as the eCRF wide layout (../standards/ecrf_csv_format.md) and the
 * OMOP CDM v5.4 tables that layout maps to.
 *
 * Every date moves by the patient's offset, so each interval between two of a patient's dates
 * is the same in the images and the clinical data (rule DEID-06); birth_year moves by the whole
 * years nearest to the offset (ages stay within one year). person_id becomes the patient's
 * release identity. Values are written as stored; nothing that is not in the layout leaves.
 */
#pragma once

#include "cu-store.h"

G_BEGIN_DECLS

typedef struct
{
  const char *person_id;        /* the workspace's (the site's pseudonym = DICOM PatientID) */
  const char *new_person_id;    /* the identity in the release */
  int offset_days;              /* added to every date */
} CuClinicalExportPatient;

typedef struct
{
  guint n_persons;              /* persons written (those with clinical data) */
  guint n_rows;                 /* rows of the wide CSV */
  guint n_omop_rows;            /* rows over all OMOP tables */
  GPtrArray *files;             /* char *: paths written */
} CuClinicalExportReport;

void cu_clinical_export_report_free (CuClinicalExportReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuClinicalExportReport, cu_clinical_export_report_free)

/* Write dir/ecrf_patients.csv and dir/omop/{person,observation_period,condition_occurrence,
 * procedure_occurrence,measurement,observation,death}.csv for the n patients (those without
 * clinical data are skipped and not counted; with none, the files hold their headers only).
 * dir is created. On failure (a stored value that does not fit its variable, a patient listed
 * twice, a file that cannot be written) the files already written are removed; messages name
 * variables and rows of ecrf_patients.csv, never a pseudonym. */
CuClinicalExportReport *cu_clinical_export_write (CuStore *store,
                                                  const CuClinicalExportPatient *patients,
                                                  guint n, const char *dir, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-release-writer.h — writing a checked release as one coherent package, in one pass.
 *
 * Layout of OUT (README, "The release"):
 *   OUT/manifest.json            every file with its SHA-256 and size, counts, the mode, the
 *                                de-identification options, the software version, the
 *                                provenance (gates, decisions, overrides, corrections, taken
 *                                from the audit log with identifiers removed), the audit head,
 *                                and in pseudonymized mode the pseudonyms withdrawn since the
 *                                last package ("withdrawn": to be deleted by the receiver)
 *   OUT/dicom/<patient>/<study>/<series>/<instance>.dcm
 *                                the images of every series that goes, derived series with
 *                                their SeriesDescription and DerivationDescription (written by
 *                                Curata, so known safe) and the source referenced by its new
 *                                UID; the segmentations as DICOM SEG and the lesion forms and
 *                                measurements as DICOM SR TID 1500 (cu-seg-sr.h), in the
 *                                study of the series they annotate
 *   OUT/clinical/ecrf_patients.csv   the eCRF (wide layout of ecrf_csv_format.md), re-keyed
 *   OUT/clinical/omop/<table>.csv    the OMOP CDM v5.4 tables that layout maps to
 *                                    (cu-clinical-export.h)
 *   OUT/nnunet/… (--layout nnunet)   imagesTr/labelsTr NIfTI + dataset.json from the same data
 *
 * One identity per patient across all of it: anonymized mode gives a new random ID and a random
 * date offset that exist only in memory during the write (CuAnonymizer); pseudonymized mode keeps
 * the site's pseudonym and the workspace's kept offset (or 0 when dates are kept).
 *
 * All or nothing: everything is written under OUT.partial-XXXXXX beside OUT, fsynced, renamed to
 * OUT at the end; OUT must not exist (never overwritten). Any failure (disk full, a file that
 * cannot be re-encoded, cancellation, a kill) leaves no OUT, and the ledger is updated
 * (cu_release_mark_written) only after the rename.
 */
#pragma once

#include "cu-release.h"
#include "cu-progress.h"

G_BEGIN_DECLS

typedef enum
{
  CU_RELEASE_LAYOUT_DICOM = 0,          /* DICOM + clinical + manifest (always) */
  CU_RELEASE_LAYOUT_NNUNET = 1 << 0,    /* plus nnunet/ */
} CuReleaseLayout;

typedef struct
{
  guint n_patients, n_studies, n_series, n_instances;   /* images written */
  guint n_seg, n_sr;                                    /* SEG and SR objects written */
  guint n_clinical_rows;
  char *out_dir;
  char *manifest_sha256;
} CuReleaseWriteReport;

void   cu_release_write_report_free (CuReleaseWriteReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuReleaseWriteReport, cu_release_write_report_free)

/* Check the release again (cu_release_check) and write what goes to out_dir. Fails with
 * CU_RELEASE_ERROR_OUTPUT when out_dir exists, CU_RELEASE_ERROR_FROZEN when the release was
 * written already, CU_RELEASE_ERROR_NOT_FOUND when nothing would go. Held items do not stop the
 * write (they stay, and the manifest lists their count); the caller shows the plan first. */
CuReleaseWriteReport *cu_release_write (CuStore *store, const char *name, const char *out_dir,
                                        CuReleaseLayout layout, CuProgress *progress,
                                        GCancellable *cancellable, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-pull.h — studies from a DICOMweb server into the workspace: QIDO-RS lists each
 * study's instances, WADO-RS retrieves the missing ones (bounded parallel requests), and the
 * workspace's import catalogs them — headers checked and the pseudonymization gate run exactly
 * as for a folder (cu_store_import).
 *
 * Where the files go: WORKSPACE/objects/dicomweb/<study>/<series>/<instance>.dcm, the bytes as
 * the server stores them (transfer-syntax=*), so a pulled instance is byte-identical to the file
 * the site put in. A part is written to objects/dicomweb/.partial/ and renamed into place only
 * once it has arrived whole and its header was read, so a file in place is always complete.
 *
 * Resume: an instance whose file is in place, or that the workspace catalogs already (from a
 * folder import, say), is not retrieved again; a series of which nothing is here is retrieved
 * in one request, the rest instance by instance. A study is catalogued once all of its
 * instances are here: after a failure (server gone, truncated body, cancel, kill) the catalog
 * holds none of the incomplete study, and the next pull continues where this one stopped.
 */
#pragma once

#include "cu-dicomweb-client.h"
#include "cu-progress.h"

G_BEGIN_DECLS

#define CU_DICOMWEB_PULL_MAX_PARALLEL 16

typedef struct
{
  guint n_studies;          /* asked for */
  guint n_studies_complete; /* all instances here and catalogued */
  guint n_instances;        /* listed by the server */
  guint n_retrieved;        /* downloaded by this run */
  guint n_present;          /* here already (an earlier pull, or catalogued from elsewhere) */
  guint64 n_bytes;          /* downloaded by this run */
  guint n_requests;         /* WADO-RS requests sent */
  CuImportReport *import;   /* the import of the complete studies; NULL when none */
  /* Added with the site loop (compatible: appended): open image and pseudonymization flags
   * a fixed copy among the pulled series closed (cu_flags_match_fixed_copies). */
  guint n_flags_resolved;
} CuDicomwebPullReport;

void cu_dicomweb_pull_report_free (CuDicomwebPullReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDicomwebPullReport, cu_dicomweb_pull_report_free)

/* Pull the studies (full StudyInstanceUIDs) with at most parallel requests at once (1..16).
 * *report is set even when FALSE is returned (what arrived, what was catalogued). Progress
 * counts instances, its message also bytes. */
gboolean cu_dicomweb_pull (CuStore *store, CuDicomwebClient *client,
                           const char *const *study_uids, guint parallel,
                           CuProgress *progress, GCancellable *cancellable,
                           CuDicomwebPullReport **report, GError **error);

/* TRUE for a UID as DICOM allows it (digits and dots, at most 64): a UID from a server names
 * a file, so it is checked before it is used. */
gboolean cu_dicomweb_uid_is_valid (const char *uid);

G_END_DECLS

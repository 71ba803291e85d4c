/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicomweb-push.h — a written release to a DICOMweb server with STOW-RS.
 *
 * Only a written release can be pushed: the package the release gate let through
 * (cu-release-writer.h). Before anything is sent the manifest is checked against the digest
 * the workspace recorded when it was written, and every DICOM file against the manifest's
 * SHA-256 as it is read, so nothing changed after the gate leaves the machine.
 *
 * Each instance's outcome comes from the STOW-RS response (ReferencedSOPSequence,
 * FailedSOPSequence with its FailureReason) and is recorded in the workspace per release and
 * server: a push that was interrupted sends only what was not stored yet. Instances that
 * failed are retried one by one, then reported. The push is recorded in the audit log
 * ("dicomweb-push") and in the package, in pushes.json beside manifest.json (the manifest
 * itself is sealed by its digest and is not rewritten).
 */
#pragma once

#include "cu-dicomweb-client.h"
#include "cu-progress.h"

G_BEGIN_DECLS

typedef struct
{
  char *path;               /* in the package, e.g. dicom/P/S/SE/I.dcm */
  char *sop_instance_uid;
  char *reason;             /* translated */
} CuDicomwebPushFailure;

typedef struct
{
  char *release;            /* "NAME vN" */
  guint n_instances;        /* DICOM files in the package */
  guint n_stored_before;    /* stored on this server by an earlier push */
  guint n_stored;           /* stored by this push */
  guint n_failed;           /* still failing after the retries */
  guint n_requests;
  guint64 n_bytes;          /* sent */
  GPtrArray *failures;      /* CuDicomwebPushFailure */
} CuDicomwebPushReport;

void cu_dicomweb_push_report_free (CuDicomwebPushReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDicomwebPushReport, cu_dicomweb_push_report_free)

/* Push the written release `name` to the client's server. FALSE with an error when the push
 * could not run to its end (not written, tampered package, server unreachable, cancelled);
 * instances the server refused are not an error here: they are in report->failures
 * (CU_DICOMWEB_ERROR_INCOMPLETE is for the caller to decide). *report is set in both cases. */
#define CU_DICOMWEB_PUSH_BATCH 32   /* instances per request, by default */

/* version: the written version of `name` to send, 0 for the highest written one (an open
 * version being prepared is never the one sent). batch: instances per STOW-RS request (0:
 * CU_DICOMWEB_PUSH_BATCH); a request also stops at 64 MB. */
gboolean cu_dicomweb_push (CuStore *store, CuDicomwebClient *client, const char *name,
                           int version, guint batch, CuProgress *progress, GCancellable *cancellable,
                           CuDicomwebPushReport **report, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-runner.h — the quality gate run on series in a background thread, with progress and
 * cancellation; used after an import (automatically) and by the review window.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CU_TYPE_QC_RUNNER (cu_qc_runner_get_type ())
G_DECLARE_FINAL_TYPE (CuQcRunner, cu_qc_runner, CU, QC_RUNNER, GObject)

/* workspace: the folder of the workspace; the thread opens its own connection to it. */
CuQcRunner *cu_qc_runner_new          (const char *workspace);
/* Check series_uids (NULL: every series not checked yet). Fails with G_IO_ERROR_BUSY when a
 * run is going on. done runs on the calling thread's main context. */
void        cu_qc_runner_run_async    (CuQcRunner          *self,
                                       const char *const   *series_uids,
                                       GAsyncReadyCallback  done,
                                       gpointer             user_data);
/* Number of series checked; *n_with_errors of them have error findings. */
gboolean    cu_qc_runner_run_finish   (CuQcRunner   *self,
                                       GAsyncResult *result,
                                       guint        *n_checked,
                                       guint        *n_with_errors,
                                       GError      **error);
void        cu_qc_runner_cancel       (CuQcRunner *self);
gboolean    cu_qc_runner_is_running   (CuQcRunner *self);
/* Progress of the run (0–1, or −1 when unknown) and its message (caller frees). */
double      cu_qc_runner_get_progress (CuQcRunner *self, char **message);

G_END_DECLS

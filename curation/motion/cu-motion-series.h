/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-motion-series.h — co-registration and motion correction of catalogued series, written
 * back as derived series (cu-derived-series.h). Shared by the GUI and curata-cli.
 */
#pragma once

#include "cu-motion-correct.h"
#include "cu-store.h"

G_BEGIN_DECLS

/* The metric for registering moving_uid onto fixed_uid (full UIDs), from the series'
 * classification (cu-series-class.h: modality, and the MR sequence type from the acquisition
 * attributes): the same modality and sequence type — same contrast — gets normalised
 * cross-correlation (robust to a gain and offset between the series); different ones, or a
 * contrast that cannot be recognised, get Mattes mutual information. *reason (may be NULL)
 * receives a translated sentence saying why, for the user. */
CuRigidMetricType cu_motion_choose_metric (CuStore       *store,
                                           const char    *fixed_uid,
                                           const char    *moving_uid,
                                           char         **reason,
                                           GCancellable  *cancellable,
                                           GError       **error);

/* Register series moving_uid onto fixed_uid (full UIDs or unique prefixes), resample every
 * time point of the moving series onto the fixed grid and write it as a derived series of
 * the moving one with the fixed series' FrameOfReferenceUID; the transform is in its
 * result_json. options NULL or with the metric CU_RIGID_METRIC_AUTO: the metric is chosen by
 * cu_motion_choose_metric, and result_json says which and why ("metric", "metric_reason"). Returns the new SeriesInstanceUID; *transform (may be NULL) receives the
 * transform, *result_json (may be NULL) the JSON recorded in the lineage. */
char *cu_motion_register_series (CuStore               *store,
                                 const char            *fixed_uid,
                                 const char            *moving_uid,
                                 const CuRigidOptions  *options,
                                 CuRigidTransform      *transform,
                                 char                 **result_json,
                                 CuProgress            *progress,
                                 GCancellable          *cancellable,
                                 GError               **error);

/* Motion-correct a multi-volume series and write the corrected copy as a derived series; the
 * motion table (cu_motion_table_to_json) is its result_json. *rows (may be NULL) receives the
 * table (GArray of CuMotionRow). Returns the new SeriesInstanceUID. */
char *cu_motion_correct_series  (CuStore                *store,
                                 const char             *series_uid,
                                 const CuMotionOptions  *options,
                                 GArray                **rows,
                                 char                  **result_json,
                                 CuProgress             *progress,
                                 GCancellable           *cancellable,
                                 GError               **error);

G_END_DECLS

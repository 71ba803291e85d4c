/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-measure.h — the measurements readers keep on a series (cu-measurement.h), in the
 * workspace's measurement table (schema version 16): per series and reader, every change
 * audited ("measure-add", "measure-edit", "measure-remove", with the measurement as it was
 * written or as it was before removal).
 */
#pragma once

#include "cu-measurement.h"
#include "cu-store.h"

G_BEGIN_DECLS

/* Store m (its results as computed; cu_measurement_compute first): a new row when m->id is 0
 * (m->id, created and modified are set), else the row m->id is replaced (an edit; series and
 * reader cannot change). The series must be catalogued (full UID or unique prefix: m->series_uid
 * becomes the full UID) and the reader valid (cu_store_seg_check_reader). */
gboolean   cu_store_measure_save   (CuStore *self, CuMeasurement *m, GError **error);
/* Measurements (CuMeasurement) of a series (full UID or prefix; NULL for all), of a reader
 * (NULL for all), in id order. */
GPtrArray *cu_store_measure_list   (CuStore *self, const char *series_uid, const char *reader,
                                    GError **error);
/* One measurement, or NULL with CU_STORE_ERROR_NOT_FOUND. */
CuMeasurement *cu_store_measure_get (CuStore *self, gint64 id, GError **error);
/* Remove one measurement (CU_STORE_ERROR_NOT_FOUND when there is none with that id). */
gboolean   cu_store_measure_remove (CuStore *self, gint64 id, GError **error);

G_END_DECLS

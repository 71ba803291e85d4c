/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-diff.h — what one edit did to a label map: the runs of voxels it changed, with their
 * bytes before and after. Undo records (cu-seg-history.h) are diffs; so are the strokes a
 * session hands to its saving thread, stores beside each version (so that undo survives a
 * restart) and re-applies on top of another session's newer version (cu-seg-session.h).
 *
 * A diff is built once (cu_seg_diff_new + cu_seg_diff_append_run) and is immutable after it is
 * shared: references may then be held by several threads. Only the stored row id changes,
 * and only the saving thread reads or writes it.
 */
#pragma once

#include "cu-label-map.h"

G_BEGIN_DECLS

typedef struct _CuSegDiff CuSegDiff;

CuSegDiff   *cu_seg_diff_new         (const char *name);
CuSegDiff   *cu_seg_diff_ref         (CuSegDiff *self);
void         cu_seg_diff_unref       (CuSegDiff *self);
/* Append a run of length voxels from voxel index offset on slice k (runs in increasing order
 * of offset, not overlapping). */
void         cu_seg_diff_append_run  (CuSegDiff *self, gsize offset, guint32 length, int k,
                                      const guint8 *before, const guint8 *after);
/* The difference between two maps on the same grid: NULL when they are equal. */
CuSegDiff   *cu_seg_diff_compute     (const CuLabelMap *before, const CuLabelMap *after,
                                      const char *name);

const char  *cu_seg_diff_get_name    (const CuSegDiff *self);
/* Voxels changed, memory held, the slices touched (k0 > k1 when none). */
gsize        cu_seg_diff_get_n_voxels (const CuSegDiff *self);
gsize        cu_seg_diff_get_bytes   (const CuSegDiff *self);
void         cu_seg_diff_get_slices  (const CuSegDiff *self, int *k0, int *k1);

/* Set touched[v] for every label value v the edit wrote or overwrote (0, the background,
 * included); what was TRUE stays TRUE. */
void         cu_seg_diff_mark_values (const CuSegDiff *self, gboolean touched[256]);
/* Write the bytes after (forward) or before (backward) the edit into map. */
void         cu_seg_diff_apply       (const CuSegDiff *self, CuLabelMap *map, gboolean forward);
/* Forward, but only where map still holds the bytes before: voxels changed since are left as
 * they are. Returns the voxels written. */
gsize        cu_seg_diff_apply_unchanged (const CuSegDiff *self, CuLabelMap *map);

/* A compact, compressed form for the workspace, and back. Reading checks every run against a
 * map of n_voxels voxels and every length against the data, so a damaged row is an error, not
 * a write outside the map. */
GBytes      *cu_seg_diff_serialize   (const CuSegDiff *self);
CuSegDiff   *cu_seg_diff_deserialize (const char *name, const void *data, gsize size,
                                      gsize n_voxels, GError **error);

/* The workspace row holding the diff (0: not stored yet). */
gint64       cu_seg_diff_get_id      (const CuSegDiff *self);
void         cu_seg_diff_set_id      (CuSegDiff *self, gint64 id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSegDiff, cu_seg_diff_unref)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-session.h — one reader editing the segmentation of one series: the label map being
 * edited, its undo history, and the saving of every stroke as a new version. Used by the
 * window's segmentation panel and by `curata-cli seg edit`.
 *
 * Saving happens on the session's own thread, with its own workspace connection: commit()
 * only hands the strokes made since the last commit to that thread (a few references and the
 * label table), so a stroke costs the thread that draws nothing. The thread coalesces: when
 * strokes arrive faster than saves, the next save holds all of them (the latest state wins,
 * no stroke is lost); when the workspace is locked by another writer it waits and tries again.
 *
 * Concurrent editors: a session knows the version it is based on. When another session of the
 * same reader saved a newer version meanwhile, the strokes of this session (kept as diffs
 * since its base) are re-applied on top of that version and the result is saved, noting the
 * merge; what the other session changed is then passed back ("merged") so the map shown can
 * follow. Only when the other version cannot take the strokes (another grid) is the save
 * refused with CU_SEG_ERROR_CONFLICT naming it; the strokes are then saved as a version of
 * reader "READER (conflict)" so that nothing is lost.
 *
 * Undo survives a restart: every version carries the session's undo and redo steps
 * (cu_store_seg_save_request), and opening a session restores those of the latest version.
 *
 * Signals are emitted in the main context that was the thread default when the session was
 * opened, or not at all when that is NULL (the command line waits with flush() instead).
 */
#pragma once

#include <glib-object.h>

#include "cu-store-seg.h"
#include "cu-seg-history.h"

G_BEGIN_DECLS

#define CU_TYPE_SEG_SESSION (cu_seg_session_get_type ())
G_DECLARE_FINAL_TYPE (CuSegSession, cu_seg_session, CU, SEG_SESSION, GObject)

/* Open reader's latest version of series_uid, or a new empty map on grid when there is none
 * (grid may then not be NULL). A stored map on another grid than grid (when given) is not
 * edited: the session starts a new map on grid, based on that version (*replaced = TRUE).
 * notify_context: where signals go (NULL: none). */
CuSegSession  *cu_seg_session_open        (CuStore *store, const char *series_uid,
                                           const char *reader, const CuVolume *grid,
                                           GMainContext *notify_context, gboolean *replaced,
                                           GError **error);

CuLabelMap    *cu_seg_session_get_map     (CuSegSession *self);
CuSegHistory  *cu_seg_session_get_history (CuSegSession *self);
const char    *cu_seg_session_get_reader  (CuSegSession *self);
const char    *cu_seg_session_get_series_uid (CuSegSession *self);
/* The version opened (NULL for a new map). */
const CuSegVersionInfo *cu_seg_session_get_opened (CuSegSession *self);
/* The last version this session saved (or opened), 0 for none. */
int            cu_seg_session_get_saved_version (CuSegSession *self);

/* Hand what changed since the last commit (strokes, undo, redo, the label table) to the
 * saving thread. Cheap: call it after every stroke. */
void           cu_seg_session_commit      (CuSegSession *self);
/* Saves queued or running. */
gboolean       cu_seg_session_is_busy     (CuSegSession *self);
/* Wait until everything committed is saved. Returns the version saved last, -1 with the
 * error of the last attempt when it failed; merged_with (may be NULL) receives the version of
 * another session merged in by that save, or 0. */
int            cu_seg_session_flush       (CuSegSession *self, int *merged_with, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-history.h — undo/redo of label map edits, one record per stroke, bounded memory.
 *
 * A record stores only the runs of voxels the stroke changed (offset, old bytes, new bytes),
 * never whole volumes: painting a 5 mm disc costs a few hundred bytes. When the records
 * together exceed the budget, the oldest are dropped (undo reaches back less far, nothing
 * else changes).
 */
#pragma once

#include "cu-label-map.h"
#include "cu-seg-diff.h"

G_BEGIN_DECLS

typedef struct _CuSegHistory CuSegHistory;

/* max_bytes = 0 chooses 64 MiB. The history holds a reference to map. */
CuSegHistory *cu_seg_history_new       (CuLabelMap *map, gsize max_bytes);
void          cu_seg_history_free      (CuSegHistory *self);
CuLabelMap   *cu_seg_history_get_map   (CuSegHistory *self);

/* Open a record: until end, operations on the map save the original of each slice they
 * touch. name ("Brush", "Region growing" …) is shown in the Undo menu. */
void          cu_seg_history_begin     (CuSegHistory *self, const char *name);
/* Close the record; returns the number of voxels the stroke changed (0: nothing recorded).
 * The redo list is cleared when something changed. */
gsize         cu_seg_history_end       (CuSegHistory *self);
gboolean      cu_seg_history_is_open   (CuSegHistory *self);

gboolean      cu_seg_history_can_undo  (CuSegHistory *self);
gboolean      cu_seg_history_can_redo  (CuSegHistory *self);
/* Name of the record undo/redo would apply, or NULL. */
const char   *cu_seg_history_undo_name (CuSegHistory *self);
const char   *cu_seg_history_redo_name (CuSegHistory *self);
/* Restore the bytes before / after the last record. FALSE when there is nothing to do.
 * k0/k1 (may be NULL) receive the range of slices that changed. */
gboolean      cu_seg_history_undo      (CuSegHistory *self, int *k0, int *k1);
gboolean      cu_seg_history_redo      (CuSegHistory *self, int *k0, int *k1);
/* The record undo / redo would apply (not a new reference), or NULL. */
CuSegDiff    *cu_seg_history_peek_undo (CuSegHistory *self);
CuSegDiff    *cu_seg_history_peek_redo (CuSegHistory *self);
/* The records, newest first (new references), and setting them (for a history read back
 * from the workspace: the map must be the state they lead to). Restoring clears the journal. */
GPtrArray    *cu_seg_history_dup_undo  (CuSegHistory *self);
GPtrArray    *cu_seg_history_dup_redo  (CuSegHistory *self);
void          cu_seg_history_restore   (CuSegHistory *self, GPtrArray *undo, GPtrArray *redo);

/* The journal: with it on, every change the history makes to the map (a finished record,
 * an undo, a redo) is also appended to a list that take_journal empties — what a session
 * re-applies elsewhere. Entries are CuSegJournalEntry. */
typedef struct
{
  CuSegDiff *diff;
  gboolean forward;    /* FALSE: the bytes before were written back (an undo) */
} CuSegJournalEntry;

void          cu_seg_history_set_journal  (CuSegHistory *self, gboolean enabled);
GArray       *cu_seg_history_take_journal (CuSegHistory *self);
/* Frees an array of CuSegJournalEntry with the references it holds. */
void          cu_seg_journal_free         (GArray *journal);

/* Bytes held by the records, and how many there are. */
gsize         cu_seg_history_get_bytes (CuSegHistory *self);
guint         cu_seg_history_get_n_undo (CuSegHistory *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSegHistory, cu_seg_history_free)

G_END_DECLS

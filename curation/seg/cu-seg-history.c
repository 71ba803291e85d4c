/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-history.c — per-stroke undo records as runs of changed voxels (cu-seg-history.h).
 *
 * While a record is open the label map keeps a copy of each slice the first time an operation
 * touches it (cu_label_map_touch_slice); closing the record compares those copies with the
 * slices as they are now and keeps only the differing runs. Memory during a stroke is one
 * slice per touched slice; afterwards it is proportional to what changed. A record is a
 * CuSegDiff, so that a session can hand it to its saving thread without copying it.
 */
#include "config.h"

#include <string.h>

#include "cu-seg-history.h"

void _cu_label_map_open_snapshot (CuLabelMap *self);
guint8 **_cu_label_map_take_snapshot (CuLabelMap *self);

struct _CuSegHistory
{
  CuLabelMap *map;
  gsize max_bytes, bytes;
  GQueue undo;      /* CuSegDiff*, head = most recent */
  GQueue redo;
  char *open_name;
  gboolean open;
  GArray *journal;  /* CuSegJournalEntry, or NULL when off */
};

CuSegHistory *
cu_seg_history_new (CuLabelMap *map, gsize max_bytes)
{
  CuSegHistory *self = g_new0 (CuSegHistory, 1);

  self->map = cu_label_map_ref (map);
  self->max_bytes = max_bytes > 0 ? max_bytes : 64 * 1024 * 1024;
  g_queue_init (&self->undo);
  g_queue_init (&self->redo);
  return self;
}

static void
clear_queue (CuSegHistory *self, GQueue *q)
{
  CuSegDiff *r;

  while ((r = g_queue_pop_head (q)) != NULL)
    {
      self->bytes -= cu_seg_diff_get_bytes (r);
      cu_seg_diff_unref (r);
    }
}

static void
journal_entry_clear (gpointer data)
{
  CuSegJournalEntry *e = data;
  g_clear_pointer (&e->diff, cu_seg_diff_unref);
}

static void
journal (CuSegHistory *self, CuSegDiff *diff, gboolean forward)
{
  CuSegJournalEntry e = { cu_seg_diff_ref (diff), forward };

  if (self->journal != NULL)
    g_array_append_val (self->journal, e);
  else
    cu_seg_diff_unref (e.diff);
}

void
cu_seg_history_free (CuSegHistory *self)
{
  if (self == NULL)
    return;
  if (self->open)
    cu_seg_history_end (self);
  clear_queue (self, &self->undo);
  clear_queue (self, &self->redo);
  g_clear_pointer (&self->journal, g_array_unref);
  cu_label_map_unref (self->map);
  g_free (self->open_name);
  g_free (self);
}

CuLabelMap *
cu_seg_history_get_map (CuSegHistory *self)
{
  return self->map;
}

void
cu_seg_history_begin (CuSegHistory *self, const char *name)
{
  if (self->open)
    cu_seg_history_end (self);
  g_free (self->open_name);
  self->open_name = g_strdup (name != NULL ? name : "");
  self->open = TRUE;
  _cu_label_map_open_snapshot (self->map);
}

gboolean
cu_seg_history_is_open (CuSegHistory *self)
{
  return self->open;
}

gsize
cu_seg_history_end (CuSegHistory *self)
{
  guint8 **snap;
  gsize plane, changed;
  CuSegDiff *r;

  if (!self->open)
    return 0;
  self->open = FALSE;
  snap = _cu_label_map_take_snapshot (self->map);
  if (snap == NULL)
    return 0;

  plane = (gsize) self->map->dims[0] * self->map->dims[1];
  r = cu_seg_diff_new (self->open_name);
  g_clear_pointer (&self->open_name, g_free);

  /* snap[k] holds slice k of every layer; runs stay within one slice of one layer, at
   * offsets into the whole data (layer l starts at l·n), in increasing order. */
  for (int l = 0; l < self->map->n_layers; l++)
    for (int k = 0; k < self->map->dims[2]; k++)
      {
        gsize n = plane * (gsize) self->map->dims[2];
        gsize v = 0, base = (gsize) l * n + (gsize) k * plane;
        const guint8 *before, *now;

        if (snap[k] == NULL)
          continue;
        before = snap[k] + (gsize) l * plane;
        now = self->map->data + base;
        while (v < plane)
          {
            gsize start;

            if (before[v] == now[v])
              {
                v++;
                continue;
              }
            start = v;
            while (v < plane && before[v] != now[v])
              v++;
            cu_seg_diff_append_run (r, base + start, (guint32) (v - start), k,
                                    before + start, now + start);
          }
      }
  for (int k = 0; k < self->map->dims[2]; k++)
    g_free (snap[k]);
  g_free (snap);

  changed = cu_seg_diff_get_n_voxels (r);
  if (changed == 0)
    {
      cu_seg_diff_unref (r);
      return 0;
    }

  clear_queue (self, &self->redo);
  g_queue_push_head (&self->undo, r);
  self->bytes += cu_seg_diff_get_bytes (r);
  journal (self, r, TRUE);
  /* Keep at least the newest record, however large. */
  while (self->bytes > self->max_bytes && self->undo.length > 1)
    {
      CuSegDiff *oldest = g_queue_pop_tail (&self->undo);
      self->bytes -= cu_seg_diff_get_bytes (oldest);
      cu_seg_diff_unref (oldest);
    }
  return changed;
}

gboolean
cu_seg_history_can_undo (CuSegHistory *self)
{
  return self->undo.length > 0;
}

gboolean
cu_seg_history_can_redo (CuSegHistory *self)
{
  return self->redo.length > 0;
}

const char *
cu_seg_history_undo_name (CuSegHistory *self)
{
  CuSegDiff *r = g_queue_peek_head (&self->undo);
  return r != NULL ? cu_seg_diff_get_name (r) : NULL;
}

const char *
cu_seg_history_redo_name (CuSegHistory *self)
{
  CuSegDiff *r = g_queue_peek_head (&self->redo);
  return r != NULL ? cu_seg_diff_get_name (r) : NULL;
}

CuSegDiff *
cu_seg_history_peek_undo (CuSegHistory *self)
{
  return g_queue_peek_head (&self->undo);
}

CuSegDiff *
cu_seg_history_peek_redo (CuSegHistory *self)
{
  return g_queue_peek_head (&self->redo);
}

static gboolean
move (CuSegHistory *self, GQueue *from, GQueue *to, gboolean use_old, int *k0, int *k1)
{
  CuSegDiff *r;

  if (self->open)
    cu_seg_history_end (self);
  r = g_queue_pop_head (from);
  if (r == NULL)
    return FALSE;
  cu_seg_diff_apply (r, self->map, !use_old);
  g_queue_push_head (to, r);
  journal (self, r, !use_old);
  cu_seg_diff_get_slices (r, k0, k1);
  return TRUE;
}

gboolean
cu_seg_history_undo (CuSegHistory *self, int *k0, int *k1)
{
  return move (self, &self->undo, &self->redo, TRUE, k0, k1);
}

gboolean
cu_seg_history_redo (CuSegHistory *self, int *k0, int *k1)
{
  return move (self, &self->redo, &self->undo, FALSE, k0, k1);
}

static GPtrArray *
dup_queue (GQueue *q)
{
  GPtrArray *list = g_ptr_array_new_full (q->length, (GDestroyNotify) cu_seg_diff_unref);

  for (GList *l = q->head; l != NULL; l = l->next)
    g_ptr_array_add (list, cu_seg_diff_ref (l->data));
  return list;
}

GPtrArray *
cu_seg_history_dup_undo (CuSegHistory *self)
{
  return dup_queue (&self->undo);
}

GPtrArray *
cu_seg_history_dup_redo (CuSegHistory *self)
{
  return dup_queue (&self->redo);
}

void
cu_seg_history_restore (CuSegHistory *self, GPtrArray *undo, GPtrArray *redo)
{
  GQueue *queues[2] = { &self->undo, &self->redo };
  GPtrArray *lists[2] = { undo, redo };

  if (self->open)
    cu_seg_history_end (self);
  for (int q = 0; q < 2; q++)
    {
      clear_queue (self, queues[q]);
      for (guint i = 0; lists[q] != NULL && i < lists[q]->len; i++)
        {
          CuSegDiff *r = lists[q]->pdata[i];
          g_queue_push_tail (queues[q], cu_seg_diff_ref (r));
          self->bytes += cu_seg_diff_get_bytes (r);
        }
    }
  if (self->journal != NULL)
    g_array_set_size (self->journal, 0);
}

void
cu_seg_history_set_journal (CuSegHistory *self, gboolean enabled)
{
  if (enabled && self->journal == NULL)
    {
      self->journal = g_array_new (FALSE, FALSE, sizeof (CuSegJournalEntry));
      g_array_set_clear_func (self->journal, journal_entry_clear);
    }
  else if (!enabled)
    g_clear_pointer (&self->journal, g_array_unref);
}

GArray *
cu_seg_history_take_journal (CuSegHistory *self)
{
  GArray *taken;

  if (self->journal == NULL)
    return NULL;
  taken = self->journal;
  self->journal = g_array_new (FALSE, FALSE, sizeof (CuSegJournalEntry));
  g_array_set_clear_func (self->journal, journal_entry_clear);
  return taken;
}

void
cu_seg_journal_free (GArray *journal)
{
  if (journal != NULL)
    g_array_unref (journal);
}

gsize
cu_seg_history_get_bytes (CuSegHistory *self)
{
  return self->bytes;
}

guint
cu_seg_history_get_n_undo (CuSegHistory *self)
{
  return self->undo.length;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-history.c — per-stroke undo records as runs of changed voxels (cu-seg-history.h).
 *
 * While a record is open the label map keeps a copy of each slice the first time an operation
 * touches it (cu_label_map_touch_slice); closing the record compares those copies with the
 * slices as they are now and keeps only the differing runs. Memory during a stroke is one
 * slice per touched slice; afterwards it is proportional to what changed.
 */
#include "config.h"

#include <string.h>

#include "cu-seg-history.h"

void _cu_label_map_open_snapshot (CuLabelMap *self);
guint8 **_cu_label_map_take_snapshot (CuLabelMap *self);

typedef struct
{
  gsize offset;    /* voxel index of the run's first voxel */
  guint32 length;
} Run;

typedef struct
{
  char *name;
  GArray *runs;     /* Run */
  GByteArray *old_bytes, *new_bytes;  /* concatenated, in run order */
  int k0, k1;
} Record;

struct _CuSegHistory
{
  CuLabelMap *map;
  gsize max_bytes, bytes;
  GQueue undo;      /* Record*, head = most recent */
  GQueue redo;
  char *open_name;
  gboolean open;
};

static gsize
record_bytes (const Record *r)
{
  return sizeof *r + r->runs->len * sizeof (Run) + r->old_bytes->len + r->new_bytes->len;
}

static void
record_free (Record *r)
{
  g_free (r->name);
  g_array_unref (r->runs);
  g_byte_array_unref (r->old_bytes);
  g_byte_array_unref (r->new_bytes);
  g_free (r);
}

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
  Record *r;

  while ((r = g_queue_pop_head (q)) != NULL)
    {
      self->bytes -= record_bytes (r);
      record_free (r);
    }
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
  gsize plane, changed = 0;
  Record *r;

  if (!self->open)
    return 0;
  self->open = FALSE;
  snap = _cu_label_map_take_snapshot (self->map);
  if (snap == NULL)
    return 0;

  plane = (gsize) self->map->dims[0] * self->map->dims[1];
  r = g_new0 (Record, 1);
  r->name = g_steal_pointer (&self->open_name);
  r->runs = g_array_new (FALSE, FALSE, sizeof (Run));
  r->old_bytes = g_byte_array_new ();
  r->new_bytes = g_byte_array_new ();
  r->k0 = G_MAXINT;
  r->k1 = -1;

  for (int k = 0; k < self->map->dims[2]; k++)
    {
      const guint8 *before = snap[k], *now;
      gsize v = 0;

      if (before == NULL)
        continue;
      now = self->map->data + (gsize) k * plane;
      while (v < plane)
        {
          gsize start;
          Run run;

          if (before[v] == now[v])
            {
              v++;
              continue;
            }
          start = v;
          while (v < plane && before[v] != now[v])
            v++;
          run.offset = (gsize) k * plane + start;
          run.length = (guint32) (v - start);
          g_array_append_val (r->runs, run);
          g_byte_array_append (r->old_bytes, before + start, run.length);
          g_byte_array_append (r->new_bytes, now + start, run.length);
          changed += run.length;
          r->k0 = MIN (r->k0, k);
          r->k1 = MAX (r->k1, k);
        }
      g_free (snap[k]);
    }
  g_free (snap);

  if (changed == 0)
    {
      record_free (r);
      return 0;
    }

  clear_queue (self, &self->redo);
  g_queue_push_head (&self->undo, r);
  self->bytes += record_bytes (r);
  /* Keep at least the newest record, however large. */
  while (self->bytes > self->max_bytes && self->undo.length > 1)
    {
      Record *oldest = g_queue_pop_tail (&self->undo);
      self->bytes -= record_bytes (oldest);
      record_free (oldest);
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
  Record *r = g_queue_peek_head (&self->undo);
  return r != NULL ? r->name : NULL;
}

const char *
cu_seg_history_redo_name (CuSegHistory *self)
{
  Record *r = g_queue_peek_head (&self->redo);
  return r != NULL ? r->name : NULL;
}

static void
apply (CuSegHistory *self, Record *r, gboolean use_old)
{
  const guint8 *bytes = use_old ? r->old_bytes->data : r->new_bytes->data;
  gsize pos = 0;

  for (guint i = 0; i < r->runs->len; i++)
    {
      const Run *run = &g_array_index (r->runs, Run, i);
      memcpy (self->map->data + run->offset, bytes + pos, run->length);
      pos += run->length;
    }
}

static gboolean
move (CuSegHistory *self, GQueue *from, GQueue *to, gboolean use_old, int *k0, int *k1)
{
  Record *r;

  if (self->open)
    cu_seg_history_end (self);
  r = g_queue_pop_head (from);
  if (r == NULL)
    return FALSE;
  apply (self, r, use_old);
  g_queue_push_head (to, r);
  if (k0 != NULL)
    *k0 = r->k0;
  if (k1 != NULL)
    *k1 = r->k1;
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

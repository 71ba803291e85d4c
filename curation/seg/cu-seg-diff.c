/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-diff.c — runs of changed voxels with their bytes before and after (cu-seg-diff.h).
 *
 * Stored form: the 64-bit length of the raw form, then the raw form compressed with zlib at
 * level 1 (a stroke's runs shrink several times and cost microseconds). The raw form, little
 * endian: "CSD1", the number of runs, the first and last slice (32 bits each), every run as a
 * 64-bit offset and a 32-bit length, then all bytes before, then all bytes after.
 */
#include "config.h"

#include <string.h>
#include <zlib.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-diff.h"

typedef struct
{
  guint64 offset;
  guint32 length;
} Run;

struct _CuSegDiff
{
  char *name;
  GArray *runs;                 /* Run */
  GByteArray *before, *after;   /* concatenated, in run order */
  int k0, k1;
  gsize n_voxels;
  gint64 id;
  gatomicrefcount ref_count;
};

#define MAGIC "CSD1"
#define HEADER_SIZE 16
#define RUN_SIZE 12

CuSegDiff *
cu_seg_diff_new (const char *name)
{
  CuSegDiff *self = g_new0 (CuSegDiff, 1);

  self->name = g_strdup (name != NULL ? name : "");
  self->runs = g_array_new (FALSE, FALSE, sizeof (Run));
  self->before = g_byte_array_new ();
  self->after = g_byte_array_new ();
  self->k0 = G_MAXINT;
  self->k1 = -1;
  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

CuSegDiff *
cu_seg_diff_ref (CuSegDiff *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
cu_seg_diff_unref (CuSegDiff *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->name);
  g_array_unref (self->runs);
  g_byte_array_unref (self->before);
  g_byte_array_unref (self->after);
  g_free (self);
}

void
cu_seg_diff_append_run (CuSegDiff *self, gsize offset, guint32 length, int k,
                        const guint8 *before, const guint8 *after)
{
  Run run = { offset, length };

  g_array_append_val (self->runs, run);
  g_byte_array_append (self->before, before, length);
  g_byte_array_append (self->after, after, length);
  self->n_voxels += length;
  self->k0 = MIN (self->k0, k);
  self->k1 = MAX (self->k1, k);
}

/* Byte v of map's data, 0 past its last layer (a layer the other map has was empty here). */
static inline guint8
byte_at (const CuLabelMap *map, gsize v)
{
  return v < cu_label_map_n_bytes (map) ? map->data[v] : 0;
}

CuSegDiff *
cu_seg_diff_compute (const CuLabelMap *before, const CuLabelMap *after, const char *name)
{
  gsize plane = (gsize) before->dims[0] * before->dims[1];
  gsize nz = (gsize) before->dims[2];
  gsize n = MAX (cu_label_map_n_bytes (before), cu_label_map_n_bytes (after)), v = 0;
  CuSegDiff *self;
  g_autofree guint8 *run_before = NULL, *run_after = NULL;

  g_return_val_if_fail (cu_label_map_n_voxels (before) == cu_label_map_n_voxels (after), NULL);

  run_before = g_malloc (plane);
  run_after = g_malloc (plane);
  self = cu_seg_diff_new (name);
  while (v < n)
    {
      gsize start;

      if (byte_at (before, v) == byte_at (after, v))
        {
          v++;
          continue;
        }
      /* A run stays within one slice of one layer, as the undo records' do. */
      start = v;
      while (v < n && byte_at (before, v) != byte_at (after, v) && (v == start || v % plane != 0))
        {
          run_before[v - start] = byte_at (before, v);
          run_after[v - start] = byte_at (after, v);
          v++;
        }
      cu_seg_diff_append_run (self, start, (guint32) (v - start), (int) ((start / plane) % nz),
                              run_before, run_after);
    }
  if (self->runs->len == 0)
    {
      cu_seg_diff_unref (self);
      return NULL;
    }
  return self;
}

/* Make map hold the layers a run at offset + length reaches (a diff made on a map that had
 * grown a layer, applied to a copy that has not yet). FALSE when it cannot. */
static gboolean
reach (CuLabelMap *map, gsize end)
{
  gsize n = cu_label_map_n_voxels (map);

  if (end <= cu_label_map_n_bytes (map))
    return TRUE;
  if (end > n * CU_LABEL_MAP_MAX_LAYERS)
    return FALSE;
  return cu_label_map_set_n_layers (map, (int) ((end + n - 1) / n), NULL);
}

const char *
cu_seg_diff_get_name (const CuSegDiff *self)
{
  return self->name;
}

gsize
cu_seg_diff_get_n_voxels (const CuSegDiff *self)
{
  return self->n_voxels;
}

gsize
cu_seg_diff_get_bytes (const CuSegDiff *self)
{
  return sizeof *self + self->runs->len * sizeof (Run) + self->before->len + self->after->len;
}

void
cu_seg_diff_get_slices (const CuSegDiff *self, int *k0, int *k1)
{
  if (k0 != NULL)
    *k0 = self->k0;
  if (k1 != NULL)
    *k1 = self->k1;
}

void
cu_seg_diff_mark_values (const CuSegDiff *self, gboolean touched[256])
{
  for (guint i = 0; i < self->before->len; i++)
    touched[self->before->data[i]] = TRUE;
  for (guint i = 0; i < self->after->len; i++)
    touched[self->after->data[i]] = TRUE;
}

void
cu_seg_diff_apply (const CuSegDiff *self, CuLabelMap *map, gboolean forward)
{
  const guint8 *bytes = forward ? self->after->data : self->before->data;
  gsize pos = 0;

  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *run = &g_array_index (self->runs, Run, i);

      /* Diffs are checked against their map when read; this guards against a diff of one
       * map being applied to another. */
      if (reach (map, run->offset + run->length))
        memcpy (map->data + run->offset, bytes + pos, run->length);
      pos += run->length;
    }
}

gsize
cu_seg_diff_apply_unchanged (const CuSegDiff *self, CuLabelMap *map)
{
  gsize pos = 0, written = 0;

  for (guint i = 0; i < self->runs->len; i++)
    {
      const Run *run = &g_array_index (self->runs, Run, i);

      if (reach (map, run->offset + run->length))
        for (guint32 j = 0; j < run->length; j++)
          if (map->data[run->offset + j] == self->before->data[pos + j])
            {
              map->data[run->offset + j] = self->after->data[pos + j];
              written++;
            }
      pos += run->length;
    }
  return written;
}

gint64
cu_seg_diff_get_id (const CuSegDiff *self)
{
  return self->id;
}

void
cu_seg_diff_set_id (CuSegDiff *self, gint64 id)
{
  self->id = id;
}

/* ---- stored form ----------------------------------------------------------------------- */

static void
put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static void
put_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, 8);
}

static guint32
get_u32 (const guint8 *p)
{
  guint32 v;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 v;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

GBytes *
cu_seg_diff_serialize (const CuSegDiff *self)
{
  gsize raw_len = HEADER_SIZE + (gsize) self->runs->len * RUN_SIZE + self->before->len + self->after->len;
  g_autofree guint8 *raw = g_malloc (raw_len);
  uLongf packed_len = compressBound (raw_len);
  guint8 *out = g_malloc (8 + packed_len);
  guint8 *p = raw;

  memcpy (p, MAGIC, 4);
  put_u32 (p + 4, self->runs->len);
  put_u32 (p + 8, (guint32) MAX (self->k0 == G_MAXINT ? 0 : self->k0, 0));
  put_u32 (p + 12, (guint32) MAX (self->k1, 0));
  p += HEADER_SIZE;
  for (guint i = 0; i < self->runs->len; i++, p += RUN_SIZE)
    {
      const Run *run = &g_array_index (self->runs, Run, i);
      put_u64 (p, run->offset);
      put_u32 (p + 8, run->length);
    }
  memcpy (p, self->before->data, self->before->len);
  memcpy (p + self->before->len, self->after->data, self->after->len);
  put_u64 (out, raw_len);
  if (compress2 (out + 8, &packed_len, raw, raw_len, 1) != Z_OK)
    g_error ("zlib cannot compress %" G_GSIZE_FORMAT " bytes", raw_len);   /* only out of memory */
  return g_bytes_new_take (g_realloc (out, 8 + packed_len), 8 + packed_len);
}

CuSegDiff *
cu_seg_diff_deserialize (const char *name, const void *data, gsize size, gsize n_voxels,
                         GError **error)
{
  const guint8 *in = data;
  g_autofree guint8 *raw = NULL;
  g_autoptr(CuSegDiff) self = NULL;
  guint64 raw_len, n_runs, total = 0, previous_end = 0;
  uLongf out_len;
  const guint8 *p;

  /* Every run changes at least one voxel and no voxel twice: a larger raw form lies. */
  if (size < 8 || (raw_len = get_u64 (in)) < HEADER_SIZE
      || raw_len > HEADER_SIZE + (guint64) n_voxels * (RUN_SIZE + 2))
    goto damaged;
  raw = g_try_malloc (raw_len);
  out_len = raw_len;
  if (raw == NULL || uncompress (raw, &out_len, in + 8, size - 8) != Z_OK || out_len != raw_len
      || memcmp (raw, MAGIC, 4) != 0)
    goto damaged;
  n_runs = get_u32 (raw + 4);
  if (n_runs > (raw_len - HEADER_SIZE) / RUN_SIZE)
    goto damaged;
  self = cu_seg_diff_new (name);
  p = raw + HEADER_SIZE;
  for (guint64 i = 0; i < n_runs; i++, p += RUN_SIZE)
    {
      Run run = { get_u64 (p), get_u32 (p + 8) };

      if (run.length == 0 || run.offset < previous_end || run.offset > n_voxels
          || run.length > n_voxels - run.offset)
        goto damaged;
      previous_end = run.offset + run.length;
      total += run.length;
      g_array_append_val (self->runs, run);
    }
  if (raw_len - HEADER_SIZE - n_runs * RUN_SIZE != 2 * total)
    goto damaged;
  g_byte_array_append (self->before, p, (guint) total);
  g_byte_array_append (self->after, p + total, (guint) total);
  self->n_voxels = total;
  self->k0 = (int) get_u32 (raw + 8);
  self->k1 = (int) get_u32 (raw + 12);
  return g_steal_pointer (&self);

damaged:
  g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
               _("The stored undo step “%s” is damaged"), name != NULL ? name : "");
  return NULL;
}

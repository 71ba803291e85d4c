/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-label-map.c — label map storage, label table, undo snapshots (cu-label-map.h).
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-label-map.h"

G_DEFINE_QUARK (cu-seg-error-quark, cu_seg_error)

CuLabel *
cu_label_new (guint8 value, const char *name, const guint8 rgb[3])
{
  CuLabel *label = g_new0 (CuLabel, 1);

  label->value = value;
  label->name = g_strdup (name != NULL ? name : "");
  if (rgb != NULL)
    memcpy (label->rgb, rgb, 3);
  else
    cu_label_default_color (value, label->rgb);
  return label;
}

CuLabel *
cu_label_copy (const CuLabel *label)
{
  CuLabel *copy = g_new0 (CuLabel, 1);

  *copy = *label;
  copy->name = g_strdup (label->name);
  copy->category_code = g_strdup (label->category_code);
  copy->category_scheme = g_strdup (label->category_scheme);
  copy->category_meaning = g_strdup (label->category_meaning);
  copy->type_code = g_strdup (label->type_code);
  copy->type_scheme = g_strdup (label->type_scheme);
  copy->type_meaning = g_strdup (label->type_meaning);
  copy->terminology_id = g_strdup (label->terminology_id);
  copy->form_json = g_strdup (label->form_json);
  copy->algorithm_name = g_strdup (label->algorithm_name);
  return copy;
}

void
cu_label_free (CuLabel *label)
{
  if (label == NULL)
    return;
  g_free (label->name);
  g_free (label->category_code);
  g_free (label->category_scheme);
  g_free (label->category_meaning);
  g_free (label->type_code);
  g_free (label->type_scheme);
  g_free (label->type_meaning);
  g_free (label->terminology_id);
  g_free (label->form_json);
  g_free (label->algorithm_name);
  g_free (label);
}

/* Saturated, distinguishable on grey images; the first ones follow ITK-SNAP's order
 * (red, green, blue, yellow, cyan, magenta …). */
static const guint8 palette[][3] = {
  { 230, 25, 45 }, { 60, 200, 75 }, { 0, 130, 230 }, { 255, 215, 25 }, { 70, 220, 230 },
  { 240, 50, 230 }, { 245, 130, 50 }, { 145, 30, 180 }, { 210, 245, 60 }, { 250, 190, 210 },
  { 0, 128, 128 }, { 220, 190, 255 }, { 170, 110, 40 }, { 255, 250, 200 }, { 128, 0, 0 },
  { 170, 255, 195 },
};

void
cu_label_default_color (guint8 value, guint8 rgb[3])
{
  memcpy (rgb, palette[(value + G_N_ELEMENTS (palette) - 1) % G_N_ELEMENTS (palette)], 3);
}

CuLabelMap *
cu_label_map_new (const CuVolume *geometry, GError **error)
{
  CuLabelMap *self;
  gsize n;

  g_return_val_if_fail (geometry != NULL, NULL);

  if (geometry->dims[0] < 1 || geometry->dims[1] < 1 || geometry->dims[2] < 1
      || (double) geometry->dims[0] * geometry->dims[1] * geometry->dims[2] > 4e9)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID,
                   _("A label map cannot have %d × %d × %d voxels"), geometry->dims[0],
                   geometry->dims[1], geometry->dims[2]);
      return NULL;
    }
  n = (gsize) geometry->dims[0] * geometry->dims[1] * geometry->dims[2];
  self = g_new0 (CuLabelMap, 1);
  g_atomic_ref_count_init (&self->ref_count);
  memcpy (self->dims, geometry->dims, sizeof self->dims);
  self->geometry = cu_volume_copy (geometry, FALSE);
  self->geometry->dims[3] = 1;
  self->data = g_try_malloc0 (n);
  if (self->data == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID, _("Out of memory for a label map"));
      cu_volume_unref (self->geometry);
      g_free (self);
      return NULL;
    }
  self->n_layers = 1;
  self->labels = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_label_free);
  return self;
}

CuLabelMap *
cu_label_map_ref (CuLabelMap *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
drop_snapshot (CuLabelMap *self)
{
  if (self->snapshot == NULL)
    return;
  for (int k = 0; k < self->dims[2]; k++)
    g_free (self->snapshot[k]);
  g_clear_pointer (&self->snapshot, g_free);
}

void
cu_label_map_unref (CuLabelMap *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  drop_snapshot (self);
  g_ptr_array_unref (self->labels);
  cu_volume_unref (self->geometry);
  g_free (self->data);
  g_free (self);
}

CuLabelMap *
cu_label_map_copy (const CuLabelMap *self)
{
  CuLabelMap *copy = cu_label_map_new (self->geometry, NULL);

  if (!cu_label_map_set_n_layers (copy, self->n_layers, NULL))
    g_error ("Out of memory for a copy of a label map");
  memcpy (copy->data, self->data, cu_label_map_n_bytes (self));
  for (guint i = 0; i < self->labels->len; i++)
    g_ptr_array_add (copy->labels, cu_label_copy (self->labels->pdata[i]));
  return copy;
}

gsize
cu_label_map_n_voxels (const CuLabelMap *self)
{
  return (gsize) self->dims[0] * self->dims[1] * self->dims[2];
}

gsize
cu_label_map_n_bytes (const CuLabelMap *self)
{
  return cu_label_map_n_voxels (self) * (gsize) self->n_layers;
}

int
cu_label_map_get_n_layers (const CuLabelMap *self)
{
  return self->n_layers;
}

int
cu_label_map_add_layer (CuLabelMap *self)
{
  gsize n = cu_label_map_n_voxels (self), plane = (gsize) self->dims[0] * self->dims[1];
  guint8 *grown;

  if (self->n_layers >= CU_LABEL_MAP_MAX_LAYERS)
    return -1;
  grown = g_try_realloc (self->data, n * (gsize) (self->n_layers + 1));
  if (grown == NULL)
    return -1;
  memset (grown + n * (gsize) self->n_layers, 0, n);
  self->data = grown;
  /* An open undo record keeps every layer of a touched slice: the new layer was empty. */
  if (self->snapshot != NULL)
    for (int k = 0; k < self->dims[2]; k++)
      if (self->snapshot[k] != NULL)
        {
          self->snapshot[k] = g_realloc (self->snapshot[k], plane * (gsize) (self->n_layers + 1));
          memset (self->snapshot[k] + plane * (gsize) self->n_layers, 0, plane);
        }
  return self->n_layers++;
}

gboolean
cu_label_map_set_n_layers (CuLabelMap *self, int n, GError **error)
{
  if (n > CU_LABEL_MAP_MAX_LAYERS)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FULL,
                   _("A label map cannot have more than %d layers"), CU_LABEL_MAP_MAX_LAYERS);
      return FALSE;
    }
  while (self->n_layers < n)
    if (cu_label_map_add_layer (self) < 0)
      {
        g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID, _("Out of memory for a label map"));
        return FALSE;
      }
  return TRUE;
}

int
cu_label_map_compact (CuLabelMap *self)
{
  gsize n = cu_label_map_n_voxels (self);
  int map_to[CU_LABEL_MAP_MAX_LAYERS], kept = 0;

  g_return_val_if_fail (self->snapshot == NULL, 0);
  for (int l = 0; l < self->n_layers; l++)
    {
      const guint8 *d = self->data + (gsize) l * n;
      gboolean used = l == 0;

      for (gsize v = 0; v < n && !used; v++)
        used = d[v] != 0;
      map_to[l] = used ? kept : -1;
      if (used)
        {
          if (kept != l)
            memmove (self->data + (gsize) kept * n, d, n);
          kept++;
        }
    }
  if (kept == self->n_layers)
    return 0;
  for (guint i = 0; i < self->labels->len; i++)
    {
      CuLabel *l = self->labels->pdata[i];
      l->layer = l->layer < self->n_layers && map_to[l->layer] >= 0 ? (guint8) map_to[l->layer] : 0;
    }
  kept = self->n_layers - kept;
  self->n_layers -= kept;
  self->data = g_realloc (self->data, n * (gsize) self->n_layers);
  return kept;
}

gsize
cu_label_map_count_overlap (const CuLabelMap *self)
{
  gsize n = cu_label_map_n_voxels (self), count = 0;

  if (self->n_layers == 1)
    return 0;
  for (gsize v = 0; v < n; v++)
    {
      guint8 first = 0;
      for (int l = 0; l < self->n_layers; l++)
        {
          guint8 d = self->data[(gsize) l * n + v];
          if (d == 0 || d == first)
            continue;
          if (first != 0)
            {
              count++;
              break;
            }
          first = d;
        }
    }
  return count;
}

GArray *
cu_label_map_overlaps (const CuLabelMap *self)
{
  GArray *pairs = g_array_new (FALSE, FALSE, sizeof (CuLabelOverlap));
  gsize n = cu_label_map_n_voxels (self);
  g_autofree guint64 *count = NULL;

  if (self->n_layers == 1)
    return pairs;
  count = g_new0 (guint64, 256 * 256);
  for (gsize v = 0; v < n; v++)
    {
      guint8 here[CU_LABEL_MAP_MAX_LAYERS];
      int m = 0;

      for (int l = 0; l < self->n_layers; l++)
        {
          guint8 d = self->data[(gsize) l * n + v];
          gboolean seen = d == 0;
          for (int x = 0; x < m && !seen; x++)
            seen = here[x] == d;
          if (!seen)
            here[m++] = d;
        }
      for (int x = 0; x < m; x++)
        for (int y = 0; y < m; y++)
          if (here[x] < here[y])
            count[here[x] * 256 + here[y]]++;
    }
  for (int a = 1; a < 256; a++)
    for (int b = a + 1; b < 256; b++)
      if (count[a * 256 + b] > 0)
        {
          CuLabelOverlap o = { (guint8) a, (guint8) b, (gsize) count[a * 256 + b] };
          g_array_append_val (pairs, o);
        }
  return pairs;
}

char *
cu_label_map_flatten_warning (const CuLabelMap *self)
{
  g_autoptr(GArray) pairs = cu_label_map_overlaps (self);
  g_autoptr(GString) list = g_string_new (NULL);

  if (pairs->len == 0)
    return NULL;
  for (guint i = 0; i < pairs->len; i++)
    {
      const CuLabelOverlap *o = &g_array_index (pairs, CuLabelOverlap, i);
      const CuLabel *la = cu_label_map_get_label (self, o->a), *lb = cu_label_map_get_label (self, o->b);

      if (list->len > 0)
        g_string_append (list, "; ");
      g_string_append_printf (list, ngettext ("%d “%s” and %d “%s”: %lu voxel",
                                              "%d “%s” and %d “%s”: %lu voxels",
                                              (gulong) o->n_voxels),
                              o->a, la != NULL ? la->name : "", o->b, lb != NULL ? lb->name : "",
                              (gulong) o->n_voxels);
    }
  return g_strdup_printf (_("Overlapping labels written one per voxel, the higher label value "
                            "kept where they overlap (%s)"), list->str);
}

gsize
cu_label_map_count_pair (const CuLabelMap *self, guint8 a, guint8 b)
{
  gsize n = cu_label_map_n_voxels (self), count = 0;

  if (self->n_layers == 1 || a == b)
    return a == b ? cu_label_map_count (self, a) : 0;
  for (gsize v = 0; v < n; v++)
    count += cu_label_map_has (self, v, a) && cu_label_map_has (self, v, b);
  return count;
}

int
cu_label_map_home_layer (CuLabelMap *self, guint8 value)
{
  const CuLabel *label = cu_label_map_get_label (self, value);
  int home = label != NULL ? label->layer : 0;

  /* A table read back with a layer the data lacks: the layer was empty. */
  if (home >= self->n_layers && !cu_label_map_set_n_layers (self, home + 1, NULL))
    home = 0;
  return home;
}

void
cu_label_map_write_layer (CuLabelMap *self, int layer, gsize index, guint8 value)
{
  gsize plane = (gsize) self->dims[0] * self->dims[1];
  gsize n = plane * (gsize) self->dims[2];

  cu_label_map_touch_slice (self, (int) (index / plane));
  self->data[(gsize) layer * n + index] = value;
}

void
cu_label_map_move_label (CuLabelMap *self, guint8 value, int layer)
{
  gsize n = cu_label_map_n_voxels (self);
  CuLabel *label = NULL;

  g_return_if_fail (value != 0 && layer >= 0);
  if (layer >= self->n_layers && !cu_label_map_set_n_layers (self, layer + 1, NULL))
    return;
  for (guint i = 0; i < self->labels->len; i++)
    if (((CuLabel *) self->labels->pdata[i])->value == value)
      label = self->labels->pdata[i];
  for (int l = 0; l < self->n_layers; l++)
    {
      if (l == layer)
        continue;
      for (gsize v = 0; v < n; v++)
        if (self->data[(gsize) l * n + v] == value)
          {
            /* Never over another label: such a voxel stays where it is (still read as the
             * label's, through the union). */
            guint8 there = self->data[(gsize) layer * n + v];
            if (there != 0 && there != value)
              continue;
            cu_label_map_write_layer (self, l, v, 0);
            if (there == 0)
              cu_label_map_write_layer (self, layer, v, value);
          }
    }
  if (label != NULL)
    label->layer = (guint8) layer;
}

/* A layer other than not where value's voxels and the voxel index are all free of other
 * labels, or -1. */
static int
find_free_layer (const CuLabelMap *self, guint8 value, int not, gsize index)
{
  gsize n = cu_label_map_n_voxels (self);

  for (int l = 0; l < self->n_layers; l++)
    {
      const guint8 *t = self->data + (gsize) l * n;
      gboolean fits;

      if (l == not || (t[index] != 0 && t[index] != value))
        continue;
      fits = TRUE;
      for (gsize v = 0; v < n && fits; v++)
        if (t[v] != 0 && t[v] != value && cu_label_map_has (self, v, value))
          fits = FALSE;
      if (fits)
        return l;
    }
  return -1;
}

gboolean
cu_label_map_paint (CuLabelMap *self, gsize index, guint8 value, CuSegOverlap overlap)
{
  gsize n = cu_label_map_n_voxels (self);
  int home;
  gboolean changed = FALSE;
  guint8 there;

  g_return_val_if_fail (value != 0 && index < n, FALSE);
  /* One layer and no overlap wanted: the single byte, as before layers (brush strokes of
   * thousands of voxels stay as cheap as they were). */
  if (self->n_layers == 1 && overlap != CU_SEG_OVERLAP_ALLOW)
    {
      there = self->data[index];
      if (there == value || (overlap == CU_SEG_OVERLAP_KEEP && there != 0))
        return FALSE;
      cu_label_map_write_layer (self, 0, index, value);
      return TRUE;
    }
  home = cu_label_map_home_layer (self, value);
  switch (overlap)
    {
    case CU_SEG_OVERLAP_KEEP:
      if (!cu_label_map_has (self, index, 0))
        return FALSE;
      cu_label_map_write_layer (self, home, index, value);
      return TRUE;

    case CU_SEG_OVERLAP_ALLOW:
      if (cu_label_map_has (self, index, value))
        return FALSE;
      there = self->data[(gsize) home * n + index];
      if (there != 0)
        {
          /* The label would cover another in its layer: move it where it fits, as Slicer
           * moves a segment that starts to overlap to a separate labelmap. */
          int to = find_free_layer (self, value, home, index);
          if (to < 0)
            to = cu_label_map_add_layer (self);
          if (to < 0)
            return FALSE;
          cu_label_map_move_label (self, value, to);
          home = to;
        }
      cu_label_map_write_layer (self, home, index, value);
      return TRUE;

    case CU_SEG_OVERLAP_OVERWRITE:
    default:
      for (int l = 0; l < self->n_layers; l++)
        {
          there = self->data[(gsize) l * n + index];
          if (l == home)
            {
              if (there != value)
                {
                  cu_label_map_write_layer (self, l, index, value);
                  changed = TRUE;
                }
            }
          else if (there != 0 && there != value)
            {
              cu_label_map_write_layer (self, l, index, 0);
              changed = TRUE;
            }
        }
      return changed;
    }
}

gboolean
cu_label_map_erase (CuLabelMap *self, gsize index, guint8 only)
{
  gsize n = cu_label_map_n_voxels (self);
  gboolean changed = FALSE;

  g_return_val_if_fail (index < n, FALSE);
  for (int l = 0; l < self->n_layers; l++)
    {
      guint8 there = self->data[(gsize) l * n + index];
      if (there != 0 && (only == 0 || there == only))
        {
          cu_label_map_write_layer (self, l, index, 0);
          changed = TRUE;
        }
    }
  return changed;
}

int
cu_label_map_place_mask (CuLabelMap *self, guint8 value, const guint8 *mask, GError **error)
{
  gsize n = cu_label_map_n_voxels (self);
  int layer = -1;

  g_return_val_if_fail (value != 0 && mask != NULL, -1);
  for (int l = 0; l < self->n_layers && layer < 0; l++)
    {
      const guint8 *t = self->data + (gsize) l * n;
      gboolean fits = TRUE;

      for (gsize v = 0; v < n && fits; v++)
        if (mask[v] && t[v] != 0 && t[v] != value)
          fits = FALSE;
      if (fits)
        layer = l;
    }
  if (layer < 0)
    {
      layer = cu_label_map_add_layer (self);
      if (layer < 0)
        {
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FULL,
                       _("Label %d overlaps others in all %d layers a label map can have"),
                       value, CU_LABEL_MAP_MAX_LAYERS);
          return -1;
        }
    }
  for (gsize v = 0; v < n; v++)
    if (mask[v] && self->data[(gsize) layer * n + v] != value)
      cu_label_map_write_layer (self, layer, v, value);
  for (guint i = 0; i < self->labels->len; i++)
    if (((CuLabel *) self->labels->pdata[i])->value == value)
      ((CuLabel *) self->labels->pdata[i])->layer = (guint8) layer;
  return layer;
}

gboolean
cu_label_map_same_grid (const CuLabelMap *self, const CuVolume *other)
{
  const CuVolume *g = self->geometry;

  for (int c = 0; c < 3; c++)
    if (g->dims[c] != other->dims[c] || fabs (g->spacing[c] - other->spacing[c]) > 1e-3
        || fabs (g->origin[c] - other->origin[c]) > 1e-3)
      return FALSE;
  for (int c = 0; c < 9; c++)
    if (fabs (g->direction[c] - other->direction[c]) > 1e-4)
      return FALSE;
  return TRUE;
}

guint
cu_label_map_get_n_labels (const CuLabelMap *self)
{
  return self->labels->len;
}

const CuLabel *
cu_label_map_get_label_at (const CuLabelMap *self, guint index)
{
  g_return_val_if_fail (index < self->labels->len, NULL);
  return self->labels->pdata[index];
}

const CuLabel *
cu_label_map_get_label (const CuLabelMap *self, guint8 value)
{
  for (guint i = 0; i < self->labels->len; i++)
    if (((CuLabel *) self->labels->pdata[i])->value == value)
      return self->labels->pdata[i];
  return NULL;
}

static int
compare_labels (gconstpointer a, gconstpointer b)
{
  const CuLabel *la = *(CuLabel *const *) a, *lb = *(CuLabel *const *) b;
  return (int) la->value - (int) lb->value;
}

void
cu_label_map_set_label (CuLabelMap *self, const CuLabel *label)
{
  g_return_if_fail (label != NULL && label->value != 0);

  for (guint i = 0; i < self->labels->len; i++)
    if (((CuLabel *) self->labels->pdata[i])->value == label->value)
      {
        cu_label_free (self->labels->pdata[i]);
        self->labels->pdata[i] = cu_label_copy (label);
        return;
      }
  g_ptr_array_add (self->labels, cu_label_copy (label));
  g_ptr_array_sort (self->labels, compare_labels);
}

void
cu_label_map_remove_label (CuLabelMap *self, guint8 value)
{
  gsize n = cu_label_map_n_voxels (self);

  for (guint i = 0; i < self->labels->len; i++)
    if (((CuLabel *) self->labels->pdata[i])->value == value)
      {
        g_ptr_array_remove_index (self->labels, i);
        break;
      }
  n *= (gsize) self->n_layers;
  for (gsize v = 0; v < n; v++)
    if (self->data[v] == value)
      self->data[v] = 0;
}

guint8
cu_label_map_next_free_value (const CuLabelMap *self)
{
  for (int v = 1; v <= 255; v++)
    if (cu_label_map_get_label (self, (guint8) v) == NULL)
      return (guint8) v;
  return 0;
}

gsize
cu_label_map_count (const CuLabelMap *self, guint8 value)
{
  gsize n = cu_label_map_n_voxels (self), count = 0;

  /* A voxel counts once however many layers hold the label (the union), so a label's volume
   * stays right when it overlaps others. */
  if (self->n_layers == 1)
    for (gsize v = 0; v < n; v++)
      count += self->data[v] == value;
  else
    for (gsize v = 0; v < n; v++)
      count += cu_label_map_has (self, v, value);
  return count;
}

void
cu_label_map_count_all (const CuLabelMap *self, gsize counts[256])
{
  gsize n = cu_label_map_n_voxels (self);

  memset (counts, 0, 256 * sizeof (gsize));
  if (self->n_layers == 1)
    {
      for (gsize v = 0; v < n; v++)
        counts[self->data[v]]++;
      return;
    }
  for (gsize v = 0; v < n; v++)
    {
      gboolean seen[256] = { FALSE };   /* a label twice at one voxel (two layers) counts once */
      gboolean any = FALSE;

      for (int l = 0; l < self->n_layers; l++)
        {
          guint8 d = self->data[(gsize) l * n + v];
          if (d == 0 || seen[d])
            continue;
          seen[d] = TRUE;
          counts[d]++;
          any = TRUE;
        }
      if (!any)
        counts[0]++;
    }
}

gboolean
cu_label_map_centroid (const CuLabelMap *self, guint8 value, double ijk[3])
{
  double sum[3] = { 0, 0, 0 };
  gsize count = 0;

  for (int k = 0; k < self->dims[2]; k++)
    for (int j = 0; j < self->dims[1]; j++)
      for (int i = 0; i < self->dims[0]; i++)
        if (cu_label_map_has (self, cu_label_map_index (self, i, j, k), value))
          {
            sum[0] += i;
            sum[1] += j;
            sum[2] += k;
            count++;
          }
  if (count == 0)
    return FALSE;
  for (int c = 0; c < 3; c++)
    ijk[c] = sum[c] / (double) count;
  return TRUE;
}

double
cu_label_map_voxel_ml (const CuLabelMap *self)
{
  const double *s = self->geometry->spacing;
  return s[0] * s[1] * s[2] / 1000.0;
}

double
cu_label_map_volume_ml (const CuLabelMap *self, guint8 value)
{
  return (double) cu_label_map_count (self, value) * cu_label_map_voxel_ml (self);
}

gboolean
cu_label_map_k_range (const CuLabelMap *self, guint8 value, int *k0, int *k1)
{
  gsize plane = (gsize) self->dims[0] * self->dims[1];
  int first = -1, last = -1;

  for (int k = 0; k < self->dims[2]; k++)
    {
      for (gsize v = (gsize) k * plane; v < (gsize) (k + 1) * plane; v++)
        if (cu_label_map_has (self, v, value))
          {
            if (first < 0)
              first = k;
            last = k;
            break;
          }
    }
  if (k0 != NULL)
    *k0 = first;
  if (k1 != NULL)
    *k1 = last;
  return first >= 0;
}

void
cu_label_map_touch_slice (CuLabelMap *self, int k)
{
  gsize plane, n;

  if (self->snapshot == NULL || k < 0 || k >= self->dims[2] || self->snapshot[k] != NULL)
    return;
  plane = (gsize) self->dims[0] * self->dims[1];
  n = plane * (gsize) self->dims[2];
  self->snapshot[k] = g_malloc (plane * (gsize) self->n_layers);
  for (int l = 0; l < self->n_layers; l++)
    memcpy (self->snapshot[k] + (gsize) l * plane, self->data + (gsize) l * n + (gsize) k * plane,
            plane);
}

void
cu_label_map_touch_all (CuLabelMap *self)
{
  for (int k = 0; k < self->dims[2]; k++)
    cu_label_map_touch_slice (self, k);
}

const char *
cu_seg_overlap_to_string (CuSegOverlap overlap)
{
  switch (overlap)
    {
    case CU_SEG_OVERLAP_KEEP:
      return "keep";
    case CU_SEG_OVERLAP_ALLOW:
      return "allow";
    case CU_SEG_OVERLAP_OVERWRITE:
    default:
      return "overwrite";
    }
}

gboolean
cu_seg_overlap_from_string (const char *text, CuSegOverlap *overlap)
{
  static const CuSegOverlap all[] = { CU_SEG_OVERLAP_OVERWRITE, CU_SEG_OVERLAP_KEEP,
                                      CU_SEG_OVERLAP_ALLOW };

  if (text == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (all); i++)
    if (g_ascii_strcasecmp (text, cu_seg_overlap_to_string (all[i])) == 0)
      {
        *overlap = all[i];
        return TRUE;
      }
  return FALSE;
}

const char *
cu_label_origin_to_string (CuLabelOrigin origin)
{
  switch (origin)
    {
    case CU_LABEL_ORIGIN_SEMIAUTOMATIC:
      return "SEMIAUTOMATIC";
    case CU_LABEL_ORIGIN_AUTOMATIC:
      return "AUTOMATIC";
    case CU_LABEL_ORIGIN_MANUAL:
    default:
      return "MANUAL";
    }
}

gboolean
cu_label_origin_from_string (const char *text, CuLabelOrigin *origin)
{
  if (text == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (text, "MANUAL") == 0)
    *origin = CU_LABEL_ORIGIN_MANUAL;
  else if (g_ascii_strcasecmp (text, "SEMIAUTOMATIC") == 0)
    *origin = CU_LABEL_ORIGIN_SEMIAUTOMATIC;
  else if (g_ascii_strcasecmp (text, "AUTOMATIC") == 0)
    *origin = CU_LABEL_ORIGIN_AUTOMATIC;
  else
    return FALSE;
  return TRUE;
}

/* ---- JSON --------------------------------------------------------------------------- */

static void
set_string (JsonBuilder *b, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

char *
cu_label_map_labels_to_json (const CuLabelMap *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (b);
  for (guint i = 0; i < self->labels->len; i++)
    {
      const CuLabel *l = self->labels->pdata[i];
      g_autofree char *color = g_strdup_printf ("#%02x%02x%02x", l->rgb[0], l->rgb[1], l->rgb[2]);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "value");
      json_builder_add_int_value (b, l->value);
      set_string (b, "name", l->name);
      set_string (b, "color", color);
      set_string (b, "category_code", l->category_code);
      set_string (b, "category_scheme", l->category_scheme);
      set_string (b, "category_meaning", l->category_meaning);
      set_string (b, "type_code", l->type_code);
      set_string (b, "type_scheme", l->type_scheme);
      set_string (b, "type_meaning", l->type_meaning);
      set_string (b, "terminology_id", l->terminology_id);
      /* The origin only when it is not the reader's own drawing, so older tables read the
       * same and a manual label's JSON does not change. */
      if (l->origin != CU_LABEL_ORIGIN_MANUAL)
        {
          set_string (b, "algorithm_type", cu_label_origin_to_string (l->origin));
          set_string (b, "algorithm_name", l->algorithm_name);
        }
      /* The home layer only when it is not the first, so a table without overlap reads as
       * it always did. */
      if (l->layer != 0)
        {
          json_builder_set_member_name (b, "layer");
          json_builder_add_int_value (b, l->layer);
        }
      if (l->form_json != NULL)
        {
          g_autoptr(JsonNode) form = json_from_string (l->form_json, NULL);
          if (form != NULL)
            {
              json_builder_set_member_name (b, "form");
              json_builder_add_value (b, g_steal_pointer (&form));
            }
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static char *
dup_member (JsonObject *o, const char *name)
{
  if (!json_object_has_member (o, name) || json_object_get_null_member (o, name))
    return NULL;
  return g_strdup (json_object_get_string_member (o, name));
}

gboolean
cu_label_map_labels_from_json (CuLabelMap *self, const char *json, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *array;

  if (!json_parser_load_from_data (parser, json, -1, error))
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT, _("The label table is not a JSON array"));
      return FALSE;
    }
  array = json_node_get_array (json_parser_get_root (parser));
  g_ptr_array_set_size (self->labels, 0);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *o = json_array_get_object_element (array, i);
      g_autoptr(CuLabel) l = NULL;
      gint64 value;
      g_autofree char *color = NULL;

      if (o == NULL || !json_object_has_member (o, "value"))
        continue;
      value = json_object_get_int_member (o, "value");
      if (value < 1 || value > 255)
        continue;
      l = cu_label_new ((guint8) value, NULL, NULL);
      g_free (l->name);
      l->name = dup_member (o, "name");
      if (l->name == NULL)
        l->name = g_strdup ("");
      color = dup_member (o, "color");
      if (color != NULL && strlen (color) == 7 && color[0] == '#')
        {
          guint32 rgb = (guint32) g_ascii_strtoull (color + 1, NULL, 16);
          l->rgb[0] = (rgb >> 16) & 0xff;
          l->rgb[1] = (rgb >> 8) & 0xff;
          l->rgb[2] = rgb & 0xff;
        }
      l->category_code = dup_member (o, "category_code");
      l->category_scheme = dup_member (o, "category_scheme");
      l->category_meaning = dup_member (o, "category_meaning");
      l->type_code = dup_member (o, "type_code");
      l->type_scheme = dup_member (o, "type_scheme");
      l->type_meaning = dup_member (o, "type_meaning");
      l->terminology_id = dup_member (o, "terminology_id");
      {
        g_autofree char *origin = dup_member (o, "algorithm_type");
        if (cu_label_origin_from_string (origin, &l->origin) && l->origin != CU_LABEL_ORIGIN_MANUAL)
          l->algorithm_name = dup_member (o, "algorithm_name");
        else
          l->origin = CU_LABEL_ORIGIN_MANUAL;
      }
      if (json_object_has_member (o, "layer"))
        {
          gint64 layer = json_object_get_int_member (o, "layer");
          l->layer = layer > 0 && layer < CU_LABEL_MAP_MAX_LAYERS ? (guint8) layer : 0;
        }
      if (json_object_has_member (o, "form")
          && JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "form")))
        l->form_json = json_to_string (json_object_get_member (o, "form"), FALSE);
      cu_label_map_set_label (self, l);
    }
  return TRUE;
}

/* The undo record (cu-seg-history.c) opens and closes snapshots through these. */
void _cu_label_map_open_snapshot (CuLabelMap *self);
guint8 **_cu_label_map_take_snapshot (CuLabelMap *self);

void
_cu_label_map_open_snapshot (CuLabelMap *self)
{
  drop_snapshot (self);
  self->snapshot = g_new0 (guint8 *, self->dims[2]);
}

guint8 **
_cu_label_map_take_snapshot (CuLabelMap *self)
{
  return g_steal_pointer (&self->snapshot);
}

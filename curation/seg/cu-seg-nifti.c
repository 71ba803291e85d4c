/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-nifti.c — label maps to and from NIfTI-1 (cu-seg-nifti.h).
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-nifti.h"
#include "cu-seg-nifti.h"

char *
cu_seg_path_stem (const char *path)
{
  static const char *const suffixes[] = { ".nii.gz", ".nii", ".dcm", ".json", ".csv" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (g_str_has_suffix (path, suffixes[i]))
      return g_strndup (path, strlen (path) - strlen (suffixes[i]));
  return g_strdup (path);
}

gboolean
cu_seg_nifti_write (const CuLabelMap *map, const char *path, GError **error)
{
  g_autoptr(CuVolume) v = cu_volume_copy (map->geometry, FALSE);
  gsize n = cu_label_map_n_voxels (map);

  v->dims[3] = 1;
  v->voxels = g_try_new (float, n);
  if (v->voxels == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID, _("Out of memory for the export"));
      return FALSE;
    }
  /* One label per voxel: where labels overlap the higher value wins (cu_label_map_top); the
   * callers report what that lost (cu_label_map_flatten_warning). */
  for (gsize i = 0; i < n; i++)
    v->voxels[i] = cu_label_map_top (map, i);
  /* The NIfTI writer keeps the stored integer type when every value fits: uint8 labels. */
  v->stored_type = CU_PIXEL_UINT8;
  v->bits_stored = 8;
  v->rescaled = FALSE;
  g_clear_pointer (&v->modality, g_free);
  v->modality = g_strdup ("SEG");
  return cu_nifti_write (v, path, error);
}

CuLabelMap *
cu_seg_resample_labels (const CuVolume *labels, const CuVolume *grid, gboolean *resampled,
                        GError **error)
{
  g_autoptr(CuLabelMap) map = cu_label_map_new (grid, error);
  gsize n;
  gboolean same = TRUE;

  if (map == NULL)
    return NULL;
  n = cu_label_map_n_voxels (map);
  same = cu_label_map_same_grid (map, labels);
  if (resampled != NULL)
    *resampled = !same;
  for (int k = 0; k < map->dims[2]; k++)
    for (int j = 0; j < map->dims[1]; j++)
      for (int i = 0; i < map->dims[0]; i++)
        {
          gsize v = cu_label_map_index (map, i, j, k);
          float x;

          if (same)
            x = labels->voxels[v];
          else
            {
              double ijk[3] = { i, j, k }, lps[3], src[3];
              int a, b, c;

              cu_volume_index_to_lps (grid, ijk, lps);
              cu_volume_lps_to_index (labels, lps, src);
              a = (int) lround (src[0]);
              b = (int) lround (src[1]);
              c = (int) lround (src[2]);
              if (a < 0 || b < 0 || c < 0 || a >= labels->dims[0] || b >= labels->dims[1]
                  || c >= labels->dims[2])
                continue;
              x = labels->voxels[((gsize) c * labels->dims[1] + b) * labels->dims[0] + a];
            }
          if (!(x >= 0 && x <= 255 && x == floorf (x)))
            {
              g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
                           _("Label values must be whole numbers from 0 to 255, found %g"), (double) x);
              return NULL;
            }
          map->data[v] = (guint8) x;
        }
  (void) n;
  return g_steal_pointer (&map);
}

static void
add_found_labels (CuLabelMap *map)
{
  gboolean present[256] = { FALSE };
  gsize n = cu_label_map_n_voxels (map);

  for (gsize v = 0; v < n; v++)
    present[map->data[v]] = TRUE;
  for (int value = 1; value < 256; value++)
    if (present[value] && cu_label_map_get_label (map, (guint8) value) == NULL)
      {
        g_autofree char *name = g_strdup_printf (_("Label %d"), value);
        g_autoptr(CuLabel) l = cu_label_new ((guint8) value, name, NULL);
        cu_label_map_set_label (map, l);
      }
}

CuLabelMap *
cu_seg_nifti_read (const char *path, const CuVolume *grid, gboolean *resampled, GError **error)
{
  g_autoptr(CuVolume) labels = cu_nifti_read (path, error);
  g_autoptr(CuLabelMap) map = NULL;
  g_autofree char *stem = cu_seg_path_stem (path);
  g_autofree char *sidecar = g_strconcat (stem, ".json", NULL);

  if (labels == NULL)
    return NULL;
  map = cu_seg_resample_labels (labels, grid, resampled, error);
  if (map == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  if (g_file_test (sidecar, G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (json_parser_load_from_file (parser, sidecar, NULL)
          && (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root)
          && json_object_has_member (json_node_get_object (root), "labels"))
        {
          g_autofree char *text = json_to_string (json_object_get_member (json_node_get_object (root),
                                                                          "labels"), FALSE);
          cu_label_map_labels_from_json (map, text, NULL);
        }
    }
  /* A NIfTI has one label per voxel: every label is in the one layer it was read into. */
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      g_autoptr(CuLabel) l = cu_label_copy (cu_label_map_get_label_at (map, i));
      l->layer = 0;
      cu_label_map_set_label (map, l);
    }
  add_found_labels (map);
  return g_steal_pointer (&map);
}

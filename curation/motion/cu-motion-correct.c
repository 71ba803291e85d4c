/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-motion-correct.c — rigid realignment of every volume of a 4D series to a reference.
 *
 * The approach of SPM's realign and FSL's MCFLIRT (Jenkinson et al., NeuroImage 17:825–841,
 * 2002, doi:10.1006/nimg.2002.1132): one rigid registration per volume against a fixed
 * reference, each started from the neighbouring volume's result because head or body motion
 * is continuous in time. Framewise displacement follows J. D. Power et al., "Spurious but
 * systematic correlations in functional connectivity MRI networks arise from subject
 * motion", NeuroImage 59:2142–2154, 2012 (doi:10.1016/j.neuroimage.2011.10.018): the sum of
 * the absolute changes of the six parameters, rotations as arc length on a 50 mm sphere.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-motion-correct.h"

#define FD_RADIUS_MM 50.0

void
cu_motion_options_init (CuMotionOptions *o)
{
  cu_rigid_options_init (&o->rigid, CU_RIGID_METRIC_NCC);
  o->reference = 0;
  o->threshold_mm = 0.5;
  o->interpolation = CU_INTERPOLATION_BSPLINE;
}

static CuVolume *
frame_copy (const CuVolume *series, int t, GError **error)
{
  CuVolume *v = cu_volume_new (series->dims[0], series->dims[1], series->dims[2], 1, TRUE, error);

  if (v == NULL)
    return NULL;
  memcpy (v->spacing, series->spacing, sizeof v->spacing);
  memcpy (v->origin, series->origin, sizeof v->origin);
  memcpy (v->direction, series->direction, sizeof v->direction);
  memcpy (v->voxels, cu_volume_frame (series, t), cu_volume_n_voxels_3d (series) * sizeof (float));
  return v;
}

typedef struct
{
  CuProgress *outer;
  double base, span;
} SubProgress;

static void
sub_progress (double fraction, const char *message, gpointer user_data)
{
  SubProgress *s = user_data;

  if (fraction >= 0 && fraction < 1.0)
    cu_progress_report (s->outer, s->base + s->span * fraction, message);
}

CuVolume *
cu_motion_correct (const CuVolume *series, const CuMotionOptions *options, GArray **rows_out,
                   CuProgress *progress, GCancellable *cancellable, GError **error)
{
  CuMotionOptions defaults;
  g_autoptr (CuRigidRegistration) reg = NULL;
  g_autoptr (CuVolume) out = NULL;
  g_autoptr (GArray) rows = NULL;
  const int nt = series != NULL ? series->dims[3] : 0;
  gsize n3;
  int ref;

  g_return_val_if_fail (series != NULL && rows_out != NULL, NULL);
  if (options == NULL)
    {
      cu_motion_options_init (&defaults);
      options = &defaults;
    }
  if (series->voxels == NULL || nt < 2)
    {
      g_set_error (error, CU_MOTION_ERROR, CU_MOTION_ERROR_INVALID,
                   _("Motion correction needs a series with several volumes (this one has %d)"), nt);
      return NULL;
    }
  ref = options->reference;
  if (ref < 0 || ref >= nt)
    {
      g_set_error (error, CU_MOTION_ERROR, CU_MOTION_ERROR_INVALID,
                   _("Reference volume %d is out of range (the series has %d volumes)"), ref + 1, nt);
      return NULL;
    }

  reg = cu_rigid_registration_new (series, ref, &options->rigid, cancellable, error);
  if (reg == NULL)
    return NULL;
  out = cu_volume_copy (series, TRUE);
  rows = g_array_sized_new (FALSE, TRUE, sizeof (CuMotionRow), nt);
  g_array_set_size (rows, nt);
  n3 = cu_volume_n_voxels_3d (series);

  /* Outward from the reference, so that each registration starts from its neighbour's. */
  for (int pass = 0; pass < 2; pass++)
    {
      int step = pass == 0 ? 1 : -1;
      int done_before = pass == 0 ? 0 : nt - ref;

      for (int t = ref + (pass == 0 ? 0 : -1); t >= 0 && t < nt; t += step)
        {
          CuMotionRow *row = &g_array_index (rows, CuMotionRow, t);
          int done = done_before + abs (t - ref) + (pass == 0 ? 0 : -1);
          double center[3];

          row->volume = t;
          cu_volume_get_center (series, center);
          if (t == ref)
            cu_rigid_transform_init (&row->transform, center);
          else
            {
              CuRigidResult result;
              const CuRigidTransform *start = &g_array_index (rows, CuMotionRow, t - step).transform;
              g_autoptr (CuProgress) sub = NULL;
              SubProgress sp = { progress, (double) done / nt, 1.0 / nt };

              sub = cu_progress_new (sub_progress, &sp);
              if (!cu_rigid_registration_run (reg, series, t, start, &result, sub, cancellable, error))
                return NULL;
              row->transform = result.transform;
              row->iterations = result.iterations;
            }
          cu_progress_report_count (progress, done + 1, nt, _("Registering volumes"));
        }
    }

  /* Resample every moved volume onto the reference grid, then the table. */
  for (int t = 0; t < nt; t++)
    {
      CuMotionRow *row = &g_array_index (rows, CuMotionRow, t);
      double m[12], identity[12];
      CuRigidTransform id;

      cu_rigid_transform_init (&id, row->transform.center);
      cu_rigid_transform_get_matrix (&row->transform, m);
      cu_rigid_transform_get_matrix (&id, identity);
      for (int k = 0; k < 3; k++)
        {
          row->translation_mm[k] = row->transform.translation[k];
          row->rotation_deg[k] = row->transform.angles[k] * 180.0 / G_PI;
        }
      row->displacement_mm = cu_affine_mean_displacement (m, identity, series, 2);
      row->fd_mm = t == 0 ? 0.0
                          : cu_rigid_transform_framewise_displacement (
                                &g_array_index (rows, CuMotionRow, t - 1).transform,
                                &row->transform, FD_RADIUS_MM);
      row->over_threshold = row->fd_mm > options->threshold_mm;

      if (t != ref)
        {
          g_autoptr (CuVolume) frame = frame_copy (series, t, error);
          g_autoptr (CuVolume) moved = NULL;

          if (frame == NULL)
            return NULL;
          moved = cu_resample_volume (frame, series, m, options->interpolation, 0.0f, cancellable,
                                      error);
          if (moved == NULL)
            return NULL;
          memcpy (out->voxels + (gsize) t * n3, moved->voxels, n3 * sizeof (float));
        }
    }
  cu_progress_report (progress, 1.0, NULL);
  *rows_out = g_steal_pointer (&rows);
  return g_steal_pointer (&out);
}

guint
cu_motion_table_n_flagged (GArray *rows)
{
  guint n = 0;

  for (guint i = 0; rows != NULL && i < rows->len; i++)
    n += g_array_index (rows, CuMotionRow, i).over_threshold ? 1 : 0;
  return n;
}

static void
add_vec (JsonBuilder *b, const char *name, const double *v, int n)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (int i = 0; i < n; i++)
    /* Rounded to what is meaningful (µm, µ°): keeps the JSON readable. */
    json_builder_add_double_value (b, round (v[i] * 1e6) / 1e6);
  json_builder_end_array (b);
}

JsonNode *
cu_rigid_transform_to_json (const CuRigidTransform *t)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  double deg[3], m[12];

  for (int k = 0; k < 3; k++)
    deg[k] = t->angles[k] * 180.0 / G_PI;
  cu_rigid_transform_get_matrix (t, m);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "rigid-euler-zyx");
  add_vec (b, "angles_deg", deg, 3);
  add_vec (b, "translation_mm", t->translation, 3);
  add_vec (b, "center_lps", t->center, 3);
  add_vec (b, "matrix", m, 12);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
cu_motion_table_to_json (GArray *rows, const CuMotionOptions *options)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  double max_fd = 0.0, sum_fd = 0.0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reference");
  json_builder_add_int_value (b, options->reference + 1);
  json_builder_set_member_name (b, "metric");
  json_builder_add_string_value (b, cu_rigid_metric_type_to_string (options->rigid.metric));
  json_builder_set_member_name (b, "threshold_mm");
  json_builder_add_double_value (b, options->threshold_mm);
  json_builder_set_member_name (b, "volumes");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    {
      const CuMotionRow *r = &g_array_index (rows, CuMotionRow, i);

      max_fd = MAX (max_fd, r->fd_mm);
      sum_fd += r->fd_mm;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "volume");
      json_builder_add_int_value (b, r->volume + 1);
      add_vec (b, "translation_mm", r->translation_mm, 3);
      add_vec (b, "rotation_deg", r->rotation_deg, 3);
      add_vec (b, "fd_mm", &r->fd_mm, 1);
      add_vec (b, "displacement_mm", &r->displacement_mm, 1);
      json_builder_set_member_name (b, "over_threshold");
      json_builder_add_boolean_value (b, r->over_threshold);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "flagged");
  json_builder_begin_array (b);
  for (guint i = 0; i < rows->len; i++)
    if (g_array_index (rows, CuMotionRow, i).over_threshold)
      json_builder_add_int_value (b, i + 1);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "max_fd_mm");
  json_builder_add_double_value (b, round (max_fd * 1e6) / 1e6);
  json_builder_set_member_name (b, "mean_fd_mm");
  json_builder_add_double_value (b, rows->len > 1 ? round (sum_fd / (rows->len - 1) * 1e6) / 1e6 : 0.0);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

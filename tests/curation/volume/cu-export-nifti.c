/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-export-nifti.c — test driver: DICOM files of one series → plan → main stack → NIfTI.
 *
 *   cu-export-nifti OUT.nii[.gz] FILE…
 *
 * Used by test-dcm2niix-agreement.py to compare Curata's export with dcm2niix on real series
 * without going through a workspace. Prints the plan (stacks, problems) as JSON on stdout.
 */
#include "config.h"

#include <curation.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (CuVolume) volume = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  GPtrArray *problems;
  guint main_stack;

  setlocale (LC_ALL, "");
  if (argc < 3)
    {
      g_printerr ("usage: %s OUT.nii[.gz] FILE…\n", argv[0]);
      return 2;
    }
  plan = cu_series_plan_new_from_files ((const char *const *) argv + 2, NULL, NULL, &error);
  if (plan == NULL)
    {
      g_printerr ("plan: %s\n", error->message);
      return 1;
    }
  main_stack = cu_series_plan_get_main_stack (plan);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "main_stack");
  json_builder_add_int_value (b, main_stack);
  json_builder_set_member_name (b, "stacks");
  json_builder_begin_array (b);
  for (guint s = 0; s < cu_series_plan_get_n_stacks (plan); s++)
    {
      const CuVolume *g = cu_series_plan_get_geometry (plan, s);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, cu_series_plan_get_stack_label (plan, s));
      json_builder_set_member_name (b, "dims");
      json_builder_begin_array (b);
      for (int d = 0; d < 4; d++)
        json_builder_add_int_value (b, g->dims[d]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "stored_type");
      json_builder_add_string_value (b, cu_pixel_type_to_string (g->stored_type));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  problems = cu_series_plan_get_problems (plan);
  for (guint i = 0; i < problems->len; i++)
    {
      CuGeometryProblem *p = g_ptr_array_index (problems, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "code");
      json_builder_add_string_value (b, p->code);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, p->message);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);

  volume = cu_series_plan_load (plan, main_stack, NULL, NULL, &error);
  if (volume == NULL)
    {
      g_printerr ("load: %s\n", error->message);
      return 1;
    }
  if (!cu_nifti_write (volume, argv[1], &error))
    {
      g_printerr ("write: %s\n", error->message);
      return 1;
    }
  return 0;
}

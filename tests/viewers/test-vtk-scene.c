/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-vtk-scene.c — the VTK 3D scene through its C header (this file is C: it proves the
 * header compiles in a C-only translation unit). Needs an X display (run under Xvfb); without
 * one only the no-display case runs and the rest is skipped.
 *
 * - a real CT series from $CU_SHARED_DICOM rendered with each preset is not blank, and a
 *   click on it picks a point inside the volume;
 * - a synthetic label sphere in an oblique, anisotropic volume is drawn where its LPS centre
 *   projects, and picking at that pixel returns a point of its surface within a voxel.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "cu-vtk-scene.h"

#define CT_SERIES "ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm"
#define SIZE 200

static CuVolume *
load_series (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *dir = g_build_filename (root ? root : "../shared/dicom", rel, NULL);
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = NULL;
  const char *name;
  CuVolume *vol;

  d = g_dir_open (dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_add (files, NULL);
  plan = cu_series_plan_new_from_files ((const char *const *) files->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  vol = cu_series_plan_load (plan, cu_series_plan_get_main_stack (plan), NULL, NULL, &error);
  g_assert_no_error (error);
  return vol;
}

static gboolean
have_display (void)
{
  const char *d = g_getenv ("DISPLAY");
  return d != NULL && *d != '\0';
}

/* Pixels that differ from the background's two corner colours by more than a few levels. */
static double
foreground_fraction (const guint8 *rgba, int w, int h)
{
  gsize n = 0;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = rgba + ((gsize) y * w + x) * 4;
        /* the background is a vertical gradient: compare with the left edge of the row */
        const guint8 *bg = rgba + (gsize) y * w * 4;
        int d = abs (p[0] - bg[0]) + abs (p[1] - bg[1]) + abs (p[2] - bg[2]);
        if (d > 24)
          n++;
      }
  return (double) n / ((double) w * h);
}

static void
test_no_display (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("DISPLAY"));
  g_autoptr (GError) error = NULL;
  CuVtkScene *scene;

  g_unsetenv ("DISPLAY");
  scene = cu_vtk_scene_new (&error);
  g_assert_null (scene);
  g_assert_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_NO_DISPLAY);
  if (saved != NULL)
    g_setenv ("DISPLAY", saved, TRUE);
}

static void
test_presets (void)
{
  CuVtkPreset p;

  for (int i = 0; i < CU_VTK_N_PRESETS; i++)
    {
      g_assert_true (cu_vtk_preset_from_string (cu_vtk_preset_to_string (i), &p));
      g_assert_cmpint (p, ==, i);
      g_assert_nonnull (cu_vtk_preset_get_title (i));
    }
  g_assert_false (cu_vtk_preset_from_string ("ct-lung", &p));
  g_assert_false (cu_vtk_preset_from_string (NULL, &p));
}

static void
test_real_series (void)
{
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (CuVtkScene) scene = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *full = g_malloc (SIZE * SIZE * 4);
  g_autofree guint8 *other = g_malloc (SIZE * SIZE * 4);
  double lps[3], ijk[3];

  if (!have_display ())
    {
      g_test_skip ("no X display");
      return;
    }
  vol = load_series (CT_SERIES);
  g_assert_cmpstr (vol->modality, ==, "CT");
  scene = cu_vtk_scene_new (&error);
  g_assert_no_error (error);
  g_assert_true (cu_vtk_scene_set_volume (scene, vol, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cu_vtk_preset_default_for (vol), ==, CU_VTK_PRESET_CT_SOFT_TISSUE);

  cu_vtk_scene_set_preset (scene, CU_VTK_PRESET_CT_BONE);
  g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, full, &error));
  g_assert_no_error (error);
  g_test_message ("CT bone, full: %.1f %% foreground", 100 * foreground_fraction (full, SIZE, SIZE));
  g_assert_cmpfloat (foreground_fraction (full, SIZE, SIZE), >, 0.05);

  /* The GL driver is known after a render; the GPU caster draws the head too (on software GL
   * full quality uses the CPU one). */
  {
    gboolean software;
    const char *gl = cu_vtk_scene_get_gl_renderer (scene, &software);
    g_assert_nonnull (gl);
    g_test_message ("GL renderer: %s (%s)", gl, software ? "software" : "hardware");
  }
  cu_vtk_scene_set_full_quality_mapper (scene, CU_VTK_MAPPER_GPU);
  g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, other, &error));
  g_assert_no_error (error);
  g_test_message ("CT bone, GPU: %.1f %% foreground", 100 * foreground_fraction (other, SIZE, SIZE));
  g_assert_cmpfloat (foreground_fraction (other, SIZE, SIZE), >, 0.05);
  cu_vtk_scene_set_full_quality_mapper (scene, CU_VTK_MAPPER_CPU);
  g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, other, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (foreground_fraction (other, SIZE, SIZE), >, 0.05);
  cu_vtk_scene_set_full_quality_mapper (scene, CU_VTK_MAPPER_AUTO);

  /* The cheap rendering shows the same head, with other pixels. */
  g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_INTERACTIVE, other, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (foreground_fraction (other, SIZE, SIZE), >, 0.05);

  for (int p = 0; p < CU_VTK_N_PRESETS; p++)
    {
      cu_vtk_scene_set_preset (scene, p);
      g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, other, &error));
      g_assert_no_error (error);
      g_test_message ("%s: %.1f %% foreground", cu_vtk_preset_to_string (p),
                      100 * foreground_fraction (other, SIZE, SIZE));
      g_assert_cmpfloat (foreground_fraction (other, SIZE, SIZE), >, 0.05);
    }

  /* A click in the middle of the head lands on the head: inside the volume's extent. */
  cu_vtk_scene_set_preset (scene, CU_VTK_PRESET_CT_BONE);
  g_assert_true (cu_vtk_scene_pick (scene, SIZE, SIZE, SIZE / 2.0, SIZE / 2.0, lps, &error));
  g_assert_no_error (error);
  cu_volume_lps_to_index (vol, lps, ijk);
  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat (ijk[c], >=, -1);
      g_assert_cmpfloat (ijk[c], <=, vol->dims[c]);
    }
  /* The corner of the image is background: nothing to pick. */
  g_assert_false (cu_vtk_scene_pick (scene, SIZE, SIZE, 1, 1, lps, &error));
  g_assert_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_NOT_FOUND);
}

/* A 40 × 36 × 24 volume, 1 × 1 × 2.5 mm, rotated 25° about the patient's z axis and 10° about
 * x, origin away from zero; the label sphere (radius 7 mm) is not at the volume's centre. */
static void
make_sphere (CuVolume **out_volume, CuVolume **out_labels, double centre[3], double *radius)
{
  g_autoptr (GError) error = NULL;
  CuVolume *vol = cu_volume_new (40, 36, 24, 1, TRUE, &error);
  CuVolume *lab;
  double a = 25 * G_PI / 180, b = 10 * G_PI / 180;
  double rz[9] = { cos (a), -sin (a), 0, sin (a), cos (a), 0, 0, 0, 1 };
  double rx[9] = { 1, 0, 0, 0, cos (b), -sin (b), 0, sin (b), cos (b) };
  double ijk_c[3] = { 23, 15, 13 };

  g_assert_no_error (error);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        double s = 0;
        for (int k = 0; k < 3; k++)
          s += rz[r * 3 + k] * rx[k * 3 + c];
        vol->direction[r * 3 + c] = s;
      }
  vol->spacing[0] = 1.0;
  vol->spacing[1] = 1.0;
  vol->spacing[2] = 2.5;
  vol->origin[0] = -31.5;
  vol->origin[1] = 12.25;
  vol->origin[2] = 80.0;
  vol->modality = g_strdup ("MR");
  lab = cu_volume_copy (vol, TRUE);
  cu_volume_index_to_lps (vol, ijk_c, centre);
  *radius = 7.0;
  for (int k = 0; k < 24; k++)
    for (int j = 0; j < 36; j++)
      for (int i = 0; i < 40; i++)
        {
          double p[3], d = 0;
          gsize idx = ((gsize) k * 36 + j) * 40 + i;

          cu_volume_index_to_lps (vol, (double[3]) { i, j, k }, p);
          for (int r = 0; r < 3; r++)
            d += (p[r] - centre[r]) * (p[r] - centre[r]);
          /* a faint, smooth MR-like background so the volume is not empty */
          vol->voxels[idx] = 100.0f + 20.0f * (float) (i % 7);
          lab->voxels[idx] = sqrt (d) <= *radius ? 1.0f : 0.0f;
        }
  *out_volume = vol;
  *out_labels = lab;
}

static void
test_label_sphere (void)
{
  g_autoptr (CuVolume) vol = NULL;
  g_autoptr (CuVolume) lab = NULL;
  g_autoptr (CuVtkScene) scene = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *rgba = g_malloc (SIZE * SIZE * 4);
  const double red[4] = { 1.0, 0.1, 0.1, 1.0 };
  double centre[3], radius, x, y, lps[3], sx = 0, sy = 0, n = 0;
  double voxel_diag = sqrt (1.0 + 1.0 + 2.5 * 2.5);

  if (!have_display ())
    {
      g_test_skip ("no X display");
      return;
    }
  make_sphere (&vol, &lab, centre, &radius);
  scene = cu_vtk_scene_new (&error);
  g_assert_no_error (error);
  g_assert_true (cu_vtk_scene_set_volume (scene, vol, 0, &error));
  g_assert_true (cu_vtk_scene_set_label_map (scene, lab, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cu_vtk_scene_get_label_n_triangles (scene), >, 100);
  cu_vtk_scene_set_label_color (scene, 1, red);
  /* Only the surface: the volume would hide it. */
  cu_vtk_scene_set_volume_visible (scene, FALSE);

  for (int view = CU_VTK_VIEW_ANTERIOR; view <= CU_VTK_VIEW_SUPERIOR; view++)
    {
      cu_vtk_scene_reset_camera (scene, view);
      if (view == CU_VTK_VIEW_SUPERIOR)
        cu_vtk_scene_rotate (scene, 30, 20);   /* an arbitrary angle as well */
      g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, rgba, &error));
      g_assert_no_error (error);

      /* Where the sphere is drawn: the centroid of the red pixels. */
      sx = sy = n = 0;
      for (int py = 0; py < SIZE; py++)
        for (int px = 0; px < SIZE; px++)
          {
            const guint8 *p = rgba + ((gsize) py * SIZE + px) * 4;
            if (p[0] > 60 && p[0] > 2 * p[1] && p[0] > 2 * p[2])
              {
                sx += px + 0.5;
                sy += py + 0.5;
                n++;
              }
          }
      cu_vtk_scene_project (scene, SIZE, SIZE, centre, &x, &y);
      g_test_message ("view %d: centre projects to (%.1f, %.1f), red centroid (%.1f, %.1f) of %.0f px",
                      view, x, y, sx / n, sy / n, n);
      g_assert_cmpfloat (n, >, 200);
      g_assert_cmpfloat (fabs (sx / n - x), <, 3.0);
      g_assert_cmpfloat (fabs (sy / n - y), <, 3.0);
      {
        const guint8 *p = rgba + ((gsize) lround (y) * SIZE + lround (x)) * 4;
        g_assert_cmpint (p[0], >, 2 * p[1]);
      }

      /* Picking at the centre's pixel hits the front of the sphere: a surface point (radius
       * from the centre, within a voxel) on the line of sight through the centre. */
      g_assert_true (cu_vtk_scene_pick (scene, SIZE, SIZE, x, y, lps, &error));
      g_assert_no_error (error);
      {
        double d = sqrt ((lps[0] - centre[0]) * (lps[0] - centre[0])
                         + (lps[1] - centre[1]) * (lps[1] - centre[1])
                         + (lps[2] - centre[2]) * (lps[2] - centre[2]));
        double px, py;

        g_test_message ("picked (%.2f, %.2f, %.2f), %.2f mm from the centre", lps[0], lps[1], lps[2], d);
        g_assert_cmpfloat (fabs (d - radius), <, voxel_diag);
        cu_vtk_scene_project (scene, SIZE, SIZE, lps, &px, &py);
        g_assert_cmpfloat (fabs (px - x), <, 1.0);
        g_assert_cmpfloat (fabs (py - y), <, 1.0);
      }
    }

  /* Anterior view: the picked point is the sphere's anterior pole (smaller y). */
  cu_vtk_scene_reset_camera (scene, CU_VTK_VIEW_ANTERIOR);
  cu_vtk_scene_project (scene, SIZE, SIZE, centre, &x, &y);
  g_assert_true (cu_vtk_scene_pick (scene, SIZE, SIZE, x, y, lps, &error));
  g_assert_cmpfloat (fabs (lps[1] - (centre[1] - radius)), <, voxel_diag);
  g_assert_cmpfloat (fabs (lps[0] - centre[0]), <, 1.0);
  g_assert_cmpfloat (fabs (lps[2] - centre[2]), <, 1.0);

  /* The patient's left (+x) is drawn on the viewer's right in the anterior view. */
  {
    double lx, ly, rx, ry;
    double left[3] = { centre[0] + 10, centre[1], centre[2] };
    double right[3] = { centre[0] - 10, centre[1], centre[2] };
    cu_vtk_scene_project (scene, SIZE, SIZE, left, &lx, &ly);
    cu_vtk_scene_project (scene, SIZE, SIZE, right, &rx, &ry);
    g_assert_cmpfloat (lx, >, rx);
  }
  /* The orientation marker agrees: L to the right, S up, P into the screen. */
  {
    double axes[3][2];
    cu_vtk_scene_get_screen_axes (scene, axes);
    g_assert_cmpfloat (fabs (axes[0][0] - 1), <, 1e-6);
    g_assert_cmpfloat (fabs (axes[0][1]), <, 1e-6);
    g_assert_cmpfloat (fabs (axes[2][1] + 1), <, 1e-6);
    g_assert_cmpfloat (hypot (axes[1][0], axes[1][1]), <, 1e-6);
  }

  /* The slice planes through the sphere's centre (as the MPR shows them by default) leave
   * the surface visible: most of its pixels stay red, the centre pixel too. */
  {
    double n_alone = n, red_px = 0;

    g_assert_cmpfloat (cu_vtk_scene_get_plane_opacity (scene), <, 0.5);
    cu_vtk_scene_set_planes (scene, TRUE, centre, 200, 100);
    cu_vtk_scene_reset_camera (scene, CU_VTK_VIEW_ANTERIOR);
    g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, rgba, &error));
    for (int py = 0; py < SIZE; py++)
      for (int px = 0; px < SIZE; px++)
        {
          const guint8 *p = rgba + ((gsize) py * SIZE + px) * 4;
          red_px += p[0] > 60 && p[0] > 1.5 * p[1] && p[0] > 1.5 * p[2];
        }
    cu_vtk_scene_project (scene, SIZE, SIZE, centre, &x, &y);
    g_test_message ("with planes: %.0f red px (%.0f without)", red_px, n_alone);
    g_assert_cmpfloat (red_px, >, 0.5 * n_alone);
    {
      const guint8 *p = rgba + ((gsize) lround (y) * SIZE + lround (x)) * 4;
      g_assert_cmpint (p[0], >, 1.5 * p[1]);
    }
    cu_vtk_scene_set_planes (scene, FALSE, centre, 200, 100);
  }

  /* Removing the labels removes the surface, and the planes are opaque again. */
  g_assert_true (cu_vtk_scene_set_label_map (scene, NULL, &error));
  g_assert_cmpfloat (cu_vtk_scene_get_plane_opacity (scene), ==, 1.0);
  g_assert_cmpuint (cu_vtk_scene_get_label_n_triangles (scene), ==, 0);
  g_assert_true (cu_vtk_scene_render (scene, SIZE, SIZE, CU_VTK_QUALITY_FULL, rgba, &error));
  g_assert_cmpfloat (foreground_fraction (rgba, SIZE, SIZE), <, 0.001);
}

static void
test_bad_input (void)
{
  g_autoptr (CuVtkScene) scene = NULL;
  g_autoptr (CuVolume) geometry_only = NULL;
  g_autoptr (GError) error = NULL;
  guint8 px[4];

  if (!have_display ())
    {
      g_test_skip ("no X display");
      return;
    }
  scene = cu_vtk_scene_new (&error);
  g_assert_no_error (error);
  geometry_only = cu_volume_new (4, 4, 4, 1, FALSE, &error);
  g_assert_false (cu_vtk_scene_set_volume (scene, geometry_only, 0, &error));
  g_assert_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_vtk_scene_render (scene, 0, 10, CU_VTK_QUALITY_FULL, px, &error));
  g_assert_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_INVALID);
  g_clear_error (&error);
  /* An empty scene renders (the background) and picks nothing. */
  g_assert_true (cu_vtk_scene_render (scene, 1, 1, CU_VTK_QUALITY_FULL, px, &error));
  g_assert_no_error (error);
  g_assert_false (cu_vtk_scene_pick (scene, 1, 1, 0.5, 0.5, (double[3]) { 0 }, &error));
  g_assert_error (error, CU_VTK_SCENE_ERROR, CU_VTK_SCENE_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/viewers/vtk-scene/no-display", test_no_display);
  g_test_add_func ("/viewers/vtk-scene/presets", test_presets);
  g_test_add_func ("/viewers/vtk-scene/bad-input", test_bad_input);
  g_test_add_func ("/viewers/vtk-scene/real-series", test_real_series);
  g_test_add_func ("/viewers/vtk-scene/label-sphere", test_label_sphere);
  return g_test_run ();
}

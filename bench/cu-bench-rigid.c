/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-rigid.c — rigid registration: Curata against elastix and MRtrix3's mrregister on
 * the same workload, in one run.
 *
 *   build/bench/cu-bench-rigid [--runs N]
 *
 * Workload: a 256 × 256 × 64 phantom (1 × 1 × 2 mm voxels: nested ellipsoids of different
 * intensities with smooth edges and a texture, 1 % noise) and a copy moved by rotations of
 * 5°, 3°, 2° about L, P, S and a translation of (4, −3, 2) mm, resampled with cubic B-splines.
 * Both are written as NIfTI for the reference tools. Each tool registers moving onto fixed;
 * the accuracy is the mean distance, over every voxel of the fixed grid, between the found and
 * the known transform. Times are wall-clock, including each tool's reading of the images
 * (Curata's registration runs in-process on the volumes; the phantom is built beforehand).
 *
 * elastix runs with a standard rigid parameter file (EulerTransform, Mattes mutual information,
 * adaptive stochastic gradient descent, 4 resolutions, written below); mrregister with
 * -type rigid and its defaults. A tool that is not installed is reported as such.
 */
#include "config.h"

#include <curation.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "cu-resample.h"

#define DEG (G_PI / 180.0)

static const char elastix_parameters[] =
  "(FixedInternalImagePixelType \"float\")\n"
  "(MovingInternalImagePixelType \"float\")\n"
  "(FixedImageDimension 3)\n"
  "(MovingImageDimension 3)\n"
  "(UseDirectionCosines \"true\")\n"
  "(Registration \"MultiResolutionRegistration\")\n"
  "(Interpolator \"BSplineInterpolator\")\n"
  "(ResampleInterpolator \"FinalBSplineInterpolator\")\n"
  "(Resampler \"DefaultResampler\")\n"
  "(FixedImagePyramid \"FixedSmoothingImagePyramid\")\n"
  "(MovingImagePyramid \"MovingSmoothingImagePyramid\")\n"
  "(Optimizer \"AdaptiveStochasticGradientDescent\")\n"
  "(Transform \"EulerTransform\")\n"
  "(Metric \"AdvancedMattesMutualInformation\")\n"
  "(AutomaticScalesEstimation \"true\")\n"
  "(AutomaticTransformInitialization \"true\")\n"
  "(HowToCombineTransforms \"Compose\")\n"
  "(NumberOfHistogramBins 32)\n"
  "(ErodeMask \"false\")\n"
  "(NumberOfResolutions 4)\n"
  "(MaximumNumberOfIterations 250)\n"
  "(NumberOfSpatialSamples 2048)\n"
  "(NewSamplesEveryIteration \"true\")\n"
  "(ImageSampler \"Random\")\n"
  "(BSplineInterpolationOrder 1)\n"
  "(FinalBSplineInterpolationOrder 3)\n"
  "(DefaultPixelValue 0)\n"
  "(WriteResultImage \"false\")\n"
  "(ResultImagePixelType \"float\")\n"
  "(ResultImageFormat \"nii\")\n";

static double
smoothstep_inside (double r)
{
  /* 1 inside (r < 1), 0 outside, over a soft edge of about 2 mm at the phantom's scale. */
  return 1.0 / (1.0 + exp ((r - 1.0) * 40.0));
}

static CuVolume *
make_phantom (void)
{
  g_autoptr (GError) error = NULL;
  CuVolume *v = cu_volume_new (256, 256, 64, 1, TRUE, &error);
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  struct { double c[3], r[3], value; } blobs[] = {
    { { 0, 0, 0 }, { 100, 115, 55 }, 400 },
    { { 0, 0, 0 }, { 90, 105, 48 }, 300 },
    { { -30, 10, 5 }, { 25, 40, 20 }, 700 },
    { { 35, -5, -8 }, { 20, 30, 18 }, 150 },
    { { 5, -50, 10 }, { 15, 12, 10 }, 900 },
    { { 10, 45, -15 }, { 30, 15, 12 }, 550 },
  };

  g_assert_no_error (error);
  v->spacing[2] = 2.0;
  v->origin[0] = -127.5;
  v->origin[1] = -127.5;
  v->origin[2] = -63.0;
  for (int k = 0; k < 64; k++)
    for (int j = 0; j < 256; j++)
      for (int i = 0; i < 256; i++)
        {
          double ijk[3] = { i, j, k }, p[3], value = 0.0;

          cu_volume_index_to_lps (v, ijk, p);
          for (guint b = 0; b < G_N_ELEMENTS (blobs); b++)
            {
              double r = 0.0;
              for (int c = 0; c < 3; c++)
                r += pow ((p[c] - blobs[b].c[c]) / blobs[b].r[c], 2);
              r = sqrt (r);
              value = value * (1 - smoothstep_inside (r)) + blobs[b].value * smoothstep_inside (r);
            }
          /* texture inside the body */
          value *= 1.0 + 0.15 * sin (p[0] / 7.0) * cos (p[1] / 9.0) * sin (p[2] / 5.0 + 1.0);
          value += 6.0 * g_rand_double_range (rand, -1.0, 1.0);
          v->voxels[((gsize) k * 256 + j) * 256 + i] = (float) value;
        }
  return v;
}

/* ITK/elastix Euler3DTransform (ComputeZYX false): R = Rz·Rx·Ry. */
static void
itk_euler_matrix (const double p[6], const double c[3], double m[12])
{
  double cx = cos (p[0]), sx = sin (p[0]), cy = cos (p[1]), sy = sin (p[1]);
  double cz = cos (p[2]), sz = sin (p[2]);
  double rx[9] = { 1, 0, 0, 0, cx, -sx, 0, sx, cx };
  double ry[9] = { cy, 0, sy, 0, 1, 0, -sy, 0, cy };
  double rz[9] = { cz, -sz, 0, sz, cz, 0, 0, 0, 1 };
  double t[9], r[9];

  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++)
      t[a * 3 + b] = rz[a * 3] * rx[b] + rz[a * 3 + 1] * rx[3 + b] + rz[a * 3 + 2] * rx[6 + b];
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++)
      r[a * 3 + b] = t[a * 3] * ry[b] + t[a * 3 + 1] * ry[3 + b] + t[a * 3 + 2] * ry[6 + b];
  for (int a = 0; a < 3; a++)
    {
      m[a * 4] = r[a * 3];
      m[a * 4 + 1] = r[a * 3 + 1];
      m[a * 4 + 2] = r[a * 3 + 2];
      m[a * 4 + 3] = c[a] + p[3 + a] - (r[a * 3] * c[0] + r[a * 3 + 1] * c[1] + r[a * 3 + 2] * c[2]);
    }
}

static gboolean
read_doubles_after (const char *text, const char *key, double *out, int n)
{
  const char *p = strstr (text, key);

  if (p == NULL)
    return FALSE;
  p += strlen (key);
  for (int i = 0; i < n; i++)
    {
      char *end;
      out[i] = g_ascii_strtod (p, &end);
      if (end == p)
        return FALSE;
      p = end;
    }
  return TRUE;
}

/* CPU seconds (user + system) of this process or of its waited-for children: on a shared,
 * busy machine wall-clock times vary several-fold, CPU time much less. */
static double
cpu_seconds (int who)
{
  struct rusage u;

  getrusage (who, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}

static double last_cpu;

static gboolean
run (char **argv, double *seconds)
{
  double cpu0 = cpu_seconds (RUSAGE_CHILDREN);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status;
  gint64 start = g_get_monotonic_time ();

  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status,
                     &error))
    {
      fprintf (stderr, "  %s: %s\n", argv[0], error->message);
      return FALSE;
    }
  *seconds = (g_get_monotonic_time () - start) / 1e6;
  last_cpu = cpu_seconds (RUSAGE_CHILDREN) - cpu0;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      fprintf (stderr, "  %s failed:\n%s\n", argv[0], err);
      return FALSE;
    }
  return TRUE;
}

static void
report (const char *tool, double seconds, double cpu, double error_mm)
{
  printf ("  %-32s %7.2f s wall %7.2f s CPU   mean displacement error %.4f mm\n", tool, seconds,
          cpu, error_mm);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) fixed = NULL;
  g_autoptr (CuVolume) moving = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cu-bench-rigid-XXXXXX", &error);
  g_autofree char *fixed_path = NULL, *moving_path = NULL, *params = NULL;
  CuRigidTransform truth;
  double truth_m[12], inv[12], center[3];
  const double deg[3] = { 5, 3, 2 }, mm[3] = { 4, -3, 2 };
  int runs = argc > 2 && strcmp (argv[1], "--runs") == 0 ? MAX (1, atoi (argv[2])) : 1;

  g_assert_no_error (error);
  fixed = make_phantom ();
  cu_volume_get_center (fixed, center);
  cu_rigid_transform_init (&truth, center);
  for (int k = 0; k < 3; k++)
    {
      truth.angles[k] = deg[k] * DEG;
      truth.translation[k] = mm[k];
    }
  cu_rigid_transform_get_matrix (&truth, truth_m);
  cu_affine_invert (truth_m, inv);
  moving = cu_resample_volume (fixed, fixed, inv, CU_INTERPOLATION_BSPLINE, 0.0f, NULL, &error);
  g_assert_no_error (error);

  fixed_path = g_build_filename (dir, "fixed.nii", NULL);
  moving_path = g_build_filename (dir, "moving.nii", NULL);
  params = g_build_filename (dir, "rigid.txt", NULL);
  if (!cu_nifti_write (fixed, fixed_path, &error) || !cu_nifti_write (moving, moving_path, &error)
      || !g_file_set_contents (params, elastix_parameters, -1, &error))
    {
      fprintf (stderr, "cu-bench-rigid: %s\n", error->message);
      return 1;
    }

  printf ("Rigid registration, 256×256×64 phantom (1×1×2 mm), moved by 5°/3°/2° and 4/−3/2 mm; "
          "%u threads, best of %d run(s)\n", cu_resample_default_threads (), runs);

  for (int metric = 0; metric < 3; metric++)
    {
      CuRigidMetricType type = metric == 0 ? CU_RIGID_METRIC_NCC
                               : metric == 1 ? CU_RIGID_METRIC_MEAN_SQUARES
                                             : CU_RIGID_METRIC_MATTES_MI;
      double best = G_MAXDOUBLE, err = 0.0, cpu = G_MAXDOUBLE;

      for (int r = 0; r < runs; r++)
        {
          double cpu0 = cpu_seconds (RUSAGE_SELF);
          CuRigidOptions options;
          CuRigidResult result;
          double m[12], s;
          gint64 start = g_get_monotonic_time ();

          cu_rigid_options_init (&options, type);
          if (!cu_rigid_register (fixed, 0, moving, 0, &options, &result, NULL, NULL, &error))
            {
              fprintf (stderr, "cu-bench-rigid: %s\n", error->message);
              return 1;
            }
          s = (g_get_monotonic_time () - start) / 1e6;
          cu_rigid_transform_get_matrix (&result.transform, m);
          err = cu_affine_mean_displacement (m, truth_m, fixed, 1);
          best = MIN (best, s);
          cpu = MIN (cpu, cpu_seconds (RUSAGE_SELF) - cpu0);
        }
      {
        g_autofree char *name = g_strdup_printf ("Curata (%s)", cu_rigid_metric_type_to_string (type));
        report (name, best, cpu, err);
      }
    }

  /* elastix */
  {
    g_autofree char *out_dir = g_build_filename (dir, "elastix", NULL);
    g_autofree char *tp_path = g_build_filename (out_dir, "TransformParameters.0.txt", NULL);
    char *args[] = { "elastix", "-f", fixed_path, "-m", moving_path, "-p", params, "-out", out_dir,
                     "-threads", "2", NULL };
    double best = G_MAXDOUBLE, s, err = -1, cpu = G_MAXDOUBLE;

    g_mkdir_with_parents (out_dir, 0755);
    for (int r = 0; r < runs; r++)
      if (run (args, &s))
        {
          best = MIN (best, s);
          cpu = MIN (cpu, last_cpu);
        }
    if (best < G_MAXDOUBLE)
      {
        g_autofree char *text = NULL;
        double p[6], c[3], m[12];

        if (g_file_get_contents (tp_path, &text, NULL, NULL)
            && read_doubles_after (text, "(TransformParameters", p, 6)
            && read_doubles_after (text, "(CenterOfRotationPoint", c, 3))
          {
            itk_euler_matrix (p, c, m);
            err = cu_affine_mean_displacement (m, truth_m, fixed, 1);
          }
        report ("elastix (Euler, MI, 4 levels)", best, cpu, err);
      }
    else
      printf ("  elastix: not available\n");
  }

  /* MRtrix3 mrregister: the transform maps template (image2) points to moving points, in
   * RAS scanner coordinates (as mrtransform -linear expects). */
  {
    g_autofree char *out = g_build_filename (dir, "mrregister.txt", NULL);
    char *args[] = { "mrregister", moving_path, fixed_path, "-type", "rigid", "-rigid", out,
                     "-nthreads", "2", "-force", "-quiet", NULL };
    double best = G_MAXDOUBLE, s, err = -1, cpu = G_MAXDOUBLE;

    for (int r = 0; r < runs; r++)
      if (run (args, &s))
        {
          best = MIN (best, s);
          cpu = MIN (cpu, last_cpu);
        }
    if (best < G_MAXDOUBLE)
      {
        g_autofree char *text = NULL;
        double ras[16], m[12];
        int n = 0;

        if (g_file_get_contents (out, &text, NULL, NULL))
          {
            g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
            for (int l = 0; lines[l] != NULL && n < 12; l++)
              {
                const char *p = lines[l];
                if (p[0] == '#' || p[0] == '\0')
                  continue;
                while (n < 16)
                  {
                    char *end;
                    double v = g_ascii_strtod (p, &end);
                    if (end == p)
                      break;
                    ras[n++] = v;
                    p = end;
                  }
              }
          }
        if (n >= 12)
          {
            /* LPS = F·RAS with F = diag(−1, −1, 1): M_lps = F·M_ras·F. */
            const double f[3] = { -1, -1, 1 };
            for (int a = 0; a < 3; a++)
              {
                for (int b = 0; b < 3; b++)
                  m[a * 4 + b] = f[a] * ras[a * 4 + b] * f[b];
                m[a * 4 + 3] = f[a] * ras[a * 4 + 3];
              }
            err = cu_affine_mean_displacement (m, truth_m, fixed, 1);
          }
        report ("MRtrix3 mrregister (rigid)", best, cpu, err);
      }
    else
      printf ("  mrregister: not available\n");
  }

  {
    char *rm[] = { "rm", "-rf", dir, NULL };
    g_spawn_sync (NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
  }
  return 0;
}

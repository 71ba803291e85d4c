/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-bench-denoise.c — the denoising benchmark's phantom and Curata's side of it.
 *
 *   cu-bench-denoise [--sigma-scale S1,S2,…] OUTDIR [NX NY NZ] [PATCH SEARCH STRENGTH]
 *
 * Writes OUTDIR/clean.nii (MR-like phantom, maximum 1000, 1×1×2 mm voxels),
 * OUTDIR/noisy.nii (Rician noise, sigma = 5 % of the maximum, fixed seed) and
 * OUTDIR/curata-nlm.nii (Curata's non-local means with the noise sigma estimated from the
 * image), and prints one JSON line: filter time (s, wall and CPU), estimated sigma, PSNR and SSIM as
 * computed by libcurata. bench/bench-denoise.py runs it and compares with DIPY and scikit-image.
 * --sigma-scale runs the filter once per factor with the estimated sigma multiplied by it (how
 * much a few % of error in the noise estimate costs), writing OUTDIR/curata-nlm-S.nii and one
 * JSON line each; factor 1 is the plain run (curata-nlm.nii).
 *
 * The phantom (cu_phantom_new_head(), curation/denoise/cu-phantom.c) is a synthetic T1-like head
 * of nested ellipsoids: scalp 0.55, skull 0.12, CSF 0.30, grey matter 0.62 and white matter 0.80
 * (of the maximum), the grey/white boundary made wavy like gyri, two ventricles 0.28 and five
 * spherical lesions from 2.5 to 6 % of the field of view (three bright, two dark), under a smooth
 * multiplicative bias field of 0.9–1.0, in air of value 0 (55 % of the voxels). The layers
 * between air and brain are 5–8 voxels thick, so edges matter as much as flat regions. At
 * sigma = 50 the skull is at about 2σ and the CSF at 6σ: the low-SNR regime where the Rician
 * bias and its correction show.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <json-glib/json-glib.h>

#include "curation.h"
#include "cu-nlm.h"
#include "cu-noise-estimate.h"
#include "cu-phantom.h"
#include "cu-parallel.h"

/* CPU seconds of the process, all threads: on a shared machine the wall time depends on the
 * other work, this does not. */
static double
cpu_seconds (void)
{
  struct rusage r;

  getrusage (RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec + r.ru_utime.tv_usec / 1e6 + r.ru_stime.tv_sec + r.ru_stime.tv_usec / 1e6;
}

int
main (int argc, char **argv)
{
  const double spacing[3] = { 1.0, 1.0, 2.0 };
  int nx = 256, ny = 256, nz = 64;
  g_autoptr (CuVolume) clean = NULL, noisy = NULL, out = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *p_clean = NULL, *p_noisy = NULL, *p_out = NULL;
  CuNlmParams params;
  CuNoiseEstimate est;
  double sigma_used = 0;
  g_auto (GStrv) scales = NULL;
  gint64 t0, t1;
  double c0, c1;

  if (argc >= 3 && strcmp (argv[1], "--sigma-scale") == 0)
    {
      scales = g_strsplit (argv[2], ",", -1);
      argc -= 2;
      argv += 2;
    }
  else
    scales = g_strsplit ("1", ",", -1);
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s [--sigma-scale S1,S2,…] OUTDIR [NX NY NZ] [PATCH SEARCH STRENGTH]\n",
               argv[0]);
      return 1;
    }
  if (argc >= 5)
    {
      nx = atoi (argv[2]);
      ny = atoi (argv[3]);
      nz = atoi (argv[4]);
    }
  cu_nlm_params_init (&params);
  if (argc >= 8)
    {
      params.patch_radius = atoi (argv[5]);
      params.search_radius = atoi (argv[6]);
      params.strength = g_ascii_strtod (argv[7], NULL);
    }

  clean = cu_phantom_new_head (nx, ny, nz, spacing, 1000.0, &error);
  if (clean == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  noisy = cu_phantom_add_noise (clean, 50.0, TRUE, 20261201);
  p_clean = g_build_filename (argv[1], "clean.nii", NULL);
  p_noisy = g_build_filename (argv[1], "noisy.nii", NULL);
  if (!cu_nifti_write (clean, p_clean, &error) || !cu_nifti_write (noisy, p_noisy, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }

  for (int i = 0; scales[i] != NULL; i++)
    {
      double scale = g_ascii_strtod (scales[i], NULL);

      if (!(scale > 0))
        {
          fprintf (stderr, "invalid sigma scale %s\n", scales[i]);
          return 1;
        }
      /* Timed as a user would run it: noise estimation included. */
      t0 = g_get_monotonic_time ();
      c0 = cpu_seconds ();
      if (!cu_noise_estimate (noisy, 0, TRUE, &est, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 2;
        }
      params.sigma = est.sigma * scale;
      g_clear_pointer (&out, cu_volume_unref);
      out = cu_nlm_filter (noisy, &params, &sigma_used, NULL, NULL, &error);
      t1 = g_get_monotonic_time ();
      c1 = cpu_seconds ();
      g_free (p_out);
      if (scale == 1.0)
        p_out = g_build_filename (argv[1], "curata-nlm.nii", NULL);
      else
        {
          g_autofree char *name = g_strdup_printf ("curata-nlm-%s.nii", scales[i]);
          p_out = g_build_filename (argv[1], name, NULL);
        }
      if (out == NULL || !cu_nifti_write (out, p_out, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 2;
        }
      {
        /* One JSON object per line, through json-glib: numbers never follow LC_NUMERIC. */
        g_autoptr (JsonBuilder) b = json_builder_new ();
        g_autoptr (JsonGenerator) gen = json_generator_new ();
        g_autoptr (JsonNode) root = NULL;
        g_autofree char *line = NULL;

        json_builder_begin_object (b);
        json_builder_set_member_name (b, "sigma_scale");
        json_builder_add_string_value (b, scales[i]);
        json_builder_set_member_name (b, "file");
        json_builder_add_string_value (b, p_out);
        json_builder_set_member_name (b, "time_s");
        json_builder_add_double_value (b, (t1 - t0) / 1e6);
        json_builder_set_member_name (b, "cpu_s");
        json_builder_add_double_value (b, c1 - c0);
        json_builder_set_member_name (b, "sigma");
        json_builder_add_double_value (b, sigma_used);
        json_builder_set_member_name (b, "sigma_estimated");
        json_builder_add_double_value (b, est.sigma);
        json_builder_set_member_name (b, "sigma_wavelet");
        json_builder_add_double_value (b, est.sigma_wavelet);
        json_builder_set_member_name (b, "sigma_background");
        json_builder_add_double_value (b, est.sigma_background);
        json_builder_set_member_name (b, "noise_power");
        json_builder_add_double_value (b, cu_nlm_noise_power (noisy, 0, params.sigma));
        json_builder_set_member_name (b, "patch_radius");
        json_builder_add_int_value (b, params.patch_radius);
        json_builder_set_member_name (b, "search_radius");
        json_builder_add_int_value (b, params.search_radius);
        json_builder_set_member_name (b, "strength");
        json_builder_add_double_value (b, params.strength);
        json_builder_set_member_name (b, "threads");
        json_builder_add_int_value (b, cu_parallel_default_threads ());
        json_builder_set_member_name (b, "psnr");
        json_builder_add_double_value (b, cu_image_psnr (clean, out));
        json_builder_set_member_name (b, "ssim_2d");
        json_builder_add_double_value (b, cu_image_ssim (clean, out));
        json_builder_set_member_name (b, "noisy_psnr");
        json_builder_add_double_value (b, cu_image_psnr (clean, noisy));
        json_builder_end_object (b);
        root = json_builder_get_root (b);
        json_generator_set_root (gen, root);
        line = json_generator_to_data (gen, NULL);
        printf ("%s\n", line);
      }
      fflush (stdout);
    }
  return 0;
}

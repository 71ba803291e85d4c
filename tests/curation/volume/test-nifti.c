/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-nifti.c — NIfTI-1 write/read round trips and the header fields other readers rely on.
 */
#include "config.h"

#include <curation.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <zlib.h>

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("cu-nifti-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  GDir *d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (f->dir, name, NULL);
      g_unlink (p);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* An oblique volume: rotation of 25° about z then 40° about x, anisotropic voxels. */
static CuVolume *
make_volume (int nx, int ny, int nz, int nt, CuPixelType stored)
{
  g_autoptr (GError) error = NULL;
  CuVolume *v = cu_volume_new (nx, ny, nz, nt, TRUE, &error);
  double a = 25 * G_PI / 180, b = 40 * G_PI / 180;
  double rz[9] = { cos (a), -sin (a), 0, sin (a), cos (a), 0, 0, 0, 1 };
  double rx[9] = { 1, 0, 0, 0, cos (b), -sin (b), 0, sin (b), cos (b) };

  g_assert_no_error (error);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 3; c++)
      {
        double s = 0;
        for (int k = 0; k < 3; k++)
          s += rx[r * 3 + k] * rz[k * 3 + c];
        v->direction[r * 3 + c] = s;
      }
  v->spacing[0] = 0.75;
  v->spacing[1] = 0.8;
  v->spacing[2] = 2.5;
  v->origin[0] = -101.25;
  v->origin[1] = 37.5;
  v->origin[2] = -12.125;
  v->stored_type = stored;
  return v;
}

static void
assert_same_geometry (const CuVolume *a, const CuVolume *b)
{
  for (int d = 0; d < 4; d++)
    g_assert_cmpint (a->dims[d], ==, b->dims[d]);
  for (int i = 0; i < 3; i++)
    {
      g_assert_cmpfloat_with_epsilon (a->spacing[i], b->spacing[i], 1e-5);
      g_assert_cmpfloat_with_epsilon (a->origin[i], b->origin[i], 1e-4);
    }
  for (int i = 0; i < 9; i++)
    g_assert_cmpfloat_with_epsilon (a->direction[i], b->direction[i], 1e-5);
}

static void
assert_same_voxels (const CuVolume *a, const CuVolume *b)
{
  gsize n = cu_volume_n_voxels_3d (a) * (gsize) a->dims[3];

  g_assert_cmpmem (a->voxels, n * sizeof (float), b->voxels, n * sizeof (float));
}

/* Raw header bytes of a written file (through zlib, which reads plain files too). */
static void
read_raw_header (const char *path, guint8 out[352])
{
  gzFile gz = gzopen (path, "rb");

  g_assert_nonnull (gz);
  g_assert_cmpint (gzread (gz, out, 352), ==, 352);
  gzclose (gz);
}

static gint16
get_i16 (const guint8 *h, int off)
{
  return (gint16) (h[off] | (h[off + 1] << 8));
}

static float
get_f32 (const guint8 *h, int off)
{
  guint32 u = h[off] | (h[off + 1] << 8) | (h[off + 2] << 16) | ((guint32) h[off + 3] << 24);
  float f;

  memcpy (&f, &u, 4);
  return f;
}

static void
roundtrip_int16 (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) v = make_volume (7, 5, 4, 1, CU_PIXEL_INT16);
  g_autoptr (CuVolume) back = NULL;
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  guint8 h[352];
  gsize n = cu_volume_n_voxels_3d (v);

  for (gsize i = 0; i < n; i++)
    v->voxels[i] = (float) ((gint) (i * 37 % 3001) - 1500);
  g_assert_true (cu_nifti_write (v, path, &error));
  g_assert_no_error (error);
  back = cu_nifti_read (path, &error);
  g_assert_no_error (error);
  assert_same_geometry (v, back);
  assert_same_voxels (v, back);
  g_assert_cmpint (back->stored_type, ==, CU_PIXEL_INT16);

  read_raw_header (path, h);
  g_assert_cmpint (h[0] | (h[1] << 8), ==, 348);
  g_assert_cmpint (get_i16 (h, 40), ==, 3);        /* dim[0] */
  g_assert_cmpint (get_i16 (h, 42), ==, 7);
  g_assert_cmpint (get_i16 (h, 70), ==, 4);        /* datatype int16 */
  g_assert_cmpint (get_i16 (h, 72), ==, 16);       /* bitpix */
  g_assert_cmpfloat (get_f32 (h, 108), ==, 352.0f); /* vox_offset */
  g_assert_cmpint (h[123], ==, 2 | 8);             /* xyzt_units: mm, s */
  g_assert_cmpint (get_i16 (h, 252), ==, 1);       /* qform_code */
  g_assert_cmpint (get_i16 (h, 254), ==, 1);       /* sform_code */
  g_assert_cmpmem (h + 344, 4, "n+1\0", 4);
  /* LPS → RAS: the first two rows are negated */
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 280 + 12), 101.25, 1e-4);  /* srow_x[3] */
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 296 + 12), -37.5, 1e-4);   /* srow_y[3] */
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 312 + 12), -12.125, 1e-4); /* srow_z[3] */
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 280), -v->direction[0] * 0.75, 1e-6);
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 312 + 8), v->direction[8] * 2.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 76 + 4), 0.75, 1e-6);     /* pixdim[1] */
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 76 + 12), 2.5, 1e-6);     /* pixdim[3] */
}

static void
test_roundtrip_nii (Fixture *f, gconstpointer data)
{
  roundtrip_int16 (f, "a.nii");
}

static void
test_roundtrip_gz (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "a.nii.gz", NULL);
  guint8 magic[2];
  FILE *fp;

  roundtrip_int16 (f, "a.nii.gz");
  fp = fopen (path, "rb");
  g_assert_nonnull (fp);
  g_assert_cmpuint (fread (magic, 1, 2, fp), ==, 2);
  fclose (fp);
  g_assert_cmpint (magic[0], ==, 0x1f);   /* really gzip */
  g_assert_cmpint (magic[1], ==, 0x8b);
}

static void
test_float_and_4d (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) v = make_volume (6, 4, 3, 5, CU_PIXEL_INT16);
  g_autoptr (CuVolume) back = NULL;
  g_autofree char *path = g_build_filename (f->dir, "f.nii", NULL);
  gsize n = cu_volume_n_voxels_3d (v) * 5;
  guint8 h[352];

  /* stored as int16 but rescaled by a fractional slope: must be written as float32 */
  for (gsize i = 0; i < n; i++)
    v->voxels[i] = (float) i * 1.082f - 3.5f;
  g_assert_true (cu_nifti_write (v, path, &error));
  g_assert_no_error (error);
  back = cu_nifti_read (path, &error);
  g_assert_no_error (error);
  assert_same_geometry (v, back);
  assert_same_voxels (v, back);
  g_assert_cmpint (back->stored_type, ==, CU_PIXEL_FLOAT32);
  read_raw_header (path, h);
  g_assert_cmpint (get_i16 (h, 40), ==, 4);
  g_assert_cmpint (get_i16 (h, 48), ==, 5);   /* dim[4] */
  g_assert_cmpint (get_i16 (h, 70), ==, 16);
}

static void
test_integer_types (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "t.nii", NULL);
  struct { CuPixelType stored; float lo, hi; CuPixelType want; } cases[] = {
    { CU_PIXEL_UINT8, 0, 255, CU_PIXEL_UINT8 },
    { CU_PIXEL_UINT16, 0, 65535, CU_PIXEL_UINT16 },
    /* unsigned CT with intercept −1024: signed 16 bits still hold it */
    { CU_PIXEL_UINT16, -1024, 3071, CU_PIXEL_INT16 },
    { CU_PIXEL_INT16, -32768, 40000, CU_PIXEL_INT32 },
    { CU_PIXEL_FLOAT32, 0, 10, CU_PIXEL_FLOAT32 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (CuVolume) v = make_volume (4, 4, 2, 1, cases[c].stored);
      g_autoptr (CuVolume) back = NULL;
      gsize n = cu_volume_n_voxels_3d (v);
      for (gsize i = 0; i < n; i++)
        v->voxels[i] = cases[c].lo + (float) floor ((cases[c].hi - cases[c].lo) * i / (double) (n - 1));
      g_assert_true (cu_nifti_write (v, path, &error));
      g_assert_no_error (error);
      back = cu_nifti_read (path, &error);
      g_assert_no_error (error);
      g_assert_cmpint (back->stored_type, ==, cases[c].want);
      assert_same_voxels (v, back);
    }
}

/* Tilted-gantry grid: column 2 not orthogonal to the image plane. */
static void
test_sheared (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) v = cu_volume_new (4, 4, 3, 1, TRUE, &error);
  g_autoptr (CuVolume) back = NULL;
  g_autofree char *path = g_build_filename (f->dir, "s.nii", NULL);
  double t = 18 * G_PI / 180;
  guint8 h[352];

  g_assert_no_error (error);
  v->direction[1 * 3 + 2] = sin (t);
  v->direction[2 * 3 + 2] = cos (t);
  v->spacing[2] = 5.0 / cos (t);
  v->origin[0] = 10;
  v->stored_type = CU_PIXEL_INT16;
  g_assert_true (cu_nifti_write (v, path, &error));
  back = cu_nifti_read (path, &error);
  g_assert_no_error (error);
  /* the sform carries the exact sheared affine */
  assert_same_geometry (v, back);
  read_raw_header (path, h);
  g_assert_cmpint (get_i16 (h, 252), ==, 0);   /* the rigid qform is only an approximation */
  g_assert_cmpint (get_i16 (h, 254), ==, 1);
  /* The closest rotation to the y–z block [[1, sin t], [0, cos t]] turns by atan2(−sin t,
   * 1 + cos t) = −t/2 about x; composed with the LPS→RAS half turn about z, the quaternion is
   * (b, c, d) = (0, ±sin(t/4), ±cos(t/4)). */
  g_assert_cmpfloat_with_epsilon (get_f32 (h, 256), 0.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (fabs (get_f32 (h, 260)), sin (t / 4), 1e-5);
  g_assert_cmpfloat_with_epsilon (fabs (get_f32 (h, 264)), cos (t / 4), 1e-5);
}

/* The qform alone must give back the geometry (readers that ignore the sform). */
static void
test_qform (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "q.nii", NULL);
  g_autofree char *contents = NULL;
  gsize len;

  for (int flip = 0; flip < 2; flip++)
    {
      g_autoptr (CuVolume) v = make_volume (5, 6, 7, 1, CU_PIXEL_INT16);
      g_autoptr (CuVolume) back = NULL;
      if (flip)
        /* a left-handed grid (slices against the normal): qfac = −1 */
        for (int r = 0; r < 3; r++)
          v->direction[r * 3 + 2] = -v->direction[r * 3 + 2];
      g_assert_true (cu_nifti_write (v, path, &error));
      g_assert_true (g_file_get_contents (path, &contents, &len, &error));
      contents[254] = 0;   /* sform_code = 0 */
      contents[255] = 0;
      g_assert_true (g_file_set_contents (path, contents, (gssize) len, &error));
      g_clear_pointer (&contents, g_free);
      back = cu_nifti_read (path, &error);
      g_assert_no_error (error);
      assert_same_geometry (v, back);
    }
}

static void
test_atomic (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuVolume) v = make_volume (3, 3, 3, 1, CU_PIXEL_UINT8);
  g_autoptr (CuVolume) back = NULL;
  g_autofree char *path = g_build_filename (f->dir, "x.nii", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "no-such-dir", "x.nii", NULL);
  GDir *d;
  const char *name;
  guint n_files = 0;

  /* an existing file is replaced whole */
  g_assert_true (g_file_set_contents (path, "old", 3, &error));
  g_assert_true (cu_nifti_write (v, path, &error));
  g_assert_no_error (error);
  back = cu_nifti_read (path, &error);
  g_assert_no_error (error);
  assert_same_voxels (v, back);

  g_assert_false (cu_nifti_write (v, bad, &error));
  g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_IO);
  g_clear_error (&error);

  /* no temporary file left behind */
  d = g_dir_open (f->dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_assert_cmpstr (name, ==, "x.nii");
      n_files++;
    }
  g_dir_close (d);
  g_assert_cmpuint (n_files, ==, 1);
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "bad.nii", NULL);
  g_autoptr (CuVolume) geometry_only = cu_volume_new (2, 2, 2, 1, FALSE, NULL);
  char junk[400] = { 0 };

  g_assert_null (cu_nifti_read (path, &error));   /* missing */
  g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_IO);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, junk, sizeof junk, &error));
  g_assert_null (cu_nifti_read (path, &error));
  g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (cu_nifti_write (geometry_only, path, &error));
  g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID);
}

/* A volume no reader can use is refused, and nothing is left at the path: ±Inf or NaN voxels
 * (a rescale beyond float range), a singular affine (zero spacing, parallel axes), a NaN
 * origin. */
static void
test_non_finite (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "bad.nii", NULL);
  const float bad_voxels[] = { INFINITY, -INFINITY, NAN };

  for (guint i = 0; i < G_N_ELEMENTS (bad_voxels); i++)
    {
      g_autoptr (CuVolume) v = make_volume (4, 3, 2, 1, CU_PIXEL_INT16);
      g_autoptr (GError) error = NULL;
      v->voxels[5] = bad_voxels[i];
      g_assert_false (cu_nifti_write (v, path, &error));
      g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, "Voxel 5"));
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (CuVolume) v = make_volume (4, 3, 2, 1, CU_PIXEL_INT16);
      g_autoptr (GError) error = NULL;
      if (i == 0)
        v->spacing[2] = 0;
      else if (i == 1)
        for (int r = 0; r < 3; r++)
          v->direction[r * 3 + 1] = v->direction[r * 3 + 0];   /* column axis = row axis */
      else
        v->origin[1] = NAN;
      g_assert_false (cu_nifti_write (v, path, &error));
      g_assert_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID);
      g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/curation/nifti/roundtrip-nii", test_roundtrip_nii);
  ADD ("/curation/nifti/roundtrip-gz", test_roundtrip_gz);
  ADD ("/curation/nifti/float-4d", test_float_and_4d);
  ADD ("/curation/nifti/integer-types", test_integer_types);
  ADD ("/curation/nifti/sheared", test_sheared);
  ADD ("/curation/nifti/qform", test_qform);
  ADD ("/curation/nifti/atomic", test_atomic);
  ADD ("/curation/nifti/bad-input", test_bad_input);
  ADD ("/curation/nifti/non-finite", test_non_finite);
  return g_test_run ();
}

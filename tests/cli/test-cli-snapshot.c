/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-snapshot.c — curata-cli snapshot on a real CT series: the three planes (no display
 * needed) and the 3D view (with an X display; without one the command must fail cleanly with
 * status 2). PNG files are read back with gdk-pixbuf, an independent decoder, and checked for
 * size, aspect ratio and content. Usage errors exit 1, an unknown series 2.
 *
 * Usage: test-cli-snapshot CURATA-CLI
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "curation.h"
#include "cli-test-util.h"

#define CT_DIR "ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm"
#define CT_UID "1.3.46.670589.33.1.6002432791750815306.26862469513794233732"
#define LOCALIZER_DIR "ct/philips_ingenuity_head_phantom/s1000_localizer"
#define LOCALIZER_UID "1.3.46.670589.33.1.17491953482334658115.21841165151607525240"

typedef struct
{
  char *tmp;
  char *workspace;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dicom = cli_shared_dicom ();
  g_autofree char *dir = g_build_filename (dicom, CT_DIR, NULL);
  int status;

  f->tmp = g_dir_make_tmp ("cu-test-snapshot-XXXXXX", &error);
  g_assert_no_error (error);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
  status = cli_run (NULL, NULL, "--workspace", f->workspace, "import", dir, NULL);
  g_assert_cmpint (status, ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->workspace);
  g_free (f->tmp);
}

/* Fraction of pixels that differ from the first pixel of their row (the 3D background is a
 * vertical gradient, uniform along a row). */
static double
foreground_fraction (GdkPixbuf *pb)
{
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int stride = gdk_pixbuf_get_rowstride (pb), nc = gdk_pixbuf_get_n_channels (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  gsize n = 0;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = px + (gsize) y * stride + x * nc, *bg = px + (gsize) y * stride;
        if (abs (p[0] - bg[0]) + abs (p[1] - bg[1]) + abs (p[2] - bg[2]) > 24)
          n++;
      }
  return (double) n / ((double) w * h);
}

/* Fraction of pixels brighter than the darkest tenth of the range, and distinct grey levels. */
static double
bright_fraction (GdkPixbuf *pb, int *n_levels)
{
  int w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  int stride = gdk_pixbuf_get_rowstride (pb), nc = gdk_pixbuf_get_n_channels (pb);
  const guint8 *px = gdk_pixbuf_read_pixels (pb);
  gboolean seen[256] = { FALSE };
  gsize bright = 0;

  *n_levels = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *p = px + (gsize) y * stride + x * nc;
        int g = (p[0] + p[1] + p[2]) / 3;
        if (!seen[g])
          (*n_levels)++;
        seen[g] = TRUE;
        if (g > 25)
          bright++;
      }
  return (double) bright / ((double) w * h);
}

static GdkPixbuf *
load_png (const char *path)
{
  g_autoptr (GError) error = NULL;
  GdkPixbuf *pb = gdk_pixbuf_new_from_file (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (pb);
  return pb;
}

static void
test_planes (Fixture *f, gconstpointer data)
{
  /* CT: 512 × 512 × 28 at 0.451 × 0.451 × 5 mm: the axial image is square, the other two
   * 231 × 140 mm, i.e. 512 × 310 at --size 512. */
  const struct { const char *view; int w, h; } cases[] = {
    { "axial", 400, 400 }, { "coronal", 400, 242 }, { "sagittal", 400, 242 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.png", cases[i].view);
      g_autofree char *png = g_build_filename (f->tmp, name, NULL);
      g_autofree char *out = NULL;
      g_autoptr (GdkPixbuf) pb = NULL;
      g_autoptr (JsonNode) root = NULL;
      JsonObject *o;
      int status, levels;
      double frac;

      status = cli_run (&out, NULL, "--workspace", f->workspace, "snapshot", "2.25.0000", "--view",
                        cases[i].view, "--out", png, NULL);
      g_assert_cmpint (status, ==, 2);   /* unknown series */
      g_clear_pointer (&out, g_free);

      status = cli_run (&out, NULL, "--workspace", f->workspace, "snapshot", "1.3.46.670589.33.1.60",
                        "--view", cases[i].view, "--size", "400", "--out", png, "--json", NULL);
      g_assert_cmpint (status, ==, 0);
      root = cli_parse_json (out);
      o = json_node_get_object (root);
      g_assert_cmpstr (json_object_get_string_member (o, "series"), ==, CT_UID);
      g_assert_cmpint (json_object_get_int_member (o, "width"), ==, cases[i].w);
      g_assert_cmpint (json_object_get_int_member (o, "height"), ==, cases[i].h);

      pb = load_png (png);
      g_assert_cmpint (gdk_pixbuf_get_width (pb), ==, cases[i].w);
      g_assert_cmpint (gdk_pixbuf_get_height (pb), ==, cases[i].h);
      frac = bright_fraction (pb, &levels);
      g_test_message ("%s: %.1f %% bright, %d grey levels", cases[i].view, 100 * frac, levels);
      /* a skull with brain and a head rest: neither empty nor all white */
      g_assert_cmpfloat (frac, >, 0.05);
      g_assert_cmpfloat (frac, <, 0.9);
      g_assert_cmpint (levels, >, 8);
    }
}

static void
test_3d (Fixture *f, gconstpointer data)
{
  g_autofree char *png = g_build_filename (f->tmp, "3d.png", NULL);
  g_autofree char *err = NULL;
  const char *display = g_getenv ("DISPLAY");
  int status;

  if (display == NULL || *display == '\0')
    {
      /* VTK would abort the process without a display: the command must say why instead. */
      status = cli_run (NULL, &err, "--workspace", f->workspace, "snapshot", CT_UID, "--view", "3d",
                        "--out", png, NULL);
      g_assert_cmpint (status, ==, 2);
      g_assert_nonnull (strstr (err, "DISPLAY"));
      g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
      g_test_message ("no X display: checked the error only");
      return;
    }

  {
    const char *presets[] = { "ct-bone", "mip" };
    guint64 sums[2] = { 0 };

    for (guint p = 0; p < G_N_ELEMENTS (presets); p++)
      {
        g_autoptr (GdkPixbuf) pb = NULL;
        int levels;
        double frac;
        const guint8 *px;

        status = cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", CT_UID, "--view", "3d",
                          "--preset", presets[p], "--size", "160", "--out", png, NULL);
        g_assert_cmpint (status, ==, 0);
        pb = load_png (png);
        g_assert_cmpint (gdk_pixbuf_get_width (pb), ==, 160);
        g_assert_cmpint (gdk_pixbuf_get_height (pb), ==, 160);
        bright_fraction (pb, &levels);
        frac = foreground_fraction (pb);
        g_test_message ("3d %s: %.1f %% foreground, %d levels", presets[p], 100 * frac, levels);
        /* the head covers a good part of the picture, not all of it */
        g_assert_cmpfloat (frac, >, 0.05);
        g_assert_cmpfloat (frac, <, 0.95);
        g_assert_cmpint (levels, >, 16);
        px = gdk_pixbuf_read_pixels (pb);
        for (gsize i = 0; i < gdk_pixbuf_get_byte_length (pb); i++)
          sums[p] += px[i];
      }
    /* two presets, two different pictures */
    g_assert_cmpuint (sums[0], !=, sums[1]);
  }

  status = cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", CT_UID, "--view", "3d",
                    "--preset", "ct-lung", "--out", png, NULL);
  g_assert_cmpint (status, ==, 1);
}

/* The localizer of the same study is one 512 × 256 image: shown in its own plane whatever
 * plane is asked for; asking for 3D is an error, not a blank picture. */
static void
test_single_image (Fixture *f, gconstpointer data)
{
  g_autofree char *dicom = cli_shared_dicom ();
  g_autofree char *dir = g_build_filename (dicom, LOCALIZER_DIR, NULL);
  g_autofree char *png = g_build_filename (f->tmp, "loc.png", NULL);
  g_autofree char *err = NULL;
  g_autoptr (GdkPixbuf) pb = NULL;
  int levels;

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "import", dir, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", LOCALIZER_UID, "--view",
                            "axial", "--size", "256", "--out", png, NULL), ==, 0);
  pb = load_png (png);
  g_assert_cmpint (gdk_pixbuf_get_width (pb), ==, 256);
  g_assert_cmpint (gdk_pixbuf_get_height (pb), >, 64);
  bright_fraction (pb, &levels);
  g_assert_cmpint (levels, >, 8);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->workspace, "snapshot", LOCALIZER_UID, "--view",
                            "3d", "--out", png, NULL), ==, 2);
}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *png = g_build_filename (f->tmp, "x.png", NULL);

  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", CT_UID, "--out", png,
                            NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", CT_UID, "--view",
                            "oblique", "--out", png, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", CT_UID, "--view",
                            "axial", NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", "--view", "axial",
                            "--out", png, NULL), ==, 1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->workspace, "snapshot", CT_UID, "--view",
                            "axial", "--size", "3", "--out", png, NULL), ==, 1);
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s CURATA-CLI\n", argv[0]);
      return 1;
    }
  cli_test_program = argv[1];
  g_test_add ("/cli/snapshot/planes", Fixture, NULL, fixture_setup, test_planes, fixture_teardown);
  g_test_add ("/cli/snapshot/3d", Fixture, NULL, fixture_setup, test_3d, fixture_teardown);
  g_test_add ("/cli/snapshot/usage", Fixture, NULL, fixture_setup, test_usage, fixture_teardown);
  g_test_add ("/cli/snapshot/single-image", Fixture, NULL, fixture_setup, test_single_image,
              fixture_teardown);
  return g_test_run ();
}

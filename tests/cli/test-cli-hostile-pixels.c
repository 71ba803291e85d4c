/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-hostile-pixels.c — curata-cli on real files damaged the way hostile or broken files
 * are: header values that rescale to ±Inf, NaN numbers, zero spacing and a degenerate
 * orientation; a NumberOfFrames no file can hold; a control byte in a UID; JPEG 2000, JPEG-LS
 * and RLE streams that describe another image than Rows/Columns say. Each must end in a clear
 * error naming the file or series and the reason — never a crash, a hang, an allocation of what
 * the file does not hold, or an export at exit 0. Commands run under an address-space limit so
 * that an allocation driven by a header fails fast instead of eating the machine.
 *
 * The damaged copies are made by damage-dicom.py (pydicom) from files of $CU_SHARED_DICOM.
 *
 * Usage: test-cli-hostile-pixels CURATA-CLI  (meson passes the built executable)
 */
#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <glib/gstdio.h>

#include "cli-test-util.h"
#include "pydicom-reference.h"

/* Enough for curata-cli's libraries, threads and a few hundred MB of pixels; a header-sized
 * allocation (gigabytes) fails under it. */
#define ADDRESS_SPACE_LIMIT (G_GUINT64_CONSTANT (3) << 30)

#define MR_SMALL "single/MR_small.dcm"
#define MR_SMALL_SERIES "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457"
#define MR_SMALL_STUDY "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457"

typedef struct
{
  char *tmp;
  char *workspace;
  char *in;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
  f->in = g_build_filename (f->tmp, "in", NULL);
  g_assert_cmpint (g_mkdir (f->in, 0700), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->workspace);
  g_free (f->in);
  g_free (f->tmp);
}

/* dst (in f->in) = a damaged copy of the corpus file rel; actions as damage-dicom.py takes. */
static char *
damaged_copy (Fixture *f, const char *rel, const char *name, ...)
{
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *src = g_build_filename (shared, rel, NULL);
  g_autofree char *script = g_build_filename (g_getenv ("CU_SOURCE_ROOT"), "tests", "cli",
                                              "damage-dicom.py", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) env = python_environ ();
  char *dst = g_build_filename (f->in, name, NULL);
  const char *action;
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  g_ptr_array_add (argv, src);
  g_ptr_array_add (argv, dst);
  va_start (ap, name);
  while ((action = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) action);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("damage-dicom.py failed on %s: %s", rel, err);
  return dst;
}

static void
limit_address_space (gpointer data)
{
  struct rlimit rl = { ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT };
  setrlimit (RLIMIT_AS, &rl);
}

/* cli_run under the address-space limit; a signal (crash, abort) fails the test. */
static int
run_limited (char **out, char **err, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  const char *arg;
  int status = -1;
  va_list ap;

  g_ptr_array_add (argv, (char *) cli_test_program);
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT,
                               limit_address_space, NULL, &o, &e, &status, &error));
  g_assert_no_error (error);
  if (e != NULL && *e != '\0')
    g_test_message ("curata-cli stderr: %s", e);
  if (!WIFEXITED (status))
    g_error ("curata-cli %s ended by signal %d: %s", (const char *) argv->pdata[3],
             WIFSIGNALED (status) ? WTERMSIG (status) : -1, e);
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  return WEXITSTATUS (status);
}

/* The findings of the one series of the qc --json output with the given code. */
static JsonObject *
qc_finding (JsonNode *root, const char *code)
{
  JsonArray *series = json_object_get_array_member (json_node_get_object (root), "series");

  for (guint i = 0; i < json_array_get_length (series); i++)
    {
      JsonArray *findings = json_object_get_array_member (json_array_get_object_element (series, i),
                                                          "findings");
      for (guint j = 0; j < json_array_get_length (findings); j++)
        {
          JsonObject *o = json_array_get_object_element (findings, j);
          if (g_strcmp0 (json_object_get_string_member (o, "code"), code) == 0)
            return o;
        }
    }
  return NULL;
}

/* Every command that needs the voxels refuses the series with the reason; none exits 0.
 * Export and qc always; snapshot and denoise too when all is TRUE (they load the same way, and
 * each run costs a second or two). */
static void
assert_voxels_refused (Fixture *f, const char *series, const char *reason, gboolean all)
{
  g_autofree char *nii = g_build_filename (f->tmp, "out.nii", NULL);
  g_autofree char *png = g_build_filename (f->tmp, "out.png", NULL);
  g_autofree char *err = NULL, *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *finding;

  g_assert_cmpint (run_limited (NULL, &err, "--workspace", f->workspace, "export-nifti", series,
                                nii, NULL), ==, 2);
  g_assert_nonnull (strstr (err, series));
  g_assert_nonnull (strstr (err, reason));
  g_assert_false (g_file_test (nii, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_limited (&out, NULL, "--workspace", f->workspace, "qc", "--json", series,
                                NULL), ==, 3);
  root = cli_parse_json (out);
  finding = qc_finding (root, "undecodable");
  g_assert_nonnull (finding);
  g_assert_cmpstr (json_object_get_string_member (finding, "severity"), ==, "error");
  if (!all)
    return;

  g_assert_cmpint (run_limited (NULL, &err, "--workspace", f->workspace, "snapshot", series,
                                "--view", "axial", "--out", png, NULL), !=, 0);
  g_assert_nonnull (strstr (err, reason));
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_limited (NULL, &err, "--workspace", f->workspace, "denoise", series,
                                "--method=gaussian", NULL), ==, 2);
  g_assert_nonnull (strstr (err, reason));
}

/* Issue 14, item 2: one voxel rescaling to ±Inf crashed snapshot, denoise and the viewer; the
 * export wrote it at exit 0. Also NaN in a decimal string, zero spacing and parallel
 * orientation vectors: no volume can be built from them. */
static void
test_invalid_values (Fixture *f, gconstpointer data)
{
  const struct { const char *action; const char *reason; } cases[] = {
    { "set:RescaleSlope=1e39", "RescaleSlope" },
    { "set:RescaleIntercept=-4e38", "RescaleSlope" },
    { "set:PixelSpacing=NaN\\1", "PixelSpacing holds NaN" },
    { "set:PixelSpacing=0\\0", "PixelSpacing 0" },
    { "set:ImageOrientationPatient=1\\0\\0\\1\\0\\0", "ImageOrientationPatient" },
    { "set:ImagePositionPatient=0\\inf\\0", "ImagePositionPatient holds NaN" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("case%u.dcm", i);
      g_autofree char *path = NULL;
      g_autofree char *out = NULL;
      g_autoptr (JsonNode) root = NULL;
      JsonObject *finding;

      g_test_message ("damage: %s", cases[i].action);
      cli_remove_tree (f->workspace);
      cli_remove_tree (f->in);
      g_assert_cmpint (g_mkdir (f->in, 0700), ==, 0);
      path = damaged_copy (f, MR_SMALL, name, cases[i].action, NULL);
      g_assert_cmpint (run_limited (NULL, NULL, "--workspace", f->workspace, "import", f->in,
                                    NULL), ==, 0);
      assert_voxels_refused (f, MR_SMALL_SERIES, cases[i].reason, i == 0);

      /* qc names the file and the attribute. */
      g_assert_cmpint (run_limited (&out, NULL, "--workspace", f->workspace, "qc", "--json",
                                    NULL), ==, 3);
      root = cli_parse_json (out);
      finding = qc_finding (root, "invalid-header-value");
      g_assert_nonnull (finding);
      g_assert_cmpstr (json_object_get_string_member (finding, "path"), ==, path);
      g_assert_cmpstr (json_object_get_string_member (finding, "severity"), ==, "error");
      g_assert_nonnull (strstr (json_object_get_string_member (finding, "message"),
                                cases[i].reason));

      /* The anonymized export (its pseudonymization gate overridden) does not carry it out:
       * Inf voxels, and a singular affine. */
      if (i == 0 || i == 4)
      {
        g_autofree char *export_dir = g_build_filename (f->tmp, "export", NULL);
        g_autofree char *exported = NULL;
        cli_remove_tree (export_dir);
        g_assert_cmpint (run_limited (NULL, NULL, "--workspace", f->workspace, "override",
                                      MR_SMALL_STUDY, "--reason", "test of the export check",
                                      NULL), ==, 0);
        /* accepted as the curator would have to: a series nobody reviewed is held before its
         * values are looked at */
        g_assert_cmpint (run_limited (NULL, NULL, "--workspace", f->workspace, "decide",
                                      MR_SMALL_SERIES, "--state", "accepted", NULL), ==, 0);
        g_assert_cmpint (run_limited (&exported, NULL, "--workspace", f->workspace, "anonymize",
                                      "--out", export_dir, NULL), ==, 2);
        g_assert_nonnull (strstr (exported, MR_SMALL_SERIES));
        g_assert_nonnull (strstr (exported, cases[i].reason));
      }
    }
}

/* Issue 14, item 9: NumberOfFrames = 10⁹ made import allocate 160 GB and abort, so nothing of
 * its folder was imported; a JPEG file claiming 3000 frames in one fragment took 30 s and
 * gigabytes in export. Each is rejected alone, with its reason. */
static void
test_frames_beyond_file (Fixture *f, gconstpointer data)
{
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *good = g_build_filename (f->in, "good.dcm", NULL);
  g_autofree char *src = g_build_filename (shared, "single", "CT_small.dcm", NULL);
  g_autofree char *contents = NULL, *out = NULL, *err = NULL;
  g_autofree char *huge = NULL, *jpeg_bad = NULL;
  g_autofree char *nii = g_build_filename (f->tmp, "jpeg.nii", NULL);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *o;
  JsonArray *rejected;
  gsize len;
  gint64 t0;

  g_assert_true (g_file_get_contents (src, &contents, &len, &error));
  g_assert_true (g_file_set_contents (good, contents, (gssize) len, &error));
  huge = damaged_copy (f, MR_SMALL, "frames.dcm", "set:NumberOfFrames=1000000000",
                       "uid:SOPInstanceUID=.9", NULL);
  /* A 3-file JPEG series, one file of which claims 3000 frames. */
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("jpeg%d.dcm", i);
      g_autofree char *sop = g_strdup_printf ("uid:SOPInstanceUID=.%d", i);
      g_autofree char *pos = g_strdup_printf ("set:ImagePositionPatient=0\\0\\%d", i);
      g_autofree char *number = g_strdup_printf ("set:InstanceNumber=%d", i);
      char *p = damaged_copy (f, "compressed/nema_wg04/MR1_JPLY", name, sop, pos, number,
                              i == 2 ? "set:NumberOfFrames=3000" : NULL, NULL);
      if (i == 2)
        jpeg_bad = p;
      else
        g_free (p);
    }

  g_assert_cmpint (run_limited (&out, NULL, "--workspace", f->workspace, "import", f->in,
                                "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "imported"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "rejected"), ==, 2);
  rejected = json_object_get_array_member (o, "rejected_files");
  for (guint i = 0; i < json_array_get_length (rejected); i++)
    {
      JsonObject *r = json_array_get_object_element (rejected, i);
      const char *path = json_object_get_string_member (r, "path");
      const char *reason = json_object_get_string_member (r, "reason");
      g_test_message ("rejected %s: %s", path, reason);
      g_assert_true (g_strcmp0 (path, huge) == 0 || g_strcmp0 (path, jpeg_bad) == 0);
      g_assert_nonnull (strstr (reason, "Number of Frames"));
    }

  /* The two good JPEG files export quickly and within the limit. */
  t0 = g_get_monotonic_time ();
  g_assert_cmpint (run_limited (NULL, &err, "--workspace", f->workspace, "export-nifti",
                                "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457", nii, NULL), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 20 * G_USEC_PER_SEC);
}

/* Issue 14, item 9: a UID holding 0x1F was accepted and printed raw (invalid JSON, terminal
 * control sequences). The file is rejected with the attribute named. */
static void
test_uid_control_byte (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *list = NULL;
  g_autoptr (JsonNode) root = NULL, list_root = NULL;
  JsonObject *o, *r;
  const char *const keywords[] = { "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID" };

  for (guint i = 0; i < G_N_ELEMENTS (keywords); i++)
    {
      g_autofree char *name = g_strdup_printf ("uid%u.dcm", i);
      g_autofree char *action = g_strdup_printf ("uid:%s=\\x1f9", keywords[i]);
      g_free (damaged_copy (f, MR_SMALL, name, action, NULL));
    }
  g_assert_cmpint (run_limited (&out, NULL, "--workspace", f->workspace, "import", f->in,
                                "--json", NULL), ==, 0);
  root = cli_parse_json (out);
  o = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (o, "imported"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "rejected"), ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (keywords); i++)
    {
      g_autofree char *name = g_strdup_printf ("uid%u.dcm", i);
      gboolean found = FALSE;
      JsonArray *rejected = json_object_get_array_member (o, "rejected_files");
      for (guint j = 0; j < json_array_get_length (rejected); j++)
        {
          r = json_array_get_object_element (rejected, j);
          if (g_str_has_suffix (json_object_get_string_member (r, "path"), name))
            {
              const char *reason = json_object_get_string_member (r, "reason");
              found = TRUE;
              g_assert_nonnull (strstr (reason, keywords[i]));
              g_assert_nonnull (strstr (reason, "\\x1F"));
              g_assert_null (strchr (reason, 0x1F));
            }
        }
      g_assert_true (found);
    }
  g_assert_null (strchr (out, 0x1F));
  g_assert_cmpint (run_limited (&list, NULL, "--workspace", f->workspace, "list", "--json",
                                NULL), ==, 0);
  list_root = cli_parse_json (list);
  g_assert_null (strchr (list, 0x1F));
}

/* Issue 14, items 4 and 9: JPEG 2000, JPEG-LS and RLE streams that describe another picture
 * than Rows/Columns. A J2K picture larger than Rows × Columns corrupted the heap in GDCM's
 * codec; a codestream claiming 60000 × 60000 made OpenJPEG allocate it before any check;
 * JPEG-LS and RLE of another size were exported at exit 0. */
static void
test_stream_size_mismatch (Fixture *f, gconstpointer data)
{
  const struct { const char *rel; const char *action; const char *series; const char *reason; }
  cases[] = {
    { "single/693_J2KR.dcm", "set:Rows=256",
      "1.2.276.0.7230010.3.1.3.296485376.1.1521713419.1802493", "512×512" },
    { "single/693_J2KR.dcm", "siz:60000:60000",
      "1.2.276.0.7230010.3.1.3.296485376.1.1521713419.1802493", "60000×60000" },
    { "compressed/nema_wg04/CT1_JLSL", "set:Columns=256", NULL, "512×512" },
    { "compressed/nema_wg04/CT1_JLSL", "set:BitsAllocated=8 set:BitsStored=8 set:HighBit=7", NULL,
      "JPEG-LS stream" },
    { "compressed/nema_wg04/CT1_RLE", "set:Rows=256", NULL, "RLE segment" },
    { "compressed/nema_wg04/CT1_RLE", "set:BitsAllocated=8 set:BitsStored=8 set:HighBit=7", NULL,
      "RLE frame has 2 segments" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("case%u.dcm", i);
      g_autofree char *path = NULL, *out = NULL;
      g_auto (GStrv) actions = g_strsplit (cases[i].action, " ", -1);
      g_autoptr (JsonNode) root = NULL;
      const char *series;

      g_test_message ("damage: %s %s", cases[i].rel, cases[i].action);
      cli_remove_tree (f->workspace);
      cli_remove_tree (f->in);
      g_assert_cmpint (g_mkdir (f->in, 0700), ==, 0);
      path = damaged_copy (f, cases[i].rel, name, actions[0],
                           g_strv_length (actions) > 1 ? actions[1] : NULL,
                           g_strv_length (actions) > 2 ? actions[2] : NULL, NULL);
      g_assert_cmpint (run_limited (&out, NULL, "--workspace", f->workspace, "import", f->in,
                                    "--json", NULL), ==, 0);
      root = cli_parse_json (out);
      g_assert_cmpint (json_object_get_int_member (json_node_get_object (root), "imported"), ==,
                       1);
      series = cases[i].series;
      if (series == NULL)
        series = json_array_get_string_element (
          json_object_get_array_member (json_node_get_object (root), "series"), 0);
      assert_voxels_refused (f, series, cases[i].reason, i == 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s CURATA-CLI\n", argv[0]);
      return 2;
    }
  cli_test_program = argv[1];

  g_test_add ("/cli/hostile-pixels/invalid-values", Fixture, NULL, fixture_setup,
              test_invalid_values, fixture_teardown);
  g_test_add ("/cli/hostile-pixels/frames-beyond-file", Fixture, NULL, fixture_setup,
              test_frames_beyond_file, fixture_teardown);
  g_test_add ("/cli/hostile-pixels/uid-control-byte", Fixture, NULL, fixture_setup,
              test_uid_control_byte, fixture_teardown);
  g_test_add ("/cli/hostile-pixels/stream-size-mismatch", Fixture, NULL, fixture_setup,
              test_stream_size_mismatch, fixture_teardown);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-dicom-walk.c — cu_dicom_walk_file on real files, element by element against pydicom
 * (walk-ref.py, run with Debian's /usr/bin/python3 at test time): implicit VR, both big endian
 * files, deflated data sets, nested private sequences, SR content trees, private creators;
 * early stop; Pixel Data never visited; damaged files give errors, never a crash.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "cu-dicom-walk.h"
#include "cu-dicom-header.h"

static char *
corpus (const char *rel)
{
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_assert_nonnull (shared);
  return g_build_filename (shared, rel, NULL);
}

/* Text with control characters as spaces, each backslash-separated value trimmed and inner
 * runs of spaces collapsed (pydicom and we trim padding slightly differently). */
static char *
normalise_text (const char *s)
{
  GString *out = g_string_new (NULL);
  g_auto (GStrv) values = g_strsplit (s, "\\", -1);
  for (int v = 0; values[v] != NULL; v++)
    {
      if (v > 0)
        g_string_append_c (out, '\\');
      gboolean space = FALSE;
      GString *one = g_string_new (NULL);
      for (const char *p = values[v]; *p != '\0'; p++)
        {
          gboolean is_space = *p == ' ' || *p == '\n' || *p == '\r' || *p == '\t';
          if (is_space)
            space = TRUE;
          else
            {
              if (space && one->len > 0)
                g_string_append_c (one, ' ');
              space = FALSE;
              g_string_append_c (one, *p);
            }
        }
      g_string_append (out, one->str);
      g_string_free (one, TRUE);
    }
  return g_string_free (out, FALSE);
}

static gboolean
collect (const CuDicomElement *e, gpointer user_data)
{
  GPtrArray *lines = user_data;
  g_autofree char *text = normalise_text (e->text != NULL ? e->text : "-");
  g_assert_true (e->text == NULL || g_utf8_validate (e->text, -1, NULL));
  /* depth agrees with the path */
  int brackets = 0;
  for (const char *p = e->tag_path; *p != '\0'; p++)
    brackets += *p == '[';
  g_assert_cmpint (brackets, ==, e->depth);
  g_assert_false (e->group == 0x7FE0 && e->element == 0x0010);
  g_assert_cmpuint (e->group, !=, 0x0002);
  g_assert_true (e->is_sequence == (strcmp (e->vr, "SQ") == 0));
  if (!e->is_sequence)
    g_assert_cmpuint (e->n_items, ==, 0);
  g_ptr_array_add (lines, g_strdup_printf ("%s\t%s\t%s\t%s", e->tag_path, e->vr, text,
                                           e->private_creator != NULL ? e->private_creator
                                                                      : ""));
  return TRUE;
}

/* pydicom's walk of every file at once: path → GPtrArray of lines. NULL when unavailable. */
static GHashTable *
reference (const char *const *paths, guint n)
{
  g_autofree char *script = g_build_filename (g_getenv ("CU_SOURCE_ROOT"), "tests", "curation",
                                              "deid", "walk-ref.py", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) "/usr/bin/python3");
  g_ptr_array_add (argv, script);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (argv, (char *) paths[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE)
      || !g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                        NULL, &out, NULL, &status, NULL)
      || !g_spawn_check_wait_status (status, NULL))
    return NULL;

  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_ptr_array_unref);
  GPtrArray *lines = NULL;
  g_auto (GStrv) split = g_strsplit (out, "\n", -1);
  for (int i = 0; split[i] != NULL; i++)
    {
      if (g_str_has_prefix (split[i], "#FILE "))
        {
          lines = g_ptr_array_new_with_free_func (g_free);
          g_hash_table_insert (files, g_strdup (split[i] + 6), lines);
          continue;
        }
      if (*split[i] == '\0' || lines == NULL)
        continue;
      g_auto (GStrv) f = g_strsplit (split[i], "\t", 4);
      g_assert_cmpuint (g_strv_length (f), ==, 4);
      g_autofree char *text = normalise_text (f[2]);
      g_ptr_array_add (lines, g_strdup_printf ("%s\t%s\t%s\t%s", f[0], f[1], text, f[3]));
    }
  return files;
}

/* VRs may legitimately differ where the dictionaries do: US/SS chosen by Pixel Representation
 * (pydicom) or not (GDCM), private dictionaries, group lengths of private groups. */
static gboolean
vr_difference_allowed (const char *path, const char *ours, const char *ref)
{
  const char *last = strrchr (path, '(');
  guint group = (guint) g_ascii_strtoull (last + 1, NULL, 16);
  if ((strcmp (ours, "US") == 0 || strcmp (ours, "SS") == 0)
      && (strcmp (ref, "US") == 0 || strcmp (ref, "SS") == 0))
    return TRUE;
  return (group & 1) != 0;
}

static void
test_against_pydicom (void)
{
  static const char *const files[] = {
    "single/MR_small_implicit.dcm",           /* implicit VR: dictionary VRs */
    "single/MR_small_bigendian.dcm",          /* explicit VR big endian */
    "odd/ExplVR_BigEndNoMeta.dcm",            /* big endian, no file meta */
    "compressed/deflate/report_dfl",          /* deflated SR: deep content tree */
    "compressed/pydicom_data/liver_deflate.dcm",
    "odd/nested_priv_SQ.dcm",                 /* private sequences in private sequences */
    "odd/priv_SQ.dcm",
    "odd/explicit_VR-UN.dcm",                 /* VR UN throughout */
    "single/test-SR.dcm",
    "compressed/same_image_9_transfer_syntaxes/2.dcm",  /* Siemens private creators */
    "single/MR-SIEMENS-DICOM-WithOverlays.dcm",
    "seg_sr/liver_ct_3slice_with_seg/01.dcm",
  };
  g_auto (GStrv) paths = g_new0 (char *, G_N_ELEMENTS (files) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    paths[i] = corpus (files[i]);
  g_autoptr (GHashTable) refs = reference ((const char *const *) paths, G_N_ELEMENTS (files));
  if (refs == NULL)
    {
      g_test_skip ("pydicom reference unavailable");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      const char *path = paths[i];
      GPtrArray *ref = g_hash_table_lookup (refs, path);
      g_assert_nonnull (ref);
      g_autoptr (GPtrArray) ours = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GError) error = NULL;
      g_assert_true (cu_dicom_walk_file (path, collect, ours, &error));
      g_assert_no_error (error);
      if (ours->len != ref->len)
        g_error ("%s: %u elements, pydicom %u", files[i], ours->len, ref->len);
      g_assert_cmpuint (ours->len, >=, 4);
      for (guint k = 0; k < ours->len; k++)
        {
          g_auto (GStrv) a = g_strsplit (ours->pdata[k], "\t", 4);
          g_auto (GStrv) b = g_strsplit (ref->pdata[k], "\t", 4);
          /* pydicom loses the creator of elements in undefined-length private sequences
           * it had to parse as implicit VR; where it knows one, ours must agree. */
          if (strcmp (a[0], b[0]) != 0 || (*b[3] != '\0' && strcmp (a[3], b[3]) != 0)
              || (strcmp (a[1], b[1]) != 0 && !vr_difference_allowed (a[0], a[1], b[1]))
              || (strcmp (a[2], b[2]) != 0 && strcmp (a[2], "-") != 0
                  && strcmp (b[2], "-") != 0))
            g_error ("%s: element %u: ours “%s”, pydicom “%s”", files[i], k,
                     (char *) ours->pdata[k], (char *) ref->pdata[k]);
        }
    }
}

static gboolean
stop_after_three (const CuDicomElement *e, gpointer user_data)
{
  guint *n = user_data;
  return ++*n < 3;
}

static void
test_stop_early (void)
{
  g_autofree char *path = corpus ("single/CT_small.dcm");
  guint n = 0;
  g_assert_true (cu_dicom_walk_file (path, stop_after_three, &n, NULL));
  g_assert_cmpuint (n, ==, 3);
}

static gboolean
count_only (const CuDicomElement *e, gpointer user_data)
{
  (*(guint *) user_data)++;
  return TRUE;
}

/* Truncated copies, garbage, a missing file: an error each, and never a crash. */
static void
test_damaged (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cu-walk-XXXXXX", NULL);
  g_autofree char *src = corpus ("single/MR_small.dcm");
  g_autofree char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (src, &data, &len, NULL));

  static const double fractions[] = { 0.02, 0.05, 0.1, 0.3 };
  for (guint i = 0; i < G_N_ELEMENTS (fractions); i++)
    {
      g_autofree char *cut = g_build_filename (dir, "cut.dcm", NULL);
      /* The header of MR_small ends well before 30 % of the file: every cut is inside it. */
      g_assert_true (g_file_set_contents (cut, data, (gssize) (len * fractions[i]), NULL));
      guint n = 0;
      g_autoptr (GError) error = NULL;
      gboolean ok = cu_dicom_walk_file (cut, count_only, &n, &error);
      if (fractions[i] < 0.1)
        {
          g_assert_false (ok);
          g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);
        }
      else
        g_assert_true (ok || error != NULL);
      g_unlink (cut);
    }

  g_autofree char *junk = g_build_filename (dir, "junk.dcm", NULL);
  g_assert_true (g_file_set_contents (junk, "this is not DICOM at all, just words", -1, NULL));
  g_autoptr (GError) error = NULL;
  guint n = 0;
  g_assert_false (cu_dicom_walk_file (junk, count_only, &n, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_NOT_DICOM);
  g_assert_cmpuint (n, ==, 0);
  g_clear_error (&error);
  g_assert_false (cu_dicom_walk_file ("/nonexistent/x.dcm", count_only, &n, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO);
  g_clear_error (&error);
  g_unlink (junk);

  /* The corpus's broken files: whatever they hold, an answer and no crash. */
  static const char *const odd[] = { "odd/bad_sequence.dcm", "odd/badVR.dcm", "odd/no_meta.dcm",
                                     "odd/emri_small_jpeg_2k_lossless_too_short.dcm",
                                     "odd/meta_missing_tsyntax.dcm",
                                     "odd/no_meta_group_length.dcm" };
  for (guint i = 0; i < G_N_ELEMENTS (odd); i++)
    {
      g_autofree char *path = corpus (odd[i]);
      gboolean ok = cu_dicom_walk_file (path, count_only, &n, &error);
      g_assert_true (ok != (error != NULL));
      g_clear_error (&error);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/deid/walk/against-pydicom", test_against_pydicom);
  g_test_add_func ("/deid/walk/stop-early", test_stop_early);
  g_test_add_func ("/deid/walk/damaged", test_damaged);
  return g_test_run ();
}

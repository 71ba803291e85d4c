/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-qc-checks.c — the per-series checks of the quality gate on damaged copies of real
 * series from the shared corpus, built in a temporary folder: a slice removed, a slice
 * duplicated (same position, new SOPInstanceUID), one slice turned to another orientation,
 * truncated pixel data. Each damage must be found and named (code, slice or file); the intact
 * series give no error finding.
 *
 * The damaged slice is chosen from the positions read independently with the series plan,
 * never from an earlier run of the checks.
 */
#include "config.h"

#include <curation.h>
#include <cu-dicom-walk.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#define ADC_SERIES "mr/prostate_adc_ge"
#define CT_SERIES "ct/philips_ingenuity_head_phantom/s2010_std_brain_5mm"
#define T1_SERIES "mr/ge_t1_3d_deidentified"

typedef struct
{
  char *dir;       /* temporary folder */
  GPtrArray *files;
} Copy;

static void
copy_free (Copy *c)
{
  g_autoptr (GDir) d = g_dir_open (c->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (c->dir, name, NULL);
      g_unlink (p);
    }
  g_rmdir (c->dir);
  g_free (c->dir);
  g_ptr_array_unref (c->files);
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Copy, copy_free)

/* The corpus series as links in a temporary folder (sorted by name). */
static Copy *
copy_series (const char *rel)
{
  const char *root = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *src = NULL;
  g_autoptr (GDir) d = NULL;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  Copy *c;
  const char *name;

  if (root == NULL)
    return NULL;
  src = g_build_filename (root, rel, NULL);
  d = g_dir_open (src, 0, NULL);
  if (d == NULL)
    return NULL;
  c = g_new0 (Copy, 1);
  c->dir = g_dir_make_tmp ("cu-qc-XXXXXX", NULL);
  c->files = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *from = g_build_filename (src, names->pdata[i], NULL);
      char *to = g_build_filename (c->dir, names->pdata[i], NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
      g_ptr_array_add (c->files, to);
    }
  return c;
}

static GStrv
copy_paths (Copy *c)
{
  GPtrArray *a = g_ptr_array_new ();

  for (guint i = 0; i < c->files->len; i++)
    g_ptr_array_add (a, g_strdup (c->files->pdata[i]));
  g_ptr_array_add (a, NULL);
  return (GStrv) g_ptr_array_free (a, FALSE);
}

/* The file holding slice k of the main stack, found with the series plan. */
static char *
file_of_slice (Copy *c, guint k)
{
  g_auto (GStrv) paths = copy_paths (c);
  g_autoptr (GError) error = NULL;
  g_autoptr (CuSeriesPlan) plan = cu_series_plan_new_from_files ((const char *const *) paths, NULL, NULL, &error);
  g_assert_no_error (error);
  return g_strdup (cu_series_plan_get_source (plan, cu_series_plan_get_main_stack (plan), k, 0, NULL));
}

static CuQcReport *
check (Copy *c)
{
  g_auto (GStrv) paths = copy_paths (c);
  g_autoptr (GError) error = NULL;
  CuQcReport *r = cu_qc_check_files ((const char *const *) paths, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static const CuQcFinding *
find (const CuQcReport *r, const char *code)
{
  for (guint i = 0; i < r->findings->len; i++)
    if (g_strcmp0 (((CuQcFinding *) r->findings->pdata[i])->code, code) == 0)
      return r->findings->pdata[i];
  return NULL;
}

static void
dump (const CuQcReport *r)
{
  for (guint i = 0; i < r->findings->len; i++)
    {
      const CuQcFinding *f = r->findings->pdata[i];
      g_test_message ("%s %s slice %d %s: %s", cu_qc_severity_to_string (f->severity), f->code,
                      f->slice, f->attribute ? f->attribute : "", f->message);
    }
}

static void
assert_no_errors (const char *rel)
{
  g_autoptr (Copy) c = copy_series (rel);
  g_autoptr (CuQcReport) r = NULL;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  r = check (c);
  dump (r);
  g_assert_cmpint (r->n_errors, ==, 0);
  g_assert_nonnull (r->volume);
}

static void
test_intact (void)
{
  assert_no_errors (ADC_SERIES);
  assert_no_errors (CT_SERIES);
}

/* A Philips DTI series lists its b = 0 images first; they look like a T2-weighted spin echo
 * (Philips does not put EP in ScanningSequence). The series is classified from its most
 * diffusion-weighted image, so it is DWI, as the consistency rules see it too. */
static void
test_sequence_from_weighted_image (void)
{
  g_autoptr (Copy) c = copy_series ("mr/philips_dti_ax");
  g_autoptr (CuQcReport) r = NULL;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  r = check (c);
  g_assert_cmpstr (r->sequence, ==, CU_SEQ_DWI);
}

/* Replace a file link by a real copy edited through the DICOM rewriter. */
typedef struct
{
  guint16 group, element;
  const char *value;
} Edit;

static CuDicomEdit
edit_cb (const CuDicomElement *e, char **replacement, gpointer user_data)
{
  const Edit *edit = user_data;

  if (e->depth == 0 && e->group == edit->group && e->element == edit->element)
    {
      *replacement = g_strdup (edit->value);
      return CU_DICOM_EDIT_REPLACE;
    }
  return CU_DICOM_EDIT_KEEP;
}

static void
rewrite (const char *in, const char *out, guint16 group, guint16 element, const char *value)
{
  g_autoptr (GError) error = NULL;
  Edit edit = { group, element, value };
  g_autofree char *target = g_file_read_link (in, NULL);

  g_assert_true (cu_dicom_rewrite_file (target != NULL ? target : in, out, edit_cb, &edit, NULL, 0,
                                        NULL, 0, &error));
  g_assert_no_error (error);
}

static void
test_slice_removed (void)
{
  g_autoptr (Copy) c = copy_series (ADC_SERIES);
  g_autofree char *victim = NULL;
  g_autoptr (CuQcReport) r = NULL;
  const CuQcFinding *f;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  victim = file_of_slice (c, 10);
  g_assert_cmpint (g_unlink (victim), ==, 0);
  g_ptr_array_remove_index (c->files, 0);  /* keep the list in step: re-list below */
  g_ptr_array_set_size (c->files, 0);
  {
    g_autoptr (GDir) d = g_dir_open (c->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      g_ptr_array_add (c->files, g_build_filename (c->dir, name, NULL));
  }
  r = check (c);
  dump (r);
  f = find (r, CU_PROBLEM_GAP);
  g_assert_nonnull (f);
  g_assert_cmpint (f->severity, ==, CU_QC_SEVERITY_ERROR);
  g_assert_cmpint (f->slice, ==, 10);   /* the gap is before the 11th remaining slice */
  g_assert_cmpstr (f->attribute, ==, "ImagePositionPatient");
  g_assert_nonnull (strstr (f->message, "missing"));
  /* The InstanceNumber of the removed file leaves a hole. */
  g_assert_nonnull (find (r, CU_PROBLEM_INSTANCE_GAP));
}

/* A 3D acquisition that declares its image count: one file fewer is named as such. */
static void
test_fewer_than_declared (void)
{
  g_autoptr (Copy) c = copy_series (T1_SERIES);
  g_autoptr (CuQcReport) r = NULL;
  const CuQcFinding *f;
  char *last;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  /* Remove the slice at one end: no gap in positions, only the count tells. */
  last = file_of_slice (c, 0);
  g_assert_cmpint (g_unlink (last), ==, 0);
  g_ptr_array_remove (c->files, last) || (g_ptr_array_set_size (c->files, c->files->len), TRUE);
  for (guint i = 0; i < c->files->len; i++)
    if (g_strcmp0 (c->files->pdata[i], last) == 0)
      g_ptr_array_remove_index (c->files, i);
  g_free (last);
  r = check (c);
  dump (r);
  f = find (r, CU_QC_FEWER_THAN_DECLARED);
  g_assert_nonnull (f);
  g_assert_cmpint (f->severity, ==, CU_QC_SEVERITY_ERROR);
  g_assert_nonnull (strstr (f->message, "195"));
  g_assert_nonnull (strstr (f->message, "196"));
}

static void
test_slice_duplicated (void)
{
  g_autoptr (Copy) c = copy_series (ADC_SERIES);
  g_autofree char *victim = NULL;
  g_autofree char *uid = cu_dicom_uid_new ();
  char *dup;
  g_autoptr (CuQcReport) r = NULL;
  const CuQcFinding *f;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  victim = file_of_slice (c, 7);
  dup = g_build_filename (c->dir, "zz-duplicate.dcm", NULL);
  rewrite (victim, dup, 0x0008, 0x0018, uid);
  g_ptr_array_add (c->files, dup);
  r = check (c);
  dump (r);
  f = find (r, CU_PROBLEM_DUPLICATE_POSITION);
  g_assert_nonnull (f);
  g_assert_cmpint (f->severity, ==, CU_QC_SEVERITY_ERROR);
  g_assert_cmpint (f->slice, ==, 7);
  g_assert_nonnull (strstr (f->message, "zz-duplicate.dcm"));
  /* Same InstanceNumber twice, too. */
  g_assert_nonnull (find (r, CU_QC_INSTANCE_DUPLICATE));
}

static void
test_orientation_changed (void)
{
  g_autoptr (Copy) c = copy_series (ADC_SERIES);
  g_autofree char *victim = NULL;
  g_autofree char *edited = NULL;
  g_autoptr (CuQcReport) r = NULL;
  g_autofree char *base = NULL;
  const CuQcFinding *f;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  victim = file_of_slice (c, 12);
  edited = g_strconcat (victim, ".tmp", NULL);
  /* Rotated 30° about the patient's z axis: still orthonormal, clearly another plane. */
  rewrite (victim, edited, 0x0020, 0x0037, "0.866025\\0.5\\0\\-0.5\\0.866025\\0");
  g_assert_cmpint (g_unlink (victim), ==, 0);
  g_assert_cmpint (g_rename (edited, victim), ==, 0);
  r = check (c);
  dump (r);
  f = find (r, CU_QC_ORIENTATION_CHANGE);
  g_assert_nonnull (f);
  g_assert_cmpint (f->severity, ==, CU_QC_SEVERITY_ERROR);
  g_assert_cmpstr (f->path, ==, victim);
  g_assert_cmpstr (f->attribute, ==, "ImageOrientationPatient");
  base = g_path_get_basename (victim);
  g_assert_nonnull (strstr (f->message, base));
  g_assert_null (find (r, CU_QC_ORIENTATION_INVALID));
}

static void
test_truncated_pixels (void)
{
  g_autoptr (Copy) c = copy_series (ADC_SERIES);
  g_autofree char *victim = NULL;
  g_autofree char *target = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcReport) r = NULL;
  gsize length;
  const CuQcFinding *f;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  victim = file_of_slice (c, 5);
  target = g_file_read_link (victim, NULL);
  g_assert_true (g_file_get_contents (target, &contents, &length, &error));
  g_assert_cmpint (g_unlink (victim), ==, 0);
  /* Cut off the second half of the 256×256×2-byte pixel data. */
  g_assert_true (g_file_set_contents (victim, contents, (gssize) (length - 256 * 256), &error));
  g_assert_no_error (error);
  r = check (c);
  dump (r);
  /* The reader refuses a file whose pixel data runs past its end: the file is named with
   * the reason, and the slice it held shows as missing at its place. */
  f = find (r, CU_PROBLEM_UNREADABLE);
  g_assert_nonnull (f);
  g_assert_cmpint (f->severity, ==, CU_QC_SEVERITY_ERROR);
  g_assert_cmpstr (f->path, ==, victim);
  g_assert_nonnull (strstr (f->message, "truncated"));
  f = find (r, CU_PROBLEM_GAP);
  g_assert_nonnull (f);
  g_assert_cmpint (f->slice, ==, 5);
}

/* DCM-12: a date that is not a calendar date. */
static void
test_invalid_date (void)
{
  g_autoptr (Copy) c = copy_series (ADC_SERIES);
  g_autoptr (CuQcReport) r = NULL;
  g_autofree char *edited = NULL;
  const char *first;
  const CuQcFinding *f;

  if (c == NULL)
    {
      g_test_skip ("shared corpus missing");
      return;
    }
  first = c->files->pdata[0];   /* the header the value checks read */
  edited = g_strconcat (first, ".tmp", NULL);
  rewrite (first, edited, 0x0008, 0x0020, "20231345");
  g_assert_cmpint (g_unlink (first), ==, 0);
  g_assert_cmpint (g_rename (edited, first), ==, 0);
  r = check (c);
  dump (r);
  f = find (r, CU_QC_INVALID_VALUE);
  g_assert_nonnull (f);
  g_assert_cmpint (f->severity, ==, CU_QC_SEVERITY_ERROR);
  g_assert_cmpstr (f->attribute, ==, "StudyDate");
  g_assert_nonnull (strstr (f->message, "20231345"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/qc/checks/intact", test_intact);
  g_test_add_func ("/curation/qc/checks/sequence-from-weighted-image", test_sequence_from_weighted_image);
  g_test_add_func ("/curation/qc/checks/slice-removed", test_slice_removed);
  g_test_add_func ("/curation/qc/checks/fewer-than-declared", test_fewer_than_declared);
  g_test_add_func ("/curation/qc/checks/slice-duplicated", test_slice_duplicated);
  g_test_add_func ("/curation/qc/checks/orientation-changed", test_orientation_changed);
  g_test_add_func ("/curation/qc/checks/truncated-pixels", test_truncated_pixels);
  g_test_add_func ("/curation/qc/checks/invalid-date", test_invalid_date);
  return g_test_run ();
}

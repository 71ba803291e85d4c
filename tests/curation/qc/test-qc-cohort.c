/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-qc-cohort.c — robust z-scores (hand-derived values) and protocol conformance on
 * synthetic study descriptions with known answers.
 */
#include "config.h"

#include <curation.h>
#include <math.h>
#include <string.h>

static void
test_robust_z (void)
{
  /* median 3, |x − 3| = 2 1 0 1 97 → MAD 1: z = 0.6745 (x − 3) */
  const double v[] = { 1, 2, 3, 4, 100 };
  double z[5], median, mad;

  cu_qc_robust_z (v, 5, z, &median, &mad);
  g_assert_cmpfloat (median, ==, 3);
  g_assert_cmpfloat (mad, ==, 1);
  g_assert_cmpfloat_with_epsilon (z[0], -2 * 0.6745, 1e-12);
  g_assert_cmpfloat_with_epsilon (z[4], 97 * 0.6745, 1e-12);
  g_assert_true (fabs (z[4]) > CU_QC_OUTLIER_Z);
  g_assert_true (fabs (z[3]) < CU_QC_OUTLIER_Z);
}

static void
test_robust_z_mad_zero (void)
{
  /* more than half equal: MAD 0, mean absolute deviation (0+0+0+0+10)/5 = 2 →
   * z = (x − 5) / (1.253314 · 2) */
  const double v[] = { 5, 5, 5, 5, 15, NAN };
  double z[6];

  cu_qc_robust_z (v, 6, z, NULL, NULL);
  g_assert_cmpfloat_with_epsilon (z[4], 10 / (1.253314 * 2), 1e-9);
  g_assert_cmpfloat (z[0], ==, 0);
  g_assert_true (isnan (z[5]));
}

static CuQcReport *
report (const char *uid, const char *seq, const char *plane, const char *const *names, const double *values)
{
  CuQcReport *r = cu_qc_report_new ();

  r->series_uid = g_strdup (uid);
  r->modality = g_strdup (g_strcmp0 (seq, "CT") == 0 ? "CT" : "MR");
  r->sequence = g_strdup (seq);
  r->plane = g_strdup (plane);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      CuQcMetric m = { { 0 }, values[i] };
      g_strlcpy (m.name, names[i], sizeof m.name);
      g_array_append_val (r->parameters, m);
    }
  return r;
}

static const CuQcFinding *
find (GPtrArray *findings, const char *requirement, CuQcSeverity severity)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const CuQcFinding *f = findings->pdata[i];
      if (g_strcmp0 (f->attribute, requirement) == 0 && f->severity == severity)
        return f;
    }
  return NULL;
}

static void
test_protocol (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcProtocol) p = cu_qc_protocol_load (CU_QC_PROTOCOL_DEFAULT, &error);
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_report_free);
  g_autoptr (GPtrArray) findings = NULL;
  const char *t2[] = { CU_QC_P_THICKNESS, CU_QC_P_GAP, CU_QC_P_ACQ_PHASE, CU_QC_P_ACQ_FREQ, NULL };
  const double t2_bad[] = { 4.0, 0.0, 0.6, 0.4 };     /* 4 mm slices: too thick */
  const double t2_good[] = { 3.0, 0.0, 0.6, 0.4 };
  const char *dwi[] = { CU_QC_P_THICKNESS, CU_QC_P_BMAX, CU_QC_P_TE, CU_QC_P_TR, NULL };
  const double dwi_v[] = { 3.5, 800, 80, 4000 };      /* highest b 800 < 1400 */
  const CuQcFinding *f;

  g_assert_no_error (error);
  g_assert_cmpstr (cu_qc_protocol_get_id (p), ==, CU_QC_PROTOCOL_DEFAULT);
  g_ptr_array_add (reports, report ("1.1", "T2W", "axial", t2, t2_bad));
  g_ptr_array_add (reports, report ("1.2", "T2W", "axial", t2, t2_good));
  g_ptr_array_add (reports, report ("1.3", "T2W", "sagittal", NULL, NULL));
  g_ptr_array_add (reports, report ("1.4", "DWI", "axial", dwi, dwi_v));
  g_ptr_array_add (reports, report ("1.5", "ADC", "axial", NULL, NULL));
  findings = cu_qc_protocol_check (p, reports);
  for (guint i = 0; i < findings->len; i++)
    g_test_message ("%s %s: %s", cu_qc_severity_to_string (((CuQcFinding *) findings->pdata[i])->severity),
                    ((CuQcFinding *) findings->pdata[i])->attribute, ((CuQcFinding *) findings->pdata[i])->message);

  /* the good axial T2 is judged, not the thick one */
  g_assert_null (find (findings, "t2-axial", CU_QC_SEVERITY_ERROR));
  /* an orthogonal T2 exists; its thickness is not in the files: not verifiable, not a pass */
  g_assert_null (find (findings, "t2-orthogonal", CU_QC_SEVERITY_ERROR));
  g_assert_nonnull (find (findings, "t2-orthogonal", CU_QC_SEVERITY_INFO));
  /* the DWI's highest b is too low */
  f = find (findings, "dwi", CU_QC_SEVERITY_ERROR);
  g_assert_nonnull (f);
  g_assert_nonnull (strstr (f->message, "800"));
  g_assert_nonnull (strstr (f->message, "1400"));
  g_assert_null (find (findings, "adc", CU_QC_SEVERITY_ERROR));
  /* no DCE: the study is bpMRI — recommended, so a warning */
  g_assert_nonnull (find (findings, "dce", CU_QC_SEVERITY_WARNING));
  g_assert_null (find (findings, "dce", CU_QC_SEVERITY_ERROR));
}

/* The prostate MR protocol says nothing about a CT study: one note that the study is outside
 * it, not an error per missing MR series. */
static void
test_protocol_other_modality (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuQcProtocol) p = cu_qc_protocol_load (CU_QC_PROTOCOL_DEFAULT, &error);
  g_autoptr (GPtrArray) reports = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_report_free);
  g_autoptr (GPtrArray) findings = NULL;

  g_assert_no_error (error);
  g_ptr_array_add (reports, report ("2.1", "CT", "axial", NULL, NULL));
  findings = cu_qc_protocol_check (p, reports);
  g_assert_cmpuint (findings->len, ==, 1);
  g_assert_cmpint (((CuQcFinding *) findings->pdata[0])->severity, ==, CU_QC_SEVERITY_INFO);
  g_assert_nonnull (strstr (((CuQcFinding *) findings->pdata[0])->message, "MR"));
}

static void
test_protocol_bad_file (void)
{
  g_autoptr (GError) error = NULL;
  CuQcProtocol *p = cu_qc_protocol_load ("/nonexistent/protocol.ini", &error);

  g_assert_null (p);
  g_assert_error (error, CU_QC_ERROR, CU_QC_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/qc/cohort/robust-z", test_robust_z);
  g_test_add_func ("/curation/qc/cohort/robust-z-mad-zero", test_robust_z_mad_zero);
  g_test_add_func ("/curation/qc/protocol/pirads", test_protocol);
  g_test_add_func ("/curation/qc/protocol/other-modality", test_protocol_other_modality);
  g_test_add_func ("/curation/qc/protocol/bad-file", test_protocol_bad_file);
  return g_test_run ();
}

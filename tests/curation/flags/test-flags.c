/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-flags.c — consistency rules against real DICOM from the shared corpus and the demo
 * study, with a clinical CSV whose inconsistencies are seeded on purpose: every seeded
 * inconsistency is flagged and the consistent patient (a synthetic complete mpMRI study) gets
 * no flag; the series classification the rules read (real and synthetic series with known
 * answers), PROT-01 on it, PatientAge (XREF-03) and the eCRF's time points (XREF-06). Then the
 * lifecycle: re-running never duplicates, a corrected value closes its flag and says so,
 * accepted findings stay closed, forbidden transitions are refused, everything is in the
 * flag history and the audit log; and a project rule from the workspace's rules/ folder.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "curation.h"
#include "curation-test-util.h"
#include "cu-store-private.h"

typedef struct
{
  char *tmp;
  char *workspace;
  CuStore *store;
} Fixture;

/* The seeded clinical file. Real DICOM it refers to (PatientID, DICOM sex / birth date):
 *  QIN-PROSTATE-01-0001  mr/prostate_adc_ge: M, age 064Y, prostate MR of 1971-07-14, an ADC map only
 *  4MR1                  single/MR_small.dcm: F, MR of 2004-08-26
 *  NM07QC                pt/ge_advance_hoffman_jhu: M, born 2016-01-01, PET of 2018-04-30
 *  1CT1                  single/CT_small.dcm: sex O, CT of 2004-01-19
 * the demo study (CUR-DEMO-0001) with the demo's own clinical row, consistent except that the
 * demo has no DWI and no DCE series (PROT-01, PROT-01b), and a synthetic complete mpMRI study
 * (PX-0200, written by write_mpmri_study below: axial T2W, DWI b 0/800/1400, ADC, DCE) whose
 * clinical row is consistent in every respect, with the eCRF's baseline imaging date. */
#define WIDE_HEADER \
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary," \
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type," \
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date," \
  "observation_start_date,baseline_imaging_date,followup_imaging_date\n"

static const char seeded_csv[] = WIDE_HEADER
  "CUR-DEMO-0001,M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,2024-05-21,2025-09-30,alive,,no,,2024-02-01,,\n"
  /* follow-up 289 days after treatment (CLIN-14); the study has only an ADC map: no axial
   * T2W and no DWI (PROT-01), no DCE (PROT-01b). Born 1907, as its PatientAge 064Y says. */
  "QIN-PROSTATE-01-0001,M,1907,prostate,1971-08-01,9.1,1971-07-01,3,4,7,2,T2a,N0,M0,,prostatectomy,1971-09-15,1972-06-30,alive,,no,,,,\n"
  /* eCRF sex M, DICOM F (XREF-02) */
  "4MR1,M,1950,colorectal,2004-09-01,,,,,,,,,,,chemotherapy,2004-10-01,2006-01-01,alive,,,,,,\n"
  /* birth year 1990 vs DICOM 2016 (XREF-03); treatment 45 days before diagnosis (CLIN-13);
   * follow-up after death (CLIN-15); PET after death (XREF-04) */
  "NM07QC,M,1990,lung,2018-03-01,,,,,,,,,,,radiotherapy,2018-01-15,2019-06-01,dead,2018-04-01,,,,,\n"
  /* diagnosis date missing (CLIN-01); born 1950, but the real header says PatientAge 000Y
   * (XREF-03) */
  "1CT1,F,1950,breast,,,,,,,,,,,,none,,2005-06-01,alive,,,,,,\n"
  /* consistent in every respect, baseline imaging dated by the eCRF (the synthetic study) */
  "PX-0200,M,1962,prostate,2022-03-20,7.1,2022-03-02,3,4,7,2,T2b,N0,M0,4,prostatectomy,2022-05-02,2023-09-01,alive,,no,,2022-01-10,2022-03-01,\n"
  /* no imaging (XREF-01); Gleason 4+3 is grade group 3, not 2 (CLIN-12) */
  "PX-0099,M,1960,prostate,2020-01-10,5.5,2020-01-02,4,3,7,2,,,,,radiotherapy,2020-03-01,2021-06-01,alive,,,,,,\n"
  /* the same patient under two pseudonyms (CLIN-16, both), no imaging (XREF-01) */
  "PX-0100,M,1955,prostate,2021-02-01,6.2,2021-01-20,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,,,\n"
  "PX-0101,M,1955,prostate,2021-02-03,6.2,2021-01-22,3,3,6,1,,,,,active_surveillance,,2022-05-01,alive,,,,,,\n"
  /* prostate cancer in a woman (CLIN-10), PSA 6400 (CLIN-11), no imaging (XREF-01) */
  "PX-0102,F,1950,prostate,2019-05-05,6400,2019-05-01,3,3,6,1,,,,,none,,2020-06-01,alive,,,,,,\n"
  /* observation period starting after its end (CLIN-08) and after the diagnosis (CLIN-09),
   * no imaging (XREF-01) */
  "PX-0103,M,1950,prostate,2019-05-05,5.0,2019-05-01,3,3,6,1,,,,,none,,2020-06-01,alive,,,,2021-01-01,,\n"
  /* last follow-up in the future (CLIN-06), no imaging (XREF-01) */
  "PX-0104,M,1951,prostate,2018-02-02,4.0,2018-01-20,3,3,6,1,,,,,none,,2090-01-01,alive,,,,,,\n";

static const char *const expected_flags[] = {
  "PROT-01 CUR-DEMO-0001", "PROT-01b CUR-DEMO-0001",
  "CLIN-14 QIN-PROSTATE-01-0001", "PROT-01 QIN-PROSTATE-01-0001", "PROT-01b QIN-PROSTATE-01-0001",
  "XREF-02 4MR1",
  "XREF-03 NM07QC", "CLIN-13 NM07QC", "CLIN-15 NM07QC", "XREF-04 NM07QC",
  "CLIN-01 1CT1", "XREF-03 1CT1",
  "XREF-01 PX-0099", "CLIN-12 PX-0099",
  "CLIN-16 PX-0100", "CLIN-16 PX-0101", "XREF-01 PX-0100", "XREF-01 PX-0101",
  "CLIN-10 PX-0102", "CLIN-11 PX-0102", "XREF-01 PX-0102",
  "CLIN-08 PX-0103", "CLIN-09 PX-0103", "XREF-01 PX-0103",
  "CLIN-06 PX-0104", "XREF-01 PX-0104",
  NULL
};


/* ---- A synthetic complete prostate mpMRI study (headers as scanners write them) ------- */

#define T(g, e) CU_DICOM_TAG (0x##g, 0x##e)

typedef struct
{
  int number;
  const char *image_type, *scanning_sequence, *sequence_name;
  double tr, te;
  int etl;
  int n_volumes;            /* b-values or time points */
  const double *b_values;   /* NULL: none */
  gboolean dce;
  const double *iop;
} SynthSeries;

static const double axial[6] = { 1, 0, 0, 0, 1, 0 };
static const double sagittal[6] = { 0, 1, 0, 0, 0, -1 };
static const double dwi_b[3] = { 0, 800, 1400 };
static const double dwi_b_low[2] = { 0, 1000 };

static void
write_series (const char *dir, const char *patient, const char *age, const char *date,
              const char *description, const SynthSeries *s)
{
  g_autofree char *study_name = g_strdup_printf ("test-flags/%s/study", patient);
  g_autofree char *study_uid = cu_dicom_uid_from_name (study_name);
  g_autofree char *series_name = g_strdup_printf ("test-flags/%s/series/%d", patient, s->number);
  g_autofree char *series_uid = cu_dicom_uid_from_name (series_name);
  g_autofree char *for_name = g_strdup_printf ("test-flags/%s/for", patient);
  g_autofree char *for_uid = cu_dicom_uid_from_name (for_name);
  guint16 pixels[16];
  double ps[2] = { 2.0, 2.0 }, thick = 3.0;
  const int n_slices = 3;

  for (guint i = 0; i < G_N_ELEMENTS (pixels); i++)
    pixels[i] = GUINT16_TO_LE (100 + i);
  for (int v = 0; v < s->n_volumes; v++)
    for (int k = 0; k < n_slices; k++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(CuDicomDataset) ds = cu_dicom_dataset_new ();
        g_autofree char *sop_name = g_strdup_printf ("%s/%d/%d", series_name, v, k);
        g_autofree char *sop_uid = cu_dicom_uid_from_name (sop_name);
        g_autofree char *path = g_strdup_printf ("%s/s%02d_v%d_k%d.dcm", dir, s->number, v, k);
        double n[3] = { s->iop[1] * s->iop[5] - s->iop[2] * s->iop[4],
                        s->iop[2] * s->iop[3] - s->iop[0] * s->iop[5],
                        s->iop[0] * s->iop[4] - s->iop[1] * s->iop[3] };
        double ipp[3] = { k * thick * n[0], k * thick * n[1], k * thick * n[2] };

        cu_dicom_dataset_add_string (ds, T (0008, 0008), "CS", s->image_type);
        cu_dicom_dataset_add_string (ds, T (0008, 0016), "UI", CU_DICOM_MR_IMAGE_STORAGE);
        cu_dicom_dataset_add_string (ds, T (0008, 0018), "UI", sop_uid);
        cu_dicom_dataset_add_string (ds, T (0008, 0020), "DA", date);
        cu_dicom_dataset_add_string (ds, T (0008, 0060), "CS", "MR");
        cu_dicom_dataset_add_string (ds, T (0008, 1030), "LO", description);
        cu_dicom_dataset_add_string (ds, T (0010, 0010), "PN", patient);
        cu_dicom_dataset_add_string (ds, T (0010, 0020), "LO", patient);
        cu_dicom_dataset_add_string (ds, T (0010, 0040), "CS", "M");
        cu_dicom_dataset_add_string (ds, T (0010, 1010), "AS", age);
        /* pseudonymized as a site's tool marks it: the gate passes, no flag asks the site to
         * send the study again */
        cu_dicom_dataset_add_string (ds, T (0012, 0062), "CS", "YES");
        cu_dicom_dataset_add_string (ds, T (0018, 0015), "CS", "PROSTATE");
        cu_dicom_dataset_add_string (ds, T (0018, 0020), "CS", s->scanning_sequence);
        cu_dicom_dataset_add_string (ds, T (0018, 0024), "SH", s->sequence_name);
        cu_dicom_dataset_add_ds (ds, T (0018, 0050), &thick, 1);
        cu_dicom_dataset_add_ds (ds, T (0018, 0080), &s->tr, 1);
        cu_dicom_dataset_add_ds (ds, T (0018, 0081), &s->te, 1);
        if (s->etl > 0)
          cu_dicom_dataset_add_printf (ds, T (0018, 0091), "IS", "%d", s->etl);
        if (s->b_values != NULL)
          cu_dicom_dataset_add_fd (ds, T (0018, 9087), s->b_values[v]);
        cu_dicom_dataset_add_string (ds, T (0020, 000D), "UI", study_uid);
        cu_dicom_dataset_add_string (ds, T (0020, 000E), "UI", series_uid);
        cu_dicom_dataset_add_printf (ds, T (0020, 0011), "IS", "%d", s->number);
        cu_dicom_dataset_add_printf (ds, T (0020, 0013), "IS", "%d", v * n_slices + k + 1);
        cu_dicom_dataset_add_ds (ds, T (0020, 0032), ipp, 3);
        cu_dicom_dataset_add_ds (ds, T (0020, 0037), s->iop, 6);
        cu_dicom_dataset_add_string (ds, T (0020, 0052), "UI", for_uid);
        if (s->dce)
          {
            cu_dicom_dataset_add_printf (ds, T (0020, 0100), "IS", "%d", v + 1);
            cu_dicom_dataset_add_printf (ds, T (0020, 0105), "IS", "%d", s->n_volumes);
          }
        cu_dicom_dataset_add_us (ds, T (0028, 0002), 1);
        cu_dicom_dataset_add_string (ds, T (0028, 0004), "CS", "MONOCHROME2");
        cu_dicom_dataset_add_us (ds, T (0028, 0010), 4);
        cu_dicom_dataset_add_us (ds, T (0028, 0011), 4);
        cu_dicom_dataset_add_ds (ds, T (0028, 0030), ps, 2);
        cu_dicom_dataset_add_us (ds, T (0028, 0100), 16);
        cu_dicom_dataset_add_us (ds, T (0028, 0101), 12);
        cu_dicom_dataset_add_us (ds, T (0028, 0102), 11);
        cu_dicom_dataset_add_us (ds, T (0028, 0103), 0);
        cu_dicom_dataset_add_bytes (ds, T (7FE0, 0010), "OW", pixels, sizeof pixels);
        g_assert_true (cu_dicom_dataset_write_file (ds, path, &error));
        g_assert_no_error (error);
      }
}

/* An axial T2W TSE, a DWI with b 0/800/1400 (DiffusionBValue), its ADC map and a DCE with
 * 3 time points; complete = FALSE gives a sagittal T2W, a DWI up to b 1000 and no DCE. */
static void
write_mpmri_study (const char *dir, const char *patient, const char *age, const char *date,
                   const char *description, gboolean complete)
{
  const SynthSeries t2 = { 2, "ORIGINAL\\PRIMARY\\M\\ND", "SE", "*tse2d1_16", 4000, 100, 16, 1, NULL,
                           FALSE, complete ? axial : sagittal };
  const SynthSeries dwi = { 4, "ORIGINAL\\PRIMARY\\DIFFUSION\\NONE", "EP", "*ep_b0_1400", 4500, 70, 0,
                            complete ? 3 : 2, complete ? dwi_b : dwi_b_low, FALSE, axial };
  const SynthSeries adc = { 5, "DERIVED\\PRIMARY\\DIFFUSION\\ADC", "EP", "*ep_b0_1400", 4500, 70, 0, 1,
                            NULL, FALSE, axial };
  const SynthSeries dce = { 7, "ORIGINAL\\PRIMARY\\M\\ND", "GR", "*fl3d1", 4.5, 1.6, 0, 3, NULL, TRUE,
                            axial };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  write_series (dir, patient, age, date, description, &t2);
  write_series (dir, patient, age, date, description, &dwi);
  write_series (dir, patient, age, date, description, &adc);
  if (complete)
    write_series (dir, patient, age, date, description, &dce);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuImportReport) report = NULL;
  g_autoptr(CuClinicalReport) clinical = NULL;
  g_autofree char *demo = NULL;
  g_autofree char *csv = NULL;
  g_auto(GStrv) written = NULL;
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL, *mpmri = NULL;

  g_assert_nonnull (shared);
  f->store = curation_test_open_workspace ("cu-test-flags-XXXXXX", &f->tmp, &f->workspace);

  demo = g_build_filename (f->tmp, "demo", NULL);
  written = cu_demo_write (demo, NULL, &error);
  g_assert_no_error (error);
  p1 = g_build_filename (shared, "mr", "prostate_adc_ge", NULL);
  p2 = g_build_filename (shared, "single", "MR_small.dcm", NULL);
  p3 = g_build_filename (shared, "single", "CT_small.dcm", NULL);
  p4 = g_build_filename (shared, "pt", "ge_advance_hoffman_jhu", NULL);
  mpmri = g_build_filename (f->tmp, "mpmri", NULL);
  write_mpmri_study (mpmri, "PX-0200", "059Y", "20220301", "MRI prostate baseline", TRUE);
  {
    const char *paths[] = { demo, p1, p2, p3, p4, mpmri, NULL };
    report = cu_store_import (f->store, paths, NULL, NULL, &error);
    g_assert_no_error (error);
  }

  csv = g_build_filename (f->tmp, "seeded.csv", NULL);
  g_file_set_contents (csv, seeded_csv, -1, &error);
  g_assert_no_error (error);
  clinical = cu_clinical_import (f->store, csv, "SITE-A", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (clinical->issues->len, ==, 0);
  g_assert_cmpuint (clinical->n_persons, ==, 12);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  curation_test_close_workspace (&f->store, &f->tmp, &f->workspace);
}

static GPtrArray *
active_flags (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CuFlagFilter filter = { .state = "active", .kind = "rule" };
  GPtrArray *flags = cu_flags_list (f->store, &filter, &error);

  g_assert_no_error (error);
  return flags;
}

/* The active pseudonymization flags: those the check raises for quarantined studies. */
static GPtrArray *
active_deid_flags (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CuFlagFilter filter = { .state = "active", .kind = "deid" };
  GPtrArray *flags = cu_flags_list (f->store, &filter, &error);

  g_assert_no_error (error);
  return flags;
}

static CuFlag *
find_flag (GPtrArray *flags, const char *rule, const char *person)
{
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *fl = flags->pdata[i];
      if (strcmp (fl->rule_id, rule) == 0 && strcmp (fl->person_id, person) == 0)
        return fl;
    }
  return NULL;
}

static CuFlagCheckReport *
check (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  CuFlagCheckReport *r = cu_flags_check (f->store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < r->rule_errors->len; i++)
    g_printerr ("rule error: %s\n", (char *) r->rule_errors->pdata[i]);
  g_assert_cmpuint (r->rule_errors->len, ==, 0);
  return r;
}

static void
test_seeded (Fixture *f, gconstpointer data)
{
  g_autoptr(CuFlagCheckReport) r = check (f);
  g_autoptr(GPtrArray) flags = active_flags (f);
  g_autoptr(JsonNode) details = NULL;
  CuFlag *sex;
  guint n_expected = g_strv_length ((char **) expected_flags);

  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *fl = flags->pdata[i];
      g_autofree char *key = g_strdup_printf ("%s %s", fl->rule_id, fl->person_id);
      g_test_message ("flag %s: %s", key, fl->message);
      if (!g_strv_contains (expected_flags, key))
        g_printerr ("unexpected flag %s: %s\n", key, fl->message);
    }
  for (guint i = 0; expected_flags[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (expected_flags[i], " ", 2);
      if (find_flag (flags, parts[0], parts[1]) == NULL)
        g_error ("seeded inconsistency not flagged: %s", expected_flags[i]);
    }
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *fl = flags->pdata[i];
      g_autofree char *key = g_strdup_printf ("%s %s", fl->rule_id, fl->person_id);
      if (!g_strv_contains (expected_flags, key))
        g_error ("unexpected flag %s: %s", key, fl->message);
    }
  g_assert_cmpuint (flags->len, ==, n_expected);
  g_assert_cmpuint (r->rule_errors->len, ==, 0);

  /* Besides the rules' flags, one per study the pseudonymization gate quarantined (the
   * corpus files carry identifying data; the synthetic study does not): only the site can fix
   * those, so the check sends each back as a flag, severity error, on that study. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) deid = active_deid_flags (f);
    g_autoptr(GPtrArray) gates = cu_store_list_gates (f->store, &error);
    guint n_quarantined = 0;

    g_assert_no_error (error);
    for (guint i = 0; i < gates->len; i++)
      if (((CuStudyGate *) gates->pdata[i])->state == CU_GATE_QUARANTINED)
        n_quarantined++;
    g_assert_cmpuint (n_quarantined, >, 0);
    g_assert_cmpuint (deid->len, ==, n_quarantined);
    for (guint i = 0; i < deid->len; i++)
      {
        const CuFlag *fl = deid->pdata[i];
        g_autoptr(CuStudyGate) gate = cu_store_get_study_gate (f->store, fl->study_uid, &error);

        g_assert_no_error (error);
        g_assert_cmpint (gate->state, ==, CU_GATE_QUARANTINED);
        g_assert_cmpint (fl->kind, ==, CU_FLAG_KIND_DEID);
        g_assert_cmpstr (fl->severity, ==, "error");
      }
    g_assert_cmpuint (r->n_new, ==, n_expected + n_quarantined);
    g_assert_cmpuint (r->n_active, ==, n_expected + n_quarantined);

    /* A curator overrides one gate: the next check closes its flag, and raises nothing new. */
    {
      const CuFlag *first = deid->pdata[0];
      g_autofree char *study = g_strdup (first->study_uid);
      gint64 id = first->id;
      g_autoptr(CuFlagCheckReport) again = NULL;
      g_autoptr(CuFlag) closed = NULL;

      g_assert_true (cu_store_override_study (f->store, study, "checked by the site", &error));
      g_assert_no_error (error);
      again = check (f);
      g_assert_cmpuint (again->n_new, ==, 0);
      closed = cu_flags_get (f->store, id, &error);
      g_assert_no_error (error);
      g_assert_cmpint (closed->state, ==, CU_FLAG_RESOLVED);
      g_clear_pointer (&deid, g_ptr_array_unref);
      deid = active_deid_flags (f);
      g_assert_cmpuint (deid->len, ==, n_quarantined - 1);
    }
  }

  /* The consistent patient has no flag at all. */
  for (guint i = 0; i < flags->len; i++)
    g_assert_cmpstr (((CuFlag *) flags->pdata[i])->person_id, !=, "PX-0200");

  /* A flag names the pseudonym, the study, the disagreeing values and the rule. */
  sex = find_flag (flags, "XREF-02", "4MR1");
  g_assert_nonnull (sex->study_uid);
  g_assert_cmpstr (sex->study_uid, ==, "1.3.6.1.4.1.5962.1.2.4.20040826185059.5457");
  g_assert_cmpstr (sex->variable, ==, "sex");
  g_assert_cmpstr (sex->site, ==, "SITE-A");
  g_assert_cmpstr (sex->severity, ==, "error");
  details = json_from_string (sex->details, NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (details), "dicom_sex"), ==, "F");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (details), "sex"), ==, "M");
  g_assert_nonnull (strstr (sex->message, "F"));
  g_assert_nonnull (find_flag (flags, "PROT-01", "QIN-PROSTATE-01-0001")->study_uid);
}

static void
test_rerun_and_lifecycle (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuFlagCheckReport) r1 = check (f);
  g_autoptr(CuFlagCheckReport) r2 = NULL;
  g_autoptr(CuFlagCheckReport) r3 = NULL;
  g_autoptr(CuFlagCheckReport) r4 = NULL;
  g_autoptr(GPtrArray) all1 = NULL, all2 = NULL, flags = NULL, events = NULL;
  g_autoptr(CuFlag) closed = NULL;
  gint64 sex_id, dup_id;
  sqlite3_stmt *stmt;
  int n_audit = 0;

  all1 = cu_flags_list (f->store, NULL, &error);
  g_assert_no_error (error);

  /* Running again changes nothing and never duplicates. */
  r2 = check (f);
  g_assert_cmpuint (r2->n_new, ==, 0);
  g_assert_cmpuint (r2->closed->len, ==, 0);
  g_assert_cmpuint (r2->n_still_open, ==, r1->n_new);
  all2 = cu_flags_list (f->store, NULL, &error);
  g_assert_cmpuint (all2->len, ==, all1->len);

  flags = active_flags (f);
  sex_id = find_flag (flags, "XREF-02", "4MR1")->id;
  dup_id = find_flag (flags, "CLIN-16", "PX-0100")->id;

  /* Lifecycle: open → sent → answered → accepted, with comments. */
  g_assert_true (cu_flags_set_state (f->store, dup_id, CU_FLAG_SENT, "asked the site", &error));
  g_assert_no_error (error);
  g_assert_true (cu_flags_set_state (f->store, dup_id, CU_FLAG_ANSWERED, "site: two brothers, twins", &error));
  g_assert_true (cu_flags_comment (f->store, dup_id, "checked with the study coordinator", &error));
  g_assert_true (cu_flags_set_state (f->store, dup_id, CU_FLAG_ACCEPTED, "twins: not a duplicate", &error));
  g_assert_no_error (error);
  /* A closed flag can only be reopened. */
  g_assert_false (cu_flags_set_state (f->store, dup_id, CU_FLAG_SENT, NULL, &error));
  g_assert_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_TRANSITION);
  g_clear_error (&error);
  g_assert_false (cu_flags_set_state (f->store, 99999, CU_FLAG_SENT, NULL, &error));
  g_assert_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  events = cu_flags_events (f->store, dup_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 5);   /* created, sent, answered, comment, accepted */
  g_assert_null (((CuFlagEvent *) events->pdata[0])->from_state);
  g_assert_cmpstr (((CuFlagEvent *) events->pdata[2])->comment, ==, "site: two brothers, twins");
  g_assert_cmpstr (((CuFlagEvent *) events->pdata[4])->to_state, ==, "accepted");
  g_assert_cmpstr (((CuFlagEvent *) events->pdata[4])->user, ==, g_get_user_name ());
  stmt = _cu_store_prepare (f->store->db, "SELECT count (*) FROM audit_log WHERE object = ?1"
                                          " AND action IN ('flag-state', 'flag-comment')", &error);
  {
    g_autofree char *object = g_strdup_printf ("flag:%lld", (long long) dup_id);
    sqlite3_bind_text (stmt, 1, object, -1, SQLITE_TRANSIENT);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    n_audit = sqlite3_column_int (stmt, 0);
    sqlite3_finalize (stmt);
  }
  g_assert_cmpint (n_audit, ==, 5);

  /* New data: the eCRF sex of 4MR1 is corrected. The re-run closes that flag and says so;
   * the accepted duplicate does not come back. */
  g_assert_true (cu_clinical_set_value (f->store, "4MR1", "sex", "F", "test", "correction", &error));
  g_assert_no_error (error);
  r3 = check (f);
  g_assert_cmpuint (r3->n_new, ==, 0);
  g_assert_cmpuint (r3->closed->len, ==, 1);
  g_assert_cmpint (((CuFlag *) r3->closed->pdata[0])->id, ==, sex_id);
  g_assert_cmpuint (r3->n_suppressed, ==, 1);
  closed = cu_flags_get (f->store, sex_id, &error);
  g_assert_cmpint (closed->state, ==, CU_FLAG_RESOLVED);
  g_clear_pointer (&events, g_ptr_array_unref);
  events = cu_flags_events (f->store, sex_id, &error);
  g_assert_nonnull (strstr (((CuFlagEvent *) events->pdata[events->len - 1])->comment, "disappeared"));

  /* The cause comes back: a new flag is opened (the resolved one stays resolved). */
  g_assert_true (cu_clinical_set_value (f->store, "4MR1", "sex", "M", "test", "regression", &error));
  r4 = check (f);
  g_assert_cmpuint (r4->n_new, ==, 1);
  g_assert_cmpint (((CuFlag *) r4->opened->pdata[0])->id, !=, sex_id);
  g_assert_cmpstr (((CuFlag *) r4->opened->pdata[0])->rule_id, ==, "XREF-02");
}

static void
test_project_rule (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (f->workspace, "rules", NULL);
  g_autofree char *custom = g_build_filename (dir, "SITE-01.sql", NULL);
  g_autofree char *off = g_build_filename (dir, "CLIN-16.sql", NULL);
  g_autofree char *broken = g_build_filename (dir, "BAD-01.sql", NULL);
  g_autoptr(CuFlagCheckReport) r = NULL;
  g_autoptr(CuFlagCheckReport) r2 = NULL;
  g_autoptr(GPtrArray) flags = NULL;
  CuFlag *fl;

  g_mkdir_with_parents (dir, 0700);
  /* A project's own threshold: PSA above 50 needs a look. */
  g_file_set_contents (custom,
                       "-- id: SITE-01\n-- severity: info\n-- title: High PSA\n"
                       "-- message: PSA {psa_ng_ml} is above the project's 50 ng/mL\n"
                       "SELECT person_id, 'psa_ng_ml' AS variable, psa_ng_ml FROM clinical WHERE psa_ng_ml > 50\n",
                       -1, &error);
  g_file_set_contents (off, "-- id: CLIN-16\n-- disabled: yes\n", -1, &error);
  g_assert_no_error (error);
  r = check (f);
  flags = active_flags (f);
  fl = find_flag (flags, "SITE-01", "PX-0102");
  g_assert_nonnull (fl);
  g_assert_cmpstr (fl->severity, ==, "info");
  g_assert_cmpstr (fl->message, ==, "PSA 6400.0 is above the project's 50 ng/mL");
  g_assert_null (find_flag (flags, "CLIN-16", "PX-0100"));

  /* A rule that writes is refused, and reported; the others still run. */
  g_file_set_contents (broken, "-- id: BAD-01\nDELETE FROM clinical_value\n", -1, &error);
  r2 = cu_flags_check (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r2->rule_errors->len, ==, 1);
  g_assert_nonnull (strstr (r2->rule_errors->pdata[0], "BAD-01"));
  g_assert_cmpuint (cu_clinical_count_persons (f->store), ==, 12);
  g_assert_cmpuint (r2->n_still_open, ==, r->n_active);
}


static const char *
detail (CuFlag *fl, const char *name)
{
  static char buf[256];
  g_autoptr(JsonNode) node = json_from_string (fl->details, NULL);
  JsonObject *o = json_node_get_object (node);

  g_assert_true (json_object_has_member (o, name));
  g_strlcpy (buf, json_object_get_string_member (o, name) != NULL
                    ? json_object_get_string_member (o, name) : "", sizeof buf);
  return buf;
}

static void
assert_class (const char *dir, const char *sequence, const char *plane, double b_max, int n_volumes)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, &error);
  g_autoptr(CuSeriesClass) k = NULL;
  const char *name;

  g_assert_no_error (error);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_add (files, NULL);
  k = cu_series_class_from_files ((const char *const *) files->pdata, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s %s b %.0f, %d volumes", dir, k->sequence, k->plane, k->b_max, k->n_volumes);
  g_assert_cmpstr (k->sequence, ==, sequence);
  g_assert_cmpstr (k->plane, ==, plane);
  g_assert_cmpfloat_with_epsilon (k->b_max, b_max, 0.5);
  if (n_volumes > 0)
    g_assert_cmpint (k->n_volumes, ==, n_volumes);
}

/* The classification the rules read, on real series of the shared corpus (their known
 * acquisitions, MANIFEST.tsv) and on synthetic headers with known answers. */
static void
test_series_class (void)
{
  g_autoptr(GError) error = NULL;
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_autofree char *adc = g_build_filename (shared, "mr", "prostate_adc_ge", NULL);
  g_autofree char *fmri = g_build_filename (shared, "mr", "ge_fmri_study", "s04_epi_interleaved_i_to_s", NULL);
  g_autofree char *dti = g_build_filename (shared, "mr", "philips_dti_ax", NULL);
  g_autofree char *tmp = g_dir_make_tmp ("cu-test-class-XXXXXX", &error);
  g_autofree char *full = g_build_filename (tmp, "full", NULL);
  g_autofree char *partial = g_build_filename (tmp, "partial", NULL);
  const struct { const char *prefix, *sequence, *plane; double b; int nv; } synth[] = {
    { "s02_", "T2W", "axial", -1, 1 }, { "s04_", "DWI", "axial", 1400, 3 },
    { "s05_", "ADC", "axial", 1400, 1 }, { "s07_", "DCE", "axial", -1, 3 },
  };

  /* GE prostate ADC map (derived, ImageType …\ADC), axial */
  assert_class (adc, "ADC", "axial", -1, 1);
  if (g_file_test (fmri, G_FILE_TEST_IS_DIR))
    assert_class (fmri, "EPI", "axial", 0, 10);   /* GE gradient-echo EPI fMRI, 10 volumes, b 0 */
  /* Philips DTI (ScanningSequence SE, b-values in 2001,1003; 16 directions + isotropic + b 0) */
  assert_class (dti, "DWI", "axial", 2000, 17);

  write_mpmri_study (full, "PX-SYN", "060Y", "20220301", "", TRUE);
  write_mpmri_study (partial, "PX-SYN2", "060Y", "20220301", "", FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (synth); i++)
    {
      g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GDir) d = g_dir_open (full, 0, NULL);
      g_autoptr(CuSeriesClass) k = NULL;
      const char *name;

      while ((name = g_dir_read_name (d)) != NULL)
        if (g_str_has_prefix (name, synth[i].prefix))
          g_ptr_array_add (files, g_build_filename (full, name, NULL));
      g_ptr_array_add (files, NULL);
      k = cu_series_class_from_files ((const char *const *) files->pdata, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (k->sequence, ==, synth[i].sequence);
      g_assert_cmpstr (k->plane, ==, synth[i].plane);
      g_assert_cmpfloat_with_epsilon (k->b_max, synth[i].b, 0.5);
      g_assert_cmpint (k->n_volumes, ==, synth[i].nv);
      g_assert_cmpstr (k->patient_age, ==, "060Y");
    }
  {
    /* A calculated high-b image (Siemens: DERIVED … CALC_BVALUE, the b only in the sequence
     * name) counts as DWI with its b. */
    g_autofree char *calc = g_build_filename (tmp, "calc", NULL);
    const SynthSeries calc_b = { 6, "DERIVED\\PRIMARY\\DIFFUSION\\CALC_BVALUE\\TRACEW", "EP", "*ep_b1400t",
                                 4500, 70, 0, 1, NULL, FALSE, axial };

    g_assert_cmpint (g_mkdir_with_parents (calc, 0700), ==, 0);
    write_series (calc, "PX-SYN3", "060Y", "20220301", "", &calc_b);
    assert_class (calc, "DWI", "axial", 1400, 1);
  }
  {
    /* the incomplete study: the T2W is sagittal, the DWI stops at b 1000 */
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GDir) d = g_dir_open (partial, 0, NULL);
    g_autoptr(CuSeriesClass) k = NULL;
    const char *name;

    while ((name = g_dir_read_name (d)) != NULL)
      if (g_str_has_prefix (name, "s02_"))
        g_ptr_array_add (files, g_build_filename (partial, name, NULL));
    g_ptr_array_add (files, NULL);
    k = cu_series_class_from_files ((const char *const *) files->pdata, NULL, &error);
    g_assert_cmpstr (k->sequence, ==, "T2W");
    g_assert_cmpstr (k->plane, ==, "sagittal");
  }
  curation_test_rm_rf (tmp);
}

/* PROT-01 from the series classification: the synthetic complete study passes (no flag for
 * PX-0200), the real GE ADC-only study lacks axial T2W and DWI, the demo lacks DWI, and an
 * incomplete synthetic study (sagittal T2W, DWI up to b 1000, no DCE) is told exactly what it
 * lacks; a study without DCE is biparametric (PROT-01b, info). */
static void
test_protocol (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "partial", NULL);
  g_autofree char *csv = g_build_filename (f->tmp, "partial.csv", NULL);
  g_autoptr(CuImportReport) imported = NULL;
  g_autoptr(CuClinicalReport) clinical = NULL;
  g_autoptr(CuFlagCheckReport) r = NULL;
  g_autoptr(GPtrArray) flags = NULL;
  CuFlag *fl;

  write_mpmri_study (dir, "PX-0300", "070Y", "20230105", "MRI prostate", FALSE);
  {
    const char *paths[] = { dir, NULL };
    imported = cu_store_import (f->store, paths, NULL, NULL, &error);
    g_assert_no_error (error);
  }
  g_file_set_contents (csv, WIDE_HEADER
                       "PX-0300,M,1953,prostate,2023-01-20,9.0,2023-01-02,3,3,6,1,,,,,active_surveillance,,"
                       "2024-03-01,alive,,,,,,\n", -1, &error);
  clinical = cu_clinical_import (f->store, csv, "SITE-A", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (clinical->issues->len, ==, 0);

  r = check (f);
  flags = active_flags (f);
  fl = find_flag (flags, "PROT-01", "PX-0300");
  g_assert_nonnull (fl);
  g_assert_cmpstr (detail (fl, "missing"), ==, "T2W (axial), DWI b ≥ 1400 (b max = 1000)");
  g_assert_nonnull (find_flag (flags, "PROT-01b", "PX-0300"));
  g_assert_cmpstr (detail (find_flag (flags, "PROT-01", "QIN-PROSTATE-01-0001"), "missing"), ==,
                   "T2W (axial), DWI");
  g_assert_cmpstr (detail (find_flag (flags, "PROT-01", CU_DEMO_PATIENT_ID), "missing"), ==, "DWI");
  g_assert_null (find_flag (flags, "PROT-01", "PX-0200"));
  g_assert_null (find_flag (flags, "PROT-01b", "PX-0200"));
  /* 070Y on 2023-01-05, born 1953: 70 by the year, consistent */
  g_assert_null (find_flag (flags, "XREF-03", "PX-0300"));
}

/* XREF-03 on PatientAge: 059Y on 2022-03-01 agrees with born 1962 (60 by the year); born
 * 1970 it does not, and the flag says it read PatientAge. XREF-06: the eCRF's baseline date
 * gives the time point; without it, the study description does, and the flag says which. */
static void
test_age_and_timepoint (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuFlagCheckReport) r1 = NULL, r2 = NULL, r3 = NULL;
  g_autoptr(GPtrArray) f1 = NULL, f2 = NULL, f3 = NULL;
  CuFlag *fl;

  g_assert_true (cu_clinical_set_value (f->store, "PX-0200", "birth_year", "1970", "test", "seeded", &error));
  g_assert_no_error (error);
  r1 = check (f);
  f1 = active_flags (f);
  fl = find_flag (f1, "XREF-03", "PX-0200");
  g_assert_nonnull (fl);
  g_assert_cmpstr (detail (fl, "variant"), ==, "age");
  g_assert_cmpstr (detail (fl, "patient_age"), ==, "059Y");
  g_assert_cmpstr (detail (fl, "dicom_age"), ==, "59");
  g_assert_cmpstr (detail (fl, "ecrf_age"), ==, "52");
  g_assert_nonnull (strstr (fl->message, "PatientAge 059Y"));

  /* PatientAge in months (006M = half a year): a child born the year before the study is
   * consistent (eCRF age 1), one born three years before is not. */
  {
    g_autofree char *dir = g_build_filename (f->tmp, "infant", NULL);
    g_autofree char *csv = g_build_filename (f->tmp, "infant.csv", NULL);
    g_autoptr(CuImportReport) imported = NULL;
    g_autoptr(CuClinicalReport) clinical = NULL;
    g_autoptr(CuFlagCheckReport) ra = NULL, rb = NULL;
    g_autoptr(GPtrArray) fa = NULL, fb = NULL;

    write_mpmri_study (dir, "PX-0500", "006M", "20220301", "MRI", FALSE);
    imported = cu_store_import (f->store, (const char *const[]) { dir, NULL }, NULL, NULL, &error);
    g_assert_no_error (error);
    g_file_set_contents (csv, WIDE_HEADER
                         "PX-0500,M,2021,other,2022-02-01,,,,,,,,,,,none,,2023-06-01,alive,,,,,,\n", -1, &error);
    clinical = cu_clinical_import (f->store, csv, "SITE-A", &error);
    g_assert_no_error (error);
    g_assert_cmpuint (clinical->issues->len, ==, 0);
    ra = check (f);
    fa = active_flags (f);
    g_assert_null (find_flag (fa, "XREF-03", "PX-0500"));
    g_assert_true (cu_clinical_set_value (f->store, "PX-0500", "birth_year", "2019", "test", "seeded", &error));
    rb = check (f);
    fb = active_flags (f);
    g_assert_nonnull (find_flag (fb, "XREF-03", "PX-0500"));
    g_assert_cmpstr (detail (find_flag (fb, "XREF-03", "PX-0500"), "patient_age"), ==, "006M");
    g_assert_cmpstr (detail (find_flag (fb, "XREF-03", "PX-0500"), "dicom_age"), ==, "0");
    g_assert_cmpstr (detail (find_flag (fb, "XREF-03", "PX-0500"), "ecrf_age"), ==, "3");
  }

  /* Treatment before the baseline study that the eCRF dates. */
  g_assert_true (cu_clinical_set_value (f->store, "PX-0200", "treatment_date", "2022-02-15", "test",
                                        "seeded", &error));
  r2 = check (f);
  f2 = active_flags (f);
  fl = find_flag (f2, "XREF-06", "PX-0200");
  g_assert_nonnull (fl);
  g_assert_cmpstr (detail (fl, "variant"), ==, "ecrf-baseline");
  g_assert_nonnull (strstr (fl->message, "eCRF"));

  /* Without the eCRF's time point, the description ("MRI prostate baseline") decides. */
  g_assert_true (cu_clinical_set_value (f->store, "PX-0200", "baseline_imaging_date", "", "test",
                                        "seeded", &error));
  g_assert_no_error (error);
  r3 = check (f);
  f3 = active_flags (f);
  fl = find_flag (f3, "XREF-06", "PX-0200");
  g_assert_nonnull (fl);
  g_assert_cmpstr (detail (fl, "variant"), ==, "description-baseline");
  g_assert_nonnull (strstr (fl->message, "description"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/curation/flags/check/seeded", Fixture, NULL, fixture_setup, test_seeded, fixture_teardown);
  g_test_add ("/curation/flags/check/lifecycle", Fixture, NULL, fixture_setup, test_rerun_and_lifecycle,
              fixture_teardown);
  g_test_add_func ("/curation/flags/series-class", test_series_class);
  g_test_add ("/curation/flags/check/protocol", Fixture, NULL, fixture_setup, test_protocol, fixture_teardown);
  g_test_add ("/curation/flags/check/age-timepoint", Fixture, NULL, fixture_setup, test_age_and_timepoint,
              fixture_teardown);
  g_test_add ("/curation/flags/check/project-rule", Fixture, NULL, fixture_setup, test_project_rule,
              fixture_teardown);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-release.c — the release ledger and withdrawals on the demo study: a written release
 * keeps its patient out of a new anonymized release (naming the earlier one), a re-send of
 * the same images under another pseudonym and new UIDs is held by its pixels, withdrawal is
 * refused for a patient released anonymized and recorded (then listed) otherwise, and two
 * processes that make the release secret at once end with one secret.
 */
#include "config.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "curation-test-util.h"

/* The demo files copied to out with another PatientID/PatientName and new study, series and
 * instance UIDs (what a site re-sending under a new pseudonym produces), by pydicom. */
static const char rewrite_py[] =
  "import os, sys, pydicom\n"
  "from pydicom.uid import generate_uid\n"
  "src, out, pid = sys.argv[1:4]\n"
  "uids = {}\n"
  "def new(u):\n"
  "    return uids.setdefault(u, generate_uid())\n"
  "for root, dirs, files in os.walk(src):\n"
  "    for f in files:\n"
  "        if not f.endswith('.dcm'):\n"
  "            continue\n"
  "        ds = pydicom.dcmread(os.path.join(root, f))\n"
  "        ds.PatientID = pid\n"
  "        ds.PatientName = pid\n"
  "        ds.StudyInstanceUID = new(ds.StudyInstanceUID)\n"
  "        ds.SeriesInstanceUID = new(ds.SeriesInstanceUID)\n"
  "        ds.SOPInstanceUID = new(ds.SOPInstanceUID)\n"
  "        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID\n"
  "        os.makedirs(os.path.join(out, os.path.basename(root)), exist_ok=True)\n"
  "        ds.save_as(os.path.join(out, os.path.basename(root), f))\n";

static void
rewrite_demo (const char *src, const char *out, const char *pid)
{
  const char *argv[] = { "/usr/bin/python3", "-c", rewrite_py, src, out, pid, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("pydicom rewrite failed: %s", err);
}

static void
import (CuStore *store, const char *dir)
{
  const char *paths[] = { dir, NULL };
  g_autoptr (GError) error = NULL;
  CuImportReport *report = cu_store_import (store, paths, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  cu_import_report_free (report);
}

/* Accept every series at the quality gate, so only the ledger can hold. */
static void
accept_all (CuStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = cu_store_list_series (store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < records->len; i++)
    {
      CuSeriesRecord *r = records->pdata[i];
      g_assert_true (cu_store_qc_decide (store, r->series_uid, CU_QC_DECISION_ACCEPTED, NULL,
                                         &error));
      g_assert_no_error (error);
    }
}

static void
add_entry (GArray *entries, GPtrArray *keep, const char *kind, char *digest)
{
  CuLedgerEntry e = { kind, digest };

  g_assert_nonnull (digest);
  g_ptr_array_add (keep, digest);
  g_array_append_val (entries, e);
}

/* What the writer records for a patient's studies: patient, study, instance and pixel
 * digests. */
static void
mark_written (CuStore *store, const char *name, const char *patient_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = cu_store_list_series (store, &error);
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (CuLedgerEntry));
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) studies = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_no_error (error);
  add_entry (entries, keep, "patient",
             cu_release_patient_digest (store, patient_id, patient_id, &error));
  for (guint i = 0; i < records->len; i++)
    {
      CuSeriesRecord *r = records->pdata[i];
      g_auto (GStrv) paths = NULL;

      if (strcmp (r->patient_id, patient_id) != 0)
        continue;
      if (g_hash_table_add (studies, r->study_uid))
        add_entry (entries, keep, "study",
                   cu_release_digest (store, "study", r->study_uid, strlen (r->study_uid), &error));
      paths = cu_store_get_series_files (store, r->series_uid, &error);
      g_assert_no_error (error);
      for (guint k = 0; paths[k] != NULL; k++)
        {
          CuDicomHeader *h = cu_dicom_header_read (paths[k], &error);

          g_assert_no_error (error);
          add_entry (entries, keep, "instance",
                     cu_release_digest (store, "instance", h->sop_instance_uid,
                                        strlen (h->sop_instance_uid), &error));
          add_entry (entries, keep, "pixels",
                     cu_release_pixel_digest (store, h->sop_instance_uid, &error));
          g_assert_no_error (error);
          cu_dicom_header_free (h);
        }
    }
  g_assert_true (cu_release_mark_written (store, name, "/nonexistent/package",
                                          "0000000000000000000000000000000000000000000000000000000000000000",
                                          entries, &error));
  g_assert_no_error (error);
}

static guint
count_holds (const CuReleasePlan *plan, CuReleaseHoldKind kind, guint *n_series_with)
{
  guint n = 0;

  *n_series_with = 0;
  for (guint i = 0; i < plan->patients->len; i++)
    {
      CuReleasePatientPlan *p = plan->patients->pdata[i];
      for (guint h = 0; h < p->holds->len; h++)
        n += ((CuReleaseHold *) p->holds->pdata[h])->kind == kind;
      for (guint k = 0; k < p->studies->len; k++)
        {
          CuReleaseStudyPlan *st = p->studies->pdata[k];
          for (guint h = 0; h < st->holds->len; h++)
            n += ((CuReleaseHold *) st->holds->pdata[h])->kind == kind;
          for (guint s = 0; s < st->series->len; s++)
            {
              CuReleaseSeriesPlan *se = st->series->pdata[s];
              gboolean has = FALSE;
              for (guint h = 0; h < se->holds->len; h++)
                has |= ((CuReleaseHold *) se->holds->pdata[h])->kind == kind;
              n += has;
              *n_series_with += has;
            }
        }
    }
  return n;
}

static void
test_ledger (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *workspace = NULL;
  CuStore *store = curation_test_open_workspace ("cu-test-release-XXXXXX", &tmp, &workspace);
  g_autofree char *demo = g_build_filename (tmp, "demo", NULL);
  g_autofree char *resent = g_build_filename (tmp, "resent", NULL);
  g_autofree char *other = g_build_filename (tmp, "other", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr (CuRelease) a = NULL;
  g_autoptr (CuRelease) b = NULL;
  g_autoptr (CuRelease) c = NULL;
  g_autoptr (CuRelease) d = NULL;
  g_autoptr (CuRelease) p = NULL;
  g_autoptr (CuRelease) q = NULL;
  g_autoptr (CuReleasePlan) plan = NULL;
  const char *demo_patient[] = { "CUR-DEMO-0001", NULL };
  const char *resent_patient[] = { "CUR-DEMO-0099", NULL };
  const char *other_patient[] = { "CUR-DEMO-0077", NULL };
  guint n_series = 0, n_sent, n_resent;

  g_assert_no_error (error);
  rewrite_demo (demo, resent, "CUR-DEMO-0099");
  rewrite_demo (demo, other, "CUR-DEMO-0077");
  import (store, demo);
  accept_all (store);

  /* A written anonymized release: its patient cannot join another anonymized release. */
  a = cu_release_create (store, "A", CU_RELEASE_ANONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (a->shift_dates);
  g_assert_true (cu_release_add (store, "A", demo_patient, &error));
  g_assert_no_error (error);
  mark_written (store, "A", "CUR-DEMO-0001");
  g_assert_false (cu_release_add (store, "A", demo_patient, &error));
  g_assert_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_FROZEN);
  g_clear_error (&error);

  b = cu_release_create (store, "B", CU_RELEASE_ANONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_false (cu_release_add (store, "B", demo_patient, &error));
  g_assert_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_ALREADY_SENT);
  g_assert_nonnull (strstr (error->message, "“A” v1 of "));
  g_clear_error (&error);

  /* A second version of A is a new release. */
  {
    g_autoptr (CuRelease) a2 = cu_release_create (store, "A", CU_RELEASE_ANONYMIZED, FALSE, &error);
    g_assert_no_error (error);
    g_assert_cmpint (a2->version, ==, 2);
  }

  /* Pseudonymized: the patient may be added (later time points), but nothing of an anonymized
   * patient, its study or its images goes again. */
  c = cu_release_create (store, "C", CU_RELEASE_PSEUDONYMIZED, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (cu_release_add (store, "C", demo_patient, &error));
  g_assert_no_error (error);
  plan = cu_release_check (store, "C", NULL, NULL, &error);
  g_assert_no_error (error);
  n_sent = count_holds (plan, CU_RELEASE_HOLD_ALREADY_SENT, &n_series);
  g_assert_cmpuint (n_series, ==, 2);       /* both demo series: their instances */
  g_assert_cmpuint (n_sent, ==, 1 + 1 + 2); /* patient, study, two series */
  g_assert_cmpuint (plan->n_series_go, ==, 0);
  g_assert_true (cu_release_plan_has_holds (plan));
  g_clear_pointer (&plan, cu_release_plan_free);

  /* The same images re-sent under another pseudonym with new UIDs: held by their pixels. */
  import (store, resent);
  accept_all (store);
  d = cu_release_create (store, "D", CU_RELEASE_PSEUDONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (cu_release_add (store, "D", resent_patient, &error));
  g_assert_no_error (error);
  plan = cu_release_check (store, "D", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_holds (plan, CU_RELEASE_HOLD_ALREADY_SENT, &n_series), ==, 0);
  n_resent = count_holds (plan, CU_RELEASE_HOLD_RESENT, &n_series);
  g_assert_cmpuint (n_series, ==, 2);
  g_assert_cmpuint (n_resent, ==, 2);
  g_assert_cmpuint (plan->n_series_go, ==, 0);
  {
    CuReleasePatientPlan *pp = plan->patients->pdata[0];
    CuReleaseStudyPlan *st = pp->studies->pdata[0];
    CuReleaseSeriesPlan *se = st->series->pdata[0];
    CuReleaseHold *hold = se->holds->pdata[0];
    g_assert_cmpint (hold->kind, ==, CU_RELEASE_HOLD_RESENT);
    g_assert_cmpstr (hold->target, ==, "A");
  }
  g_clear_pointer (&plan, cu_release_plan_free);

  /* Withdrawal: refused for the patient released anonymized, with the reason. */
  g_assert_false (cu_release_withdraw (store, "CUR-DEMO-0001", "letter", &error));
  g_assert_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "anonymized"));
  g_clear_error (&error);
  g_assert_false (cu_release_withdraw (store, "CUR-DEMO-0099", "  ", &error));
  g_assert_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_REFUSED);
  g_clear_error (&error);

  /* … and recorded for a patient released pseudonymized: blocks every later release and is
   * listed for deletion in the next pseudonymized one. */
  import (store, other);
  accept_all (store);
  p = cu_release_create (store, "P", CU_RELEASE_PSEUDONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (cu_release_add (store, "P", other_patient, &error));
  g_assert_no_error (error);
  mark_written (store, "P", "CUR-DEMO-0077");
  g_assert_true (cu_release_withdraw (store, "CUR-DEMO-0077", "consent withdrawn", &error));
  g_assert_no_error (error);
  q = cu_release_create (store, "Q", CU_RELEASE_PSEUDONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_false (cu_release_add (store, "Q", other_patient, &error));
  g_assert_error (error, CU_RELEASE_ERROR, CU_RELEASE_ERROR_WITHDRAWN);
  g_clear_error (&error);
  g_assert_true (cu_release_add (store, "Q", resent_patient, &error));
  g_assert_no_error (error);
  plan = cu_release_check (store, "Q", NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (plan->withdrawn);
  g_assert_cmpuint (g_strv_length (plan->withdrawn), ==, 1);
  g_assert_cmpstr (plan->withdrawn[0], ==, "CUR-DEMO-0077");
  g_clear_pointer (&plan, cu_release_plan_free);
  /* D was open before the withdrawal, with another patient: its check lists it too, and the
   * withdrawn patient added before the withdrawal is held. */
  g_assert_true (cu_release_add (store, "D", other_patient, &error) == FALSE);
  g_clear_error (&error);

  curation_test_close_workspace (&store, &tmp, &workspace);
}

/* A derived series follows its source's quality decision until it has its own. */
static void
test_derived_follows_source (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *workspace = NULL;
  CuStore *store = curation_test_open_workspace ("cu-test-release-derived-XXXXXX", &tmp, &workspace);
  g_autofree char *demo = g_build_filename (tmp, "demo", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) written = cu_demo_write (demo, NULL, &error);
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (CuVolume) volume = NULL;
  g_autoptr (CuRelease) r = NULL;
  g_autoptr (CuReleasePlan) plan = NULL;
  g_autofree char *derived = NULL;
  const char *source = NULL;
  const char *items[] = { "CUR-DEMO-0001", NULL };
  CuDerivedSeriesSpec spec = { 0 };

  g_assert_no_error (error);
  import (store, demo);
  accept_all (store);
  records = cu_store_list_series (store, &error);
  g_assert_no_error (error);
  source = ((CuSeriesRecord *) records->pdata[0])->series_uid;
  g_assert_true (cu_store_qc_decide (store, source, CU_QC_DECISION_REJECTED, "artefacts", &error));
  g_assert_no_error (error);
  volume = cu_store_load_series_volume (store, source, NULL, NULL, &error);
  g_assert_no_error (error);
  spec.source_series_uid = source;
  spec.method = "test-copy";
  spec.derivation_description = "a copy, for the test";
  derived = cu_store_write_derived_series (store, &spec, volume, NULL, NULL, &error);
  g_assert_no_error (error);

  r = cu_release_create (store, "R", CU_RELEASE_PSEUDONYMIZED, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (cu_release_add (store, "R", items, &error));
  g_assert_no_error (error);

  for (guint round = 0; round < 2; round++)
    {
      CuReleaseStudyPlan *st;
      gboolean seen = FALSE;

      plan = cu_release_check (store, "R", NULL, NULL, &error);
      g_assert_no_error (error);
      st = ((CuReleasePatientPlan *) plan->patients->pdata[0])->studies->pdata[0];
      g_assert_cmpuint (st->series->len, ==, 3);
      for (guint s = 0; s < st->series->len; s++)
        {
          CuReleaseSeriesPlan *se = st->series->pdata[s];
          if (strcmp (se->series_uid, derived) != 0)
            continue;
          seen = TRUE;
          g_assert_true (se->derived);
          if (round == 0)
            {
              CuReleaseHold *hold;
              g_assert_false (se->go);
              g_assert_cmpuint (se->holds->len, ==, 1);
              hold = se->holds->pdata[0];
              g_assert_cmpint (hold->kind, ==, CU_RELEASE_HOLD_QC_REJECTED);
              g_assert_cmpstr (hold->target, ==, source);
              g_assert_nonnull (strstr (hold->message, "artefacts"));
            }
          else
            g_assert_true (se->go);
        }
      g_assert_true (seen);
      g_assert_cmpuint (plan->n_series_held, ==, round == 0 ? 2 : 1);
      g_clear_pointer (&plan, cu_release_plan_free);
      /* Its own decision now. */
      g_assert_true (cu_store_qc_decide (store, derived, CU_QC_DECISION_ACCEPTED, NULL, &error));
      g_assert_no_error (error);
    }
  curation_test_close_workspace (&store, &tmp, &workspace);
}

/* Two processes that need the secret at the same moment end with one. */
static void
test_secret_race (void)
{
  for (guint round = 0; round < 4; round++)
    {
      g_autofree char *tmp = NULL;
      g_autofree char *workspace = NULL;
      CuStore *store = curation_test_open_workspace ("cu-test-release-secret-XXXXXX", &tmp,
                                                     &workspace);
      g_autofree char *mine = NULL;
      g_autoptr (GError) error = NULL;
      int go[2], results[2][2];
      pid_t pids[2];
      char buf[2][65];

      /* No connection crosses the fork (SQLite forbids it: the children would share this
       * process's locks and not exclude each other). */
      g_clear_object (&store);
      g_assert_cmpint (pipe (go), ==, 0);
      for (int i = 0; i < 2; i++)
        {
          g_assert_cmpint (pipe (results[i]), ==, 0);
          pids[i] = fork ();
          g_assert_cmpint (pids[i], >=, 0);
          if (pids[i] == 0)
            {
              char c;
              CuStore *child;
              char *digest;

              close (go[1]);
              child = cu_store_open (workspace, NULL);
              /* Wait until both are ready, then race. */
              if (child == NULL || read (go[0], &c, 1) != 0)
                _exit (2);
              digest = cu_release_digest (child, "study", "1.2.3", 5, NULL);
              if (digest == NULL || write (results[i][1], digest, 64) != 64)
                _exit (3);
              _exit (0);
            }
          close (results[i][1]);
        }
      close (go[0]);
      close (go[1]);   /* both children's read returns 0 now */
      for (int i = 0; i < 2; i++)
        {
          int status = 0;
          g_assert_cmpint (read (results[i][0], buf[i], 64), ==, 64);
          buf[i][64] = '\0';
          close (results[i][0]);
          g_assert_cmpint (waitpid (pids[i], &status, 0), ==, pids[i]);
          g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
        }
      g_assert_cmpstr (buf[0], ==, buf[1]);
      store = cu_store_open (workspace, &error);
      g_assert_no_error (error);
      mine = cu_release_digest (store, "study", "1.2.3", 5, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (mine, ==, buf[0]);
      /* Different kinds of the same bytes never collide. */
      {
        g_autofree char *other = cu_release_digest (store, "instance", "1.2.3", 5, &error);
        g_assert_cmpstr (other, !=, mine);
      }
      curation_test_close_workspace (&store, &tmp, &workspace);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/release/ledger", test_ledger);
  g_test_add_func ("/release/derived-follows-source", test_derived_follows_source);
  g_test_add_func ("/release/secret-race", test_secret_race);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-deid-check.c — the pseudonymization checker on real and synthetic files:
 *  - files of the shared corpus that MANIFEST.tsv marks "contains fake PHI" are flagged with
 *    exactly the identifying attributes its notes list (read at test time);
 *  - files marked "de-identified marker" get no marker error, and what still remains;
 *  - a file de-identified with GDCM's gdcmanon passes the Basic Profile check;
 *  - synthetic files (Curata's DICOM writer) with planted identifiers are flagged by the right
 *    rule, a clean one passes, and no finding ever contains the planted value;
 *  - the demo study passes under the site defaults with the demo's pseudonym pattern;
 *  - one checker used from several threads at once gives the same findings.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "cu-deid-check.h"
#include "cu-dicom-walk.h"
#include "cu-dicom-writer.h"
#include "cu-demo.h"
#include "cu-store.h"

static char *
corpus (const char *rel)
{
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_assert_nonnull (shared);
  return g_build_filename (shared, rel, NULL);
}

static CuDeidChecker *
checker (CuDeidOptions options, const char *pattern)
{
  CuDeidConfig config = { options, (char *) pattern };
  g_autoptr (GError) error = NULL;
  CuDeidChecker *c = cu_deid_checker_new (NULL, &config, &error);
  g_assert_no_error (error);
  return c;
}

static GPtrArray *
check (CuDeidChecker *c, const char *path)
{
  GPtrArray *findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  g_autoptr (GError) error = NULL;
  g_assert_true (cu_deid_check_file (c, path, findings, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      g_assert_cmpstr (f->path, ==, path);
      g_assert_nonnull (f->rule);
      g_assert_nonnull (f->expected);
      g_assert_nonnull (f->found);
      g_assert_nonnull (f->tag_path);
    }
  return findings;
}

static void
dump (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      g_test_message ("  %d %s %s %s: %s | %s", f->severity, f->rule, f->tag_path,
                      f->keyword != NULL ? f->keyword : "-", f->expected, f->found);
    }
}

/* Findings of rule (NULL: any) at severity >= min, as a set of keywords. */
static GHashTable *
keywords_of (GPtrArray *findings, const char *rule, CuDeidSeverity min, gboolean top_level)
{
  GHashTable *set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      if ((rule == NULL || strcmp (f->rule, rule) == 0) && f->severity >= min
          && f->keyword != NULL && (!top_level || strchr (f->tag_path, '[') == NULL))
        g_hash_table_add (set, g_strdup (f->keyword));
    }
  return set;
}

static gboolean
has_rule (GPtrArray *findings, const char *rule, const char *tag_path, CuDeidSeverity severity)
{
  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      if (strcmp (f->rule, rule) == 0 && f->severity == severity
          && (tag_path == NULL || strcmp (f->tag_path, tag_path) == 0))
        return TRUE;
    }
  return FALSE;
}

static guint
n_at_least (GPtrArray *findings, CuDeidSeverity min)
{
  guint n = 0;
  for (guint i = 0; i < findings->len; i++)
    n += ((CuDeidFinding *) findings->pdata[i])->severity >= min;
  return n;
}

/* ---- Text values of a file, by keyword-less tag path ------------------------------------- */

static gboolean
collect_values (const CuDicomElement *e, gpointer user_data)
{
  GHashTable *values = user_data;
  if (e->text != NULL)
    g_hash_table_insert (values, g_strdup (e->tag_path), g_strdup (e->text));
  return TRUE;
}

static GHashTable *
values_of (const char *path)
{
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_assert_true (cu_dicom_walk_file (path, collect_values, values, NULL));
  return values;
}

/* No finding shows the value it is about (nor any value of the same attribute elsewhere in the
 * file, for findings that count repeats). */
static void
assert_values_masked (const char *path, GPtrArray *findings)
{
  g_autoptr (GHashTable) values = values_of (path);
  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      const char *value = g_hash_table_lookup (values, f->tag_path);
      /* Short codes ("NO", "YES") may be shown as they are; private creator names are the
       * vendors' and are shown on purpose. */
      if (value == NULL || strlen (value) < 4 || strcmp (f->rule, "private") == 0)
        continue;
      if (strstr (f->found, value) != NULL || strstr (f->expected, value) != NULL
          || (f->keyword != NULL && strstr (f->keyword, value) != NULL))
        g_error ("%s: the value of %s appears in its finding: %s / %s", path, f->tag_path,
                 f->expected, f->found);
    }
}

/* ---- MANIFEST ----------------------------------------------------------------------------- */

typedef struct
{
  char *relpath;
  char *kind;
  char *notes;
  char **fields;        /* "non-empty identifying fields: …", NULL-terminated, maybe empty */
} ManifestRow;

static void
manifest_row_free (gpointer p)
{
  ManifestRow *r = p;
  g_free (r->relpath);
  g_free (r->kind);
  g_free (r->notes);
  g_strfreev (r->fields);
  g_free (r);
}

static GPtrArray *
manifest (void)
{
  g_autofree char *path = corpus ("MANIFEST.tsv");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  GPtrArray *rows = g_ptr_array_new_with_free_func (manifest_row_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  g_autoptr (GRegex) re = g_regex_new ("non-empty identifying fields: ([A-Za-z, ]+)", 0, 0,
                                       NULL);
  for (int i = 1; lines[i] != NULL; i++)
    {
      g_auto (GStrv) cells = g_strsplit (lines[i], "\t", -1);
      if (g_strv_length (cells) < 6)
        continue;
      ManifestRow *r = g_new0 (ManifestRow, 1);
      r->relpath = g_strdup (cells[0]);
      r->kind = g_strdup (cells[4]);
      r->notes = g_strdup (cells[5]);
      g_autoptr (GMatchInfo) m = NULL;
      if (g_regex_match (re, r->notes, 0, &m))
        {
          g_autofree char *list = g_match_info_fetch (m, 1);
          r->fields = g_strsplit (list, ",", -1);
          for (int f = 0; r->fields[f] != NULL; f++)
            g_strstrip (r->fields[f]);
        }
      else
        r->fields = g_new0 (char *, 1);
      g_ptr_array_add (rows, r);
    }
  return rows;
}

/* The placeholder values the checker documents as dummies (cu-deid-check.c): made only of
 * 0 X * # - ^ . : / and spaces. The MANIFEST counts them as "non-empty"; they identify nobody. */
static gboolean
is_placeholder_value (const char *v)
{
  for (const char *p = v; *p != '\0'; p++)
    if (strchr ("0Xx*#-^.:/ ", *p) == NULL)
      return FALSE;
  return TRUE;
}

/* Profile errors on top-level attributes of the MANIFEST's vocabulary must be exactly its
 * list for the file (placeholder values excepted, see above). */
static void
assert_matches_manifest (CuDeidChecker *c, const ManifestRow *r, GHashTable *vocabulary,
                         const char *skip_keyword)
{
  g_autofree char *path = corpus (r->relpath);
  g_autoptr (GPtrArray) findings = check (c, path);
  g_autoptr (GHashTable) got = keywords_of (findings, "profile", CU_DEID_SEVERITY_ERROR, TRUE);
  g_autoptr (GHashTable) values = values_of (path);
  g_autoptr (GHashTable) want = g_hash_table_new (g_str_hash, g_str_equal);
  static const struct { const char *kw; const char *tag; } tags[] = {
    { "PatientName", "(0010,0010)" }, { "PatientID", "(0010,0020)" },
    { "PatientBirthDate", "(0010,0030)" }, { "PatientAddress", "(0010,1040)" },
    { "InstitutionName", "(0008,0080)" }, { "InstitutionAddress", "(0008,0081)" },
    { "StationName", "(0008,1010)" }, { "DeviceSerialNumber", "(0018,1000)" },
    { "AccessionNumber", "(0008,0050)" }, { "OperatorsName", "(0008,1070)" },
    { "ReferringPhysicianName", "(0008,0090)" }, { "PerformingPhysicianName", "(0008,1050)" },
  };

  for (int i = 0; r->fields[i] != NULL; i++)
    if (skip_keyword == NULL || strcmp (r->fields[i], skip_keyword) != 0)
      g_hash_table_add (want, r->fields[i]);

  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, want);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (!g_hash_table_contains (got, k))
      {
        const char *value = NULL;
        for (guint t = 0; t < G_N_ELEMENTS (tags); t++)
          if (strcmp (tags[t].kw, k) == 0)
            value = g_hash_table_lookup (values, tags[t].tag);
        if (value != NULL && is_placeholder_value (value))
          continue;
        dump (findings);
        g_error ("%s: %s is identifying (MANIFEST) but not flagged", r->relpath, (char *) k);
      }
  g_hash_table_iter_init (&it, got);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (g_hash_table_contains (vocabulary, k) && !g_hash_table_contains (want, k)
        && g_strcmp0 (k, skip_keyword) != 0)
      {
        dump (findings);
        g_error ("%s: %s flagged, but the MANIFEST does not list it", r->relpath, (char *) k);
      }
  assert_values_masked (path, findings);
}

static GHashTable *
vocabulary_of (GPtrArray *rows)
{
  GHashTable *vocabulary = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < rows->len; i++)
    {
      ManifestRow *r = rows->pdata[i];
      for (int f = 0; r->fields[f] != NULL; f++)
        g_hash_table_add (vocabulary, r->fields[f]);
    }
  return vocabulary;
}

static void
test_manifest_phi (void)
{
  g_autoptr (GPtrArray) rows = manifest ();
  g_autoptr (GHashTable) vocabulary = vocabulary_of (rows);
  g_autoptr (GHashTable) folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, NULL);
  guint n = 0;

  g_assert_cmpuint (g_hash_table_size (vocabulary), >=, 5);
  for (guint i = 0; i < rows->len; i++)
    {
      ManifestRow *r = rows->pdata[i];
      if (strstr (r->kind, "contains fake PHI") == NULL)
        continue;
      g_autofree char *folder = g_path_get_dirname (r->relpath);
      /* One file per folder, and every file of single/. */
      if (!g_str_has_prefix (r->relpath, "single/") && g_hash_table_contains (folders, folder))
        continue;
      g_hash_table_add (folders, g_steal_pointer (&folder));
      assert_matches_manifest (c, r, vocabulary, NULL);
      n++;
    }
  g_test_message ("%u files with fake PHI checked", n);
  g_assert_cmpuint (n, >=, 10);
}

/* The pseudonym schemes of the corpus's publishers, as a site receiving from them would set
 * its pattern: TCIA's QIN collections, the CQ500 head CT collection, the constant "FRUIT" of
 * the refaced GE T1 sample, and the 11-character random tokens of the dcm_qa_ct GE head. */
#define PUBLISHERS_PATTERN \
  "^(QIN-[A-Z]+-[0-9]{2}-[0-9]{4}|CQ500-CT-[0-9]+|FRUIT|[A-Za-z0-9]{11})$"

static const CuDeidFinding *
find_keyword (GPtrArray *findings, const char *keyword)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const CuDeidFinding *f = findings->pdata[i];
      if (g_strcmp0 (f->keyword, keyword) == 0)
        return f;
    }
  return NULL;
}

/* Files the MANIFEST marks de-identified by their publishers (and not "contains fake PHI")
 * pass the gate under the site defaults, every file of them: no ERROR finding. What the
 * publishers kept is still reported, lowered for the reason the file gives (cu-deid-check.c):
 * hashed values (AccessionNumber, the GE T1's InstitutionName/StationName/DeviceSerialNumber)
 * as INFO in files whose identity was removed, TCIA's StationName as a WARNING under the
 * Retain Device Identity option it declares, GE acquisition parameters as known-safe
 * private attributes. One exception, asserted exactly: TCIA's prostate ADC series keeps a
 * Requested Procedure ID inside the Request Attributes Sequence, which no option allows
 * (X even under Clean Descriptors): a residual identifier, rightly quarantined. */
static void
test_deidentified_pass (void)
{
  g_autoptr (GPtrArray) rows = manifest ();
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, PUBLISHERS_PATTERN);
  g_autoptr (GHashTable) folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      ManifestRow *r = rows->pdata[i];
      if (strstr (r->kind, "de-identified marker") == NULL
          || strstr (r->kind, "contains fake PHI") != NULL
          || strstr (r->kind, "malformed") != NULL)
        continue;
      g_autofree char *folder = g_path_get_dirname (r->relpath);
      g_hash_table_add (folders, g_steal_pointer (&folder));
      g_autofree char *path = corpus (r->relpath);
      g_autoptr (GPtrArray) findings = check (c, path);
      gboolean prostate = g_str_has_prefix (r->relpath, "mr/prostate_adc_ge/");
      for (guint k = 0; k < findings->len; k++)
        {
          const CuDeidFinding *f = findings->pdata[k];
          if (f->severity != CU_DEID_SEVERITY_ERROR)
            continue;
          if (prostate && g_strcmp0 (f->tag_path, "(0040,0275)[0]/(0040,1001)") == 0)
            continue;
          dump (findings);
          g_error ("%s: de-identified by its publisher, but %s %s is an error", r->relpath,
                   f->keyword, f->tag_path);
        }
      if (prostate)
        {
          g_assert_true (has_rule (findings, "profile", "(0040,0275)[0]/(0040,1001)",
                                   CU_DEID_SEVERITY_ERROR));
          const CuDeidFinding *station = find_keyword (findings, "StationName");
          g_assert_nonnull (station);
          g_assert_cmpint (station->severity, ==, CU_DEID_SEVERITY_WARNING);
          g_assert_nonnull (strstr (station->found, "Retain Device Identity"));
        }
      if (g_str_has_prefix (r->relpath, "mr/ge_t1_3d_deidentified/"))
        {
          static const char *const hashed[] = { "AccessionNumber", "InstitutionName",
                                                "StationName", "DeviceSerialNumber" };
          for (guint h = 0; h < G_N_ELEMENTS (hashed); h++)
            {
              const CuDeidFinding *f = find_keyword (findings, hashed[h]);
              g_assert_nonnull (f);
              g_assert_cmpint (f->severity, ==, CU_DEID_SEVERITY_INFO);
            }
          /* Listed GE parameters: fine under the declared Retain Safe Private; the opaque
           * Protocol Data Block is not on the list, a warning. */
          g_assert_true (has_rule (findings, "private", "(0025,101B)", CU_DEID_SEVERITY_WARNING));
          const CuDeidFinding *acq = find_keyword (findings, "GEMS_ACQU_01");
          g_assert_nonnull (acq);
          g_assert_cmpint (acq->severity, ==, CU_DEID_SEVERITY_INFO);
        }
      n++;
    }
  g_test_message ("%u de-identified files in %u folders pass", n, g_hash_table_size (folders));
  g_assert_cmpuint (g_hash_table_size (folders), >=, 4);
  g_assert_cmpuint (n, >=, 240);

  /* The GE HiSpeed head declares nothing: its GE acquisition parameters are known safe, a
   * warning without Retain Safe Private; PatientName REMOVED is a dummy, the empty
   * De-identification Method a warning. */
  g_autofree char *ge = corpus ("ct/ge_hispeed_tilt_variable_spacing/01.dcm");
  g_autoptr (GPtrArray) findings = check (c, ge);
  g_assert_false (has_rule (findings, "profile", "(0010,0010)", CU_DEID_SEVERITY_INFO));
  g_assert_true (has_rule (findings, "marker", "(0012,0063)", CU_DEID_SEVERITY_WARNING));
  const CuDeidFinding *parm = find_keyword (findings, "GEMS_PARM_01");
  g_assert_nonnull (parm);
  g_assert_cmpint (parm->severity, ==, CU_DEID_SEVERITY_WARNING);

  /* Without the publishers' pattern their pseudonyms are what the site does not expect. */
  g_autoptr (CuDeidChecker) plain = checker (CU_DEID_OPTIONS_SITE_DEFAULT, NULL);
  g_autoptr (GPtrArray) plain_findings = check (plain, ge);
  g_assert_true (has_rule (plain_findings, "profile", "(0010,0020)", CU_DEID_SEVERITY_ERROR));
}

/* Files with fake PHI that still carry a de-identification marker: the marker is judged as
 * it says (YES: no marker error; the Siemens XA10 series says NO: an error), and the
 * identifying attributes the MANIFEST lists are flagged, exactly, as errors. */
static void
test_deidentified_markers (void)
{
  g_autoptr (GPtrArray) rows = manifest ();
  g_autoptr (GHashTable) vocabulary = vocabulary_of (rows);
  g_autoptr (CuDeidChecker) plain = checker (CU_DEID_OPTIONS_SITE_DEFAULT, NULL);
  g_autoptr (GHashTable) folders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n = 0;

  for (guint i = 0; i < rows->len; i++)
    {
      ManifestRow *r = rows->pdata[i];
      if (strstr (r->kind, "de-identified marker") == NULL
          || strstr (r->kind, "contains fake PHI") == NULL
          || strstr (r->kind, "malformed") != NULL)
        continue;
      g_autofree char *folder = g_path_get_dirname (r->relpath);
      if (g_hash_table_contains (folders, folder))
        continue;
      g_hash_table_add (folders, g_steal_pointer (&folder));

      g_autofree char *path = corpus (r->relpath);
      g_autoptr (GPtrArray) findings = check (plain, path);
      gboolean yes = strstr (r->notes, "PatientIdentityRemoved=YES") != NULL;
      g_assert_true (yes || strstr (r->notes, "PatientIdentityRemoved=NO") != NULL);
      g_assert_true (has_rule (findings, "marker", "(0012,0062)", CU_DEID_SEVERITY_ERROR) != yes);
      assert_matches_manifest (plain, r, vocabulary, NULL);
      n++;
    }
  g_assert_cmpuint (n, >=, 2);
}

/* ---- Synthetic files ---------------------------------------------------------------------- */

#define PSEUDONYM_PATTERN "^CUR-TEST-[0-9]{4}$"

typedef enum
{
  PLANT_NONE = 0,
  PLANT_PHONE_IN_STUDY_DESCRIPTION = 1 << 0,
  PLANT_NAME_IN_IMAGE_COMMENTS = 1 << 1,
  PLANT_PRIVATE = 1 << 2,
  PLANT_OVERLAY = 1 << 3,
  PLANT_BIRTH_DATE = 1 << 4,
  PLANT_NO_MARKER = 1 << 5,
  PLANT_BURNED_IN = 1 << 6,
  PLANT_VENDOR_UID = 1 << 7,
  PLANT_REAL_PATIENT_ID = 1 << 8,
  PLANT_NESTED_NAME = 1 << 9,
  PLANT_CURVE = 1 << 10,
  PLANT_DOB_IN_COMMENTS = 1 << 11,
  PLANT_EMAIL_IN_PROTOCOL = 1 << 12,
  PLANT_MRN_IN_SERIES_DESCRIPTION = 1 << 13,
} Plant;

/* What is planted, so the test can look for it in the findings. */
static const char *const planted_values[] = {
  "0171 234 5678", "Miller", "ACME Secret 7", "19610312", "1.2.840.113619.2.55.3.604688119",
  "SMITH-PETER", "Doe^Jane", "12.03.1961", "jane.doe@example.org", "MRN 4711081",
};

static char *
write_synthetic (const char *dir, const char *name, Plant plant)
{
  g_autoptr (CuDicomDataset) ds = cu_dicom_dataset_new ();
  g_autofree char *study = cu_dicom_uid_new ();
  g_autofree char *series = cu_dicom_uid_new ();
  g_autofree char *sop = cu_dicom_uid_new ();

  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0016), "UI", CU_DICOM_MR_IMAGE_STORAGE);
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0018), "UI",
                               plant & PLANT_VENDOR_UID ? "1.2.840.113619.2.55.3.604688119"
                                                        : sop);
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0020), "DA", "20240314");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0030), "TM", "101500");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0050), "SH", "");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0060), "CS", "MR");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x0090), "PN", "");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x1030), "LO",
                               plant & PLANT_PHONE_IN_STUDY_DESCRIPTION
                               ? "Prostate MRI, call 0171 234 5678 for results" : "Prostate MRI");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0008, 0x103E), "LO",
                               plant & PLANT_MRN_IN_SERIES_DESCRIPTION ? "T2 axial MRN 4711081"
                                                                       : "T2 axial");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0010), "PN", "CUR-TEST-0007");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0020), "LO",
                               plant & PLANT_REAL_PATIENT_ID ? "SMITH-PETER" : "CUR-TEST-0007");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0030), "DA",
                               plant & PLANT_BIRTH_DATE ? "19610312" : "");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x0040), "CS", "M");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0010, 0x1010), "AS", "063Y");
  if (!(plant & PLANT_NO_MARKER))
    {
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0012, 0x0062), "CS", "YES");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0012, 0x0063), "LO",
                                   "PS3.15 Basic Profile, site pseudonymization");
    }
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0018, 0x1030), "LO",
                               plant & PLANT_EMAIL_IN_PROTOCOL
                               ? "t2_tse_tra questions: jane.doe@example.org" : "t2_tse_tra");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x000D), "UI", study);
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x000E), "UI", series);
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x0010), "SH", "");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x0011), "IS", "3");
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x0013), "IS", "1");
  if (plant & (PLANT_NAME_IN_IMAGE_COMMENTS | PLANT_DOB_IN_COMMENTS))
    cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0020, 0x4000), "LT",
                                 plant & PLANT_NAME_IN_IMAGE_COMMENTS
                                 ? "Reviewed with Dr. Miller, lesion in the left PZ"
                                 : "Patient dob 12.03.1961, lesion in the left PZ");
  if (plant & PLANT_NESTED_NAME)
    {
      /* An SR-like content item naming a person, two levels down. */
      CuDicomDataset *inner = cu_dicom_dataset_new ();
      cu_dicom_dataset_add_string (inner, CU_DICOM_TAG (0x0040, 0xA040), "CS", "PNAME");
      cu_dicom_dataset_add_string (inner, CU_DICOM_TAG (0x0040, 0xA123), "PN", "Doe^Jane");
      CuDicomDataset *outer = cu_dicom_dataset_new ();
      cu_dicom_dataset_add_string (outer, CU_DICOM_TAG (0x0040, 0xA040), "CS", "CONTAINER");
      cu_dicom_dataset_add_sequence (outer, CU_DICOM_TAG (0x0040, 0xA730), &inner, 1);
      cu_dicom_dataset_add_sequence (ds, CU_DICOM_TAG (0x0040, 0xA730), &outer, 1);
    }
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0002), 1);
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0028, 0x0004), "CS", "MONOCHROME2");
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0010), 4);
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0011), 4);
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0100), 16);
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0101), 12);
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0102), 11);
  cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x0028, 0x0103), 0);
  cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0028, 0x0301), "CS",
                               plant & PLANT_BURNED_IN ? "YES" : "NO");
  if (plant & PLANT_PRIVATE)
    {
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0029, 0x0010), "LO", "ACME 1.0");
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x0029, 0x1001), "LO", "ACME Secret 7");
    }
  if (plant & PLANT_CURVE)
    {
      static const guint16 curve[4] = { 1, 2, 3, 4 };
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x5000, 0x0005), 2);
      cu_dicom_dataset_add_bytes (ds, CU_DICOM_TAG (0x5000, 0x3000), "OW", curve, sizeof curve);
    }
  if (plant & PLANT_OVERLAY)
    {
      static const guint8 bits[2] = { 0xFF, 0x0F };
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x6000, 0x0010), 4);
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x6000, 0x0011), 4);
      cu_dicom_dataset_add_string (ds, CU_DICOM_TAG (0x6000, 0x0040), "CS", "G");
      cu_dicom_dataset_add_us (ds, CU_DICOM_TAG (0x6000, 0x0100), 1);
      cu_dicom_dataset_add_bytes (ds, CU_DICOM_TAG (0x6000, 0x3000), "OW", bits, sizeof bits);
    }
  static const guint16 pixels[16] = { 0 };
  cu_dicom_dataset_add_bytes (ds, CU_DICOM_TAG (0x7FE0, 0x0010), "OW", pixels, sizeof pixels);

  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (cu_dicom_dataset_write_file (ds, path, &error));
  g_assert_no_error (error);
  return path;
}

static void
assert_no_planted_value (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++)
    {
      CuDeidFinding *f = findings->pdata[i];
      for (guint v = 0; v < G_N_ELEMENTS (planted_values); v++)
        if (strstr (f->found, planted_values[v]) != NULL
            || strstr (f->expected, planted_values[v]) != NULL
            || (f->keyword != NULL && strstr (f->keyword, planted_values[v]) != NULL))
          g_error ("planted value “%s” appears in a finding: %s", planted_values[v], f->found);
    }
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        remove_dir (p);
      else
        g_unlink (p);
    }
  g_rmdir (dir);
}

static void
test_synthetic_clean (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cu-deid-XXXXXX", NULL);
  g_autofree char *clean = write_synthetic (dir, "clean.dcm", PLANT_NONE);
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, PSEUDONYM_PATTERN);
  g_autoptr (GPtrArray) findings = check (c, clean);
  dump (findings);
  g_assert_cmpuint (findings->len, ==, 0);

  /* The same file under the Basic Profile without options: the study date, the patient's
   * sex and age and the descriptions must go. */
  g_autoptr (CuDeidChecker) basic = checker (0, PSEUDONYM_PATTERN);
  g_autoptr (GPtrArray) strict = check (basic, clean);
  g_autoptr (GHashTable) kws = keywords_of (strict, "profile", CU_DEID_SEVERITY_ERROR, TRUE);
  static const char *const expected[] = { "StudyDate", "StudyTime", "PatientSex", "PatientAge",
                                          "StudyDescription", "SeriesDescription",
                                          "ProtocolName" };
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    if (!g_hash_table_contains (kws, expected[i]))
      {
        dump (strict);
        g_error ("%s not flagged under the Basic Profile", expected[i]);
      }
  remove_dir (dir);
}

typedef struct
{
  Plant plant;
  const char *rule;
  const char *tag_path;
  CuDeidSeverity severity;
  CuDeidOptions options;       /* 0: the site defaults */
} PlantCase;

static void
test_synthetic_planted (void)
{
  static const PlantCase cases[] = {
    { PLANT_PHONE_IN_STUDY_DESCRIPTION, "phi-text", "(0008,1030)", CU_DEID_SEVERITY_ERROR },
    { PLANT_NAME_IN_IMAGE_COMMENTS, "phi-text", "(0020,4000)", CU_DEID_SEVERITY_ERROR },
    { PLANT_DOB_IN_COMMENTS, "phi-text", "(0020,4000)", CU_DEID_SEVERITY_ERROR },
    { PLANT_EMAIL_IN_PROTOCOL, "phi-text", "(0018,1030)", CU_DEID_SEVERITY_ERROR },
    { PLANT_MRN_IN_SERIES_DESCRIPTION, "phi-text", "(0008,103E)", CU_DEID_SEVERITY_ERROR },
    { PLANT_PRIVATE, "private", "(0029,1001)", CU_DEID_SEVERITY_ERROR },
    { PLANT_OVERLAY, "overlay", "(6000,3000)", CU_DEID_SEVERITY_ERROR },
    { PLANT_CURVE, "curve", NULL, CU_DEID_SEVERITY_ERROR },
    { PLANT_BIRTH_DATE, "profile", "(0010,0030)", CU_DEID_SEVERITY_ERROR },
    { PLANT_NO_MARKER, "marker", "(0012,0062)", CU_DEID_SEVERITY_ERROR },
    { PLANT_NO_MARKER, "marker", "(0012,0063)", CU_DEID_SEVERITY_WARNING },
    { PLANT_BURNED_IN, "burned-in", "(0028,0301)", CU_DEID_SEVERITY_ERROR },
    { PLANT_VENDOR_UID, "uid-root", "(0008,0018)", CU_DEID_SEVERITY_ERROR },
    { PLANT_REAL_PATIENT_ID, "pseudonym-pattern", "(0010,0020)", CU_DEID_SEVERITY_ERROR },
    { PLANT_NESTED_NAME, "profile", "(0040,A730)[0]/(0040,A730)[0]/(0040,A123)",
      CU_DEID_SEVERITY_ERROR },
  };
  g_autofree char *dir = g_dir_make_tmp ("cu-deid-XXXXXX", NULL);
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, PSEUDONYM_PATTERN);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("plant-%u.dcm", i);
      g_autofree char *path = write_synthetic (dir, name, cases[i].plant);
      g_autoptr (GPtrArray) findings = check (c, path);
      dump (findings);
      if (!has_rule (findings, cases[i].rule, cases[i].tag_path, cases[i].severity))
        g_error ("case %u: no %s finding at %s", i, cases[i].rule,
                 cases[i].tag_path != NULL ? cases[i].tag_path : "(any)");
      /* Only what was planted is reported (no marker warning etc. beside it). */
      for (guint k = 0; k < findings->len; k++)
        {
          CuDeidFinding *f = findings->pdata[k];
          if (strcmp (f->rule, cases[i].rule) != 0)
            g_error ("case %u: unexpected %s finding at %s", i, f->rule, f->tag_path);
        }
      assert_no_planted_value (findings);
      assert_values_masked (path, findings);
      g_unlink (path);
    }

  /* Options change the verdict: Retain UIDs keeps the vendor UID, Clean Graphics the overlay;
   * Retain Safe Private lowers the unknown private group to a warning (the de-identifier
   * judged it safe; Curata does not know "ACME 1.0"). */
  static const struct { Plant plant; CuDeidOptions extra; } relaxed[] = {
    { PLANT_VENDOR_UID, CU_DEID_RETAIN_UIDS },
    { PLANT_PRIVATE, CU_DEID_RETAIN_SAFE_PRIVATE },
    { PLANT_OVERLAY, CU_DEID_CLEAN_GRAPHICS },
    { PLANT_CURVE, CU_DEID_CLEAN_GRAPHICS },
  };
  for (guint i = 0; i < G_N_ELEMENTS (relaxed); i++)
    {
      g_autofree char *path = write_synthetic (dir, "relaxed.dcm", relaxed[i].plant);
      g_autoptr (CuDeidChecker) r = checker (CU_DEID_OPTIONS_SITE_DEFAULT | relaxed[i].extra,
                                             PSEUDONYM_PATTERN);
      g_autoptr (GPtrArray) findings = check (r, path);
      dump (findings);
      if (relaxed[i].plant == PLANT_PRIVATE)
        {
          g_assert_cmpuint (findings->len, ==, 1);
          g_assert_true (has_rule (findings, "private", "(0029,1001)",
                                   CU_DEID_SEVERITY_WARNING));
        }
      else
        g_assert_cmpuint (findings->len, ==, 0);
      g_unlink (path);
    }

  /* Without a pseudonym pattern a real-looking PatientID is a profile error (Z/D). */
  g_autoptr (CuDeidChecker) nopattern = checker (CU_DEID_OPTIONS_SITE_DEFAULT, NULL);
  g_autofree char *real = write_synthetic (dir, "real.dcm", PLANT_REAL_PATIENT_ID);
  g_autoptr (GPtrArray) findings = check (nopattern, real);
  g_assert_true (has_rule (findings, "profile", "(0010,0020)", CU_DEID_SEVERITY_ERROR));
  assert_no_planted_value (findings);
  g_unlink (real);
  remove_dir (dir);
}

static void
test_study_consistency (void)
{
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, PSEUDONYM_PATTERN);
  const char *same[] = { "CUR-TEST-0001", "CUR-TEST-0001", "CUR-TEST-0001", "CUR-TEST-0001" };
  const char *ids[] = { "CUR-TEST-0001", "CUR-TEST-0001", "CUR-TEST-0002", "CUR-TEST-0001" };
  const char *names[] = { "CUR-TEST-0001", "A", "CUR-TEST-0001", "B" };
  g_autoptr (GPtrArray) f = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);

  cu_deid_check_study (c, "2.25.1", same, 2, f);
  g_assert_cmpuint (f->len, ==, 0);
  cu_deid_check_study (c, "2.25.1", ids, 2, f);
  g_assert_cmpuint (f->len, ==, 1);
  g_assert_true (has_rule (f, "pseudonym-consistency", "(0010,0020)", CU_DEID_SEVERITY_ERROR));
  g_ptr_array_set_size (f, 0);
  cu_deid_check_study (c, "2.25.1", names, 2, f);
  g_assert_cmpuint (f->len, ==, 1);
  g_assert_true (has_rule (f, "pseudonym-consistency", "(0010,0010)", CU_DEID_SEVERITY_ERROR));
  for (guint i = 0; i < f->len; i++)
    g_assert_null (strstr (((CuDeidFinding *) f->pdata[i])->found, "CUR-TEST"));
  g_ptr_array_set_size (f, 0);
  cu_deid_check_study (c, "2.25.1", NULL, 0, f);
  g_assert_cmpuint (f->len, ==, 0);
}

static void
test_bad_pattern (void)
{
  CuDeidConfig config = { CU_DEID_OPTIONS_SITE_DEFAULT, (char *) "^CUR-(" };
  g_autoptr (GError) error = NULL;
  g_assert_null (cu_deid_checker_new (NULL, &config, &error));
  g_assert_error (error, CU_DEID_ERROR, CU_DEID_ERROR_PATTERN);
}

/* ---- A file de-identified with GDCM ------------------------------------------------------ */

typedef struct
{
  const CuDeidProfile *profile;
  GPtrArray *argv;
} DumbArgs;

/* Build gdcmanon --dumb arguments applying Table E.1-1 (no options) to the top level of a file:
 * what must go (X…, private groups, curves, overlays) is removed, what must be empty is
 * emptied. UIDs were already replaced by gdcmanon -e. */
static gboolean
dumb_args (const CuDicomElement *e, gpointer user_data)
{
  DumbArgs *a = user_data;
  if (e->depth > 0)
    return TRUE;
  CuDeidAction action = cu_deid_profile_lookup (a->profile, e->group, e->element, 0, NULL, NULL);
  const char *op = NULL;
  switch (action)
    {
    case CU_DEID_ACTION_X:
    case CU_DEID_ACTION_X_Z:
    case CU_DEID_ACTION_X_D:
    case CU_DEID_ACTION_X_Z_D:
      op = "--remove";
      break;
    case CU_DEID_ACTION_Z:
    case CU_DEID_ACTION_D:
    case CU_DEID_ACTION_Z_D:
      if (e->length > 0)
        op = e->is_sequence ? "--remove" : "--empty";
      break;
    default:
      break;
    }
  if (op != NULL)
    {
      g_ptr_array_add (a->argv, g_strdup (op));
      g_ptr_array_add (a->argv, g_strdup_printf ("%04x,%04x", e->group, e->element));
    }
  return TRUE;
}

static gboolean
run (const char *const *argv)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, NULL))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("%s failed: %s%s", argv[0], out, err);
      return FALSE;
    }
  return TRUE;
}

/* gdcmanon -e applies GDCM's own Basic Profile (dummy names, new UIDs under GDCM's root,
 * PatientIdentityRemoved YES, De-identification Method, originals encrypted into the
 * Encrypted Attributes Sequence for the certificate's holder). GDCM 3.0 implements an older
 * edition of Table E.1-1 and keeps private groups and dates, so a second gdcmanon --dumb pass
 * removes/empties what Table E.1-1 (2024b, no options) lists beyond it. The result must pass
 * the Basic Profile check without options. */
static void
test_gdcmanon (void)
{
  g_autofree char *gdcmanon = g_find_program_in_path ("gdcmanon");
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  if (gdcmanon == NULL || openssl == NULL)
    {
      g_test_skip ("gdcmanon or openssl not installed");
      return;
    }
  g_autofree char *dir = g_dir_make_tmp ("cu-deid-XXXXXX", NULL);
  g_autofree char *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree char *cert = g_build_filename (dir, "cert.pem", NULL);
  const char *req[] = { openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        key, "-out", cert, "-days", "1", "-subj", "/CN=curata-test", NULL };
  g_assert_true (run (req));

  g_autoptr (CuDeidProfile) profile = cu_deid_profile_new_default (NULL);
  g_autoptr (CuDeidChecker) basic = checker (0, NULL);
  static const char *const inputs[] = { "single/CT_small.dcm",
                                        "single/MR-SIEMENS-DICOM-WithOverlays.dcm",
                                        "mr/philips_dti_ax/0016.dcm" };
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autofree char *in = corpus (inputs[i]);
      g_autofree char *step1 = g_build_filename (dir, "step1.dcm", NULL);
      g_autofree char *step2 = g_build_filename (dir, "step2.dcm", NULL);
      const char *anon[] = { gdcmanon, "-e", "-c", cert, "-i", in, "-o", step1, NULL };
      g_assert_true (run (anon));

      g_autoptr (GPtrArray) before = check (basic, in);
      g_assert_cmpuint (n_at_least (before, CU_DEID_SEVERITY_ERROR), >, 0);

      DumbArgs a = { profile, g_ptr_array_new_with_free_func (g_free) };
      g_ptr_array_add (a.argv, g_strdup (gdcmanon));
      g_ptr_array_add (a.argv, g_strdup ("--dumb"));
      g_assert_true (cu_dicom_walk_file (step1, dumb_args, &a, NULL));
      g_ptr_array_add (a.argv, g_strdup ("-i"));
      g_ptr_array_add (a.argv, g_strdup (step1));
      g_ptr_array_add (a.argv, g_strdup ("-o"));
      g_ptr_array_add (a.argv, g_strdup (step2));
      g_ptr_array_add (a.argv, NULL);
      g_assert_true (run ((const char *const *) a.argv->pdata));
      g_ptr_array_unref (a.argv);

      g_autoptr (GPtrArray) after = check (basic, step2);
      g_test_message ("%s after gdcmanon -e and --dumb:", inputs[i]);
      dump (after);
      g_assert_cmpuint (n_at_least (after, CU_DEID_SEVERITY_WARNING), ==, 0);
      /* No value of the original survives in a finding either. */
      assert_values_masked (in, after);
      g_unlink (step1);
      g_unlink (step2);
    }
  g_unlink (key);
  g_unlink (cert);
  g_rmdir (dir);
}

/* ---- The demo study ---------------------------------------------------------------------- */

/* The demo study is pseudonymized: under the site defaults and the workspace's default
 * pseudonym pattern (which the demo's PatientID follows) it must pass. */
static void
test_demo (void)
{
  g_autofree char *dir = g_dir_make_tmp ("cu-deid-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) files = cu_demo_write (dir, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT,
                                         CU_STORE_DEFAULT_PSEUDONYM_PATTERN);
  guint n = 0;

  g_assert_nonnull (files);
  for (int i = 0; files[i] != NULL; i++)
    {
      if (!g_str_has_suffix (files[i], ".dcm"))
        continue;
      g_autoptr (GPtrArray) findings = check (c, files[i]);
      /* Not even a warning: the demo says how it was de-identified. */
      if (findings->len > 0)
        {
          dump (findings);
          g_error ("%s: %u findings, the first %s at %s", files[i], findings->len,
                   ((CuDeidFinding *) findings->pdata[0])->rule,
                   ((CuDeidFinding *) findings->pdata[0])->tag_path);
        }
      n++;
    }
  g_assert_cmpuint (n, >, 10);
  remove_dir (dir);
}

/* ---- Threads ------------------------------------------------------------------------------ */

typedef struct
{
  CuDeidChecker *checker;
  char **paths;
  char *result;
} ThreadJob;

static char *
findings_text (CuDeidChecker *c, char **paths)
{
  GString *s = g_string_new (NULL);
  for (int i = 0; paths[i] != NULL; i++)
    {
      g_autoptr (GPtrArray) f =
        g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_assert_true (cu_deid_check_file (c, paths[i], f, NULL));
      for (guint k = 0; k < f->len; k++)
        {
          CuDeidFinding *x = f->pdata[k];
          g_string_append_printf (s, "%s|%s|%s|%s|%s|%d\n", x->path, x->rule, x->tag_path,
                                  x->expected, x->found, x->severity);
        }
    }
  return g_string_free (s, FALSE);
}

/* Header and check in one parse (cu_deid_check_read, what the import and `deid-check FILES`
 * do) give exactly the findings of the check on its own parse and exactly the header of
 * cu_dicom_header_read, on one file of every folder of the corpus; unreadable files fail
 * both ways and append nothing. */
static void
add_one_per_folder (const char *dir, GPtrArray *out)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  gboolean took_file = FALSE;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *p = g_build_filename (dir, names->pdata[i], NULL);
      if (g_file_test (p, G_FILE_TEST_IS_DIR))
        add_one_per_folder (p, out);
      else if (!took_file && !g_str_has_suffix (p, ".tsv") && !g_str_has_suffix (p, ".md"))
        {
          g_ptr_array_add (out, g_strdup (p));
          took_file = TRUE;
        }
    }
}

static void
test_one_parse (void)
{
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *root = corpus ("");
  guint n_read = 0;

  add_one_per_folder (root, paths);
  g_assert_cmpuint (paths->len, >=, 20);
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      g_autoptr (GPtrArray) one = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_autoptr (GPtrArray) two = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
      g_autoptr (GError) e1 = NULL;
      g_autoptr (GError) e2 = NULL;
      g_autoptr (CuDicomHeader) h1 = cu_deid_check_read (c, path, one, &e1);
      g_autoptr (CuDicomHeader) h2 = cu_dicom_header_read (path, &e2);

      g_assert_true ((h1 == NULL) == (h2 == NULL));
      if (h1 == NULL)
        {
          g_assert_nonnull (e1);
          g_assert_cmpuint (one->len, ==, 0);
          continue;
        }
      n_read++;
      g_assert_cmpstr (h1->sop_instance_uid, ==, h2->sop_instance_uid);
      g_assert_cmpstr (h1->study_uid, ==, h2->study_uid);
      g_assert_cmpstr (h1->patient_id, ==, h2->patient_id);
      g_assert_cmpint (h1->rows, ==, h2->rows);
      g_assert_cmpint (h1->n_frames, ==, h2->n_frames);
      g_assert_true (cu_deid_check_file (c, path, two, NULL));
      g_assert_cmpuint (one->len, ==, two->len);
      for (guint k = 0; k < one->len; k++)
        {
          CuDeidFinding *a = one->pdata[k], *b = two->pdata[k];
          g_assert_cmpstr (a->rule, ==, b->rule);
          g_assert_cmpstr (a->tag_path, ==, b->tag_path);
          g_assert_cmpstr (a->found, ==, b->found);
          g_assert_cmpint (a->severity, ==, b->severity);
        }
    }
  g_test_message ("%u of %u files read and checked in one parse", n_read, paths->len);
  g_assert_cmpuint (n_read, >=, 20);
}

static gpointer
thread_main (gpointer data)
{
  ThreadJob *job = data;
  job->result = findings_text (job->checker, job->paths);
  return NULL;
}

static void
test_threads (void)
{
  static const char *const rel[] = {
    "single/MR-SIEMENS-DICOM-WithOverlays.dcm", "single/CT_small.dcm", "single/test-SR.dcm",
    "compressed/deflate/report_dfl", "mr/prostate_adc_ge/000000.dcm", "odd/priv_SQ.dcm",
  };
  g_auto (GStrv) paths = g_new0 (char *, G_N_ELEMENTS (rel) + 1);
  for (guint i = 0; i < G_N_ELEMENTS (rel); i++)
    paths[i] = corpus (rel[i]);
  g_autoptr (CuDeidChecker) c = checker (CU_DEID_OPTIONS_SITE_DEFAULT, PSEUDONYM_PATTERN);
  g_autofree char *baseline = findings_text (c, paths);
  g_assert_cmpuint (strlen (baseline), >, 0);

  ThreadJob jobs[4];
  GThread *threads[4];
  for (int t = 0; t < 4; t++)
    {
      jobs[t] = (ThreadJob) { c, paths, NULL };
      threads[t] = g_thread_new ("deid-check", thread_main, &jobs[t]);
    }
  for (int t = 0; t < 4; t++)
    {
      g_thread_join (threads[t]);
      g_assert_cmpstr (jobs[t].result, ==, baseline);
      g_free (jobs[t].result);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/deid/check/manifest-phi", test_manifest_phi);
  g_test_add_func ("/deid/check/deidentified-markers", test_deidentified_markers);
  g_test_add_func ("/deid/check/deidentified-pass", test_deidentified_pass);
  g_test_add_func ("/deid/check/synthetic-clean", test_synthetic_clean);
  g_test_add_func ("/deid/check/synthetic-planted", test_synthetic_planted);
  g_test_add_func ("/deid/check/study-consistency", test_study_consistency);
  g_test_add_func ("/deid/check/bad-pattern", test_bad_pattern);
  g_test_add_func ("/deid/check/gdcmanon", test_gdcmanon);
  g_test_add_func ("/deid/check/demo", test_demo);
  g_test_add_func ("/deid/check/threads", test_threads);
  g_test_add_func ("/deid/check/one-parse", test_one_parse);
  return g_test_run ();
}

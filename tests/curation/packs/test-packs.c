/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-packs.c — the shipped packs load and combine; a broken pack is refused with its file,
 * line and field, whatever the broken part (data/packs/README.md).
 *
 * Each bad case copies the shipped prostate pack from the source tree into a temporary folder
 * and breaks one thing, so the rest of the pack is known to be good.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cu-flag-rules.h"

static char *
source_pack (const char *id)
{
  return g_build_filename (g_getenv ("CU_SOURCE_ROOT"), "data", "packs", id, NULL);
}

static void
copy_tree (const char *from, const char *to)
{
  g_autoptr(GDir) dir = g_dir_open (from, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  g_assert_cmpint (g_mkdir_with_parents (to, 0700), ==, 0);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *a = g_build_filename (from, name, NULL);
      g_autofree char *b = g_build_filename (to, name, NULL);
      g_autofree char *text = NULL;
      gsize len;

      if (g_file_test (a, G_FILE_TEST_IS_DIR))
        {
          copy_tree (a, b);
          continue;
        }
      g_assert_true (g_file_get_contents (a, &text, &len, NULL));
      g_assert_true (g_file_set_contents (b, text, len, NULL));
    }
}

static void
test_builtin (void)
{
  const char *const *ids = cu_pack_builtin_ids ();
  CuPackSet *def = cu_pack_set_default ();
  const CuPackVariable *v;
  const char *const *names;

  g_assert_true (g_strv_contains (ids, "common"));
  g_assert_true (g_strv_contains (ids, "prostate"));
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(CuPack) pack = cu_pack_load_builtin (ids[i], &error);

      g_assert_no_error (error);
      g_assert_cmpstr (pack->id, ==, ids[i]);
      g_assert_nonnull (pack->sources);
      g_assert_true (pack->builtin);
    }

  /* the default layout is the one of ecrf_csv_format.md, in its order */
  names = cu_pack_set_get_variable_names (def);
  {
    static const char *const layout[] = {
      "person_id", "sex", "birth_year", "cancer_type", "diagnosis_date", "psa_ng_ml", "psa_date",
      "gleason_primary", "gleason_secondary", "gleason_score", "isup_grade_group", "clin_t",
      "clin_n", "clin_m", "pirads_max", "treatment_type", "treatment_date", "last_followup_date",
      "vital_status", "death_date", "recurrence", "recurrence_date", "observation_start_date",
      "baseline_imaging_date", "followup_imaging_date", NULL };
    g_assert_cmpuint (g_strv_length ((char **) names), ==, g_strv_length ((char **) layout));
    for (guint i = 0; layout[i] != NULL; i++)
      g_assert_cmpstr (names[i], ==, layout[i]);
  }
  /* the prostate pack adds its treatments to the shared enum */
  v = cu_pack_set_find_variable (def, "treatment_type");
  g_assert_true (g_strv_contains ((const char *const *) v->allowed, "prostatectomy"));
  g_assert_true (g_strv_contains ((const char *const *) v->allowed, "none"));
  v = cu_pack_set_find_variable (def, "psa_ng_ml");
  g_assert_true (v->serial);
  g_assert_cmpstr (v->required_for, ==, "prostate");
  g_assert_cmpstr (v->event_date, ==, "psa_date");
  g_assert_nonnull (cu_pack_set_find_form (def, "pirads-v2.1"));
  g_assert_nonnull (cu_pack_set_find_protocol (def, "prostate-mpmri-pirads-2.1"));
  g_assert_nonnull (cu_pack_set_find_term (def, "prostate-pz"));
  g_assert_nonnull (cu_pack_set_find_term (def, "lesion"));
  g_assert_cmpuint (cu_pack_set_get_rules (def)->len, >=, 23);

  /* the source folder and the compiled-in copy are the same pack */
  {
    g_autofree char *dir = source_pack ("prostate");
    g_autoptr(GError) error = NULL;
    g_autoptr(CuPack) pack = cu_pack_load_path (dir, &error);

    g_assert_no_error (error);
    g_assert_false (pack->builtin);
    g_assert_cmpuint (pack->variables->len, ==, 8);
  }
}

/* The PI-RADS v2.1 decision rules, now data of the prostate pack, give the categories of the
 * ACR document's assessment tables. */
static void
test_pirads_as_data (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(CuSegForm) form = cu_seg_form_load_from (cu_pack_set_default (), "pirads-v2.1", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (cu_seg_form_get_scoring_target (form), ==, "overall");
  /* peripheral zone: DWI decides, DCE upgrades 3 → 4 */
  for (int dwi = 1; dwi <= 5; dwi++)
    for (int t2 = 1; t2 <= 5; t2++)
      {
        g_autofree char *neg = g_strdup_printf ("{\"zone\":\"PZ\",\"t2w\":%d,\"dwi\":%d,\"dce\":\"negative\"}", t2, dwi);
        g_autofree char *pos = g_strdup_printf ("{\"zone\":\"PZ\",\"t2w\":%d,\"dwi\":%d,\"dce\":\"positive\"}", t2, dwi);
        g_autofree char *tz = g_strdup_printf ("{\"zone\":\"TZ\",\"t2w\":%d,\"dwi\":%d}", t2, dwi);
        int want_tz = (t2 == 2 && dwi >= 4) ? 3 : (t2 == 3 && dwi == 5) ? 4 : t2;

        g_assert_cmpint (cu_seg_form_suggest (form, neg), ==, dwi);
        g_assert_cmpint (cu_seg_form_suggest (form, pos), ==, dwi == 3 ? 4 : dwi);
        g_assert_cmpint (cu_seg_form_suggest (form, tz), ==, want_tz);
      }
  g_assert_cmpint (cu_seg_form_suggest (form, "{\"t2w\":3}"), ==, 0);
}

typedef struct
{
  const char *file;      /* relative to the pack */
  const char *find;      /* text to replace (NULL: append replace to the file) */
  const char *replace;
  const char *expect;    /* in the error: "FILE:LINE: FIELD" */
} BadCase;

static const BadCase bad_cases[] = {
  /* a broken manifest */
  { "pack.ini", "Version=1.0.0", "Version=one", "pack.ini:7: Version" },
  { "pack.ini", "Languages=en;es\n", "", "pack.ini:5: Languages: missing" },
  { "pack.ini", "[Pack]", "[Pack", "pack.ini: Key file contains line" },
  /* a duplicate variable, an unknown type, an impossible range, a bad condition */
  { "ecrf.tsv", "pirads_max\tinteger", "psa_date\tinteger", "ecrf.tsv:12: name: variable “psa_date” is already defined on line 7" },
  { "ecrf.tsv", "gleason_score\tinteger", "gleason_score\tnumber", "ecrf.tsv:10: type" },
  { "ecrf.tsv", "gleason_score\tinteger\t\t\t2\t10", "gleason_score\tinteger\t\t\t10\t2", "ecrf.tsv:10: max" },
  { "ecrf.tsv", "\tC\tpsa_ng_ml\t", "\tC\tpsa ng ml\t", "ecrf.tsv:7: condition" },
  /* an unknown code scheme, a SNOMED code that is not one, a colour */
  { "terms.tsv", "prostate\tanatomy\tProstate\tSCT", "prostate\tanatomy\tProstate\tSNOMED", "terms.tsv:6: category_scheme" },
  { "terms.tsv", "41216001", "4121600x", "terms.tsv:6: type_code" },
  { "terms.tsv", "#3cc84b", "green", "terms.tsv:6: colour" },
  /* a rule that does not parse, a rule without id, a bad severity */
  { "rules/CLIN-12.sql", "SELECT", "SELEKT", "rules/CLIN-12.sql:10: SQL: the query does not parse" },
  { "rules/CLIN-12.sql", "-- id: CLIN-12", "-- title2: x", "rules/CLIN-12.sql:1: id" },
  { "rules/PROT-01b.sql", "-- severity: info", "-- severity: fatal", "rules/PROT-01b.sql:3: severity" },
  /* a form whose scoring refers to an unknown field, a score that is not an integer */
  { "forms/pirads-v2.1.json", "\"dwi\": 3, \"dce\"", "\"adc\": 3, \"dce\"", "forms/pirads-v2.1.json:24: scoring.cases[1]: the scoring refers to “adc”" },
  { "forms/pirads-v2.1.json", "\"target\": \"overall\"", "\"target\": \"remark\"", "forms/pirads-v2.1.json:21: scoring.target" },
  { "forms/pirads-v2.1.json", "\"fields\": [", "\"fields\": [[", "forms/pirads-v2.1.json:20:11: Parse error" },
  /* a protocol with an impossible bound, an unknown key, a missing series group */
  { "protocols/prostate-mpmri-pirads-2.1.ini", "MinHighB=1400", "MinHighB=-1400", "prostate-mpmri-pirads-2.1.ini:54: MinHighB" },
  { "protocols/prostate-mpmri-pirads-2.1.ini", "MaxEchoTime=90", "MaxEchoTme=90", "prostate-mpmri-pirads-2.1.ini:59: MaxEchoTme: unknown key" },
  { "protocols/prostate-mpmri-pirads-2.1.ini", "Series=t2-axial;", "Series=t2-coronal;t2-axial;", "prostate-mpmri-pirads-2.1.ini:27: Series" },
  /* an unverified code the pack does not use */
  { "unverified-codes.tsv", NULL, "SCT\t123456\tSomething\tnowhere\n", "unverified-codes.tsv:9: 123456" },
};

static void
test_bad (gconstpointer data)
{
  const BadCase *c = data;
  g_autofree char *tmp = g_dir_make_tmp ("curata-pack-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "prostate", NULL);
  g_autofree char *src = source_pack ("prostate");
  g_autofree char *path = g_build_filename (dir, c->file, NULL);
  g_autofree char *text = NULL;
  g_autofree char *changed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(CuPack) pack = NULL;

  copy_tree (src, dir);
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  if (c->find != NULL)
    {
      char *at = strstr (text, c->find);
      g_assert_nonnull (at);
      changed = g_strdup_printf ("%.*s%s%s", (int) (at - text), text, c->replace, at + strlen (c->find));
    }
  else
    changed = g_strconcat (text, c->replace, NULL);
  g_assert_true (g_file_set_contents (path, changed, -1, NULL));

  pack = cu_pack_load_path (dir, &error);
  g_assert_null (pack);
  g_assert_error (error, CU_PACK_ERROR, CU_PACK_ERROR_INVALID);
  g_test_message ("%s", error->message);
  if (strstr (error->message, c->expect) == NULL)
    g_error ("expected “%s” in “%s”", c->expect, error->message);
  /* the error names the pack's folder */
  g_assert_nonnull (strstr (error->message, dir));
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp);
    g_assert_cmpint (system (cmd), ==, 0);
  }
}

/* Packs that cannot be used together: a missing requirement, a variable defined twice, an
 * enum+ without its enum. */
static void
test_combine (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) packs = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_pack_free);
  CuPackSet *set;

  g_ptr_array_add (packs, cu_pack_load_builtin ("prostate", &error));
  g_assert_no_error (error);
  set = cu_pack_set_new (g_steal_pointer (&packs), &error);
  g_assert_null (set);
  g_assert_error (error, CU_PACK_ERROR, CU_PACK_ERROR_CONFLICT);
  g_assert_nonnull (strstr (error->message, "common"));
  g_clear_error (&error);

  {
    static const char *const ids[] = { "prostate", NULL };
    g_autoptr(CuPackSet) ok = cu_pack_set_new_builtin (ids, &error);
    g_assert_no_error (error);
    /* the requirement was added, before the pack */
    g_assert_cmpuint (cu_pack_set_get_n_packs (ok), ==, 2);
    g_assert_cmpstr (cu_pack_set_get_pack (ok, 0)->id, ==, "common");
  }
  {
    static const char *const ids[] = { "nosuchpack", NULL };
    CuPackSet *none = cu_pack_set_new_builtin (ids, &error);
    g_assert_null (none);
    g_assert_error (error, CU_PACK_ERROR, CU_PACK_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
}

/* The consistency rules of the default packs are those of data/rules before packs. */
static void
test_rules (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rules = cu_flag_rules_load (NULL, &error);
  static const char *const ids[] = { "CLIN-01", "CLIN-06", "CLIN-07", "CLIN-08", "CLIN-09", "CLIN-10",
                                     "CLIN-10b", "CLIN-11", "CLIN-12", "CLIN-13", "CLIN-14", "CLIN-15",
                                     "CLIN-16", "PROT-01", "PROT-01b", "XREF-01", "XREF-02", "XREF-03",
                                     "XREF-04", "XREF-05", "XREF-06", "XREF-07", "XREF-08", NULL };

  g_assert_no_error (error);
  g_assert_cmpuint (rules->len, ==, g_strv_length ((char **) ids));
  for (guint i = 0; ids[i] != NULL; i++)
    {
      const CuFlagRule *r = rules->pdata[i];
      g_assert_cmpstr (r->id, ==, ids[i]);
      g_assert_cmpstr (r->origin, ==, "built-in");
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/packs/builtin", test_builtin);
  g_test_add_func ("/curation/packs/pirads-as-data", test_pirads_as_data);
  g_test_add_func ("/curation/packs/combine", test_combine);
  g_test_add_func ("/curation/packs/rules", test_rules);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("/curation/packs/bad/%02u", i + 1);
      g_test_add_data_func (name, &bad_cases[i], test_bad);
    }
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-deid-profile.c — the built-in PS3.15 Table E.1-1 against the counts stated in the
 * README beside the reference TSV (../shared/standards/README.md, read at test time), the
 * special rows (curves, overlays, private attributes), options and spot values of the
 * standard.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cu-deid-profile.h"

static char *
standards_path (const char *file)
{
  const char *shared = g_getenv ("CU_SHARED_DICOM");
  g_assert_nonnull (shared);
  return g_build_filename (shared, "..", "standards", file, NULL);
}

/* (group, element) to look a TSV tag cell up with: the special rows by a representative. */
static void
tag_of_cell (const char *cell, guint16 *g, guint16 *e)
{
  if (strcmp (cell, "(50xx,xxxx)") == 0)
    *g = 0x5004, *e = 0x3000;
  else if (strcmp (cell, "(60xx,3000)") == 0)
    *g = 0x6002, *e = 0x3000;
  else if (strcmp (cell, "(60xx,4000)") == 0)
    *g = 0x601E, *e = 0x4000;
  else if (strcmp (cell, "(gggg,eeee)") == 0)
    *g = 0x0029, *e = 0x1010;
  else
    {
      g_assert_cmpuint (strlen (cell), ==, 11);
      *g = (guint16) g_ascii_strtoull (cell + 1, NULL, 16);
      *e = (guint16) g_ascii_strtoull (cell + 6, NULL, 16);
    }
}

/* The README's "Counts" section: "X 384, D 92, …" for the basic action and
 * "rtn_long_full_dates K 165; …; rtn_dev_id 57 (K 46, C 11); …" per option. */
static GHashTable *
readme_counts (void)
{
  g_autofree char *path = standards_path ("README.md");
  g_autofree char *text = NULL;
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  const char *sec = strstr (text, "### Counts (basic_profile_action)");
  g_assert_nonnull (sec);
  g_auto (GStrv) lines = g_strsplit (sec, "\n", 5);
  g_assert_nonnull (lines[1]);
  g_assert_nonnull (lines[2]);
  g_assert_nonnull (lines[3]);

  /* basic: "X 384, D 92, … (total 621)." */
  g_autoptr (GRegex) basic = g_regex_new ("(X/Z/U\\*|[A-Z](?:/[A-Z])*) (\\d+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  g_regex_match (basic, lines[1], 0, &m);
  while (g_match_info_matches (m))
    {
      g_autofree char *code = g_match_info_fetch (m, 1);
      g_autofree char *n = g_match_info_fetch (m, 2);
      g_hash_table_insert (counts, g_strdup_printf ("basic %s", code),
                           GINT_TO_POINTER (atoi (n)));
      g_match_info_next (m, NULL);
    }
  /* options: "name K 165" or "name 57 (K 46, C 11)" */
  /* The option list is wrapped over two lines. */
  g_autofree char *options = g_strconcat (lines[2], " ", lines[3], NULL);
  g_auto (GStrv) parts = g_strsplit (options, ";", -1);
  for (int i = 0; parts[i] != NULL; i++)
    {
      char *p = g_strstrip (parts[i]);
      if (g_str_has_prefix (p, "Number of entries per option:"))
        p = g_strstrip (p + strlen ("Number of entries per option:"));
      if (*p == '\0')
        continue;
      g_autoptr (GRegex) one = g_regex_new ("^(\\w+) ([KC]) (\\d+)", 0, 0, NULL);
      g_autoptr (GRegex) two = g_regex_new ("^(\\w+) \\d+ \\(([KC]) (\\d+), ([KC]) (\\d+)\\)",
                                            0, 0, NULL);
      g_autoptr (GMatchInfo) mi = NULL;
      if (g_regex_match (two, p, 0, &mi))
        {
          g_autofree char *name = g_match_info_fetch (mi, 1);
          for (int k = 0; k < 2; k++)
            {
              g_autofree char *code = g_match_info_fetch (mi, 2 + 2 * k);
              g_autofree char *n = g_match_info_fetch (mi, 3 + 2 * k);
              g_hash_table_insert (counts, g_strdup_printf ("%s %s", name, code),
                                   GINT_TO_POINTER (atoi (n)));
            }
        }
      else
        {
          g_clear_pointer (&mi, g_match_info_free);
          g_assert_true (g_regex_match (one, p, 0, &mi));
          g_autofree char *name = g_match_info_fetch (mi, 1);
          g_autofree char *code = g_match_info_fetch (mi, 2);
          g_autofree char *n = g_match_info_fetch (mi, 3);
          g_hash_table_insert (counts, g_strdup_printf ("%s %s", name, code),
                               GINT_TO_POINTER (atoi (n)));
        }
    }
  return counts;
}

static void
test_counts (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CuDeidProfile) p = cu_deid_profile_new_default (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_deid_profile_get_n_rows (p), ==, 621);

  g_autoptr (GHashTable) want = readme_counts ();
  g_autoptr (GHashTable) got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  static const char *const option_cols[] = {
    "rtn_safe_priv", "rtn_uids", "rtn_dev_id", "rtn_inst_id", "rtn_pat_chars",
    "rtn_long_full_dates", "rtn_long_modif_dates", "clean_desc", "clean_struct_cont",
    "clean_graph",
  };

  /* Walk the reference TSV's tags and ask the built-in profile about each. */
  g_autofree char *tsv_path = standards_path ("ps315_basic_profile.tsv");
  g_autofree char *tsv = NULL;
  g_assert_true (g_file_get_contents (tsv_path, &tsv, NULL, NULL));
  g_auto (GStrv) lines = g_strsplit (tsv, "\n", -1);
  guint rows = 0;
  for (int i = 1; lines[i] != NULL; i++)
    {
      if (*lines[i] == '\0')
        continue;
      g_auto (GStrv) cells = g_strsplit (lines[i], "\t", 3);
      guint16 g, e;
      tag_of_cell (cells[0], &g, &e);
      const char *kw = NULL;
      CuDeidAction basic = cu_deid_profile_lookup (p, g, e, 0, &kw, NULL);
      g_assert_cmpint (basic, !=, CU_DEID_ACTION_NONE);
      if (*cells[1] != '\0')
        g_assert_cmpstr (kw, ==, cells[1]);
      char *key = g_strdup_printf ("basic %s", cu_deid_action_to_string (basic));
      g_hash_table_insert (got, key, GINT_TO_POINTER (GPOINTER_TO_INT (
                             g_hash_table_lookup (got, key)) + 1));
      for (guint o = 0; o < G_N_ELEMENTS (option_cols); o++)
        {
          CuDeidAction a = cu_deid_profile_lookup (p, g, e, 1u << o, NULL, NULL);
          if (a == basic)
            continue;
          key = g_strdup_printf ("%s %s", option_cols[o], cu_deid_action_to_string (a));
          g_hash_table_insert (got, key, GINT_TO_POINTER (GPOINTER_TO_INT (
                                 g_hash_table_lookup (got, key)) + 1));
        }
      rows++;
    }
  g_assert_cmpuint (rows, ==, 621);

  GHashTableIter it;
  gpointer k, v;
  g_assert_cmpuint (g_hash_table_size (want), >=, 20);
  g_hash_table_iter_init (&it, want);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (GPOINTER_TO_INT (g_hash_table_lookup (got, k)) != GPOINTER_TO_INT (v))
      g_error ("%s: README says %d, the profile gives %d", (char *) k, GPOINTER_TO_INT (v),
               GPOINTER_TO_INT (g_hash_table_lookup (got, k)));
  g_hash_table_iter_init (&it, got);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (!g_hash_table_contains (want, k))
      g_error ("%s: %d rows, not in the README", (char *) k, GPOINTER_TO_INT (v));
}

/* Values of PS3.15 Table E.1-1 (2024b) itself. */
static void
test_spot_values (void)
{
  g_autoptr (CuDeidProfile) p = cu_deid_profile_new_default (NULL);
  const CuDeidOptions site = CU_DEID_OPTIONS_SITE_DEFAULT;
  const CuDeidOptions modif = CU_DEID_RETAIN_LONG_MODIF_DATES;
  const char *kw = NULL, *name = NULL;

  g_assert_nonnull (p);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x0010, 0, &kw, &name), ==,
                   CU_DEID_ACTION_Z);
  g_assert_cmpstr (kw, ==, "PatientName");
  g_assert_cmpstr (name, ==, "Patient's Name");
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x0020, site, NULL, NULL), ==,
                   CU_DEID_ACTION_Z_D);
  /* No option keeps the birth date. */
  for (guint o = 0; o < 10; o++)
    g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x0030, 1u << o, NULL, NULL), ==,
                     CU_DEID_ACTION_Z);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x0040, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_Z);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x0040, site, NULL, NULL), ==,
                   CU_DEID_ACTION_K);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x1010, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_X);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0010, 0x1010, site, NULL, NULL), ==,
                   CU_DEID_ACTION_K);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x0020, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_Z);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x0020, site, NULL, NULL), ==,
                   CU_DEID_ACTION_K);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x0020, modif, NULL, NULL), ==,
                   CU_DEID_ACTION_C);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x0021, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_X_D);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x0080, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_X_Z_D);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x0080, CU_DEID_RETAIN_INSTITUTION_ID,
                                           NULL, NULL), ==, CU_DEID_ACTION_K);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0020, 0x000D, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_U);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0020, 0x000D, CU_DEID_RETAIN_UIDS, NULL, NULL),
                   ==, CU_DEID_ACTION_K);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0008, 0x103E, site, NULL, NULL), ==,
                   CU_DEID_ACTION_C);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0018, 0x1030, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_X_D);
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0040, 0xA730, CU_DEID_CLEAN_STRUCT_CONTENT, NULL,
                                           NULL), ==, CU_DEID_ACTION_C);
  /* Not in the table: acquisition physics is kept. */
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x0018, 0x0080, 0, &kw, NULL), ==,
                   CU_DEID_ACTION_NONE);
  g_assert_null (kw);
}

static void
test_special_rows (void)
{
  g_autoptr (CuDeidProfile) p = cu_deid_profile_new_default (NULL);
  const char *name = NULL;

  /* Any odd group is private; Retain Safe Private makes it C. */
  for (guint g = 0x0009; g < 0x0100; g += 0x10)
    {
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x0010, 0, NULL, &name), ==,
                       CU_DEID_ACTION_X);
      g_assert_cmpstr (name, ==, "Private Attributes");
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x1001, CU_DEID_RETAIN_SAFE_PRIVATE, NULL,
                                               NULL), ==, CU_DEID_ACTION_C);
    }
  /* Every even repeating group 5000–501E / 6000–601E, and nothing beyond. */
  for (guint g = 0x5000; g <= 0x501E; g += 2)
    {
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x3000, 0, NULL, NULL), ==,
                       CU_DEID_ACTION_X);
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x0010, CU_DEID_CLEAN_GRAPHICS, NULL,
                                               NULL), ==, CU_DEID_ACTION_C);
    }
  for (guint g = 0x6000; g <= 0x601E; g += 2)
    {
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x3000, 0, NULL, NULL), ==,
                       CU_DEID_ACTION_X);
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x4000, CU_DEID_CLEAN_GRAPHICS, NULL,
                                               NULL), ==, CU_DEID_ACTION_C);
      /* Overlay Rows/Columns/Origin are not in the table. */
      g_assert_cmpint (cu_deid_profile_lookup (p, g, 0x0010, 0, NULL, NULL), ==,
                       CU_DEID_ACTION_NONE);
    }
  g_assert_cmpint (cu_deid_profile_lookup (p, 0x6020, 0x3000, 0, NULL, NULL), ==,
                   CU_DEID_ACTION_NONE);
}

static void
test_options_text (void)
{
  CuDeidOptions o = 123;
  g_autoptr (GError) error = NULL;

  g_assert_true (cu_deid_options_parse (NULL, &o, &error));
  g_assert_cmpint (o, ==, 0);
  g_assert_true (cu_deid_options_parse ("rtn-long-full-dates,clean-desc, rtn_pat_chars", &o,
                                        &error));
  g_assert_no_error (error);
  g_assert_cmpint (o, ==, CU_DEID_OPTIONS_SITE_DEFAULT);
  for (guint bits = 0; bits < (1u << 10); bits += 37)
    {
      g_autofree char *s = cu_deid_options_to_string (bits);
      CuDeidOptions back = 0;
      g_assert_true (cu_deid_options_parse (s, &back, NULL));
      g_assert_cmpuint (back, ==, bits);
    }
  g_assert_false (cu_deid_options_parse ("rtn-long-full-dates,keep-everything", &o, &error));
  g_assert_error (error, CU_DEID_ERROR, CU_DEID_ERROR_OPTIONS);
}

static void
test_from_file (void)
{
  g_autofree char *path = standards_path ("ps315_basic_profile.tsv");
  g_autoptr (GError) error = NULL;
  g_autoptr (CuDeidProfile) p = cu_deid_profile_new_from_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cu_deid_profile_get_n_rows (p), ==, 621);

  g_autofree char *dir = g_dir_make_tmp ("cu-deid-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.tsv", NULL);
  g_assert_true (g_file_set_contents (bad, "tag\tbasic_profile_action\n(0010,0010)\tQ\n", -1,
                                      NULL));
  g_assert_null (cu_deid_profile_new_from_file (bad, &error));
  g_assert_error (error, CU_DEID_ERROR, CU_DEID_ERROR_PROFILE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (bad, "a\tb\n", -1, NULL));
  g_assert_null (cu_deid_profile_new_from_file (bad, &error));
  g_assert_error (error, CU_DEID_ERROR, CU_DEID_ERROR_PROFILE);
  g_clear_error (&error);
  g_assert_null (cu_deid_profile_new_from_file ("/nonexistent/profile.tsv", &error));
  g_assert_nonnull (error);
  g_unlink (bad);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/deid/profile/counts", test_counts);
  g_test_add_func ("/deid/profile/spot-values", test_spot_values);
  g_test_add_func ("/deid/profile/special-rows", test_special_rows);
  g_test_add_func ("/deid/profile/options-text", test_options_text);
  g_test_add_func ("/deid/profile/from-file", test_from_file);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-bundle-hostile.c — `curata-cli flags import` on site bundles that were tampered with
 * the way the fuzzer (fuzz-bundle-manifest, fuzz-bundle-answers) found hurtful: a real
 * bundle written by `curata-cli flags export`, then its manifest.json or answers.csv
 * rewritten. Each must be refused with a clear error that names the file (exit 2), without a
 * crash and without a change to the workspace; and the untouched bundle still applies
 * afterwards, so the refusal came from the rewrite and not from the set-up.
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cli-test-util.h"

typedef struct
{
  char *tmp;
  char *ws;
  char *bundle;
  char *manifest;
  char *answers;
  char *manifest_text;   /* as exported */
  char *answers_text;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *demo = NULL, *csv = NULL, *err = NULL;

  f->tmp = g_dir_make_tmp ("cu-test-bundle-hostile-XXXXXX", &error);
  g_assert_no_error (error);
  f->ws = g_build_filename (f->tmp, "ws", NULL);
  f->bundle = g_build_filename (f->tmp, "bundle", NULL);
  f->manifest = g_build_filename (f->bundle, "manifest.json", NULL);
  f->answers = g_build_filename (f->bundle, "answers.csv", NULL);
  demo = g_build_filename (f->tmp, "demo", NULL);
  csv = g_build_filename (g_getenv ("CU_SOURCE_ROOT"), "tests", "fuzz", "seeds", "csv", "ecrf_patients.csv",
                          NULL);

  g_assert_cmpint (cli_run (NULL, NULL, "demo", demo, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "import", demo, NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "clinical", "import", csv, "--site", "SITE-A",
                            NULL), ==, 0);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "check", NULL), ==, 3);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "export", "--site", "SITE-A", "--out",
                            f->bundle, NULL), ==, 0);
  g_file_get_contents (f->manifest, &f->manifest_text, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (f->answers, &f->answers_text, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->ws);
  g_free (f->bundle);
  g_free (f->manifest);
  g_free (f->answers);
  g_free (f->manifest_text);
  g_free (f->answers_text);
}

static char *
flags_snapshot (Fixture *f)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->ws, "flags", "list", "--json", NULL), ==, 0);
  return g_steal_pointer (&out);
}

static void
write_text (const char *path, const char *text, gssize len)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, len, &error);
  g_assert_no_error (error);
}

/* flags import of the bundle as it is now: refused (exit 2), the error naming named_file and
 * saying reason, nothing changed. */
static void
assert_refused (Fixture *f, const char *named_file, const char *reason)
{
  g_autofree char *before = flags_snapshot (f);
  g_autofree char *after = NULL, *err = NULL;

  g_assert_cmpint (cli_run (NULL, &err, "--workspace", f->ws, "flags", "import", f->bundle, NULL), ==, 2);
  if (strstr (err, named_file) == NULL || strstr (err, reason) == NULL)
    g_error ("the error should name %s and say “%s”: %s", named_file, reason, err);
  /* A g_return_if_fail reached from a file's content is a bug even when nothing crashes. */
  if (strstr (err, "CRITICAL") != NULL || strstr (err, "WARNING") != NULL)
    g_error ("GLib complained on the way to the refusal: %s", err);
  after = flags_snapshot (f);
  g_assert_cmpstr (after, ==, before);
}

/* Put the exported files back (the bundle is applied by the caller). */
static void
restore_original (Fixture *f)
{
  write_text (f->manifest, f->manifest_text, -1);
  write_text (f->answers, f->answers_text, -1);
}

/* The bundle as exported applies. */
static void
assert_original_applies (Fixture *f)
{
  write_text (f->manifest, f->manifest_text, -1);
  write_text (f->answers, f->answers_text, -1);
  g_assert_cmpint (cli_run (NULL, NULL, "--workspace", f->ws, "flags", "import", f->bundle, NULL), ==, 0);
}

/* A manifest nested 100,000 levels deep: json-glib's parser recurses once per level and
 * overflowed the stack (SIGSEGV) before any check could look at the file. */
static void
test_manifest_nested (Fixture *f, gconstpointer data)
{
  const guint levels = 100000;
  g_autoptr(GString) s = g_string_new (NULL);
  const char *brace = strchr (f->manifest_text, '{');

  g_assert_nonnull (brace);
  g_string_append_len (s, f->manifest_text, brace + 1 - f->manifest_text);
  g_string_append (s, "\"extra\":");
  for (guint i = 0; i < levels; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < levels; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, ',');
  g_string_append (s, brace + 1);
  write_text (f->manifest, s->str, (gssize) s->len);
  assert_refused (f, f->manifest, "nested");
  assert_original_applies (f);
}

/* A member of the manifest (object.member; object "" is the top level) replaced with a JSON
 * value of another type than the export writes. Read with json-glib's typed getters, a
 * null or a number where a string belongs gave NULL to strcmp (SIGSEGV), and an array where an
 * object belongs (or the reverse) a GLib critical. */
typedef struct
{
  const char *object;
  const char *member;
  const char *json;
  const char *reason;
} MemberCase;

static const MemberCase member_cases[] = {
  { "", "workspace_id", "7", "incomplete" },            /* SIGSEGV before */
  { "", "checksum", "false", "incomplete" },            /* SIGSEGV before */
  { "", "bundle_id", "[\"b\"]", "incomplete" },         /* the rest: GLib criticals before */
  { "", "site", "{}", "incomplete" },
  { "", "format", "{\"format\": \"curata-flag-bundle\"}", "is not the manifest of a flag bundle" },
  { "", "flags", "\"1,2,3\"", "incomplete" },
  { "", "flags", "[1, {}]", "incomplete" },
  { "", "flags", "[1, \"2\"]", "incomplete" },
  { "", "files", "[]", "incomplete" },
  { "files", "answers.csv", "{}", "incomplete" },
  { "", "workspace_id", "null", "incomplete" },
  { "files", "report.html", "null", "incomplete" },
};

static void
test_manifest_member_types (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (member_cases); i++)
    {
      const MemberCase *c = &member_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) root = json_from_string (f->manifest_text, &error);
      g_autofree char *text = NULL;
      JsonObject *o;

      g_assert_no_error (error);
      o = json_node_get_object (root);
      if (c->object[0] != '\0')
        o = json_object_get_object_member (o, c->object);
      g_assert_true (json_object_has_member (o, c->member));
      json_object_set_member (o, c->member, json_from_string (c->json, &error));
      g_assert_no_error (error);
      text = json_to_string (root, TRUE);
      g_test_message ("%s%s%s = %s", c->object, c->object[0] ? "." : "", c->member, c->json);
      write_text (f->manifest, text, -1);
      assert_refused (f, f->manifest, c->reason);
    }
  assert_original_applies (f);
}

/* An empty manifest: json-glib parses it into no root, which the reader took for a node
 * (a GLib critical). */
static void
test_manifest_empty (Fixture *f, gconstpointer data)
{
  write_text (f->manifest, "", 0);
  assert_refused (f, f->manifest, "is not the manifest of a flag bundle");
  assert_original_applies (f);
}

/* answers.csv (or manifest.json) replaced by a link to /dev/zero or by a FIFO: the reader read
 * /dev/zero until memory ran out, and waited forever for a writer on the FIFO. */
static void
test_not_regular_files (Fixture *f, gconstpointer data)
{
  const char *const files[] = { f->answers, f->manifest };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_assert_cmpint (g_unlink (files[i]), ==, 0);
      g_assert_cmpint (symlink ("/dev/zero", files[i]), ==, 0);
      assert_refused (f, files[i], "not a regular file");
      g_assert_cmpint (g_unlink (files[i]), ==, 0);
      g_assert_cmpint (mkfifo (files[i], 0600), ==, 0);
      assert_refused (f, files[i], "not a regular file");
      g_assert_cmpint (g_unlink (files[i]), ==, 0);
      restore_original (f);
    }
  assert_original_applies (f);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s CURATA-CLI\n", argv[0]);
      return 1;
    }
  cli_test_program = argv[1];

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/fuzz/bundle/manifest-nested-100000", test_manifest_nested);
  ADD ("/fuzz/bundle/manifest-member-types", test_manifest_member_types);
  ADD ("/fuzz/bundle/manifest-empty", test_manifest_empty);
  ADD ("/fuzz/bundle/not-regular-files", test_not_regular_files);
#undef ADD
  return g_test_run ();
}

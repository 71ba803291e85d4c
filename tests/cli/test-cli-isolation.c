/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-cli-isolation.c — hostile DICOM files are rejected alone: the structural check and the
 * parser processes, end to end through curata-cli import and deid-check.
 *
 * Each case damages a real file of the shared corpus and puts it in a folder with intact
 * files: the folder imports, the damaged file is rejected with a reason naming it, and the
 * exit status is the one of any rejected file (0 for import).
 *   - ~5,000 nested sequences (GDCM's recursive parser overflowed its stack: SIGSEGV);
 *   - one element length made wrong on an enhanced CT (GDCM allocated 4 GB and ran for
 *     minutes), under a 1 GiB address-space limit;
 *   - a parser process that aborts on one file (CU_TEST_PARSER_ABORT_ON makes it abort(), as
 *     a GDCM assertion or heap-corruption check would).
 * The structural check itself is tested on memory: every cut and every one-byte length change
 * of a real file either passes or is refused, never crashes (cu_dicom_validate_memory).
 *
 * Usage: test-cli-isolation CURATA-CLI  (meson passes the built executable)
 */
#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <glib/gstdio.h>

#include "curation.h"
#include "cli-test-util.h"

#define NESTED_SOURCE "single/MR_small.dcm"
#define LENGTH_SOURCE "compressed/encapsulated_fragments/CT0012.explicit_little_endian.dcm"
#define INTACT_1 "single/CT_small.dcm"
#define INTACT_2 "single/MR_small_implicit.dcm"

typedef struct
{
  char *tmp;
  char *workspace;
  char *folder;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shared = cli_shared_dicom ();
  const char *intact[] = { INTACT_1, INTACT_2 };

  f->tmp = g_dir_make_tmp ("cu-test-cli-isolation-XXXXXX", &error);
  g_assert_no_error (error);
  f->workspace = g_build_filename (f->tmp, "workspace", NULL);
  f->folder = g_build_filename (f->tmp, "in", NULL);
  g_assert_cmpint (g_mkdir (f->folder, 0755), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (intact); i++)
    {
      g_autofree char *src = g_build_filename (shared, intact[i], NULL);
      g_autofree char *name = g_strdup_printf ("z-intact-%u.dcm", i);
      g_autofree char *dst = g_build_filename (f->folder, name, NULL);
      g_autofree char *bytes = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (src, &bytes, &len, &error));
      g_assert_true (g_file_set_contents (dst, bytes, len, &error));
      g_assert_no_error (error);
    }
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  cli_remove_tree (f->tmp);
  g_free (f->workspace);
  g_free (f->folder);
  g_free (f->tmp);
}

static GBytes *
read_shared (const char *rel)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shared = cli_shared_dicom ();
  g_autofree char *path = g_build_filename (shared, rel, NULL);
  char *bytes = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &bytes, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (bytes, len);
}

/* Offset of the top-level Pixel Data element of an Explicit VR Little Endian file. */
static gsize
pixel_data_offset (const guint8 *d, gsize len)
{
  for (gsize i = 132; i + 6 <= len; i++)
    if (d[i] == 0xE0 && d[i + 1] == 0x7F && d[i + 2] == 0x10 && d[i + 3] == 0x00
        && d[i + 4] == 'O' && (d[i + 5] == 'W' || d[i + 5] == 'B'))
      return i;
  g_assert_not_reached ();
}

static void
put16 (GByteArray *b, guint16 v)
{
  guint8 x[2] = { v & 0xFF, v >> 8 };
  g_byte_array_append (b, x, 2);
}

static void
put32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24 };
  g_byte_array_append (b, x, 4);
}

/* MR_small with a Content Sequence (0040,A730) nested `levels` deep, each level one item of
 * undefined length, inserted before Pixel Data: a well-formed file, only too deep. */
static char *
write_nested (Fixture *f, guint levels)
{
  g_autoptr(GBytes) src = read_shared (NESTED_SOURCE);
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (src, &len);
  gsize pd = pixel_data_offset (d, len);
  g_autoptr(GByteArray) b = g_byte_array_new ();

  g_byte_array_append (b, d, pd);
  for (guint i = 0; i < levels; i++)
    {
      put16 (b, 0x0040), put16 (b, 0xA730);
      g_byte_array_append (b, (const guint8 *) "SQ\0\0", 4);
      put32 (b, 0xFFFFFFFF);
      put16 (b, 0xFFFE), put16 (b, 0xE000), put32 (b, 0xFFFFFFFF);
    }
  for (guint i = 0; i < levels; i++)
    {
      put16 (b, 0xFFFE), put16 (b, 0xE00D), put32 (b, 0);
      put16 (b, 0xFFFE), put16 (b, 0xE0DD), put32 (b, 0);
    }
  g_byte_array_append (b, d + pd, len - pd);

  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (f->folder, "a-nested.dcm", NULL);
  g_assert_true (g_file_set_contents (path, (const char *) b->data, b->len, &error));
  g_assert_no_error (error);
  return path;
}

static void
assert_import_rejects_alone (const char *out, const char *file, const char *reason)
{
  g_autofree char *line = g_strdup_printf ("rejected: %s: ", file);
  const char *at = strstr (out, line);
  g_assert_nonnull (out);
  g_assert_true (g_str_has_prefix (out, "3 files: 2 imported, 0 updated, 0 unchanged, "
                                        "0 duplicates, 0 skipped, 1 rejected"));
  g_assert_nonnull (at);
  const char *eol = strchr (at, '\n');
  g_autofree char *reject = g_strndup (at, eol != NULL ? (gsize) (eol - at) : strlen (at));
  g_test_message ("%s", reject);
  g_assert_nonnull (strstr (reject, reason));
}

static void
test_nested_sequences (Fixture *f, gconstpointer data)
{
  g_autofree char *nested = write_nested (f, 5000);
  g_autofree char *out = NULL, *err = NULL;

  /* import: the folder imports, the deep file is refused before GDCM sees it */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "import", f->folder, NULL),
                   ==, 0);
  assert_import_rejects_alone (out, nested, "nested more than 64 levels deep");
  g_clear_pointer (&out, g_free);

  /* deid-check on the folder: the other files are checked, this one named as unreadable */
  int status = cli_run (&out, &err, "deid-check", f->folder, NULL);
  g_assert_true (status == 2 || status == 3);
  g_assert_nonnull (strstr (out, "2 files checked"));
  g_assert_nonnull (strstr (err, "a-nested.dcm"));
  g_assert_nonnull (strstr (err, "nested more than 64 levels deep"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* 20 levels is deep but legal: the file imports (it is a copy of MR_small, a new path). */
  g_autofree char *ws2 = g_build_filename (f->tmp, "ws2", NULL);
  g_autofree char *moderate = write_nested (f, 20);
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", ws2, "import", moderate, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "1 files: 1 imported"));
}

static void
limit_address_space (gpointer data)
{
  struct rlimit rl = { (rlim_t) 1 << 30, (rlim_t) 1 << 30 };
  setrlimit (RLIMIT_AS, &rl);
}

static void
test_bad_length (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) src = read_shared (LENGTH_SOURCE);
  g_autoptr(GError) error = NULL;
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (src, &len);
  g_autofree guint8 *bytes = g_memdup2 (d, len);

  /* BitsAllocated (0028,0100) US: its 2-byte length 2 becomes 0xFFFF, which the file can
   * hold, so the parser lands in the middle of the pixel data and reads zeros as elements. */
  gsize at = 0;
  for (gsize i = 132; i + 8 <= len && at == 0; i++)
    if (memcmp (bytes + i, "\x28\x00\x00\x01US\x02\x00", 8) == 0)
      at = i;
  g_assert_cmpuint (at, >, 0);
  bytes[at + 6] = 0xFF;
  bytes[at + 7] = 0xFF;
  g_autofree char *bad = g_build_filename (f->folder, "a-bad-length.dcm", NULL);
  g_assert_true (g_file_set_contents (bad, (const char *) bytes, len, &error));
  g_assert_no_error (error);

  /* The whole import, parser processes included, within 1 GiB of address space. */
  char *argv[] = { (char *) cli_test_program, (char *) "--workspace", f->workspace,
                   (char *) "import", f->folder, NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = -1;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, limit_address_space, NULL,
                               &out, &err, &status, &error));
  g_assert_no_error (error);
  g_test_message ("stderr: %s", err);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  assert_import_rejects_alone (out, bad, "out of order");
  /* refused by the structural check, not after a parser ran out of memory or time */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 30 * G_USEC_PER_SEC);
}

static void
test_parser_crash (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) src = read_shared (LENGTH_SOURCE);
  g_autoptr(GError) error = NULL;
  g_autofree char *victim = g_build_filename (f->folder, "a-parser-dies-here.dcm", NULL);
  g_assert_true (g_file_set_contents (victim, g_bytes_get_data (src, NULL),
                                      g_bytes_get_size (src), &error));
  g_assert_no_error (error);

  g_setenv ("CU_TEST_PARSER_ABORT_ON", "parser-dies-here", TRUE);
  g_autofree char *out = NULL, *err = NULL;
  int status = cli_run (&out, NULL, "--workspace", f->workspace, "import", f->folder, NULL);
  g_assert_cmpint (status, ==, 0);
  assert_import_rejects_alone (out, victim, "the DICOM parser stopped on this file: signal 6");
  g_clear_pointer (&out, g_free);

  /* deid-check of the folder: the same file alone cannot be checked */
  status = cli_run (&out, &err, "deid-check", f->folder, NULL);
  g_unsetenv ("CU_TEST_PARSER_ABORT_ON");
  g_assert_true (status == 2 || status == 3);
  g_assert_nonnull (strstr (out, "2 files checked"));
  g_assert_nonnull (strstr (err, "a-parser-dies-here.dcm"));
  g_assert_nonnull (strstr (err, "signal 6"));
  g_clear_pointer (&out, g_free);

  /* Without the hook the same file imports: the rejection was the parser's death alone. */
  g_assert_cmpint (cli_run (&out, NULL, "--workspace", f->workspace, "import", f->folder, NULL),
                   ==, 0);
  g_assert_true (g_str_has_prefix (out, "3 files: 1 imported, 0 updated, 2 unchanged"));
}

/* The check on memory: a real file passes; every prefix of it and every one-byte change of
 * its element lengths is either accepted or refused with a message naming the offset. */
static void
test_validate_memory (void)
{
  const char *files[] = { NESTED_SOURCE, "single/MR_small_implicit.dcm",
                          "single/MR_small_bigendian.dcm" };

  for (guint k = 0; k < G_N_ELEMENTS (files); k++)
    {
      g_autoptr(GBytes) src = read_shared (files[k]);
      gsize len = 0;
      const guint8 *d = g_bytes_get_data (src, &len);
      g_autoptr(GError) error = NULL;
      g_assert_true (cu_dicom_validate_memory (d, len, files[k], &error));
      g_assert_no_error (error);

      gsize pd = MIN (len, (gsize) 2048);
      guint refused = 0;
      for (gsize cut = 0; cut < pd; cut++)
        {
          g_autoptr(GError) e = NULL;
          if (!cu_dicom_validate_memory (d, cut, "cut", &e))
            {
              g_assert_error (e, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);
              g_assert_nonnull (strstr (e->message, "at byte"));
              refused++;
            }
        }
      g_assert_cmpuint (refused, >, pd / 2);

      g_autofree guint8 *m = g_memdup2 (d, len);
      for (gsize i = 132; i < pd; i++)
        {
          guint8 saved = m[i];
          m[i] ^= 0x80;
          g_autoptr(GError) e = NULL;
          if (!cu_dicom_validate_memory (m, len, "changed", &e))
            g_assert_error (e, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);
          m[i] = saved;
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (int i = 1; i < argc; i++)
    if (argv[i][0] != '-')
      cli_test_program = argv[i];

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/cli/isolation/nested-sequences", test_nested_sequences);
  ADD ("/cli/isolation/bad-length", test_bad_length);
  ADD ("/cli/isolation/parser-crash", test_parser_crash);
#undef ADD
  g_test_add_func ("/cli/isolation/validate-memory", test_validate_memory);
  return g_test_run ();
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-dicom-writer.c — the Part 10 writer: byte layout checked by an independent little
 * parser here (PS3.10 §7, PS3.5 §7.1.2), refused values, UIDs (ITU-T X.667 example), atomic
 * writes, and a round trip through pydicom.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"

#define TAG CU_DICOM_TAG

typedef struct
{
  guint32 tag;
  char vr[3];
  guint32 length;
  const guint8 *value;
} Parsed;

static guint16
rd16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

/* Explicit VR LE element parser, top level only (sequences skipped by length). */
static GArray *
parse (const guint8 *p, gsize len)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (Parsed));
  gsize off = 0;

  while (off + 8 <= len)
    {
      Parsed e = { 0 };
      e.tag = ((guint32) rd16 (p + off) << 16) | rd16 (p + off + 2);
      memcpy (e.vr, p + off + 4, 2);
      if (strstr ("OB OD OF OL OV OW SQ SV UC UN UR UT UV", e.vr) != NULL)
        {
          g_assert_cmpuint (rd16 (p + off + 6), ==, 0);
          e.length = rd32 (p + off + 8);
          off += 12;
        }
      else
        {
          e.length = rd16 (p + off + 6);
          off += 8;
        }
      g_assert_cmpuint (off + e.length, <=, len);
      e.value = p + off;
      off += e.length;
      g_array_append_val (out, e);
    }
  g_assert_cmpuint (off, ==, len);
  return out;
}

static CuDicomDataset *
minimal_dataset (void)
{
  CuDicomDataset *ds = cu_dicom_dataset_new ();
  static const guint16 pixels[4] = { 1, 2, 3, 4095 };
  double ipp[3] = { -12.5, 0.0001234, 1e6 / 3.0 };

  /* Deliberately out of tag order. */
  cu_dicom_dataset_add_bytes (ds, TAG (0x7FE0, 0x0010), "OW", pixels, sizeof pixels);
  cu_dicom_dataset_add_string (ds, TAG (0x0010, 0x0010), "PN", "DEMO^X");   /* odd: 6 → ok, even */
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x0018), "UI", "1.2.3.4.5");  /* odd length */
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x0016), "UI", CU_DICOM_MR_IMAGE_STORAGE);
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x0060), "CS", "MR");
  cu_dicom_dataset_add_string (ds, TAG (0x0010, 0x0020), "LO", "ABC");        /* odd length */
  cu_dicom_dataset_add_ds (ds, TAG (0x0020, 0x0032), ipp, 3);
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0010), 2);
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0011), 2);
  return ds;
}

static void
test_layout (void)
{
  g_autoptr (CuDicomDataset) ds = minimal_dataset ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = cu_dicom_dataset_serialize (ds, &error);
  g_autoptr (GArray) meta = NULL;
  g_autoptr (GArray) body = NULL;
  const guint8 *p;
  gsize len = 0;
  guint32 group_length;
  gboolean saw_ts = FALSE;

  g_assert_no_error (error);
  p = g_bytes_get_data (bytes, &len);
  for (int i = 0; i < 128; i++)
    g_assert_cmpuint (p[i], ==, 0);
  g_assert_cmpmem (p + 128, 4, "DICM", 4);

  /* (0002,0000) UL 4 = number of bytes of the rest of the meta group. */
  g_assert_cmpuint (rd16 (p + 132), ==, 0x0002);
  g_assert_cmpuint (rd16 (p + 134), ==, 0x0000);
  g_assert_cmpmem (p + 136, 2, "UL", 2);
  group_length = rd32 (p + 140);
  meta = parse (p + 144, group_length);
  for (guint i = 0; i < meta->len; i++)
    {
      Parsed *e = &g_array_index (meta, Parsed, i);
      g_assert_cmpuint (e->tag >> 16, ==, 0x0002);
      if (e->tag == TAG (0x0002, 0x0010))
        {
          g_assert_cmpmem (e->value, e->length, CU_DICOM_TS_EXPLICIT_LE "\0", strlen (CU_DICOM_TS_EXPLICIT_LE) + 1);
          saw_ts = TRUE;
        }
      if (e->tag == TAG (0x0002, 0x0003))
        g_assert_cmpmem (e->value, e->length, "1.2.3.4.5\0", 10);
    }
  g_assert_true (saw_ts);

  body = parse (p + 144 + group_length, len - 144 - group_length);
  g_assert_cmpuint (body->len, ==, 9);
  for (guint i = 0; i < body->len; i++)
    {
      Parsed *e = &g_array_index (body, Parsed, i);
      g_assert_cmpuint (e->length % 2, ==, 0);
      if (i > 0)
        g_assert_cmpuint (g_array_index (body, Parsed, i - 1).tag, <, e->tag);
      if (e->tag == TAG (0x0008, 0x0018))
        g_assert_cmpmem (e->value, e->length, "1.2.3.4.5\0", 10);      /* UI: NUL pad */
      if (e->tag == TAG (0x0010, 0x0020))
        g_assert_cmpmem (e->value, e->length, "ABC ", 4);              /* text: space pad */
      if (e->tag == TAG (0x0020, 0x0032))
        {
          g_autofree char *s = g_strndup ((const char *) e->value, e->length);
          g_auto (GStrv) v = g_strsplit (g_strstrip (s), "\\", -1);
          g_assert_cmpuint (g_strv_length (v), ==, 3);
          for (int k = 0; k < 3; k++)
            g_assert_cmpuint (strlen (v[k]), <=, 16);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (v[0], NULL), -12.5, 1e-12);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (v[1], NULL), 0.0001234, 1e-12);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (v[2], NULL), 1e6 / 3.0, 1e-6);
        }
      if (e->tag == TAG (0x0028, 0x0010))
        {
          g_assert_cmpstr (e->vr, ==, "US");
          g_assert_cmpuint (e->length, ==, 2);
          g_assert_cmpuint (rd16 (e->value), ==, 2);
        }
      if (e->tag == TAG (0x7FE0, 0x0010))
        {
          g_assert_cmpstr (e->vr, ==, "OW");
          g_assert_cmpuint (e->length, ==, 8);
          g_assert_cmpuint (rd16 (e->value + 6), ==, 4095);
        }
    }
}

static void
assert_refused (CuDicomDataset *ds)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = cu_dicom_dataset_serialize (ds, &error);

  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  cu_dicom_dataset_free (ds);
}

static void
test_refused (void)
{
  CuDicomDataset *ds;
  double nan_value = NAN;

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0020, 0x000D), "UI", "1.02.3");   /* leading zero */
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0020, 0x000D), "UI", "1.2.abc");
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0020, 0x0011), "IS", "1.5");
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x0060), "CS", "CT");       /* duplicate */
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x0070), "CS", "lower");
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x1030), "SH", "more than sixteen chars");
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_string (ds, TAG (0x0002, 0x0010), "UI", "1.2");      /* meta is ours */
  assert_refused (ds);

  ds = minimal_dataset ();
  cu_dicom_dataset_add_ds (ds, TAG (0x0018, 0x0050), &nan_value, 1);
  assert_refused (ds);

  ds = cu_dicom_dataset_new ();                                            /* no SOP UIDs */
  cu_dicom_dataset_add_string (ds, TAG (0x0008, 0x0060), "CS", "MR");
  assert_refused (ds);
}

static gboolean
uid_syntax_ok (const char *uid)
{
  return uid != NULL && strlen (uid) <= 64
         && g_regex_match_simple ("^(0|[1-9][0-9]*)(\\.(0|[1-9][0-9]*))*$", uid, 0, 0);
}

static void
test_uids (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *x667 = cu_dicom_uid_from_uuid ("f81d4fae-7dec-11d0-a765-00a0c91e6bf6");
  g_autofree char *a1 = cu_dicom_uid_from_name ("study/a");
  g_autofree char *a2 = cu_dicom_uid_from_name ("study/a");
  g_autofree char *b = cu_dicom_uid_from_name ("study/b");
  g_autofree char *zero = cu_dicom_uid_from_uuid ("00000000-0000-0000-0000-000000000000");

  /* The example of ITU-T X.667 §6.3 / DICOM PS3.5 B.2. */
  g_assert_cmpstr (x667, ==, "2.25.329800735698586629295641978511506172918");
  g_assert_cmpstr (zero, ==, "2.25.0");
  g_assert_null (cu_dicom_uid_from_uuid ("not-a-uuid"));

  g_assert_cmpstr (a1, ==, a2);
  g_assert_cmpstr (a1, !=, b);
  g_assert_true (uid_syntax_ok (a1));
  g_assert_true (uid_syntax_ok (cu_dicom_implementation_uid ()));

  for (int i = 0; i < 200; i++)
    {
      char *uid = cu_dicom_uid_new ();
      g_assert_true (uid_syntax_ok (uid));
      g_assert_true (g_str_has_prefix (uid, "2.25."));
      g_assert_false (g_hash_table_contains (seen, uid));
      g_hash_table_add (seen, uid);
    }
}

static void
test_write_file (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("curata-writer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (tmp, "x.dcm", NULL);
  g_autofree char *bad = g_build_filename (tmp, "missing", "x.dcm", NULL);
  g_autoptr (CuDicomDataset) ds = minimal_dataset ();
  g_autoptr (CuDicomDataset) invalid = minimal_dataset ();
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_set_contents (path, "old contents", -1, NULL));
  g_assert_true (cu_dicom_dataset_write_file (ds, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents + 128, 4, "DICM", 4);

  g_assert_false (cu_dicom_dataset_write_file (ds, bad, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  /* A refused dataset leaves the existing file untouched. */
  cu_dicom_dataset_add_string (invalid, TAG (0x0020, 0x000D), "UI", "bad uid");
  g_assert_false (cu_dicom_dataset_write_file (invalid, path, &error));
  g_assert_nonnull (error);
  {
    g_autofree char *again = NULL;
    gsize len2 = 0;
    g_assert_true (g_file_get_contents (path, &again, &len2, NULL));
    g_assert_cmpmem (again, len2, contents, len);
  }

  g_remove (path);
  g_rmdir (tmp);
}

/* pydicom reads what we wrote, sequence included, with the values we put in. */
static void
test_pydicom_roundtrip (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("curata-writer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (tmp, "seq.dcm", NULL);
  g_autoptr (CuDicomDataset) ds = minimal_dataset ();
  CuDicomDataset *items[2];
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  const char *code =
    "import sys, warnings\n"
    "warnings.simplefilter('error')\n"
    "import pydicom\n"
    "ds = pydicom.dcmread(sys.argv[1])\n"
    "print(ds.SOPInstanceUID, ds.PatientID, ds.Modality, len(ds.DeidentificationMethodCodeSequence),\n"
    "      ds.DeidentificationMethodCodeSequence[1].CodeValue, float(ds.ImagePositionPatient[0]),\n"
    "      ds.EchoTime, ds.DiffusionBValue, ds.pixel_array.tolist())\n";
  const char *argv[] = { "/usr/bin/python3", "-c", code, path, NULL };

  for (int i = 0; i < 2; i++)
    {
      items[i] = cu_dicom_dataset_new ();
      cu_dicom_dataset_add_string (items[i], TAG (0x0008, 0x0100), "SH", i == 0 ? "113100" : "113108");
      cu_dicom_dataset_add_string (items[i], TAG (0x0008, 0x0102), "SH", "DCM");
    }
  cu_dicom_dataset_add_sequence (ds, TAG (0x0012, 0x0064), items, 2);
  cu_dicom_dataset_add_string (ds, TAG (0x0018, 0x0081), "DS", "104");
  cu_dicom_dataset_add_fd (ds, TAG (0x0018, 0x9087), 1400.5);   /* DiffusionBValue, FD */
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0002), 1);
  cu_dicom_dataset_add_string (ds, TAG (0x0028, 0x0004), "CS", "MONOCHROME2");
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0100), 16);
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0101), 12);
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0102), 11);
  cu_dicom_dataset_add_us (ds, TAG (0x0028, 0x0103), 0);
  g_assert_true (cu_dicom_dataset_write_file (ds, path, &error));
  g_assert_no_error (error);

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_fail_printf ("pydicom could not read the file:\n%s", err);
  else
    g_assert_cmpstr (g_strstrip (out), ==, "1.2.3.4.5 ABC MR 2 113108 -12.5 104 1400.5 [[1, 2], [3, 4095]]");

  g_remove (path);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/dicom/writer/layout", test_layout);
  g_test_add_func ("/curation/dicom/writer/refused", test_refused);
  g_test_add_func ("/curation/dicom/writer/uids", test_uids);
  g_test_add_func ("/curation/dicom/writer/write-file", test_write_file);
  g_test_add_func ("/curation/dicom/writer/pydicom-roundtrip", test_pydicom_roundtrip);
  return g_test_run ();
}

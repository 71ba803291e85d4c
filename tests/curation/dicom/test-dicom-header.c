/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-dicom-header.c — cu_dicom_header_read on real files, checked against pydicom (and
 * nibabel's CSA reader) run at test time, plus the failure modes on broken inputs.
 */
#include "config.h"

#include <string.h>
#include <unistd.h>
#include <math.h>

#include <glib/gstdio.h>

#include "cu-dicom-header.h"
#include "cu-dicom-pixels.h"
#include "cu-gdcm-shim-private.h"
#include "dicom-test-util.h"

static void
assert_str_field (JsonObject *ref, const char *key, const char *ours)
{
  JsonNode *n = json_object_get_member (ref, key);
  if (n == NULL || JSON_NODE_HOLDS_NULL (n))
    {
      if (ours != NULL)
        g_error ("%s: pydicom has no value, we read “%s”", key, ours);
      return;
    }
  const char *want = json_node_get_string (n);
  g_assert_true (g_utf8_validate (ours != NULL ? ours : "", -1, NULL));
  if (g_strcmp0 (want, ours) != 0)
    g_error ("%s: pydicom “%s”, we read “%s”", key, want, ours);
}

static void
assert_num_field (JsonObject *ref, const char *key, double ours, double if_absent)
{
  JsonNode *n = json_object_get_member (ref, key);
  double want = (n == NULL || JSON_NODE_HOLDS_NULL (n)) ? if_absent : json_node_get_double (n);
  if (fabs (want - ours) > 1e-6 * MAX (1, fabs (want)))
    g_error ("%s: pydicom %g, we read %g", key, want, ours);
}

static void
assert_vec_field (JsonObject *ref, const char *key, gboolean has, const double *ours, guint n)
{
  JsonNode *node = json_object_get_member (ref, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    {
      g_assert_false (has);
      return;
    }
  g_assert_true (has);
  JsonArray *a = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (a), ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (json_array_get_double_element (a, i), ours[i], 1e-6);
}

/* Every attribute pydicom can tell us, on files covering LE, BE, implicit VR, no preamble /
 * no file meta, JPEG 2000, RGB, RT dose, multi-frame and a mosaic. */
static void
test_fields_vs_pydicom (void)
{
  static const char *const files[] = {
    "single/CT_small.dcm", "single/MR_small_bigendian.dcm", "single/MR_small_implicit.dcm",
    "single/693_J2KR.dcm", "single/color-pl.dcm", "single/rtdose.dcm",
    "single/MR-SIEMENS-DICOM-WithOverlays.dcm", "odd/rtstruct.dcm", "odd/OT-PAL-8-face.dcm",
    "odd/ExplVR_BigEndNoMeta.dcm", "multiframe/enhanced_mr_philips_fieldmap/IM_0027_fMAP.dcm",
    "compressed/same_image_9_transfer_syntaxes/3.dcm", "compressed/deflate/image_dfl",
    "pt/ge_advance_nimh_2d_unif/" /* first file of the folder, resolved below */,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = dt_corpus (files[i]);
      if (g_str_has_suffix (path, "/"))
        {
          g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
          g_assert_nonnull (d);
          g_autofree char *dir = g_steal_pointer (&path);
          g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
          const char *name;
          while ((name = g_dir_read_name (d)) != NULL)
            g_ptr_array_add (names, g_strdup (name));
          g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
          g_assert_cmpuint (names->len, >, 0);
          path = g_build_filename (dir, g_ptr_array_index (names, 0), NULL);
        }
      g_test_message ("%s", path);

      g_autoptr (JsonNode) node = dt_pyref_json ("header", path);
      if (node == NULL)
        return;
      JsonObject *ref = json_node_get_object (node);
      g_autoptr (CuDicomHeader) h = dt_read_header (path);

      g_assert_cmpstr (h->path, ==, path);
      assert_str_field (ref, "SOPClassUID", h->sop_class_uid);
      assert_str_field (ref, "SOPInstanceUID", h->sop_instance_uid);
      assert_str_field (ref, "PatientID", h->patient_id);
      assert_str_field (ref, "PatientName", h->patient_name);
      assert_str_field (ref, "PatientSex", h->patient_sex);
      assert_str_field (ref, "PatientBirthDate", h->patient_birth_date);
      assert_str_field (ref, "StudyInstanceUID", h->study_uid);
      assert_str_field (ref, "StudyDate", h->study_date);
      assert_str_field (ref, "StudyTime", h->study_time);
      assert_str_field (ref, "StudyDescription", h->study_description);
      assert_str_field (ref, "StudyID", h->study_id);
      assert_str_field (ref, "AccessionNumber", h->accession_number);
      assert_str_field (ref, "SeriesInstanceUID", h->series_uid);
      assert_str_field (ref, "SeriesDescription", h->series_description);
      assert_str_field (ref, "Modality", h->modality);
      assert_str_field (ref, "Manufacturer", h->manufacturer);
      assert_str_field (ref, "FrameOfReferenceUID", h->frame_of_reference_uid);
      assert_str_field (ref, "ImageType", h->image_type);
      assert_str_field (ref, "BodyPartExamined", h->body_part);
      assert_str_field (ref, "PhotometricInterpretation", h->photometric);

      JsonNode *ts = json_object_get_member (ref, "TransferSyntaxUID");
      if (ts != NULL && !JSON_NODE_HOLDS_NULL (ts))
        g_assert_cmpstr (h->transfer_syntax, ==, json_node_get_string (ts));
      g_assert_nonnull (h->transfer_syntax);

      assert_num_field (ref, "SeriesNumber", h->series_number, -1);
      assert_num_field (ref, "InstanceNumber", h->instance_number, -1);
      assert_num_field (ref, "EchoTime", h->echo_time, h->echo_time);
      assert_num_field (ref, "RepetitionTime", h->repetition_time, h->repetition_time);
      assert_num_field (ref, "SliceThickness", h->slice_thickness, h->slice_thickness);
      assert_num_field (ref, "RescaleSlope", h->rescale_slope, 1);
      assert_num_field (ref, "RescaleIntercept", h->rescale_intercept, 0);
      if (h->has_pixels)
        {
          assert_num_field (ref, "Rows", h->rows, -1);
          assert_num_field (ref, "Columns", h->columns, -1);
          assert_num_field (ref, "SamplesPerPixel", h->samples_per_pixel, 1);
          assert_num_field (ref, "BitsAllocated", h->bits_allocated, -1);
          assert_num_field (ref, "BitsStored", h->bits_stored, -1);
          assert_num_field (ref, "HighBit", h->high_bit, -1);
          assert_num_field (ref, "PixelRepresentation", h->pixel_representation, -1);
          assert_num_field (ref, "NumberOfFrames", h->number_of_frames, 1);
          g_assert_cmpuint (h->n_frames, ==, h->number_of_frames);
        }
      else
        g_assert_cmpuint (h->n_frames, ==, 0);
      assert_vec_field (ref, "ImagePositionPatient", h->has_position, h->position, 3);
      if (json_object_get_member (ref, "ImageOrientationPatient") != NULL
          && !JSON_NODE_HOLDS_NULL (json_object_get_member (ref, "ImageOrientationPatient")))
        assert_vec_field (ref, "ImageOrientationPatient", h->has_orientation, h->orientation, 6);
      if (json_object_get_member (ref, "PixelSpacing") != NULL
          && !JSON_NODE_HOLDS_NULL (json_object_get_member (ref, "PixelSpacing")))
        assert_vec_field (ref, "PixelSpacing", h->has_spacing, h->pixel_spacing, 2);
    }
}

/* The recorded offset must point at the Pixel Data value: the bytes there equal what pydicom
 * reads as PixelData, for little endian, big endian and implicit VR files. */
static void
test_pixel_offset (void)
{
  static const char *const files[] = {
    "single/MR_small.dcm", "single/MR_small_bigendian.dcm", "single/MR_small_implicit.dcm",
    "single/gdcm-US-ALOKA-16_big.dcm", "odd/OT-PAL-8-face.dcm", "odd/SC_rgb_small_odd.dcm",
    "multiframe/pydicom_data/emri_small_big_endian.dcm",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = dt_corpus (files[i]);
      g_autoptr (CuDicomHeader) h = dt_read_header (path);
      g_autoptr (GBytes) ref = dt_pyref_pixel_bytes (path);
      if (ref == NULL)
        return;
      g_test_message ("%s: offset %" G_GINT64_FORMAT, path, h->pixel_offset);
      g_assert_true (h->has_pixels);
      g_assert_true (cu_dicom_header_is_native (h));
      g_assert_false (h->encapsulated);
      g_assert_cmpint (h->pixel_length, ==, (gint64) g_bytes_get_size (ref));

      g_autofree char *contents = NULL;
      gsize len;
      g_file_get_contents (path, &contents, &len, NULL);
      g_assert_cmpint (h->pixel_offset + h->pixel_length, <=, (gint64) len);
      g_assert_cmpmem (contents + h->pixel_offset, h->pixel_length,
                       g_bytes_get_data (ref, NULL), g_bytes_get_size (ref));
    }
}

static void
compare_frames (const char *rel)
{
  g_autofree char *path = dt_corpus (rel);
  g_autoptr (JsonNode) node = dt_pyref_json ("frames", path);
  if (node == NULL)
    return;
  JsonArray *ref = json_node_get_array (node);
  g_autoptr (CuDicomHeader) h = dt_read_header (path);

  g_test_message ("%s: %u frames", path, h->n_frames);
  g_assert_cmpuint (h->n_frames, ==, json_array_get_length (ref));
  g_assert_cmpuint (h->n_frames, ==, h->number_of_frames);
  for (guint f = 0; f < h->n_frames; f++)
    {
      const CuDicomFrame *fr = &h->frames[f];
      JsonObject *o = json_array_get_object_element (ref, f);
      JsonNode *pos = json_object_get_member (o, "position");
      g_assert_true (fr->has_position == !JSON_NODE_HOLDS_NULL (pos));
      if (fr->has_position)
        for (int k = 0; k < 3; k++)
          g_assert_cmpfloat_with_epsilon (
              fr->position[k], json_array_get_double_element (json_node_get_array (pos), k), 1e-4);
      g_assert_cmpfloat_with_epsilon (fr->rescale_slope,
                                      json_object_get_double_member (o, "slope"), 1e-9);
      g_assert_cmpfloat_with_epsilon (fr->rescale_intercept,
                                      json_object_get_double_member (o, "intercept"), 1e-9);
      if (json_object_has_member (o, "orientation"))
        {
          JsonNode *ori = json_object_get_member (o, "orientation");
          g_assert_true (fr->has_orientation == !JSON_NODE_HOLDS_NULL (ori));
          for (int k = 0; fr->has_orientation && k < 6; k++)
            g_assert_cmpfloat_with_epsilon (
                fr->orientation[k], json_array_get_double_element (json_node_get_array (ori), k),
                1e-9);
          JsonNode *sp = json_object_get_member (o, "spacing");
          g_assert_true (fr->has_spacing == !JSON_NODE_HOLDS_NULL (sp));
          for (int k = 0; fr->has_spacing && k < 2; k++)
            g_assert_cmpfloat_with_epsilon (
                fr->pixel_spacing[k], json_array_get_double_element (json_node_get_array (sp), k),
                1e-9);
          g_assert_cmpint (fr->stack_position, ==,
                           json_object_get_int_member (o, "stack_position"));
          g_assert_cmpint (fr->temporal_index, ==,
                           json_object_get_int_member (o, "temporal_index"));
          g_assert_cmpstr (fr->stack_id, ==,
                           json_object_get_string_member_with_default (o, "stack_id", NULL));
          g_assert_cmpfloat_with_epsilon (fr->b_value, json_object_get_double_member (o, "b_value"),
                                          1e-9);
        }
    }
}

static void
test_enhanced_frames (void)
{
  compare_frames ("multiframe/enhanced_mr_philips_fieldmap/IM_0027_fMAP.dcm");
  compare_frames ("multiframe/enhanced_mr_siemens_xa10/6_2.dcm");
  compare_frames ("compressed/encapsulated_fragments/CT0012.explicit_little_endian.dcm");
  compare_frames ("seg_sr/tiny_ct_legacy_enhanced_seg/mf.dcm");
}

/* RT dose: frames along the normal by the Grid Frame Offset Vector (PS3.3 C.8.8.3.2). */
static void
test_rtdose_grid (void)
{
  compare_frames ("single/rtdose.dcm");
}

static void
test_mosaic (void)
{
  g_autofree char *path = dt_corpus ("compressed/same_image_9_transfer_syntaxes/1.dcm");
  g_autoptr (JsonNode) node = dt_pyref_json ("csa", path);
  if (node == NULL)
    return;
  JsonObject *ref = json_node_get_object (node);
  g_autoptr (CuDicomHeader) h = dt_read_header (path);

  g_assert_nonnull (strstr (h->image_type, "MOSAIC"));
  g_assert_cmpint (h->mosaic_images, ==, json_object_get_int_member (ref, "mosaic"));
  g_assert_true (h->has_csa_normal);
  JsonArray *n = json_object_get_array_member (ref, "normal");
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat_with_epsilon (h->csa_slice_normal[k], json_array_get_double_element (n, k),
                                    1e-6);

  /* Another scanner's mosaic (5 images per mosaic). */
  g_autofree char *epi = dt_corpus ("mr/siemens_epi_mosaic_study/s04_pe_pa/epi_pe_pa-00001.dcm");
  g_autoptr (JsonNode) enode = dt_pyref_json ("csa", epi);
  g_autoptr (CuDicomHeader) e = dt_read_header (epi);
  g_assert_cmpint (e->mosaic_images, ==,
                   json_object_get_int_member (json_node_get_object (enode), "mosaic"));

  /* A damaged CSA header (GDCM's own parser asserts on this) is read without crashing; the
   * rest of the header is intact. */
  g_autofree char *contents = NULL;
  gsize len;
  g_file_get_contents (path, &contents, &len, NULL);
  char *sv10 = memmem (contents, len, "SV10", 4);
  g_assert_nonnull (sv10);
  for (int k = 0; k < 400; k++)
    sv10[90 + k] = (char) (k * 29 + 7);
  g_autofree char *damaged = g_build_filename (dt_tmpdir (), "damaged-csa.dcm", NULL);
  g_file_set_contents (damaged, contents, len, NULL);
  g_autoptr (CuDicomHeader) d = dt_read_header (damaged);
  g_assert_cmpstr (d->sop_instance_uid, ==, h->sop_instance_uid);
  g_assert_cmpint (d->rows, ==, h->rows);

  /* Not a mosaic: no CSA numbers even though the file is Siemens. */
  g_autofree char *plain = dt_corpus ("single/MR-SIEMENS-DICOM-WithOverlays.dcm");
  g_autoptr (CuDicomHeader) p = dt_read_header (plain);
  g_assert_cmpint (p->mosaic_images, ==, 0);
}

static char *
write_tmp (const char *name, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dt_tmpdir (), name, NULL);
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);
  return path;
}

static void
expect_error (const char *path, int code)
{
  g_autoptr (GError) error = NULL;
  CuDicomHeader *h = cu_dicom_header_read (path, &error);
  g_assert_null (h);
  g_assert_error (error, CU_DICOM_ERROR, code);
  g_test_message ("%s", error->message);
  /* The message names the file and says something after it. */
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_cmpuint (strlen (error->message), >, strlen (path) + 10);
}

static void
test_errors (void)
{
  static const char text[] = "PatientName,Age\nDoe^John,42\n";
  g_autofree char *txt = write_tmp ("notes.csv", text, sizeof text - 1);
  expect_error (txt, CU_DICOM_ERROR_NOT_DICOM);

  g_autofree char *empty = write_tmp ("empty.dcm", "", 0);
  expect_error (empty, CU_DICOM_ERROR_NOT_DICOM);

  g_autofree char *missing = g_build_filename (dt_tmpdir (), "no-such-file.dcm", NULL);
  expect_error (missing, CU_DICOM_ERROR_IO);

  expect_error (dt_tmpdir (), CU_DICOM_ERROR_IO);

  /* A DICOMDIR: preamble, file meta naming the Media Storage Directory SOP class, and a
   * Directory Record Sequence (0004,1220) — built by hand, byte by byte (PS3.10 §7). */
  GByteArray *b = g_byte_array_new ();
  guint8 zero[128] = { 0 };
  g_byte_array_append (b, zero, 128);
  g_byte_array_append (b, (const guint8 *) "DICM", 4);
  static const char sop[] = "1.2.840.10008.1.3.10";   /* 20 bytes, even */
  static const char ts[] = "1.2.840.10008.1.2.1\0";   /* padded to 20 */
  guint8 el[8];
  guint32 glen = (8 + 20) + (8 + 20);
  const guint8 gl_hdr[] = { 0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0 };
  g_byte_array_append (b, gl_hdr, 8);
  g_byte_array_append (b, (const guint8 *) &glen, 4);
  const guint8 sop_hdr[] = { 0x02, 0x00, 0x02, 0x00, 'U', 'I', 20, 0 };
  g_byte_array_append (b, sop_hdr, 8);
  g_byte_array_append (b, (const guint8 *) sop, 20);
  const guint8 ts_hdr[] = { 0x02, 0x00, 0x10, 0x00, 'U', 'I', 20, 0 };
  g_byte_array_append (b, ts_hdr, 8);
  g_byte_array_append (b, (const guint8 *) ts, 20);
  /* (0004,1220) SQ, explicit length 0 */
  const guint8 sq[] = { 0x04, 0x00, 0x20, 0x12, 'S', 'Q', 0, 0, 0, 0, 0, 0 };
  g_byte_array_append (b, sq, sizeof sq);
  memset (el, 0, sizeof el);
  g_autofree char *dicomdir = write_tmp ("DICOMDIR", b->data, b->len);
  g_byte_array_unref (b);
  expect_error (dicomdir, CU_DICOM_ERROR_DICOMDIR);

  /* Native pixel data cut short: the header is fine, the file is not. */
  g_autofree char *ct = dt_corpus ("single/CT_small.dcm");
  g_autofree char *contents = NULL;
  gsize len;
  g_file_get_contents (ct, &contents, &len, NULL);
  g_autofree char *cut = write_tmp ("cut-pixels.dcm", contents, len - 1000);
  expect_error (cut, CU_DICOM_ERROR_MALFORMED);

  /* Cut inside the header, in the middle of an element. */
  g_autofree char *cut2 = write_tmp ("cut-header.dcm", contents, 1201);
  g_autoptr (GError) error = NULL;
  CuDicomHeader *h = cu_dicom_header_read (cut2, &error);
  if (h != NULL)
    {
      /* GDCM may stop cleanly at an element boundary: then there must be no pixels. */
      g_assert_false (h->has_pixels);
      cu_dicom_header_free (h);
    }
  else
    g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);

  /* An item longer than the sequence holding it (one length byte changed in a Referenced
   * Image Sequence item): GDCM 3.0 aborts on this one if handed it. */
  {
    g_autofree char *src = dt_corpus ("compressed/same_image_9_transfer_syntaxes/4.dcm");
    g_autofree char *bytes = NULL;
    gsize blen;
    g_file_get_contents (src, &bytes, &blen, NULL);
    static const char item[] = "\xfe\xff\x00\xe0\x5e\x00\x00\x00\x08\x00\x50\x11";
    char *at = memmem (bytes, blen, item, sizeof item - 1);
    g_assert_nonnull (at);
    at[4] = 0x71;
    g_autofree char *overrun = write_tmp ("item-overrun.dcm", bytes, blen);
    expect_error (overrun, CU_DICOM_ERROR_MALFORMED);
  }

  /* A damaged deflate stream (Deflated Explicit VR Little Endian): reported, quickly — GDCM
   * left alone with such a stream was seen to allocate and clear gigabytes. */
  {
    g_autofree char *src = dt_corpus ("compressed/deflate/image_dfl");
    g_autofree char *bytes = NULL;
    gsize blen;
    g_file_get_contents (src, &bytes, &blen, NULL);
    g_autofree char *cut_dfl = write_tmp ("cut-deflate.dcm", bytes, blen / 2);
    expect_error (cut_dfl, CU_DICOM_ERROR_MALFORMED);
    /* Raw deflate has no checksum: damage inside the pixel part may still inflate. Either way
     * the result is a header or MALFORMED, and decoding does not crash. */
    memset (bytes + blen / 2, 0xFF, 64);
    g_autofree char *dfl = write_tmp ("damaged-deflate.dcm", bytes, blen);
    g_autoptr (GError) derr = NULL;
    g_autoptr (CuDicomHeader) dh = cu_dicom_header_read (dfl, &derr);
    if (dh == NULL)
      g_assert_error (derr, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);
    else if (dh->has_pixels)
      {
        g_autofree guint8 *px = g_malloc ((gsize) dh->rows * dh->columns);
        if (!cu_dicom_read_frames_raw (dh, px, (gsize) dh->rows * dh->columns, &derr))
          g_assert_nonnull (derr);
      }
  }

  /* Garbage after a valid preamble + DICM. */
  guint8 junk[600];
  memset (junk, 0, 128);
  memcpy (junk + 128, "DICM", 4);
  for (gsize i = 132; i < sizeof junk; i++)
    junk[i] = (guint8) (i * 37 + 11);
  g_autofree char *jp = write_tmp ("junk.dcm", junk, sizeof junk);
  g_clear_error (&error);
  h = cu_dicom_header_read (jp, &error);
  if (h != NULL)
    {
      g_assert_false (h->has_pixels);
      cu_dicom_header_free (h);
    }
  else
    g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);
}

/* Every truncation of a header (every 5th byte, in three encodings) is a MALFORMED error or,
 * at an element boundary, a header without pixels — never an abort (Debian's GDCM asserts on
 * several of these when handed them directly). */
static void
test_truncations (void)
{
  static const char *const files[] = {
    "single/CT_small.dcm", "single/MR_small_bigendian.dcm", "single/MR_small_implicit.dcm",
    "odd/rtstruct.dcm",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = dt_corpus (files[i]);
      g_autoptr (CuDicomHeader) full = dt_read_header (path);
      g_autofree char *contents = NULL;
      gsize len;
      g_file_get_contents (path, &contents, &len, NULL);
      gsize stop = full->has_pixels ? (gsize) full->pixel_offset + 16 : MIN (len, 3000);
      g_autofree char *cut = g_build_filename (dt_tmpdir (), "truncated.dcm", NULL);
      guint n_malformed = 0;
      for (gsize at = 140; at < stop; at += 5)
        {
          g_autoptr (GError) error = NULL;
          g_file_set_contents (cut, contents, at, NULL);
          g_autoptr (CuDicomHeader) h = cu_dicom_header_read (cut, &error);
          if (h != NULL)
            g_assert_false (h->has_pixels);
          else
            {
              g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED);
              n_malformed++;
            }
        }
      g_test_message ("%s: %u of the cuts are malformed", path, n_malformed);
      g_assert_cmpuint (n_malformed, >, 0);
    }
}

/* The odd/ files from the pydicom regression suite: each either reads (what it should) or fails
 * with the right code — never a crash. */
static void
test_odd_files (void)
{
  static const struct { const char *rel; int code; } cases[] = {
    { "odd/emri_small_jpeg_2k_lossless_too_short.dcm", CU_DICOM_ERROR_MALFORMED },
    { "odd/no_meta.dcm", CU_DICOM_ERROR_MALFORMED },
    { "odd/meta_missing_tsyntax.dcm", -1 },
    { "odd/no_meta_group_length.dcm", -1 },
    { "odd/nested_priv_SQ.dcm", -1 },
    { "odd/priv_SQ.dcm", -1 },
    { "odd/empty_charset_LEI.dcm", -1 },
    { "odd/badVR.dcm", -1 },
    /* Its UI values are SHA-256 hex strings, not UIDs (PS3.5 §9.1: digits and dots). */
    { "odd/bad_sequence.dcm", CU_DICOM_ERROR_MALFORMED },
    { "odd/explicit_VR-UN.dcm", -1 },
    { "odd/MR_small_padded.dcm", -1 },
    { "odd/ExplVR_BigEndNoMeta.dcm", -1 },
    { "odd/rtstruct.dcm", -1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = dt_corpus (cases[i].rel);
      g_autoptr (GError) error = NULL;
      g_autoptr (CuDicomHeader) h = cu_dicom_header_read (path, &error);
      g_test_message ("%s: %s", path, error != NULL ? error->message : "read");
      if (cases[i].code < 0)
        {
          g_assert_no_error (error);
          g_assert_nonnull (h->transfer_syntax);
        }
      else
        {
          g_assert_null (h);
          g_assert_error (error, CU_DICOM_ERROR, cases[i].code);
          g_assert_true (g_str_has_prefix (error->message, path));
        }
    }

  /* Files without preamble or file meta: told apart, with their syntax deduced. */
  g_autofree char *be = dt_corpus ("odd/ExplVR_BigEndNoMeta.dcm");
  g_autoptr (CuDicomHeader) h = dt_read_header (be);
  g_assert_false (h->has_preamble);
  g_assert_false (h->has_meta);
  g_assert_true (h->big_endian);
  g_assert_cmpstr (h->transfer_syntax, ==, "1.2.840.10008.1.2.2");

  g_autofree char *meta = dt_corpus ("odd/meta_missing_tsyntax.dcm");
  g_autoptr (CuDicomHeader) m = dt_read_header (meta);
  g_assert_true (m->has_preamble);
  g_assert_true (m->has_meta);
  g_assert_cmpstr (m->transfer_syntax, ==, "1.2.840.10008.1.2");

  g_autofree char *dfl = dt_corpus ("compressed/deflate/image_dfl");
  g_autoptr (CuDicomHeader) d = dt_read_header (dfl);
  g_assert_cmpstr (d->transfer_syntax, ==, "1.2.840.10008.1.2.1.99");
  g_assert_false (cu_dicom_header_is_native (d));
  g_assert_true (d->has_pixels);
}

/* Latin-1 text (ISO_IR 100) comes out as UTF-8; bytes that are invalid in the declared set are
 * replaced, never passed through. Built by editing a real file's bytes in place. */
static void
test_charset (void)
{
  g_autofree char *ct = dt_corpus ("single/CT_small.dcm");
  g_autofree char *contents = NULL;
  gsize len;
  g_file_get_contents (ct, &contents, &len, NULL);

  /* CT_small declares ISO_IR 100 and PatientName "CompressedSamples^CT1": put é and ü in. */
  char *at = memmem (contents, len, "CompressedSamples^CT1", 21);
  g_assert_nonnull (at);
  memcpy (at, "Compr\xe9ssedSampl\xfcs", 17);
  g_autofree char *latin = write_tmp ("latin1.dcm", contents, len);
  g_autoptr (CuDicomHeader) h = dt_read_header (latin);
  g_assert_cmpstr (h->patient_name, ==, "Compr\xc3\xa9ssedSampl\xc3\xbcs^CT1");

  /* Same bytes declared as UTF-8 (ISO_IR 192, same length as "ISO_IR 100"): invalid UTF-8
   * must be repaired. */
  char *scs = memmem (contents, len, "ISO_IR 100", 10);
  g_assert_nonnull (scs);
  memcpy (scs, "ISO_IR 192", 10);
  g_autofree char *utf = write_tmp ("utf8.dcm", contents, len);
  g_autoptr (CuDicomHeader) u = dt_read_header (utf);
  g_assert_true (g_utf8_validate (u->patient_name, -1, NULL));
  g_assert_true (g_str_has_suffix (u->patient_name, "^CT1"));
}

/* PS3.5 §9.1 as the header reader applies it to the instance UIDs. */
static void
test_uid_syntax (void)
{
  const struct { const char *uid; gboolean valid; } cases[] = {
    { "1.2.840.10008.1.2", TRUE },
    { "1.2.123.456.78.9.0123.4567.89012345678901", TRUE },   /* leading zero: tolerated */
    { "1234567890123456789012345678901234567890123456789012345678901234", TRUE },
    { "12345678901234567890123456789012345678901234567890123456789012345", FALSE },
    { "", FALSE },
    { "1..2", FALSE },
    { ".1.2", FALSE },
    { "1.2.", FALSE },
    { "1.2.3\0379", FALSE },   /* a unit separator (0x1F) inside */
    { "1.2.3 4", FALSE },
    { "05fa52f0e599f17b", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      if (_cu_dicom_uid_valid (cases[i].uid) != cases[i].valid)
        g_error ("“%s” should be %s", cases[i].uid, cases[i].valid ? "valid" : "invalid");
    }
  g_assert_false (_cu_dicom_uid_valid (NULL));
}

/* Header-driven sizes: overflow is refused, the byte counts are exact. */
static void
test_pixel_bytes (void)
{
  CuDicomHeader h = { 0 };
  guint64 stored, decoded;

  h.rows = 512, h.columns = 512, h.samples_per_pixel = 3, h.bits_allocated = 16;
  h.number_of_frames = 10;
  g_assert_true (_cu_dicom_pixel_bytes (&h, &stored, &decoded));
  g_assert_cmpuint (stored, ==, G_GUINT64_CONSTANT (512) * 512 * 3 * 2 * 10);
  g_assert_cmpuint (decoded, ==, stored);

  h.samples_per_pixel = 1, h.bits_allocated = 1, h.number_of_frames = 3;
  g_assert_true (_cu_dicom_pixel_bytes (&h, &stored, &decoded));
  g_assert_cmpuint (stored, ==, (G_GUINT64_CONSTANT (512) * 512 * 3 + 7) / 8);
  g_assert_cmpuint (decoded, ==, G_GUINT64_CONSTANT (512) * 512 * 3);

  /* 65535² × 4 samples × 2³¹ frames × 32 bits: beyond 64 bits. */
  h.rows = h.columns = 65535, h.samples_per_pixel = 4, h.bits_allocated = 32;
  h.number_of_frames = G_MAXINT;
  g_assert_false (_cu_dicom_pixel_bytes (&h, &stored, &decoded));
  h.rows = -1, h.number_of_frames = 1;
  g_assert_false (_cu_dicom_pixel_bytes (&h, &stored, &decoded));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/curation/dicom/header/fields-vs-pydicom", test_fields_vs_pydicom);
  g_test_add_func ("/curation/dicom/header/pixel-offset", test_pixel_offset);
  g_test_add_func ("/curation/dicom/header/enhanced-frames", test_enhanced_frames);
  g_test_add_func ("/curation/dicom/header/rtdose-grid", test_rtdose_grid);
  g_test_add_func ("/curation/dicom/header/mosaic", test_mosaic);
  g_test_add_func ("/curation/dicom/header/errors", test_errors);
  g_test_add_func ("/curation/dicom/header/truncations", test_truncations);
  g_test_add_func ("/curation/dicom/header/odd-files", test_odd_files);
  g_test_add_func ("/curation/dicom/header/charset", test_charset);
  g_test_add_func ("/curation/dicom/header/uid-syntax", test_uid_syntax);
  g_test_add_func ("/curation/dicom/header/pixel-bytes", test_pixel_bytes);

  return g_test_run ();
}

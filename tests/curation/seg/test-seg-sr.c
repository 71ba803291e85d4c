/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-seg-sr.c — the TID 1500 measurement report writer on a synthetic map: what it refuses,
 * what a release's report holds (coded content, one group per segment) and what it must not
 * hold (the reader's free text); the label origin in the label table's JSON.
 * (The full DICOM checks — dciodvfy, dsrdump, pydicom — are in tests/cli/test-cli-seg-sr.py.)
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "curation.h"

static CuDicomHeader *
make_source (void)
{
  CuDicomHeader *h = g_new0 (CuDicomHeader, 1);

  h->study_uid = g_strdup ("2.25.1");
  h->series_uid = g_strdup ("2.25.2");
  h->frame_of_reference_uid = g_strdup ("2.25.3");
  h->patient_id = g_strdup ("ANON-7");
  h->patient_name = g_strdup ("ANON-7");
  h->modality = g_strdup ("MR");
  h->series_number = 5;
  return h;
}

static CuLabelMap *
make_map (void)
{
  g_autoptr(CuVolume) g = cu_volume_new (20, 20, 4, 1, TRUE, NULL);
  CuLabelMap *map = cu_label_map_new (g, NULL);
  g_autoptr(CuLabel) lesion = cu_label_new (1, "Smith lesion", NULL);
  g_autoptr(CuLabel) pz = cu_label_new (2, "zone", NULL);
  g_autoptr(CuLabel) empty = cu_label_new (3, "nothing", NULL);

  cu_seg_term_apply (cu_seg_terminology_find ("lesion"), lesion, FALSE);
  lesion->form_json = g_strdup ("{\"zone\":\"CZ\",\"t2w\":5,\"dwi\":5,\"overall\":5,\"remark\":\"ask Dr Jones\"}");
  cu_seg_term_apply (cu_seg_terminology_find ("prostate-pz"), pz, FALSE);
  cu_label_map_set_label (map, lesion);
  cu_label_map_set_label (map, pz);
  cu_label_map_set_label (map, empty);
  for (int k = 1; k < 3; k++)
    for (int j = 5; j < 9; j++)
      for (int i = 5; i < 9; i++)
        {
          map->data[cu_label_map_index (map, i, j, k)] = 1;
          map->data[cu_label_map_index (map, i + 8, j + 8, k)] = 2;
        }
  return map;
}

static gsize
count (GBytes *bytes, const char *needle)
{
  gsize size, n = 0, len = strlen (needle);
  const char *data = g_bytes_get_data (bytes, &size);

  for (gsize i = 0; i + len <= size; i++)
    if (memcmp (data + i, needle, len) == 0)
      n++;
  return n;
}

static void
test_report (void)
{
  g_autoptr(CuLabelMap) map = make_map ();
  g_autoptr(CuLabelMap) blank = NULL;
  g_autoptr(CuDicomHeader) source = make_source ();
  g_autoptr(CuDicomHeader) back = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *dir = g_dir_make_tmp ("cu-test-seg-sr-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sr.dcm", NULL);
  const char *classes[4] = { CU_DICOM_MR_IMAGE_STORAGE, CU_DICOM_MR_IMAGE_STORAGE,
                             CU_DICOM_MR_IMAGE_STORAGE, CU_DICOM_MR_IMAGE_STORAGE };
  const char *instances[4] = { "1.2.3.999.10", "1.2.3.999.11", "1.2.3.999.12", "1.2.3.999.13" };
  CuSegSrSpec spec = { 0 };
  char *contents;
  gsize length;

  spec.source = source;
  spec.slice_sop_class = classes;
  spec.slice_sop_instance = instances;
  spec.seg_series_uid = "1.2.3.999.20";

  /* Without the SEG it refers to: refused. */
  g_assert_false (cu_seg_sr_write (map, &spec, path, &error));
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* An empty map: nothing to report. */
  spec.seg_sop_instance_uid = "1.2.3.999.21";
  blank = cu_label_map_new (map->geometry, NULL);
  g_assert_false (cu_seg_sr_write (blank, &spec, path, &error));
  g_assert_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID);
  g_clear_error (&error);

  /* A release's report: segment numbers as the SEG gives them, no names copied. */
  g_assert_true (cu_seg_sr_write (map, &spec, path, &error));
  g_assert_no_error (error);
  back = cu_dicom_header_read (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (back->sop_class_uid, ==, CU_DICOM_COMPREHENSIVE_3D_SR_STORAGE);
  g_assert_cmpstr (back->modality, ==, "SR");
  g_assert_cmpint (back->series_number, ==, 405);
  g_assert_cmpstr (back->patient_id, ==, "ANON-7");
  g_assert_cmpstr (back->study_uid, ==, "2.25.1");

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  bytes = g_bytes_new_take (contents, length);
  /* The reader's free text stays out: label names and the form's remark. */
  g_assert_cmpuint (count (bytes, "Smith"), ==, 0);
  g_assert_cmpuint (count (bytes, "Jones"), ==, 0);
  g_assert_cmpuint (count (bytes, "nothing"), ==, 0);
  /* One Measurement Group per segment with voxels (label 3 is empty). */
  g_assert_cmpuint (count (bytes, "125007"), ==, 2);
  g_assert_cmpuint (count (bytes, "Lesion 1"), ==, 1);
  /* The zone label's tracking identifier is its coded meaning, as is its finding. */
  g_assert_cmpuint (count (bytes, "Peripheral zone of the prostate"), ==, 2);
  /* PI-RADS 5 in the (private, declared) central zone. */
  g_assert_cmpuint (count (bytes, "PIRADS-5"), ==, 1);
  g_assert_cmpuint (count (bytes, "PROSTATE-CZ"), ==, 1);
  g_assert_cmpuint (count (bytes, "Curata private codes"), ==, 1);
  /* The SEG instance is referenced by both groups and the evidence. */
  g_assert_cmpuint (count (bytes, "1.2.3.999.21"), ==, 3);
  /* Every source instance in the Image Library and the evidence. */
  g_assert_cmpuint (count (bytes, "1.2.3.999.12"), ==, 2);
  /* No observer given: the device observes. */
  g_assert_cmpuint (count (bytes, "121007"), ==, 1);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_origin_json (void)
{
  g_autoptr(CuLabelMap) map = make_map ();
  g_autoptr(CuLabelMap) back = cu_label_map_copy (map);
  g_autoptr(CuLabel) model = cu_label_copy (cu_label_map_get_label (map, 1));
  g_autoptr(CuLabel) manual = cu_label_copy (cu_label_map_get_label (map, 2));
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;
  CuLabelOrigin origin;

  model->origin = CU_LABEL_ORIGIN_AUTOMATIC;
  model->algorithm_name = g_strdup ("nnU-Net");
  cu_label_map_set_label (map, model);
  /* A name without an origin that needs one is dropped. */
  manual->algorithm_name = g_strdup ("left over");
  cu_label_map_set_label (map, manual);
  json = cu_label_map_labels_to_json (map);
  g_assert_true (cu_label_map_labels_from_json (back, json, &error));
  g_assert_no_error (error);
  g_assert_cmpint (cu_label_map_get_label (back, 1)->origin, ==, CU_LABEL_ORIGIN_AUTOMATIC);
  g_assert_cmpstr (cu_label_map_get_label (back, 1)->algorithm_name, ==, "nnU-Net");
  g_assert_cmpint (cu_label_map_get_label (back, 2)->origin, ==, CU_LABEL_ORIGIN_MANUAL);
  g_assert_null (cu_label_map_get_label (back, 2)->algorithm_name);

  g_assert_true (cu_label_origin_from_string ("semiautomatic", &origin));
  g_assert_cmpint (origin, ==, CU_LABEL_ORIGIN_SEMIAUTOMATIC);
  g_assert_false (cu_label_origin_from_string ("auto", &origin));
  g_assert_cmpstr (cu_label_origin_to_string (CU_LABEL_ORIGIN_AUTOMATIC), ==, "AUTOMATIC");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/curation/seg/sr/report", test_report);
  g_test_add_func ("/curation/seg/label/origin-json", test_origin_json);
  return g_test_run ();
}

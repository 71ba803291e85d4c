/* SPDX-License-Identifier: GPL-3.0-or-later
 * test-dicom-pixels.c — pixel decoding on real files: native data against pydicom, every
 * compressed encoding against its uncompressed twin, the direct OpenJPEG / CharLS / zlib paths
 * against known answers, rescale and colour in the float variant, and errors instead of
 * garbage for streams nothing here can decode.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "cu-dicom-header.h"
#include "cu-dicom-pixels.h"
#include "cu-j2k-decoder.h"
#include "cu-jpegls-decoder.h"
#include "dicom-test-util.h"

static gint64 *
decode_ok (const char *rel, CuDicomHeader **out_header, gsize *n)
{
  g_autofree char *path = dt_corpus (rel);
  g_autoptr (GError) error = NULL;
  CuDicomHeader *h = dt_read_header (path);
  gint64 *v = dt_decode_i64 (h, n, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  if (out_header != NULL)
    *out_header = h;
  else
    cu_dicom_header_free (h);
  return v;
}

/* Decoded file a equals decoded file b (tolerance 0) or is close (lossy). */
static void
assert_same_pixels (const char *rel_a, const char *rel_b, gint64 tolerance, double max_mean_abs)
{
  gsize na, nb;
  g_autofree gint64 *a = decode_ok (rel_a, NULL, &na);
  g_autofree gint64 *b = decode_ok (rel_b, NULL, &nb);
  gint64 max_diff;

  g_assert_cmpuint (na, ==, nb);
  gsize bad = dt_count_diff (a, b, na, tolerance, &max_diff);
  double sum = 0;
  for (gsize i = 0; i < na; i++)
    sum += fabs ((double) (a[i] - b[i]));
  g_test_message ("%s vs %s: max |diff| %" G_GINT64_FORMAT ", mean %.3f", rel_a, rel_b, max_diff,
                  sum / na);
  g_assert_cmpuint (bad, ==, 0);
  g_assert_cmpfloat (sum / na, <=, max_mean_abs);
}

/* Lossy encodings: the decoded image stays close to the reference relative to its dynamic
 * range (at most max_frac of it anywhere, mean_frac on average) and is not identical to it. */
static void
assert_close_pixels (const char *rel_a, const char *rel_b, double max_frac, double mean_frac)
{
  gsize na, nb;
  g_autofree gint64 *a = decode_ok (rel_a, NULL, &na);
  g_autofree gint64 *b = decode_ok (rel_b, NULL, &nb);
  gint64 lo = G_MAXINT64, hi = G_MININT64, max_diff;
  double sum = 0;

  g_assert_cmpuint (na, ==, nb);
  for (gsize i = 0; i < nb; i++)
    {
      lo = MIN (lo, b[i]);
      hi = MAX (hi, b[i]);
      sum += fabs ((double) (a[i] - b[i]));
    }
  double range = (double) (hi - lo);
  dt_count_diff (a, b, na, 0, &max_diff);
  g_test_message ("%s vs %s: max |diff| %" G_GINT64_FORMAT ", mean %.3f, range %.0f", rel_a,
                  rel_b, max_diff, sum / na, range);
  g_assert_cmpfloat (range, >, 0);
  g_assert_cmpfloat (max_diff, <=, max_frac * range);
  g_assert_cmpfloat (sum / na, <=, mean_frac * range);
}

/* Native files of every layout we read without a codec, against pydicom's pixel_array. */
static void
test_native_vs_pydicom (void)
{
  static const char *const files[] = {
    "single/CT_small.dcm",                       /* signed 16-bit LE */
    "single/MR_small_bigendian.dcm",             /* big endian */
    "single/MR_small_implicit.dcm",              /* implicit VR */
    "multiframe/pydicom_data/emri_small_big_endian.dcm", /* multi-frame BE, 12 in 16 bits */
    "single/rtdose.dcm",                         /* 32-bit, 15 frames */
    "single/color-pl.dcm",                       /* RGB, planar configuration 1 */
    "odd/SC_rgb_small_odd.dcm",                  /* odd length, padded */
    "single/gdcm-US-ALOKA-16_big.dcm",           /* BE palette 16-bit */
    "single/mlut_18.dcm",                        /* signed 12 in 16 bits */
    "single/vlut_04.dcm",                        /* 8-bit */
    "single/MR-SIEMENS-DICOM-WithOverlays.dcm",  /* 12 in 16 bits */
    "seg_sr/liver_ct_3slice_with_seg/liver.dcm", /* 1-bit SEG, 3 frames */
    "seg_sr/tiny_ct_legacy_enhanced_seg/label.seg", /* 1-bit, frames not byte aligned */
    "multiframe/enhanced_mr_philips_fieldmap/IM_0027_fMAP.dcm",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = dt_corpus (files[i]);
      gsize n_ref = 0, n = 0;
      g_autofree gint64 *ref = dt_pyref_pixels (path, &n_ref);
      if (ref == NULL)
        return;
      g_autoptr (CuDicomHeader) h = dt_read_header (path);
      g_assert_true (cu_dicom_header_is_native (h));
      g_autofree gint64 *v = decode_ok (files[i], NULL, &n);
      gint64 max_diff;
      g_test_message ("%s: %zu values", path, n);
      g_assert_cmpuint (n, ==, n_ref);
      g_assert_cmpuint (dt_count_diff (v, ref, n, 0, &max_diff), ==, 0);
    }
}

/* One Siemens mosaic in 9 transfer syntaxes (native LE/BE/implicit, RLE, JPEG lossless ×2,
 * JPEG-LS ×2, JPEG 2000 lossless): all decode to the same values. */
static void
test_same_image_9_syntaxes (void)
{
  for (int i = 2; i <= 9; i++)
    {
      g_autofree char *rel =
          g_strdup_printf ("compressed/same_image_9_transfer_syntaxes/%d.dcm", i);
      assert_same_pixels (rel, "compressed/same_image_9_transfer_syntaxes/1.dcm", 0, 0);
    }
}

/* NEMA WG-04: lossless encodings equal the uncompressed reference; lossy ones are close. */
static void
test_wg04 (void)
{
  static const char *const lossless[] = { "J2KR", "JLSL", "JPLL", "RLE" };
  static const char *const lossy[] = { "J2KI", "JLSN" };

  for (gsize i = 0; i < G_N_ELEMENTS (lossless); i++)
    {
      g_autofree char *ct = g_strdup_printf ("compressed/nema_wg04/CT1_%s", lossless[i]);
      assert_same_pixels (ct, "compressed/nema_wg04/CT1_UNC", 0, 0);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (lossless); i++)
    {
      g_autofree char *mr = g_strdup_printf ("compressed/nema_wg04/MR1_%s", lossless[i]);
      g_autofree char *path = dt_corpus (mr);
      g_autoptr (CuDicomHeader) h = dt_read_header (path);
      g_autoptr (GError) error = NULL;
      gsize n;
      g_autofree gint64 *v = dt_decode_i64 (h, &n, &error);
      if (v == NULL)
        {
          /* MR1_JLSL defeats GDCM 3.0 and CharLS 2.4 alike: it must fail loudly. */
          g_test_message ("%s: %s", mr, error->message);
          g_assert_true (g_error_matches (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE)
                         || g_error_matches (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED));
          g_assert_true (g_str_has_prefix (error->message, path));
          continue;
        }
      assert_same_pixels (mr, "compressed/nema_wg04/MR1_UNC", 0, 0);
    }
  /* Lossy: within a tenth of the range anywhere, 1 % on average. */
  for (gsize i = 0; i < G_N_ELEMENTS (lossy); i++)
    {
      g_autofree char *ct = g_strdup_printf ("compressed/nema_wg04/CT1_%s", lossy[i]);
      assert_close_pixels (ct, "compressed/nema_wg04/CT1_UNC", 0.1, 0.01);
      g_autofree char *mr = g_strdup_printf ("compressed/nema_wg04/MR1_%s", lossy[i]);
      assert_close_pixels (mr, "compressed/nema_wg04/MR1_UNC", 0.1, 0.01);
    }
  assert_close_pixels ("compressed/nema_wg04/MR1_JPLY", "compressed/nema_wg04/MR1_UNC", 0.1, 0.01);
}

/* Multi-frame enhanced CT re-encoded with and without Basic Offset Table, fragmented or not. */
static void
test_fragments (void)
{
  static const char *const lossless[] = {
    "CT0012.fragmented_no_bot_jpeg_lossless.57.dcm",
    "CT0012.fragmented_no_bot_jpeg_lossless.70.dcm",
    "CT0012.fragmented_no_bot_jpeg_ls.80.dcm", "CT0012.not_fragmented_bot_jpeg_ls.80.dcm",
    "CT0012.not_fragmented_no_bot_jpeg_ls.80.dcm", "CT0012.not_fragmented_bot_rle.dcm",
    "CT0012.not_fragmented_no_bot_rle.dcm",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (lossless); i++)
    {
      g_autofree char *rel = g_strconcat ("compressed/encapsulated_fragments/", lossless[i], NULL);
      assert_same_pixels (rel,
                          "compressed/encapsulated_fragments/CT0012.explicit_little_endian.dcm",
                          0, 0);
    }
  assert_close_pixels ("compressed/encapsulated_fragments/CT0012.fragmented_no_bot_jpeg_ls.81.dcm",
                       "compressed/encapsulated_fragments/CT0012.explicit_little_endian.dcm", 0.01,
                       0.005);
  static const char *const ct1[] = {
    "CT1_UNC.fragmented_bot_jpeg_ls.80.dcm", "CT1_UNC.not_fragmented_bot_jpeg_ls.80.dcm",
    "CT1_UNC.not_fragmented_no_bot_jpeg_ls.80.dcm",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (ct1); i++)
    {
      g_autofree char *rel = g_strconcat ("compressed/encapsulated_fragments/", ct1[i], NULL);
      assert_same_pixels (rel, "compressed/nema_wg04/CT1_UNC", 0, 0);
    }
}

/* JPEG 2000 and RLE against pydicom (which decodes them with Pillow / numpy). */
static void
test_codecs_vs_pydicom (void)
{
  static const char *const files[] = {
    "single/US1_J2KI.dcm", "multiframe/pydicom_data/emri_small_jpeg_2k_lossless.dcm",
    "single/693_J2KR.dcm", "odd/explicit_VR-UN.dcm", "single/rtdose_rle.dcm",
    "multiframe/pydicom_data/OBXXXX1A_rle_2frame.dcm", "compressed/deflate/image_dfl",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = dt_corpus (files[i]);
      gsize n_ref = 0, n = 0;
      g_autofree gint64 *ref = dt_pyref_pixels (path, &n_ref);
      if (ref == NULL)
        continue;
      g_autofree gint64 *v = decode_ok (files[i], NULL, &n);
      gint64 max_diff;
      g_test_message ("%s", path);
      g_assert_cmpuint (n, ==, n_ref);
      g_assert_cmpuint (dt_count_diff (v, ref, n, 0, &max_diff), ==, 0);
    }
  assert_same_pixels ("multiframe/pydicom_data/emri_small_jpeg_ls_lossless.dcm",
                      "multiframe/pydicom_data/emri_small.dcm", 0, 0);
}

/* The first frame's bytes of an encapsulated file, read by walking its items here (PS3.5 A.4),
 * so the direct decoders can be fed a stream whose decoded answer is known. */
static GBytes *
single_frame_stream (const CuDicomHeader *h)
{
  g_autofree char *contents = NULL;
  gsize len;
  g_file_get_contents (h->path, &contents, &len, NULL);
  g_assert_true (h->encapsulated);
  const guint8 *p = (const guint8 *) contents + h->pixel_offset;
  const guint8 *end = (const guint8 *) contents + len;
  GByteArray *out = g_byte_array_new ();
  gboolean first = TRUE;
  while (p + 8 <= end)
    {
      guint32 ilen = p[4] | (p[5] << 8) | (p[6] << 16) | ((guint32) p[7] << 24);
      if (p[2] == 0xDD && p[3] == 0xE0)
        break;
      g_assert_true (p[0] == 0xFE && p[1] == 0xFF && p[2] == 0x00 && p[3] == 0xE0);
      if (!first)
        g_byte_array_append (out, p + 8, ilen);
      first = FALSE;
      p += 8 + ilen;
    }
  return g_byte_array_free_to_bytes (out);
}

/* OpenJPEG and CharLS called directly (the paths taken for HTJ2K and for the streams GDCM
 * fails on) give exactly the uncompressed reference. */
static void
test_direct_decoders (void)
{
  gsize n;
  CuDicomHeader *ref_h = NULL;
  g_autofree gint64 *ref = decode_ok ("compressed/nema_wg04/CT1_UNC", &ref_h, &n);
  g_autoptr (CuDicomHeader) rh = ref_h;
  g_autofree gint16 *buf = g_new (gint16, n);
  g_autoptr (GError) error = NULL;

  g_autofree char *j2k_path = dt_corpus ("compressed/nema_wg04/CT1_J2KR");
  g_autoptr (CuDicomHeader) j2k = dt_read_header (j2k_path);
  g_autoptr (GBytes) j2k_stream = single_frame_stream (j2k);
  gsize len;
  const guint8 *data = g_bytes_get_data (j2k_stream, &len);
  g_assert_true (cu_j2k_decode_frame (data, len, j2k->columns, j2k->rows, 1, 2, (guint8 *) buf,
                                      &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (buf[i], ==, ref[i]);

  /* The SIZ segment alone is read and checked, nothing decoded: the picture against the
   * header, and what OpenJPEG would allocate against the memory budget. */
  g_assert_true (cu_j2k_check_header (data, len, j2k->columns, j2k->rows, 1, 2, &error));
  g_assert_no_error (error);
  g_assert_false (cu_j2k_check_header (data, len, j2k->columns, j2k->rows / 2, 1, 2, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
  g_assert_nonnull (strstr (error->message, "512×512"));
  g_clear_error (&error);
  g_assert_false (cu_j2k_check_header (data, len, j2k->columns, j2k->rows, 3, 2, &error));
  g_clear_error (&error);
  g_assert_false (cu_j2k_check_header (data, len, j2k->columns, j2k->rows, 1, 1, &error));
  g_clear_error (&error);
  {
    /* Xsiz and Ysiz (after SOC, the SIZ marker, Lsiz and Rsiz; XOsiz = YOsiz = 0 here) made
     * 2·10⁹, in one tile: a picture the header may even agree with, but no memory holds. */
    g_autofree guint8 *huge = g_memdup2 (data, len);
    const guint8 big[4] = { 0x77, 0x35, 0x94, 0x00 };
    g_assert_cmpint (huge[16] | huge[17] | huge[18] | huge[19], ==, 0);
    for (int at = 8; at <= 28; at += 4)
      if (at != 16 && at != 20)
        memcpy (huge + at, big, 4);
    g_assert_false (cu_j2k_check_header (huge, len, 2000000000, 2000000000, 1, 2, &error));
    g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
    g_assert_nonnull (strstr (error->message, "memory"));
    g_clear_error (&error);
    g_assert_false (cu_j2k_decode_frame (huge, len, 2000000000, 2000000000, 1, 2,
                                         (guint8 *) buf, &error));
    g_assert_nonnull (strstr (error->message, "memory"));
    g_clear_error (&error);
    /* The same picture in 1×1 tiles: more tiles than a codestream can number. */
    memset (huge + 24, 0, 8);
    huge[27] = huge[31] = 1;
    g_assert_false (cu_j2k_check_header (huge, len, 2000000000, 2000000000, 1, 2, &error));
    g_assert_nonnull (strstr (error->message, "SIZ"));
    g_clear_error (&error);
  }

  /* A frame size that does not match the stream is refused, not reinterpreted. */
  g_assert_false (cu_j2k_decode_frame (data, len, j2k->columns / 2, j2k->rows, 1, 2,
                                       (guint8 *) buf, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
  g_clear_error (&error);
  /* A stream cut short is refused (OpenJPEG would otherwise decode what is there). */
  if (cu_j2k_decode_frame (data, len * 2 / 3, j2k->columns, j2k->rows, 1, 2, (guint8 *) buf,
                           &error))
    g_error ("a JPEG 2000 stream cut short decoded");
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
  g_clear_error (&error);

  g_autofree char *jls_path = dt_corpus ("compressed/nema_wg04/CT1_JLSL");
  g_autoptr (CuDicomHeader) jls = dt_read_header (jls_path);
  g_autoptr (GBytes) jls_stream = single_frame_stream (jls);
  data = g_bytes_get_data (jls_stream, &len);
  memset (buf, 0, n * 2);
  g_assert_true (cu_jpegls_decode_frame (data, len, jls->columns, jls->rows, 1, 2,
                                         (guint8 *) buf, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (buf[i], ==, ref[i]);
  g_assert_false (cu_jpegls_decode_frame (data, len / 2, jls->columns, jls->rows, 1, 2,
                                          (guint8 *) buf, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
}

/* HTJ2K (GDCM 3.0 does not know it): the lossless and the lossy encodings of the same RGB
 * image decode to the same size and agree closely; both through OpenJPEG. */
static void
test_htj2k (void)
{
  CuDicomHeader *a = NULL;
  gsize na, nb;
  g_autofree gint64 *lossless = decode_ok ("compressed/pydicom_data/HTJ2KLossless_08_RGB.dcm", &a,
                                           &na);
  g_autoptr (CuDicomHeader) ha = a;
  g_autofree gint64 *lossy = decode_ok ("compressed/pydicom_data/HTJ2K_08_RGB.dcm", NULL, &nb);
  gint64 max_diff;
  g_assert_cmpstr (ha->transfer_syntax, ==, "1.2.840.10008.1.2.4.201");
  g_assert_cmpint (ha->samples_per_pixel, ==, 3);
  g_assert_cmpuint (na, ==, nb);
  g_assert_cmpuint (na, ==, (gsize) 640 * 480 * 3);
  g_assert_cmpuint (dt_count_diff (lossless, lossy, na, 16, &max_diff), ==, 0);
  /* An actual image: not constant, uses most of the 8-bit range. */
  gint64 lo = G_MAXINT64, hi = G_MININT64;
  for (gsize i = 0; i < na; i++)
    {
      lo = MIN (lo, lossless[i]);
      hi = MAX (hi, lossless[i]);
    }
  g_assert_cmpint (hi - lo, >, 150);
}

/* Deflated Image Frame Compression (GDCM 3.0 cannot): liver_deflate.dcm is the 1-bit liver
 * SEG of seg_sr/ recompressed; its frames must equal the native original's. */
static void
test_deflated_frames (void)
{
  assert_same_pixels ("compressed/pydicom_data/liver_deflate.dcm",
                      "seg_sr/liver_ct_3slice_with_seg/liver.dcm", 0, 0);
  /* 510×510 frames do not fill whole bytes: each deflated frame still decodes to 0/1. */
  gsize n;
  CuDicomHeader *h = NULL;
  g_autofree gint64 *v = decode_ok ("compressed/pydicom_data/liver_nonbyte_aligned_deflate.dcm",
                                    &h, &n);
  g_autoptr (CuDicomHeader) hh = h;
  gsize ones = 0;
  g_assert_cmpuint (n, ==, (gsize) 510 * 510 * 3);
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (v[i] == 0 || v[i] == 1);
      ones += v[i];
    }
  g_assert_cmpuint (ones, >, 1000);
}

/* Float variant: modality rescale per frame, luminance for colour. */
static void
test_float (void)
{
  /* CT: stored × slope + intercept (pydicom's stored values, header's rescale). */
  g_autofree char *ct = dt_corpus ("single/CT_small.dcm");
  gsize n_ref;
  g_autofree gint64 *ref = dt_pyref_pixels (ct, &n_ref);
  if (ref == NULL)
    return;
  g_autoptr (CuDicomHeader) h = dt_read_header (ct);
  g_autofree float *f = g_new (float, n_ref);
  g_autoptr (GError) error = NULL;
  g_assert_true (cu_dicom_read_frames_float (h, f, n_ref, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (h->rescale_intercept, ==, -1024);
  for (gsize i = 0; i < n_ref; i++)
    g_assert_cmpfloat_with_epsilon (f[i], ref[i] * h->rescale_slope + h->rescale_intercept, 1e-3);

  /* Enhanced MR with a per-frame slope (Philips field map): each frame its own rescale. */
  g_autofree char *mr = dt_corpus ("multiframe/enhanced_mr_philips_fieldmap/IM_0027_fMAP.dcm");
  g_autoptr (JsonNode) frames = dt_pyref_json ("frames", mr);
  gsize n_mr;
  g_autofree gint64 *mref = dt_pyref_pixels (mr, &n_mr);
  g_autoptr (CuDicomHeader) mh = dt_read_header (mr);
  g_autofree float *mf = g_new (float, n_mr);
  g_assert_true (cu_dicom_read_frames_float (mh, mf, n_mr, &error));
  gsize plane = (gsize) mh->rows * mh->columns;
  JsonArray *fa = json_node_get_array (frames);
  g_assert_cmpuint (json_array_get_length (fa) * plane, ==, n_mr);
  gboolean slope_not_one = FALSE;
  for (guint fr = 0; fr < json_array_get_length (fa); fr++)
    {
      JsonObject *o = json_array_get_object_element (fa, fr);
      double s = json_object_get_double_member (o, "slope");
      double b = json_object_get_double_member (o, "intercept");
      slope_not_one |= s != 1;
      for (gsize i = 0; i < plane; i++)
        g_assert_cmpfloat_with_epsilon (mf[fr * plane + i], mref[fr * plane + i] * s + b,
                                        1e-3 * MAX (1, fabs (mref[fr * plane + i] * s)));
    }
  g_assert_true (slope_not_one);

  /* RGB → BT.601 luma. */
  g_autofree char *rgb = dt_corpus ("compressed/pydicom_data/SC_rgb_dcmtk_ebcynp_dcmd.dcm");
  gsize n_rgb;
  g_autofree gint64 *rref = dt_pyref_pixels (rgb, &n_rgb);
  g_autoptr (CuDicomHeader) rh = dt_read_header (rgb);
  g_assert_cmpint (rh->samples_per_pixel, ==, 3);
  g_autofree float *rf = g_new (float, n_rgb / 3);
  g_assert_true (cu_dicom_read_frames_float (rh, rf, n_rgb / 3, &error));
  for (gsize i = 0; i < n_rgb / 3; i++)
    g_assert_cmpfloat_with_epsilon (rf[i], 0.299 * rref[3 * i] + 0.587 * rref[3 * i + 1]
                                           + 0.114 * rref[3 * i + 2], 1e-3);
}

static char *
patched_copy (const char *rel, const char *name, const char *find, const char *replace,
              gsize truncate_to)
{
  g_autofree char *src = dt_corpus (rel);
  g_autofree char *contents = NULL;
  gsize len;
  g_autoptr (GError) error = NULL;
  g_file_get_contents (src, &contents, &len, &error);
  g_assert_no_error (error);
  if (find != NULL)
    {
      char *at = memmem (contents, len, find, strlen (find));
      g_assert_nonnull (at);
      g_assert_cmpuint (strlen (find), ==, strlen (replace));
      memcpy (at, replace, strlen (replace));
    }
  char *dst = g_build_filename (dt_tmpdir (), name, NULL);
  g_file_set_contents (dst, contents, truncate_to > 0 ? truncate_to : len, &error);
  g_assert_no_error (error);
  return dst;
}

/* Never garbage: an encoding nothing here decodes is UNSUPPORTED, a corrupt stream DECODE. */
static void
test_errors (void)
{
  g_autoptr (GError) error = NULL;
  gsize n;

  /* JPIP Referenced has the same UID length as JPEG 2000 lossless: same file, no decoder. */
  g_autofree char *jpip = patched_copy ("compressed/nema_wg04/CT1_J2KR", "jpip.dcm",
                                        "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.94", 0);
  g_autoptr (CuDicomHeader) h = dt_read_header (jpip);
  g_assert_null (dt_decode_i64 (h, &n, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, jpip));
  g_assert_nonnull (strstr (error->message, "JPIP"));
  g_clear_error (&error);

  /* The J2K codestream damaged in the middle: GDCM and OpenJPEG both refuse it. */
  g_autofree char *src = dt_corpus ("compressed/nema_wg04/CT1_J2KR");
  g_autoptr (CuDicomHeader) ok = dt_read_header (src);
  g_autofree char *contents = NULL;
  gsize len;
  g_file_get_contents (src, &contents, &len, NULL);
  /* Overwrite the main header's SIZ marker segment right after SOC (fragment starts at
   * pixel_offset + 8 (BOT item) + 8 (fragment item)). */
  gsize soc = ok->pixel_offset + 16;
  g_assert_cmpint ((guint8) contents[soc], ==, 0xFF);
  g_assert_cmpint ((guint8) contents[soc + 1], ==, 0x4F);
  memset (contents + soc + 2, 0x00, 40);
  g_autofree char *bad = g_build_filename (dt_tmpdir (), "bad-j2k.dcm", NULL);
  g_file_set_contents (bad, contents, len, NULL);
  g_autoptr (CuDicomHeader) bh = dt_read_header (bad);
  g_assert_null (dt_decode_i64 (bh, &n, &error));
  g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
  g_assert_true (g_str_has_prefix (error->message, bad));
  g_clear_error (&error);

  /* Five bytes of a multi-frame JPEG stream damaged (one of them turns a stuffed 0xFF00 into a
   * marker): GDCM 3.0's JPEG codec fails an assertion on it. The abort is caught and the
   * result is a DECODE error — the test itself would die otherwise. */
  {
    static const struct { gsize at; guint8 was, now; } patch[] = {
      { 37197, 0xc4, 0x91 }, { 49195, 0x6e, 0xb7 }, { 50646, 0x00, 0x10 },
      { 55847, 0x90, 0x4d }, { 59329, 0xbd, 0xb3 },
    };
    g_autofree char *jpg = dt_corpus ("compressed/encapsulated_fragments/"
                                      "CT0012.fragmented_no_bot_jpeg_baseline.51.dcm");
    g_autofree char *bytes = NULL;
    gsize blen;
    g_file_get_contents (jpg, &bytes, &blen, NULL);
    for (gsize i = 0; i < G_N_ELEMENTS (patch); i++)
      {
        g_assert_cmpuint (patch[i].at, <, blen);
        g_assert_cmpint ((guint8) bytes[patch[i].at], ==, patch[i].was);
        bytes[patch[i].at] = (char) patch[i].now;
      }
    g_autofree char *damaged = g_build_filename (dt_tmpdir (), "damaged-jpeg.dcm", NULL);
    g_file_set_contents (damaged, bytes, blen, NULL);
    g_autoptr (CuDicomHeader) dh = dt_read_header (damaged);
    g_assert_null (dt_decode_i64 (dh, &n, &error));
    g_assert_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE);
    g_assert_true (g_str_has_prefix (error->message, damaged));
    g_clear_error (&error);
  }

  /* No pixel data at all. */
  g_autofree char *sr = dt_corpus ("single/test-SR.dcm");
  g_autoptr (CuDicomHeader) srh = dt_read_header (sr);
  g_assert_false (srh->has_pixels);
  guint8 byte;
  g_assert_false (cu_dicom_read_frames_raw (srh, &byte, 1, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* A buffer too small is refused, not overrun. */
  g_autofree char *ct = dt_corpus ("single/CT_small.dcm");
  g_autoptr (CuDicomHeader) cth = dt_read_header (ct);
  guint8 small[16];
  g_assert_false (cu_dicom_read_frames_raw (cth, small, sizeof small, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* The native file changed on disk after its header was read (cut short). */
  g_autofree char *cut = patched_copy ("single/CT_small.dcm", "shrunk.dcm", NULL, NULL, 0);
  g_autoptr (CuDicomHeader) cuth = dt_read_header (cut);
  g_file_set_contents (cut, contents, 2000, NULL);
  g_autofree guint8 *buf = g_malloc ((gsize) cuth->rows * cuth->columns * 2);
  g_assert_false (cu_dicom_read_frames_raw (cuth, buf, (gsize) cuth->rows * cuth->columns * 2,
                                            &error));
  g_assert_nonnull (error);
  g_assert_true (g_str_has_prefix (error->message, cut));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/curation/dicom/pixels/native-vs-pydicom", test_native_vs_pydicom);
  g_test_add_func ("/curation/dicom/pixels/same-image-9-syntaxes", test_same_image_9_syntaxes);
  g_test_add_func ("/curation/dicom/pixels/wg04", test_wg04);
  g_test_add_func ("/curation/dicom/pixels/fragments", test_fragments);
  g_test_add_func ("/curation/dicom/pixels/codecs-vs-pydicom", test_codecs_vs_pydicom);
  g_test_add_func ("/curation/dicom/pixels/direct-decoders", test_direct_decoders);
  g_test_add_func ("/curation/dicom/pixels/htj2k", test_htj2k);
  g_test_add_func ("/curation/dicom/pixels/deflated-frames", test_deflated_frames);
  g_test_add_func ("/curation/dicom/pixels/float", test_float);
  g_test_add_func ("/curation/dicom/pixels/errors", test_errors);

  return g_test_run ();
}

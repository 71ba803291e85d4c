/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-dicom.c — DICOM Segmentation IOD writer and reader (cu-seg-dicom.h).
 *
 * Written with the pure-C Part 10 writer (cu-dicom-writer.h), Explicit VR Little Endian, as
 * PS3.3 A.51 (Segmentation IOD) with the modules it requires: Patient, General Study, General
 * Series + Segmentation Series, Frame of Reference, General + Enhanced General Equipment,
 * General Image, Image Pixel + Segmentation Image (BINARY, 1 bit, frames packed bit after bit
 * as PS3.5 §8.1.1 says for BitsAllocated 1), Multi-frame Functional Groups (pixel measures and
 * orientation shared; position, segment and source image per frame), Multi-frame Dimension
 * (segment number, then position) and Common Instance Reference. Frames follow the source's
 * rows and columns, so frame pixel (r, c) of slice k is label voxel (i = c, j = r, k). This is
 * the layout highdicom and dcmqi write; 3D Slicer and OHIF read it.
 *
 * Reading uses the element walker (GDCM) for the attributes and the header's pixel offset for
 * the bits, and places every frame pixel through patient coordinates.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-dicom.h"
#include "cu-dicom-writer.h"
#include "cu-dicom-walk.h"
#include "cu-seg-dicom-private.h"

#define T(g, e) CU_DICOM_TAG (0x##g, 0x##e)

CuDicomDataset *
_cu_seg_dicom_code_item (const char *value, const char *scheme, const char *meaning)
{
  CuDicomDataset *item = cu_dicom_dataset_new ();

  cu_dicom_dataset_add_string (item, T (0008, 0100), "SH", value);
  cu_dicom_dataset_add_string (item, T (0008, 0102), "SH", scheme);
  cu_dicom_dataset_add_string (item, T (0008, 0104), "LO", meaning);
  return item;
}

static void
add_code_sequence (CuDicomDataset *ds, guint32 tag, const char *value, const char *scheme,
                   const char *meaning)
{
  CuDicomDataset *item = _cu_seg_dicom_code_item (value, scheme, meaning);
  cu_dicom_dataset_add_sequence (ds, tag, &item, 1);
}

static void
add_one_item (CuDicomDataset *ds, guint32 tag, CuDicomDataset *item)
{
  cu_dicom_dataset_add_sequence (ds, tag, &item, 1);
}

static void
add_at (CuDicomDataset *ds, guint32 tag, guint32 value)
{
  guint8 b[4] = { (value >> 16) & 0xff, (value >> 24) & 0xff, value & 0xff, (value >> 8) & 0xff };
  cu_dicom_dataset_add_bytes (ds, tag, "AT", b, 4);
}

static void
add_ul2 (CuDicomDataset *ds, guint32 tag, guint32 a, guint32 b)
{
  guint32 v[2] = { GUINT32_TO_LE (a), GUINT32_TO_LE (b) };
  cu_dicom_dataset_add_bytes (ds, tag, "UL", v, 8);
}

/* sRGB → CIELab (D65) scaled to 0–65535 as PS3.3 C.10.7.1.1 asks for
 * RecommendedDisplayCIELabValue. */
static void
rgb_to_dicom_lab (const guint8 rgb[3], guint16 out[3])
{
  double c[3], xyz[3], f[3], L, a, b;
  const double white[3] = { 0.95047, 1.0, 1.08883 };

  for (int i = 0; i < 3; i++)
    {
      double v = rgb[i] / 255.0;
      c[i] = v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
    }
  xyz[0] = 0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2];
  xyz[1] = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  xyz[2] = 0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2];
  for (int i = 0; i < 3; i++)
    {
      double t = xyz[i] / white[i];
      f[i] = t > 216.0 / 24389.0 ? cbrt (t) : (24389.0 / 27.0 * t + 16.0) / 116.0;
    }
  L = 116.0 * f[1] - 16.0;
  a = 500.0 * (f[0] - f[1]);
  b = 200.0 * (f[1] - f[2]);
  out[0] = (guint16) CLAMP (lround (L * 65535.0 / 100.0), 0, 65535);
  out[1] = (guint16) CLAMP (lround ((a + 128.0) * 65535.0 / 255.0), 0, 65535);
  out[2] = (guint16) CLAMP (lround ((b + 128.0) * 65535.0 / 255.0), 0, 65535);
}

static void
add_text_or_empty (CuDicomDataset *ds, guint32 tag, const char *vr, const char *value)
{
  cu_dicom_dataset_add_string (ds, tag, vr, value != NULL ? value : "");
}

/* text as one LO value: backslashes (the value separator) and control characters become
 * spaces, and it is cut to 64 bytes at a character boundary. A name read from another tool's
 * file or typed on the command line must not make the whole export fail. */
char *
_cu_seg_dicom_lo_value (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text != NULL && g_utf8_validate (text, -1, NULL) ? text : "";
       *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      char buf[6];
      int n;

      if (g_unichar_iscntrl (c) || c == '\\')
        c = ' ';
      n = g_unichar_to_utf8 (c, buf);
      if (out->len + n > 64)
        break;
      g_string_append_len (out, buf, n);
    }
  return g_strstrip (g_string_free (out, FALSE));
}

/* Patient (as the source: pseudonymized and checked by the gate, with its de-identification
 * record) and General Study, shared by the SEG and the SR written beside it. */
void
_cu_seg_dicom_add_patient_study (CuDicomDataset *ds, const CuDicomHeader *src,
                                 const char *deid_method, const char *const *deid_codes)
{
  /* Patient (as the source: pseudonymized and checked by the gate) */
  add_text_or_empty (ds, T (0010, 0010), "PN", src->patient_name);
  add_text_or_empty (ds, T (0010, 0020), "LO", src->patient_id);
  add_text_or_empty (ds, T (0010, 0030), "DA", src->patient_birth_date);
  add_text_or_empty (ds, T (0010, 0040), "CS", src->patient_sex);
  if (src->patient_identity_removed != NULL)
    {
      guint n_codes = deid_codes != NULL ? g_strv_length ((char **) deid_codes) / 3 : 0;

      cu_dicom_dataset_add_string (ds, T (0012, 0062), "CS", src->patient_identity_removed);
      if (deid_method != NULL)
        cu_dicom_dataset_add_string (ds, T (0012, 0063), "LO", deid_method);
      if (n_codes > 0)
        {
          g_autofree CuDicomDataset **items = g_new (CuDicomDataset *, n_codes);
          for (guint c = 0; c < n_codes; c++)
            items[c] = _cu_seg_dicom_code_item (deid_codes[3 * c], deid_codes[3 * c + 1],
                                                deid_codes[3 * c + 2]);
          cu_dicom_dataset_add_sequence (ds, T (0012, 0064), items, n_codes);
        }
    }
  /* General Study */
  cu_dicom_dataset_add_string (ds, T (0020, 000D), "UI", src->study_uid);
  add_text_or_empty (ds, T (0008, 0020), "DA", src->study_date);
  add_text_or_empty (ds, T (0008, 0030), "TM", src->study_time);
  cu_dicom_dataset_add_string (ds, T (0008, 0090), "PN", "");
  add_text_or_empty (ds, T (0020, 0010), "SH", src->study_id);
  add_text_or_empty (ds, T (0008, 0050), "SH", src->accession_number);
  if (src->study_description != NULL)
    cu_dicom_dataset_add_string (ds, T (0008, 1030), "LO", src->study_description);
}

/* General + Enhanced General Equipment */
void
_cu_seg_dicom_add_equipment (CuDicomDataset *ds)
{
  cu_dicom_dataset_add_string (ds, T (0008, 0070), "LO", "Curata");
  cu_dicom_dataset_add_string (ds, T (0008, 1090), "LO", "Curata");
  cu_dicom_dataset_add_string (ds, T (0018, 1000), "LO", "1");
  cu_dicom_dataset_add_string (ds, T (0018, 1020), "LO", PACKAGE_VERSION);
}

static gboolean
label_has_voxels (const CuLabelMap *map, guint8 value)
{
  gsize n = cu_label_map_n_voxels (map);

  for (gsize p = 0; p < n; p++)
    if (cu_label_map_has (map, p, value))
      return TRUE;
  return FALSE;
}

guint
cu_seg_dicom_segment_numbers (const CuLabelMap *map, guint8 segment_of_label[256])
{
  guint n = 0;

  memset (segment_of_label, 0, 256);
  for (guint l = 0; l < cu_label_map_get_n_labels (map); l++)
    {
      const CuLabel *label = cu_label_map_get_label_at (map, l);
      if (label_has_voxels (map, label->value))
        segment_of_label[label->value] = (guint8) ++n;
    }
  return n;
}

gboolean
cu_seg_dicom_write (const CuLabelMap *map, const CuSegDicomSpec *spec, const char *path,
                    GError **error)
{
  const CuVolume *g = map->geometry;
  int nx = map->dims[0], ny = map->dims[1], nz = map->dims[2];
  gsize plane = (gsize) nx * ny;
  g_autoptr(CuDicomDataset) ds = cu_dicom_dataset_new ();
  g_autoptr(GPtrArray) segments = g_ptr_array_new ();   /* const CuLabel*, in segment order */
  g_autoptr(GArray) frame_k = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(GArray) frame_seg = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *series_uid = NULL, *sop_uid = NULL, *dim_uid = NULL;
  g_autofree guint8 *bits = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%Y%m%d");
  g_autofree char *time = g_date_time_format (now, "%H%M%S");
  gsize n_bits, n_bytes;
  const CuDicomHeader *src = spec->source;
  double iop[6], spacing[2];

  g_return_val_if_fail (spec != NULL && spec->source != NULL, FALSE);

  if (src->study_uid == NULL || src->frame_of_reference_uid == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("The source series has no study or frame of reference UID"));
      return FALSE;
    }

  /* Segments: labels with voxels, in value order; frames: every slice a segment touches. */
  for (guint l = 0; l < cu_label_map_get_n_labels (map); l++)
    {
      const CuLabel *label = cu_label_map_get_label_at (map, l);
      gboolean any = FALSE;

      for (int k = 0; k < nz; k++)
        {
          gboolean here = FALSE;
          for (gsize p = (gsize) k * plane; p < (gsize) (k + 1) * plane && !here; p++)
            here = cu_label_map_has (map, p, label->value);
          if (here)
            {
              int seg = (int) segments->len + 1;
              g_array_append_val (frame_k, k);
              g_array_append_val (frame_seg, seg);
              any = TRUE;
            }
        }
      if (any)
        g_ptr_array_add (segments, (gpointer) label);
    }
  if (segments->len == 0)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("The segmentation is empty: there is nothing to export"));
      return FALSE;
    }

  series_uid = spec->series_uid != NULL ? g_strdup (spec->series_uid) : cu_dicom_uid_new ();
  sop_uid = spec->sop_instance_uid != NULL ? g_strdup (spec->sop_instance_uid) : cu_dicom_uid_new ();
  dim_uid = cu_dicom_uid_new ();

  /* SOP Common */
  cu_dicom_dataset_add_string (ds, T (0008, 0005), "CS", "ISO_IR 192");
  cu_dicom_dataset_add_string (ds, T (0008, 0016), "UI", CU_DICOM_SEG_STORAGE);
  cu_dicom_dataset_add_string (ds, T (0008, 0018), "UI", sop_uid);
  cu_dicom_dataset_add_string (ds, T (0008, 0012), "DA", date);
  cu_dicom_dataset_add_string (ds, T (0008, 0013), "TM", time);
  _cu_seg_dicom_add_patient_study (ds, src, spec->deid_method, spec->deid_codes);
  /* General Series + Segmentation Series */
  cu_dicom_dataset_add_string (ds, T (0008, 0060), "CS", "SEG");
  cu_dicom_dataset_add_string (ds, T (0020, 000E), "UI", series_uid);
  cu_dicom_dataset_add_printf (ds, T (0020, 0011), "IS", "%d",
                               spec->series_number > 0 ? spec->series_number
                               : 300 + MAX (0, src->series_number));
  cu_dicom_dataset_add_string (ds, T (0008, 103E), "LO",
                               spec->series_description != NULL ? spec->series_description : "Segmentation");
  cu_dicom_dataset_add_string (ds, T (0008, 0021), "DA", date);
  cu_dicom_dataset_add_string (ds, T (0008, 0031), "TM", time);
  /* Frame of Reference */
  cu_dicom_dataset_add_string (ds, T (0020, 0052), "UI", src->frame_of_reference_uid);
  cu_dicom_dataset_add_string (ds, T (0020, 1040), "LO", "");
  _cu_seg_dicom_add_equipment (ds);
  /* General Image / Segmentation Image */
  cu_dicom_dataset_add_string (ds, T (0020, 0013), "IS", "1");
  cu_dicom_dataset_add_string (ds, T (0008, 0023), "DA", date);
  cu_dicom_dataset_add_string (ds, T (0008, 0033), "TM", time);
  cu_dicom_dataset_add_string (ds, T (0008, 0008), "CS", "DERIVED\\PRIMARY");
  cu_dicom_dataset_add_string (ds, T (0070, 0080), "CS", "SEGMENTATION");
  cu_dicom_dataset_add_string (ds, T (0070, 0081), "LO", "Curata segmentation");
  add_text_or_empty (ds, T (0070, 0084), "PN", spec->content_creator);
  cu_dicom_dataset_add_string (ds, T (0028, 2110), "CS", "00");
  cu_dicom_dataset_add_string (ds, T (0062, 0001), "CS", "BINARY");

  {
    g_autofree CuDicomDataset **items = g_new (CuDicomDataset *, segments->len);
    for (guint s = 0; s < segments->len; s++)
      {
        const CuLabel *l = segments->pdata[s];
        CuDicomDataset *item = cu_dicom_dataset_new ();
        guint16 lab[3], le[3];

        cu_dicom_dataset_add_us (item, T (0062, 0004), (guint16) (s + 1));
        cu_dicom_dataset_add_string (item, T (0062, 0005), "LO",
                                     l->name != NULL && l->name[0] != '\0' ? l->name : "Segment");
        /* A model's or another tool's segment keeps its origin (PS3.3 C.8.20.2: the algorithm
         * name is required unless the type is MANUAL). */
        cu_dicom_dataset_add_string (item, T (0062, 0008), "CS", cu_label_origin_to_string (l->origin));
        if (l->origin != CU_LABEL_ORIGIN_MANUAL)
          {
            g_autofree char *name = _cu_seg_dicom_lo_value (l->algorithm_name);
            cu_dicom_dataset_add_string (item, T (0062, 0009), "LO", name[0] != '\0' ? name : "Unknown");
          }
        add_code_sequence (item, T (0062, 0003),
                           l->category_code != NULL ? l->category_code : "85756007",
                           l->category_scheme != NULL ? l->category_scheme : "SCT",
                           l->category_meaning != NULL ? l->category_meaning : "Tissue");
        add_code_sequence (item, T (0062, 000F),
                           l->type_code != NULL ? l->type_code : "85756007",
                           l->type_scheme != NULL ? l->type_scheme : "SCT",
                           l->type_meaning != NULL ? l->type_meaning : "Tissue");
        rgb_to_dicom_lab (l->rgb, lab);
        for (int c = 0; c < 3; c++)
          le[c] = GUINT16_TO_LE (lab[c]);
        cu_dicom_dataset_add_bytes (item, T (0062, 000D), "US", le, 6);
        items[s] = item;
      }
    cu_dicom_dataset_add_sequence (ds, T (0062, 0002), items, segments->len);
  }

  /* Image Pixel */
  cu_dicom_dataset_add_us (ds, T (0028, 0002), 1);
  cu_dicom_dataset_add_string (ds, T (0028, 0004), "CS", "MONOCHROME2");
  cu_dicom_dataset_add_us (ds, T (0028, 0010), (guint16) ny);
  cu_dicom_dataset_add_us (ds, T (0028, 0011), (guint16) nx);
  cu_dicom_dataset_add_us (ds, T (0028, 0100), 1);
  cu_dicom_dataset_add_us (ds, T (0028, 0101), 1);
  cu_dicom_dataset_add_us (ds, T (0028, 0102), 0);
  cu_dicom_dataset_add_us (ds, T (0028, 0103), 0);
  cu_dicom_dataset_add_printf (ds, T (0028, 0008), "IS", "%u", frame_k->len);

  /* Multi-frame Dimension: segment, then position. */
  {
    CuDicomDataset *org = cu_dicom_dataset_new ();
    CuDicomDataset *idx[2];

    cu_dicom_dataset_add_string (org, T (0020, 9164), "UI", dim_uid);
    add_one_item (ds, T (0020, 9221), org);
    idx[0] = cu_dicom_dataset_new ();
    cu_dicom_dataset_add_string (idx[0], T (0020, 9164), "UI", dim_uid);
    add_at (idx[0], T (0020, 9165), T (0062, 000B));
    add_at (idx[0], T (0020, 9167), T (0062, 000A));
    cu_dicom_dataset_add_string (idx[0], T (0020, 9421), "LO", "ReferencedSegmentNumber");
    idx[1] = cu_dicom_dataset_new ();
    cu_dicom_dataset_add_string (idx[1], T (0020, 9164), "UI", dim_uid);
    add_at (idx[1], T (0020, 9165), T (0020, 0032));
    add_at (idx[1], T (0020, 9167), T (0020, 9113));
    cu_dicom_dataset_add_string (idx[1], T (0020, 9421), "LO", "ImagePositionPatient");
    cu_dicom_dataset_add_sequence (ds, T (0020, 9222), idx, 2);
    cu_dicom_dataset_add_string (ds, T (0020, 9311), "CS", "3D");
  }

  /* Shared functional groups: spacing and orientation. */
  for (int c = 0; c < 3; c++)
    {
      iop[c] = g->direction[3 * c + 0];
      iop[3 + c] = g->direction[3 * c + 1];
    }
  spacing[0] = g->spacing[1];
  spacing[1] = g->spacing[0];
  {
    CuDicomDataset *shared = cu_dicom_dataset_new ();
    CuDicomDataset *measures = cu_dicom_dataset_new ();
    CuDicomDataset *orient = cu_dicom_dataset_new ();

    cu_dicom_dataset_add_ds (measures, T (0028, 0030), spacing, 2);
    cu_dicom_dataset_add_ds (measures, T (0018, 0050), &g->spacing[2], 1);
    cu_dicom_dataset_add_ds (measures, T (0018, 0088), &g->spacing[2], 1);
    add_one_item (shared, T (0028, 9110), measures);
    cu_dicom_dataset_add_ds (orient, T (0020, 0037), iop, 6);
    add_one_item (shared, T (0020, 9116), orient);
    add_one_item (ds, T (5200, 9229), shared);
  }

  /* Per-frame functional groups, and the bits. */
  n_bits = (gsize) frame_k->len * plane;
  n_bytes = (n_bits + 7) / 8;
  n_bytes += n_bytes % 2;
  bits = g_try_malloc0 (n_bytes);
  if (bits == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID, _("Out of memory for the export"));
      return FALSE;
    }
  {
    g_autofree CuDicomDataset **frames = g_new (CuDicomDataset *, frame_k->len);
    gboolean *referenced = g_new0 (gboolean, nz);

    for (guint f = 0; f < frame_k->len; f++)
      {
        int k = g_array_index (frame_k, int, f), seg = g_array_index (frame_seg, int, f);
        const CuLabel *l = segments->pdata[seg - 1];
        CuDicomDataset *item = cu_dicom_dataset_new ();
        CuDicomDataset *content = cu_dicom_dataset_new ();
        CuDicomDataset *position = cu_dicom_dataset_new ();
        CuDicomDataset *segid = cu_dicom_dataset_new ();
        double ijk[3] = { 0, 0, k }, lps[3];
        gsize slice = (gsize) k * plane;
        gsize base = (gsize) f * plane;

        add_ul2 (content, T (0020, 9157), (guint32) seg, (guint32) (k + 1));
        add_one_item (item, T (0020, 9111), content);
        cu_volume_index_to_lps (g, ijk, lps);
        cu_dicom_dataset_add_ds (position, T (0020, 0032), lps, 3);
        add_one_item (item, T (0020, 9113), position);
        cu_dicom_dataset_add_us (segid, T (0062, 000B), (guint16) seg);
        add_one_item (item, T (0062, 000A), segid);

        if (spec->slice_sop_instance != NULL && spec->slice_sop_instance[k] != NULL)
          {
            CuDicomDataset *deriv = cu_dicom_dataset_new ();
            CuDicomDataset *source = cu_dicom_dataset_new ();

            cu_dicom_dataset_add_string (source, T (0008, 1150), "UI", spec->slice_sop_class[k]);
            cu_dicom_dataset_add_string (source, T (0008, 1155), "UI", spec->slice_sop_instance[k]);
            if (spec->slice_frame != NULL && spec->slice_frame[k] > 0)
              cu_dicom_dataset_add_printf (source, T (0008, 1160), "IS", "%d", spec->slice_frame[k]);
            add_code_sequence (source, T (0040, A170), "121322", "DCM",
                               "Source image for image processing operation");
            add_one_item (deriv, T (0008, 2112), source);
            add_code_sequence (deriv, T (0008, 9215), "113076", "DCM", "Segmentation");
            add_one_item (item, T (0008, 9124), deriv);
            referenced[k] = TRUE;
          }
        frames[f] = item;

        /* Each segment's own mask, over every layer: a voxel two segments share is set in
         * the frames of both (overlapping segments, PS3.3 C.8.20.2). */
        for (gsize p = 0; p < plane; p++)
          if (cu_label_map_has (map, slice + p, l->value))
            bits[(base + p) >> 3] |= (guint8) (1u << ((base + p) & 7));
      }
    cu_dicom_dataset_add_sequence (ds, T (5200, 9230), frames, frame_k->len);

    /* Common Instance Reference: every source instance a frame derives from. */
    if (src->series_uid != NULL && spec->slice_sop_instance != NULL)
      {
        g_autoptr(GPtrArray) refs = g_ptr_array_new ();
        GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

        for (int k = 0; k < nz; k++)
          if (referenced[k] && g_hash_table_add (seen, (gpointer) spec->slice_sop_instance[k]))
            {
              CuDicomDataset *r = cu_dicom_dataset_new ();
              cu_dicom_dataset_add_string (r, T (0008, 1150), "UI", spec->slice_sop_class[k]);
              cu_dicom_dataset_add_string (r, T (0008, 1155), "UI", spec->slice_sop_instance[k]);
              g_ptr_array_add (refs, r);
            }
        g_hash_table_unref (seen);
        if (refs->len > 0)
          {
            CuDicomDataset *series = cu_dicom_dataset_new ();
            cu_dicom_dataset_add_string (series, T (0020, 000E), "UI", src->series_uid);
            cu_dicom_dataset_add_sequence (series, T (0008, 114A), (CuDicomDataset **) refs->pdata,
                                           refs->len);
            add_one_item (ds, T (0008, 1115), series);
          }
      }
    g_free (referenced);
  }
  cu_dicom_dataset_add_bytes (ds, T (7FE0, 0010), "OB", bits, n_bytes);

  if (!cu_dicom_dataset_write_file (ds, path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

/* ---- Reading ------------------------------------------------------------------------ */

typedef struct
{
  GHashTable *segments;          /* number → CuLabel* */
  GArray *frame_segment;         /* per frame: referenced segment number */
  GPtrArray *frame_position;     /* per frame: char* "x\y\z" */
  char *orientation, *spacing;
  char *rows_text;
} SegParse;

static guint
item_index (const char *path, const char *prefix)
{
  return (guint) g_ascii_strtoull (path + strlen (prefix), NULL, 10);
}

static CuLabel *
segment_for (SegParse *p, const char *tag_path)
{
  guint idx = item_index (tag_path, "(0062,0002)[");
  CuLabel *l = g_hash_table_lookup (p->segments, GUINT_TO_POINTER (idx + 1000));

  if (l == NULL)
    {
      l = cu_label_new (0, "", NULL);
      g_hash_table_insert (p->segments, GUINT_TO_POINTER (idx + 1000), l);
    }
  return l;
}

static gboolean
visit (const CuDicomElement *e, gpointer data)
{
  SegParse *p = data;
  const char *tp = e->tag_path;

  if (g_str_has_prefix (tp, "(0062,0002)["))
    {
      CuLabel *l = segment_for (p, tp);
      const char *last = strrchr (tp, '(');
      gboolean in_cat = strstr (tp, "(0062,0003)") != NULL, in_type = strstr (tp, "(0062,000F)") != NULL;

      if (g_str_equal (last, "(0062,0004)") && e->length >= 2 && e->value != NULL)
        l->value = (guint8) MIN (255, e->value[0] | (e->value[1] << 8));
      else if (g_str_equal (last, "(0062,0005)") && e->text != NULL)
        {
          g_free (l->name);
          l->name = g_strdup (e->text);
        }
      else if (g_str_equal (last, "(0062,0008)") && e->depth == 1 && e->text != NULL)
        {
          g_autofree char *type = g_strstrip (g_strdup (e->text));
          if (!cu_label_origin_from_string (type, &l->origin))
            l->origin = CU_LABEL_ORIGIN_MANUAL;
        }
      else if (g_str_equal (last, "(0062,0009)") && e->depth == 1 && e->text != NULL)
        {
          g_free (l->algorithm_name);
          l->algorithm_name = g_strstrip (g_strdup (e->text));
        }
      else if (e->text != NULL && (in_cat || in_type) && e->depth == 2)
        {
          char **code = in_type ? &l->type_code : &l->category_code;
          char **scheme = in_type ? &l->type_scheme : &l->category_scheme;
          char **meaning = in_type ? &l->type_meaning : &l->category_meaning;
          char **target = g_str_equal (last, "(0008,0100)") ? code
                          : g_str_equal (last, "(0008,0102)") ? scheme
                          : g_str_equal (last, "(0008,0104)") ? meaning : NULL;
          if (target != NULL)
            {
              g_free (*target);
              *target = g_strdup (e->text);
            }
        }
    }
  else if (g_str_has_prefix (tp, "(5200,9230)["))
    {
      guint f = item_index (tp, "(5200,9230)[");
      const char *last = strrchr (tp, '(');

      if (f > 100000)
        return TRUE;
      if (f >= p->frame_segment->len)
        {
          g_array_set_size (p->frame_segment, f + 1);
          while (p->frame_position->len < f + 1)
            g_ptr_array_add (p->frame_position, NULL);
        }
      if (g_str_equal (last, "(0062,000B)") && e->length >= 2 && e->value != NULL)
        g_array_index (p->frame_segment, int, f) = e->value[0] | (e->value[1] << 8);
      else if (g_str_equal (last, "(0020,0032)") && e->text != NULL)
        {
          g_free (p->frame_position->pdata[f]);
          p->frame_position->pdata[f] = g_strdup (e->text);
        }
    }
  else if (g_str_has_prefix (tp, "(5200,9229)["))
    {
      const char *last = strrchr (tp, '(');
      if (g_str_equal (last, "(0020,0037)") && e->text != NULL)
        p->orientation = g_strdup (e->text);
      else if (g_str_equal (last, "(0028,0030)") && e->text != NULL)
        p->spacing = g_strdup (e->text);
    }
  return TRUE;
}

static gboolean
parse_doubles (const char *text, double *out, int n)
{
  g_auto(GStrv) parts = NULL;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, "\\", -1);
  if ((int) g_strv_length (parts) != n)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      char *end = NULL;
      out[i] = g_ascii_strtod (parts[i], &end);
      if (end == parts[i])
        return FALSE;
    }
  return TRUE;
}

CuLabelMap *
cu_seg_dicom_read (const char *path, const CuVolume *grid, gboolean *resampled, GError **error)
{
  g_autoptr(CuDicomHeader) h = cu_dicom_header_read (path, error);
  g_autoptr(CuLabelMap) map = NULL;
  SegParse p = { 0 };
  double iop[6], ps[2];
  g_autofree guint8 *bits = NULL, *mask = NULL;
  gsize plane, n_bytes;
  gboolean off_grid = FALSE;
  GHashTableIter it;
  gpointer value;
  CuLabelMap *result = NULL;

  if (h == NULL)
    return NULL;
  if (g_strcmp0 (h->sop_class_uid, CU_DICOM_SEG_STORAGE) != 0 || h->bits_allocated != 1
      || !h->has_pixels || h->pixel_length < 0 || h->encapsulated)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
                   _("%s: not a binary, uncompressed DICOM Segmentation"), path);
      return NULL;
    }
  p.segments = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) cu_label_free);
  p.frame_segment = g_array_new (FALSE, TRUE, sizeof (int));
  p.frame_position = g_ptr_array_new_with_free_func (g_free);
  if (!cu_dicom_walk_file (path, visit, &p, error))
    goto out;
  if (!parse_doubles (p.orientation, iop, 6) || !parse_doubles (p.spacing, ps, 2))
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
                   _("%s: the Segmentation has no shared orientation and pixel spacing"), path);
      goto out;
    }
  plane = (gsize) h->rows * h->columns;
  n_bytes = (p.frame_segment->len * plane + 7) / 8;
  if ((gsize) h->pixel_length < n_bytes)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT,
                   _("%s: Pixel Data is shorter than %u frames of %d × %d bits"), path,
                   p.frame_segment->len, h->columns, h->rows);
      goto out;
    }
  {
    g_autoptr(GFile) file = g_file_new_for_path (path);
    g_autoptr(GFileInputStream) in = g_file_read (file, NULL, error);
    gsize got = 0;

    if (in == NULL || !g_seekable_seek (G_SEEKABLE (in), h->pixel_offset, G_SEEK_SET, NULL, error))
      goto out;
    bits = g_malloc (n_bytes);
    if (!g_input_stream_read_all (G_INPUT_STREAM (in), bits, n_bytes, &got, NULL, error) || got != n_bytes)
      {
        if (error != NULL && *error == NULL)
          g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_FORMAT, _("%s: truncated Pixel Data"), path);
        goto out;
      }
  }

  map = cu_label_map_new (grid, error);
  if (map == NULL)
    goto out;
  g_hash_table_iter_init (&it, p.segments);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      CuLabel *l = value;
      if (l->origin == CU_LABEL_ORIGIN_MANUAL)
        g_clear_pointer (&l->algorithm_name, g_free);
      if (l->value != 0)
        cu_label_map_set_label (map, l);
    }

  /* Segment by segment: each segment's voxels are gathered into a mask and placed in the
   * lowest layer where they cover no other segment (cu_label_map_place_mask), so segments
   * that overlap both keep every voxel. */
  mask = g_try_malloc0 (cu_label_map_n_voxels (map));
  if (mask == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_GRID, _("Out of memory for a label map"));
      goto out;
    }
  for (int seg = 1; seg <= 255; seg++)
  {
  gboolean any = FALSE;

  for (guint f = 0; f < p.frame_segment->len; f++)
    {
      double pos[3];

      if (g_array_index (p.frame_segment, int, f) != seg
          || !parse_doubles (p.frame_position->pdata[f], pos, 3))
        continue;
      for (int r = 0; r < h->rows; r++)
        for (int c = 0; c < h->columns; c++)
          {
            gsize bit = (gsize) f * plane + (gsize) r * h->columns + c;
            double lps[3], ijk[3];
            int a, b, d;

            if (!(bits[bit >> 3] & (1u << (bit & 7))))
              continue;
            for (int x = 0; x < 3; x++)
              lps[x] = pos[x] + iop[x] * c * ps[1] + iop[3 + x] * r * ps[0];
            cu_volume_lps_to_index (grid, lps, ijk);
            a = (int) lround (ijk[0]);
            b = (int) lround (ijk[1]);
            d = (int) lround (ijk[2]);
            if (fabs (ijk[0] - a) > 0.01 || fabs (ijk[1] - b) > 0.01 || fabs (ijk[2] - d) > 0.01)
              off_grid = TRUE;
            if (a < 0 || b < 0 || d < 0 || a >= map->dims[0] || b >= map->dims[1] || d >= map->dims[2])
              continue;
            mask[cu_label_map_index (map, a, b, d)] = 1;
            any = TRUE;
          }
    }
  if (any)
    {
      if (cu_label_map_place_mask (map, (guint8) seg, mask, error) < 0)
        {
          g_prefix_error (error, "%s: ", path);
          g_clear_pointer (&map, cu_label_map_unref);
          goto out;
        }
      memset (mask, 0, cu_label_map_n_voxels (map));
    }
  }
  if (resampled != NULL)
    *resampled = off_grid;
  result = g_steal_pointer (&map);

out:
  g_hash_table_unref (p.segments);
  g_array_unref (p.frame_segment);
  g_ptr_array_unref (p.frame_position);
  g_free (p.orientation);
  g_free (p.spacing);
  return result;
}

/* ---- The source's de-identification record ------------------------------------------ */

typedef struct
{
  char *method;
  GPtrArray *codes;   /* code value, scheme, meaning per item */
} DeidRecord;

static gboolean
collect_deid (const CuDicomElement *e, gpointer data)
{
  DeidRecord *r = data;
  const char *prefix = "(0012,0064)[";

  if (e->depth == 0 && e->group == 0x0012 && e->element == 0x0063 && e->text != NULL)
    {
      g_free (r->method);
      r->method = g_strdup (e->text);
    }
  else if (e->depth == 1 && e->text != NULL && g_str_has_prefix (e->tag_path, prefix))
    {
      guint item = (guint) g_ascii_strtoull (e->tag_path + strlen (prefix), NULL, 10);
      int slot = e->element == 0x0100 ? 0 : e->element == 0x0102 ? 1 : e->element == 0x0104 ? 2 : -1;

      if (slot < 0 || e->group != 0x0008 || item > 32)
        return TRUE;
      while (r->codes->len < 3 * (item + 1))
        g_ptr_array_add (r->codes, g_strdup (""));
      g_free (r->codes->pdata[3 * item + slot]);
      r->codes->pdata[3 * item + slot] = g_strdup (e->text);
    }
  return TRUE;
}

GPtrArray *
cu_seg_dicom_read_deid_record (const char *path, char **method)
{
  DeidRecord r = { NULL, g_ptr_array_new_with_free_func (g_free) };

  /* A source that cannot be walked has no record to copy: the SEG then carries none. */
  cu_dicom_walk_file (path, collect_deid, &r, NULL);
  g_ptr_array_add (r.codes, NULL);
  *method = r.method;
  return r.codes;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-sr.c — a label map's lesions as a DICOM SR Measurement Report (cu-seg-sr.h).
 *
 * Follows PS3.16 TID 1500 "Measurement Report" as dcmqi and highdicom write it for
 * segmentation-based measurements, in a Comprehensive 3D SR Storage object (PS3.3 A.35.13:
 * Patient, General Study, SR Document Series, General + Enhanced General Equipment, SR Document
 * General, SR Document Content, SOP Common; no Frame of Reference module, as the document holds
 * no SCOORD3D):
 *
 *   CONTAINER (126000, DCM, "Imaging Measurement Report")     TID 1500, template DCMR 1500
 *     HAS CONCEPT MOD  Language of Content (TID 1204)
 *     HAS OBS CONTEXT  Observer Type / Person Observer Name (TID 1001/1002), or the device
 *     HAS CONCEPT MOD  Procedure reported (CID 100)
 *     CONTAINS CONTAINER Image Library (TID 1600) → Image Library Group: modality, frame of
 *                      reference, one IMAGE per source instance (TID 1601)
 *     CONTAINS CONTAINER Imaging Measurements
 *       CONTAINS CONTAINER Measurement Group (TID 1411, volumetric ROI), per SEG segment:
 *         Tracking Identifier, Tracking Unique Identifier, Finding (the segment's property
 *         type), Finding Site (the PI-RADS zone), Referenced Segment (SEG instance + segment
 *         number), Source series for segmentation, Volume (mL), Long axis (the longest in-slice
 *         diameter, mm), the mean of the image in the segment (TID 1419, Derivation = Mean),
 *         and the lesion form's answers as qualitative evaluations (coded) and scores.
 *
 * Codes: DCM and SCT where PS3.16 has them (the prostate zones of the shipped terminology,
 * Positive/Negative of CID 250, Assessment Category 111005). PS3.16 has no code for the whole
 * central zone (CID 6301 only has its left and right halves) nor for the PI-RADS v2.1 category
 * values and component scores; those use the private coding scheme "99CURATA", declared in the
 * Coding Scheme Identification Sequence as PS3.3 C.12.1.1.2 asks (the PS3.16 §8.2 "99"
 * prefix is reserved for private schemes).
 *
 * Free text a reader typed (label names, the form's remark) is not copied unless the caller
 * asks for label names: the release writes only coded content and numbers.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-seg-sr.h"
#include "cu-seg-dicom.h"
#include "cu-seg-dicom-private.h"
#include "cu-seg-measure.h"
#include "cu-seg-terminology.h"
#include "cu-dicom-writer.h"

#define T(g, e) CU_DICOM_TAG (0x##g, 0x##e)

#define CURATA_SCHEME "99CURATA"

typedef struct
{
  const char *value, *scheme, *meaning;
} Code;

static const Code language_concept = { "121049", "DCM", "Language of Content Item and Descendants" };
static const Code english = { "en", "RFC5646", "English" };
static const Code observer_type = { "121005", "DCM", "Observer Type" };
static const Code person = { "121006", "DCM", "Person" };
static const Code device = { "121007", "DCM", "Device" };
static const Code person_name = { "121008", "DCM", "Person Observer Name" };
static const Code device_uid = { "121012", "DCM", "Device Observer UID" };
static const Code device_name = { "121013", "DCM", "Device Observer Name" };
static const Code procedure_reported = { "121058", "DCM", "Procedure reported" };
static const Code mpmri_prostate = { "126021", "DCM", "Multiparametric MRI of prostate" };
static const Code imaging_procedure = { "363679005", "SCT", "Imaging procedure" };
static const Code report_title = { "126000", "DCM", "Imaging Measurement Report" };
static const Code image_library = { "111028", "DCM", "Image Library" };
static const Code image_library_group = { "126200", "DCM", "Image Library Group" };
static const Code modality_concept = { "121139", "DCM", "Modality" };
static const Code frame_of_reference = { "112227", "DCM", "Frame of Reference UID" };
static const Code imaging_measurements = { "126010", "DCM", "Imaging Measurements" };
static const Code measurement_group = { "125007", "DCM", "Measurement Group" };
static const Code tracking_id = { "112039", "DCM", "Tracking Identifier" };
static const Code tracking_uid = { "112040", "DCM", "Tracking Unique Identifier" };
static const Code finding = { "121071", "DCM", "Finding" };
static const Code finding_site = { "363698007", "SCT", "Finding Site" };
static const Code referenced_segment = { "121191", "DCM", "Referenced Segment" };
static const Code source_series = { "121232", "DCM", "Source series for segmentation" };
static const Code volume = { "118565006", "SCT", "Volume" };
static const Code long_axis = { "103339001", "SCT", "Long Axis" };
static const Code derivation = { "121401", "DCM", "Derivation" };
static const Code mean = { "373098007", "SCT", "Mean" };
static const Code mr_signal = { "110852", "DCM", "MR signal intensity" };
static const Code attenuation = { "112031", "DCM", "Attenuation Coefficient" };
static const Code milliliter = { "mL", "UCUM", "milliliter" };
static const Code millimeter = { "mm", "UCUM", "millimeter" };
static const Code no_units = { "1", "UCUM", "no units" };
static const Code hounsfield = { "[hnsf'U]", "UCUM", "Hounsfield unit" };
static const Code score_unit = { "{score}", "UCUM", "score" };
static const Code tissue = { "85756007", "SCT", "Tissue" };
static const Code assessment_category = { "111005", "DCM", "Assessment Category" };
static const Code positive = { "10828004", "SCT", "Positive" };
static const Code negative = { "260385009", "SCT", "Negative" };
/* Private: no PS3.16 concept for the PI-RADS component assessments. */
static const Code pirads_t2w = { "PIRADS-T2W", CURATA_SCHEME, "PI-RADS v2.1 T2W score" };
static const Code pirads_dwi = { "PIRADS-DWI", CURATA_SCHEME, "PI-RADS v2.1 DWI score" };
static const Code pirads_dce = { "PIRADS-DCE", CURATA_SCHEME, "PI-RADS v2.1 DCE assessment" };

/* PI-RADS v2.1 zones (the form's option values) as finding sites. */
static const struct
{
  const char *option;
  Code code;
} zones[] = {
  { "PZ", { "279706003", "SCT", "Peripheral zone of the prostate" } },
  { "TZ", { "399384005", "SCT", "Transition zone of the prostate" } },
  { "AFS", { "717025007", "SCT", "Anterior fibromuscular stroma of prostate" } },
  /* Private: CID 6301 codes only the left and right halves of the central zone. */
  { "CZ", { "PROSTATE-CZ", CURATA_SCHEME, "Central zone of the prostate" } },
};

/* PI-RADS v2.1 assessment categories (ACR 2019, section on assessment): private values,
 * as PS3.16 defines none. */
static const Code pirads_category[5] = {
  { "PIRADS-1", CURATA_SCHEME, "PI-RADS 1: very low" },
  { "PIRADS-2", CURATA_SCHEME, "PI-RADS 2: low" },
  { "PIRADS-3", CURATA_SCHEME, "PI-RADS 3: intermediate" },
  { "PIRADS-4", CURATA_SCHEME, "PI-RADS 4: high" },
  { "PIRADS-5", CURATA_SCHEME, "PI-RADS 5: very high" },
};

/* ---- content items ------------------------------------------------------------------- */

static CuDicomDataset *
code_item (const Code *code)
{
  return _cu_seg_dicom_code_item (code->value, code->scheme, code->meaning);
}

static void
add_code (CuDicomDataset *ds, guint32 tag, const Code *code)
{
  CuDicomDataset *item = code_item (code);
  cu_dicom_dataset_add_sequence (ds, tag, &item, 1);
}

static void
add_one_item (CuDicomDataset *ds, guint32 tag, CuDicomDataset *item)
{
  cu_dicom_dataset_add_sequence (ds, tag, &item, 1);
}

/* A content item; relationship is NULL for the root. */
static CuDicomDataset *
content_item (const char *relationship, const char *value_type, const Code *concept)
{
  CuDicomDataset *item = cu_dicom_dataset_new ();

  if (relationship != NULL)
    cu_dicom_dataset_add_string (item, T (0040, A010), "CS", relationship);
  cu_dicom_dataset_add_string (item, T (0040, A040), "CS", value_type);
  if (concept != NULL)
    add_code (item, T (0040, A043), concept);
  return item;
}

static CuDicomDataset *
container_item (const char *relationship, const Code *concept)
{
  CuDicomDataset *item = content_item (relationship, "CONTAINER", concept);
  cu_dicom_dataset_add_string (item, T (0040, A050), "CS", "SEPARATE");
  return item;
}

static CuDicomDataset *
code_content (const char *relationship, const Code *concept, const Code *value)
{
  CuDicomDataset *item = content_item (relationship, "CODE", concept);
  add_code (item, T (0040, A168), value);
  return item;
}

static CuDicomDataset *
text_content (const char *relationship, const Code *concept, const char *text)
{
  CuDicomDataset *item = content_item (relationship, "TEXT", concept);
  cu_dicom_dataset_add_string (item, T (0040, A160), "UT", text);
  return item;
}

static CuDicomDataset *
uid_content (const char *relationship, const Code *concept, const char *uid)
{
  CuDicomDataset *item = content_item (relationship, "UIDREF", concept);
  cu_dicom_dataset_add_string (item, T (0040, A124), "UI", uid);
  return item;
}

static CuDicomDataset *
num_content (const Code *concept, double value, const Code *units)
{
  CuDicomDataset *item = content_item ("CONTAINS", "NUM", concept);
  CuDicomDataset *measured = cu_dicom_dataset_new ();

  cu_dicom_dataset_add_ds (measured, T (0040, A30A), &value, 1);
  add_code (measured, T (0040, 08EA), units);
  add_one_item (item, T (0040, A300), measured);
  return item;
}

static CuDicomDataset *
image_content (const Code *concept, const char *sop_class, const char *sop_instance, int segment)
{
  CuDicomDataset *item = content_item ("CONTAINS", "IMAGE", concept);
  CuDicomDataset *ref = cu_dicom_dataset_new ();

  cu_dicom_dataset_add_string (ref, T (0008, 1150), "UI", sop_class);
  cu_dicom_dataset_add_string (ref, T (0008, 1155), "UI", sop_instance);
  if (segment > 0)
    cu_dicom_dataset_add_us (ref, T (0062, 000B), (guint16) segment);
  add_one_item (item, T (0008, 1199), ref);
  return item;
}

/* Hand the children (an array without free function) to parent's Content Sequence. */
static void
set_children (CuDicomDataset *parent, GPtrArray *children)
{
  if (children->len > 0)
    cu_dicom_dataset_add_sequence (parent, T (0040, A730), (CuDicomDataset **) children->pdata,
                                   children->len);
  g_ptr_array_unref (children);
}

/* ---- the lesion form ------------------------------------------------------------------ */

static const Code *
zone_code (const char *option)
{
  for (guint i = 0; option != NULL && i < G_N_ELEMENTS (zones); i++)
    if (g_str_equal (zones[i].option, option))
      return &zones[i].code;
  return NULL;
}

static const char *
form_string (JsonObject *form, const char *name)
{
  JsonNode *node;

  if (form == NULL || !json_object_has_member (form, name))
    return NULL;
  node = json_object_get_member (form, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* An integer answer in [1, 5], or 0. */
static int
form_score (JsonObject *form, const char *name)
{
  JsonNode *node;
  gint64 v;

  if (form == NULL || !json_object_has_member (form, name))
    return 0;
  node = json_object_get_member (form, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return 0;
  v = json_node_get_int (node);
  return v >= 1 && v <= 5 ? (int) v : 0;
}

static JsonObject *
parse_form (const CuLabel *label, JsonParser *parser)
{
  JsonNode *root;

  if (label->form_json == NULL || !json_parser_load_from_data (parser, label->form_json, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
}

/* The form's answers as qualitative evaluations and scores (children of the group). */
static void
add_form_content (GPtrArray *group, JsonObject *form)
{
  int t2w = form_score (form, "t2w"), dwi = form_score (form, "dwi"), overall = form_score (form, "overall");
  const char *dce = form_string (form, "dce");

  if (t2w > 0)
    g_ptr_array_add (group, num_content (&pirads_t2w, t2w, &score_unit));
  if (dwi > 0)
    g_ptr_array_add (group, num_content (&pirads_dwi, dwi, &score_unit));
  if (g_strcmp0 (dce, "positive") == 0 || g_strcmp0 (dce, "negative") == 0)
    g_ptr_array_add (group, code_content ("CONTAINS", &pirads_dce,
                                          g_str_equal (dce, "positive") ? &positive : &negative));
  if (overall > 0)
    g_ptr_array_add (group, code_content ("CONTAINS", &assessment_category,
                                          &pirads_category[overall - 1]));
}

/* ---- the document ---------------------------------------------------------------------- */

static const Code *
modality_code (const char *modality, Code *out)
{
  static const struct { const char *value, *meaning; } known[] = {
    { "MR", "Magnetic Resonance" },
    { "CT", "Computed Tomography" },
    { "PT", "Positron emission tomography" },
    { "US", "Ultrasound" },
  };

  for (guint i = 0; modality != NULL && i < G_N_ELEMENTS (known); i++)
    if (g_str_equal (known[i].value, modality))
      {
        out->value = known[i].value;
        out->scheme = "DCM";
        out->meaning = known[i].meaning;
        return out;
      }
  return NULL;
}

static CuDicomDataset *
image_library_content (const CuLabelMap *map, const CuSegSrSpec *spec)
{
  CuDicomDataset *library = container_item ("CONTAINS", &image_library);
  CuDicomDataset *group_item = container_item ("CONTAINS", &image_library_group);
  GPtrArray *group = g_ptr_array_new ();
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);
  Code modality;

  if (modality_code (spec->source->modality, &modality) != NULL)
    g_ptr_array_add (group, code_content ("HAS ACQ CONTEXT", &modality_concept, &modality));
  if (spec->source->frame_of_reference_uid != NULL)
    g_ptr_array_add (group, uid_content ("HAS ACQ CONTEXT", &frame_of_reference,
                                         spec->source->frame_of_reference_uid));
  for (int k = 0; spec->slice_sop_instance != NULL && spec->slice_sop_class != NULL && k < map->dims[2]; k++)
    {
      const char *instance = spec->slice_sop_instance[k];
      if (instance != NULL && spec->slice_sop_class[k] != NULL && g_hash_table_add (seen, (gpointer) instance))
        g_ptr_array_add (group, image_content (NULL, spec->slice_sop_class[k], instance, 0));
    }
  g_hash_table_unref (seen);
  set_children (group_item, group);
  {
    GPtrArray *children = g_ptr_array_new ();
    g_ptr_array_add (children, group_item);
    set_children (library, children);
  }
  return library;
}

static CuDicomDataset *
measurement_group_content (const CuLabelMap *map, const CuSegSrSpec *spec, const CuLabel *label,
                           int segment, int lesion_number)
{
  CuDicomDataset *container = container_item ("CONTAINS", &measurement_group);
  GPtrArray *group = g_ptr_array_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *form = parse_form (label, parser);
  g_autofree char *identifier = NULL, *uid = cu_dicom_uid_new ();
  Code type = tissue;
  const Code *site = zone_code (form_string (form, "zone"));
  CuSegMeasure m;
  CuSegRoiStats stats;

  if (label->type_code != NULL && label->type_scheme != NULL && label->type_meaning != NULL)
    type = (Code) { label->type_code, label->type_scheme, label->type_meaning };
  if (spec->copy_label_names && label->name != NULL && label->name[0] != '\0')
    identifier = g_strdup (label->name);
  else if (lesion_number > 0)
    identifier = g_strdup_printf ("Lesion %d", lesion_number);
  else
    identifier = g_strdup (type.meaning);   /* coded content, not the reader's text */

  g_ptr_array_add (group, text_content ("HAS OBS CONTEXT", &tracking_id, identifier));
  g_ptr_array_add (group, uid_content ("HAS OBS CONTEXT", &tracking_uid, uid));
  g_ptr_array_add (group, code_content ("CONTAINS", &finding, &type));
  if (site != NULL)
    g_ptr_array_add (group, code_content ("HAS CONCEPT MOD", &finding_site, site));
  g_ptr_array_add (group, image_content (&referenced_segment, CU_DICOM_SEG_STORAGE,
                                         spec->seg_sop_instance_uid, segment));
  if (spec->source->series_uid != NULL)
    g_ptr_array_add (group, uid_content ("CONTAINS", &source_series, spec->source->series_uid));

  cu_seg_measure (map, label->value, &m);
  g_ptr_array_add (group, num_content (&volume, m.volume_ml, &milliliter));
  g_ptr_array_add (group, num_content (&long_axis, m.longest_diameter_mm, &millimeter));
  if (spec->image != NULL && cu_seg_roi_stats (map, label->value, spec->image, 0, &stats)
      && isfinite (stats.mean))
    {
      gboolean ct = g_strcmp0 (spec->source->modality, "CT") == 0;
      gboolean mr = g_strcmp0 (spec->source->modality, "MR") == 0;

      /* Only where PS3.16 names the quantity: signal intensity (MR), attenuation (CT). */
      if (ct || mr)
        {
          CuDicomDataset *num = num_content (ct ? &attenuation : &mr_signal, stats.mean,
                                             ct ? &hounsfield : &no_units);
          GPtrArray *modifiers = g_ptr_array_new ();
          g_ptr_array_add (modifiers, code_content ("HAS CONCEPT MOD", &derivation, &mean));
          set_children (num, modifiers);
          g_ptr_array_add (group, num);
        }
    }
  if (form != NULL)
    add_form_content (group, form);

  set_children (container, group);
  return container;
}

/* Whether a lesion was assessed with the PI-RADS form (its category or zone answered): the
 * procedure reported is then a prostate mpMRI. */
static gboolean
uses_pirads (const CuLabelMap *map)
{
  for (guint l = 0; l < cu_label_map_get_n_labels (map); l++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *form = parse_form (cu_label_map_get_label_at (map, l), parser);

      if (form_score (form, "overall") > 0 || zone_code (form_string (form, "zone")) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* Current Requested Procedure Evidence: every instance the content refers to, by series. */
static void
add_evidence (CuDicomDataset *ds, const CuLabelMap *map, const CuSegSrSpec *spec)
{
  CuDicomDataset *study = cu_dicom_dataset_new ();
  GPtrArray *series = g_ptr_array_new ();
  GPtrArray *refs = g_ptr_array_new ();
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (int k = 0; spec->slice_sop_instance != NULL && spec->slice_sop_class != NULL && k < map->dims[2]; k++)
    {
      const char *instance = spec->slice_sop_instance[k];
      if (instance != NULL && spec->slice_sop_class[k] != NULL && g_hash_table_add (seen, (gpointer) instance))
        {
          CuDicomDataset *r = cu_dicom_dataset_new ();
          cu_dicom_dataset_add_string (r, T (0008, 1150), "UI", spec->slice_sop_class[k]);
          cu_dicom_dataset_add_string (r, T (0008, 1155), "UI", instance);
          g_ptr_array_add (refs, r);
        }
    }
  g_hash_table_unref (seen);
  if (refs->len > 0 && spec->source->series_uid != NULL)
    {
      CuDicomDataset *s = cu_dicom_dataset_new ();
      cu_dicom_dataset_add_string (s, T (0020, 000E), "UI", spec->source->series_uid);
      cu_dicom_dataset_add_sequence (s, T (0008, 1199), (CuDicomDataset **) refs->pdata, refs->len);
      g_ptr_array_add (series, s);
    }
  else
    for (guint i = 0; i < refs->len; i++)
      cu_dicom_dataset_free (refs->pdata[i]);
  g_ptr_array_unref (refs);
  {
    CuDicomDataset *s = cu_dicom_dataset_new ();
    CuDicomDataset *r = cu_dicom_dataset_new ();

    cu_dicom_dataset_add_string (s, T (0020, 000E), "UI", spec->seg_series_uid);
    cu_dicom_dataset_add_string (r, T (0008, 1150), "UI", CU_DICOM_SEG_STORAGE);
    cu_dicom_dataset_add_string (r, T (0008, 1155), "UI", spec->seg_sop_instance_uid);
    add_one_item (s, T (0008, 1199), r);
    g_ptr_array_add (series, s);
  }
  cu_dicom_dataset_add_string (study, T (0020, 000D), "UI", spec->source->study_uid);
  cu_dicom_dataset_add_sequence (study, T (0008, 1115), (CuDicomDataset **) series->pdata, series->len);
  g_ptr_array_unref (series);
  add_one_item (ds, T (0040, A375), study);
}

gboolean
cu_seg_sr_write (const CuLabelMap *map, const CuSegSrSpec *spec, const char *path, GError **error)
{
  const CuDicomHeader *src;
  g_autoptr(CuDicomDataset) ds = NULL;
  g_autofree char *series_uid = NULL, *sop_uid = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%Y%m%d");
  g_autofree char *time = g_date_time_format (now, "%H%M%S");
  guint8 segment_of_label[256];
  GPtrArray *root_children, *groups;
  CuDicomDataset *measurements;
  int lesion_number = 0;
  guint n_groups = 0;

  g_return_val_if_fail (map != NULL && spec != NULL && spec->source != NULL, FALSE);
  src = spec->source;

  if (src->study_uid == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("%s: the source series has no study UID"), path);
      return FALSE;
    }
  if (spec->seg_sop_instance_uid == NULL || spec->seg_series_uid == NULL)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("%s: the measurement report needs the segmentation object it refers to"), path);
      return FALSE;
    }
  if (spec->segment_of_label != NULL)
    memcpy (segment_of_label, spec->segment_of_label, sizeof segment_of_label);
  else
    cu_seg_dicom_segment_numbers (map, segment_of_label);

  ds = cu_dicom_dataset_new ();
  series_uid = spec->series_uid != NULL ? g_strdup (spec->series_uid) : cu_dicom_uid_new ();
  sop_uid = spec->sop_instance_uid != NULL ? g_strdup (spec->sop_instance_uid) : cu_dicom_uid_new ();

  /* SOP Common, with the private coding scheme the content uses. */
  cu_dicom_dataset_add_string (ds, T (0008, 0005), "CS", "ISO_IR 192");
  cu_dicom_dataset_add_string (ds, T (0008, 0016), "UI", CU_DICOM_COMPREHENSIVE_3D_SR_STORAGE);
  cu_dicom_dataset_add_string (ds, T (0008, 0018), "UI", sop_uid);
  cu_dicom_dataset_add_string (ds, T (0008, 0012), "DA", date);
  cu_dicom_dataset_add_string (ds, T (0008, 0013), "TM", time);
  {
    CuDicomDataset *scheme = cu_dicom_dataset_new ();
    cu_dicom_dataset_add_string (scheme, T (0008, 0102), "SH", CURATA_SCHEME);
    cu_dicom_dataset_add_string (scheme, T (0008, 0115), "ST", "Curata private codes");
    cu_dicom_dataset_add_string (scheme, T (0008, 0116), "ST", "Curata");
    add_one_item (ds, T (0008, 0110), scheme);
  }
  _cu_seg_dicom_add_patient_study (ds, src, spec->deid_method, spec->deid_codes);
  /* SR Document Series */
  cu_dicom_dataset_add_string (ds, T (0008, 0060), "CS", "SR");
  cu_dicom_dataset_add_string (ds, T (0020, 000E), "UI", series_uid);
  cu_dicom_dataset_add_printf (ds, T (0020, 0011), "IS", "%d",
                               spec->series_number > 0 ? spec->series_number
                               : 400 + MAX (0, src->series_number));
  cu_dicom_dataset_add_string (ds, T (0008, 103E), "LO", "Measurement report");
  cu_dicom_dataset_add_string (ds, T (0008, 0021), "DA", date);
  cu_dicom_dataset_add_string (ds, T (0008, 0031), "TM", time);
  cu_dicom_dataset_add_sequence (ds, T (0008, 1111), NULL, 0);
  _cu_seg_dicom_add_equipment (ds);
  /* SR Document General: complete, not verified by anyone. */
  cu_dicom_dataset_add_string (ds, T (0020, 0013), "IS", "1");
  cu_dicom_dataset_add_string (ds, T (0008, 0023), "DA", date);
  cu_dicom_dataset_add_string (ds, T (0008, 0033), "TM", time);
  cu_dicom_dataset_add_string (ds, T (0040, A491), "CS", "COMPLETE");
  cu_dicom_dataset_add_string (ds, T (0040, A493), "CS", "UNVERIFIED");
  cu_dicom_dataset_add_sequence (ds, T (0040, A372), NULL, 0);
  add_evidence (ds, map, spec);

  /* SR Document Content: the root content item is the dataset itself (PS3.3 C.17.3), the
   * container of TID 1500. */
  cu_dicom_dataset_add_string (ds, T (0040, A040), "CS", "CONTAINER");
  add_code (ds, T (0040, A043), &report_title);
  cu_dicom_dataset_add_string (ds, T (0040, A050), "CS", "SEPARATE");
  {
    CuDicomDataset *tpl = cu_dicom_dataset_new ();
    cu_dicom_dataset_add_string (tpl, T (0008, 0105), "CS", "DCMR");
    cu_dicom_dataset_add_string (tpl, T (0040, DB00), "CS", "1500");
    add_one_item (ds, T (0040, A504), tpl);
  }
  root_children = g_ptr_array_new ();
  g_ptr_array_add (root_children, code_content ("HAS CONCEPT MOD", &language_concept, &english));
  if (spec->observer != NULL && spec->observer[0] != '\0')
    {
      CuDicomDataset *name = content_item ("HAS OBS CONTEXT", "PNAME", &person_name);
      cu_dicom_dataset_add_string (name, T (0040, A123), "PN", spec->observer);
      g_ptr_array_add (root_children, code_content ("HAS OBS CONTEXT", &observer_type, &person));
      g_ptr_array_add (root_children, name);
    }
  else
    {
      g_ptr_array_add (root_children, code_content ("HAS OBS CONTEXT", &observer_type, &device));
      g_ptr_array_add (root_children, uid_content ("HAS OBS CONTEXT", &device_uid,
                                                   cu_dicom_implementation_uid ()));
      g_ptr_array_add (root_children, text_content ("HAS OBS CONTEXT", &device_name, "Curata"));
    }
  g_ptr_array_add (root_children, code_content ("HAS CONCEPT MOD", &procedure_reported,
                                                uses_pirads (map) ? &mpmri_prostate : &imaging_procedure));
  g_ptr_array_add (root_children, image_library_content (map, spec));

  measurements = container_item ("CONTAINS", &imaging_measurements);
  groups = g_ptr_array_new ();
  for (guint l = 0; l < cu_label_map_get_n_labels (map); l++)
    {
      const CuLabel *label = cu_label_map_get_label_at (map, l);
      int segment = segment_of_label[label->value];

      if (segment == 0 || cu_label_map_count (map, label->value) == 0)
        continue;
      g_ptr_array_add (groups, measurement_group_content (map, spec, label, segment,
                                                          cu_seg_label_is_lesion (label)
                                                          ? ++lesion_number : 0));
    }
  n_groups = groups->len;
  set_children (measurements, groups);
  g_ptr_array_add (root_children, measurements);
  set_children (ds, root_children);

  if (n_groups == 0)
    {
      g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_INVALID,
                   _("%s: the segmentation is empty: there is nothing to report"), path);
      return FALSE;
    }
  if (!cu_dicom_dataset_write_file (ds, path, error))
    {
      g_prefix_error (error, "%s: ", path);
      return FALSE;
    }
  return TRUE;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-check.c — per-series checks of the quality gate.
 *
 * The geometry comes from the series plan (cu-series-plan.c: slices ordered along the normal
 * n = row × column, gaps at > 1.5 × the median step, duplicated positions, non-uniform
 * spacing, split stacks); its problems become findings with a severity. The checks added here
 * follow the DICOM-internal group of the project's consistency catalogue
 * (standards/consistency_rules.md), which cites DICOM PS3.3 C.7.6.2.1.1 and dcm2niix
 * (Li et al., J Neurosci Methods 264:47–56, 2016, doi:10.1016/j.jneumeth.2016.03.001):
 *   DCM-01 Type 1 attributes present            → error
 *   DCM-02 Type 2 attributes present (may be empty) → warning
 *   DCM-04 UIDs well formed                     → error
 *   DCM-12 DA/TM/PatientSex values valid        → error; DCM-14 birth date ≤ study date → warning
 *   DCM-06 Modality, FrameOfReferenceUID constant → error
 *   DCM-07 ImageOrientationPatient valid and constant → error (a slice in another
 *          orientation is named)
 *   DCM-08 gaps / duplicates (error), irregular spacing (warning)
 *   DCM-09 spacing from positions vs SliceThickness / SpacingBetweenSlices → warning
 *   DCM-10 InstanceNumber holes or duplicates → warning (the catalogue says info because
 *          numbering need not be sequential; a hole is how a file left behind shows, so a
 *          curator should look)
 *   DCM-11 Rows, Columns, PixelSpacing constant → error; mixed pixel types → error
 * plus: fewer images than ImagesInAcquisition declares (error), pixels that do not decode
 * (error, each file named), localizer (warning) or derived images (warning) mixed in.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cu-dicom-pixels.h"
#include "cu-qc-check.h"
#include "cu-qc-metrics.h"
#include "cu-qc-protocol.h"
#include "cu-qc-sequence.h"
#include "cu-series-plan.h"

#define ORIENTATION_TOLERANCE 1e-3
#define UNIT_TOLERANCE 1e-3
#define THICKNESS_TOLERANCE 0.1   /* mm: gap or overlap (PI-RADS "no gap": > 0.1 mm counts) */

static void
add (CuQcReport *r, const char *code, CuQcSeverity sev, int slice, const char *attribute,
     const char *path, char *message)
{
  cu_qc_report_add (r, cu_qc_finding_new (code, sev, slice, attribute, path, message));
}

/* Severity of the series plan's problems. */
static CuQcSeverity
plan_severity (const char *code)
{
  if (g_str_equal (code, CU_PROBLEM_GAP) || g_str_equal (code, CU_PROBLEM_DUPLICATE_POSITION)
      || g_str_equal (code, CU_PROBLEM_MIXED_DIMENSIONS)
      || g_str_equal (code, CU_PROBLEM_UNEQUAL_REPEATS)
      || g_str_equal (code, CU_PROBLEM_UNDECODABLE) || g_str_equal (code, CU_PROBLEM_UNSUPPORTED)
      || g_str_equal (code, CU_PROBLEM_UNREADABLE)
      || g_str_equal (code, CU_PROBLEM_MISSING_GEOMETRY)
      || g_str_equal (code, CU_PROBLEM_INVALID_VALUE))
    return CU_QC_SEVERITY_ERROR;
  if (g_str_equal (code, CU_PROBLEM_GANTRY_TILT))
    return CU_QC_SEVERITY_INFO;
  return CU_QC_SEVERITY_WARNING;
}

static const char *
plan_attribute (const char *code)
{
  if (g_str_equal (code, CU_PROBLEM_GAP) || g_str_equal (code, CU_PROBLEM_DUPLICATE_POSITION)
      || g_str_equal (code, CU_PROBLEM_NONUNIFORM_SPACING) || g_str_equal (code, CU_PROBLEM_GANTRY_TILT))
    return "ImagePositionPatient";
  if (g_str_equal (code, CU_PROBLEM_INSTANCE_GAP))
    return "InstanceNumber";
  if (g_str_equal (code, CU_PROBLEM_MIXED_DIMENSIONS))
    return "Rows";
  if (g_str_equal (code, CU_PROBLEM_LOCALIZER))
    return "ImageType";
  if (g_str_equal (code, CU_PROBLEM_UNDECODABLE) || g_str_equal (code, CU_PROBLEM_UNSUPPORTED))
    return "PixelData";
  return NULL;
}

static gboolean
same_orientation (const double a[6], const double b[6])
{
  for (int i = 0; i < 6; i++)
    if (fabs (a[i] - b[i]) > ORIENTATION_TOLERANCE)
      return FALSE;
  return TRUE;
}

static gboolean
blank (const char *s)
{
  return s == NULL || *s == '\0';
}

/* DCM-01: Type 1 attributes, counted over the image files; one finding per attribute. */
static void
check_type1 (CuQcReport *r, GPtrArray *images)
{
  static const char *const keywords[] = {
    "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID", "Modality", "FrameOfReferenceUID",
    "PixelSpacing", "ImageOrientationPatient", "ImagePositionPatient",
  };
  guint missing[G_N_ELEMENTS (keywords)] = { 0 };
  const char *first[G_N_ELEMENTS (keywords)] = { NULL };

  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      gboolean enhanced = h->n_frames > 1;
      gboolean absent[G_N_ELEMENTS (keywords)] = {
        blank (h->sop_class_uid), blank (h->study_uid), blank (h->series_uid), blank (h->modality),
        blank (h->frame_of_reference_uid),
        !h->has_spacing && !(h->frames != NULL && h->frames[0].has_spacing),
        !h->has_orientation && !(h->frames != NULL && h->frames[0].has_orientation),
        !h->has_position && !(h->frames != NULL && h->frames[0].has_position),
      };
      (void) enhanced;
      for (guint k = 0; k < G_N_ELEMENTS (keywords); k++)
        if (absent[k])
          {
            if (missing[k]++ == 0)
              first[k] = h->path;
          }
    }
  for (guint k = 0; k < G_N_ELEMENTS (keywords); k++)
    if (missing[k] > 0)
      add (r, CU_QC_MISSING_ATTRIBUTE, CU_QC_SEVERITY_ERROR, -1, keywords[k], first[k],
           g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "%s is missing or empty in %u image (a required attribute)",
                                         "%s is missing or empty in %u images (a required attribute)",
                                         missing[k]),
                            keywords[k], missing[k]));
}

/* DCM-06 and pixel type (DCM-11): values that must be the same in every image. */
static void
check_constant (CuQcReport *r, GPtrArray *images)
{
  const CuDicomHeader *h0 = images->pdata[0];

  for (guint i = 1; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      if (g_strcmp0 (h->modality, h0->modality) != 0)
        {
          add (r, CU_QC_INCONSISTENT, CU_QC_SEVERITY_ERROR, -1, "Modality", h->path,
               g_strdup_printf (_("Modality changes inside the series (%s and %s)"),
                                h0->modality ? h0->modality : "–", h->modality ? h->modality : "–"));
          break;
        }
    }
  for (guint i = 1; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      if (g_strcmp0 (h->frame_of_reference_uid, h0->frame_of_reference_uid) != 0)
        {
          add (r, CU_QC_INCONSISTENT, CU_QC_SEVERITY_ERROR, -1, "FrameOfReferenceUID", h->path,
               g_strdup (_("Images of the series are in different frames of reference: their "
                           "positions cannot be compared")));
          break;
        }
    }
  for (guint i = 1; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      if (h->bits_allocated != h0->bits_allocated || h->pixel_representation != h0->pixel_representation
          || h->samples_per_pixel != h0->samples_per_pixel || g_strcmp0 (h->photometric, h0->photometric) != 0)
        {
          add (r, CU_QC_MIXED_PIXEL_TYPE, CU_QC_SEVERITY_ERROR, -1, "BitsAllocated", h->path,
               g_strdup_printf (_("Pixel types differ inside the series (%d-bit %s %s and %d-bit %s %s)"),
                                h0->bits_allocated, h0->pixel_representation ? _("signed") : _("unsigned"),
                                h0->photometric ? h0->photometric : "",
                                h->bits_allocated, h->pixel_representation ? _("signed") : _("unsigned"),
                                h->photometric ? h->photometric : ""));
          break;
        }
    }
}

/* DCM-07: valid cosines, and one orientation for the whole series (localizers aside). */
static void
check_orientation (CuQcReport *r, GPtrArray *images)
{
  g_autoptr (GArray) kinds = g_array_new (FALSE, FALSE, sizeof (double) * 6);
  g_autoptr (GArray) counts = g_array_new (FALSE, TRUE, sizeof (guint));
  guint best = 0, n_checked = 0;
  const double *major;

  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      const double *o;
      double r2, c2, rc;
      guint k;

      if (!h->has_orientation || h->n_frames > 1 || cu_qc_image_type_has (h->image_type, "LOCALIZER"))
        continue;
      o = h->orientation;
      r2 = o[0] * o[0] + o[1] * o[1] + o[2] * o[2];
      c2 = o[3] * o[3] + o[4] * o[4] + o[5] * o[5];
      rc = o[0] * o[3] + o[1] * o[4] + o[2] * o[5];
      if (fabs (sqrt (r2) - 1) > UNIT_TOLERANCE || fabs (sqrt (c2) - 1) > UNIT_TOLERANCE
          || fabs (rc) > UNIT_TOLERANCE)
        add (r, CU_QC_ORIENTATION_INVALID, CU_QC_SEVERITY_ERROR, -1, "ImageOrientationPatient", h->path,
             g_strdup_printf (_("ImageOrientationPatient is not two orthogonal unit vectors "
                                "(|row| = %.4f, |column| = %.4f, row·column = %.4f)"),
                              sqrt (r2), sqrt (c2), rc));
      n_checked++;
      for (k = 0; k < kinds->len; k++)
        if (same_orientation (&g_array_index (kinds, double, k * 6), o))
          break;
      if (k == kinds->len)
        {
          guint zero = 0;
          g_array_append_vals (kinds, o, 1);
          g_array_append_val (counts, zero);
        }
      g_array_index (counts, guint, k)++;
    }
  if (kinds->len <= 1)
    return;
  for (guint k = 1; k < kinds->len; k++)
    if (g_array_index (counts, guint, k) > g_array_index (counts, guint, best))
      best = k;
  major = &g_array_index (kinds, double, best * 6);
  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      if (!h->has_orientation || h->n_frames > 1 || cu_qc_image_type_has (h->image_type, "LOCALIZER"))
        continue;
      if (!same_orientation (major, h->orientation))
        {
          double dot_r = h->orientation[0] * major[0] + h->orientation[1] * major[1] + h->orientation[2] * major[2];
          double angle = acos (CLAMP (dot_r, -1.0, 1.0)) * 180.0 / G_PI;
          g_autofree char *base = g_path_get_basename (h->path);
          add (r, CU_QC_ORIENTATION_CHANGE, CU_QC_SEVERITY_ERROR, -1, "ImageOrientationPatient", h->path,
               g_strdup_printf (_("Image %s (instance %d) is oriented differently from the other %u images "
                                  "of the series (row direction off by %.1f°)"),
                                base, h->instance_number, g_array_index (counts, guint, best), angle));
        }
    }
}

static int
compare_int (gconstpointer a, gconstpointer b)
{
  int x = *(const int *) a, y = *(const int *) b;
  return x < y ? -1 : x > y;
}

/* DCM-10, the part the plan does not do: the same InstanceNumber twice. */
static void
check_instance_duplicates (CuQcReport *r, GPtrArray *images)
{
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (int));
  GString *dups = g_string_new (NULL);
  guint n = 0;

  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      if (h->instance_number >= 0)
        g_array_append_val (numbers, h->instance_number);
    }
  g_array_sort (numbers, compare_int);
  for (guint i = 1; i < numbers->len; i++)
    if (g_array_index (numbers, int, i) == g_array_index (numbers, int, i - 1)
        && (i < 2 || g_array_index (numbers, int, i - 2) != g_array_index (numbers, int, i)))
      {
        if (dups->len < 120)
          g_string_append_printf (dups, "%s%d", dups->len ? ", " : "", g_array_index (numbers, int, i));
        n++;
      }
  if (n > 0)
    add (r, CU_QC_INSTANCE_DUPLICATE, CU_QC_SEVERITY_WARNING, -1, "InstanceNumber", NULL,
         g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                       "Instance number %s is used twice",
                                       "Instance numbers %s are used more than once", n),
                          dups->str));
  g_string_free (dups, TRUE);
}

/* Derived images mixed with original ones (ImageType value 1). */
static void
check_derived_mixed (CuQcReport *r, GPtrArray *images)
{
  guint n_derived = 0, n_original = 0;
  const char *example = NULL;

  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      if (h->image_type == NULL)
        continue;
      if (g_ascii_strncasecmp (h->image_type, "DERIVED", 7) == 0)
        {
          n_derived++;
          if (example == NULL)
            example = h->path;
        }
      else if (g_ascii_strncasecmp (h->image_type, "ORIGINAL", 8) == 0)
        n_original++;
    }
  if (n_derived > 0 && n_original > 0)
    add (r, CU_QC_DERIVED_MIXED, CU_QC_SEVERITY_WARNING, -1, "ImageType", example,
         g_strdup_printf (_("%u derived images are mixed with %u original ones (e.g. an ADC or "
                            "isotropic image appended to the acquisition)"),
                          n_derived, n_original));
}

/* DCM-04: a UID is at most 64 characters of digits and dots, with no empty component and no
 * leading zero in a component (PS3.5 §9.1). */
static gboolean
uid_valid (const char *uid)
{
  gsize len;
  const char *p;

  if (uid == NULL || (len = strlen (uid)) == 0 || len > 64)
    return FALSE;
  for (p = uid; *p != '\0'; p++)
    {
      gboolean start = p == uid || p[-1] == '.';
      if (*p == '.')
        {
          if (start || p[1] == '\0')
            return FALSE;
        }
      else if (!g_ascii_isdigit (*p) || (start && *p == '0' && p[1] != '.' && p[1] != '\0'))
        return FALSE;
    }
  return TRUE;
}

static void
check_uids (CuQcReport *r, GPtrArray *images)
{
  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      const char *bad = NULL, *value = NULL;
      if (h->sop_instance_uid != NULL && !uid_valid (h->sop_instance_uid))
        bad = "SOPInstanceUID", value = h->sop_instance_uid;
      else if (h->series_uid != NULL && *h->series_uid && !uid_valid (h->series_uid))
        bad = "SeriesInstanceUID", value = h->series_uid;
      else if (h->study_uid != NULL && *h->study_uid && !uid_valid (h->study_uid))
        bad = "StudyInstanceUID", value = h->study_uid;
      else if (g_strcmp0 (h->study_uid, h->series_uid) == 0 && h->study_uid != NULL)
        bad = "SeriesInstanceUID", value = h->series_uid;
      if (bad != NULL)
        {
          add (r, CU_QC_INVALID_VALUE, CU_QC_SEVERITY_ERROR, -1, bad, h->path,
               g_strdup_printf (_("%s “%s” is not a well-formed UID (digits and dots, at most 64 "
                                  "characters, no leading zeros) or repeats another UID"),
                                bad, value));
          return;   /* one is enough: the writer makes them all the same way */
        }
    }
}

/* DCM-12 and DCM-14 on the attributes the catalogue reads: DA is YYYYMMDD and a real date, TM
 * is HHMMSS(.F), PatientSex is M, F, O or empty; the birth date is not after the study. */
static gboolean
da_valid (const char *da)
{
  int y, m, d;

  if (da == NULL || *da == '\0')
    return TRUE;
  if (strlen (da) != 8 || sscanf (da, "%4d%2d%2d", &y, &m, &d) != 3)
    return FALSE;
  for (int i = 0; i < 8; i++)
    if (!g_ascii_isdigit (da[i]))
      return FALSE;
  return g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y);
}

static gboolean
tm_valid (const char *tm)
{
  gsize n;
  int h = 0, m = 0;
  double sec = 0;

  if (tm == NULL || *tm == '\0')
    return TRUE;
  n = strlen (tm);
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (tm[i]) && !(tm[i] == '.' && i == 6))
      return FALSE;
  if (n < 2 || (n > 6 && tm[6] != '.'))
    return FALSE;
  sscanf (tm, "%2d", &h);
  if (n >= 4)
    sscanf (tm + 2, "%2d", &m);
  if (n >= 6)
    sec = g_ascii_strtod (tm + 4, NULL);
  return h < 24 && m < 60 && sec < 61;
}

static void
check_values (CuQcReport *r, GPtrArray *images)
{
  const CuDicomHeader *h = images->pdata[0];
  struct { const char *keyword; const char *value; gboolean ok; } checks[] = {
    { "StudyDate", h->study_date, da_valid (h->study_date) },
    { "SeriesDate", h->series_date, da_valid (h->series_date) },
    { "PatientBirthDate", h->patient_birth_date, da_valid (h->patient_birth_date) },
    { "StudyTime", h->study_time, tm_valid (h->study_time) },
    { "SeriesTime", h->series_time, tm_valid (h->series_time) },
    { "AcquisitionTime", h->acquisition_time, tm_valid (h->acquisition_time) },
    { "PatientSex", h->patient_sex,
      h->patient_sex == NULL || *h->patient_sex == '\0' || g_str_equal (h->patient_sex, "M")
      || g_str_equal (h->patient_sex, "F") || g_str_equal (h->patient_sex, "O") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    if (!checks[i].ok)
      add (r, CU_QC_INVALID_VALUE, CU_QC_SEVERITY_ERROR, -1, checks[i].keyword, h->path,
           g_strdup_printf (_("%s “%s” is not a valid value for its type"), checks[i].keyword,
                            checks[i].value));
  if (h->patient_birth_date != NULL && *h->patient_birth_date && h->study_date != NULL && *h->study_date
      && da_valid (h->patient_birth_date) && da_valid (h->study_date)
      && strcmp (h->patient_birth_date, h->study_date) > 0)
    add (r, CU_QC_INVALID_VALUE, CU_QC_SEVERITY_WARNING, -1, "PatientBirthDate", h->path,
         g_strdup_printf (_("The patient's birth date (%s) is after the study date (%s)"),
                          h->patient_birth_date, h->study_date));
  /* DCM-02: Type 2 attributes must be present (they may be empty after de-identification). */
  {
    GString *absent = g_string_new (NULL);
    if (h->patient_id == NULL)
      g_string_append (absent, "PatientID ");
    if (h->patient_name == NULL)
      g_string_append (absent, "PatientName ");
    if (h->study_date == NULL)
      g_string_append (absent, "StudyDate ");
    if (h->study_id == NULL)
      g_string_append (absent, "StudyID ");
    if (h->accession_number == NULL)
      g_string_append (absent, "AccessionNumber ");
    if (h->series_number < 0)
      g_string_append (absent, "SeriesNumber ");
    if (h->instance_number < 0)
      g_string_append (absent, "InstanceNumber ");
    if (absent->len > 0)
      {
        g_strchomp (absent->str);
        add (r, CU_QC_MISSING_ATTRIBUTE, CU_QC_SEVERITY_WARNING, -1, NULL, h->path,
             g_strdup_printf (_("Type 2 attributes absent (they may be empty, not absent): %s"), absent->str));
      }
    g_string_free (absent, TRUE);
  }
}

static void
check_declared_count (CuQcReport *r, GPtrArray *images, const CuVolume *g)
{
  int declared = -1;

  for (guint i = 0; i < images->len; i++)
    declared = MAX (declared, ((const CuDicomHeader *) images->pdata[i])->images_in_acquisition);
  if (declared > 0 && g->dims[2] < declared)
    add (r, CU_QC_FEWER_THAN_DECLARED, CU_QC_SEVERITY_ERROR, -1, "ImagesInAcquisition", NULL,
         g_strdup_printf (_("The series has %d slice positions but ImagesInAcquisition declares %d: "
                            "%d images are missing"),
                          g->dims[2], declared, declared - g->dims[2]));
}

/* DCM-09: spacing measured from the positions against what the header says. */
static void
check_spacing_thickness (CuQcReport *r, const CuDicomHeader *h, const CuVolume *g)
{
  double normal[3], spacing;

  /* Distance between slice planes, along the normal (a sheared stack, e.g. gantry tilt,
   * steps further than its planes are apart). */
  cu_volume_get_normal (g, normal);
  spacing = g->spacing[2] * fabs (normal[0] * g->direction[2] + normal[1] * g->direction[5]
                                  + normal[2] * g->direction[8]);

  if (g->dims[2] < 2)
    return;
  if (h->slice_thickness > 0 && spacing - h->slice_thickness > THICKNESS_TOLERANCE)
    add (r, CU_QC_SPACING_THICKNESS, CU_QC_SEVERITY_WARNING, -1, "SliceThickness", h->path,
         g_strdup_printf (_("Gap of %.2f mm between slices: slices are %.2f mm apart but %.2f mm thick"),
                          spacing - h->slice_thickness, spacing, h->slice_thickness));
  else if (h->slice_thickness > 0 && h->slice_thickness - spacing > THICKNESS_TOLERANCE)
    add (r, CU_QC_SPACING_THICKNESS, CU_QC_SEVERITY_INFO, -1, "SliceThickness", h->path,
         g_strdup_printf (_("Slices overlap by %.2f mm: %.2f mm apart but %.2f mm thick"),
                          h->slice_thickness - spacing, spacing, h->slice_thickness));
  if (h->spacing_between_slices > 0
      && fabs (h->spacing_between_slices - spacing) > MAX (0.1, 0.05 * spacing))
    add (r, CU_QC_SPACING_DECLARED, CU_QC_SEVERITY_WARNING, -1, "SpacingBetweenSlices", h->path,
         g_strdup_printf (_("SpacingBetweenSlices says %.2f mm but the positions are %.2f mm apart"),
                          h->spacing_between_slices, spacing));
}

/* Sorted slice index of a file in the main stack, -1 if not there. */
static int
slice_of_path (CuSeriesPlan *plan, guint stack, const char *path)
{
  const CuVolume *g = cu_series_plan_get_geometry (plan, stack);

  if (path == NULL)
    return -1;
  for (int t = 0; t < g->dims[3]; t++)
    for (int k = 0; k < g->dims[2]; k++)
      {
        const char *p = cu_series_plan_get_source (plan, stack, (guint) k, (guint) t, NULL);
        if (p != NULL && strcmp (p, path) == 0)
          return k;
      }
  return -1;
}

/* The load failed on the first bad file: decode each file on its own to name all of them. */
static guint
find_undecodable (CuQcReport *r, CuSeriesPlan *plan, guint stack, GPtrArray *images,
                  GCancellable *cancellable)
{
  guint found = 0;

  for (guint i = 0; i < images->len; i++)
    {
      const CuDicomHeader *h = images->pdata[i];
      gsize n = (gsize) h->rows * h->columns * MAX (h->number_of_frames, 1);
      g_autofree float *buf = NULL;
      g_autoptr (GError) error = NULL;
      int slice;

      if (g_cancellable_is_cancelled (cancellable))
        return found;
      if (h->mosaic_images > 0 || n == 0)
        continue;
      buf = g_try_new (float, n);
      if (buf == NULL)
        continue;
      if (cu_dicom_read_frames_float (h, buf, n, &error))
        continue;
      slice = slice_of_path (plan, stack, h->path);
      {
        g_autofree char *base = g_path_get_basename (h->path);
        char *msg = slice >= 0
                    ? g_strdup_printf (_("The pixels of slice %d (%s) cannot be decoded: %s"),
                                       slice + 1, base, error->message)
                    : g_strdup_printf (_("The pixels of %s cannot be decoded: %s"), base, error->message);
        add (r, g_error_matches (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED)
                ? CU_PROBLEM_UNSUPPORTED : CU_PROBLEM_UNDECODABLE,
             CU_QC_SEVERITY_ERROR, slice, "PixelData", h->path, msg);
        found++;
      }
    }
  return found;
}

static char *
scanner_of (const CuDicomHeader *h)
{
  GString *s = g_string_new (NULL);

  if (!blank (h->manufacturer))
    g_string_append (s, h->manufacturer);
  if (!blank (h->manufacturer_model))
    g_string_append_printf (s, "%s%s", s->len ? " " : "", h->manufacturer_model);
  if (h->magnetic_field_strength > 0)
    g_string_append_printf (s, "%s%.3gT", s->len ? " " : "", h->magnetic_field_strength);
  if (s->len == 0)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

static void
set_parameter (CuQcReport *r, const char *name, double value)
{
  CuQcMetric m = { { 0 }, value };

  if (!isfinite (value))
    return;
  g_strlcpy (m.name, name, sizeof m.name);
  g_array_append_val (r->parameters, m);
}

/* HHMMSS.FFFFFF → seconds of the day, NaN if malformed. */
static double
tm_seconds (const char *tm)
{
  int h, m;
  double sec;

  if (tm == NULL || strlen (tm) < 6 || sscanf (tm, "%2d%2d", &h, &m) != 2)
    return NAN;
  sec = g_ascii_strtod (tm + 4, NULL);
  return h * 3600.0 + m * 60.0 + sec;
}

static int
compare_dbl (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

/* The parameters PI-RADS-style protocols check, measured as standards/
 * prostate_mpmri_protocol.md §3 says. */
static void
collect_parameters (CuQcReport *r, GPtrArray *images, CuSeriesPlan *plan, guint stack,
                    const CuDicomHeader *h0)
{
  const CuVolume *g = cu_series_plan_get_geometry (plan, stack);
  double normal[3], along, bmax = -1;
  const int *am = h0->acquisition_matrix;

  if (h0->slice_thickness > 0)
    set_parameter (r, CU_QC_P_THICKNESS, h0->slice_thickness);
  cu_volume_get_normal (g, normal);
  along = g->spacing[2] * fabs (normal[0] * g->direction[2] + normal[1] * g->direction[5]
                                + normal[2] * g->direction[8]);
  if (h0->slice_thickness > 0 && g->dims[2] > 1)
    set_parameter (r, CU_QC_P_GAP, MAX (0.0, along - h0->slice_thickness));
  set_parameter (r, CU_QC_P_PIXEL, MAX (g->spacing[0], g->spacing[1]));
  if (MAX (am[2], am[3]) > 0 && MAX (am[0], am[1]) > 0 && h0->phase_encoding_direction != NULL)
    {
      /* COL: phase runs down the columns (vertical): FOV_phase = Rows × row spacing */
      gboolean col = g_ascii_strcasecmp (h0->phase_encoding_direction, "COL") == 0;
      double fov_v = g->dims[1] * g->spacing[1], fov_h = g->dims[0] * g->spacing[0];
      set_parameter (r, CU_QC_P_ACQ_PHASE, (col ? fov_v : fov_h) / MAX (am[2], am[3]));
      set_parameter (r, CU_QC_P_ACQ_FREQ, (col ? fov_h : fov_v) / MAX (am[0], am[1]));
    }
  if (h0->echo_time >= 0)
    set_parameter (r, CU_QC_P_TE, h0->echo_time);
  if (h0->repetition_time >= 0)
    set_parameter (r, CU_QC_P_TR, h0->repetition_time);
  for (guint i = 0; i < images->len; i++)
    bmax = MAX (bmax, ((const CuDicomHeader *) images->pdata[i])->b_value);
  if (bmax >= 0)
    set_parameter (r, CU_QC_P_BMAX, bmax);
  if (g->dims[3] > 1)
    {
      g_autoptr (GHashTable) by_path = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr (GArray) times = g_array_new (FALSE, FALSE, sizeof (double));
      g_autoptr (GArray) steps = g_array_new (FALSE, FALSE, sizeof (double));

      set_parameter (r, CU_QC_P_PHASES, g->dims[3]);
      for (guint i = 0; i < images->len; i++)
        g_hash_table_insert (by_path, ((CuDicomHeader *) images->pdata[i])->path, images->pdata[i]);
      /* start times of the time points at the first slice position */
      for (int t = 0; t < g->dims[3]; t++)
        {
          const char *path = cu_series_plan_get_source (plan, stack, 0, (guint) t, NULL);
          const CuDicomHeader *h = path ? g_hash_table_lookup (by_path, path) : NULL;
          double sec = h ? tm_seconds (h->acquisition_time) : NAN;
          if (isfinite (sec))
            g_array_append_val (times, sec);
        }
      g_array_sort (times, compare_dbl);
      for (guint i = 1; i < times->len; i++)
        {
          double d = g_array_index (times, double, i) - g_array_index (times, double, i - 1);
          if (d > 0)
            g_array_append_val (steps, d);
        }
      if (steps->len > 0)
        {
          g_array_sort (steps, compare_dbl);
          set_parameter (r, CU_QC_P_TEMPORAL, g_array_index (steps, double, steps->len / 2));
        }
    }
}

/* Headers are read by a few threads: GDCM's parsing, not the disk, is the cost for a
 * series in the page cache. The first header is read alone so that the parser's one-time set-up
 * (its dictionaries) does not run in several threads at once, as cu-series-plan.c does. */
typedef struct
{
  const char *const *paths;
  CuDicomHeader **headers;
  GError **errors;
  GMutex lock;
  guint done, total;
  CuProgress *progress;
  GCancellable *cancellable;
} ReadResult;

static void
read_one (gpointer data, gpointer user_data)
{
  ReadResult *rr = user_data;
  guint i = GPOINTER_TO_UINT (data) - 1, done;

  if (g_cancellable_is_cancelled (rr->cancellable))
    return;
  rr->headers[i] = cu_dicom_header_read (rr->paths[i], &rr->errors[i]);
  g_mutex_lock (&rr->lock);
  done = ++rr->done;
  g_mutex_unlock (&rr->lock);
  cu_progress_report_count (rr->progress, done, rr->total * 2, _("Reading headers"));
}

static void
read_headers (const char *const *paths, guint n, ReadResult *rr, CuProgress *progress,
              GCancellable *cancellable)
{
  rr->paths = paths;
  rr->headers = g_new0 (CuDicomHeader *, MAX (n, 1));
  rr->errors = g_new0 (GError *, MAX (n, 1));
  rr->total = n;
  rr->progress = progress;
  rr->cancellable = cancellable;
  g_mutex_init (&rr->lock);
  if (n > 0)
    read_one (GUINT_TO_POINTER (1), rr);
  if (n > 1)
    {
      GThreadPool *pool = g_thread_pool_new (read_one, rr, CLAMP ((int) g_get_num_processors (), 2, 8),
                                             FALSE, NULL);
      for (guint i = 1; i < n; i++)
        g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  g_mutex_clear (&rr->lock);
}

static void
read_result_clear (ReadResult *rr, guint n)
{
  for (guint i = 0; rr->headers != NULL && i < n; i++)
    {
      g_clear_pointer (&rr->headers[i], cu_dicom_header_free);
      g_clear_error (&rr->errors[i]);
    }
  g_clear_pointer (&rr->headers, g_free);
  g_clear_pointer (&rr->errors, g_free);
}

CuQcReport *
cu_qc_check_files (const char *const *paths, CuProgress *progress, GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (CuQcReport) r = cu_qc_report_new ();
  g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicom_header_free);
  g_autoptr (GPtrArray) images = g_ptr_array_new ();   /* borrowed from headers */
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (GError) load_error = NULL;
  ReadResult read = { 0 };
  GPtrArray *problems;
  const CuDicomHeader *h0;
  const CuVolume *g;
  guint n, stack;
  double normal[3];

  g_return_val_if_fail (paths != NULL, NULL);
  n = g_strv_length ((char **) paths);
  read_headers (paths, n, &read, progress, cancellable);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      read_result_clear (&read, n);
      return NULL;
    }
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) local = g_steal_pointer (&read.errors[i]);
      CuDicomHeader *h = g_steal_pointer (&read.headers[i]);

      if (h == NULL)
        {
          g_autofree char *base = g_path_get_basename (paths[i]);
          add (r, CU_PROBLEM_UNREADABLE, CU_QC_SEVERITY_ERROR, -1, NULL, paths[i],
               g_strdup_printf (_("%s cannot be read: %s"), base, local->message));
          continue;
        }
      g_ptr_array_add (headers, h);
      if (h->has_pixels && h->rows > 0 && h->columns > 0)
        g_ptr_array_add (images, h);
    }
  read_result_clear (&read, n);
  if (images->len == 0)
    {
      g_set_error (error, CU_QC_ERROR, CU_QC_ERROR_INVALID,
                   _("The series has no images to check (no file carries pixel data)"));
      return NULL;
    }

  h0 = images->pdata[0];
  r->series_uid = g_strdup (h0->series_uid);
  r->modality = g_strdup (h0->modality);
  r->scanner = scanner_of (h0);

  check_type1 (r, images);
  check_constant (r, images);
  check_orientation (r, images);
  check_instance_duplicates (r, images);
  check_derived_mixed (r, images);
  check_uids (r, images);
  check_values (r, images);

  /* The plan takes the headers; images stays valid because the plan keeps them alive. */
  plan = cu_series_plan_new (g_steal_pointer (&headers), error);
  if (plan == NULL)
    return NULL;
  stack = cu_series_plan_get_main_stack (plan);
  g = cu_series_plan_get_geometry (plan, stack);
  r->stack_label = g_strdup (cu_series_plan_get_stack_label (plan, stack));
  cu_volume_get_normal (g, normal);
  r->plane = g_strdup (cu_qc_plane_of_normal (normal));
  r->sequence = g_strdup (cu_qc_classify_sequence (cu_qc_representative_image (images), g->dims[3]));
  {
    const CuDicomHeader *rep = cu_qc_representative_image (images);
    r->body_part = rep != NULL && rep->body_part != NULL ? g_strstrip (g_strdup (rep->body_part)) : NULL;
  }

  problems = cu_series_plan_get_problems (plan);
  for (guint i = 0; i < problems->len; i++)
    {
      const CuGeometryProblem *p = problems->pdata[i];
      CuQcSeverity sev = plan_severity (p->code);
      /* Only the main stack's slices are about the volume a curator sees. */
      int slice = (p->stack < 0 || (guint) p->stack == stack) ? p->slice : -1;
      if (g_str_equal (p->code, CU_PROBLEM_SPLIT_STACKS))
        sev = CU_QC_SEVERITY_WARNING;
      add (r, p->code, sev, slice, plan_attribute (p->code), p->path, g_strdup (p->message));
    }
  check_declared_count (r, images, g);
  check_spacing_thickness (r, h0, g);
  collect_parameters (r, images, plan, stack, h0);

  r->volume = cu_series_plan_load (plan, stack, NULL, cancellable, &load_error);
  cu_progress_report (progress, 0.9, _("Decoding images"));
  if (r->volume == NULL)
    {
      if (g_error_matches (load_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&load_error));
          return NULL;
        }
      if (find_undecodable (r, plan, stack, images, cancellable) == 0)
        add (r, CU_PROBLEM_UNDECODABLE, CU_QC_SEVERITY_ERROR, -1, "PixelData", NULL,
             g_strdup_printf (_("The images cannot be loaded: %s"), load_error->message));
    }
  cu_qc_report_sort (r);
  return g_steal_pointer (&r);
}

CuQcReport *
cu_qc_run_files (const char *const *paths, CuProgress *progress, GCancellable *cancellable,
                 GError **error)
{
  CuQcReport *r = cu_qc_check_files (paths, progress, cancellable, error);

  if (r == NULL)
    return NULL;
  if (r->volume != NULL)
    cu_qc_compute_metrics (r);
  cu_progress_report (progress, 1.0, NULL);
  return r;
}

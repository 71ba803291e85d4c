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
#include <string.h>

#include "cu-dicom-pixels.h"
#include "cu-qc-check.h"
#include "cu-qc-metrics.h"
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
      || g_str_equal (code, CU_PROBLEM_MISSING_GEOMETRY))
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

CuQcReport *
cu_qc_check_files (const char *const *paths, CuProgress *progress, GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (CuQcReport) r = cu_qc_report_new ();
  g_autoptr (GPtrArray) headers = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicom_header_free);
  g_autoptr (GPtrArray) images = g_ptr_array_new ();   /* borrowed from headers */
  g_autoptr (CuSeriesPlan) plan = NULL;
  g_autoptr (GError) load_error = NULL;
  GPtrArray *problems;
  const CuDicomHeader *h0;
  const CuVolume *g;
  guint n, stack;
  double normal[3];

  g_return_val_if_fail (paths != NULL, NULL);
  n = g_strv_length ((char **) paths);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) local = NULL;
      CuDicomHeader *h;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      h = cu_dicom_header_read (paths[i], &local);
      cu_progress_report_count (progress, i + 1, n * 2, _("Reading headers"));
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

  /* The plan takes the headers; images stays valid because the plan keeps them alive. */
  plan = cu_series_plan_new (g_steal_pointer (&headers), error);
  if (plan == NULL)
    return NULL;
  stack = cu_series_plan_get_main_stack (plan);
  g = cu_series_plan_get_geometry (plan, stack);
  r->stack_label = g_strdup (cu_series_plan_get_stack_label (plan, stack));
  cu_volume_get_normal (g, normal);
  r->plane = g_strdup (cu_qc_plane_of_normal (normal));
  r->sequence = g_strdup (cu_qc_classify_sequence (h0, g->dims[3]));

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

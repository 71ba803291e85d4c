/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-series-plan.c — sorting the frames of one DICOM series into volumes.
 *
 * Method. Every image frame (a single-frame file, one frame of a multi-frame object, one tile
 * of a Siemens mosaic) gets its own geometry: ImagePositionPatient (IPP), ImageOrientationPatient
 * (IOP), PixelSpacing. Frames are grouped into stacks by orientation, matrix and pixel spacing
 * (DICOM PS3.3 C.7.6.2.1.1: IPP/IOP define the plane of every image; nothing in the standard
 * says that a series is one volume). Inside a stack, frames are ordered by the signed distance
 * of IPP along the slice normal n = row × column, the only ordering the standard guarantees to
 * be spatial (InstanceNumber is not: PS3.3 C.7.6.1.1.1). Frames sharing a position are the
 * fourth dimension when every position has the same number of them, ordered by the temporal
 * attributes, as dcm2niix does (Li, Morgan, Ashburner, Smith, Rorden, "The first step for
 * neuroimaging data analysis: DICOM to NIfTI conversion", J Neurosci Methods 264:47–56, 2016,
 * doi:10.1016/j.jneumeth.2016.03.001). The slice axis of the resulting grid is the vector
 * from the first to the last slice divided by the slice count minus one, which makes the
 * affine exact even for a tilted gantry (a sheared grid), and identical to dcm2niix's.
 *
 * Siemens mosaics: the Rows×Columns image holds ceil(√n)² tiles of (Rows/ceil(√n)) ×
 * (Columns/ceil(√n)) pixels, n = NumberOfImagesInMosaic. The IPP of a mosaic is the corner of
 * the whole mosaic seen as one large image, so the first tile's centre is shifted by half the
 * difference of the mosaic and tile sizes along the row and column directions (the correction
 * of dcm2niix, nii_dicom.c); the tiles follow each other along the CSA SliceNormalVector at
 * SpacingBetweenSlices (or SliceThickness).
 */
#include "config.h"

#include <float.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-dicom-pixels.h"
#include "cu-dicom-walk.h"
#include "cu-series-plan.h"
#include "cu-volume-error.h"
#include "cu-regrid.h"

/* Orientation cosines equal within 1e-3 (≈ 0.06°): scanners write IOP with 5–16 digits, and
 * truly different orientations differ by far more. */
#define ORIENTATION_TOLERANCE 1e-3
/* Two frames are at the same position when their projections differ by less than this (mm):
 * IPP is written with about 3 decimals by most vendors. */
#define POSITION_TOLERANCE 0.02
/* A step this much larger than the median step is a gap (missing slices). */
#define GAP_FACTOR 1.5
/* Slice axis deviating from the normal by more than this (radians, ≈ 0.01°) is sheared. */
#define TILT_TOLERANCE 1.7e-4

typedef struct
{
  CuDicomHeader *header;   /* owned by the plan's headers array */
  guint header_index;
  guint frame;             /* frame index in the file */
  int tile;                /* mosaic tile index, -1 if not a mosaic */
  int grid;                /* tiles per mosaic row (ceil √n), 0 if not a mosaic */
  int rows, columns;       /* size of this slice (the tile for mosaics) */
  gboolean has_geometry;
  double position[3];
  double orientation[6];
  double pixel_spacing[2]; /* row spacing, column spacing */
  double slope, intercept;
  double proj;             /* position along the stack normal */
  gboolean localizer;
} PlanFrame;

typedef struct
{
  GPtrArray *frames;       /* PlanFrame *, sorted so that index = t·nz + k */
  CuVolume *geometry;
  char *label;
  gboolean localizer;
  gboolean missing_geometry;
} PlanStack;

struct _CuSeriesPlan
{
  GPtrArray *headers;      /* CuDicomHeader * */
  PlanFrame *frames;
  guint n_frames;
  GPtrArray *stacks;       /* PlanStack * */
  GPtrArray *problems;     /* CuGeometryProblem * */
  char **invalid;          /* per header: why its values cannot make voxels, or NULL */
};

/* ---- small vector helpers ---------------------------------------------------------------- */

static double
dot3 (const double a[3], const double b[3])
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static void
cross3 (const double a[3], const double b[3], double out[3])
{
  out[0] = a[1] * b[2] - a[2] * b[1];
  out[1] = a[2] * b[0] - a[0] * b[2];
  out[2] = a[0] * b[1] - a[1] * b[0];
}

static double
norm3 (const double a[3])
{
  return sqrt (dot3 (a, a));
}

static void
frame_normal (const PlanFrame *f, double n[3])
{
  double len;

  cross3 (f->orientation, f->orientation + 3, n);
  len = norm3 (n);
  if (len > 0)
    for (int r = 0; r < 3; r++)
      n[r] /= len;
}

/* ---- problems ---------------------------------------------------------------------------- */

static void
problem_free (gpointer data)
{
  CuGeometryProblem *p = data;

  g_free (p->code);
  g_free (p->message);
  g_free (p->path);
  g_free (p);
}

static void
add_problem (CuSeriesPlan *plan, const char *code, int stack, int slice, const char *path,
             char *message /* owned */)
{
  CuGeometryProblem *p = g_new0 (CuGeometryProblem, 1);

  p->code = g_strdup (code);
  p->message = message;
  p->stack = stack;
  p->slice = slice;
  p->path = g_strdup (path);
  g_ptr_array_add (plan->problems, p);
}

/* ---- frames ------------------------------------------------------------------------------ */

static gboolean
image_type_has (const char *image_type, const char *value)
{
  g_auto (GStrv) parts = NULL;

  if (image_type == NULL)
    return FALSE;
  parts = g_strsplit (image_type, "\\", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (parts[i]), value) == 0)
      return TRUE;
  return FALSE;
}

static void
fill_frame_geometry (PlanFrame *f, const CuDicomHeader *h, guint frame)
{
  const CuDicomFrame *pf = (h->frames != NULL && frame < h->n_frames) ? &h->frames[frame] : NULL;
  gboolean has_pos = FALSE, has_orient = FALSE;

  /* Per-frame functional groups win over the top level, which enhanced objects lack. */
  if (pf != NULL && pf->has_position)
    {
      memcpy (f->position, pf->position, sizeof f->position);
      has_pos = TRUE;
    }
  else if (h->has_position)
    {
      memcpy (f->position, h->position, sizeof f->position);
      has_pos = TRUE;
    }
  if (pf != NULL && pf->has_orientation)
    {
      memcpy (f->orientation, pf->orientation, sizeof f->orientation);
      has_orient = TRUE;
    }
  else if (h->has_orientation)
    {
      memcpy (f->orientation, h->orientation, sizeof f->orientation);
      has_orient = TRUE;
    }
  if (pf != NULL && pf->has_spacing)
    memcpy (f->pixel_spacing, pf->pixel_spacing, sizeof f->pixel_spacing);
  else if (h->has_spacing)
    memcpy (f->pixel_spacing, h->pixel_spacing, sizeof f->pixel_spacing);
  else
    f->pixel_spacing[0] = f->pixel_spacing[1] = 1.0;
  if (!(f->pixel_spacing[0] > 0) || !(f->pixel_spacing[1] > 0))
    f->pixel_spacing[0] = f->pixel_spacing[1] = 1.0;

  if (pf != NULL && h->n_frames > 1)
    {
      f->slope = pf->rescale_slope;
      f->intercept = pf->rescale_intercept;
    }
  else
    {
      f->slope = h->rescale_slope;
      f->intercept = h->rescale_intercept;
    }
  if (f->slope == 0 || !isfinite (f->slope))
    f->slope = 1.0;
  if (!isfinite (f->intercept))
    f->intercept = 0.0;

  if (!has_orient)
    {
      static const double identity[6] = { 1, 0, 0, 0, 1, 0 };
      memcpy (f->orientation, identity, sizeof identity);
    }
  else
    {
      /* Normalise the cosines: a few writers store them with 5 digits. */
      for (int v = 0; v < 2; v++)
        {
          double len = norm3 (f->orientation + 3 * v);
          if (len > 0)
            for (int r = 0; r < 3; r++)
              f->orientation[3 * v + r] /= len;
          else
            has_orient = FALSE;
        }
    }
  f->has_geometry = has_pos && has_orient;
}

/* The header values of frame `frame` that no volume can be built from, checked before any of
 * them is used for arithmetic: returns why (translated, newly allocated), or NULL. The
 * geometry fallbacks of fill_frame_geometry are for absent attributes; present but invalid
 * ones (a hostile or broken writer) make the frame unusable instead of silently "repaired". */
static char *
frame_value_problem (const CuDicomHeader *h, guint frame)
{
  const CuDicomFrame *pf = (h->frames != NULL && frame < h->n_frames) ? &h->frames[frame] : NULL;
  double slope, icpt, lo, hi;
  int bits = CLAMP (h->bits_allocated, 1, 32);

  if (h->nonfinite_attribute != NULL)
    return g_strdup_printf (_("%s holds NaN or an infinite number"), h->nonfinite_attribute);

  /* Rescale: every stored value the sample size allows (Bits Allocated: JPEG 2000 samples
   * are not masked to Bits Stored) must stay a finite float after value·slope + intercept. */
  slope = pf != NULL && h->n_frames > 1 ? pf->rescale_slope : h->rescale_slope;
  icpt = pf != NULL && h->n_frames > 1 ? pf->rescale_intercept : h->rescale_intercept;
  if (h->pixel_representation == 1 && bits > 1)
    {
      lo = -ldexp (1.0, bits - 1);
      hi = ldexp (1.0, bits - 1) - 1;
    }
  else
    {
      lo = 0;
      hi = ldexp (1.0, bits) - 1;
    }
  if (!isfinite (slope) || !isfinite (icpt) || fabs (slope * lo + icpt) > FLT_MAX
      || fabs (slope * hi + icpt) > FLT_MAX)
    return g_strdup_printf (_("RescaleSlope %g and RescaleIntercept %g take %d-bit stored values "
                              "beyond the range of 32-bit floating point"),
                            slope, icpt, bits);

  gboolean has_spacing = (pf != NULL && pf->has_spacing) || h->has_spacing;
  const double *ps = pf != NULL && pf->has_spacing ? pf->pixel_spacing : h->pixel_spacing;
  if (has_spacing && !(isfinite (ps[0]) && isfinite (ps[1]) && ps[0] > 0 && ps[1] > 0))
    return g_strdup_printf (_("PixelSpacing %g\\%g is not a positive distance"), ps[0], ps[1]);

  gboolean has_orient = (pf != NULL && pf->has_orientation) || h->has_orientation;
  const double *o = pf != NULL && pf->has_orientation ? pf->orientation : h->orientation;
  if (has_orient)
    {
      double n[3], a = norm3 (o), b = norm3 (o + 3);
      gboolean finite = TRUE;
      for (int i = 0; i < 6; i++)
        finite = finite && isfinite (o[i]);
      cross3 (o, o + 3, n);
      /* Row and column cosines must be two non-zero, non-parallel vectors (sin > 0.01), or
       * the slice normal — and the affine — is undefined. */
      if (!finite || !(a > 1e-6) || !(b > 1e-6) || !(norm3 (n) > 0.01 * a * b))
        return g_strdup_printf (_("ImageOrientationPatient %g\\%g\\%g\\%g\\%g\\%g does not "
                                  "define a plane (zero or parallel direction vectors)"),
                                o[0], o[1], o[2], o[3], o[4], o[5]);
    }
  return NULL;
}

static double
mosaic_slice_step (const CuDicomHeader *h)
{
  if (h->spacing_between_slices > 0)
    return h->spacing_between_slices;
  if (h->slice_thickness > 0)
    return h->slice_thickness;
  return 1.0;
}

static void
expand_frames (CuSeriesPlan *plan, GArray *out)
{
  for (guint hi = 0; hi < plan->headers->len; hi++)
    {
      CuDicomHeader *h = g_ptr_array_index (plan->headers, hi);
      gboolean localizer;
      guint n;

      if (h == NULL || !h->has_pixels || h->rows <= 0 || h->columns <= 0)
        continue;
      localizer = image_type_has (h->image_type, "LOCALIZER");
      n = h->number_of_frames > 1 ? (guint) h->number_of_frames : 1;

      if (h->mosaic_images > 0 && n == 1)
        {
          int grid = (int) ceil (sqrt ((double) h->mosaic_images));
          PlanFrame base = { 0 };
          double normal[3], shift_c, shift_r, step;

          if (h->rows % grid != 0 || h->columns % grid != 0)
            grid = 0;
          if (grid > 0)
            {
              base.header = h;
              base.header_index = hi;
              base.grid = grid;
              base.rows = h->rows / grid;
              base.columns = h->columns / grid;
              base.localizer = localizer;
              fill_frame_geometry (&base, h, 0);
              if (h->has_csa_normal && norm3 (h->csa_slice_normal) > 0)
                {
                  double len = norm3 (h->csa_slice_normal);
                  for (int r = 0; r < 3; r++)
                    normal[r] = h->csa_slice_normal[r] / len;
                }
              else
                frame_normal (&base, normal);
              /* IPP is the corner of the whole mosaic: move to the first tile's corner. */
              shift_c = (h->columns - base.columns) / 2.0 * base.pixel_spacing[1];
              shift_r = (h->rows - base.rows) / 2.0 * base.pixel_spacing[0];
              for (int r = 0; r < 3; r++)
                base.position[r] += base.orientation[r] * shift_c + base.orientation[3 + r] * shift_r;
              step = mosaic_slice_step (h);
              for (int t = 0; t < h->mosaic_images; t++)
                {
                  PlanFrame f = base;
                  f.tile = t;
                  for (int r = 0; r < 3; r++)
                    f.position[r] = base.position[r] + normal[r] * step * t;
                  g_array_append_val (out, f);
                }
              continue;
            }
        }

      for (guint fi = 0; fi < n; fi++)
        {
          PlanFrame f = { 0 };
          f.header = h;
          f.header_index = hi;
          f.frame = fi;
          f.tile = -1;
          f.rows = h->rows;
          f.columns = h->columns;
          f.localizer = localizer;
          fill_frame_geometry (&f, h, fi);
          g_array_append_val (out, f);
        }
    }
}

/* ---- grouping ---------------------------------------------------------------------------- */

static gboolean
same_orientation (const double a[6], const double b[6])
{
  for (int i = 0; i < 6; i++)
    if (fabs (a[i] - b[i]) > ORIENTATION_TOLERANCE)
      return FALSE;
  return TRUE;
}

static gboolean
same_group (const PlanFrame *a, const PlanFrame *b)
{
  if (a->localizer != b->localizer || a->rows != b->rows || a->columns != b->columns
      || a->has_geometry != b->has_geometry)
    return FALSE;
  if ((a->grid > 0) != (b->grid > 0))
    return FALSE;
  for (int i = 0; i < 2; i++)
    if (fabs (a->pixel_spacing[i] - b->pixel_spacing[i]) > 1e-3 * MAX (a->pixel_spacing[i], 1e-6))
      return FALSE;
  if (a->has_geometry && !same_orientation (a->orientation, b->orientation))
    return FALSE;
  return TRUE;
}

/* Order of frames sharing a position (the 4th dimension). dcm2niix orders volumes by
 * acquisition; the attributes below are tried from the most to the least specific, and a
 * missing value (negative) compares equal so that the next attribute decides. */
static int
compare_temporal (const PlanFrame *a, const PlanFrame *b)
{
  const CuDicomHeader *ha = a->header, *hb = b->header;
  int ta = 0, tb = 0;

  if (ha->frames != NULL && a->frame < ha->n_frames)
    ta = ha->frames[a->frame].temporal_index;
  if (hb->frames != NULL && b->frame < hb->n_frames)
    tb = hb->frames[b->frame].temporal_index;
  if (ta > 0 && tb > 0 && ta != tb)
    return ta < tb ? -1 : 1;
  if (ha->temporal_position >= 0 && hb->temporal_position >= 0
      && ha->temporal_position != hb->temporal_position)
    return ha->temporal_position < hb->temporal_position ? -1 : 1;
  if (ha->acquisition_number >= 0 && hb->acquisition_number >= 0
      && ha->acquisition_number != hb->acquisition_number)
    return ha->acquisition_number < hb->acquisition_number ? -1 : 1;
  if (ha->trigger_time >= 0 && hb->trigger_time >= 0 && ha->trigger_time != hb->trigger_time)
    return ha->trigger_time < hb->trigger_time ? -1 : 1;
  if (ha->acquisition_time != NULL && hb->acquisition_time != NULL
      && *ha->acquisition_time && *hb->acquisition_time)
    {
      double xa = g_ascii_strtod (ha->acquisition_time, NULL);
      double xb = g_ascii_strtod (hb->acquisition_time, NULL);
      if (xa != xb)
        return xa < xb ? -1 : 1;
    }
  if (ha->instance_number >= 0 && hb->instance_number >= 0
      && ha->instance_number != hb->instance_number)
    return ha->instance_number < hb->instance_number ? -1 : 1;
  if (a->header_index != b->header_index)
    return a->header_index < b->header_index ? -1 : 1;
  if (a->frame != b->frame)
    return a->frame < b->frame ? -1 : 1;
  return a->tile < b->tile ? -1 : a->tile > b->tile;
}

static int
compare_by_projection (gconstpointer pa, gconstpointer pb)
{
  const PlanFrame *a = *(PlanFrame *const *) pa;
  const PlanFrame *b = *(PlanFrame *const *) pb;

  /* Strict (transitive) order here; frames within POSITION_TOLERANCE of each other are
   * grouped afterwards and ordered in time by compare_temporal. */
  if (a->proj != b->proj)
    return a->proj < b->proj ? -1 : 1;
  return compare_temporal (a, b);
}

static int
compare_temporal_cb (gconstpointer pa, gconstpointer pb)
{
  return compare_temporal (*(PlanFrame *const *) pa, *(PlanFrame *const *) pb);
}

/* Without usable geometry the only order left is the acquisition/instance order. */
static int
compare_without_geometry (gconstpointer pa, gconstpointer pb)
{
  const PlanFrame *a = *(PlanFrame *const *) pa;
  const PlanFrame *b = *(PlanFrame *const *) pb;
  const CuDicomHeader *ha = a->header, *hb = b->header;

  if (ha->instance_number != hb->instance_number)
    return ha->instance_number < hb->instance_number ? -1 : 1;
  if (a->header_index != b->header_index)
    return a->header_index < b->header_index ? -1 : 1;
  if (a->frame != b->frame)
    return a->frame < b->frame ? -1 : 1;
  return a->tile < b->tile ? -1 : a->tile > b->tile;
}

static void
stack_free (gpointer data)
{
  PlanStack *s = data;

  g_ptr_array_unref (s->frames);
  if (s->geometry != NULL)
    cu_volume_unref (s->geometry);
  g_free (s->label);
  g_free (s);
}

static const char *
frame_path (const PlanFrame *f)
{
  return f->header->path;
}

static const char *
orientation_name (const double normal[3])
{
  double ax = fabs (normal[0]), ay = fabs (normal[1]), az = fabs (normal[2]);
  double m = MAX (ax, MAX (ay, az));

  /* cos 35° ≈ 0.82: beyond that the plane is closer to oblique than to any cardinal plane */
  if (m < 0.82)
    return _("oblique");
  if (m == az)
    return m > 0.99 ? _("axial") : _("oblique axial");
  if (m == ay)
    return m > 0.99 ? _("coronal") : _("oblique coronal");
  return m > 0.99 ? _("sagittal") : _("oblique sagittal");
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static CuPixelType
stored_type_of (const CuDicomHeader *h)
{
  if (h->samples_per_pixel > 1)
    return CU_PIXEL_FLOAT32;   /* colour is converted to (non-integer) luminance */
  switch (h->bits_allocated)
    {
    case 8: return h->pixel_representation ? CU_PIXEL_INT8 : CU_PIXEL_UINT8;
    case 16: return h->pixel_representation ? CU_PIXEL_INT16 : CU_PIXEL_UINT16;
    case 32: return h->pixel_representation ? CU_PIXEL_INT32 : CU_PIXEL_UINT32;
    default: return CU_PIXEL_FLOAT32;
    }
}

/* Build the geometry of a group of frames: order, repeats, spacing, problems. */
static PlanStack *
build_stack (CuSeriesPlan *plan, GPtrArray *group, int stack_index)
{
  PlanStack *s = g_new0 (PlanStack, 1);
  PlanFrame *first = g_ptr_array_index (group, 0);
  g_autoptr (GArray) starts = g_array_new (FALSE, FALSE, sizeof (guint));  /* cluster starts */
  g_autoptr (GArray) counts = g_array_new (FALSE, FALSE, sizeof (guint));
  double normal[3], col2[3] = { 0 }, spacing_z = 1.0;
  guint nz, nt, min_count = G_MAXUINT, max_count = 0;
  gboolean slope_differs = FALSE, rescaled = FALSE, integer_rescale = TRUE;
  CuVolume *g;

  s->localizer = first->localizer;
  s->missing_geometry = !first->has_geometry;
  s->frames = g_ptr_array_new ();
  frame_normal (first, normal);

  for (guint i = 0; i < group->len; i++)
    {
      PlanFrame *f = g_ptr_array_index (group, i);
      f->proj = dot3 (f->position, normal);
    }
  g_ptr_array_sort (group, s->missing_geometry ? compare_without_geometry : compare_by_projection);

  /* Clusters of equal position. */
  for (guint i = 0; i < group->len; i++)
    {
      PlanFrame *f = g_ptr_array_index (group, i);
      if (s->missing_geometry || i == 0
          || fabs (f->proj - ((PlanFrame *) g_ptr_array_index (group, i - 1))->proj) >= POSITION_TOLERANCE)
        {
          guint one = 1;
          g_array_append_val (starts, i);
          g_array_append_val (counts, one);
        }
      else
        g_array_index (counts, guint, counts->len - 1)++;
    }
  nz = starts->len;
  for (guint k = 0; k < nz; k++)
    {
      guint c = g_array_index (counts, guint, k);
      min_count = MIN (min_count, c);
      max_count = MAX (max_count, c);
      /* Within one position, time order (positions may jitter by rounding across volumes). */
      if (c > 1)
        qsort (group->pdata + g_array_index (starts, guint, k), c, sizeof (gpointer), compare_temporal_cb);
    }

  if (min_count == max_count)
    nt = min_count;
  else
    {
      /* Decide what the majority looks like: mostly single positions with a few repeats are
       * duplicates; mostly repeated positions with some short are an incomplete 4D series. */
      guint n_single = 0;
      for (guint k = 0; k < nz; k++)
        if (g_array_index (counts, guint, k) == 1)
          n_single++;
      nt = min_count;
      if (n_single * 2 >= nz)
        {
          for (guint k = 0; k < nz; k++)
            {
              guint c = g_array_index (counts, guint, k);
              PlanFrame *f0 = g_ptr_array_index (group, g_array_index (starts, guint, k));
              GString *files;
              if (c <= 1)
                continue;
              files = g_string_new (NULL);
              for (guint j = 1; j < c; j++)
                {
                  PlanFrame *fj = g_ptr_array_index (group, g_array_index (starts, guint, k) + j);
                  if (files->len > 0)
                    g_string_append (files, ", ");
                  g_string_append (files, frame_path (fj) ? frame_path (fj) : "?");
                }
              add_problem (plan, CU_PROBLEM_DUPLICATE_POSITION, stack_index, (int) k, frame_path (f0),
                           g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                         "Slice %u: %u images at the same position; using the first (%s), ignoring %s",
                                                         "Slice %u: %u images at the same position; using the first (%s), ignoring %s",
                                                         c),
                                            k + 1, c, frame_path (f0) ? frame_path (f0) : "?", files->str));
              g_string_free (files, TRUE);
            }
        }
      else
        {
          GString *slices = g_string_new (NULL);
          for (guint k = 0; k < nz; k++)
            if (g_array_index (counts, guint, k) != max_count)
              g_string_append_printf (slices, "%s%u (%u)", slices->len ? ", " : "", k + 1,
                                      g_array_index (counts, guint, k));
          add_problem (plan, CU_PROBLEM_UNEQUAL_REPEATS, stack_index, -1, NULL,
                       g_strdup_printf (_("Positions repeat unequally: most slices have %u images but slices %s "
                                          "have fewer (images per slice in brackets); only %u complete volumes are used"),
                                        max_count, slices->str, min_count));
          g_string_free (slices, TRUE);
        }
    }

  /* Sorted frames: index t·nz + k. */
  for (guint t = 0; t < nt; t++)
    for (guint k = 0; k < nz; k++)
      g_ptr_array_add (s->frames, g_ptr_array_index (group, g_array_index (starts, guint, k) + t));

  /* Slice axis. */
  if (s->missing_geometry)
    {
      double step = mosaic_slice_step (first->header);
      memcpy (col2, normal, sizeof col2);
      spacing_z = step;
    }
  else if (nz == 1)
    {
      const CuDicomHeader *h = first->header;
      memcpy (col2, normal, sizeof col2);
      spacing_z = h->spacing_between_slices > 0 ? h->spacing_between_slices
                  : h->slice_thickness > 0 ? h->slice_thickness : 1.0;
    }
  else
    {
      const PlanFrame *a = g_ptr_array_index (s->frames, 0);
      const PlanFrame *b = g_ptr_array_index (s->frames, nz - 1);
      double v[3], along, lateral[3], lat, angle, median;
      g_autofree double *steps = g_new (double, nz - 1);
      g_autofree double *sorted_steps = NULL;
      gboolean nonuniform = FALSE;
      double min_step = G_MAXDOUBLE, max_step = 0;

      for (int r = 0; r < 3; r++)
        v[r] = (b->position[r] - a->position[r]) / (double) (nz - 1);
      along = dot3 (v, normal);
      for (int r = 0; r < 3; r++)
        lateral[r] = v[r] - along * normal[r];
      lat = norm3 (lateral);
      angle = atan2 (lat, fabs (along));
      if (angle < TILT_TOLERANCE)
        {
          /* Parallel to the normal up to rounding of IPP: keep the grid orthogonal. */
          for (int r = 0; r < 3; r++)
            col2[r] = along >= 0 ? normal[r] : -normal[r];
          spacing_z = fabs (along);
        }
      else
        {
          spacing_z = norm3 (v);
          for (int r = 0; r < 3; r++)
            col2[r] = v[r] / spacing_z;
          add_problem (plan, CU_PROBLEM_GANTRY_TILT, stack_index, -1, NULL,
                       g_strdup_printf (_("Slices are stacked at %.1f° from their normal (gantry tilt %.1f°): "
                                          "the volume is a sheared grid, exact in patient coordinates but "
                                          "not rectangular"),
                                        angle * 180.0 / G_PI,
                                        first->header->gantry_tilt != 0 ? first->header->gantry_tilt
                                                                        : angle * 180.0 / G_PI));
        }

      /* Distances between consecutive slices, measured along the stacking direction. */
      for (guint k = 0; k + 1 < nz; k++)
        {
          const PlanFrame *p = g_ptr_array_index (s->frames, k);
          const PlanFrame *q = g_ptr_array_index (s->frames, k + 1);
          double d[3];
          for (int r = 0; r < 3; r++)
            d[r] = q->position[r] - p->position[r];
          steps[k] = fabs (dot3 (d, col2));
        }
      sorted_steps = g_memdup2 (steps, sizeof (double) * (nz - 1));
      qsort (sorted_steps, nz - 1, sizeof (double), compare_double);
      median = sorted_steps[(nz - 1) / 2];
      for (guint k = 0; k + 1 < nz; k++)
        {
          double tol = MAX (0.01, 0.01 * median);
          double ratio = median > 0 ? steps[k] / median : 0;
          gboolean isolated = (k == 0 || steps[k - 1] <= GAP_FACTOR * median)
                              && (k + 2 >= nz || steps[k + 1] <= GAP_FACTOR * median);
          /* Missing slices leave a step of about a whole multiple of the spacing, or a lone
           * large step; a run of equal 1.8× steps is a second spacing zone (CT protocols),
           * not missing slices, and is reported as non-uniform spacing instead. */
          if (ratio > GAP_FACTOR && (fabs (ratio - round (ratio)) < 0.2 || isolated))
            {
              int missing = (int) lround (ratio) - 1;
              const PlanFrame *q = g_ptr_array_index (s->frames, k + 1);
              if (missing == 1)
                add_problem (plan, CU_PROBLEM_GAP, stack_index, (int) k + 1, frame_path (q),
                             g_strdup_printf (_("Slice missing between slices %u and %u: gap of %.1f mm "
                                                "where spacing is %.1f mm"),
                                              k + 1, k + 2, steps[k], median));
              else
                add_problem (plan, CU_PROBLEM_GAP, stack_index, (int) k + 1, frame_path (q),
                             g_strdup_printf (_("About %d slices missing between slices %u and %u: gap of "
                                                "%.1f mm where spacing is %.1f mm"),
                                              missing, k + 1, k + 2, steps[k], median));
            }
          else if (fabs (steps[k] - median) > tol)
            nonuniform = TRUE;
          min_step = MIN (min_step, steps[k]);
          max_step = MAX (max_step, steps[k]);
        }
      if (nonuniform)
        add_problem (plan, CU_PROBLEM_NONUNIFORM_SPACING, stack_index, -1, NULL,
                     g_strdup_printf (_("Slice spacing varies from %.2f mm to %.2f mm (median %.2f mm); "
                                        "the volume assumes an even %.2f mm"),
                                      min_step, max_step, median, spacing_z));
      if (spacing_z < 1e-6)
        spacing_z = median > 0 ? median : 1.0;
    }

  /* Rescale and stored type. */
  for (guint i = 0; i < s->frames->len; i++)
    {
      const PlanFrame *f = g_ptr_array_index (s->frames, i);
      if (f->slope != first->slope || f->intercept != first->intercept)
        slope_differs = TRUE;
      if (f->slope != 1.0 || f->intercept != 0.0)
        rescaled = TRUE;
      if (f->slope != floor (f->slope) || f->intercept != floor (f->intercept))
        integer_rescale = FALSE;
    }

  g = cu_volume_new (first->columns, first->rows, (int) nz, (int) nt, FALSE, NULL);
  if (g == NULL)
    g = cu_volume_new (1, 1, 1, 1, FALSE, NULL);
  g->spacing[0] = first->pixel_spacing[1];
  g->spacing[1] = first->pixel_spacing[0];
  g->spacing[2] = spacing_z;
  memcpy (g->origin, ((PlanFrame *) g_ptr_array_index (s->frames, 0))->position, sizeof g->origin);
  for (int r = 0; r < 3; r++)
    {
      g->direction[r * 3 + 0] = first->orientation[r];
      g->direction[r * 3 + 1] = first->orientation[3 + r];
      g->direction[r * 3 + 2] = col2[r];
    }
  if (s->missing_geometry)
    {
      /* No position at all: centre the grid on the origin, as dcm2niix does, so that the
       * arbitrary placement is at least the same in both tools. */
      double centre[3] = { (g->dims[0] - 1) / 2.0, (g->dims[1] - 1) / 2.0, (g->dims[2] - 1) / 2.0 };
      memset (g->origin, 0, sizeof g->origin);
      for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++)
          g->origin[r] -= g->direction[r * 3 + c] * g->spacing[c] * centre[c];
    }
  g->stored_type = (slope_differs || !integer_rescale) ? CU_PIXEL_FLOAT32 : stored_type_of (first->header);
  g->bits_stored = first->header->bits_stored;
  g->rescaled = rescaled;
  g->modality = g_strdup (first->header->modality);
  g->series_uid = g_strdup (first->header->series_uid);
  s->geometry = g;

  {
    g_autofree char *slices = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u slice", "%u slices", nz), nz);
    const char *what = s->localizer ? _("localizer")
                       : s->missing_geometry ? _("no geometry")
                       : orientation_name (normal);
    if (nt > 1)
      {
        g_autofree char *vols = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u volume", "%u volumes", nt), nt);
        /* TRANSLATORS: e.g. "axial, 15 slices × 10 volumes" */
        s->label = g_strdup_printf (_("%s, %s × %s"), what, slices, vols);
      }
    else
      /* TRANSLATORS: e.g. "sagittal, 196 slices" */
      s->label = g_strdup_printf (_("%s, %s"), what, slices);
  }
  return s;
}

/* InstanceNumber holes over the whole series (they often mean files were not copied). */
static void
check_instance_numbers (CuSeriesPlan *plan)
{
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (double));
  GString *missing;
  guint n_missing = 0;
  double prev;

  for (guint i = 0; i < plan->headers->len; i++)
    {
      CuDicomHeader *h = g_ptr_array_index (plan->headers, i);
      double v;
      if (h == NULL || !h->has_pixels || h->instance_number < 0)
        continue;
      v = h->instance_number;
      g_array_append_val (numbers, v);
    }
  if (numbers->len < 2)
    return;
  g_array_sort (numbers, compare_double);
  missing = g_string_new (NULL);
  prev = g_array_index (numbers, double, 0);
  for (guint i = 1; i < numbers->len; i++)
    {
      double v = g_array_index (numbers, double, i);
      if (v > prev + 1)
        {
          int a = (int) prev + 1, b = (int) v - 1;
          n_missing += (guint) (b - a + 1);
          if (missing->len < 200)
            {
              if (a == b)
                g_string_append_printf (missing, "%s%d", missing->len ? ", " : "", a);
              else
                g_string_append_printf (missing, "%s%d–%d", missing->len ? ", " : "", a, b);
            }
        }
      prev = v;
    }
  if (n_missing > 0)
    add_problem (plan, CU_PROBLEM_INSTANCE_GAP, -1, -1, NULL,
                 g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                               "Instance number %s is missing: the series may be incomplete",
                                               "Instance numbers %s are missing: the series may be incomplete",
                                               n_missing),
                                  missing->str));
  g_string_free (missing, TRUE);
}

CuSeriesPlan *
cu_series_plan_new (GPtrArray *headers, GError **error)
{
  g_autoptr (CuSeriesPlan) plan = g_new0 (CuSeriesPlan, 1);
  g_autoptr (GArray) frames = g_array_new (FALSE, TRUE, sizeof (PlanFrame));
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  guint largest = 0, n_main = 0;

  g_return_val_if_fail (headers != NULL, NULL);
  plan->headers = headers;
  plan->stacks = g_ptr_array_new_with_free_func (stack_free);
  plan->problems = g_ptr_array_new_with_free_func (problem_free);

  expand_frames (plan, frames);
  if (frames->len == 0)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The series has no images (no file carries pixel data)"));
      return NULL;
    }
  plan->n_frames = frames->len;
  plan->frames = (PlanFrame *) g_array_free (g_steal_pointer (&frames), FALSE);

  /* Header values no volume can be built from: reported once per file here, and the stacks
   * holding such a file refuse to load (cu_series_plan_load). */
  plan->invalid = g_new0 (char *, headers->len + 1);
  for (guint i = 0; i < plan->n_frames; i++)
    {
      PlanFrame *f = &plan->frames[i];
      if (plan->invalid[f->header_index] != NULL)
        continue;
      plan->invalid[f->header_index] = frame_value_problem (f->header, f->frame);
      if (plan->invalid[f->header_index] != NULL)
        add_problem (plan, CU_PROBLEM_INVALID_VALUE, -1, -1, frame_path (f),
                     g_strdup_printf (_("Invalid header values: %s"),
                                      plan->invalid[f->header_index]));
    }

  /* Group. */
  for (guint i = 0; i < plan->n_frames; i++)
    {
      PlanFrame *f = &plan->frames[i];
      GPtrArray *found = NULL;
      for (guint g = 0; g < groups->len && found == NULL; g++)
        {
          GPtrArray *grp = g_ptr_array_index (groups, g);
          if (same_group (g_ptr_array_index (grp, 0), f))
            found = grp;
        }
      if (found == NULL)
        {
          found = g_ptr_array_new ();
          g_ptr_array_add (groups, found);
        }
      g_ptr_array_add (found, f);
    }

  /* Small groups in another orientation than the largest one are localizers (scouts). */
  for (guint g = 0; g < groups->len; g++)
    if (((GPtrArray *) g_ptr_array_index (groups, g))->len
        > ((GPtrArray *) g_ptr_array_index (groups, largest))->len)
      largest = g;
  for (guint g = 0; g < groups->len; g++)
    {
      GPtrArray *grp = g_ptr_array_index (groups, g);
      PlanFrame *f0 = g_ptr_array_index (grp, 0);
      PlanFrame *l0 = g_ptr_array_index ((GPtrArray *) g_ptr_array_index (groups, largest), 0);
      if (g != largest && grp->len <= 3 && f0->has_geometry && l0->has_geometry
          && !same_orientation (f0->orientation, l0->orientation))
        for (guint i = 0; i < grp->len; i++)
          ((PlanFrame *) g_ptr_array_index (grp, i))->localizer = TRUE;
    }

  for (guint g = 0; g < groups->len; g++)
    {
      PlanStack *s = build_stack (plan, g_ptr_array_index (groups, g), (int) g);
      g_ptr_array_add (plan->stacks, s);
    }

  for (guint g = 0; g < plan->stacks->len; g++)
    {
      PlanStack *s = g_ptr_array_index (plan->stacks, g);
      const PlanFrame *f0 = g_ptr_array_index (s->frames, 0);
      if (s->localizer)
        add_problem (plan, CU_PROBLEM_LOCALIZER, (int) g, -1, frame_path (f0),
                     g_strdup_printf (_("Stack %u (%s) is a localizer and is kept apart from the images"),
                                      g + 1, s->label));
      else
        n_main++;
      if (s->missing_geometry)
        add_problem (plan, CU_PROBLEM_MISSING_GEOMETRY, (int) g, -1, frame_path (f0),
                     g_strdup_printf (_("Stack %u (%s) has no ImagePositionPatient/ImageOrientationPatient: "
                                        "slices are ordered by instance number and the geometry is not real"),
                                      g + 1, s->label));
    }

  if (plan->stacks->len > 1)
    {
      GString *what = g_string_new (NULL);
      gboolean mixed = FALSE;
      for (guint g = 0; g < plan->stacks->len; g++)
        {
          PlanStack *s = g_ptr_array_index (plan->stacks, g);
          const CuVolume *v = s->geometry;
          g_string_append_printf (what, "%s%u: %s, %d×%d, %.3g×%.3g mm", what->len ? "; " : "", g + 1,
                                  s->label, v->dims[0], v->dims[1], v->spacing[0], v->spacing[1]);
          for (guint h = 0; h < g; h++)
            {
              PlanStack *o = g_ptr_array_index (plan->stacks, h);
              if (!o->localizer && !s->localizer
                  && (o->geometry->dims[0] != v->dims[0] || o->geometry->dims[1] != v->dims[1]))
                mixed = TRUE;
            }
        }
      if (n_main > 1)
        add_problem (plan, CU_PROBLEM_SPLIT_STACKS, -1, -1, NULL,
                     g_strdup_printf (_("The series was split into %u stacks because orientation, matrix "
                                        "or pixel spacing differ — %s"),
                                      plan->stacks->len, what->str));
      if (mixed)
        add_problem (plan, CU_PROBLEM_MIXED_DIMENSIONS, -1, -1, NULL,
                     g_strdup (_("Images of the series have different matrix sizes")));
      g_string_free (what, TRUE);
    }

  check_instance_numbers (plan);
  return g_steal_pointer (&plan);
}

void
cu_series_plan_free (CuSeriesPlan *plan)
{
  if (plan == NULL)
    return;
  if (plan->stacks != NULL)
    g_ptr_array_unref (plan->stacks);
  if (plan->problems != NULL)
    g_ptr_array_unref (plan->problems);
  g_free (plan->frames);
  if (plan->invalid != NULL)
    for (guint i = 0; i < plan->headers->len; i++)
      g_free (plan->invalid[i]);
  g_free (plan->invalid);
  if (plan->headers != NULL)
    g_ptr_array_unref (plan->headers);
  g_free (plan);
}

guint
cu_series_plan_get_n_stacks (CuSeriesPlan *plan)
{
  g_return_val_if_fail (plan != NULL, 0);
  return plan->stacks->len;
}

const CuVolume *
cu_series_plan_get_geometry (CuSeriesPlan *plan, guint stack)
{
  g_return_val_if_fail (plan != NULL && stack < plan->stacks->len, NULL);
  return ((PlanStack *) g_ptr_array_index (plan->stacks, stack))->geometry;
}

const char *
cu_series_plan_get_stack_label (CuSeriesPlan *plan, guint stack)
{
  g_return_val_if_fail (plan != NULL && stack < plan->stacks->len, NULL);
  return ((PlanStack *) g_ptr_array_index (plan->stacks, stack))->label;
}

gboolean
cu_series_plan_get_stack_has_geometry (CuSeriesPlan *plan, guint stack)
{
  g_return_val_if_fail (plan != NULL && stack < plan->stacks->len, FALSE);
  return !((PlanStack *) g_ptr_array_index (plan->stacks, stack))->missing_geometry;
}

guint
cu_series_plan_get_main_stack (CuSeriesPlan *plan)
{
  guint best = 0;
  gsize best_size = 0;
  gboolean best_localizer = TRUE;

  g_return_val_if_fail (plan != NULL, 0);
  for (guint g = 0; g < plan->stacks->len; g++)
    {
      PlanStack *s = g_ptr_array_index (plan->stacks, g);
      gsize size = s->frames->len;
      if ((best_localizer && !s->localizer) || (best_localizer == s->localizer && size > best_size))
        {
          best = g;
          best_size = size;
          best_localizer = s->localizer;
        }
    }
  return best;
}

GPtrArray *
cu_series_plan_get_problems (CuSeriesPlan *plan)
{
  g_return_val_if_fail (plan != NULL, NULL);
  return plan->problems;
}

/* ---- reading headers --------------------------------------------------------------------- */

typedef struct
{
  const char *const *paths;
  CuDicomHeader **headers;
  GError **errors;         /* per file: why its header could not be read */
  GMutex lock;
  guint done, total;
  CuProgress *progress;
  GCancellable *cancellable;
} HeaderJob;

/* Files per header task: one parser round trip reads them all (cu_dicom_header_read_walk_batch),
 * which for slices of a few hundred kilobytes costs more than the parse itself. */
#define HEADER_CHUNK 16

static void
header_worker (gpointer data, gpointer user_data)
{
  HeaderJob *job = user_data;
  guint first = GPOINTER_TO_UINT (data) - 1;
  guint n = MIN (HEADER_CHUNK, job->total - first);
  CuDicomReadJob reads[HEADER_CHUNK];
  guint done;

  if (g_cancellable_is_cancelled (job->cancellable))
    return;

  memset (reads, 0, sizeof reads);
  for (guint i = 0; i < n; i++)
    reads[i].path = job->paths[first + i];
  cu_dicom_header_read_walk_batch (reads, n, NULL, NULL, NULL);
  /* Each slot is written by one worker only: no lock needed for the result itself. */
  for (guint i = 0; i < n; i++)
    {
      job->headers[first + i] = reads[i].header;
      job->errors[first + i] = reads[i].error;
    }
  g_mutex_lock (&job->lock);
  done = job->done += n;
  g_mutex_unlock (&job->lock);
  cu_progress_report_count (job->progress, done, job->total, _("Reading headers"));
}

static int
worker_count (void)
{
  /* Decoding and header parsing scale with cores, but beyond a few threads the disk (or the
   * page cache's memcpy) is the limit. */
  return CLAMP ((int) g_get_num_processors (), 2, 8);
}

CuSeriesPlan *
cu_series_plan_new_from_files (const char *const *paths, CuProgress *progress,
                               GCancellable *cancellable, GError **error)
{
  HeaderJob job = { 0 };
  GThreadPool *pool;
  GPtrArray *headers;
  CuSeriesPlan *plan;
  guint n, n_failed = 0;

  g_return_val_if_fail (paths != NULL, NULL);
  n = g_strv_length ((char **) paths);
  if (n == 0)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID, _("No files given"));
      return NULL;
    }
  job.paths = paths;
  job.headers = g_new0 (CuDicomHeader *, n);
  job.errors = g_new0 (GError *, n);
  job.total = n;
  job.progress = progress;
  job.cancellable = cancellable;
  g_mutex_init (&job.lock);

  /* The first run of headers is read alone so that the parser's one-time global set-up (the
   * dictionaries) does not run in several threads at once. */
  header_worker (GUINT_TO_POINTER (1), &job);
  if (n > HEADER_CHUNK)
    {
      pool = g_thread_pool_new (header_worker, &job, worker_count (), FALSE, NULL);
      for (guint i = HEADER_CHUNK; i < n; i += HEADER_CHUNK)
        g_thread_pool_push (pool, GUINT_TO_POINTER (i + 1), NULL);
      g_thread_pool_free (pool, FALSE, TRUE);
    }
  g_mutex_clear (&job.lock);

  headers = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicom_header_free);
  for (guint i = 0; i < n; i++)
    {
      if (job.headers[i] != NULL)
        g_ptr_array_add (headers, job.headers[i]);
      if (job.errors[i] != NULL)
        n_failed++;
    }
  g_free (job.headers);

  plan = NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    g_ptr_array_unref (headers);
  else if (n_failed == n)
    {
      /* Nothing readable: the first reason is the most useful thing to say. */
      g_ptr_array_unref (headers);
      g_propagate_error (error, g_steal_pointer (&job.errors[0]));
    }
  else if ((plan = cu_series_plan_new (headers, error)) != NULL)
    {
      /* A file deleted or damaged since import must not hide the rest of the series: the
       * plan goes on without it and says which file and why, like any other problem. */
      for (guint i = 0; i < n; i++)
        if (job.errors[i] != NULL)
          add_problem (plan, CU_PROBLEM_UNREADABLE, -1, -1, paths[i],
                       g_strdup_printf (_("Left out of the series: %s"), job.errors[i]->message));
    }
  for (guint i = 0; i < n; i++)
    g_clear_error (&job.errors[i]);
  g_free (job.errors);
  return plan;
}

/* ---- loading pixels ---------------------------------------------------------------------- */

typedef struct
{
  guint header_index;
  GArray *targets;         /* pairs (source frame or tile, destination slice t·nz + k) */
} LoadTask;

typedef struct
{
  CuSeriesPlan *plan;
  CuVolume *volume;
  GError *error;
  GMutex lock;
  guint done, total;
  CuProgress *progress;
  GCancellable *cancellable;
} LoadJob;

static void
load_worker (gpointer data, gpointer user_data)
{
  LoadTask *task = data;
  LoadJob *job = user_data;
  CuDicomHeader *h = g_ptr_array_index (job->plan->headers, task->header_index);
  gsize slice = (gsize) job->volume->dims[0] * job->volume->dims[1];
  gsize file_pixels = (gsize) h->rows * h->columns * MAX (h->number_of_frames, 1);
  GError *local = NULL;
  gboolean stop;
  guint done;

  g_mutex_lock (&job->lock);
  stop = job->error != NULL;
  g_mutex_unlock (&job->lock);
  if (stop || g_cancellable_is_cancelled (job->cancellable))
    goto out;

  if (task->targets->len == 2 && file_pixels == slice && h->mosaic_images == 0)
    {
      /* One frame, one slice: decode straight into the volume (no copy). */
      guint dst = g_array_index (task->targets, guint, 1);
      cu_dicom_read_frames_float (h, job->volume->voxels + (gsize) dst * slice, slice, &local);
    }
  else
    {
      float *buf = g_try_new (float, file_pixels);
      if (buf == NULL)
        g_set_error (&local, CU_VOLUME_ERROR, CU_VOLUME_ERROR_TOO_LARGE,
                     _("Not enough memory to decode %s"), h->path);
      else if (cu_dicom_read_frames_float (h, buf, file_pixels, &local))
        {
          int nx = job->volume->dims[0], ny = job->volume->dims[1];
          for (guint p = 0; p + 1 < task->targets->len; p += 2)
            {
              guint src = g_array_index (task->targets, guint, p);
              guint dst = g_array_index (task->targets, guint, p + 1);
              float *out = job->volume->voxels + (gsize) dst * slice;
              if (h->mosaic_images > 0 && h->number_of_frames <= 1)
                {
                  int grid = h->columns / nx;
                  int tx = (int) src % grid, ty = (int) src / grid;
                  for (int j = 0; j < ny; j++)
                    memcpy (out + (gsize) j * nx,
                            buf + ((gsize) (ty * ny + j) * h->columns + (gsize) tx * nx),
                            sizeof (float) * nx);
                }
              else
                memcpy (out, buf + (gsize) src * slice, sizeof (float) * slice);
            }
        }
      g_free (buf);
    }

  g_mutex_lock (&job->lock);
  if (local != NULL)
    {
      if (job->error == NULL)
        {
          /* The decoder's message normally names the file; make sure it does. */
          if (h->path != NULL && strstr (local->message, h->path) == NULL)
            g_prefix_error (&local, "%s: ", h->path);
          job->error = local;
        }
      else
        g_error_free (local);
    }
  done = ++job->done;
  g_mutex_unlock (&job->lock);
  cu_progress_report_count (job->progress, done, job->total, _("Loading images"));

out:
  g_array_unref (task->targets);
  g_free (task);
}

CuVolume *
cu_series_plan_load (CuSeriesPlan *plan, guint stack, CuProgress *progress,
                     GCancellable *cancellable, GError **error)
{
  PlanStack *s;
  const CuVolume *g;
  g_autoptr (CuVolume) volume = NULL;
  g_autofree LoadTask **tasks = NULL;
  LoadJob job = { 0 };
  GThreadPool *pool;
  guint n_tasks = 0;

  g_return_val_if_fail (plan != NULL, NULL);
  if (stack >= plan->stacks->len)
    {
      g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                   _("The series has no stack %u"), stack + 1);
      return NULL;
    }
  s = g_ptr_array_index (plan->stacks, stack);
  for (guint i = 0; i < s->frames->len; i++)
    {
      const PlanFrame *f = g_ptr_array_index (s->frames, i);
      if (plan->invalid[f->header_index] != NULL)
        {
          g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                       _("%s: invalid header values: %s"), frame_path (f),
                       plan->invalid[f->header_index]);
          return NULL;
        }
    }
  g = s->geometry;
  volume = cu_volume_new (g->dims[0], g->dims[1], g->dims[2], g->dims[3], TRUE, error);
  if (volume == NULL)
    return NULL;
  memcpy (volume->spacing, g->spacing, sizeof volume->spacing);
  memcpy (volume->origin, g->origin, sizeof volume->origin);
  memcpy (volume->direction, g->direction, sizeof volume->direction);
  volume->stored_type = g->stored_type;
  volume->bits_stored = g->bits_stored;
  volume->rescaled = g->rescaled;
  volume->modality = g_strdup (g->modality);
  volume->series_uid = g_strdup (g->series_uid);

  /* One task per file, listing where each of its frames (or tiles) goes: multi-frame files
   * and mosaics are decoded once and scattered. */
  tasks = g_new0 (LoadTask *, plan->headers->len);
  for (guint i = 0; i < s->frames->len; i++)
    {
      const PlanFrame *f = g_ptr_array_index (s->frames, i);
      LoadTask *t = tasks[f->header_index];
      guint src = f->tile >= 0 ? (guint) f->tile : f->frame;
      if (t == NULL)
        {
          t = tasks[f->header_index] = g_new0 (LoadTask, 1);
          t->header_index = f->header_index;
          t->targets = g_array_new (FALSE, FALSE, sizeof (guint));
          n_tasks++;
        }
      g_array_append_val (t->targets, src);
      g_array_append_val (t->targets, i);
    }

  job.plan = plan;
  job.volume = volume;
  job.total = n_tasks;
  job.progress = progress;
  job.cancellable = cancellable;
  g_mutex_init (&job.lock);
  pool = g_thread_pool_new (load_worker, &job, worker_count (), FALSE, NULL);
  for (guint i = 0; i < plan->headers->len; i++)
    if (tasks[i] != NULL)
      g_thread_pool_push (pool, tasks[i], NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  g_mutex_clear (&job.lock);

  if (job.error != NULL)
    {
      g_propagate_error (error, job.error);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  cu_progress_report (progress, 1.0, NULL);
  return g_steal_pointer (&volume);
}

gboolean
cu_series_plan_check_values (CuSeriesPlan *plan, GError **error)
{
  g_return_val_if_fail (plan != NULL, FALSE);
  for (guint i = 0; i < plan->headers->len; i++)
    if (plan->invalid[i] != NULL)
      {
        const CuDicomHeader *h = g_ptr_array_index (plan->headers, i);
        g_set_error (error, CU_VOLUME_ERROR, CU_VOLUME_ERROR_INVALID,
                     _("%s: invalid header values: %s"), h->path, plan->invalid[i]);
        return FALSE;
      }
  return TRUE;
}

const char *
cu_series_plan_get_source (CuSeriesPlan *plan, guint stack, guint k, guint t, int *frame)
{
  PlanStack *s;
  const PlanFrame *f;

  g_return_val_if_fail (plan != NULL, NULL);
  if (stack >= plan->stacks->len)
    return NULL;
  s = g_ptr_array_index (plan->stacks, stack);
  if (k >= (guint) s->geometry->dims[2] || t >= (guint) s->geometry->dims[3])
    return NULL;
  f = g_ptr_array_index (s->frames, t * (guint) s->geometry->dims[2] + k);
  if (frame != NULL)
    *frame = f->tile >= 0 ? f->tile : (int) f->frame;
  return f->header->path;
}

double *
cu_series_plan_get_slice_positions (CuSeriesPlan *plan, guint stack)
{
  PlanStack *s;
  double *out;
  int nz;

  g_return_val_if_fail (plan != NULL, NULL);
  if (stack >= plan->stacks->len)
    return NULL;
  s = g_ptr_array_index (plan->stacks, stack);
  if (s->missing_geometry)
    return NULL;
  nz = s->geometry->dims[2];
  out = g_new (double, (gsize) nz * 3);
  for (int k = 0; k < nz; k++)
    {
      const PlanFrame *f = g_ptr_array_index (s->frames, k);
      if (!f->has_geometry)
        {
          g_free (out);
          return NULL;
        }
      memcpy (out + 3 * k, f->position, sizeof f->position);
    }
  return out;
}

gboolean
cu_series_plan_get_stack_irregular (CuSeriesPlan *plan, guint stack)
{
  g_return_val_if_fail (plan != NULL, FALSE);
  for (guint i = 0; i < plan->problems->len; i++)
    {
      const CuGeometryProblem *p = g_ptr_array_index (plan->problems, i);
      if (p->stack == (int) stack
          && (g_str_equal (p->code, CU_PROBLEM_GANTRY_TILT)
              || g_str_equal (p->code, CU_PROBLEM_NONUNIFORM_SPACING)))
        return TRUE;
    }
  return FALSE;
}

CuVolume *
cu_series_plan_load_regular (CuSeriesPlan *plan, guint stack, CuProgress *progress,
                             GCancellable *cancellable, gboolean *regridded, GError **error)
{
  g_autoptr (CuVolume) volume = cu_series_plan_load (plan, stack, progress, cancellable, error);
  g_autofree double *positions = NULL;
  float lo, hi;
  CuVolume *out;

  if (regridded != NULL)
    *regridded = FALSE;
  if (volume == NULL || !cu_series_plan_get_stack_irregular (plan, stack)
      || (positions = cu_series_plan_get_slice_positions (plan, stack)) == NULL)
    return g_steal_pointer (&volume);
  /* outside the acquired slab: the lowest value (air on CT), not a bright zero */
  cu_volume_get_range (volume, &lo, &hi);
  out = cu_regrid_slices (volume, (const double (*)[3]) positions, lo, cancellable, error);
  if (out != NULL && regridded != NULL)
    *regridded = TRUE;
  return out;
}

const char *
cu_series_plan_get_frame_of_reference (CuSeriesPlan *plan, guint stack)
{
  PlanStack *s;
  const PlanFrame *f;

  g_return_val_if_fail (plan != NULL, NULL);
  if (stack >= plan->stacks->len)
    return NULL;
  s = g_ptr_array_index (plan->stacks, stack);
  if (s->frames->len == 0)
    return NULL;
  f = g_ptr_array_index (s->frames, 0);
  return f->header->frame_of_reference_uid != NULL && *f->header->frame_of_reference_uid != '\0'
           ? f->header->frame_of_reference_uid : NULL;
}

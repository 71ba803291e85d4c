/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-demo.c — the built-in demo study: a synthetic pelvic MR phantom sampled in two series.
 *
 * Method. The phantom is a continuous function of the patient position (LPS, mm): ellipsoids
 * and spheres (body fat, muscle, femoral heads, bladder, rectum, prostate with peripheral and
 * transition zones, two lesions) composited in order, each with a soft edge
 *   m(p) = 1 / (1 + exp(d(p) / w)),  w = 0.8 mm,
 * where d is the radial distance to the ellipsoid surface (an approximation of the signed
 * distance that is exact for spheres). Each series samples that SAME function at its own voxel
 * centres, p = IPP + i·Δc·row + j·Δr·col (PS3.3 C.7.6.2.1.1), averaging three points across the
 * slice thickness to mimic partial volume, so a structure's LPS position is identical in both
 * series and geometry can be verified against the ground truth (cu_demo_get_lesions).
 *
 * Contrast follows the usual appearance of a prostate mpMRI: T2-weighted (fat and urine bright,
 * peripheral zone bright, tumours dark, a smooth receive-coil bias field) and an ADC map in
 * 10⁻⁶ mm²/s (urine ≈ 3000, tissue ≈ 1100–1800, tumours ≈ 650–750). Noise comes from a seeded
 * Mersenne Twister (GRand) through Box–Muller; the T2 magnitude image gets Rician noise,
 * |S + n₁ + i·n₂| with n ~ N(0, σ²) (Gudbjartsson & Patz, Magn Reson Med 1995;34:910–914,
 * doi:10.1002/mrm.1910340618). Everything is deterministic, UIDs included (name-based), so
 * writing the demo twice gives identical files and importing both adds nothing.
 *
 * The study is pseudonymized as a real one would be: PS3.15 Basic Profile with the Retain
 * Patient Characteristics, Modified Dates and Clean Descriptors options declared in
 * (0012,0064), PatientIdentityRemoved = YES, no birth date, no institution, no physicians.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "cu-demo.h"
#include "cu-dicom-writer.h"

#define T(g, e) CU_DICOM_TAG (0x##g, 0x##e)

/* Centre of the pelvis in scanner coordinates: deliberately not the origin, so a reader that
 * ignores ImagePositionPatient gets visibly wrong answers. */
#define CX 4.0
#define CY (-12.0)
#define CZ 35.0

/* The lesions, shared by the phantom and the ground-truth table so the two cannot drift. */
#define LESION_PZ_CENTRE { CX - 6, CY + 16, CZ - 2 }
#define LESION_PZ_RADIUS 4.5
#define LESION_TZ_CENTRE { CX + 5, CY, CZ + 4 }
#define LESION_TZ_RADIUS 3.5

enum { CONTRAST_T2, CONTRAST_ADC, N_CONTRASTS };

typedef struct
{
  double centre[3];
  double semi[3];       /* semi-axes along L, P, S */
  double value[N_CONTRASTS];
} Blob;

/* Composited in this order: later blobs cover earlier ones. */
static const Blob phantom[] = {
  /* body: subcutaneous fat shell */
  { { CX, CY, CZ }, { 66, 50, 170 }, { 820, 150 } },
  /* muscle and pelvic soft tissue */
  { { CX, CY, CZ }, { 58, 42, 170 }, { 260, 1400 } },
  /* femoral heads (fatty marrow) */
  { { CX - 44, CY - 2, CZ + 8 }, { 18, 18, 18 }, { 480, 350 } },
  { { CX + 44, CY - 2, CZ + 8 }, { 18, 18, 18 }, { 480, 350 } },
  /* bladder (urine) */
  { { CX, CY - 14, CZ + 32 }, { 26, 20, 18 }, { 1900, 3000 } },
  /* rectum (collapsed, some gas) */
  { { CX, CY + 36, CZ - 4 }, { 14, 10, 40 }, { 120, 500 } },
  /* prostate, painted with peripheral-zone values … */
  { { CX, CY + 6, CZ }, { 24, 18, 20 }, { 1050, 1750 } },
  /* … then the transition zone, anterior, so the peripheral zone is the posterior rim */
  { { CX, CY, CZ + 2 }, { 14, 9, 14 }, { 560, 1100 } },
  /* lesions: last, so they are never covered (values differ on purpose). Each sits at least
   * 2.5 mm inside one homogeneous zone, so its neighbourhood is unambiguous. */
  { LESION_PZ_CENTRE, { LESION_PZ_RADIUS, LESION_PZ_RADIUS, LESION_PZ_RADIUS }, { 330, 650 } },
  { LESION_TZ_CENTRE, { LESION_TZ_RADIUS, LESION_TZ_RADIUS, LESION_TZ_RADIUS }, { 380, 720 } },
};

static const CuDemoLesion lesions[] = {
  { "pz-right", LESION_PZ_CENTRE, LESION_PZ_RADIUS },
  { "tz-left", LESION_TZ_CENTRE, LESION_TZ_RADIUS },
};

const CuDemoLesion *
cu_demo_get_lesions (guint *n_lesions)
{
  if (n_lesions != NULL)
    *n_lesions = G_N_ELEMENTS (lesions);
  return lesions;
}

typedef struct
{
  int number;
  const char *folder;
  const char *description;
  const char *image_type;
  const char *scanning_sequence;
  const char *sequence_variant;
  const char *scan_options;
  const char *sequence_name;
  double repetition_time, echo_time, flip_angle;
  int echo_train_length;
  int contrast;
  int rows, columns, slices;
  double pixel_spacing, thickness, spacing;
  double fov_offset[3];     /* FOV centre relative to the phantom centre, LPS mm */
  double tilt_degrees;      /* rotation of the slice plane about the L axis */
  gboolean shuffle;         /* InstanceNumber in an order unrelated to position */
  double noise_sigma;
  double window_center, window_width;
  const char *time;         /* SeriesTime */
} DemoSeries;

static const DemoSeries demo_series[] = {
  {
    3, "S03_t2_tse_tra", "t2_tse_tra", "ORIGINAL\\PRIMARY\\M\\ND",
    "SE", "SK\\SP\\OSP", "", "*tse2d1_25",
    5000, 104, 160, 25,
    CONTRAST_T2, 240, 240, 24, 0.6, 3.0, 3.0,
    { 0, 4, 0 }, 0.0, FALSE, 18.0, 700, 1600, "101512",
  },
  {
    7, "S07_ep2d_diff_tra_ADC", "ep2d_diff_tra_ADC", "DERIVED\\PRIMARY\\DIFFUSION\\ADC",
    "EP", "SK\\SP", "PFP\\FS", "*ep_b50_1400t",
    4200, 68, 90, 0,
    CONTRAST_ADC, 128, 128, 20, 1.0, 4.0, 4.0,
    { 2, 6, 3 }, 15.0, TRUE, 50.0, 1400, 2800, "102233",
  },
};

/* Pseudonymized dates: shifted consistently with clinical.csv (Modified Dates option). */
#define STUDY_DATE "20240314"
#define STUDY_TIME "100845"

/* ---- phantom sampling ---- */

static double
sample_phantom (const double p[3], int contrast)
{
  const double w = 0.8;
  double v = 0.0;    /* air */

  for (guint b = 0; b < G_N_ELEMENTS (phantom); b++)
    {
      const Blob *blob = &phantom[b];
      double d[3], q2 = 0, r2 = 0, q, sd, m;

      for (int c = 0; c < 3; c++)
        {
          d[c] = p[c] - blob->centre[c];
          q2 += (d[c] / blob->semi[c]) * (d[c] / blob->semi[c]);
          r2 += d[c] * d[c];
        }
      q = sqrt (q2);
      /* Radial distance to the surface: |d|·(1 − 1/q); exact for a sphere. */
      sd = q > 1e-9 ? sqrt (r2) * (1.0 - 1.0 / q) : -blob->semi[0];
      if (sd > 6 * w)
        continue;
      m = sd < -6 * w ? 1.0 : 1.0 / (1.0 + exp (sd / w));
      v = v * (1.0 - m) + blob->value[contrast] * m;
    }

  if (contrast == CONTRAST_T2)
    {
      /* Receive-coil sensitivity: brighter towards the posterior (pelvic/endorectal) coil. */
      double dx = p[0] - CX, dy = p[1] - (CY + 70);
      v *= 0.8 + 0.4 * exp (-(dx * dx + dy * dy) / (2 * 90.0 * 90.0));
    }
  return v;
}

static double
gaussian (GRand *rand)
{
  /* Box–Muller; 1 − u keeps the logarithm finite. */
  double u1 = 1.0 - g_rand_double (rand), u2 = g_rand_double (rand);
  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

typedef struct
{
  double row[3], col[3], normal[3];
  double first_position[3];   /* IPP of the slice with position index 0 */
} Geometry;

static void
series_geometry (const DemoSeries *s, Geometry *g)
{
  double t = s->tilt_degrees * G_PI / 180.0;
  double centre[3];

  /* Axial slices rotated about L: rows run towards the patient's left, columns posterior
   * (tilted towards S), the normal is row × column. */
  g->row[0] = 1, g->row[1] = 0, g->row[2] = 0;
  g->col[0] = 0, g->col[1] = cos (t), g->col[2] = sin (t);
  g->normal[0] = g->row[1] * g->col[2] - g->row[2] * g->col[1];
  g->normal[1] = g->row[2] * g->col[0] - g->row[0] * g->col[2];
  g->normal[2] = g->row[0] * g->col[1] - g->row[1] * g->col[0];

  centre[0] = CX + s->fov_offset[0];
  centre[1] = CY + s->fov_offset[1];
  centre[2] = CZ + s->fov_offset[2];
  for (int c = 0; c < 3; c++)
    g->first_position[c] = centre[c]
                           - 0.5 * (s->columns - 1) * s->pixel_spacing * g->row[c]
                           - 0.5 * (s->rows - 1) * s->pixel_spacing * g->col[c]
                           - 0.5 * (s->slices - 1) * s->spacing * g->normal[c];
}

/* Stored 12-bit values of one slice, little endian. */
static guint16 *
render_slice (const DemoSeries *s, const Geometry *g, int k, GRand *rand)
{
  guint16 *pixels = g_new (guint16, (gsize) s->rows * s->columns);
  static const double sub[3] = { -1.0 / 3.0, 0.0, 1.0 / 3.0 };

  for (int j = 0; j < s->rows; j++)
    for (int i = 0; i < s->columns; i++)
      {
        double v = 0.0, stored;

        for (int n = 0; n < 3; n++)
          {
            double p[3];
            for (int c = 0; c < 3; c++)
              p[c] = g->first_position[c]
                     + i * s->pixel_spacing * g->row[c]
                     + j * s->pixel_spacing * g->col[c]
                     + (k * s->spacing + sub[n] * s->thickness) * g->normal[c];
            v += sample_phantom (p, s->contrast) / 3.0;
          }

        if (s->contrast == CONTRAST_T2)
          {
            double re = v + s->noise_sigma * gaussian (rand);
            double im = s->noise_sigma * gaussian (rand);
            stored = sqrt (re * re + im * im);
          }
        else
          stored = v + s->noise_sigma * gaussian (rand);

        stored = CLAMP (round (stored), 0, 4095);
        pixels[(gsize) j * s->columns + i] = GUINT16_TO_LE ((guint16) stored);
      }
  return pixels;
}

/* ---- DICOM attributes ---- */

static void
add_deid_code (CuDicomDataset **items, guint *n, const char *value, const char *meaning)
{
  CuDicomDataset *item = cu_dicom_dataset_new ();

  cu_dicom_dataset_add_string (item, T (0008, 0100), "SH", value);
  cu_dicom_dataset_add_string (item, T (0008, 0102), "SH", "DCM");
  cu_dicom_dataset_add_string (item, T (0008, 0104), "LO", meaning);
  items[(*n)++] = item;
}

static CuDicomDataset *
build_instance (const DemoSeries *s, const Geometry *g, int k, int instance_number,
                const guint16 *pixels)
{
  CuDicomDataset *ds = cu_dicom_dataset_new ();
  g_autofree char *study_uid = cu_dicom_uid_from_name ("curata-demo/1/study");
  g_autofree char *for_uid = cu_dicom_uid_from_name ("curata-demo/1/frame-of-reference");
  g_autofree char *series_name = g_strdup_printf ("curata-demo/1/series/%d", s->number);
  g_autofree char *series_uid = cu_dicom_uid_from_name (series_name);
  g_autofree char *sop_name = g_strdup_printf ("curata-demo/1/series/%d/slice/%d", s->number, k);
  g_autofree char *sop_uid = cu_dicom_uid_from_name (sop_name);
  CuDicomDataset *codes[4];
  guint n_codes = 0;
  double ipp[3], iop[6], ps[2] = { s->pixel_spacing, s->pixel_spacing }, v;
  guint16 matrix[4];

  for (int c = 0; c < 3; c++)
    {
      ipp[c] = g->first_position[c] + k * s->spacing * g->normal[c];
      iop[c] = g->row[c];
      iop[3 + c] = g->col[c];
    }

  /* SOP Common, General Study/Series/Equipment */
  cu_dicom_dataset_add_string (ds, T (0008, 0008), "CS", s->image_type);
  cu_dicom_dataset_add_string (ds, T (0008, 0016), "UI", CU_DICOM_MR_IMAGE_STORAGE);
  cu_dicom_dataset_add_string (ds, T (0008, 0018), "UI", sop_uid);
  cu_dicom_dataset_add_string (ds, T (0008, 0020), "DA", STUDY_DATE);
  cu_dicom_dataset_add_string (ds, T (0008, 0021), "DA", STUDY_DATE);
  cu_dicom_dataset_add_string (ds, T (0008, 0022), "DA", STUDY_DATE);
  cu_dicom_dataset_add_string (ds, T (0008, 0023), "DA", STUDY_DATE);
  cu_dicom_dataset_add_string (ds, T (0008, 0030), "TM", STUDY_TIME);
  cu_dicom_dataset_add_string (ds, T (0008, 0031), "TM", s->time);
  cu_dicom_dataset_add_string (ds, T (0008, 0032), "TM", s->time);
  cu_dicom_dataset_add_string (ds, T (0008, 0033), "TM", s->time);
  cu_dicom_dataset_add_string (ds, T (0008, 0050), "SH", "");          /* Z */
  cu_dicom_dataset_add_string (ds, T (0008, 0060), "CS", "MR");
  cu_dicom_dataset_add_string (ds, T (0008, 0070), "LO", "Curata");
  cu_dicom_dataset_add_string (ds, T (0008, 0090), "PN", "");          /* Z */
  cu_dicom_dataset_add_string (ds, T (0008, 1030), "LO", "Prostate mpMRI (synthetic demo)");
  cu_dicom_dataset_add_string (ds, T (0008, 103E), "LO", s->description);
  cu_dicom_dataset_add_string (ds, T (0008, 1090), "LO", "Synthetic pelvic phantom");

  /* Patient: a pseudonym, Retain Patient Characteristics keeps sex, age and weight. The name
   * holds the pseudonym too, as sites do: the gate checks both against the pseudonym
   * pattern (CU_STORE_DEFAULT_PSEUDONYM_PATTERN). */
  cu_dicom_dataset_add_string (ds, T (0010, 0010), "PN", CU_DEMO_PATIENT_ID);
  cu_dicom_dataset_add_string (ds, T (0010, 0020), "LO", CU_DEMO_PATIENT_ID);
  cu_dicom_dataset_add_string (ds, T (0010, 0030), "DA", "");          /* Z */
  cu_dicom_dataset_add_string (ds, T (0010, 0040), "CS", "M");
  cu_dicom_dataset_add_string (ds, T (0010, 1010), "AS", "067Y");
  cu_dicom_dataset_add_string (ds, T (0010, 1030), "DS", "82");
  cu_dicom_dataset_add_string (ds, T (0012, 0062), "CS", "YES");
  cu_dicom_dataset_add_string (ds, T (0012, 0063), "LO",
                               "Synthetic phantom, no real patient\\PS3.15 Basic Profile");
  add_deid_code (codes, &n_codes, "113100", "Basic Application Confidentiality Profile");
  add_deid_code (codes, &n_codes, "113105", "Clean Descriptors Option");
  add_deid_code (codes, &n_codes, "113107", "Retain Longitudinal Temporal Information Modified Dates Option");
  add_deid_code (codes, &n_codes, "113108", "Retain Patient Characteristics Option");
  cu_dicom_dataset_add_sequence (ds, T (0012, 0064), codes, n_codes);

  /* MR acquisition */
  cu_dicom_dataset_add_string (ds, T (0018, 0015), "CS", "PROSTATE");
  cu_dicom_dataset_add_string (ds, T (0018, 0020), "CS", s->scanning_sequence);
  cu_dicom_dataset_add_string (ds, T (0018, 0021), "CS", s->sequence_variant);
  cu_dicom_dataset_add_string (ds, T (0018, 0022), "CS", s->scan_options);
  cu_dicom_dataset_add_string (ds, T (0018, 0023), "CS", "2D");
  cu_dicom_dataset_add_string (ds, T (0018, 0024), "SH", s->sequence_name);
  cu_dicom_dataset_add_ds (ds, T (0018, 0050), &s->thickness, 1);
  cu_dicom_dataset_add_ds (ds, T (0018, 0080), &s->repetition_time, 1);
  cu_dicom_dataset_add_ds (ds, T (0018, 0081), &s->echo_time, 1);
  v = 1;
  cu_dicom_dataset_add_ds (ds, T (0018, 0083), &v, 1);
  v = 3;
  cu_dicom_dataset_add_ds (ds, T (0018, 0087), &v, 1);
  cu_dicom_dataset_add_ds (ds, T (0018, 0088), &s->spacing, 1);
  if (s->echo_train_length > 0)
    cu_dicom_dataset_add_printf (ds, T (0018, 0091), "IS", "%d", s->echo_train_length);
  else
    cu_dicom_dataset_add_string (ds, T (0018, 0091), "IS", "");
  cu_dicom_dataset_add_printf (ds, T (0018, 1020), "LO", "Curata %s", PACKAGE_VERSION);
  cu_dicom_dataset_add_string (ds, T (0018, 1030), "LO", s->description);
  /* AcquisitionMatrix: frequency rows\frequency columns\phase rows\phase columns. */
  matrix[0] = 0;
  matrix[1] = GUINT16_TO_LE ((guint16) s->columns);
  matrix[2] = GUINT16_TO_LE ((guint16) s->rows);
  matrix[3] = 0;
  cu_dicom_dataset_add_bytes (ds, T (0018, 1310), "US", matrix, sizeof matrix);
  cu_dicom_dataset_add_string (ds, T (0018, 1312), "CS", "COL");
  cu_dicom_dataset_add_ds (ds, T (0018, 1314), &s->flip_angle, 1);
  cu_dicom_dataset_add_string (ds, T (0018, 5100), "CS", "HFS");

  /* Relationship and Image Plane */
  cu_dicom_dataset_add_string (ds, T (0020, 000D), "UI", study_uid);
  cu_dicom_dataset_add_string (ds, T (0020, 000E), "UI", series_uid);
  cu_dicom_dataset_add_string (ds, T (0020, 0010), "SH", "");          /* Z */
  cu_dicom_dataset_add_printf (ds, T (0020, 0011), "IS", "%d", s->number);
  cu_dicom_dataset_add_string (ds, T (0020, 0012), "IS", "1");
  cu_dicom_dataset_add_printf (ds, T (0020, 0013), "IS", "%d", instance_number);
  cu_dicom_dataset_add_ds (ds, T (0020, 0032), ipp, 3);
  cu_dicom_dataset_add_ds (ds, T (0020, 0037), iop, 6);
  cu_dicom_dataset_add_string (ds, T (0020, 0052), "UI", for_uid);
  cu_dicom_dataset_add_string (ds, T (0020, 1040), "LO", "");
  v = ipp[0] * g->normal[0] + ipp[1] * g->normal[1] + ipp[2] * g->normal[2];
  cu_dicom_dataset_add_ds (ds, T (0020, 1041), &v, 1);

  /* Image Pixel, VOI LUT, Modality LUT */
  cu_dicom_dataset_add_us (ds, T (0028, 0002), 1);
  cu_dicom_dataset_add_string (ds, T (0028, 0004), "CS", "MONOCHROME2");
  cu_dicom_dataset_add_us (ds, T (0028, 0010), (guint16) s->rows);
  cu_dicom_dataset_add_us (ds, T (0028, 0011), (guint16) s->columns);
  cu_dicom_dataset_add_ds (ds, T (0028, 0030), ps, 2);
  cu_dicom_dataset_add_us (ds, T (0028, 0100), 16);
  cu_dicom_dataset_add_us (ds, T (0028, 0101), 12);
  cu_dicom_dataset_add_us (ds, T (0028, 0102), 11);
  cu_dicom_dataset_add_us (ds, T (0028, 0103), 0);
  cu_dicom_dataset_add_string (ds, T (0028, 0303), "CS", "MODIFIED");
  cu_dicom_dataset_add_ds (ds, T (0028, 1050), &s->window_center, 1);
  cu_dicom_dataset_add_ds (ds, T (0028, 1051), &s->window_width, 1);
  cu_dicom_dataset_add_string (ds, T (0028, 1052), "DS", "0");
  cu_dicom_dataset_add_string (ds, T (0028, 1053), "DS", "1");
  cu_dicom_dataset_add_bytes (ds, T (7FE0, 0010), "OW", pixels,
                              (gsize) s->rows * s->columns * sizeof (guint16));
  return ds;
}

/* Clinical data in the eCRF wide layout (ecrf_patients.csv columns), consistent with the
 * images: dates shifted by the same offset, PI-RADS 4 for the visible lesions. */
static const char clinical_csv[] =
  "person_id,sex,birth_year,cancer_type,diagnosis_date,psa_ng_ml,psa_date,gleason_primary,"
  "gleason_secondary,gleason_score,isup_grade_group,clin_t,clin_n,clin_m,pirads_max,treatment_type,"
  "treatment_date,last_followup_date,vital_status,death_date,recurrence,recurrence_date,"
  "observation_start_date\n"
  CU_DEMO_PATIENT_ID ",M,1956,prostate,2024-04-02,8.6,2024-02-27,3,4,7,2,T2c,N0,M0,4,prostatectomy,"
  "2024-05-21,2025-09-30,alive,,no,,2024-02-01\n";

static int
gcd (int a, int b)
{
  while (b != 0)
    {
      int t = a % b;
      a = b;
      b = t;
    }
  return a;
}

static void
remove_written (GPtrArray *written)
{
  /* Leave no partial study behind: a half-written demo would import as a broken series. */
  for (guint i = 0; i < written->len; i++)
    if (g_ptr_array_index (written, i) != NULL)
      g_unlink (g_ptr_array_index (written, i));
}

char **
cu_demo_write (const char *dir, CuProgress *progress, GError **error)
{
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *csv_path = NULL;
  guint total = 0, done = 0;

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint s = 0; s < G_N_ELEMENTS (demo_series); s++)
    total += (guint) demo_series[s].slices;

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create folder “%s”: %s"), dir, g_strerror (saved));
      return NULL;
    }

  for (guint s = 0; s < G_N_ELEMENTS (demo_series); s++)
    {
      const DemoSeries *series = &demo_series[s];
      g_autofree char *series_dir = g_build_filename (dir, series->folder, NULL);
      g_autoptr (GRand) rand = g_rand_new_with_seed (0x43555241u + (guint32) series->number);
      g_autofree int *instance_of = g_new (int, series->slices);
      Geometry geometry;

      series_geometry (series, &geometry);

      if (g_mkdir_with_parents (series_dir, 0755) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Cannot create folder “%s”: %s"), series_dir, g_strerror (saved));
          remove_written (written);
          return NULL;
        }

      /* Instance numbers: in position order for the first series; for the shuffled one a
       * fixed permutation (multiplication by a unit modulo n), so sorting by InstanceNumber
       * instead of by position gives a scrambled volume. */
      for (int k = 0; k < series->slices; k++)
        {
          int n = series->slices, mult = 7;
          while (gcd (mult, n) != 1)
            mult++;
          instance_of[k] = series->shuffle ? (k * mult + 3) % n + 1 : n - k;
        }

      for (int k = 0; k < series->slices; k++)
        {
          g_autofree guint16 *pixels = render_slice (series, &geometry, k, rand);
          g_autoptr (CuDicomDataset) ds = build_instance (series, &geometry, k, instance_of[k], pixels);
          g_autofree char *name = g_strdup_printf ("IM%04d.dcm", instance_of[k]);
          g_autofree char *path = g_build_filename (series_dir, name, NULL);
          g_autofree char *message = NULL;

          if (!cu_dicom_dataset_write_file (ds, path, error))
            {
              remove_written (written);
              return NULL;
            }
          g_ptr_array_add (written, g_steal_pointer (&path));
          done++;
          /* TRANSLATORS: %s is a series description such as "t2_tse_tra". */
          message = g_strdup_printf (_("Writing demo series %s"), series->description);
          cu_progress_report_count (progress, done, total + 1, message);
        }
    }

  csv_path = g_build_filename (dir, "clinical.csv", NULL);
  if (!g_file_set_contents (csv_path, clinical_csv, -1, error))
    {
      remove_written (written);
      return NULL;
    }
  g_ptr_array_add (written, g_steal_pointer (&csv_path));
  cu_progress_report (progress, 1.0, _("Demo study written"));

  g_ptr_array_add (written, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&written), FALSE);
}

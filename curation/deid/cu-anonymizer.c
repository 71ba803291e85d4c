/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-anonymizer.c — step-2 anonymized export (cu-anonymizer.h).
 *
 * Method: DICOM PS3.15 Annex E (E.1.1 action codes, E.3.6 Retain Longitudinal Temporal
 * Information with Modified Dates, E.3.4 Retain Patient Characteristics), applied element by
 * element through cu_dicom_rewrite_file with the actions of Table E.1-1 (cu-deid-profile.h).
 * Compound actions take the weakest member that is always valid whatever the attribute's Type
 * in the IOD: X/Z and X/Z/D become Z (a zero-length value is valid for Type 2 and 3), X/D
 * becomes D, X/Z/U* keeps a sequence and remaps the UIDs inside it. C under Modified Dates is
 * the date shift for DA and DT; TM values are kept (whole-day shift); other C attributes
 * (TimezoneOffsetFromUTC, binary time stamps) are emptied. Private groups are removed (no
 * Retain Safe Private). Attributes outside the table are kept, except that every DA/DT value
 * anywhere is shifted, so no date escapes the offset. Afterwards (0012,0062)
 * PatientIdentityRemoved = YES, (0012,0063) DeidentificationMethod, (0012,0064)
 * DeidentificationMethodCodeSequence with the CID 7050 codes of the profile and options, and
 * (0028,0303) LongitudinalTemporalInformationModified = MODIFIED (PS3.3 C.7.6.1.1.7).
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "cu-anonymizer.h"
#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"
#include "cu-dicom-writer.h"
#include "cu-store-audit.h"
#include "cu-series-plan.h"
#include "cu-derived-series.h"
#include "cu-release.h"
#include "cu-clinical.h"

typedef struct
{
  char *new_id;          /* "ANON-" + 16 hex digits */
  int offset_days;
} CuAnonPatient;

struct _CuAnonymizer
{
  CuDeidProfile *own_profile;
  const CuDeidProfile *profile;
  GHashTable *patients;   /* patient key → CuAnonPatient */
  GHashTable *uids;       /* original UID → new UID */
  GHashTable *keep_descriptions;   /* series UIDs of Curata's derived series */
  gboolean dates_kept;
};

/* ---- Randomness --------------------------------------------------------------------- */

/* The OS CSPRNG: identifiers and offsets must not be predictable from one another (GLib's
 * g_random is a Mersenne Twister, whose outputs reveal its state). */
static void
random_bytes (guint8 *buf, gsize len)
{
  gsize done = 0;

  while (done < len)
    {
      ssize_t n = getrandom (buf + done, len - done, 0);
      if (n <= 0)
        break;
      done += (gsize) n;
    }
  /* getrandom cannot fail on Linux ≥ 3.17 once the pool is initialised; should it, fall back
   * to GLib rather than leave bytes unset. */
  for (; done < len; done++)
    buf[done] = (guint8) g_random_int_range (0, 256);
}

static guint32
random_below (guint32 bound)
{
  /* Rejection sampling: no modulo bias. */
  guint32 limit = G_MAXUINT32 - (G_MAXUINT32 % bound);
  guint32 v;

  do
    random_bytes ((guint8 *) &v, sizeof v);
  while (v >= limit);
  return v % bound;
}

static char *
random_uid (void)
{
  guint8 b[16];
  char uuid[37];

  random_bytes (b, sizeof b);
  b[6] = (guint8) ((b[6] & 0x0F) | 0x40);   /* version 4 */
  b[8] = (guint8) ((b[8] & 0x3F) | 0x80);   /* RFC 4122 variant */
  g_snprintf (uuid, sizeof uuid,
              "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
              b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
              b[13], b[14], b[15]);
  return cu_dicom_uid_from_uuid (uuid);
}

/* ---- Session ------------------------------------------------------------------------ */

static void
wipe_string (gpointer data)
{
  char *s = data;

  if (s != NULL)
    {
      memset (s, 0, strlen (s));
      g_free (s);
    }
}

static void
patient_free (gpointer data)
{
  CuAnonPatient *p = data;

  wipe_string (p->new_id);
  p->offset_days = 0;
  g_free (p);
}

CuAnonymizer *
cu_anonymizer_new (const CuDeidProfile *profile, GError **error)
{
  CuAnonymizer *self = g_new0 (CuAnonymizer, 1);

  if (profile == NULL)
    {
      self->own_profile = cu_deid_profile_new_default (error);
      if (self->own_profile == NULL)
        {
          g_free (self);
          return NULL;
        }
      profile = self->own_profile;
    }
  self->profile = profile;
  self->patients = g_hash_table_new_full (g_str_hash, g_str_equal, wipe_string, patient_free);
  self->uids = g_hash_table_new_full (g_str_hash, g_str_equal, wipe_string, wipe_string);
  self->keep_descriptions = g_hash_table_new_full (g_str_hash, g_str_equal, wipe_string, NULL);
  return self;
}

void
cu_anonymizer_free (CuAnonymizer *self)
{
  if (self == NULL)
    return;
  g_hash_table_destroy (self->patients);
  g_hash_table_destroy (self->uids);
  g_hash_table_destroy (self->keep_descriptions);
  if (self->own_profile != NULL)
    cu_deid_profile_free (self->own_profile);
  g_free (self);
}

/* Patients are told apart by PatientID; without one by PatientName; without either, each
 * study is its own patient (never merge strangers). */
static char *
patient_key (const char *patient_id, const char *patient_name, const char *study_uid)
{
  if (patient_id != NULL && *patient_id != '\0')
    return g_strconcat ("id:", patient_id, NULL);
  if (patient_name != NULL && *patient_name != '\0')
    return g_strconcat ("name:", patient_name, NULL);
  return g_strconcat ("study:", study_uid != NULL ? study_uid : "", NULL);
}

static gboolean
offset_used (CuAnonymizer *self, int offset)
{
  GHashTableIter it;
  gpointer value;

  g_hash_table_iter_init (&it, self->patients);
  while (g_hash_table_iter_next (&it, NULL, &value))
    if (((CuAnonPatient *) value)->offset_days == offset)
      return TRUE;
  return FALSE;
}

static CuAnonPatient *
get_patient (CuAnonymizer *self, const char *key)
{
  CuAnonPatient *p = g_hash_table_lookup (self->patients, key);
  guint8 b[8];
  GString *id;

  if (p != NULL)
    return p;
  p = g_new0 (CuAnonPatient, 1);
  random_bytes (b, sizeof b);
  id = g_string_new ("ANON-");
  for (guint i = 0; i < sizeof b; i++)
    g_string_append_printf (id, "%02X", b[i]);
  p->new_id = g_string_free (id, FALSE);
  {
    /* Distinct offsets within a session (while there are enough): two patients shifted alike
     * would keep their true relative timing. */
    const guint32 span = CU_ANONYMIZER_MAX_OFFSET_DAYS - CU_ANONYMIZER_MIN_OFFSET_DAYS + 1;
    gboolean can_be_unique = g_hash_table_size (self->patients) < 2 * span;

    do
      {
        guint32 r = random_below (2 * span);
        int magnitude = CU_ANONYMIZER_MIN_OFFSET_DAYS + (int) (r % span);
        p->offset_days = r < span ? -magnitude : magnitude;
      }
    while (can_be_unique && offset_used (self, p->offset_days));
  }
  g_hash_table_insert (self->patients, g_strdup (key), p);
  return p;
}

gboolean
cu_anonymizer_lookup_patient (CuAnonymizer *self, const char *patient_id,
                              const char **new_patient_id, int *date_offset_days)
{
  g_autofree char *key = NULL;
  CuAnonPatient *p;

  g_return_val_if_fail (self != NULL && patient_id != NULL, FALSE);
  key = patient_key (patient_id, NULL, NULL);
  p = g_hash_table_lookup (self->patients, key);
  if (p == NULL)
    return FALSE;
  if (new_patient_id != NULL)
    *new_patient_id = p->new_id;
  if (date_offset_days != NULL)
    *date_offset_days = p->offset_days;
  return TRUE;
}

void
cu_anonymizer_set_patient (CuAnonymizer *self, const char *patient_id, const char *patient_name,
                           const char *new_patient_id, int date_offset_days)
{
  CuAnonPatient *p;

  g_return_if_fail (self != NULL && new_patient_id != NULL);
  p = g_new0 (CuAnonPatient, 1);
  p->new_id = g_strdup (new_patient_id);
  p->offset_days = date_offset_days;
  g_hash_table_replace (self->patients, patient_key (patient_id, patient_name, NULL), p);
}

void
cu_anonymizer_set_dates_kept (CuAnonymizer *self, gboolean kept)
{
  g_return_if_fail (self != NULL);
  self->dates_kept = kept;
}

void
cu_anonymizer_keep_descriptions (CuAnonymizer *self, const char *series_uid)
{
  g_return_if_fail (self != NULL && series_uid != NULL);
  g_hash_table_add (self->keep_descriptions, g_strdup (series_uid));
}

const char *
cu_anonymizer_lookup_uid (CuAnonymizer *self, const char *original)
{
  g_return_val_if_fail (self != NULL && original != NULL, NULL);
  return g_hash_table_lookup (self->uids, original);
}

static const char *map_uid (CuAnonymizer *self, const char *uid);

const char *
cu_anonymizer_map_uid (CuAnonymizer *self, const char *original)
{
  g_return_val_if_fail (self != NULL && original != NULL, NULL);
  return map_uid (self, original);
}

static const char *
map_uid (CuAnonymizer *self, const char *uid)
{
  const char *mapped = g_hash_table_lookup (self->uids, uid);
  char *fresh;

  if (mapped != NULL)
    return mapped;
  fresh = random_uid ();
  g_hash_table_insert (self->uids, g_strdup (uid), fresh);
  return fresh;
}

/* A UI value may hold several UIDs (VM 1-n), each mapped on its own. */
static char *
map_uid_list (CuAnonymizer *self, const char *value)
{
  g_auto (GStrv) parts = g_strsplit (value, "\\", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *u = g_strstrip (parts[i]);
      if (i > 0)
        g_string_append_c (out, '\\');
      if (*u != '\0')
        g_string_append (out, map_uid (self, u));
    }
  return g_string_free (out, FALSE);
}

/* ---- Dates -------------------------------------------------------------------------- */

static gboolean
all_digits (const char *s, gsize n)
{
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  return TRUE;
}

/* Shift the leading date of one DA/DT value; the time and timezone part of a DT is kept.
 * Partial precision (YYYY, YYYYMM) is shifted from the middle of the period and written with
 * the same precision. */
static char *
shift_one (const char *v, gboolean is_datetime, int days)
{
  g_autofree char *compact = NULL;
  gsize len = strlen (v);
  gsize prec;
  int y, m = 7, d = 1;
  GDate date;
  char buf[16];

  if (len == 0)
    return g_strdup ("");
  /* ACR-NEMA "YYYY.MM.DD" (PS3.5 §6.2, retired but still met). */
  if (!is_datetime && len == 10 && v[4] == '.' && v[7] == '.')
    {
      compact = g_strdup_printf ("%.4s%.2s%.2s", v, v + 5, v + 8);
      v = compact;
      len = 8;
    }
  if (len >= 8 && all_digits (v, 8))
    prec = 8;
  else if (is_datetime && len >= 6 && all_digits (v, 6) && (len == 6 || !g_ascii_isdigit (v[6])))
    prec = 6;
  else if (is_datetime && len >= 4 && all_digits (v, 4) && (len == 4 || !g_ascii_isdigit (v[4])))
    prec = 4;
  else
    return NULL;
  if (!is_datetime && (prec != 8 || len != 8))
    return NULL;

  y = (v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0');
  if (prec >= 6)
    m = (v[4] - '0') * 10 + (v[5] - '0');
  if (prec == 8)
    d = (v[6] - '0') * 10 + (v[7] - '0');
  else if (prec == 6)
    d = 15;
  if (y < 1 || !g_date_valid_dmy ((GDateDay) d, (GDateMonth) m, (GDateYear) y))
    return NULL;
  g_date_clear (&date, 1);
  g_date_set_dmy (&date, (GDateDay) d, (GDateMonth) m, (GDateYear) y);
  if (days >= 0)
    g_date_add_days (&date, (guint) days);
  else
    {
      if (g_date_get_julian (&date) <= (guint32) -days)
        return NULL;
      g_date_subtract_days (&date, (guint) -days);
    }
  if (g_date_get_year (&date) > 9999)
    return NULL;
  g_snprintf (buf, sizeof buf, "%04u%02u%02u", g_date_get_year (&date), g_date_get_month (&date),
              g_date_get_day (&date));
  buf[prec] = '\0';
  return g_strconcat (buf, v + prec, NULL);
}

char *
cu_anonymizer_shift_date (const char *value, gboolean is_datetime, int days)
{
  g_auto (GStrv) values = NULL;
  GString *out;

  g_return_val_if_fail (value != NULL, NULL);
  values = g_strsplit (value, "\\", -1);
  out = g_string_new (NULL);
  for (guint i = 0; values[i] != NULL; i++)
    {
      /* A range "A-B" (query matching; also met in stored files): shift both ends. DT values
       * may carry a "-ZZXX" timezone, so a DT range is only split at a '-' after 8 digits. */
      g_auto (GStrv) ends = NULL;
      char *v = g_strstrip (values[i]);
      const char *dash = strchr (v, '-');

      if (i > 0)
        g_string_append_c (out, '\\');
      if (dash != NULL && !is_datetime)
        ends = g_strsplit (v, "-", 2);
      else
        ends = g_strsplit (v, "\x01", 1);
      for (guint k = 0; ends[k] != NULL; k++)
        {
          g_autofree char *shifted = NULL;
          if (k > 0)
            g_string_append_c (out, '-');
          if (*ends[k] == '\0')
            continue;
          shifted = shift_one (ends[k], is_datetime, days);
          if (shifted == NULL)
            {
              g_string_free (out, TRUE);
              return NULL;
            }
          g_string_append (out, shifted);
        }
    }
  return g_string_free (out, FALSE);
}

/* ---- The edit -------------------------------------------------------------------------- */

typedef struct
{
  CuAnonymizer *self;
  CuAnonPatient *patient;
  gboolean burned_in;      /* BurnedInAnnotation (0028,0301) is YES */
  gboolean keep_descriptions;   /* a derived series Curata wrote (see the header) */
  gboolean enhanced_equipment;  /* the IOD has the Enhanced General Equipment module */
} FileCtx;

/* SOP classes whose IOD includes the Enhanced General Equipment module (PS3.3 C.7.5.2), where
 * DeviceSerialNumber is Type 1: the enhanced and legacy-converted multi-frame images and the
 * segmentation. There its X/Z/D action must take D: an empty value makes the object invalid. */
static const char *const enhanced_equipment_classes[] = {
  "1.2.840.10008.5.1.4.1.1.2.1",     /* Enhanced CT */
  "1.2.840.10008.5.1.4.1.1.2.2",     /* Legacy Converted Enhanced CT */
  "1.2.840.10008.5.1.4.1.1.4.1",     /* Enhanced MR */
  "1.2.840.10008.5.1.4.1.1.4.3",     /* Enhanced MR Color */
  "1.2.840.10008.5.1.4.1.1.4.4",     /* Legacy Converted Enhanced MR */
  "1.2.840.10008.5.1.4.1.1.130",     /* Enhanced PET */
  "1.2.840.10008.5.1.4.1.1.128.1",   /* Legacy Converted Enhanced PET */
  "1.2.840.10008.5.1.4.1.1.12.1.1",  /* Enhanced XA */
  "1.2.840.10008.5.1.4.1.1.12.2.1",  /* Enhanced XRF */
  "1.2.840.10008.5.1.4.1.1.66.4",    /* Segmentation */
};

static gboolean
has_enhanced_equipment (const char *sop_class)
{
  for (guint i = 0; sop_class != NULL && i < G_N_ELEMENTS (enhanced_equipment_classes); i++)
    if (strcmp (sop_class, enhanced_equipment_classes[i]) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
vr_is (const CuDicomElement *el, const char *vr)
{
  return strcmp (el->vr, vr) == 0;
}

static gboolean
vr_is_date (const CuDicomElement *el)
{
  return vr_is (el, "DA") || vr_is (el, "DT");
}

/* DA/DT: the patient's offset; a value that is not a date cannot be shifted and is emptied
 * (kept, it could be a real date in an odd format). */
static CuDicomEdit
shift_date (FileCtx *ctx, const CuDicomElement *el, char **replacement)
{
  char *shifted;

  if (el->text == NULL || *el->text == '\0')
    return CU_DICOM_EDIT_KEEP;
  shifted = cu_anonymizer_shift_date (el->text, vr_is (el, "DT"), ctx->patient->offset_days);
  if (shifted == NULL)
    return CU_DICOM_EDIT_EMPTY;
  *replacement = shifted;
  return CU_DICOM_EDIT_REPLACE;
}

static CuDicomEdit
remap_uid (FileCtx *ctx, const CuDicomElement *el, char **replacement)
{
  if (el->text == NULL || *el->text == '\0')
    return CU_DICOM_EDIT_KEEP;
  *replacement = map_uid_list (ctx->self, el->text);
  return CU_DICOM_EDIT_REPLACE;
}

/* D: a dummy value consistent with the VR. Dates are shifted rather than invented, UIDs
 * remapped; sequences are emptied (their content is what the profile wants replaced). */
static CuDicomEdit
dummy (FileCtx *ctx, const CuDicomElement *el, char **replacement)
{
  static const char *const text_vrs[] = { "AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC",
                                          "UT" };

  if (el->is_sequence)
    return CU_DICOM_EDIT_EMPTY;
  if (vr_is_date (el))
    return shift_date (ctx, el, replacement);
  if (vr_is (el, "UI"))
    return remap_uid (ctx, el, replacement);
  if (vr_is (el, "TM"))
    {
      *replacement = g_strdup ("000000.00");
      return CU_DICOM_EDIT_REPLACE;
    }
  if (vr_is (el, "IS") || vr_is (el, "DS"))
    {
      *replacement = g_strdup ("0");
      return CU_DICOM_EDIT_REPLACE;
    }
  if (vr_is (el, "AS"))
    {
      *replacement = g_strdup ("000D");
      return CU_DICOM_EDIT_REPLACE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (text_vrs); i++)
    if (vr_is (el, text_vrs[i]))
      {
        *replacement = g_strdup ("ANONYMIZED");
        return CU_DICOM_EDIT_REPLACE;
      }
  return CU_DICOM_EDIT_EMPTY;
}

static CuDicomEdit
anonymize_edit (const CuDicomElement *el, char **replacement, gpointer user_data)
{
  FileCtx *ctx = user_data;
  CuDeidAction action;

  /* Private groups: no Retain Safe Private. */
  if (el->group & 1)
    return CU_DICOM_EDIT_REMOVE;
  /* Written anew after the edit. */
  if (el->depth == 0 && el->group == 0x0012
      && (el->element == 0x0062 || el->element == 0x0063 || el->element == 0x0064))
    return CU_DICOM_EDIT_REMOVE;
  if (el->depth == 0 && el->group == 0x0028 && el->element == 0x0303)
    return CU_DICOM_EDIT_REMOVE;
  if (el->depth == 0 && el->group == 0x0028 && el->element == 0x0301 && el->text != NULL
      && g_ascii_strcasecmp (el->text, "YES") == 0)
    ctx->burned_in = TRUE;
  /* Overlay planes (60xx) and curves (50xx): when the profile removes their data, the rest
   * of the group (rows, origin, type, label…) would describe nothing; it goes too. */
  if ((el->group & 1) == 0 && ((el->group >= 0x6000 && el->group <= 0x601E)
                                || (el->group >= 0x5000 && el->group <= 0x501E)))
    {
      /* (60xx,3000) is Overlay Data; any (50xx,eeee) is Curve Data. */
      if (cu_deid_profile_lookup (ctx->self->profile, el->group, 0x3000, CU_ANONYMIZER_OPTIONS,
                                  NULL, NULL) == CU_DEID_ACTION_X)
        return CU_DICOM_EDIT_REMOVE;
    }
  /* Curata's own derived series: its description and derivation say what it is (the
   * exception documented in the header). */
  if (ctx->keep_descriptions && el->depth == 0 && el->group == 0x0008
      && (el->element == 0x103E || el->element == 0x2111))
    return CU_DICOM_EDIT_KEEP;
  /* PatientName Z, PatientID Z/D: the new identifier is the dummy value, at any depth. */
  if (el->group == 0x0010 && (el->element == 0x0010 || el->element == 0x0020) && !el->is_sequence)
    {
      *replacement = g_strdup (ctx->patient->new_id);
      return CU_DICOM_EDIT_REPLACE;
    }

  action = cu_deid_profile_lookup (ctx->self->profile, el->group, el->element,
                                   CU_ANONYMIZER_OPTIONS, NULL, NULL);
  switch (action)
    {
    case CU_DEID_ACTION_NONE:
    case CU_DEID_ACTION_K:
      if (vr_is_date (el))
        return shift_date (ctx, el, replacement);
      return CU_DICOM_EDIT_KEEP;

    case CU_DEID_ACTION_C:
      if (el->is_sequence || vr_is (el, "TM"))
        return CU_DICOM_EDIT_KEEP;
      if (vr_is_date (el))
        return shift_date (ctx, el, replacement);
      return CU_DICOM_EDIT_EMPTY;

    case CU_DEID_ACTION_D:
    case CU_DEID_ACTION_X_D:
      return dummy (ctx, el, replacement);

    case CU_DEID_ACTION_X_Z:
    case CU_DEID_ACTION_X_Z_D:
      /* A sequence under X/Z/D goes: emptied it is invalid where its module wants an item
       * (Referenced Performed Procedure Step Sequence: Type 3 with one item, or 1C), and these
       * sequences are Type 3 or conditional. Under X/Z it stays empty: that covers Type 2
       * sequences (Acquisition Context Sequence), which must be present. */
      if (el->is_sequence && action == CU_DEID_ACTION_X_Z_D)
        return CU_DICOM_EDIT_REMOVE;
      /* DeviceSerialNumber is Type 1 in the Enhanced General Equipment module. */
      if (action == CU_DEID_ACTION_X_Z_D && ctx->enhanced_equipment && el->depth == 0
          && el->group == 0x0018 && el->element == 0x1000)
        return dummy (ctx, el, replacement);
      return CU_DICOM_EDIT_EMPTY;

    case CU_DEID_ACTION_Z:
    case CU_DEID_ACTION_Z_D:
      return CU_DICOM_EDIT_EMPTY;

    case CU_DEID_ACTION_X:
      return CU_DICOM_EDIT_REMOVE;

    case CU_DEID_ACTION_U:
    case CU_DEID_ACTION_X_Z_U:
      if (el->is_sequence)
        return CU_DICOM_EDIT_KEEP;
      if (vr_is (el, "UI"))
        return remap_uid (ctx, el, replacement);
      return CU_DICOM_EDIT_EMPTY;

    default:
      return CU_DICOM_EDIT_REMOVE;
    }
}

/* CID 7050 De-identification Method: the profile and the options applied. */
static const CuDicomCode method_codes[] = {
  { "113100", "DCM", "Basic Application Confidentiality Profile" },
  { "113107", "DCM", "Retain Longitudinal Temporal Information Modified Dates Option" },
  { "113108", "DCM", "Retain Patient Characteristics Option" },
};

/* The same with the dates kept (Retain Longitudinal Temporal Information Full Dates). */
static const CuDicomCode method_codes_dates_kept[] = {
  { "113100", "DCM", "Basic Application Confidentiality Profile" },
  { "113106", "DCM", "Retain Longitudinal Temporal Information Full Dates Option" },
  { "113108", "DCM", "Retain Patient Characteristics Option" },
};

static const CuDicomInsert inserts_dates_kept[] = {
  { CU_DICOM_TAG (0x0012, 0x0062), "CS", "YES" },
  { CU_DICOM_TAG (0x0012, 0x0063), "LO",
    "PS3.15 Basic Application Confidentiality Profile\\"
    "Retain Longitudinal Temporal Info Full Dates\\"
    "Retain Patient Characteristics\\"
    "Curata pseudonymized release" },
  { CU_DICOM_TAG (0x0028, 0x0303), "CS", "UNMODIFIED" },
};

static const CuDicomInsert inserts[] = {
  { CU_DICOM_TAG (0x0012, 0x0062), "CS", "YES" },
  /* LO: each value at most 64 characters, so one value per part of the method. */
  { CU_DICOM_TAG (0x0012, 0x0063), "LO",
    "PS3.15 Basic Application Confidentiality Profile\\"
    "Retain Longitudinal Temporal Info Modified Dates\\"
    "Retain Patient Characteristics\\"
    "Curata anonymized export" },
  { CU_DICOM_TAG (0x0028, 0x0303), "CS", "MODIFIED" },
};

gboolean
cu_anonymizer_anonymize_file (CuAnonymizer *self, const char *in_path, const char *out_dir,
                              char **out_path, GError **error)
{
  g_autoptr (CuDicomHeader) h = NULL;
  g_autofree char *key = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *file_name = NULL;
  FileCtx ctx;

  g_return_val_if_fail (self != NULL && in_path != NULL && out_dir != NULL, FALSE);

  h = cu_dicom_header_read (in_path, error);
  if (h == NULL)
    return FALSE;
  if (h->sop_instance_uid == NULL || *h->sop_instance_uid == '\0' || h->study_uid == NULL
      || *h->study_uid == '\0' || h->series_uid == NULL || *h->series_uid == '\0')
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MISSING,
                   _("%s: no SOP, study or series instance UID: the file cannot be exported"),
                   in_path);
      return FALSE;
    }

  key = patient_key (h->patient_id, h->patient_name, h->study_uid);
  ctx.self = self;
  ctx.patient = get_patient (self, key);
  ctx.keep_descriptions = g_hash_table_contains (self->keep_descriptions, h->series_uid);

  file_name = g_strconcat (map_uid (self, h->sop_instance_uid), ".dcm", NULL);
  dir = g_build_filename (out_dir, ctx.patient->new_id, map_uid (self, h->study_uid),
                          map_uid (self, h->series_uid), NULL);
  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot create the folder (%s)"),
                   dir, g_strerror (saved));
      return FALSE;
    }
  path = g_build_filename (dir, file_name, NULL);
  ctx.burned_in = FALSE;
  ctx.enhanced_equipment = has_enhanced_equipment (h->sop_class_uid);
  /* The fixed marks, plus PatientName and PatientID: present in every exported file even when
   * the original lacked them, so the set carries one identifier per patient throughout. */
  {
    G_STATIC_ASSERT (G_N_ELEMENTS (inserts) == G_N_ELEMENTS (inserts_dates_kept));
    G_STATIC_ASSERT (G_N_ELEMENTS (method_codes) == G_N_ELEMENTS (method_codes_dates_kept));
    CuDicomInsert all[G_N_ELEMENTS (inserts) + 2];
    gboolean kept = self->dates_kept && ctx.patient->offset_days == 0;

    memcpy (all, kept ? inserts_dates_kept : inserts, sizeof inserts);
    all[G_N_ELEMENTS (inserts)] = (CuDicomInsert) { CU_DICOM_TAG (0x0010, 0x0010), "PN",
                                                    ctx.patient->new_id };
    all[G_N_ELEMENTS (inserts) + 1] = (CuDicomInsert) { CU_DICOM_TAG (0x0010, 0x0020), "LO",
                                                        ctx.patient->new_id };
    if (!cu_dicom_rewrite_file (in_path, path, anonymize_edit, &ctx, all, G_N_ELEMENTS (all),
                                kept ? method_codes_dates_kept : method_codes,
                                G_N_ELEMENTS (method_codes), error))
      return FALSE;
  }
  /* Burned-in annotation: the pixels themselves may show names or dates, which no header
   * edit removes (PS3.15 E.3.1 Clean Pixel Data is not done here). Such a file never leaves. */
  if (ctx.burned_in)
    {
      g_unlink (path);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_UNSUPPORTED,
                   _("%s: BurnedInAnnotation is YES: the pixels may show identifying text, "
                     "the file is not exported"), in_path);
      return FALSE;
    }
  if (out_path != NULL)
    *out_path = g_steal_pointer (&path);
  return TRUE;
}

/* ---- Export from a workspace ------------------------------------------------------- */

static void
held_free (gpointer data)
{
  CuAnonymizeHeld *h = data;

  g_free (h->study_uid);
  g_free (h->reason);
  g_free (h);
}

static void
add_held (GPtrArray *array, const char *what, const char *reason)
{
  CuAnonymizeHeld *h = g_new0 (CuAnonymizeHeld, 1);

  h->study_uid = g_strdup (what);
  h->reason = g_strdup (reason);
  g_ptr_array_add (array, h);
}

void
cu_anonymize_report_free (CuAnonymizeReport *report)
{
  if (report == NULL)
    return;
  g_ptr_array_unref (report->files);
  g_ptr_array_unref (report->held);
  g_ptr_array_unref (report->failed);
  g_free (report);
}

/* A full StudyInstanceUID or a unique prefix of one, among the workspace's studies. */
static const char *
resolve_study (GPtrArray *study_uids, const char *wanted, GError **error)
{
  const char *found = NULL;

  for (guint i = 0; i < study_uids->len; i++)
    if (strcmp (study_uids->pdata[i], wanted) == 0)
      return study_uids->pdata[i];
  for (guint i = 0; i < study_uids->len; i++)
    if (g_str_has_prefix (study_uids->pdata[i], wanted))
      {
        if (found != NULL)
          {
            g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_AMBIGUOUS,
                         _("“%s” matches several studies"), wanted);
            return NULL;
          }
        found = study_uids->pdata[i];
      }
  if (found == NULL)
    g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND,
                 _("No study “%s” in the workspace"), wanted);
  return found;
}

/* A series whose headers say what no image can be (a rescale beyond float range, NaN numbers,
 * a degenerate orientation or spacing) does not leave: every reader downstream would crash on
 * it or compute garbage. It is reported as failed, with the file and the reason. Series
 * without images (SR, …) have no plan and go as before. */
static gboolean
series_values_valid (const char *series_uid, const char *const *paths, GPtrArray *failed,
                     GCancellable *cancellable)
{
  g_autoptr (CuSeriesPlan) plan = cu_series_plan_new_from_files (paths, NULL, cancellable, NULL);
  g_autoptr (GError) error = NULL;

  if (plan == NULL || cu_series_plan_check_values (plan, &error))
    return TRUE;
  add_held (failed, series_uid, error->message);
  return FALSE;
}

/* Whether the study's pseudonymization gate lets it leave (shared with the release gate). */
static gboolean
gate_allows (CuStore *store, const char *study_uid, char **reason)
{
  return cu_store_study_may_leave (store, study_uid, NULL, reason);
}

gboolean
cu_anonymizer_keep_derived_descriptions (CuAnonymizer *self, CuStore *store, GError **error)
{
  g_autoptr (GPtrArray) derived = cu_store_list_derived_series (store, NULL, error);

  if (derived == NULL)
    return FALSE;
  for (guint i = 0; i < derived->len; i++)
    cu_anonymizer_keep_descriptions (self,
                                     ((CuDerivedSeriesInfo *) derived->pdata[i])->series_uid);
  return TRUE;
}

/* ---- The release gate of the quick path ------------------------------------------- */

/* The holds the quick export obeys: all of the release gate's (a series nobody reviewed
 * yet stays, as in a release), except that the pseudonymization gate is checked by
 * gate_allows with its own messages, header values no reader can use are reported by
 * series_values_valid as failed, and the inclusion rules hold back only patients with
 * clinical data: they judge the follow-up, and a single export of images alone is the
 * quick path's purpose, while an anonymized release holds such patients. */
static gboolean
quick_hold_applies (const CuReleaseHold *h, gboolean has_clinical)
{
  if (h->kind == CU_RELEASE_HOLD_INCLUSION)
    return has_clinical;
  return h->kind != CU_RELEASE_HOLD_DEID && h->kind != CU_RELEASE_HOLD_INVALID;
}

static const char *
first_hold (GPtrArray *holds, gboolean has_clinical)
{
  for (guint i = 0; holds != NULL && i < holds->len; i++)
    if (quick_hold_applies (holds->pdata[i], has_clinical))
      return ((const CuReleaseHold *) holds->pdata[i])->message;
  return NULL;
}

static gboolean
has_clinical_data (CuStore *store, const char *person_id)
{
  const char *const *variables = cu_clinical_variables ();

  if (person_id == NULL || *person_id == '\0')
    return FALSE;
  for (guint i = 0; variables[i] != NULL; i++)
    {
      g_autofree char *value = cu_clinical_get_value (store, person_id, variables[i]);
      if (value != NULL && *value != '\0')
        return TRUE;
    }
  return FALSE;
}

typedef struct
{
  GHashTable *held_studies;   /* study UID → reason (borrowed from plan) */
  GHashTable *held_series;    /* series UID → reason */
  CuReleasePlan *plan;
} QuickGate;

static void
quick_gate_clear (QuickGate *g)
{
  g_clear_pointer (&g->held_studies, g_hash_table_unref);
  g_clear_pointer (&g->held_series, g_hash_table_unref);
  g_clear_pointer (&g->plan, cu_release_plan_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (QuickGate, quick_gate_clear)

/* Evaluate the release gate on the selected studies as the implicit anonymized release
 * CU_ANONYMIZER_RELEASE (reused while it is open, a new version after each export). A study
 * the release refuses to take (its patient was withdrawn, or released in anonymized mode
 * before) is held with the release's message. */
static gboolean
quick_gate_check (QuickGate *g, CuStore *store, GPtrArray *studies, GPtrArray *held,
                  GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (CuRelease) release = cu_release_create (store, CU_ANONYMIZER_RELEASE,
                                                     CU_RELEASE_ANONYMIZED, TRUE, &local);

  g->held_studies = g_hash_table_new (g_str_hash, g_str_equal);
  g->held_series = g_hash_table_new (g_str_hash, g_str_equal);
  if (release == NULL)
    {
      if (!g_error_matches (local, CU_RELEASE_ERROR, CU_RELEASE_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* An earlier export stopped before it was recorded: start its items afresh. */
      release = cu_release_get (store, CU_ANONYMIZER_RELEASE, error);
      if (release == NULL)
        return FALSE;
      if (release->items != NULL && release->items[0] != NULL
          && !cu_release_remove (store, CU_ANONYMIZER_RELEASE,
                                 (const char *const *) release->items, error))
        return FALSE;
    }
  for (guint i = 0; i < studies->len; i++)
    {
      const char *items[] = { studies->pdata[i], NULL };
      g_autoptr (GError) refused = NULL;

      if (cu_release_add (store, CU_ANONYMIZER_RELEASE, items, &refused))
        continue;
      if (refused->domain != CU_RELEASE_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&refused));
          return FALSE;
        }
      add_held (held, studies->pdata[i], refused->message);
      g_hash_table_insert (g->held_studies, studies->pdata[i], (gpointer) "");
    }
  g->plan = cu_release_check (store, CU_ANONYMIZER_RELEASE, NULL, cancellable, error);
  if (g->plan == NULL)
    return FALSE;
  for (guint i = 0; i < g->plan->patients->len; i++)
    {
      const CuReleasePatientPlan *pp = g->plan->patients->pdata[i];
      gboolean clinical = has_clinical_data (store, pp->patient_id);
      const char *patient_reason = first_hold (pp->holds, clinical);

      for (guint s = 0; s < pp->studies->len; s++)
        {
          const CuReleaseStudyPlan *st = pp->studies->pdata[s];
          const char *reason = patient_reason != NULL ? patient_reason
                               : first_hold (st->holds, clinical);

          if (reason != NULL)
            {
              if (!g_hash_table_contains (g->held_studies, st->study_uid))
                g_hash_table_insert (g->held_studies, st->study_uid, (gpointer) reason);
              continue;
            }
          for (guint k = 0; k < st->series->len; k++)
            {
              const CuReleaseSeriesPlan *sp = st->series->pdata[k];
              const char *series_reason = first_hold (sp->holds, clinical);

              if (series_reason != NULL)
                g_hash_table_insert (g->held_series, sp->series_uid, (gpointer) series_reason);
            }
        }
    }
  return TRUE;
}

/* The ledger: what was written, as digests only (cu-release.h), recorded as the implicit
 * release written to out_dir. Patients as the plan names them (the workspace's values, which
 * the gate looks up). */
static gboolean
quick_gate_record (CuStore *store, const CuReleasePlan *plan, const char *out_dir,
                   const char *manifest_sha256, GPtrArray *written_sources, GError **error)
{
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (CuLedgerEntry));
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) studies = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *canonical = g_canonicalize_filename (out_dir, NULL);

#define ADD(kind_, digest_) \
  G_STMT_START { \
    char *d_ = (digest_); \
    CuLedgerEntry e_ = { kind_, d_ }; \
    if (d_ == NULL) \
      return FALSE; \
    g_ptr_array_add (strings, d_); \
    g_array_append_val (entries, e_); \
  } G_STMT_END

  for (guint i = 0; i < written_sources->len; i++)
    {
      g_autoptr (CuDicomHeader) h = cu_dicom_header_read (written_sources->pdata[i], error);

      if (h == NULL)
        return FALSE;
      ADD ("instance", cu_release_digest (store, "instance", h->sop_instance_uid,
                                          strlen (h->sop_instance_uid), error));
      /* Pixels no decoder here reads (a damaged stream the export copied as it was) have no
       * digest: the instance is still recorded by its UID. */
      if (h->has_pixels)
        {
          char *pixels = cu_release_pixel_digest (store, h->sop_instance_uid, NULL);
          if (pixels != NULL)
            ADD ("pixels", pixels);
        }
      if (g_hash_table_add (studies, g_strdup (h->study_uid)))
        ADD ("study", cu_release_digest (store, "study", h->study_uid, strlen (h->study_uid),
                                         error));
    }
  for (guint i = 0; i < plan->patients->len; i++)
    {
      const CuReleasePatientPlan *pp = plan->patients->pdata[i];
      gboolean sent = FALSE;

      for (guint s = 0; s < pp->studies->len && !sent; s++)
        sent = g_hash_table_contains (studies,
                                      ((const CuReleaseStudyPlan *) pp->studies->pdata[s])->study_uid);
      if (sent)
        ADD ("patient", cu_release_patient_digest (store, pp->patient_id, pp->patient_name,
                                                   error));
    }
#undef ADD
  return cu_release_mark_written (store, CU_ANONYMIZER_RELEASE, canonical, manifest_sha256,
                                  entries, error);
}

/* The export's manifest, with the audit trail's head after the export's own audit row. */
static gboolean
write_export_manifest (CuStore *store, const char *out_dir, const CuAnonymizeReport *report,
                       char **sha256, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);
  g_autofree char *options = cu_deid_options_to_string (CU_ANONYMIZER_OPTIONS);
  g_autofree char *path = g_build_filename (out_dir, CU_ANONYMIZER_MANIFEST, NULL);
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, "curata-anonymized-export");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, created);
  json_builder_set_member_name (b, "created_by");
  json_builder_add_string_value (b, g_get_user_name ());
  json_builder_set_member_name (b, "options");
  json_builder_add_string_value (b, options);
  json_builder_set_member_name (b, "studies");
  json_builder_add_int_value (b, report->n_studies);
  json_builder_set_member_name (b, "patients");
  json_builder_add_int_value (b, report->n_patients);
  json_builder_set_member_name (b, "files");
  json_builder_add_int_value (b, report->n_files);
  if (!cu_store_audit_add_head_json (store, b, error))
    return FALSE;
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  *sha256 = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
  return g_file_set_contents (path, text, -1, error);
}

CuAnonymizeReport *
cu_anonymizer_export_store (CuAnonymizer *self, CuStore *store, const char *const *studies,
                            const char *out_dir, CuProgress *progress, GCancellable *cancellable,
                            GError **error)
{
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GPtrArray) study_uids = g_ptr_array_new ();       /* borrowed from records */
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) selected = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) patients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (CuAnonymizeReport) report = g_new0 (CuAnonymizeReport, 1);
  g_autoptr (GHashTable) exported_studies = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                                   g_free, NULL);
  g_autofree char *detail = NULL;
  g_autofree char *manifest_sha256 = NULL;
  g_autoptr (GPtrArray) passed = g_ptr_array_new ();          /* borrowed study UIDs */
  g_autoptr (GPtrArray) written_sources = g_ptr_array_new ();  /* borrowed from files */
  g_auto (QuickGate) gate = { 0 };

  g_return_val_if_fail (self != NULL && CU_IS_STORE (store) && out_dir != NULL, NULL);

  report->files = g_ptr_array_new_with_free_func (g_free);
  report->held = g_ptr_array_new_with_free_func (held_free);
  report->failed = g_ptr_array_new_with_free_func (held_free);

  records = cu_store_list_series (store, error);
  if (records == NULL)
    return NULL;
  if (!cu_anonymizer_keep_derived_descriptions (self, store, error))
    return NULL;
  for (guint i = 0; i < records->len; i++)
    {
      CuSeriesRecord *r = records->pdata[i];
      if (r->study_uid != NULL && g_hash_table_add (seen, r->study_uid))
        g_ptr_array_add (study_uids, r->study_uid);
    }

  if (studies != NULL && studies[0] != NULL)
    for (guint i = 0; studies[i] != NULL; i++)
      {
        const char *uid = resolve_study (study_uids, studies[i], error);
        if (uid == NULL)
          return NULL;
        g_hash_table_add (selected, (gpointer) uid);
      }
  else
    for (guint i = 0; i < study_uids->len; i++)
      g_hash_table_add (selected, study_uids->pdata[i]);

  /* Which files: every series of every selected study whose pseudonymization gate lets it
   * out, and then what the release gate says (QC decisions, error flags, inclusion rules,
   * withdrawal, the ledger). */
  for (guint i = 0; i < study_uids->len; i++)
    {
      const char *uid = study_uids->pdata[i];
      g_autofree char *reason = NULL;

      if (!g_hash_table_contains (selected, uid))
        continue;
      if (!gate_allows (store, uid, &reason))
        {
          add_held (report->held, uid, reason);
          continue;
        }
      g_ptr_array_add (passed, (gpointer) uid);
    }
  if (passed->len > 0
      && !quick_gate_check (&gate, store, passed, report->held, cancellable, error))
    return NULL;
  for (guint i = 0; i < passed->len; i++)
    {
      const char *uid = passed->pdata[i];
      const char *reason = gate.held_studies != NULL ? g_hash_table_lookup (gate.held_studies, uid)
                                                      : NULL;

      if (reason != NULL)
        {
          if (*reason != '\0')
            add_held (report->held, uid, reason);
          continue;
        }
      for (guint k = 0; k < records->len; k++)
        {
          CuSeriesRecord *r = records->pdata[k];
          g_auto (GStrv) paths = NULL;
          const char *series_reason;

          if (g_strcmp0 (r->study_uid, uid) != 0)
            continue;
          series_reason = g_hash_table_lookup (gate.held_series, r->series_uid);
          if (series_reason != NULL)
            {
              /* Translators: a series held back by the release gate: "series UID: reason" */
              g_autofree char *why = g_strdup_printf (_("series %s: %s"), r->series_uid,
                                                      series_reason);
              add_held (report->held, uid, why);
              continue;
            }
          paths = cu_store_get_series_files (store, r->series_uid, error);
          if (paths == NULL)
            return NULL;
          if (!series_values_valid (r->series_uid, (const char *const *) paths, report->failed,
                                    cancellable))
            continue;
          for (guint f = 0; paths[f] != NULL; f++)
            g_ptr_array_add (files, g_strdup (paths[f]));
        }
    }

  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_IO, _("%s: cannot create the folder (%s)"),
                   out_dir, g_strerror (saved));
      return NULL;
    }

  for (guint i = 0; i < files->len; i++)
    {
      const char *in = files->pdata[i];
      g_autoptr (GError) file_error = NULL;
      g_autofree char *out = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      cu_progress_report_count (progress, i, files->len, _("Anonymizing"));
      if (!cu_anonymizer_anonymize_file (self, in, out_dir, &out, &file_error))
        {
          add_held (report->failed, in, file_error->message);
          continue;
        }
      g_ptr_array_add (report->files, g_steal_pointer (&out));
      g_ptr_array_add (written_sources, (gpointer) in);
    }
  cu_progress_report_count (progress, files->len, files->len, _("Anonymizing"));

  /* Counts from the written tree: OUT/<patient>/<study>/… */
  for (guint i = 0; i < report->files->len; i++)
    {
      const char *rel = (const char *) report->files->pdata[i] + strlen (out_dir);
      g_auto (GStrv) parts = NULL;

      while (*rel == G_DIR_SEPARATOR)
        rel++;
      parts = g_strsplit (rel, G_DIR_SEPARATOR_S, 3);
      if (parts[0] == NULL || parts[1] == NULL)
        continue;
      g_hash_table_add (patients, g_strdup (parts[0]));
      g_hash_table_add (exported_studies, g_strdup (parts[1]));
    }
  report->n_files = report->files->len;
  report->n_patients = g_hash_table_size (patients);
  report->n_studies = g_hash_table_size (exported_studies);

  /* The audit log says that an export happened, where to and how much: never which study
   * became which (that would be the correspondence table the export must not leave). */
  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "studies");
    json_builder_add_int_value (db, report->n_studies);
    json_builder_set_member_name (db, "patients");
    json_builder_add_int_value (db, report->n_patients);
    json_builder_set_member_name (db, "files");
    json_builder_add_int_value (db, report->n_files);
    json_builder_set_member_name (db, "held");
    json_builder_add_int_value (db, report->held->len);
    json_builder_set_member_name (db, "failed");
    json_builder_add_int_value (db, report->failed->len);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
  if (!cu_store_audit (store, "anonymize-export", out_dir, detail, error))
    return NULL;
  if (report->n_files > 0 && !write_export_manifest (store, out_dir, report, &manifest_sha256,
                                                     error))
    return NULL;
  /* The ledger last, with what was written: exporting the same study again is then held
   * ("already sent", naming this export) instead of giving it a second new identity. */
  if (report->n_files > 0
      && !quick_gate_record (store, gate.plan, out_dir, manifest_sha256, written_sources, error))
    return NULL;
  return g_steal_pointer (&report);
}

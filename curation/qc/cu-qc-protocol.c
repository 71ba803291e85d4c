/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-protocol.c — protocol conformance of a study (cu-qc-protocol.h).
 *
 * The built-in prostate protocol transcribes PI-RADS v2.1's minimum technical parameters
 * (B. Turkbey et al., "Prostate Imaging Reporting and Data System Version 2.1", Eur Urol
 * 76(3):340–351, 2019, doi:10.1016/j.eururo.2019.02.033) as summarised in the project's
 * standards/prostate_mpmri_protocol.md; how each parameter is measured from DICOM follows §3 of
 * that page (gap from positions, acquired in-plane size from AcquisitionMatrix and
 * InPlanePhaseEncodingDirection, high b as the largest b of the series, DCE temporal
 * resolution from acquisition times). Sequences are recognised by cu-qc-sequence.c from
 * attributes the Basic Profile keeps.
 *
 * For each requirement the candidate series (right type and plane) are scored by how many
 * limits they meet, and the best one is judged, so a study with a good and a poor T2 passes on
 * the good one; the others are not reported.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <math.h>
#include <string.h>

#include "cu-qc-protocol.h"
#include "cu-pack-set.h"

typedef struct
{
  char *key;
  char *label;
  char **types;
  char **planes;
  gboolean required;
  double max_thickness, max_gap, max_pixel, max_phase, max_freq, max_te, min_tr, min_b;
  double max_temporal, min_observation;
} Requirement;

struct _CuQcProtocol
{
  char *id;
  char *name;
  char **modalities;         /* the studies it is for (Modalities=MR;…), or NULL: every study */
  char **body_parts;         /* … whose BodyPartExamined is one of these (or absent) */
  char **sequences;          /* … whose series classification is one of these */
  GPtrArray *requirements;   /* Requirement */
};

typedef struct
{
  const char *key;           /* in the file */
  const char *parameter;     /* CU_QC_P_* */
  gboolean is_max;
  gsize offset;
  const char *what;          /* N_() */
  const char *unit;
} Limit;

static const Limit limits[] = {
  { "MaxSliceThickness", CU_QC_P_THICKNESS, TRUE, G_STRUCT_OFFSET (Requirement, max_thickness), N_("slice thickness"), "mm" },
  { "MaxGap", CU_QC_P_GAP, TRUE, G_STRUCT_OFFSET (Requirement, max_gap), N_("gap between slices"), "mm" },
  { "MaxPixelSpacing", CU_QC_P_PIXEL, TRUE, G_STRUCT_OFFSET (Requirement, max_pixel), N_("pixel spacing"), "mm" },
  { "MaxAcquiredPhase", CU_QC_P_ACQ_PHASE, TRUE, G_STRUCT_OFFSET (Requirement, max_phase), N_("acquired resolution (phase)"), "mm" },
  { "MaxAcquiredFrequency", CU_QC_P_ACQ_FREQ, TRUE, G_STRUCT_OFFSET (Requirement, max_freq), N_("acquired resolution (frequency)"), "mm" },
  { "MaxEchoTime", CU_QC_P_TE, TRUE, G_STRUCT_OFFSET (Requirement, max_te), N_("echo time"), "ms" },
  { "MinRepetitionTime", CU_QC_P_TR, FALSE, G_STRUCT_OFFSET (Requirement, min_tr), N_("repetition time"), "ms" },
  { "MinHighB", CU_QC_P_BMAX, FALSE, G_STRUCT_OFFSET (Requirement, min_b), N_("highest b-value"), "s/mm²" },
  { "MaxTemporalResolution", CU_QC_P_TEMPORAL, TRUE, G_STRUCT_OFFSET (Requirement, max_temporal), N_("temporal resolution"), "s" },
  { "MinObservation", NULL, FALSE, G_STRUCT_OFFSET (Requirement, min_observation), N_("total observation"), "s" },
};

/* The protocols of every shipped pack, by id. */
const char *const *
cu_qc_protocol_builtin (void)
{
  static char **ids;
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      GPtrArray *files = cu_pack_set_get_protocols (cu_pack_set_all_builtin ());
      ids = g_new0 (char *, files->len + 1);
      for (guint i = 0; i < files->len; i++)
        ids[i] = g_strdup (((CuPackFile *) files->pdata[i])->id);
      g_once_init_leave (&once, 1);
    }
  return (const char *const *) ids;
}

static void
requirement_free (Requirement *r)
{
  g_free (r->key);
  g_free (r->label);
  g_strfreev (r->types);
  g_strfreev (r->planes);
  g_free (r);
}

void
cu_qc_protocol_free (CuQcProtocol *p)
{
  if (p == NULL)
    return;
  g_free (p->id);
  g_free (p->name);
  g_strfreev (p->modalities);
  g_strfreev (p->body_parts);
  g_strfreev (p->sequences);
  g_ptr_array_unref (p->requirements);
  g_free (p);
}

const char *
cu_qc_protocol_get_id (CuQcProtocol *p)
{
  return p->id;
}

const char *
cu_qc_protocol_get_name (CuQcProtocol *p)
{
  return p->name;
}

static CuQcProtocol *parse (GKeyFile *kf, const char *id_or_path, GError **error);

CuQcProtocol *
cu_qc_protocol_new_from_data (const char *text, const char *origin, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;

  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_KEEP_TRANSLATIONS, &local))
    {
      g_set_error (error, CU_QC_ERROR, CU_QC_ERROR_PROTOCOL, _("%s: not a protocol file: %s"), origin,
                   local->message);
      return NULL;
    }
  return parse (kf, origin, error);
}

CuQcProtocol *
cu_qc_protocol_load (const char *id_or_path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local = NULL;
  const CuPackFile *shipped;

  g_return_val_if_fail (id_or_path != NULL, NULL);
  shipped = cu_pack_set_find_protocol (cu_pack_set_all_builtin (), id_or_path);
  if (shipped != NULL)
    return cu_qc_protocol_new_from_data (shipped->text, shipped->file, error);
  if (!g_key_file_load_from_file (kf, id_or_path, G_KEY_FILE_KEEP_TRANSLATIONS, &local))
    {
      g_set_error (error, CU_QC_ERROR, CU_QC_ERROR_PROTOCOL, _("%s: not a protocol file: %s"), id_or_path,
                   local->message);
      return NULL;
    }
  return parse (kf, id_or_path, error);
}

static CuQcProtocol *
parse (GKeyFile *kf, const char *id_or_path, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_auto (GStrv) keys = NULL;
  CuQcProtocol *p;

  keys = g_key_file_get_string_list (kf, "Protocol", "Series", NULL, &local);
  if (keys == NULL)
    {
      g_set_error (error, CU_QC_ERROR, CU_QC_ERROR_PROTOCOL,
                   _("%s: the [Protocol] group must list its series (Series=…)"), id_or_path);
      return NULL;
    }
  p = g_new0 (CuQcProtocol, 1);
  p->id = g_key_file_get_string (kf, "Protocol", "Id", NULL);
  if (p->id == NULL)
    p->id = g_strdup (id_or_path);
  p->name = g_key_file_get_locale_string (kf, "Protocol", "Name", NULL, NULL);
  if (p->name == NULL)
    p->name = g_strdup (p->id);
  p->modalities = g_key_file_get_string_list (kf, "Protocol", "Modalities", NULL, NULL);
  p->body_parts = g_key_file_get_string_list (kf, "Protocol", "BodyParts", NULL, NULL);
  p->sequences = g_key_file_get_string_list (kf, "Protocol", "Sequences", NULL, NULL);
  p->requirements = g_ptr_array_new_with_free_func ((GDestroyNotify) requirement_free);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      Requirement *r = g_new0 (Requirement, 1);
      const char *g = keys[i];

      r->key = g_strdup (g);
      r->label = g_key_file_get_locale_string (kf, g, "Label", NULL, NULL);
      if (r->label == NULL)
        r->label = g_strdup (g);
      r->types = g_key_file_get_string_list (kf, g, "Type", NULL, NULL);
      r->planes = g_key_file_get_string_list (kf, g, "Planes", NULL, NULL);
      r->required = !g_key_file_has_key (kf, g, "Required", NULL)
                    || g_key_file_get_boolean (kf, g, "Required", NULL);
      for (guint l = 0; l < G_N_ELEMENTS (limits); l++)
        {
          double *slot = G_STRUCT_MEMBER_P (r, limits[l].offset);
          *slot = g_key_file_has_key (kf, g, limits[l].key, NULL)
                  ? g_key_file_get_double (kf, g, limits[l].key, NULL) : NAN;
        }
      if (r->types == NULL)
        {
          g_set_error (error, CU_QC_ERROR, CU_QC_ERROR_PROTOCOL, _("%s: series %s has no Type"), id_or_path, g);
          requirement_free (r);
          cu_qc_protocol_free (p);
          return NULL;
        }
      g_ptr_array_add (p->requirements, r);
    }
  return p;
}

static double
parameter (const CuQcReport *r, const char *name)
{
  if (name == NULL)
    {
      /* total observation = (phases − 1) × temporal resolution */
      double n = parameter (r, CU_QC_P_PHASES), dt = parameter (r, CU_QC_P_TEMPORAL);
      return (isfinite (n) && isfinite (dt)) ? (n - 1) * dt : NAN;
    }
  for (guint i = 0; r->parameters != NULL && i < r->parameters->len; i++)
    {
      const CuQcMetric *m = &g_array_index (r->parameters, CuQcMetric, i);
      if (strcmp (m->name, name) == 0)
        return m->value;
    }
  return NAN;
}

static gboolean
in_list (char **list, const char *value)
{
  if (list == NULL)
    return TRUE;
  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (list[i]), value ? value : "") == 0)
      return TRUE;
  return FALSE;
}

/* Limits met (2 each) and not verifiable (1 each): the best candidate has the highest score. */
static int
score (const Requirement *q, const CuQcReport *r)
{
  int s = 0;

  for (guint l = 0; l < G_N_ELEMENTS (limits); l++)
    {
      double lim = G_STRUCT_MEMBER (double, q, limits[l].offset), v = parameter (r, limits[l].parameter);
      if (!isfinite (lim))
        continue;
      if (!isfinite (v))
        s += 1;
      else if (limits[l].is_max ? v <= lim + 1e-6 : v >= lim - 1e-6)
        s += 2;
    }
  return s;
}

/* A series the protocol is for: its modality, body part (when the files say) and recognised
 * sequence are among those the protocol lists. */
static gboolean
series_applies (const CuQcProtocol *p, const CuQcReport *r)
{
  if (p->modalities != NULL && (r->modality == NULL || !in_list (p->modalities, r->modality)))
    return FALSE;
  if (p->body_parts != NULL && r->body_part != NULL && r->body_part[0] != '\0'
      && !in_list (p->body_parts, r->body_part))
    return FALSE;
  if (p->sequences != NULL && (r->sequence == NULL || !in_list (p->sequences, r->sequence)))
    return FALSE;
  return TRUE;
}

gboolean
cu_qc_protocol_applies (CuQcProtocol *p, GPtrArray *reports)
{
  for (guint k = 0; k < reports->len; k++)
    if (series_applies (p, reports->pdata[k]))
      return TRUE;
  return FALSE;
}

static char *
describe_scope (const CuQcProtocol *p)
{
  g_autofree char *mod = p->modalities != NULL ? g_strjoinv ("/", p->modalities) : g_strdup ("");
  g_autofree char *body = p->body_parts != NULL ? g_strjoinv ("/", p->body_parts) : NULL;
  g_autofree char *seq = p->sequences != NULL ? g_strjoinv ("/", p->sequences) : NULL;

  if (body != NULL && seq != NULL)
    /* TRANSLATORS: "MR studies of PROSTATE/PELVIS (T2W/DWI/ADC/DCE)": modality, body part, series */
    return g_strdup_printf (_("%s studies of %s (%s)"), mod, body, seq);
  if (body != NULL)
    return g_strdup_printf (_("%s studies of %s"), mod, body);
  if (seq != NULL)
    return g_strdup_printf (_("%s studies (%s)"), mod, seq);
  return g_strdup_printf (_("%s studies"), mod);
}

GPtrArray *
cu_qc_protocol_check (CuQcProtocol *p, GPtrArray *reports)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_qc_finding_free);

  /* A study none of whose series the protocol is for (a CT in a prostate MR project, an fMRI,
   * an SR document) is outside it: saying it lacks an axial T2 would bury the real findings. */
  if (!cu_qc_protocol_applies (p, reports))
    {
      g_autofree char *what = describe_scope (p);
      g_ptr_array_add (out, cu_qc_finding_new (CU_QC_PROTOCOL, CU_QC_SEVERITY_INFO, -1, NULL, NULL,
                                               g_strdup_printf (_("Not checked against the protocol: it "
                                                                  "is for %s, and this study has no such "
                                                                  "series"),
                                                                what)));
      return out;
    }

  for (guint i = 0; i < p->requirements->len; i++)
    {
      const Requirement *q = p->requirements->pdata[i];
      const CuQcReport *best = NULL;
      int best_score = -1;

      for (guint k = 0; k < reports->len; k++)
        {
          const CuQcReport *r = reports->pdata[k];
          int s;
          if (r->sequence == NULL || !in_list (q->types, r->sequence) || !in_list (q->planes, r->plane))
            continue;
          s = score (q, r);
          if (s > best_score)
            {
              best = r;
              best_score = s;
            }
        }
      if (best == NULL)
        {
          g_autofree char *planes = q->planes ? g_strjoinv ("/", q->planes) : g_strdup ("");
          g_ptr_array_add (out, cu_qc_finding_new (CU_QC_PROTOCOL,
                                                   q->required ? CU_QC_SEVERITY_ERROR : CU_QC_SEVERITY_WARNING,
                                                   -1, q->key, NULL,
                                                   g_strdup_printf (q->required ? _("Missing: %s (%s), required")
                                                                                : _("Missing: %s (%s), recommended"),
                                                                    q->label, planes)));
          continue;
        }
      for (guint l = 0; l < G_N_ELEMENTS (limits); l++)
        {
          double lim = G_STRUCT_MEMBER (double, q, limits[l].offset), v = parameter (best, limits[l].parameter);
          if (!isfinite (lim))
            continue;
          if (!isfinite (v))
            g_ptr_array_add (out, cu_qc_finding_new (CU_QC_PROTOCOL, CU_QC_SEVERITY_INFO, -1, q->key,
                                                     NULL,
                                                     g_strdup_printf (_("%s: %s cannot be verified from the files "
                                                                        "(series %s)"),
                                                                      q->label, _(limits[l].what), best->series_uid)));
          else if (limits[l].is_max ? v > lim + 1e-6 : v < lim - 1e-6)
            g_ptr_array_add (out, cu_qc_finding_new (CU_QC_PROTOCOL, CU_QC_SEVERITY_ERROR, -1, q->key, NULL,
                                                     g_strdup_printf (limits[l].is_max
                                                                        ? _("%s: %s is %.4g %s, at most %.4g %s required (series %s)")
                                                                        : _("%s: %s is %.4g %s, at least %.4g %s required (series %s)"),
                                                                      q->label, _(limits[l].what), v,
                                                                      limits[l].unit, lim, limits[l].unit,
                                                                      best->series_uid)));
        }
    }
  return out;
}

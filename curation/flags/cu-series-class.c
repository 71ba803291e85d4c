/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-series-class.c — classifying catalogued series for the consistency rules.
 *
 * Method: the quality gate's recogniser (cu-qc-sequence.c, after the recognition table of
 * the project's PI-RADS v2.1 protocol notes and dcm2niix) applied to the first image header,
 * with the number of volumes from the series plan (as the quality gate computes it) and the
 * highest b-value over every image: DiffusionBValue (0018,9087), else the vendor tags the
 * header reader knows (GE 0043,1039; Siemens 0019,100C; Philips 2001,1003), else the Siemens
 * sequence name convention "*ep_b50_1400t" (the b-values the series was acquired or
 * calculated with). Nothing is re-implemented here: this file only gathers the headers, calls
 * the recogniser and stores what it says.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-dicom-header.h"
#include "cu-qc-sequence.h"
#include "cu-series-class.h"
#include "cu-series-plan.h"
#include "cu-store-private.h"
#include "cu-volume.h"

void
cu_series_class_free (CuSeriesClass *klass)
{
  if (klass == NULL)
    return;
  g_free (klass->sequence);
  g_free (klass->plane);
  g_free (klass->image_type);
  g_free (klass->scanning_sequence);
  g_free (klass->sequence_name);
  g_free (klass->patient_age);
  g_free (klass);
}

/* The b-values in a Siemens sequence name: "*ep_b1400t" → 1400, "*ep_b50_1400t" → 1400. */
static double
b_from_sequence_name (const char *name)
{
  const char *p = name != NULL ? strstr (name, "ep_b") : NULL;
  double best = -1;

  if (p == NULL)
    return -1;
  p += 4;
  while (g_ascii_isdigit (*p))
    {
      char *end;
      double b = g_ascii_strtod (p, &end);

      best = MAX (best, b);
      p = end;
      while (*p == '_' || *p == 't' || *p == '#')
        p++;
    }
  return best;
}

CuSeriesClass *
cu_series_class_from_files (const char *const *paths, GCancellable *cancellable, GError **error)
{
  g_autoptr(GPtrArray) headers = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicom_header_free);
  g_autoptr(GError) first_error = NULL;
  g_autoptr(CuSeriesClass) klass = g_new0 (CuSeriesClass, 1);
  g_autoptr(CuSeriesPlan) plan = NULL;
  const CuDicomHeader *h0 = NULL;
  double normal[3] = { 0, 0, 0 };
  int n_volumes = 1;

  klass->b_max = -1;
  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autoptr(GError) local = NULL;
      CuDicomHeader *h;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      h = cu_dicom_header_read (paths[i], &local);
      if (h == NULL)
        {
          if (first_error == NULL)
            first_error = g_steal_pointer (&local);
          continue;
        }
      if (!h->has_pixels || h->rows <= 0 || h->columns <= 0)
        {
          cu_dicom_header_free (h);
          continue;
        }
      klass->b_max = MAX (klass->b_max, h->b_value);
      for (guint f = 0; f < h->n_frames; f++)
        klass->b_max = MAX (klass->b_max, h->frames[f].b_value);
      if (klass->patient_age == NULL && h->patient_age != NULL && h->patient_age[0] != '\0')
        klass->patient_age = g_strdup (h->patient_age);
      g_ptr_array_add (headers, h);
    }
  if (headers->len == 0)
    {
      if (first_error != NULL)
        g_propagate_error (error, g_steal_pointer (&first_error));
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                     _("The series has no images to classify"));
      return NULL;
    }

  h0 = cu_qc_representative_image (headers);
  klass->image_type = g_strdup (h0->image_type);
  klass->scanning_sequence = g_strdup (h0->scanning_sequence);
  klass->sequence_name = g_strdup (h0->sequence_name);
  klass->repetition_time = h0->repetition_time;
  klass->echo_time = h0->echo_time;
  if (h0->has_orientation)
    {
      const double *o = h0->orientation;
      normal[0] = o[1] * o[5] - o[2] * o[4];
      normal[1] = o[2] * o[3] - o[0] * o[5];
      normal[2] = o[0] * o[4] - o[1] * o[3];
    }

  /* The plan keeps the headers; h0 stays valid as long as it lives. */
  plan = cu_series_plan_new (g_ptr_array_ref (headers), NULL);
  if (plan != NULL)
    {
      const CuVolume *g = cu_series_plan_get_geometry (plan, cu_series_plan_get_main_stack (plan));
      n_volumes = MAX (1, g->dims[3]);
      cu_volume_get_normal (g, normal);
    }
  klass->n_volumes = n_volumes;
  klass->plane = g_strdup (cu_qc_plane_of_normal (normal));
  klass->sequence = g_strdup (cu_qc_classify_sequence (h0, n_volumes));
  if (klass->b_max < 0 && (g_strcmp0 (klass->sequence, CU_SEQ_DWI) == 0
                           || g_strcmp0 (klass->sequence, CU_SEQ_ADC) == 0))
    klass->b_max = b_from_sequence_name (h0->sequence_name);
  return g_steal_pointer (&klass);
}

static void
bind_text (sqlite3_stmt *stmt, int i, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, i);
}

static void
bind_positive (sqlite3_stmt *stmt, int i, double v)
{
  if (v >= 0)
    sqlite3_bind_double (stmt, i, v);
  else
    sqlite3_bind_null (stmt, i);
}

gboolean
cu_series_class_update (CuStore *store, CuProgress *progress, GCancellable *cancellable,
                        guint *n_done, GError **error)
{
  g_autoptr(GPtrArray) todo = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) counts = g_array_new (FALSE, FALSE, sizeof (int));
  sqlite3_stmt *stmt;

  g_return_val_if_fail (CU_IS_STORE (store), FALSE);

  if (n_done != NULL)
    *n_done = 0;
  stmt = _cu_store_prepare (store->db,
    "SELECT se.series_uid, (SELECT count (*) FROM instance i WHERE i.series_ref = se.id) AS n"
    " FROM series se LEFT JOIN series_class c ON c.series_uid = se.series_uid"
    " WHERE c.series_uid IS NULL"
    "  OR c.n_files <> (SELECT count (*) FROM instance i WHERE i.series_ref = se.id)", error);
  if (stmt == NULL)
    return FALSE;
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      int n = sqlite3_column_int (stmt, 1);
      g_ptr_array_add (todo, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
      g_array_append_val (counts, n);
    }
  sqlite3_finalize (stmt);

  for (guint i = 0; i < todo->len; i++)
    {
      const char *uid = todo->pdata[i];
      g_auto(GStrv) files = NULL;
      g_autoptr(CuSeriesClass) klass = NULL;
      g_autoptr(GError) local = NULL;
      g_autofree char *now = _cu_store_now_iso8601 ();
      gboolean ok;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      cu_progress_report_count (progress, i, todo->len, _("Classifying series"));
      files = cu_store_get_series_files (store, uid, &local);
      if (files != NULL)
        klass = cu_series_class_from_files ((const char *const *) files, cancellable, &local);
      if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* An unreadable series is stored without a class: the rules then see it as
       * unrecognised, and it is not re-read on every run. */
      stmt = _cu_store_prepare (store->db,
        "INSERT OR REPLACE INTO series_class (series_uid, sequence, plane, b_max, n_volumes,"
        " image_type, scanning_sequence, sequence_name, repetition_time, echo_time, patient_age,"
        " n_files, classified_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, uid, -1, SQLITE_STATIC);
      if (klass != NULL)
        {
          bind_text (stmt, 2, klass->sequence);
          bind_text (stmt, 3, klass->plane);
          bind_positive (stmt, 4, klass->b_max);
          sqlite3_bind_int (stmt, 5, klass->n_volumes);
          bind_text (stmt, 6, klass->image_type);
          bind_text (stmt, 7, klass->scanning_sequence);
          bind_text (stmt, 8, klass->sequence_name);
          bind_positive (stmt, 9, klass->repetition_time);
          bind_positive (stmt, 10, klass->echo_time);
          bind_text (stmt, 11, klass->patient_age);
        }
      sqlite3_bind_int (stmt, 12, g_array_index (counts, int, i));
      sqlite3_bind_text (stmt, 13, now, -1, SQLITE_STATIC);
      ok = sqlite3_step (stmt) == SQLITE_DONE;
      if (!ok)
        _cu_store_set_db_error (store->db, error, _("Storing a series classification failed"));
      sqlite3_finalize (stmt);
      if (!ok)
        return FALSE;
      if (n_done != NULL)
        (*n_done)++;
    }
  cu_progress_report_count (progress, todo->len, MAX (todo->len, 1), _("Classifying series"));
  return TRUE;
}

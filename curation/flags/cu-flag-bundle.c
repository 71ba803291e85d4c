/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-bundle.c — exporting flags to a site as a bundle and applying its answers.
 *
 * Three parts, each in its file: what the site reads (cu-flag-report.c: report.html and
 * answers.csv), the manifest and its checks (cu-flag-manifest.c), and the workspace's records
 * of bundles (the store, cu-store-flags.h). This file puts them together: which flags go,
 * the transaction that marks them sent, and applying the answers that come back.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-csv.h"
#include "cu-flag-bundle.h"
#include "cu-flag-manifest.h"
#include "cu-flag-report.h"
#include "cu-flags-private.h"
#include "cu-store-flags.h"
#include "cu-translation.h"

void
cu_flag_bundle_free (CuFlagBundle *bundle)
{
  if (bundle == NULL)
    return;
  g_free (bundle->bundle_id);
  g_free (bundle->site);
  g_free (bundle->dir);
  g_free (bundle->language);
  g_free (bundle);
}

void
cu_flag_import_report_free (CuFlagImportReport *report)
{
  if (report == NULL)
    return;
  g_free (report->bundle_id);
  g_clear_pointer (&report->issues, g_ptr_array_unref);
  g_clear_pointer (&report->check, cu_flag_check_report_free);
  g_free (report);
}

static char *
site_language_key (const char *site)
{
  return g_strconcat ("site_language:", site, NULL);
}

char *
cu_flag_bundle_site_language (CuStore *store, const char *site)
{
  g_autofree char *key = NULL;
  char *lang = NULL;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  if (site != NULL)
    {
      key = site_language_key (site);
      lang = cu_store_get_setting (store, key);
    }
  return lang != NULL ? lang : cu_translation_default_language ();
}

CuFlagBundle *
cu_flag_bundle_export (CuStore *store, const char *site, const char *out_dir, const char *lang,
                       GError **error)
{
  return cu_flag_bundle_export_full (store, site, out_dir, lang, FALSE, error);
}

CuFlagBundle *
cu_flag_bundle_export_full (CuStore *store, const char *site, const char *out_dir, const char *lang,
                            gboolean urgent, GError **error)
{
  g_autoptr(CuFlagReport) renderer = NULL;
  g_autofree char *language = NULL;
  g_autoptr(GPtrArray) flags = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(CuFlagBundle) bundle = g_new0 (CuFlagBundle, 1);
  g_autofree char *workspace_id = NULL;
  g_autoptr(GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree char *now = g_date_time_format_iso8601 (dt);
  g_autofree char *report = NULL, *answers = NULL, *report_sha = NULL, *answers_sha = NULL;
  g_autofree char *checksum = NULL, *manifest_text = NULL, *detail = NULL;
  g_autofree char *report_path = NULL, *answers_path = NULL, *manifest_path = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  CuFlagFilter filter = { .site = site, .state = "active", .urgent_only = urgent };
  guint n_thumbnails = 0;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  g_return_val_if_fail (site != NULL && out_dir != NULL, NULL);

  candidates = cu_flags_list (store, &filter, error);
  if (candidates == NULL)
    return NULL;
  /* Answered flags wait for the curator, not for the site. */
  flags = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_flag_free);
  for (guint i = 0; i < candidates->len; i++)
    if (((CuFlag *) candidates->pdata[i])->state != CU_FLAG_ANSWERED)
      g_ptr_array_add (flags, g_steal_pointer (&candidates->pdata[i]));
  if (flags->len == 0)
    {
      if (urgent)
        g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                     _("Site “%s” has no urgent flag to send"), site);
      else
        g_set_error (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_NOT_FOUND,
                     _("Site “%s” has no open flag to send"), site);
      return NULL;
    }
  workspace_id = cu_flags_workspace_id (store, error);
  if (workspace_id == NULL)
    return NULL;

  bundle->bundle_id = g_uuid_string_random ();
  bundle->site = g_strdup (site);
  bundle->dir = g_strdup (out_dir);
  bundle->n_flags = flags->len;
  /* Grouped by patient; within a patient urgent findings, then what must be fixed, first. */
  cu_flag_report_sort (flags);
  for (guint i = 0; i < flags->len; i++)
    g_array_append_val (ids, ((CuFlag *) flags->pdata[i])->id);

  /* The site's language: as asked, else the one used for this site last time, else the
   * curator's. */
  language = lang != NULL && lang[0] != '\0' ? g_strdup (lang) : cu_flag_bundle_site_language (store, site);
  renderer = cu_flag_report_new (store, language);
  bundle->language = g_strdup (cu_flag_report_get_language (renderer));
  report = cu_flag_report_html (renderer, flags, site, bundle->bundle_id, workspace_id, now,
                                &bundle->n_persons, &n_thumbnails);
  answers = cu_flag_report_answers_csv (renderer, flags, bundle->bundle_id);
  report_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, report, -1);
  answers_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256, answers, -1);
  manifest_text = cu_flag_manifest_write (store, bundle->bundle_id, workspace_id, site, now,
                                          bundle->language, urgent, flags, report_sha, answers_sha,
                                          n_thumbnails, &checksum, error);
  if (manifest_text == NULL)
    return NULL;

  if (g_mkdir_with_parents (out_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _("Cannot create the folder %s: %s"), out_dir, g_strerror (saved));
      return NULL;
    }
  report_path = g_build_filename (out_dir, CU_FLAG_BUNDLE_REPORT, NULL);
  answers_path = g_build_filename (out_dir, CU_FLAG_BUNDLE_ANSWERS, NULL);
  manifest_path = g_build_filename (out_dir, CU_FLAG_BUNDLE_MANIFEST, NULL);

  /* Record first, in a transaction; files are written before the commit so that a failed
   * write leaves no "sent" flags behind. */
  if (!cu_store_begin_write (store, error))
    return NULL;
  if (!cu_store_flag_bundle_record (store, bundle->bundle_id, site, checksum,
                                    (const gint64 *) (gpointer) ids->data, ids->len, error))
    goto fail;
  for (guint i = 0; i < flags->len; i++)
    {
      CuFlag *f = flags->pdata[i];

      if (!_cu_flags_transition (store, f->id, CU_FLAG_SENT,
                                 urgent ? _("sent to the site at once (urgent)")
                                        : _("sent to the site in a bundle"),
                                 NULL, NULL, bundle->bundle_id, TRUE, error))
        goto fail;
    }
  if (lang != NULL && lang[0] != '\0')
    {
      g_autofree char *key = site_language_key (site);

      if (!cu_store_set_setting (store, key, lang, error))
        goto fail;
    }
  /* The site name is the user's text: JSON-escaped by the builder. */
  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "bundle");
    json_builder_add_string_value (db, bundle->bundle_id);
    json_builder_set_member_name (db, "site");
    json_builder_add_string_value (db, site);
    json_builder_set_member_name (db, "flags");
    json_builder_add_int_value (db, flags->len);
    json_builder_set_member_name (db, "language");
    json_builder_add_string_value (db, bundle->language);
    json_builder_set_member_name (db, "urgent");
    json_builder_add_boolean_value (db, urgent);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
  if (!cu_store_audit (store, "flags-export", out_dir, detail, error))
    goto fail;
  if (!g_file_set_contents (report_path, report, -1, error)
      || !g_file_set_contents (answers_path, answers, -1, error)
      || !g_file_set_contents (manifest_path, manifest_text, -1, error))
    goto fail;
  if (!cu_store_commit (store, error))
    goto fail;
  return g_steal_pointer (&bundle);

fail:
  cu_store_rollback (store);
  return NULL;
}

/* ---- Import ------------------------------------------------------------------------- */

static void
add_row_issue (GPtrArray *issues, const char *file, guint line, const char *column,
               const char *value, const char *reason)
{
  CuClinicalIssue *is = g_new0 (CuClinicalIssue, 1);

  is->file = g_strdup (file);
  is->line = line;
  is->column = g_strdup (column);
  is->value = g_strdup (value);
  is->reason = g_strdup (reason);
  g_ptr_array_add (issues, is);
}

static int
find_column (const CuCsvRow *header, const char *name)
{
  for (guint i = 0; i < header->n_fields; i++)
    if (strcmp (g_strstrip (header->fields[i]), name) == 0)
      return (int) i;
  return -1;
}

typedef struct
{
  gint64 flag_id;
  char *answer, *corrected, *comment;
} Answer;

static void
answer_free (Answer *a)
{
  g_free (a->answer);
  g_free (a->corrected);
  g_free (a->comment);
  g_free (a);
}

CuFlagImportReport *
cu_flag_bundle_import (CuStore *store, const char *path, GError **error)
{
  g_autoptr(CuFlagImportReport) report = g_new0 (CuFlagImportReport, 1);
  g_autofree char *dir = NULL, *answers_path = NULL, *manifest_path = NULL;
  g_autofree char *text = NULL, *answers_sha = NULL, *bundle_id = NULL;
  g_autofree char *applied_at = NULL, *applied_by = NULL, *detail = NULL, *source = NULL;
  g_autoptr(CuCsvTable) table = NULL;
  g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func ((GDestroyNotify) answer_free);
  g_autoptr(GHashTable) in_bundle = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GArray) item_ids = NULL;
  const CuCsvRow *header;
  int c_bundle, c_flag, c_answer, c_corrected, c_comment;
  gsize len = 0;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);

  report->issues = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_clinical_issue_free);
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      dir = g_strdup (path);
      answers_path = g_build_filename (path, CU_FLAG_BUNDLE_ANSWERS, NULL);
    }
  else
    {
      dir = g_path_get_dirname (path);
      answers_path = g_strdup (path);
    }
  manifest_path = g_build_filename (dir, CU_FLAG_BUNDLE_MANIFEST, NULL);

  if (!cu_flag_bundle_read_file (answers_path, &text, &len, error))
    return NULL;
  answers_sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text, len);
  if (g_file_test (manifest_path, G_FILE_TEST_EXISTS))
    {
      if (!cu_flag_manifest_check (store, manifest_path, &bundle_id, error))
        return NULL;
    }
  else if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      cu_flag_bundle_refuse (error, _("%s has no %s: it is not a flag bundle"), path, CU_FLAG_BUNDLE_MANIFEST);
      return NULL;
    }

  table = cu_csv_parse (text, len, 0, error);
  if (table == NULL)
    {
      g_prefix_error (error, "%s: ", answers_path);
      return NULL;
    }
  header = table->rows->pdata[0];
  c_bundle = find_column (header, "bundle_id");
  c_flag = find_column (header, "flag_id");
  c_answer = find_column (header, "answer");
  c_corrected = find_column (header, "corrected_value");
  c_comment = find_column (header, "comment");
  if (c_flag < 0 || c_answer < 0 || c_corrected < 0 || c_comment < 0 || c_bundle < 0)
    {
      cu_flag_bundle_refuse (error, _("%s lacks one of the columns bundle_id, flag_id, answer, corrected_value, "
                       "comment"), answers_path);
      return NULL;
    }

  /* answers.csv alone: the bundle is the one its rows name, and it must be ours. */
  if (bundle_id == NULL)
    {
      for (guint i = 1; i < table->rows->len && bundle_id == NULL; i++)
        {
          const CuCsvRow *row = table->rows->pdata[i];
          if ((guint) c_bundle < row->n_fields && row->fields[c_bundle][0] != '\0')
            bundle_id = g_strdup (g_strstrip (row->fields[c_bundle]));
        }
      if (bundle_id == NULL)
        {
          cu_flag_bundle_refuse (error, _("%s names no bundle"), answers_path);
          return NULL;
        }
    }

  {
    g_autoptr(GError) local = NULL;

    if (!cu_store_flag_bundle_lookup (store, bundle_id, NULL, &applied_at, &applied_by, &local))
      {
        if (g_error_matches (local, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
          cu_flag_bundle_refuse (error, _("Bundle %s was not exported from this workspace: it is not "
                                          "applied"), bundle_id);
        else
          g_propagate_error (error, g_steal_pointer (&local));
        return NULL;
      }
  }
  if (applied_at != NULL)
    {
      cu_flag_bundle_refuse (error, _("Bundle %s was already applied on %s by %s: nothing changed"), bundle_id,
              applied_at, applied_by);
      return NULL;
    }
  report->bundle_id = g_strdup (bundle_id);

  item_ids = cu_store_flag_bundle_items (store, bundle_id, error);
  if (item_ids == NULL)
    return NULL;
  for (guint i = 0; i < item_ids->len; i++)
    g_hash_table_add (in_bundle, &g_array_index (item_ids, gint64, i));

  /* Validate every row before anything changes. */
  for (guint i = 1; i < table->rows->len; i++)
    {
      const CuCsvRow *row = table->rows->pdata[i];
      g_autoptr(CuFlag) flag = NULL;
      g_autoptr(GError) local = NULL;
      Answer *a;
      char *end = NULL;
      gint64 id;

      report->n_rows++;
      if (row->n_fields != header->n_fields)
        {
          g_autofree char *reason = g_strdup_printf (_("the row has %u fields, the header %u"),
                                                     row->n_fields, header->n_fields);
          add_row_issue (report->issues, answers_path, row->line, NULL, NULL, reason);
          continue;
        }
      if (strcmp (g_strstrip (row->fields[c_bundle]), bundle_id) != 0)
        {
          add_row_issue (report->issues, answers_path, row->line, "bundle_id", row->fields[c_bundle],
                         _("the row belongs to another bundle"));
          continue;
        }
      id = g_ascii_strtoll (g_strstrip (row->fields[c_flag]), &end, 10);
      if (end == row->fields[c_flag] || *end != '\0' || !g_hash_table_contains (in_bundle, &id))
        {
          add_row_issue (report->issues, answers_path, row->line, "flag_id", row->fields[c_flag],
                         _("this flag is not part of the bundle"));
          continue;
        }
      flag = cu_flags_get (store, id, error);
      if (flag == NULL)
        return NULL;
      a = g_new0 (Answer, 1);
      a->flag_id = id;
      a->answer = g_strstrip (g_strdup (row->fields[c_answer]));
      a->corrected = g_strstrip (g_strdup (row->fields[c_corrected]));
      a->comment = g_strstrip (g_strdup (row->fields[c_comment]));
      g_ptr_array_add (answers, a);
      if (a->corrected[0] != '\0')
        {
          g_autofree char *norm = NULL;

          if (flag->variable == NULL)
            {
              add_row_issue (report->issues, answers_path, row->line, "corrected_value", a->corrected,
                             _("this question is not about a clinical value: answer it in “answer”"));
              continue;
            }
          norm = cu_clinical_normalize (flag->variable, a->corrected, FALSE, &local);
          if (norm == NULL)
            {
              g_autofree char *reason = g_strdup_printf ("%s: %s", flag->variable, local->message);
              add_row_issue (report->issues, answers_path, row->line, "corrected_value", a->corrected,
                             reason);
              continue;
            }
          g_free (a->corrected);
          a->corrected = g_steal_pointer (&norm);
        }
    }
  if (report->issues->len > 0)
    return g_steal_pointer (&report);

  /* Apply: one transaction for the corrections, the lifecycle moves, the bundle record and
   * the re-run of the rules. */
  source = g_strdup_printf ("bundle:%s", bundle_id);
  if (!cu_store_begin_write (store, error))
    return NULL;
  for (guint i = 0; i < answers->len; i++)
    {
      Answer *a = answers->pdata[i];
      g_autoptr(CuFlag) flag = cu_flags_get (store, a->flag_id, error);
      gboolean has_answer = a->answer[0] || a->corrected[0] || a->comment[0];
      g_autofree char *reason = NULL;
      g_autofree char *comment = NULL;

      if (flag == NULL)
        goto fail;
      if (!has_answer)
        {
          report->n_unanswered++;
          continue;
        }
      report->n_answered++;
      if (a->corrected[0] != '\0')
        {
          reason = g_strdup_printf ("site answer to flag %lld", (long long) a->flag_id);
          if (!cu_clinical_set_value (store, flag->person_id, flag->variable, a->corrected, source,
                                      reason, error))
            goto fail;
          report->n_corrected++;
        }
      comment = a->comment[0] ? g_strdup (a->comment) : NULL;
      /* A flag the curator closed meanwhile keeps its state; the answer is still recorded. */
      if (!_cu_flags_transition (store, a->flag_id,
                                 cu_flag_state_is_active (flag->state) ? CU_FLAG_ANSWERED : flag->state,
                                 comment, a->answer[0] ? a->answer : NULL,
                                 a->corrected[0] ? a->corrected : NULL, bundle_id, TRUE, error))
        goto fail;
    }
  if (!cu_store_flag_bundle_mark_applied (store, bundle_id, answers_sha, error))
    goto fail;
  {
    g_autoptr(JsonBuilder) db = json_builder_new ();
    g_autoptr(JsonNode) dn = NULL;

    json_builder_begin_object (db);
    json_builder_set_member_name (db, "bundle");
    json_builder_add_string_value (db, bundle_id);
    json_builder_set_member_name (db, "rows");
    json_builder_add_int_value (db, report->n_rows);
    json_builder_set_member_name (db, "answered");
    json_builder_add_int_value (db, report->n_answered);
    json_builder_set_member_name (db, "corrected");
    json_builder_add_int_value (db, report->n_corrected);
    json_builder_set_member_name (db, "answers_sha256");
    json_builder_add_string_value (db, answers_sha);
    json_builder_end_object (db);
    dn = json_builder_get_root (db);
    detail = json_to_string (dn, FALSE);
  }
  if (!cu_store_audit (store, "flags-import", answers_path, detail, error))
    goto fail;
  report->check = _cu_flags_check_locked (store, error);
  if (report->check == NULL)
    goto fail;
  if (!cu_store_commit (store, error))
    goto fail;
  return g_steal_pointer (&report);

fail:
  cu_store_rollback (store);
  return NULL;
}

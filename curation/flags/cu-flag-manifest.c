/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-manifest.c — manifest.json of a flag bundle.
 *
 * The manifest's checksum is a SHA-256 over the bundle's identity (bundle id, workspace id,
 * site, flag ids) and the exported files' digests; the workspace keeps it. A returned bundle
 * is applied only when its manifest names this workspace, matches the checksum recorded at
 * export, and has not been applied before: a bundle cannot be applied to the wrong workspace
 * or twice. answers.csv is expected to change (the collectors fill it in), so its digest in
 * the manifest describes what was sent, and the digest of what came back is recorded when
 * it is applied. The thumbnails are inside report.html, so its digest covers them.
 *
 * "items" tells a site's tools, per flag, its kind, whether it is urgent and what the site is
 * asked to do (cu_flag_report_action_code); it is descriptive, outside the checksum, as the
 * flags the answers may refer to are the "flags" array.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "cu-flag-bundle.h"
#include "cu-flag-manifest.h"
#include "cu-flag-report.h"
#include "cu-json-limits.h"
#include "cu-store-audit.h"
#include "cu-store-flags.h"

#define BUNDLE_FORMAT "curata-flag-bundle"
#define BUNDLE_VERSION 1

static char *
manifest_checksum (const char *bundle_id, const char *workspace_id, const char *site,
                   JsonArray *flag_ids, const char *report_sha, const char *answers_sha)
{
  g_autoptr(GString) s = g_string_new (NULL);

  g_string_append_printf (s, "%s\n%s\n%s\n%s\n", BUNDLE_FORMAT, bundle_id, workspace_id, site);
  for (guint i = 0; i < json_array_get_length (flag_ids); i++)
    g_string_append_printf (s, "%lld,", (long long) json_array_get_int_element (flag_ids, i));
  g_string_append_printf (s, "\n%s\n%s\n", report_sha, answers_sha);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, s->str, s->len);
}

char *
cu_flag_manifest_write (CuStore *store, const char *bundle_id, const char *workspace_id,
                        const char *site, const char *now, const char *language, gboolean urgent,
                        GPtrArray *flags, const char *report_sha, const char *answers_sha,
                        guint n_thumbnails, char **checksum, GError **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonArray) ids = json_array_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();

  for (guint i = 0; i < flags->len; i++)
    json_array_add_int_element (ids, ((CuFlag *) flags->pdata[i])->id);
  *checksum = manifest_checksum (bundle_id, workspace_id, site, ids, report_sha, answers_sha);

  json_builder_begin_object (b);
#define STR(name, v) json_builder_set_member_name (b, name); json_builder_add_string_value (b, v)
  STR ("format", BUNDLE_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, BUNDLE_VERSION);
  STR ("bundle_id", bundle_id);
  STR ("workspace_id", workspace_id);
  STR ("site", site);
  STR ("created_at", now);
  STR ("created_by", g_get_user_name ());
  STR ("language", language);
  json_builder_set_member_name (b, "urgent");
  json_builder_add_boolean_value (b, urgent);
  json_builder_set_member_name (b, "flags");
  json_builder_add_value (b, json_node_init_array (json_node_alloc (), ids));
  json_builder_set_member_name (b, "items");
  json_builder_begin_array (b);
  for (guint i = 0; i < flags->len; i++)
    {
      const CuFlag *f = flags->pdata[i];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "flag_id");
      json_builder_add_int_value (b, f->id);
      STR ("person_id", f->person_id);
      STR ("kind", cu_flag_kind_to_string (f->kind));
      STR ("rule", f->rule_id);
      STR ("severity", f->severity);
      json_builder_set_member_name (b, "urgent");
      json_builder_add_boolean_value (b, f->urgent);
      STR ("action", cu_flag_report_action_code (f));
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "thumbnails");
  json_builder_add_int_value (b, n_thumbnails);
  json_builder_set_member_name (b, "files");
  json_builder_begin_object (b);
  STR (CU_FLAG_BUNDLE_REPORT, report_sha);
  STR (CU_FLAG_BUNDLE_ANSWERS, answers_sha);
  json_builder_end_object (b);
  STR ("checksum", *checksum);
#undef STR
  /* The audit trail's head as it was when the bundle left: history rewritten afterwards no
   * longer contains it (curata-cli audit verify --against). */
  if (!cu_store_audit_add_head_json (store, b, error))
    {
      g_clear_pointer (checksum, g_free);
      return NULL;
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* ---- A returned bundle -------------------------------------------------------------- */

gboolean
cu_flag_bundle_refuse (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, CU_FLAGS_ERROR, CU_FLAGS_ERROR_BUNDLE, message);
  return FALSE;
}

/* A manifest is three levels deep and a few kilobytes per thousand flags: its text is checked
 * before json-glib parses it (cu-json-limits.h), and its size before it is read at all. */
#define MANIFEST_MAX_DEPTH 32
/* answers.csv holds a few hundred bytes per flag: 64 MB is some 200,000 flags. */
#define BUNDLE_FILE_MAX_SIZE (64 * 1024 * 1024)

/* Read a file of a returned bundle. It came from outside: a link to /dev/zero or a FIFO in
 * its place would be read forever, and a huge one read whole into memory. */
gboolean
cu_flag_bundle_read_file (const char *path, char **text, gsize *len, GError **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    return g_file_get_contents (path, text, len, error);   /* its error says why */
  if (!S_ISREG (st.st_mode))
    return cu_flag_bundle_refuse (error, _("%s is not a regular file: it cannot be part of a flag bundle"), path);
  if (st.st_size > BUNDLE_FILE_MAX_SIZE)
    {
      g_autofree char *size = g_format_size ((guint64) st.st_size);
      return cu_flag_bundle_refuse (error, _("%s is too large (%s) to be part of a flag bundle"), path, size);
    }
  return g_file_get_contents (path, text, len, error);
}

/* The manifest's text before json-glib parses it (cu-json-limits.h). */
static gboolean
check_manifest_text (const char *path, const char *text, gsize len, GError **error)
{
  g_autofree char *reason = NULL;

  if (cu_json_text_within (text, len, MANIFEST_MAX_DEPTH, &reason))
    return TRUE;
  /* TRANSLATORS: %s is a file, then why it is not a bundle manifest */
  return cu_flag_bundle_refuse (error, _("%s is not the manifest of a flag bundle: %s"), path, reason);
}

/* The string value of member name, or NULL when it is absent or not a string. */
static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* The array of flag ids, or NULL when flags is absent or holds anything but integers. */
static JsonArray *
member_flag_ids (JsonObject *o)
{
  JsonNode *node = json_object_get_member (o, "flags");
  JsonArray *ids;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  ids = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonNode *id = json_array_get_element (ids, i);
      if (!JSON_NODE_HOLDS_VALUE (id) || json_node_get_value_type (id) != G_TYPE_INT64)
        return NULL;
    }
  return ids;
}

/* Check the manifest against this workspace; sets bundle_id. */
gboolean
cu_flag_manifest_check (CuStore *store, const char *manifest_path, char **bundle_id, GError **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *workspace_id = NULL;
  g_autofree char *recomputed = NULL;
  g_autofree char *recorded = NULL;
  g_autofree char *text = NULL;
  JsonObject *m, *files = NULL;
  JsonNode *root, *files_node;
  JsonArray *ids;
  const char *format, *bid, *wid, *site, *checksum, *report_sha, *answers_sha;
  gsize len;

  if (!cu_flag_bundle_read_file (manifest_path, &text, &len, error))
    return FALSE;
  if (!check_manifest_text (manifest_path, text, len, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, text, (gssize) len, error))
    {
      g_prefix_error (error, "%s: ", manifest_path);
      return FALSE;
    }
  /* An empty file parses, into no root at all. */
  root = json_parser_get_root (parser);
  m = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  format = m != NULL ? member_string (m, "format") : NULL;
  if (g_strcmp0 (format, BUNDLE_FORMAT) != 0)
    return cu_flag_bundle_refuse (error, _("%s is not the manifest of a flag bundle"), manifest_path);
  bid = member_string (m, "bundle_id");
  wid = member_string (m, "workspace_id");
  site = member_string (m, "site");
  checksum = member_string (m, "checksum");
  ids = member_flag_ids (m);
  files_node = json_object_get_member (m, "files");
  if (files_node != NULL && JSON_NODE_HOLDS_OBJECT (files_node))
    files = json_node_get_object (files_node);
  report_sha = files != NULL ? member_string (files, CU_FLAG_BUNDLE_REPORT) : NULL;
  answers_sha = files != NULL ? member_string (files, CU_FLAG_BUNDLE_ANSWERS) : NULL;
  if (bid == NULL || wid == NULL || site == NULL || checksum == NULL || ids == NULL
      || report_sha == NULL || answers_sha == NULL)
    return cu_flag_bundle_refuse (error, _("%s is incomplete"), manifest_path);

  workspace_id = cu_flags_workspace_id (store, error);
  if (workspace_id == NULL)
    return FALSE;
  if (strcmp (wid, workspace_id) != 0)
    return cu_flag_bundle_refuse (error, _("This bundle was made by another workspace (%s), not by this one (%s): "
                            "it is not applied"), wid, workspace_id);
  recomputed = manifest_checksum (bid, wid, site, ids, report_sha, answers_sha);
  if (strcmp (recomputed, checksum) != 0)
    return cu_flag_bundle_refuse (error, _("The manifest of bundle %s has been altered (its checksum does not "
                            "match): it is not applied"), bid);
  {
    g_autoptr(GError) local = NULL;

    if (!cu_store_flag_bundle_lookup (store, bid, &recorded, NULL, NULL, &local)
        && !g_error_matches (local, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
      {
        g_propagate_error (error, g_steal_pointer (&local));
        return FALSE;
      }
  }
  if (recorded == NULL)
    return cu_flag_bundle_refuse (error, _("Bundle %s was not exported from this workspace"), bid);
  if (strcmp (recorded, checksum) != 0)
    return cu_flag_bundle_refuse (error, _("The manifest of bundle %s differs from the one exported: it is not "
                            "applied"), bid);
  *bundle_id = g_strdup (bid);
  return TRUE;
}


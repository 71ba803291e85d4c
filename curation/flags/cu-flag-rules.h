/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flag-rules.h — consistency rules as data: each rule is an SQL query over views of the
 * workspace plus an id, a severity and a message template (data/rules/README.md).
 *
 * The rules come from the workspace's packs (data/packs/<pack>/rules/); a workspace may add its
 * own, or replace or disable a shipped one by id, in its rules/ folder.
 */
#pragma once

#include <glib.h>

#include "cu-pack-set.h"

G_BEGIN_DECLS

#define CU_FLAG_RULE_ERROR (cu_flag_rule_error_quark ())

typedef enum
{
  CU_FLAG_RULE_ERROR_PARSE,    /* a header without id, an unknown severity */
  CU_FLAG_RULE_ERROR_QUERY,    /* the SQL does not run or lacks person_id */
} CuFlagRuleError;

GQuark cu_flag_rule_error_quark (void);

typedef struct
{
  char *id;
  char *severity;    /* "error", "warning", "info" */
  char *title;
  char *message;     /* template with {column} */
  char *source;      /* where the rule comes from (a standard, a paper) */
  char *sql;
  char *origin;      /* "built-in" or the file it was read from */
  gboolean disabled;
  GHashTable *variants;  /* "-- message.KEY:" lines: KEY → template, chosen by a result
                          * row's `variant` column (NULL when the rule has none) */
} CuFlagRule;

void        cu_flag_rule_free   (CuFlagRule *rule);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuFlagRule, cu_flag_rule_free)

/* Parse one rule file's text. */
CuFlagRule *cu_flag_rule_parse  (const char *text, const char *origin, GError **error);
/* The rules of the default packs (cu_pack_set_default), then those of workspace_dir/rules
 * (may be NULL) replacing them by id;
 * disabled rules are left out. Sorted by id. A broken workspace rule is an error naming
 * its file. */
GPtrArray  *cu_flag_rules_load  (const char *workspace_dir, GError **error);
/* The rules of packs (their rules/ folders), then those of workspace_dir/rules over them. */
GPtrArray  *cu_flag_rules_load_packs (CuPackSet *packs, const char *workspace_dir, GError **error);
/* The inclusion rules of releases (data/inclusion/README.md): the same format and views; a
 * row names a patient who may not be released. Shipped ones, then workspace_dir/inclusion. */
GPtrArray  *cu_inclusion_rules_load (const char *workspace_dir, GError **error);
/* Fill a message template: {name} → values[name] (missing names stay as written). */
char       *cu_flag_rule_format (const char *template_text, GHashTable *values);
/* The English template for a result row whose `variant` column is variant (may be NULL):
 * message.VARIANT when the rule has it, else message. */
const char *cu_flag_rule_template (const CuFlagRule *rule, const char *variant);
/* The translation context of a rule's header field: "RULE-ID title", "RULE-ID message",
 * "RULE-ID message.VARIANT" — each rule's texts are translated on their own, so a project
 * rule with an id of its own stays in English, and one that replaces a shipped rule's
 * message (a different English text) does not get the old translation. */
char       *cu_flag_rule_context (const char *rule_id, const char *field);

G_END_DECLS

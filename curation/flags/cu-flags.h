/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-flags.h — consistency flags: running the rules over the workspace, and the life of a
 * flag from the finding to its resolution.
 *
 * Lifecycle: open → sent (to the site) → answered → resolved / accepted (as is) / withdrawn.
 * Every change records user, time and comment in the flag's history and in the audit log.
 * Running the rules again keeps one flag per finding (rule, person, study, series,
 * variable): an active flag is updated, never duplicated; an active flag whose cause has
 * gone is resolved, and the run says so. A finding a curator accepted or withdrew does not
 * come back.
 */
#pragma once

#include "cu-store.h"

G_BEGIN_DECLS

#define CU_FLAGS_ERROR (cu_flags_error_quark ())

typedef enum
{
  CU_FLAGS_ERROR_NOT_FOUND,
  CU_FLAGS_ERROR_TRANSITION,   /* a state change the lifecycle does not allow */
  CU_FLAGS_ERROR_RULE,         /* a rule failed to run */
  CU_FLAGS_ERROR_BUNDLE,       /* a bundle that does not belong here or was applied */
} CuFlagsError;

GQuark cu_flags_error_quark (void);

typedef enum
{
  CU_FLAG_OPEN,
  CU_FLAG_SENT,
  CU_FLAG_ANSWERED,
  CU_FLAG_RESOLVED,
  CU_FLAG_ACCEPTED,
  CU_FLAG_WITHDRAWN,
} CuFlagState;

/* "open", "sent", … : stable, for JSON, the CLI and the database. */
const char *cu_flag_state_to_string   (CuFlagState state);
gboolean    cu_flag_state_from_string (const char *text, CuFlagState *state);
/* Translated, for people. */
const char *cu_flag_state_to_label    (CuFlagState state);
/* open, sent and answered need work; the other states are closed. */
gboolean    cu_flag_state_is_active   (CuFlagState state);

/* What a flag asks of the site. */
typedef enum
{
  CU_FLAG_KIND_RULE,         /* a consistency rule's finding: answer or correct a value */
  CU_FLAG_KIND_IMAGE,        /* a series to send again (ask-site decision, corrupted…) */
  CU_FLAG_KIND_QUESTION,     /* a curator's or radiologist's question */
  CU_FLAG_KIND_INCIDENTAL,   /* an incidental finding: urgent, for the treating physician */
  CU_FLAG_KIND_DEID,         /* a study to send again after fixing the pseudonymization */
} CuFlagKind;

#define CU_FLAG_KIND_N 5

/* "rule", "image", "question", "incidental", "deid": stable. */
const char *cu_flag_kind_to_string   (CuFlagKind kind);
gboolean    cu_flag_kind_from_string (const char *text, CuFlagKind *kind);
/* Translated, for people ("Image", "Incidental finding"…). */
const char *cu_flag_kind_to_label    (CuFlagKind kind);

typedef struct
{
  gint64 id;
  char *rule_id;
  char *severity;
  char *title;          /* of the rule */
  char *person_id;
  char *study_uid;      /* or NULL */
  char *series_uid;     /* or NULL */
  char *variable;       /* clinical variable an answer may correct, or NULL */
  char *site;
  char *message;
  char *details;        /* JSON object: the values the rule returned */
  CuFlagState state;
  char *created_at;
  char *updated_at;
  /* Added with the site loop (compatible: appended). */
  CuFlagKind kind;
  gboolean urgent;         /* incidental findings: shown first, sent at once */
  gboolean has_position;
  double position[3];      /* LPS, mm, when has_position */
} CuFlag;

void cu_flag_free (CuFlag *flag);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuFlag, cu_flag_free)

typedef struct
{
  char *time;
  char *user;
  char *from_state;     /* NULL when the flag was created */
  char *to_state;
  char *comment;
  char *answer;
  char *corrected_value;
} CuFlagEvent;

void cu_flag_event_free (CuFlagEvent *event);

typedef struct
{
  guint n_rules;
  guint n_findings;       /* rows the rules returned (distinct findings) */
  guint n_new;            /* flags opened by this run */
  guint n_still_open;     /* active flags found again */
  guint n_suppressed;     /* findings already accepted or withdrawn */
  GPtrArray *closed;      /* CuFlag: active flags whose cause disappeared, now resolved */
  GPtrArray *opened;      /* CuFlag: opened by this run */
  GPtrArray *rule_errors; /* char *: rules that failed, with the reason */
  guint n_active;         /* active flags after the run */
} CuFlagCheckReport;

void cu_flag_check_report_free (CuFlagCheckReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuFlagCheckReport, cu_flag_check_report_free)

/* Run every rule (cu_flag_rules_load) and reconcile the flags, in one transaction.
 * Audited as "flags-check". A rule that fails is reported, and its flags are left as they
 * were. */
CuFlagCheckReport *cu_flags_check (CuStore *store, GError **error);

typedef struct
{
  const char *site;       /* NULL = any */
  const char *rule_id;
  const char *severity;
  const char *person_id;
  const char *state;      /* a state, "active", or NULL = any */
  const char *person_search;  /* part of the pseudonym, any case (the GUI's search), or NULL */
  const char *kind;       /* a cu_flag_kind_to_string, or NULL = any */
  gboolean urgent_only;
} CuFlagFilter;

/* One result row of a rule run by cu_flags_evaluate. */
typedef struct
{
  char *rule_id;
  char *title;          /* translated when the rule is a shipped one */
  char *person_id;
  char *study_uid;      /* or NULL */
  char *message;        /* filled in, translated when the rule is a shipped one */
} CuRuleFinding;

void cu_rule_finding_free (CuRuleFinding *finding);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuRuleFinding, cu_rule_finding_free)

/* Run rules (cu_flag_rules_load, cu_inclusion_rules_load) over the views of the check, and
 * keep nothing: no flag is opened or closed, nothing is audited (the release gate asks its
 * inclusion rules this way). CuRuleFinding elements, by rule. */
GPtrArray  *cu_flags_evaluate  (CuStore *store, GPtrArray *rules, GError **error);

/* A flag a person raises by hand: on a patient (pseudonym), a study or a series (full UID or
 * a unique prefix; the patient is then the study's), of kind question, image or incidental;
 * or deid, on a quarantined study (of the series given), to send it again after fixing the
 * pseudonymization: one per study, its details the gate's findings, message optional.
 * severity NULL: "warning" ("error" for an incidental finding, which is always urgent).
 * position: an LPS point (mm) or NULL; lesion: see below. The site is the patient's. Audited ("flag-state", from
 * nothing to open, with the message). Returns the new flag's id, 0 with error (unknown
 * patient, study or series; empty message; a kind that is not raised by hand). */
typedef struct
{
  CuFlagKind kind;
  const char *patient_id;
  const char *study_uid;
  const char *series_uid;
  const char *severity;
  const char *message;
  const double *position;
  /* A lesion: a label value (1–255) of reader's latest segmentation of the series (reader
   * NULL: the default reader), 0 for none. The flag then carries the lesion's name, volume
   * and longest diameter, and its centroid as the position unless one is given; a label with
   * no voxel is CU_FLAGS_ERROR_NOT_FOUND. Needs series_uid. */
  int lesion;
  const char *reader;
} CuFlagNew;

gint64      cu_flags_add       (CuStore *store, const CuFlagNew *spec, GError **error);

/* Forward the quality findings of a series (full UID or unique prefix) to its site as image
 * flags: one flag per finding code, holding every finding of that code (slice numbers
 * included) and note when given. codes NULL or empty: every warning and error of the series;
 * the code "protocol" forwards the study's protocol findings (series the protocol asks for
 * that are missing or out of range) as flags on the study, one per requirement of the
 * protocol ("protocol:KEY" forwards one), each closing when series sent later meet it. Forwarding a code again refreshes its open flag. A code the
 * series' stored check does not have is CU_FLAGS_ERROR_NOT_FOUND, as is a series never
 * checked (CU_STORE_ERROR_NOT_FOUND). Returns the number of flags raised or refreshed. */
guint       cu_flags_forward_qc (CuStore *store, const char *series, const char *const *codes,
                                 const char *note, GError **error);

/* After an import: the active image flags whose series has a fixed copy among series_uids
 * (same pseudonym and the same study date, series number and modality, or an image whose
 * decoded pixels equal one of the flagged series'), and the active pseudonymization flags
 * whose study now passes or has a fixed copy that passes. A copy that passes the gates (its
 * study's pseudonymization gate passed or was overridden, and its quality check, run here when
 * it has not run, has no error) resolves the flag; one that does not is written in the
 * flag's history and the flag stays. CuFlag elements of the resolved flags in *closed. */
gboolean    cu_flags_match_fixed_copies (CuStore *store, const char *const *series_uids,
                                         GCancellable *cancellable, GPtrArray **closed,
                                         GError **error);

/* Flags matching the filter (NULL: all): urgent first, then by site, person, rule. */
GPtrArray  *cu_flags_list      (CuStore *store, const CuFlagFilter *filter, GError **error);
CuFlag     *cu_flags_get       (CuStore *store, gint64 id, GError **error);
/* History of a flag, oldest first (CuFlagEvent). */
GPtrArray  *cu_flags_events    (CuStore *store, gint64 id, GError **error);
/* Move a flag along the lifecycle with a comment (may be NULL). */
gboolean    cu_flags_set_state (CuStore *store, gint64 id, CuFlagState state, const char *comment,
                                GError **error);
/* Add a comment without changing the state. */
gboolean    cu_flags_comment   (CuStore *store, gint64 id, const char *comment, GError **error);
/* Active flags per pseudonym: person_id → GUINT count. */
GHashTable *cu_flags_active_by_person (CuStore *store, GError **error);
/* Sites that have flags, sorted. */
GStrv       cu_flags_sites     (CuStore *store, GError **error);
/* The workspace's identity (a random UUID made on first use), which flag bundles carry. */
char       *cu_flags_workspace_id (CuStore *store, GError **error);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-deid-profile.h — DICOM PS3.15 Annex E Table E.1-1 (Basic Application Level
 * Confidentiality Profile) with its options, as data.
 *
 * The table ships as data/ps315_basic_profile.tsv (2024b, 621 rows), compiled into the library
 * as a GResource; a workspace may load another edition from a file.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_DEID_ERROR (cu_deid_error_quark ())

typedef enum
{
  CU_DEID_ERROR_PROFILE,   /* the profile table cannot be read or parsed */
  CU_DEID_ERROR_OPTIONS,   /* an unknown option name */
  CU_DEID_ERROR_PATTERN,   /* the pseudonym pattern is not a valid regular expression */
} CuDeidError;

GQuark cu_deid_error_quark (void);

/* Options of Table E.1-1 (columns), plus the pixel options that have no column. */
typedef enum
{
  CU_DEID_RETAIN_SAFE_PRIVATE     = 1 << 0,
  CU_DEID_RETAIN_UIDS             = 1 << 1,
  CU_DEID_RETAIN_DEVICE_ID        = 1 << 2,
  CU_DEID_RETAIN_INSTITUTION_ID   = 1 << 3,
  CU_DEID_RETAIN_PATIENT_CHARS    = 1 << 4,
  CU_DEID_RETAIN_LONG_FULL_DATES  = 1 << 5,
  CU_DEID_RETAIN_LONG_MODIF_DATES = 1 << 6,
  CU_DEID_CLEAN_DESCRIPTORS       = 1 << 7,
  CU_DEID_CLEAN_STRUCT_CONTENT    = 1 << 8,
  CU_DEID_CLEAN_GRAPHICS          = 1 << 9,
} CuDeidOptions;

/* What a site applies for step 1 (pseudonymization): dates kept, patient characteristics kept,
 * descriptors cleaned. */
#define CU_DEID_OPTIONS_SITE_DEFAULT \
  (CU_DEID_RETAIN_LONG_FULL_DATES | CU_DEID_RETAIN_PATIENT_CHARS | CU_DEID_CLEAN_DESCRIPTORS)
/* What the step-2 export applies (and must then pass): dates shifted. */
#define CU_DEID_OPTIONS_EXPORT (CU_DEID_RETAIN_LONG_MODIF_DATES | CU_DEID_RETAIN_PATIENT_CHARS)

/* The action for an attribute once options are applied (PS3.15 E.1.1). Compound codes
 * (Z/D, X/Z, X/D, X/Z/D, X/Z/U*) are kept distinct because a checker accepts any of their
 * members while an anonymizer applies the weakest one the IOD allows. */
typedef enum
{
  CU_DEID_ACTION_NONE = 0,   /* not in the table: standard attribute with no action (keep) */
  CU_DEID_ACTION_K,
  CU_DEID_ACTION_C,
  CU_DEID_ACTION_D,
  CU_DEID_ACTION_Z,
  CU_DEID_ACTION_X,
  CU_DEID_ACTION_U,
  CU_DEID_ACTION_Z_D,
  CU_DEID_ACTION_X_Z,
  CU_DEID_ACTION_X_D,
  CU_DEID_ACTION_X_Z_D,
  CU_DEID_ACTION_X_Z_U,
} CuDeidAction;

typedef struct _CuDeidProfile CuDeidProfile;

/* The built-in 2024b table. */
CuDeidProfile *cu_deid_profile_new_default (GError **error);
CuDeidProfile *cu_deid_profile_new_from_file (const char *tsv_path, GError **error);
void           cu_deid_profile_free       (CuDeidProfile *self);
guint          cu_deid_profile_get_n_rows (const CuDeidProfile *self);
/* The concrete tag of row i; FALSE for the rows of repeating groups (50xx, 60xx) and of
 * private attributes, which have none. */
gboolean       cu_deid_profile_get_row_tag (const CuDeidProfile *self, guint i, guint16 *group,
                                            guint16 *element);

/* Action for (group,element) under options; handles the 50xx/60xx repeating groups and the
 * private-attribute row (any odd group). keyword/name (static, may be NULL) describe the row. */
CuDeidAction   cu_deid_profile_lookup     (const CuDeidProfile *self,
                                           guint16              group,
                                           guint16              element,
                                           CuDeidOptions        options,
                                           const char         **keyword,
                                           const char         **name);

/* Private attributes known to carry no identity (PS3.15 E.3.10 Retain Safe Private), shipped
 * as data/deid_safe_private.tsv: by private creator, group and element within the block.
 * _block gives the 256-bit map (8 words, bit = low byte of the element) of one creator's block
 * in one group, or NULL when nothing of it is listed. */
const guint32 *cu_deid_profile_safe_private_block (const CuDeidProfile *self,
                                                   const char          *creator,
                                                   guint16              group);
gboolean       cu_deid_profile_is_safe_private (const CuDeidProfile *self,
                                                const char          *creator,
                                                guint16              group,
                                                guint16              element);

const char    *cu_deid_action_to_string   (CuDeidAction action);   /* "X", "Z/D", … */
/* Parse "rtn-long-full-dates,clean-desc,…" (the names used in workspace settings and on the
 * command line) into options; NULL or "" gives 0. */
gboolean       cu_deid_options_parse      (const char *text, CuDeidOptions *options, GError **error);
char          *cu_deid_options_to_string  (CuDeidOptions options);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDeidProfile, cu_deid_profile_free)

G_END_DECLS

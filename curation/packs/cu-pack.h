/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-pack.h — a project pack: a folder of plain data files (data/packs/README.md) holding what
 * is specific to a project or a cancer — eCRF variables, annotation terms, lesion forms,
 * acquisition protocols, consistency rules — read and checked as a whole.
 *
 * cu_pack_load() validates every file of the folder before it returns: a pack with any
 * problem is refused with an error naming the file, the line and the field, and nothing of it
 * is returned. The structures are read-only once loaded.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CU_PACK_ERROR (cu_pack_error_quark ())

typedef enum
{
  CU_PACK_ERROR_INVALID,    /* a file of the pack is broken (file:line: field: reason) */
  CU_PACK_ERROR_NOT_FOUND,  /* no such pack */
  CU_PACK_ERROR_CONFLICT,   /* packs that cannot be used together */
} CuPackError;

GQuark cu_pack_error_quark (void);

typedef enum
{
  CU_PACK_VAR_STRING,
  CU_PACK_VAR_ENUM,
  CU_PACK_VAR_INTEGER,
  CU_PACK_VAR_DECIMAL,
  CU_PACK_VAR_DATE,
  CU_PACK_VAR_TNM,
} CuPackVarType;

/* One eCRF variable (a row of ecrf.tsv). */
typedef struct
{
  char *name;
  CuPackVarType type;
  gboolean extends;          /* "enum+": adds allowed values to another pack's enum */
  char **allowed;            /* enum: the values; tnm: the letter (T, N or M) */
  char **units;              /* accepted units (the first is canonical), or NULL */
  gboolean has_min, has_max;
  double min, max;
  gboolean max_is_year;      /* max = the current year + max */
  char *required_for;        /* NULL: optional; "*": every patient; else a cancer type */
  char *cond_variable;       /* conditional: required when cond_variable … */
  char **cond_values;        /* … has one of these values (NULL: has any value) */
  gboolean cond_negate;      /* … has a value other than these */
  char *event_date;          /* long layout: the date variable this variable's date fills */
  char *after;               /* layout position: after this variable of another pack */
  gboolean key, person, serial, addition;
  char *omop_target;
  char *omop_concept_ids;
  char *pack_id;
  char *file;
  guint line;
} CuPackVariable;

/* One coded term for segmentation labels (a row of terms.tsv). */
typedef struct
{
  char *id;
  char *group;               /* "lesion" or "anatomy" */
  char *name;
  char *category_scheme, *category_code, *category_meaning;
  char *type_scheme, *type_code, *type_meaning;
  guint8 rgb[3];
  char *pack_id;
} CuPackTerm;

/* A form, protocol or rule file: its id, where it came from, its checked text. */
typedef struct
{
  char *id;
  char *file;
  char *text;
  char *pack_id;
} CuPackFile;

typedef struct
{
  char *id;
  char *version;
  char *name;
  char **languages;
  char **requires;
  char **cancer_types;
  char **sources;
  char **code_lists;
  char *location;            /* the folder, as shown to people */
  gboolean builtin;
  GKeyFile *manifest;        /* for translated names */
  GPtrArray *variables;      /* CuPackVariable, in file order */
  GPtrArray *terms;          /* CuPackTerm */
  GPtrArray *forms;          /* CuPackFile (JSON) */
  GPtrArray *protocols;      /* CuPackFile (INI) */
  GPtrArray *rules;          /* CuPackFile (SQL with a header) */
  GPtrArray *unverified;     /* "SCHEME\tCODE" of unverified-codes.tsv */
} CuPack;

/* Read and check a pack folder. */
CuPack            *cu_pack_load           (GFile *folder, GError **error);
CuPack            *cu_pack_load_path      (const char *path, GError **error);
/* A pack shipped with Curata, by id. */
CuPack            *cu_pack_load_builtin   (const char *id, GError **error);
/* Ids of the shipped packs (sorted, NULL-terminated, owned by the library). */
const char *const *cu_pack_builtin_ids    (void);
void               cu_pack_free           (CuPack *pack);
/* The pack's name in language lang (e.g. "es"; NULL: the default). */
char              *cu_pack_get_name       (const CuPack *pack, const char *lang);
const char        *cu_pack_var_type_name  (CuPackVarType type);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuPack, cu_pack_free)

G_END_DECLS

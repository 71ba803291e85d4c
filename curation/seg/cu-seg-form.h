/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-form.h — declarative lesion forms, from the packs' forms/ (data/packs/README.md; e.g.
 * PI-RADS v2.1 in the prostate pack).
 *
 * A form is a list of fields (choice, integer with a range, free text), each with an id; the
 * answers of one lesion are a JSON object { field id: value }. One integer field may be marked
 * "score": it is the lesion's category, compared between readers (Cohen's κ). The form's
 * "scoring" decision table suggests the value of one integer field from the others.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "cu-pack-set.h"

G_BEGIN_DECLS

typedef enum
{
  CU_FORM_CHOICE,
  CU_FORM_INTEGER,
  CU_FORM_TEXT,
} CuFormFieldType;

typedef struct
{
  char *id;
  char *label;
  CuFormFieldType type;
  gboolean required;
  gboolean score;
  int min, max;              /* integer fields */
  GStrv option_values;       /* choice fields */
  GStrv option_labels;
  char *suggest;             /* rule set id, or NULL */
} CuFormField;

typedef struct _CuSegForm CuSegForm;

/* The form with this id ("pirads-v2.1") of any shipped pack, or NULL with error. */
CuSegForm       *cu_seg_form_load          (const char *id, GError **error);
/* The form with this id among packs. */
CuSegForm       *cu_seg_form_load_from     (CuPackSet *packs, const char *id, GError **error);
/* The field the form's scoring suggests a value for, or NULL. */
const char      *cu_seg_form_get_scoring_target (const CuSegForm *form);
CuSegForm       *cu_seg_form_new_from_json (const char *json, GError **error);
void             cu_seg_form_free          (CuSegForm *form);
/* A form text (title, field or option label) in the user's language, when translated. */
const char      *cu_seg_form_text          (const char *text);
const char      *cu_seg_form_get_id        (const CuSegForm *form);
const char      *cu_seg_form_get_title     (const CuSegForm *form);
guint            cu_seg_form_get_n_fields  (const CuSegForm *form);
const CuFormField *cu_seg_form_get_field   (const CuSegForm *form, guint index);
/* The score field, or NULL. */
const CuFormField *cu_seg_form_get_score_field (const CuSegForm *form);

/* Check answers (a JSON object as text): known fields, values of the right type, in range or
 * among the options; with complete, also every required field present. The first problem
 * found is the error (CU_SEG_ERROR_INVALID), naming the field. */
gboolean         cu_seg_form_validate      (const CuSegForm *form, const char *answers_json,
                                            gboolean complete, GError **error);
/* The PI-RADS v2.1 overall category from zone, T2W, DWI and DCE answers, by the scoring of the
 * prostate pack's PI-RADS form; 0 when the answers are not enough to decide. */
int              cu_seg_pirads_v21_category (const char *zone, int t2w, int dwi, const char *dce);
/* The value the form's scoring gives for answers, as text ("4", "4A"), or NULL. */
char            *cu_seg_form_suggest_value (const CuSegForm *form, const char *answers_json);
/* The same for an integer target (0 when no case applies or the target is a choice). */
int              cu_seg_form_suggest       (const CuSegForm *form, const char *answers_json);
/* The score in answers (0 when absent). */
int              cu_seg_form_get_score     (const CuSegForm *form, const char *answers_json);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSegForm, cu_seg_form_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-browser-item.h — one node of the study browser tree: a patient, a study or a series.
 */
#pragma once

#include <gtk/gtk.h>

#include "curation.h"

G_BEGIN_DECLS

typedef enum
{
  CU_BROWSER_ITEM_PATIENT,
  CU_BROWSER_ITEM_STUDY,
  CU_BROWSER_ITEM_SERIES,
} CuBrowserItemKind;

#define CU_TYPE_BROWSER_ITEM (cu_browser_item_get_type ())
G_DECLARE_FINAL_TYPE (CuBrowserItem, cu_browser_item, CU, BROWSER_ITEM, GObject)

CuBrowserItem     *cu_browser_item_new          (CuBrowserItemKind kind, const char *key,
                                                 const char *title, const char *subtitle);
CuBrowserItemKind  cu_browser_item_get_kind     (CuBrowserItem *self);
/* patient id, study UID or series UID */
const char        *cu_browser_item_get_key      (CuBrowserItem *self);
const char        *cu_browser_item_get_title    (CuBrowserItem *self);
const char        *cu_browser_item_get_subtitle (CuBrowserItem *self);
void               cu_browser_item_set_subtitle (CuBrowserItem *self, const char *subtitle);
/* Children (CuBrowserItem) of patients and studies; NULL for series. */
GListStore        *cu_browser_item_get_children (CuBrowserItem *self);
GdkPaintable      *cu_browser_item_get_thumbnail (CuBrowserItem *self);
void               cu_browser_item_set_thumbnail (CuBrowserItem *self, GdkPaintable *thumbnail);
/* Pseudonymization gate of a study (and the reasons, for a tooltip); series and patients
 * keep CU_GATE_PASSED. */
CuGateState        cu_browser_item_get_gate     (CuBrowserItem *self);
const char        *cu_browser_item_get_gate_reasons (CuBrowserItem *self);
void               cu_browser_item_set_gate     (CuBrowserItem *self, CuGateState gate,
                                                 const char *reasons);
/* TRUE once a thumbnail was requested (so it is made only once). */
gboolean           cu_browser_item_claim_thumbnail (CuBrowserItem *self);

G_END_DECLS

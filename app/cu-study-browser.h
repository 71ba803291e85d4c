/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-study-browser.h — the sidebar tree patients → studies → series of a workspace.
 * Activating a series row activates "win.open-series" with its SeriesInstanceUID.
 */
#pragma once

#include <gtk/gtk.h>

#include "curation.h"
#include "cu-browser-item.h"

G_BEGIN_DECLS

#define CU_TYPE_STUDY_BROWSER (cu_study_browser_get_type ())
G_DECLARE_FINAL_TYPE (CuStudyBrowser, cu_study_browser, CU, STUDY_BROWSER, GtkWidget)

GtkWidget  *cu_study_browser_new         (void);
/* Re-read the catalog of store (kept for fetching thumbnails' files). */
gboolean    cu_study_browser_reload      (CuStudyBrowser *self, CuStore *store, GError **error);
/* The flattened tree as shown (GtkTreeListRow items), for tests and keyboard navigation. */
GListModel *cu_study_browser_get_model   (CuStudyBrowser *self);
guint       cu_study_browser_get_n_series (CuStudyBrowser *self);
/* Select (and reveal) the row of a series. */
void        cu_study_browser_select_series (CuStudyBrowser *self, const char *series_uid);
/* The item of the selected row (a new reference), or NULL when nothing is selected. */
CuBrowserItem *cu_study_browser_get_selected (CuStudyBrowser *self);

/* The vertical scroll position of the list (kept across reloads, as the selection is). */
double          cu_study_browser_get_scroll (CuStudyBrowser *self);

G_END_DECLS

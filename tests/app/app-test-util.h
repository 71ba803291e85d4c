/* SPDX-License-Identifier: GPL-3.0-or-later
 * app-test-util.h — helpers shared by the window tests: temporary folders and bounded waits
 * on the main loop.
 */
#pragma once

#include <gtk/gtk.h>

#include "cu-browser-item.h"
#include "cu-seg-panel.h"
#include "cu-slice-canvas.h"
#include "cu-study-browser.h"
#include "cu-window.h"

G_BEGIN_DECLS

/* Remove path and, for a folder, everything below it (links are removed, not followed). */
void     app_test_rm_rf    (const char *path);
/* Iterate the main context until cond (data) is TRUE; FALSE when seconds pass first. */
gboolean app_test_wait_for (gboolean (*cond) (gpointer), gpointer data, int seconds);
/* Let pending idle work and redraws run. */
void     app_test_drain    (void);

/* For app_test_wait_for: TRUE when the window (a CuWindow) runs no import, export or load. */
gboolean app_test_window_idle (gpointer window);

/* For app_test_wait_for: TRUE when the window is idle and shows the series uid. */
typedef struct
{
  CuWindow   *window;
  const char *uid;
} AppTestSeriesWait;
gboolean app_test_series_opened (gpointer wait /* AppTestSeriesWait */);

/* The browser's item for a study (a new reference), or NULL. */
CuBrowserItem *app_test_find_study_item (CuStudyBrowser *browser, const char *study_uid);

/* The newest visible toplevel of a type (dialogs are presented after the main window),
 * with css_class when it is not NULL; borrowed, or NULL. */
GtkWidget     *app_test_find_toplevel   (GType type, const char *css_class);

/* Iterate the main loop until the workspace writes asked for so far (the dialogs' and panels'
 * writes run on a worker thread, cu-store-write.h) are stored and their callbacks have run. */
gboolean       app_test_writes_done     (gpointer store /* CuStore */);

/* A picture of a window for the record, into CU_TEST_SHOT_DIR/name (PNG) when that variable
 * is set; nothing otherwise. */
void           app_test_shot            (GtkWidget *widget, const char *name);

/* A new workspace in a temporary folder (named from prefix, "curata-seg-XXXXXX") with the
 * demo imported and its axial T2 (*t2_uid) accepted at the quality gate, so it can be
 * annotated (the demo passes the pseudonymization gate). Returns the folder. */
char    *app_test_demo_workspace (const char *prefix, char **t2_uid);
/* For app_test_wait_for: TRUE when the widget has been given a usable size. */
gboolean app_test_canvas_allocated (gpointer widget);
/* A main window (1300×850) on store showing series uid, with its segmentation panel and the
 * axial canvas of its MPR view once that canvas has a size. */
CuWindow *app_test_open_annotation (CuStore *store, const char *uid, CuSegPanel **panel,
                                    CuSliceCanvas **canvas);

G_END_DECLS

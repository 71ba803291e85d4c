/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-private.h — CuWindow internals shared by cu-window.c and cu-window-actions.c.
 */
#pragma once

#include "cu-mpr-view.h"
#include "cu-reading-view.h"
#include "cu-seg-panel.h"
#include "cu-study-browser.h"
#include "cu-window.h"
#include "cu-job-progress.h"

G_BEGIN_DECLS

typedef enum
{
  CU_JOB_NONE,
  CU_JOB_LOAD,
  CU_JOB_IMPORT,
  CU_JOB_EXPORT,
  CU_JOB_RECHECK,   /* the pseudonymization check after a configuration change */
} CuJobKind;


struct _CuWindow
{
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwWindowTitle *window_title;
  GtkStack *main_stack;
  GtkStack *view_stack;
  CuStudyBrowser *browser;
  CuMprView *mpr_view;
  GtkStack *layout_stack;
  GtkWidget *tools_separator;
  CuReadingView *reading_view;
  CuSegPanel *seg_panel;
  GtkRevealer *job_revealer;
  GtkLabel *job_label;
  GtkProgressBar *job_progress;
  GtkRevealer *gate_revealer;
  GtkWidget *gate_banner;
  GtkImage *gate_icon;
  GtkLabel *gate_label;
  GtkWidget *gate_findings_button;
  GtkWidget *gate_override_button;
  GtkMenuButton *gate_more_button;

  /* owned */
  CuStore *store;
  CuCine *cine;            /* owned: plays slices or volumes (cu-window-cine.c) */
  CuViewerState *state;
  char *series_uid;         /* shown */
  char *loading_uid;        /* being loaded */
  char *pending_uid;        /* asked for during an import: opened when it ends */
  GCancellable *job_cancellable;
  CuJobKind job_kind;
  CuJobProgress *progress;  /* rc-box, shared with the worker */
  guint progress_source;
  GtkFileChooserNative *chooser;
  char *study_uid;          /* study of the series shown */
  gboolean regridded;       /* the series shown is resampled (tilted/uneven slices) */
  char *frame_uid;          /* FrameOfReferenceUID of the series shown */
  int last_width;           /* for the side panels (cu-window-panels.c) */

  /* the reading layout (cu-window-reading.c) */
  GCancellable *reading_cancellable;
  char *reading_study;      /* study whose series the pane menus list */
  GMenu *series_menu;

  /* the quality gate (cu-window-qc.c) */
  GtkRevealer *qc_revealer;
  GtkProgressBar *qc_progress;
  struct _CuQcRunner *qc_runner;
  struct _CuQcReview *qc_review;   /* the review window while open, else NULL */
  guint qc_poll;
};

void _cu_window_class_init_actions (GtkWidgetClass *widget_class);
void _cu_window_update_actions     (CuWindow *self);
void _cu_window_show_error         (CuWindow *self, const char *heading, const GError *error);
/* Re-read the gate of the shown study into the banner (after a load, import or override). */
void _cu_window_update_gate        (CuWindow *self);
void _cu_window_toast              (CuWindow *self, const char *text);

/* The job mechanism of cu-window.c, for jobs living in other files (cu-window-export.c). */
void     _cu_window_job_begin           (CuWindow *self, CuJobKind kind, const char *label);
gboolean _cu_window_job_end             (CuWindow *self, GCancellable *cancellable);
/* win.export-anonymized (cu-window-export.c) */
void     _cu_window_export_action       (GtkWidget *widget, const char *action_name,
                                         GVariant *param);
/* win.motion-correct and win.register (cu-window-motion.c) */
void     _cu_window_motion_correct_action (GtkWidget *widget, const char *action_name,
                                           GVariant *param);
void     _cu_window_register_action     (GtkWidget *widget, const char *action_name,
                                         GVariant *param);

/* The pseudonymization gate's workspace actions (cu-window-deid.c): win.supersede-study,
 * win.remove-study, win.deid-preferences, and the recheck after a configuration change. */
void     _cu_window_deid_class_init     (GtkWidgetClass *widget_class);
/* After an import: when a new study could supersede a quarantined one, a toast offers it. */
void     _cu_window_offer_fixed_copies  (CuWindow *self, const CuImportReport *report);

/* Consistency flags (cu-window-flags.c): win.show-flags, win.import-clinical. */
typedef struct _CuFlagsWindow CuFlagsWindow;
void     _cu_window_class_init_flags    (GtkWidgetClass *widget_class);
/* Open (or raise) the flags panel, filtered to person_id when not NULL. */
CuFlagsWindow *_cu_window_show_flags    (CuWindow *self, const char *person_id);
/* Flags or clinical data changed: refresh the browser's per-patient flag badges. */
void     _cu_window_flags_changed       (CuWindow *self);
/* The audit trail (cu-window-audit.c): win.study-history, win.series-history. */
void     _cu_window_audit_class_init    (GtkWidgetClass *widget_class);
/* The quality gate (cu-window-qc.c): win.qc-review, win.cancel-qc; QC of the series not yet
 * checked, in the background with its own progress bar (after every import). */
void     _cu_window_qc_class_init       (GtkWidgetClass *widget_class);
void     _cu_window_qc_check_new        (CuWindow *self);
gboolean _cu_window_qc_is_running       (CuWindow *self);
void     _cu_window_qc_dispose          (CuWindow *self);
struct _CuQcReview *_cu_window_qc_review (CuWindow *self);

/* Releases (cu-window-release.c): win.show-releases opens (or raises) the Release window. */
typedef struct _CuReleaseWindow CuReleaseWindow;
void     _cu_window_release_class_init  (GtkWidgetClass *widget_class);
CuReleaseWindow *_cu_window_show_releases (CuWindow *self);
/* cu-window-remote.c: win.show-remote, the Remote source (DICOMweb search and pull). */
void     _cu_window_remote_class_init   (GtkWidgetClass *widget_class);
typedef struct _CuRemoteWindow CuRemoteWindow;
CuRemoteWindow *_cu_window_show_remote (CuWindow *self);

/* Side panels (cu-window-panels.c): win.toggle-browser, win.toggle-tools, hidden in a
 * narrow window. */
void     _cu_window_panels_class_init   (GtkWidgetClass *widget_class);
void     _cu_window_panels_init         (CuWindow *self);

/* Cine (cu-window-cine.c): win.cine, win.cine-mode, win.cine-fps, win.cine-bounce. */
void     _cu_window_cine_class_init     (GtkWidgetClass *widget_class);
void     _cu_window_cine_init           (CuWindow *self);

/* The reading layout (cu-window-reading.c): win.layout, win.hanging-protocol,
 * win.link-window, win.pane-series; pane 0 shows the window's own state. */
void     _cu_window_reading_class_init  (GtkWidgetClass *widget_class);
void     _cu_window_reading_init        (CuWindow *self);
void     _cu_window_reading_dispose     (CuWindow *self);
/* The main series changed (after a load): link it and refresh the pane menus. */
void     _cu_window_reading_series_shown (CuWindow *self);
/* Load a series into pane index (1…3) in the background; pane_spec may be NULL. */
void     _cu_window_reading_load_pane   (CuWindow *self, guint index, const char *series_uid,
                                         const CuHangingPane *spec);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-panel-private.h — what the files of the segmentation panel share (cu-seg-panel.c,
 * cu-seg-panel-form.c): the instance struct and the helpers both use.
 */
#pragma once

#include "cu-seg-panel.h"
#include "cu-measure-list.h"

G_BEGIN_DECLS

struct _CuSegPanel
{
  GtkWidget parent_instance;

  /* children */
  GtkWidget *scroller;
  GtkLabel *status;
  GtkEntry *reader_entry;
  GtkToggleButton *tools[7];
  CuMeasureList *measure_list;
  GtkSpinButton *radius_spin;
  GtkCheckButton *sphere_check;
  GtkCheckButton *limit_check;
  GtkSpinButton *low_spin, *high_spin, *tolerance_spin;
  GtkCheckButton *grow_3d_check;
  GtkDropDown *overlap_dropdown;
  GtkListBox *label_list;
  GtkMenuButton *add_button;
  GtkScale *opacity_scale;
  GtkCheckButton *outline_check;
  GtkWidget *form_box;
  GtkLabel *form_title;
  GPtrArray *form_widgets;     /* one per form field */
  GtkLabel *suggestion;
  GtkLabel *measure_label;
  GtkLabel *ruler_label;
  GtkLabel *readonly_label;
  GtkMenuButton *combine_button;
  GtkLabel *readers_label;

  /* owned */
  CuViewerState *state;
  CuSegEditor *editor;
  CuStore *store;
  char *series_uid;
  CuVolume *volume;
  GSettings *settings;
  char *reader;
  CuSegForm *form;
  CuSegSession *session;
  GCancellable *cancellable;   /* the tasks below; cancelled on dispose */
  guint busy;                  /* tasks running */
  int saved_version;
  guint form_save_source;   /* a form change's save, deferred (form_changed) */
  gboolean updating;           /* filling widgets: ignore their signals */
  guint measure_source;
  gsize counts[256];
};

CuLabelMap *_cu_seg_panel_current_map     (CuSegPanel *self);
void        _cu_seg_panel_set_status      (CuSegPanel *self, const char *text, gboolean error);
/* Commit the editor's state to the reader's session (saved on its thread). */
void        _cu_seg_panel_save_now        (CuSegPanel *self, const char *what);

/* The lesion form of the active label (cu-seg-panel-form.c). */
void        _cu_seg_panel_build_form      (CuSegPanel *self);
void        _cu_seg_panel_update_form     (CuSegPanel *self);
/* Save a form change waiting for its deferred save now. */
void        _cu_seg_panel_flush_form_save (CuSegPanel *self);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-viewer-link.h — linked series: views of different series that share one cursor.
 *
 * Each pane of the reading layout has its own CuViewerState (its own volume). States added to
 * a link with the same frame of reference share the cursor in patient coordinates (LPS): a
 * click on T2 puts the crosshair on the same point of the ADC, and since a slice view shows
 * the slice nearest the cursor, scrolling one pane scrolls the others to the slice through the
 * same point. Window/level can be linked too (off by default: T2 and ADC values differ).
 */
#pragma once

#include "cu-viewer-state.h"

G_BEGIN_DECLS

#define CU_TYPE_VIEWER_LINK (cu_viewer_link_get_type ())
G_DECLARE_FINAL_TYPE (CuViewerLink, cu_viewer_link, CU, VIEWER_LINK, GObject)

CuViewerLink *cu_viewer_link_new               (void);
/* Add a state (a ref is kept); frame_of_reference (may be NULL: linked with no one) is the
 * FrameOfReferenceUID of the series it shows. Re-adding updates the frame of reference. */
void          cu_viewer_link_add               (CuViewerLink *self, CuViewerState *state,
                                                const char *frame_of_reference);
void          cu_viewer_link_remove            (CuViewerLink *self, CuViewerState *state);
/* Per-state switch (TRUE when added): an unlinked state neither follows nor leads. */
void          cu_viewer_link_set_linked        (CuViewerLink *self, CuViewerState *state,
                                                gboolean linked);
gboolean      cu_viewer_link_get_linked        (CuViewerLink *self, CuViewerState *state);
/* Whether the two states follow each other now (both linked, same frame of reference). */
gboolean      cu_viewer_link_are_linked        (CuViewerLink *self, CuViewerState *a,
                                                CuViewerState *b);
/* Put state's cursor where the other linked states have theirs (a pane that just got its
 * volume joins the point being read instead of moving everyone to its own centre). */
void          cu_viewer_link_adopt             (CuViewerLink *self, CuViewerState *state);
void          cu_viewer_link_set_window_linked (CuViewerLink *self, gboolean linked);
gboolean      cu_viewer_link_get_window_linked (CuViewerLink *self);

G_END_DECLS

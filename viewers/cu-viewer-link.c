/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-viewer-link.c — one LPS cursor for the linked views (cu-viewer-link.h).
 *
 * The cursor is copied as a patient position, never as a voxel index, so two series on
 * different grids (an oblique ADC and an axial T2) point at the same anatomy; each view then
 * shows its own nearest slice. Series that share a FrameOfReferenceUID share patient
 * coordinates (PS3.3 C.7.4.1.1.1); series of different frames are not linked, since the same
 * coordinates would name different anatomy there.
 */
#include "config.h"

#include "cu-viewer-link.h"

typedef struct
{
  CuViewerState *state;
  char *frame;
  gboolean linked;
} Member;

struct _CuViewerLink
{
  GObject parent_instance;

  GArray *members;          /* Member */
  gboolean window_linked;
  gboolean propagating;     /* a copy in progress: the notifications it causes are not copied */
};

G_DEFINE_FINAL_TYPE (CuViewerLink, cu_viewer_link, G_TYPE_OBJECT)

static Member *
find (CuViewerLink *self, CuViewerState *state)
{
  for (guint i = 0; i < self->members->len; i++)
    if (g_array_index (self->members, Member, i).state == state)
      return &g_array_index (self->members, Member, i);
  return NULL;
}

static gboolean
members_linked (const Member *a, const Member *b)
{
  return a != b && a->linked && b->linked && a->frame != NULL && b->frame != NULL
         && g_str_equal (a->frame, b->frame);
}

static void
cursor_cb (CuViewerState *state, GParamSpec *pspec, CuViewerLink *self)
{
  Member *from = find (self, state);
  double lps[3];

  if (self->propagating || from == NULL || !from->linked)
    return;
  cu_viewer_state_get_cursor (state, lps);
  self->propagating = TRUE;
  for (guint i = 0; i < self->members->len; i++)
    {
      Member *to = &g_array_index (self->members, Member, i);
      if (members_linked (from, to) && cu_viewer_state_get_volume (to->state) != NULL)
        cu_viewer_state_set_cursor (to->state, lps);
    }
  self->propagating = FALSE;
}

static void
window_cb (CuViewerState *state, GParamSpec *pspec, CuViewerLink *self)
{
  Member *from = find (self, state);

  if (self->propagating || !self->window_linked || from == NULL || !from->linked)
    return;
  self->propagating = TRUE;
  for (guint i = 0; i < self->members->len; i++)
    {
      Member *to = &g_array_index (self->members, Member, i);
      if (members_linked (from, to))
        cu_viewer_state_set_window_level (to->state, cu_viewer_state_get_window (state),
                                          cu_viewer_state_get_level (state));
    }
  self->propagating = FALSE;
}

static void
member_clear (Member *m)
{
  g_free (m->frame);
  g_clear_object (&m->state);
}

static void
cu_viewer_link_dispose (GObject *object)
{
  CuViewerLink *self = CU_VIEWER_LINK (object);

  for (guint i = 0; self->members != NULL && i < self->members->len; i++)
    g_signal_handlers_disconnect_by_data (g_array_index (self->members, Member, i).state, self);
  g_clear_pointer (&self->members, g_array_unref);
  G_OBJECT_CLASS (cu_viewer_link_parent_class)->dispose (object);
}

static void
cu_viewer_link_class_init (CuViewerLinkClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = cu_viewer_link_dispose;
}

static void
cu_viewer_link_init (CuViewerLink *self)
{
  self->members = g_array_new (FALSE, TRUE, sizeof (Member));
  g_array_set_clear_func (self->members, (GDestroyNotify) member_clear);
}

CuViewerLink *
cu_viewer_link_new (void)
{
  return g_object_new (CU_TYPE_VIEWER_LINK, NULL);
}

void
cu_viewer_link_add (CuViewerLink *self, CuViewerState *state, const char *frame_of_reference)
{
  Member *m, added = { 0 };

  g_return_if_fail (CU_IS_VIEWER_LINK (self));
  g_return_if_fail (CU_IS_VIEWER_STATE (state));
  m = find (self, state);
  if (m != NULL)
    {
      g_free (m->frame);
      m->frame = g_strdup (frame_of_reference);
      return;
    }
  added.state = g_object_ref (state);
  added.frame = g_strdup (frame_of_reference);
  added.linked = TRUE;
  g_array_append_val (self->members, added);
  g_signal_connect_object (state, "notify::cursor", G_CALLBACK (cursor_cb), self, 0);
  g_signal_connect_object (state, "notify::window", G_CALLBACK (window_cb), self, 0);
  g_signal_connect_object (state, "notify::level", G_CALLBACK (window_cb), self, 0);
}

void
cu_viewer_link_remove (CuViewerLink *self, CuViewerState *state)
{
  g_return_if_fail (CU_IS_VIEWER_LINK (self));
  for (guint i = 0; i < self->members->len; i++)
    if (g_array_index (self->members, Member, i).state == state)
      {
        g_signal_handlers_disconnect_by_data (state, self);
        g_array_remove_index (self->members, i);
        return;
      }
}

void
cu_viewer_link_set_linked (CuViewerLink *self, CuViewerState *state, gboolean linked)
{
  Member *m;

  g_return_if_fail (CU_IS_VIEWER_LINK (self));
  m = find (self, state);
  if (m != NULL)
    m->linked = !!linked;
}

gboolean
cu_viewer_link_get_linked (CuViewerLink *self, CuViewerState *state)
{
  Member *m;

  g_return_val_if_fail (CU_IS_VIEWER_LINK (self), FALSE);
  m = find (self, state);
  return m != NULL && m->linked;
}

gboolean
cu_viewer_link_are_linked (CuViewerLink *self, CuViewerState *a, CuViewerState *b)
{
  Member *ma, *mb;

  g_return_val_if_fail (CU_IS_VIEWER_LINK (self), FALSE);
  ma = find (self, a);
  mb = find (self, b);
  return ma != NULL && mb != NULL && members_linked (ma, mb);
}

void
cu_viewer_link_set_window_linked (CuViewerLink *self, gboolean linked)
{
  g_return_if_fail (CU_IS_VIEWER_LINK (self));
  self->window_linked = !!linked;
}

gboolean
cu_viewer_link_get_window_linked (CuViewerLink *self)
{
  g_return_val_if_fail (CU_IS_VIEWER_LINK (self), FALSE);
  return self->window_linked;
}

void
cu_viewer_link_adopt (CuViewerLink *self, CuViewerState *state)
{
  Member *to;

  g_return_if_fail (CU_IS_VIEWER_LINK (self));
  to = find (self, state);
  if (to == NULL)
    return;
  for (guint i = 0; i < self->members->len; i++)
    {
      Member *from = &g_array_index (self->members, Member, i);
      double lps[3];
      if (!members_linked (from, to) || cu_viewer_state_get_volume (from->state) == NULL)
        continue;
      cu_viewer_state_get_cursor (from->state, lps);
      self->propagating = TRUE;
      cu_viewer_state_set_cursor (to->state, lps);
      self->propagating = FALSE;
      return;
    }
}

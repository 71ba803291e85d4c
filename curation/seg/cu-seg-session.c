/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-seg-session.c — editing a reader's segmentation, saved on a thread of its own
 * (cu-seg-session.h).
 *
 * Two copies of the map exist: the one being edited (the owner's thread: the UI or the
 * command line) and the saving thread's "shadow", which is the owner's map as of the last
 * commit. A commit carries the journal of the history (each stroke, undo and redo as a diff
 * and a direction), so the shadow follows by re-applying them, never by copying the map on
 * the thread that draws. The same journal, kept since the version the session is based on, is
 * what is re-applied on top of another session's newer version.
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-seg-session.h"

/* How long a save waits for the workspace between attempts, and how long flush() and the
 * closing of a session wait for a locked workspace before they report it. */
#define RETRY_MS 250
#define GIVE_UP_S 60
#define MERGE_ATTEMPTS 8

typedef enum
{
  EVENT_SAVED,
  EVENT_FAILED,
} EventKind;

typedef struct
{
  EventKind kind;
  int version, merged_with;
  GError *error;
} Event;

typedef struct
{
  CuSegDiff *foreign;      /* what another session changed, or NULL */
  char *labels;            /* the merged label table */
} Foreign;

struct _CuSegSession
{
  GObject parent_instance;

  /* owner's thread */
  CuStore *store;
  char *series_uid, *reader;
  CuLabelMap *map;
  CuSegHistory *history;
  CuSegVersionInfo *opened;
  GMainContext *context;
  char *committed_labels;

  /* shared, under lock */
  GMutex lock;
  GCond cond;
  GArray *queue_ops;             /* CuSegJournalEntry */
  char *queue_labels;            /* or NULL: unchanged */
  GPtrArray *queue_undo, *queue_redo;
  gboolean queued, saving, dirty, stopping;
  int saved_version, merged_with;
  GError *last_error;
  GArray *events;                /* Event */
  GPtrArray *foreign;            /* Foreign* */
  GSource *notify_source;
  GThread *thread;

  /* saving thread */
  CuStore *wstore;
  CuLabelMap *shadow;
  int base_version;
  char *base_labels;
  GArray *unsaved;               /* CuSegJournalEntry since base_version */
  GPtrArray *undo, *redo;
};

G_DEFINE_FINAL_TYPE (CuSegSession, cu_seg_session, G_TYPE_OBJECT)

enum
{
  SIGNAL_SAVED,
  SIGNAL_SAVE_FAILED,
  SIGNAL_MERGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
event_clear (gpointer data)
{
  Event *e = data;
  g_clear_error (&e->error);
}

static void
foreign_free (Foreign *f)
{
  g_clear_pointer (&f->foreign, cu_seg_diff_unref);
  g_free (f->labels);
  g_free (f);
}

static GArray *
journal_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (CuSegJournalEntry));
}

/* Entries own a reference to their diff. The queue hands its entries (references and all) to
 * the unsaved list by copying them, so neither array has a clear function: this drops them. */
static void
journal_clear (GArray *a)
{
  for (guint i = 0; i < a->len; i++)
    g_clear_pointer (&g_array_index (a, CuSegJournalEntry, i).diff, cu_seg_diff_unref);
  g_array_set_size (a, 0);
}

/* ---- on the owner's thread ------------------------------------------------------------ */

static gboolean
labels_equal (const CuLabel *a, const CuLabel *b)
{
  return a->value == b->value && g_strcmp0 (a->name, b->name) == 0 && memcmp (a->rgb, b->rgb, 3) == 0
         && g_strcmp0 (a->category_code, b->category_code) == 0
         && g_strcmp0 (a->category_scheme, b->category_scheme) == 0
         && g_strcmp0 (a->category_meaning, b->category_meaning) == 0
         && g_strcmp0 (a->type_code, b->type_code) == 0 && g_strcmp0 (a->type_scheme, b->type_scheme) == 0
         && g_strcmp0 (a->type_meaning, b->type_meaning) == 0
         && g_strcmp0 (a->terminology_id, b->terminology_id) == 0
         && g_strcmp0 (a->form_json, b->form_json) == 0
         && a->origin == b->origin && g_strcmp0 (a->algorithm_name, b->algorithm_name) == 0;
}

/* A model's label a reader has drawn on is no longer the model's output as it came: DICOM
 * calls it SEMIAUTOMATIC (PS3.3 C.8.20.2.3), with the model's name kept. */
static void
mark_edited_labels (CuLabelMap *map, GArray *journal)
{
  gboolean touched[256] = { FALSE };

  for (guint i = 0; i < journal->len; i++)
    {
      const CuSegJournalEntry *e = &g_array_index (journal, CuSegJournalEntry, i);
      if (e->forward)
        cu_seg_diff_mark_values (e->diff, touched);
    }
  for (guint i = 0; i < cu_label_map_get_n_labels (map); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (map, i);
      if (l->origin == CU_LABEL_ORIGIN_AUTOMATIC && touched[l->value])
        {
          g_autoptr(CuLabel) edited = cu_label_copy (l);
          edited->origin = CU_LABEL_ORIGIN_SEMIAUTOMATIC;
          cu_label_map_set_label (map, edited);
        }
    }
}

/* What another session changed, onto the map being edited: voxels this session changed
 * since keep its value; labels it does not have are added. */
static gboolean
apply_foreign (CuSegSession *self)
{
  g_autoptr(GPtrArray) list = NULL;

  if (cu_seg_history_is_open (self->history))
    return FALSE;   /* not in the middle of a stroke: the next commit brings it in */
  g_mutex_lock (&self->lock);
  list = g_steal_pointer (&self->foreign);
  self->foreign = g_ptr_array_new_with_free_func ((GDestroyNotify) foreign_free);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < list->len; i++)
    {
      Foreign *f = list->pdata[i];
      g_autoptr(CuLabelMap) theirs = cu_label_map_copy (self->map);

      if (f->foreign != NULL)
        cu_seg_diff_apply_unchanged (f->foreign, self->map);
      if (f->labels != NULL && cu_label_map_labels_from_json (theirs, f->labels, NULL))
        for (guint l = 0; l < cu_label_map_get_n_labels (theirs); l++)
          {
            const CuLabel *label = cu_label_map_get_label_at (theirs, l);
            if (cu_label_map_get_label (self->map, label->value) == NULL)
              cu_label_map_set_label (self->map, label);
          }
    }
  return list->len > 0;
}

static gboolean
notify_cb (gpointer data)
{
  CuSegSession *self = data;
  g_autoptr(GArray) events = NULL;
  gboolean merged;

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->notify_source, g_source_unref);
  events = g_steal_pointer (&self->events);
  self->events = g_array_new (FALSE, FALSE, sizeof (Event));
  g_array_set_clear_func (self->events, event_clear);
  g_mutex_unlock (&self->lock);

  g_object_ref (self);
  merged = apply_foreign (self);
  for (guint i = 0; i < events->len; i++)
    {
      Event *e = &g_array_index (events, Event, i);
      if (e->kind == EVENT_SAVED)
        g_signal_emit (self, signals[SIGNAL_SAVED], 0, e->version, e->merged_with);
      else
        g_signal_emit (self, signals[SIGNAL_SAVE_FAILED], 0, e->error);
    }
  if (merged)
    g_signal_emit (self, signals[SIGNAL_MERGED], 0);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Called with the lock held, from the saving thread. */
static void
post_event (CuSegSession *self, EventKind kind, int version, int merged_with, const GError *error)
{
  Event e = { kind, version, merged_with, error != NULL ? g_error_copy (error) : NULL };

  if (self->context == NULL)
    {
      event_clear (&e);
      return;
    }
  g_array_append_val (self->events, e);
  if (self->notify_source == NULL)
    {
      self->notify_source = g_idle_source_new ();
      g_source_set_callback (self->notify_source, notify_cb, self, NULL);
      g_source_set_static_name (self->notify_source, "[curata] segmentation saved");
      g_source_attach (self->notify_source, self->context);
    }
}

void
cu_seg_session_commit (CuSegSession *self)
{
  g_autoptr(GArray) journal = NULL;
  g_autofree char *labels = NULL;

  g_return_if_fail (CU_IS_SEG_SESSION (self));

  if (cu_seg_history_is_open (self->history))
    cu_seg_history_end (self->history);
  apply_foreign (self);
  journal = cu_seg_history_take_journal (self->history);
  mark_edited_labels (self->map, journal);
  labels = cu_label_map_labels_to_json (self->map);
  if (journal->len == 0 && g_strcmp0 (labels, self->committed_labels) == 0)
    return;

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < journal->len; i++)
    {
      CuSegJournalEntry e = g_array_index (journal, CuSegJournalEntry, i);
      e.diff = cu_seg_diff_ref (e.diff);
      g_array_append_val (self->queue_ops, e);
    }
  if (g_strcmp0 (labels, self->committed_labels) != 0)
    {
      g_free (self->queue_labels);
      self->queue_labels = g_strdup (labels);
      g_free (self->committed_labels);
      self->committed_labels = g_steal_pointer (&labels);
    }
  g_clear_pointer (&self->queue_undo, g_ptr_array_unref);
  g_clear_pointer (&self->queue_redo, g_ptr_array_unref);
  self->queue_undo = cu_seg_history_dup_undo (self->history);
  self->queue_redo = cu_seg_history_dup_redo (self->history);
  self->queued = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

gboolean
cu_seg_session_is_busy (CuSegSession *self)
{
  gboolean busy;

  g_mutex_lock (&self->lock);
  busy = self->queued || self->saving || self->dirty;
  g_mutex_unlock (&self->lock);
  return busy;
}

int
cu_seg_session_flush (CuSegSession *self, int *merged_with, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + GIVE_UP_S * G_TIME_SPAN_SECOND;
  int version;

  g_return_val_if_fail (CU_IS_SEG_SESSION (self), -1);

  g_mutex_lock (&self->lock);
  while ((self->queued || self->saving || (self->dirty && self->last_error == NULL)
          || (self->dirty && g_error_matches (self->last_error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE)))
         && g_get_monotonic_time () < deadline)
    g_cond_wait_until (&self->cond, &self->lock, deadline);
  if (self->dirty || self->queued || self->saving)
    {
      if (self->last_error != NULL)
        g_propagate_error (error, g_error_copy (self->last_error));
      else
        g_set_error (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE,
                     _("The segmentation could not be saved within %d seconds"), GIVE_UP_S);
      version = -1;
    }
  else
    version = self->saved_version;
  if (merged_with != NULL)
    *merged_with = self->merged_with;
  g_mutex_unlock (&self->lock);
  apply_foreign (self);
  return version;
}

/* ---- on the saving thread ------------------------------------------------------------- */

static void
apply_journal (CuLabelMap *map, GArray *ops, gboolean reverse)
{
  for (guint i = 0; i < ops->len; i++)
    {
      const CuSegJournalEntry *e = &g_array_index (ops, CuSegJournalEntry, reverse ? ops->len - 1 - i : i);
      cu_seg_diff_apply (e->diff, map, reverse ? !e->forward : e->forward);
    }
}

/* The label table of a merge: the other session's, with what this session changed since its
 * base (added, edited or removed labels) on top. */
static void
merge_labels (CuLabelMap *merged, const CuLabelMap *mine, const char *base_json)
{
  g_autoptr(CuLabelMap) base = cu_label_map_copy (mine);

  if (!cu_label_map_labels_from_json (base, base_json != NULL ? base_json : "[]", NULL))
    cu_label_map_labels_from_json (base, "[]", NULL);
  for (guint i = 0; i < cu_label_map_get_n_labels (mine); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (mine, i);
      const CuLabel *was = cu_label_map_get_label (base, l->value);
      if (was == NULL || !labels_equal (was, l))
        cu_label_map_set_label (merged, l);
    }
  for (guint i = 0; i < cu_label_map_get_n_labels (base); i++)
    {
      const CuLabel *l = cu_label_map_get_label_at (base, i);
      if (cu_label_map_get_label (mine, l->value) == NULL && cu_label_map_get_label (merged, l->value) != NULL)
        cu_label_map_remove_label (merged, l->value);
    }
}

/* Save the shadow; on a conflict merge it onto the newer version and try again. Returns the
 * version or -1; *foreign receives what the merges brought in. */
static int
save_shadow (CuSegSession *self, int *merged_with, GPtrArray *foreign, GError **error)
{
  g_autofree char *note = NULL;

  *merged_with = 0;
  if (self->wstore == NULL
      && (self->wstore = cu_store_open (cu_store_get_path (self->store), error)) == NULL)
    return -1;
  for (int attempt = 0; attempt < MERGE_ATTEMPTS; attempt++)
    {
      CuSegSaveRequest request = { CU_SEG_KIND_READING, self->shadow, note, self->base_version,
                                   self->undo, self->redo };
      g_autoptr(GError) local = NULL;
      g_autoptr(CuLabelMap) theirs = NULL, merged = NULL;
      g_autoptr(CuSegVersionInfo) info = NULL;
      Foreign *f;
      int version;

      version = cu_store_seg_save_request (self->wstore, self->series_uid, self->reader, &request, &local);
      if (version >= 0)
        return version;
      if (!g_error_matches (local, CU_SEG_ERROR, CU_SEG_ERROR_CONFLICT))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return -1;
        }
      theirs = cu_store_seg_load (self->wstore, self->series_uid, self->reader, 0, &info, error);
      if (theirs == NULL)
        return -1;
      if (!cu_label_map_same_grid (theirs, self->shadow->geometry))
        {
          /* Nothing to merge onto: keep this session's work under a name of its own. */
          g_autofree char *aside = g_strdup_printf ("%s (conflict)", self->reader);
          g_autofree char *aside_note = g_strdup_printf ("unmerged: based on version %d", self->base_version);
          g_autoptr(GError) aside_error = NULL;
          int kept = cu_store_seg_check_reader (aside, CU_SEG_KIND_READING, NULL)
                     ? cu_store_seg_save (self->wstore, self->series_uid, aside, CU_SEG_KIND_READING,
                                          self->shadow, aside_note, &aside_error)
                     : -1;
          if (kept > 0)
            g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_CONFLICT,
                         _("%s; it is on another grid, so this session’s strokes were not merged "
                           "but kept as version %d of reader “%s”"), local->message, kept, aside);
          else
            g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_CONFLICT,
                         _("%s; it is on another grid, so this session’s strokes were not merged"),
                         local->message);
          return -1;
        }
      merged = cu_label_map_copy (theirs);
      apply_journal (merged, self->unsaved, FALSE);
      merge_labels (merged, self->shadow, self->base_labels);
      /* Layers only grow: the merged map keeps every layer either side has. */
      if (!cu_label_map_set_n_layers (merged, cu_label_map_get_n_layers (self->shadow), error))
        return -1;
      f = g_new0 (Foreign, 1);
      f->foreign = cu_seg_diff_compute (self->shadow, merged, "Merged");
      f->labels = cu_label_map_labels_to_json (merged);
      g_ptr_array_add (foreign, f);
      if (!cu_label_map_set_n_layers (self->shadow, cu_label_map_get_n_layers (merged), error))
        return -1;
      memcpy (self->shadow->data, merged->data, cu_label_map_n_bytes (merged));
      cu_label_map_labels_from_json (self->shadow, f->labels, NULL);
      self->base_version = info->version;
      *merged_with = info->version;
      g_free (note);
      note = g_strdup_printf ("merged with version %d of another session", info->version);
    }
  g_set_error (error, CU_SEG_ERROR, CU_SEG_ERROR_CONFLICT,
               _("Other sessions kept saving newer versions of reader “%s”; try again"), self->reader);
  return -1;
}

static gpointer
saving_thread (gpointer data)
{
  CuSegSession *self = data;
  gint64 retry_at = 0, stop_deadline = 0;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) foreign = NULL;
      gboolean retryable;
      int version, merged_with = 0;

      while (!self->queued && !(self->dirty && retry_at > 0) && !self->stopping)
        g_cond_wait (&self->cond, &self->lock);
      if (self->stopping && !self->queued && !self->dirty)
        break;
      if (self->stopping && stop_deadline == 0)
        stop_deadline = g_get_monotonic_time () + GIVE_UP_S * G_TIME_SPAN_SECOND;
      if (!self->queued && retry_at > 0)
        {
          /* waiting for a locked workspace; a new commit or the close wakes us earlier */
          g_cond_wait_until (&self->cond, &self->lock, retry_at);
          if (g_get_monotonic_time () < retry_at && !self->queued && !self->stopping)
            continue;
        }
      /* Everything queued goes into this one save. */
      for (guint i = 0; i < self->queue_ops->len; i++)
        {
          CuSegJournalEntry e = g_array_index (self->queue_ops, CuSegJournalEntry, i);
          cu_seg_diff_apply (e.diff, self->shadow, e.forward);
          g_array_append_val (self->unsaved, e);
        }
      g_array_set_size (self->queue_ops, 0);   /* references moved to unsaved */
      if (self->queue_labels != NULL)
        cu_label_map_labels_from_json (self->shadow, self->queue_labels, NULL);
      g_clear_pointer (&self->queue_labels, g_free);
      if (self->queue_undo != NULL)
        {
          g_clear_pointer (&self->undo, g_ptr_array_unref);
          g_clear_pointer (&self->redo, g_ptr_array_unref);
          self->undo = g_steal_pointer (&self->queue_undo);
          self->redo = g_steal_pointer (&self->queue_redo);
        }
      self->queued = FALSE;
      self->saving = TRUE;
      self->dirty = TRUE;
      g_mutex_unlock (&self->lock);

      foreign = g_ptr_array_new_with_free_func ((GDestroyNotify) foreign_free);
      version = save_shadow (self, &merged_with, foreign, &error);

      g_mutex_lock (&self->lock);
      self->saving = FALSE;
      g_ptr_array_extend_and_steal (self->foreign, g_steal_pointer (&foreign));
      if (version >= 0)
        {
          self->dirty = FALSE;
          self->saved_version = version;
          self->merged_with = merged_with;
          self->base_version = version;
          g_free (self->base_labels);
          self->base_labels = cu_label_map_labels_to_json (self->shadow);
          journal_clear (self->unsaved);
          g_clear_error (&self->last_error);
          retry_at = 0;
          post_event (self, EVENT_SAVED, version, merged_with, NULL);
        }
      else
        {
          /* A locked or full workspace passes: try again. Anything else waits for the next
           * commit (or flush), with the strokes kept. */
          retryable = g_error_matches (error, CU_STORE_ERROR, CU_STORE_ERROR_DATABASE);
          retry_at = retryable ? g_get_monotonic_time () + RETRY_MS * 1000 : 0;
          if (self->last_error == NULL || g_strcmp0 (self->last_error->message, error->message) != 0)
            post_event (self, EVENT_FAILED, -1, 0, error);
          g_clear_error (&self->last_error);
          self->last_error = g_steal_pointer (&error);
          if (self->stopping && (!retryable || g_get_monotonic_time () > stop_deadline))
            {
              g_warning ("Segmentation of series %s by %s not saved: %s", self->series_uid,
                         self->reader, self->last_error->message);
              self->dirty = FALSE;
            }
        }
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  g_clear_object (&self->wstore);
  return NULL;
}

/* ---- the object ----------------------------------------------------------------------- */

static void
cu_seg_session_dispose (GObject *object)
{
  CuSegSession *self = CU_SEG_SESSION (object);

  if (self->thread != NULL)
    {
      /* Whatever was committed is saved before the session goes. */
      cu_seg_session_commit (self);
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      g_thread_join (g_steal_pointer (&self->thread));
    }
  g_mutex_lock (&self->lock);
  if (self->notify_source != NULL)
    {
      g_source_destroy (self->notify_source);
      g_clear_pointer (&self->notify_source, g_source_unref);
    }
  g_mutex_unlock (&self->lock);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (cu_seg_session_parent_class)->dispose (object);
}

static void
cu_seg_session_finalize (GObject *object)
{
  CuSegSession *self = CU_SEG_SESSION (object);

  g_clear_pointer (&self->history, cu_seg_history_free);
  g_clear_pointer (&self->map, cu_label_map_unref);
  g_clear_pointer (&self->shadow, cu_label_map_unref);
  g_clear_pointer (&self->opened, cu_seg_version_info_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  journal_clear (self->queue_ops);
  g_array_unref (self->queue_ops);
  journal_clear (self->unsaved);
  g_array_unref (self->unsaved);
  g_clear_pointer (&self->queue_undo, g_ptr_array_unref);
  g_clear_pointer (&self->queue_redo, g_ptr_array_unref);
  g_clear_pointer (&self->undo, g_ptr_array_unref);
  g_clear_pointer (&self->redo, g_ptr_array_unref);
  g_clear_pointer (&self->events, g_array_unref);
  g_clear_pointer (&self->foreign, g_ptr_array_unref);
  g_clear_error (&self->last_error);
  g_free (self->queue_labels);
  g_free (self->committed_labels);
  g_free (self->base_labels);
  g_free (self->series_uid);
  g_free (self->reader);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (cu_seg_session_parent_class)->finalize (object);
}

static void
cu_seg_session_class_init (CuSegSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cu_seg_session_dispose;
  object_class->finalize = cu_seg_session_finalize;

  /* A version was saved (version, and the version of another session merged in, or 0). */
  signals[SIGNAL_SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                        0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);
  /* A save failed; the strokes are kept and saved with the next attempt. */
  signals[SIGNAL_SAVE_FAILED] = g_signal_new ("save-failed", G_TYPE_FROM_CLASS (klass),
                                              G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                              G_TYPE_NONE, 1, G_TYPE_ERROR);
  /* Another session's strokes were merged into the map being edited (redraw it). */
  signals[SIGNAL_MERGED] = g_signal_new ("merged", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                         0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
cu_seg_session_init (CuSegSession *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->queue_ops = journal_new ();
  self->unsaved = journal_new ();
  self->events = g_array_new (FALSE, FALSE, sizeof (Event));
  g_array_set_clear_func (self->events, event_clear);
  self->foreign = g_ptr_array_new_with_free_func ((GDestroyNotify) foreign_free);
}

CuSegSession *
cu_seg_session_open (CuStore *store, const char *series_uid, const char *reader,
                     const CuVolume *grid, GMainContext *notify_context, gboolean *replaced,
                     GError **error)
{
  g_autoptr(CuSegSession) self = NULL;
  g_autoptr(CuLabelMap) map = NULL;
  g_autoptr(CuSegVersionInfo) info = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(GPtrArray) undo = NULL, redo = NULL;
  gboolean new_grid = FALSE;

  g_return_val_if_fail (CU_IS_STORE (store), NULL);
  g_return_val_if_fail (series_uid != NULL, NULL);

  if (replaced != NULL)
    *replaced = FALSE;
  if (!cu_store_seg_check_reader (reader, CU_SEG_KIND_READING, error))
    return NULL;
  map = cu_store_seg_load (store, series_uid, reader, 0, &info, &local);
  if (map == NULL && !g_error_matches (local, CU_STORE_ERROR, CU_STORE_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  if (map != NULL && grid != NULL && !cu_label_map_same_grid (map, grid))
    {
      g_clear_pointer (&map, cu_label_map_unref);
      new_grid = TRUE;
    }
  if (map == NULL)
    {
      if (grid == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      map = cu_label_map_new (grid, error);
      if (map == NULL)
        return NULL;
    }
  else if (!cu_store_seg_load_history (store, series_uid, reader, info->version,
                                       cu_label_map_n_bytes (map), &undo, &redo, &local))
    {
      /* The map is what matters: a damaged undo list only shortens undo. */
      g_debug ("Undo steps of version %d not read: %s", info->version, local->message);
      g_clear_error (&local);
    }

  self = g_object_new (CU_TYPE_SEG_SESSION, NULL);
  self->store = g_object_ref (store);
  self->series_uid = g_strdup (series_uid);
  self->reader = g_strdup (reader);
  self->map = g_steal_pointer (&map);
  self->history = cu_seg_history_new (self->map, 0);
  cu_seg_history_restore (self->history, undo, redo);
  cu_seg_history_set_journal (self->history, TRUE);
  self->context = notify_context != NULL ? g_main_context_ref (notify_context) : NULL;
  self->committed_labels = cu_label_map_labels_to_json (self->map);
  self->base_labels = g_strdup (self->committed_labels);
  self->shadow = cu_label_map_copy (self->map);
  self->base_version = info != NULL ? info->version : 0;
  self->saved_version = new_grid ? 0 : self->base_version;
  self->undo = cu_seg_history_dup_undo (self->history);
  self->redo = cu_seg_history_dup_redo (self->history);
  if (!new_grid)
    self->opened = g_steal_pointer (&info);
  if (replaced != NULL)
    *replaced = new_grid;
  self->thread = g_thread_new ("cu-seg-save", saving_thread, self);
  return g_steal_pointer (&self);
}

CuLabelMap *
cu_seg_session_get_map (CuSegSession *self)
{
  return self->map;
}

CuSegHistory *
cu_seg_session_get_history (CuSegSession *self)
{
  return self->history;
}

const char *
cu_seg_session_get_reader (CuSegSession *self)
{
  return self->reader;
}

const char *
cu_seg_session_get_series_uid (CuSegSession *self)
{
  return self->series_uid;
}

const CuSegVersionInfo *
cu_seg_session_get_opened (CuSegSession *self)
{
  return self->opened;
}

int
cu_seg_session_get_saved_version (CuSegSession *self)
{
  int version;

  g_mutex_lock (&self->lock);
  version = self->saved_version;
  g_mutex_unlock (&self->lock);
  return version;
}

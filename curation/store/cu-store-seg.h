/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-seg.h — segmentations in the workspace: compressed label maps per series and per
 * reader, versioned, so that no finished stroke is ever lost.
 *
 * Every save is a new version (a row holding the zlib-compressed label map, its grid and the
 * label table with the lesion forms) committed in its own transaction, plus a "seg-save" audit
 * entry; a process killed afterwards loses nothing. The oldest autosaved versions of a reader
 * beyond CU_STORE_SEG_KEEP_VERSIONS are pruned in the same transaction; imported and
 * adjudicated (final) versions are always kept. A version saved by an editing session also
 * records the version it was based on and the session's undo and redo steps (rows of
 * seg_stroke, shared between versions), so that undo survives a restart.
 */
#pragma once

#include "cu-store.h"
#include "cu-label-map.h"
#include "cu-seg-diff.h"

G_BEGIN_DECLS

/* The reader name of adjudicated versions. */
#define CU_STORE_SEG_FINAL "final"
#define CU_STORE_SEG_KEEP_VERSIONS 200
/* Undo (and redo) steps kept with a version, newest first. */
#define CU_STORE_SEG_KEEP_STROKES 100

typedef enum
{
  CU_SEG_KIND_READING,    /* a reader's own work (autosaved after every stroke) */
  CU_SEG_KIND_IMPORTED,   /* brought in from a file (AI pre-segmentation, another tool) */
  CU_SEG_KIND_FINAL,      /* the adjudicated version */
} CuSegKind;

const char  *cu_seg_kind_to_string (CuSegKind kind);

typedef struct
{
  gint64 id;
  char *series_uid;
  char *reader;
  int version;
  CuSegKind kind;
  gint64 n_labelled;      /* non-background voxels */
  int n_labels;
  char *note;             /* or NULL */
  char *user;             /* OS user who saved */
  char *time;             /* ISO 8601 UTC */
  int based_on;           /* the version the saving session started from (0: none), -1 unknown */
} CuSegVersionInfo;

void         cu_seg_version_info_free (CuSegVersionInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuSegVersionInfo, cu_seg_version_info_free)

/* The reader identity used when none is chosen: the OS user name. */
const char  *cu_store_seg_default_reader (void);
/* A reader name must be 1–64 printable characters and not CU_STORE_SEG_FINAL (unless kind is
 * final). */
gboolean     cu_store_seg_check_reader (const char *reader, CuSegKind kind, GError **error);

/* Save map as the next version of (series_uid (full UID), reader). Returns the version number
 * (1, 2 …) or -1 with error. */
int          cu_store_seg_save        (CuStore *self, const char *series_uid, const char *reader,
                                       CuSegKind kind, const CuLabelMap *map, const char *note,
                                       GError **error);
/* A save by an editing session (cu-seg-session.h). */
typedef struct
{
  CuSegKind kind;
  const CuLabelMap *map;
  const char *note;        /* or NULL */
  /* The version the session's map started from (0: none yet); -1 saves whatever the latest
   * is. When it is not the latest any more the save is refused with CU_SEG_ERROR_CONFLICT
   * naming the newer version, and nothing is written. */
  int based_on;
  /* The session's undo and redo steps, newest first (CuSegDiff), or NULL: the newest
   * CU_STORE_SEG_KEEP_STROKES of each are kept with the version; steps without a row get one
   * (cu_seg_diff_set_id, once the save is committed). */
  GPtrArray *undo, *redo;
} CuSegSaveRequest;

/* Save request->map as the next version of (series_uid, reader). Returns the version or -1. */
int          cu_store_seg_save_request (CuStore *self, const char *series_uid, const char *reader,
                                        const CuSegSaveRequest *request, GError **error);
/* The undo and redo steps saved with a version (0 = the latest) of (series_uid, reader), newest
 * first, checked against a map of n_voxels voxels. Versions saved without any give empty
 * lists; CU_STORE_ERROR_NOT_FOUND when there is no such version. */
gboolean     cu_store_seg_load_history (CuStore *self, const char *series_uid, const char *reader,
                                        int version, gsize n_voxels, GPtrArray **undo,
                                        GPtrArray **redo, GError **error);
/* Load a version (0 = the latest) of (series_uid, reader). CU_STORE_ERROR_NOT_FOUND when there
 * is none. info (may be NULL) receives its description. */
CuLabelMap  *cu_store_seg_load        (CuStore *self, const char *series_uid, const char *reader,
                                       int version, CuSegVersionInfo **info, GError **error);
/* Versions of a series (NULL: all series), of one reader (NULL: all), newest first; with
 * latest_only, one per (series, reader). CuSegVersionInfo elements. */
GPtrArray   *cu_store_seg_list        (CuStore *self, const char *series_uid, const char *reader,
                                       gboolean latest_only, GError **error);

G_END_DECLS

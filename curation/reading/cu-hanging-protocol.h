/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-hanging-protocol.h — which series of a study goes into which pane of the reading layout.
 *
 * A hanging protocol is data (an .ini file, see data/hanging/prostate-mpmri.ini for the keys):
 * the built-in ones are compiled in, a project adds or overrides its own as files in the
 * workspace's hanging/ folder. Series are matched by their classification from acquisition
 * attributes (cu-series-class.h), never by their description.
 */
#pragma once

#include <gio/gio.h>

#include "cu-series-class.h"
#include "cu-store.h"

G_BEGIN_DECLS

#define CU_HANGING_ERROR (cu_hanging_error_quark ())
GQuark cu_hanging_error_quark (void);

typedef enum
{
  CU_HANGING_ERROR_INVALID,    /* not a hanging protocol file, or a bad value (names the key) */
  CU_HANGING_ERROR_NOT_FOUND,  /* no protocol of that id */
} CuHangingError;

typedef struct
{
  char *id;             /* the group name */
  char *sequence;       /* Type */
  char **planes;        /* acceptable planes, NULL = any */
  gboolean required;
  gboolean prefer_highest_b, prefer_most_volumes;
  gboolean last_volume;
  char *window;         /* preset id */
  char *plane;          /* drawn plane: "axial", "coronal", "sagittal" */
} CuHangingPane;

typedef struct
{
  char *id;
  char *name;           /* translated when the file has Name[lang] */
  char *layout;         /* "1x1", "1x2", "1x3", "2x2" */
  char **modalities;
  GPtrArray *panes;     /* CuHangingPane * */
  char *source;         /* the file it came from, or the resource path */
} CuHangingProtocol;

/* One candidate series of the study: its UID and its classification (borrowed). */
typedef struct
{
  const char *series_uid;
  const CuSeriesClass *klass;
} CuHangingCandidate;

void               cu_hanging_protocol_free  (CuHangingProtocol *protocol);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuHangingProtocol, cu_hanging_protocol_free)

/* A built-in protocol by id, or a file by path. */
CuHangingProtocol *cu_hanging_protocol_load  (const char *id_or_path, GError **error);
/* The ids of the built-in protocols (NULL-terminated, static). */
const char *const *cu_hanging_protocol_builtin_ids (void);
/* The protocols a workspace offers: those of its hanging/ folder (workspace_dir may be NULL),
 * then the built-in ones whose id no file there overrides. A file that does not parse is
 * left out with a warning in *warnings (may be NULL; a GPtrArray of char *). */
GPtrArray         *cu_hanging_protocol_list  (const char *workspace_dir, GPtrArray **warnings);

/* Assign candidates to the panes: for each pane, the uid of the series it shows (transfer
 * none: the candidates' strings), or NULL when none fits. A series fills at most one pane.
 * Returns FALSE when a required pane has no series or no candidate has one of the protocol's
 * modalities' sequences: the protocol does not apply, and the viewer keeps its default layout. */
gboolean           cu_hanging_protocol_match (const CuHangingProtocol *protocol,
                                              const CuHangingCandidate *candidates,
                                              guint n_candidates,
                                              const char **assigned);
/* The first protocol of the list that matches (NULL: none; the default layout stays). */
const CuHangingProtocol *cu_hanging_protocol_choose (GPtrArray *protocols,
                                                     const CuHangingCandidate *candidates,
                                                     guint n_candidates,
                                                     const char **assigned);

/* A series of a study with its classification, for matching. */
typedef struct
{
  char *series_uid;
  char *description;
  int series_number;
  CuSeriesClass *klass;   /* NULL when its files could not be read */
} CuHangingSeries;

void       cu_hanging_series_free     (CuHangingSeries *series);
/* The series of a study (full StudyInstanceUID), classified from their files' headers, in
 * series-number order (CuHangingSeries elements). */
GPtrArray *cu_hanging_classify_study  (CuStore *store, const char *study_uid,
                                       GCancellable *cancellable, GError **error);
/* Candidates pointing into series (valid while it lives); *n receives their number. */
CuHangingCandidate *cu_hanging_candidates (GPtrArray *series, guint *n);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-walk.h — visiting and rewriting every data element of a DICOM file.
 *
 * The pseudonymization check visits every element, inside sequences at any depth; the step-2
 * anonymizer rewrites a file element by element. Both go through GDCM in the shim; no C++ type
 * crosses this header. Pixel Data (7FE0,0010) is never handed to a visitor (it is copied
 * unchanged by the rewriter); elements of the file meta group (0002) are not visited.
 */
#pragma once

#include <glib.h>

#include "cu-dicom-header.h"

G_BEGIN_DECLS

typedef struct
{
  /* "(0010,0010)" at the top level, "(0008,1115)[0]/(0008,1140)[2]/(0008,1155)" inside
   * sequences: items numbered from 0. */
  const char *tag_path;
  guint16 group;
  guint16 element;
  char vr[3];              /* "PN", "SQ", "UN", …; the dictionary VR for implicit files */
  int depth;               /* 0 at the top level, 1 inside one sequence, … */
  gboolean is_sequence;
  guint n_items;           /* items of a sequence, 0 otherwise */
  const guint8 *value;     /* raw value bytes (NULL for sequences); valid during the call only */
  gsize length;
  const char *text;        /* UTF-8 value of string VRs (AE AS CS DA DS DT IS LO LT PN SH ST TM
                              UC UI UR UT), trimmed; NULL for binary VRs */
  const char *private_creator; /* for private elements (odd group), the creator string or NULL */
} CuDicomElement;

/* Return FALSE to stop the walk early (not an error). */
typedef gboolean (*CuDicomVisitFunc) (const CuDicomElement *element, gpointer user_data);

/* What a walk does with an element, asked before it is filled in (CuDicomWantFunc). */
typedef enum
{
  CU_DICOM_WANT_SKIP,        /* not visited; a sequence's items are still walked */
  CU_DICOM_WANT_VISIT,       /* visited, and a sequence's items walked */
  CU_DICOM_WANT_VISIT_ONLY,  /* visited; a sequence's items are not walked */
  CU_DICOM_WANT_SKIP_ALL,    /* neither the element nor anything inside it */
} CuDicomWant;

/* Asked before an element is filled in and visited. vr is the VR it would be visited with
 * ("UN" when nobody knows), depth as in CuDicomElement, private_creator as in CuDicomElement
 * (NULL for standard elements). Private creator elements are always visited. A visitor that
 * cares about a few attributes and some VRs (the pseudonymization check) skips the cost of
 * filling in the rest (formatting tag paths, converting text), and of walking into
 * sequences whose contents it would ignore. */
typedef CuDicomWant (*CuDicomWantFunc) (guint16 group, guint16 element, const char *vr, int depth,
                                        const char *private_creator, gpointer user_data);

/* What a want function may accept, for a walk that runs in another process (the parser
 * process, cu-dicom-parser.c): elements outside it are not filled in there (only asked about,
 * and want must return CU_DICOM_WANT_SKIP or CU_DICOM_WANT_SKIP_ALL for them). Elements inside
 * it are filled in and handed to want as usual. A superset is always correct; a hint only
 * saves work. */
typedef struct
{
  const guint32 *tags;          /* (group << 16) | element, ascending */
  guint n_tags;
  gboolean private_elements;    /* elements of odd groups */
  gboolean repeating_groups;    /* curves and overlays (5000–501E, 6000–601E) */
  const char *vrs;              /* two-letter VRs one after the other, e.g. "LTSTUT" */
} CuDicomWantHint;

/* cu_dicom_header_read_walk_filtered and cu_dicom_walk_file_filtered with a hint (NULL: none). */
CuDicomHeader *cu_dicom_header_read_walk_hinted (const char            *path,
                                                 CuDicomWantFunc        want,
                                                 const CuDicomWantHint *hint,
                                                 CuDicomVisitFunc       visit,
                                                 gpointer               user_data,
                                                 GError               **error);
gboolean       cu_dicom_walk_file_hinted        (const char            *path,
                                                 CuDicomWantFunc        want,
                                                 const CuDicomWantHint *hint,
                                                 CuDicomVisitFunc       visit,
                                                 gpointer               user_data,
                                                 GError               **error);

/* One file of cu_dicom_header_read_walk_batch: path and the user_data its want and visit
 * calls get in; header (or error) out, as cu_dicom_header_read_walk_hinted returns them. */
typedef struct
{
  const char *path;
  gpointer user_data;
  CuDicomHeader *header;
  GError *error;
} CuDicomReadJob;

/* cu_dicom_header_read_walk_hinted for many files at once: one parser process reads them one
 * after the other (cu-dicom-parser.c), which saves a round trip per file; a file that makes
 * the parser die costs that file only, as with one file at a time. want and visit run in the
 * calling thread, file after file in order, each with its job's user_data. */
void           cu_dicom_header_read_walk_batch  (CuDicomReadJob        *jobs,
                                                 guint                  n_jobs,
                                                 CuDicomWantFunc        want,
                                                 const CuDicomWantHint *hint,
                                                 CuDicomVisitFunc       visit);

/* Visit every element of path's data set in file order, depth first (a sequence element is
 * visited before its items' elements). */
gboolean cu_dicom_walk_file (const char       *path,
                             CuDicomVisitFunc  visit,
                             gpointer          user_data,
                             GError          **error);

/* cu_dicom_header_read, and in the same parse every element of the data set handed to visit
 * as cu_dicom_walk_file does (visit NULL: just the header). Reading the header and walking the
 * elements share one GDCM parse, which is what makes the import's pseudonymization check
 * cheap. The walk runs once the header is filled; when NULL is returned the visitor may
 * already have seen the elements (a problem found after parsing, such as truncated pixel
 * data), and the caller discards what it collected. */
CuDicomHeader *cu_dicom_header_read_walk (const char       *path,
                                          CuDicomVisitFunc  visit,
                                          gpointer          user_data,
                                          GError          **error);
/* The same, visiting only the elements want accepts (want NULL: all); user_data goes to
 * both. */
CuDicomHeader *cu_dicom_header_read_walk_filtered (const char       *path,
                                                   CuDicomWantFunc   want,
                                                   CuDicomVisitFunc  visit,
                                                   gpointer          user_data,
                                                   GError          **error);
gboolean       cu_dicom_walk_file_filtered (const char       *path,
                                            CuDicomWantFunc   want,
                                            CuDicomVisitFunc  visit,
                                            gpointer          user_data,
                                            GError          **error);

typedef enum
{
  CU_DICOM_EDIT_KEEP,     /* keep as is (for sequences: keep, and visit the items) */
  CU_DICOM_EDIT_REMOVE,   /* remove the element (a sequence with all its items) */
  CU_DICOM_EDIT_REPLACE,  /* replace the value with *replacement (text, in the element's VR) */
  CU_DICOM_EDIT_EMPTY,    /* keep the element with a zero-length value */
} CuDicomEdit;

/* Decide what happens to one element. For CU_DICOM_EDIT_REPLACE set *replacement to a newly
 * allocated UTF-8 string (the rewriter frees it). */
typedef CuDicomEdit (*CuDicomEditFunc) (const CuDicomElement *element,
                                        char                **replacement,
                                        gpointer              user_data);

/* Top-level elements to add or overwrite after editing (e.g. PatientIdentityRemoved, and the
 * DeidentificationMethodCodeSequence items as (code value, scheme, meaning) triples). */
typedef struct
{
  guint32 tag;            /* (group << 16) | element */
  const char *vr;
  const char *text;
} CuDicomInsert;

typedef struct
{
  const char *code_value;
  const char *coding_scheme;
  const char *code_meaning;
} CuDicomCode;

/* Read in_path, apply edit to every element (depth first), add inserts and, when codes is not
 * NULL, a DeidentificationMethodCodeSequence (0012,0064) with those items; write out_path
 * (Explicit VR Little Endian unless the pixel data is encapsulated, in which case the transfer
 * syntax is kept), with a new file meta (MediaStorageSOPInstanceUID following the edited
 * SOPInstanceUID). Written to a temporary file and renamed: out_path is never half-written. */
gboolean cu_dicom_rewrite_file (const char          *in_path,
                                const char          *out_path,
                                CuDicomEditFunc      edit,
                                gpointer             user_data,
                                const CuDicomInsert *inserts,
                                guint                n_inserts,
                                const CuDicomCode   *codes,
                                guint                n_codes,
                                GError             **error);

G_END_DECLS

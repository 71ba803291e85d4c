/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-parser-private.h — GDCM parses files from outside in separate processes.
 *
 * cu_dicom_header_read*, cu_dicom_walk_file* and the GDCM pixel decoder hand their work to a
 * small pool of parser processes (the curata-dicom-parser program, which runs
 * cu_dicom_parser_serve). A parser that crashes or aborts on a file costs that file only: the
 * caller gets CU_DICOM_ERROR_MALFORMED ("the DICOM parser stopped on this file: signal N"),
 * and the next file gets a new parser.
 *
 * Where the program is: $CURATA_DICOM_PARSER, else next to the running program (or in app/cli/
 * of a build tree, for bench/ and tests/ programs), else in
 * LIBEXECDIR. CURATA_DICOM_IN_PROCESS=1 parses in the calling process instead (a comparison
 * for benchmarks and a debugging aid: a crash in GDCM then ends the program).
 */
#pragma once

#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"

G_BEGIN_DECLS

/* TRUE when GDCM work goes to parser processes (the default), FALSE when it runs here (in
 * the parser process itself, or with CURATA_DICOM_IN_PROCESS=1). */
gboolean       _cu_dicom_parser_isolated (void);

/* Start the parser processes now (they load GDCM and its dictionaries while the caller does
 * something else, such as scanning folders); nothing when parsing in process. */
void           _cu_dicom_parser_prestart (void);

/* cu_dicom_header_read_walk_filtered in a parser process. */
CuDicomHeader *_cu_dicom_parser_read     (const char       *path,
                                          CuDicomWantFunc   want,
                                          const CuDicomWantHint *hint,
                                          CuDicomVisitFunc  visit,
                                          gpointer          user_data,
                                          GError          **error);

/* cu_dicom_header_read_walk_batch in a parser process. */
void           _cu_dicom_parser_read_batch (CuDicomReadJob        *jobs,
                                            guint                  n,
                                            CuDicomWantFunc        want,
                                            const CuDicomWantHint *hint,
                                            CuDicomVisitFunc       visit);

/* cu_dicom_walk_file_filtered in a parser process. */
gboolean       _cu_dicom_parser_walk     (const char       *path,
                                          CuDicomWantFunc   want,
                                          const CuDicomWantHint *hint,
                                          CuDicomVisitFunc  visit,
                                          gpointer          user_data,
                                          GError          **error);

/* The in-process implementations the parser process runs. */
CuDicomHeader *_cu_dicom_header_read_local (const char       *path,
                                            CuDicomWantFunc   want,
                                            CuDicomVisitFunc  visit,
                                            gpointer          user_data,
                                            GError          **error);
gboolean       _cu_dicom_walk_file_local   (const char       *path,
                                            CuDicomWantFunc   want,
                                            CuDicomVisitFunc  visit,
                                            gpointer          user_data,
                                            GError          **error);

/* The string fields of a header (for freeing, and for copying one between processes): stores
 * up to max pointers to them in fields and returns how many there are. */
guint          _cu_dicom_header_string_fields (CuDicomHeader *h,
                                               char         **fields[],
                                               guint          max);

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-parser.h — the parser process's entry point (the curata-dicom-parser program).
 *
 * Curata parses DICOM files from outside with GDCM in separate parser processes, so that a
 * crash on a hostile file rejects that file instead of ending the program. This is the loop
 * those processes run; the library starts them itself (cu-dicom-parser.c).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Answer parsing requests arriving on the socket fd until it closes; returns the exit
 * status. */
int cu_dicom_parser_serve (int fd);

G_END_DECLS

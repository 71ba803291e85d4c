/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-csv.h — a CSV reader for the site's exports (RFC 4180).
 *
 * Quoted fields with doubled quotes, separators and line breaks inside quotes, CRLF or LF,
 * a UTF-8 byte order mark, and a separator that is either ',' or ';' (spreadsheets in
 * locales with a decimal comma write ';'), chosen from the header line. Every row keeps the
 * line on which it starts, so that errors can name it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_CSV_ERROR (cu_csv_error_quark ())

typedef enum
{
  CU_CSV_ERROR_ENCODING,   /* not UTF-8 */
  CU_CSV_ERROR_SYNTAX,     /* unterminated quote, text after a closing quote */
  CU_CSV_ERROR_EMPTY,      /* no header row */
} CuCsvError;

GQuark cu_csv_error_quark (void);

typedef struct
{
  guint line;        /* 1-based line of the file on which the row starts */
  guint n_fields;
  char **fields;     /* NULL-terminated, UTF-8 */
} CuCsvRow;

typedef struct
{
  char separator;    /* ',' or ';' */
  GPtrArray *rows;   /* CuCsvRow elements; rows[0] is the header */
} CuCsvTable;

void        cu_csv_table_free (CuCsvTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuCsvTable, cu_csv_table_free)

/* Parse text (len -1: NUL-terminated). separator 0 sniffs it from the first line. Blank
 * lines are skipped. */
CuCsvTable *cu_csv_parse      (const char *text, gssize len, char separator, GError **error);
/* The same for a piece of a file read piece by piece: text holds whole records and starts on
 * line first_line of the file (rows and errors name the file's lines). */
CuCsvTable *cu_csv_parse_at   (const char *text, gssize len, char separator, guint first_line,
                               GError **error);
/* Quote a field for writing when it needs it (separator, quote, line break, edge spaces). */
char       *cu_csv_quote      (const char *field, char separator);
/* The same for a cell of a CSV meant for a spreadsheet: a cell that a spreadsheet would run as
 * a formula (starting with = + - @, a tab or a carriage return, and not a plain number) gets
 * a leading apostrophe first. */
char       *cu_csv_quote_cell (const char *field, char separator);

G_END_DECLS

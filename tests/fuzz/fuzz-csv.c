/* SPDX-License-Identifier: GPL-3.0-or-later
 * fuzz-csv.c — libFuzzer target for the eCRF CSV reader: one input is one clinical export
 * a site sent.
 *
 * The reader (cu_csv_parse) must take any bytes without a crash, and what it reads must be
 * what cu_csv_quote writes back: every table is written again with quoting and read again,
 * and the two must hold the same fields (answers.csv goes out written and comes back read).
 * Then the whole clinical import (cu_clinical_import_text: layout detection, the validation
 * of every value, the store of a file that passes) runs on the input in a private copy of
 * the fuzzing workspace.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "cu-clinical.h"
#include "cu-csv.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static CuStore *store;

static void
check_round_trip (const CuCsvTable *table)
{
  g_autoptr(GString) text = g_string_new ("\xEF\xBB\xBF");
  g_autoptr(CuCsvTable) again = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < table->rows->len; i++)
    {
      const CuCsvRow *row = table->rows->pdata[i];
      for (guint f = 0; f < row->n_fields; f++)
        {
          g_autofree char *quoted = cu_csv_quote (row->fields[f], table->separator);
          if (f > 0)
            g_string_append_c (text, table->separator);
          g_string_append (text, quoted);
        }
      g_string_append (text, "\r\n");
    }
  again = cu_csv_parse (text->str, (gssize) text->len, table->separator, &error);
  if (again == NULL)
    g_error ("a table written by cu_csv_quote does not read back: %s", error->message);
  if (again->rows->len != table->rows->len)
    g_error ("%u rows written, %u read back", table->rows->len, again->rows->len);
  for (guint i = 0; i < table->rows->len; i++)
    {
      const CuCsvRow *a = table->rows->pdata[i], *b = again->rows->pdata[i];
      if (a->n_fields != b->n_fields)
        g_error ("row %u: %u fields written, %u read back", i, a->n_fields, b->n_fields);
      for (guint f = 0; f < a->n_fields; f++)
        if (strcmp (a->fields[f], b->fields[f]) != 0)
          g_error ("row %u field %u: “%s” written, “%s” read back", i, f, a->fields[f], b->fields[f]);
      if (b->fields[b->n_fields] != NULL)
        g_error ("row %u: the field array is not NULL-terminated", i);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const char separators[] = { 0, ',', ';' };
  g_autoptr(CuClinicalReport) report = NULL;
  g_autoptr(GError) error = NULL;

  if (store == NULL)
    store = cu_fuzz_open_workspace (NULL);

  for (guint s = 0; s < G_N_ELEMENTS (separators); s++)
    {
      g_autoptr(CuCsvTable) table = NULL;

      table = cu_csv_parse ((const char *) data, (gssize) size, separators[s], &error);
      if (table != NULL)
        check_round_trip (table);
      g_clear_error (&error);
    }

  report = cu_clinical_import_text (store, "fuzz.csv", (const char *) data, (gssize) size, NULL,
                                    &error);
  if (report == NULL)
    g_error ("the clinical import failed on the workspace, not on the file: %s", error->message);
  return 0;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-csv.c — CSV reader and field quoting after RFC 4180 ("Common Format and MIME Type for
 * Comma-Separated Values (CSV) Files", Shafranovich 2005), with the two liberties real
 * exports need: LF line ends as well as CRLF, and ';' as the separator.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-csv.h"

G_DEFINE_QUARK (cu-csv-error-quark, cu_csv_error)

static void
row_free (CuCsvRow *row)
{
  g_strfreev (row->fields);
  g_free (row);
}

void
cu_csv_table_free (CuCsvTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

/* The separator that occurs more often outside quotes on the first line; ',' on a tie
 * (the format's default). */
static char
sniff_separator (const char *p, const char *end)
{
  guint commas = 0, semicolons = 0;
  gboolean quoted = FALSE;

  for (; p < end; p++)
    {
      if (*p == '"')
        quoted = !quoted;
      else if (!quoted && (*p == '\n' || *p == '\r'))
        break;
      else if (!quoted && *p == ',')
        commas++;
      else if (!quoted && *p == ';')
        semicolons++;
    }
  return semicolons > commas ? ';' : ',';
}

static gboolean
row_is_blank (GPtrArray *fields)
{
  return fields->len == 1 && ((char *) fields->pdata[0])[0] == '\0';
}

CuCsvTable *
cu_csv_parse (const char *text, gssize len, char separator, GError **error)
{
  return cu_csv_parse_at (text, len, separator, 1, error);
}

CuCsvTable *
cu_csv_parse_at (const char *text, gssize len, char separator, guint first_line, GError **error)
{
  g_autoptr(CuCsvTable) table = g_new0 (CuCsvTable, 1);
  g_autoptr(GString) field = g_string_new (NULL);
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  const char *p, *end, *bad;
  guint line = first_line, row_line = first_line;
  gboolean quoted = FALSE, after_quote = FALSE;

  g_return_val_if_fail (text != NULL, NULL);
  if (len < 0)
    len = strlen (text);
  p = text;
  end = text + len;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);

  if (!g_utf8_validate (text, len, &bad))
    {
      guint bad_line = first_line;
      for (const char *q = text; q < bad; q++)
        bad_line += *q == '\n';
      g_set_error (error, CU_CSV_ERROR, CU_CSV_ERROR_ENCODING,
                   _("line %u: the text is not UTF-8 (save the file as UTF-8)"), bad_line);
      return NULL;
    }
  /* A byte order mark is how spreadsheet programs say "UTF-8"; it is not part of the
   * first column's name. */
  if (len >= 3 && memcmp (p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  table->separator = separator != 0 ? separator : sniff_separator (p, end);

  while (TRUE)
    {
      gboolean at_end = p >= end;
      char c = at_end ? '\n' : *p;

      if (quoted && !at_end)
        {
          if (c == '"')
            {
              if (p + 1 < end && p[1] == '"')
                {
                  g_string_append_c (field, '"');
                  p += 2;
                  continue;
                }
              quoted = FALSE;
              after_quote = TRUE;
            }
          else
            {
              if (c == '\n')
                line++;
              g_string_append_c (field, c);
            }
          p++;
          continue;
        }
      if (quoted && at_end)
        {
          g_set_error (error, CU_CSV_ERROR, CU_CSV_ERROR_SYNTAX,
                       _("line %u: a quoted field is not closed before the end of the file"),
                       row_line);
          return NULL;
        }

      if (c == table->separator)
        {
          g_ptr_array_add (fields, g_strdup (field->str));
          g_string_truncate (field, 0);
          after_quote = FALSE;
        }
      else if (c == '\r' || c == '\n')
        {
          g_ptr_array_add (fields, g_strdup (field->str));
          g_string_truncate (field, 0);
          after_quote = FALSE;
          if (!row_is_blank (fields))
            {
              CuCsvRow *row = g_new0 (CuCsvRow, 1);

              row->line = row_line;
              row->n_fields = fields->len;
              g_ptr_array_add (fields, NULL);
              row->fields = (char **) g_ptr_array_steal (fields, NULL);
              g_ptr_array_add (table->rows, row);
              g_ptr_array_set_free_func (fields, g_free);
            }
          else
            g_ptr_array_set_size (fields, 0);
          if (at_end)
            break;
          if (c == '\r' && p + 1 < end && p[1] == '\n')
            p++;
          line++;
          row_line = line;
        }
      else if (c == '"' && field->len == 0 && !after_quote)
        quoted = TRUE;
      else if (after_quote)
        {
          g_set_error (error, CU_CSV_ERROR, CU_CSV_ERROR_SYNTAX,
                       _("line %u: text after the closing quote of a field"), line);
          return NULL;
        }
      else if (c == '"')
        {
          g_set_error (error, CU_CSV_ERROR, CU_CSV_ERROR_SYNTAX,
                       _("line %u: a quote inside an unquoted field (quote the whole field "
                         "and double the quote)"), line);
          return NULL;
        }
      else
        g_string_append_c (field, c);
      p++;
    }

  if (table->rows->len == 0)
    {
      g_set_error (error, CU_CSV_ERROR, CU_CSV_ERROR_EMPTY, _("the file has no header row"));
      return NULL;
    }
  return g_steal_pointer (&table);
}

char *
cu_csv_quote (const char *field, char separator)
{
  GString *s;
  gsize n;

  if (field == NULL)
    return g_strdup ("");
  n = strlen (field);
  if (strchr (field, separator) == NULL && strpbrk (field, "\"\r\n") == NULL
      && (n == 0 || (field[0] != ' ' && field[n - 1] != ' ')))
    return g_strdup (field);
  s = g_string_new ("\"");
  for (const char *p = field; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
  return g_string_free (s, FALSE);
}

/* A number as a spreadsheet reads it ("-1.5", "+3"), which stays a number. */
static gboolean
is_plain_number (const char *field)
{
  char *end = NULL;
  double v;

  if (!g_ascii_isdigit (field[1]) && field[1] != '.')
    return FALSE;
  v = g_ascii_strtod (field, &end);
  return end != field && *end == '\0' && isfinite (v);
}

/* CSV injection (OWASP, "CSV Injection"): a spreadsheet runs a cell that starts with = + - @
 * as a formula (=HYPERLINK, =cmd|…), and one that starts with a tab or a carriage return can
 * hide such a start. Text from DICOM headers and eCRF cells ends up in cells, so those cells
 * get a leading apostrophe, which spreadsheets show as text; numbers stay numbers. */
char *
cu_csv_quote_cell (const char *field, char separator)
{
  g_autofree char *safe = NULL;

  if (field == NULL || strchr ("=+-@\t\r", field[0]) == NULL || field[0] == '\0'
      || ((field[0] == '-' || field[0] == '+') && is_plain_number (field)))
    return cu_csv_quote (field, separator);
  safe = g_strconcat ("'", field, NULL);
  return cu_csv_quote (safe, separator);
}

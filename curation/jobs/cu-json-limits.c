/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-json-limits.c — JSON text checked for strict tokens and bounded nesting (see the header).
 */
#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-json-limits.h"

gboolean
cu_json_text_within (const char *text, gsize len, guint max_depth, char **reason)
{
  guint depth = 0;
  gboolean in_string = FALSE, closed = FALSE;

  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (reason != NULL, FALSE);

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      /* One object or array, and nothing but white space around it: json-glib's error path
       * for data after a complete root value leaks what it had parsed. */
      if (depth == 0 && !in_string && c != ' ' && c != '\t' && c != '\r' && c != '\n'
          && (closed || (c != '[' && c != '{')))
        {
          *reason = g_strdup_printf (_("unexpected byte 0x%02x at byte %lu"), (guint) (guchar) c,
                                     (unsigned long) i);
          return FALSE;
        }
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        {
          if (++depth > max_depth)
            {
              *reason = g_strdup_printf (_("it is nested more than %u levels deep"), max_depth);
              return FALSE;
            }
        }
      else if (c == ']' || c == '}')
        {
          if (depth == 0)
            {
              *reason = g_strdup_printf (_("the bracket at byte %lu closes nothing"), (unsigned long) i);
              return FALSE;
            }
          depth--;
          closed = depth == 0;
        }
      else if (c == '\0' || strchr (" \t\r\n:,-+.0123456789eEtrufalsn", c) == NULL)
        {
          *reason = g_strdup_printf (_("unexpected byte 0x%02x at byte %lu"), (guint) (guchar) c,
                                     (unsigned long) i);
          return FALSE;
        }
    }
  return TRUE;
}

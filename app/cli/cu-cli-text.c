/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-text.c — text from files shown on a terminal: what DICOM headers, eCRF cells and
 * bundle answers hold is shown, never obeyed.
 *
 * A UID or a description may carry any byte a site's file put there: ESC sequences that move
 * the cursor, retitle or recolour the terminal; a newline that forges a line of the listing;
 * C1 controls (U+0080…U+009F; U+009B is a CSI on terminals that honour C1). Two defences:
 * cu_cli_escape() for each value a command prints (every control made visible: \n, \x1b,
 * \u009b); and cu_cli_guard_output(), a filter on the whole of stdout and stderr that makes
 * visible
 * any control character except newline and tab that a command printed without escaping, as
 * \u00XX. That form keeps JSON output valid too: JSON has no raw control character outside
 * strings, and inside a string \u00XX is the same character.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>

#include "cu-cli.h"

/* How the stdout filter shows a control character: valid inside a JSON string as well. */
static void
append_unicode_escape (GString *s, gunichar c)
{
  g_string_append_printf (s, "\\u%04x", c);
}

static void
append_escape (GString *s, gunichar c)
{
  switch (c)
    {
    case '\n': g_string_append (s, "\\n"); break;
    case '\r': g_string_append (s, "\\r"); break;
    case '\t': g_string_append (s, "\\t"); break;
    default:
      if (c < 0x80)
        g_string_append_printf (s, "\\x%02x", c);
      else
        g_string_append_printf (s, "\\u%04x", c);
    }
}

static gboolean
is_control (gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

char *
cu_cli_escape (const char *text)
{
  GString *s;
  const char *p, *end;

  if (text == NULL)
    return NULL;
  s = g_string_sized_new (strlen (text));
  p = text;
  end = text + strlen (text);
  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* Not UTF-8: the byte's value, so that nothing is hidden and nothing invalid
           * reaches the terminal. */
          g_string_append_printf (s, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (is_control (c))
        append_escape (s, c);
      else
        g_string_append_len (s, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  return g_string_free (s, FALSE);
}

/* ---- The output filter -------------------------------------------------------------- */

typedef struct
{
  int fd;
  gboolean pending_c2;   /* the previous write ended on 0xC2, the lead byte of U+0080…U+00BF */
} Guard;

static gboolean
write_all (int fd, const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }
      data += n;
      len -= (size_t) n;
    }
  return TRUE;
}

static ssize_t
guard_write (void *cookie, const char *buf, size_t size)
{
  Guard *g = cookie;
  g_autoptr(GString) out = g_string_sized_new (size + 16);

  for (size_t i = 0; i < size; i++)
    {
      guchar b = (guchar) buf[i];

      if (g->pending_c2)
        {
          g->pending_c2 = FALSE;
          if (b >= 0x80 && b <= 0x9f)
            {
              append_unicode_escape (out, b);
              continue;
            }
          g_string_append_c (out, (char) 0xc2);
        }
      if (b == 0xc2)
        g->pending_c2 = TRUE;
      else if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7f)
        append_unicode_escape (out, b);
      else
        g_string_append_c (out, (char) b);
    }
  if (!write_all (g->fd, out->str, out->len))
    return -1;
  return (ssize_t) size;
}

static int
guard_close (void *cookie)
{
  Guard *g = cookie;
  int ok = 0;

  if (g->pending_c2 && !write_all (g->fd, "\xc2", 1))
    ok = -1;
  g->pending_c2 = FALSE;
  return ok;
}

static FILE *raw_stderr;

/* The guards of stdout and stderr live as long as the process: the streams are flushed by
 * exit() but never closed, so their state is static rather than allocated. */
static Guard guards[2];

static FILE *
guard_stream (int fd, int mode)
{
  static const cookie_io_functions_t functions = { .write = guard_write, .close = guard_close };
  Guard *g = &guards[fd == STDERR_FILENO];
  FILE *f;

  g->fd = fd;
  f = fopencookie (g, "w", functions);
  if (f == NULL)
    return NULL;
  setvbuf (f, NULL, mode, mode == _IONBF ? 0 : BUFSIZ);
  return f;
}

void
cu_cli_guard_output (void)
{
  FILE *out, *err;
  int raw_fd;

  fflush (stdout);
  fflush (stderr);
  /* As before: stdout line by line on a terminal, in blocks into a pipe or a file; stderr
   * unbuffered. */
  out = guard_stream (STDOUT_FILENO, isatty (STDOUT_FILENO) ? _IOLBF : _IOFBF);
  err = guard_stream (STDERR_FILENO, _IONBF);
  if (out != NULL)
    stdout = out;
  if (err != NULL)
    stderr = err;
  raw_fd = dup (STDERR_FILENO);
  raw_stderr = raw_fd >= 0 ? fdopen (raw_fd, "w") : NULL;
  if (raw_stderr != NULL)
    setvbuf (raw_stderr, NULL, _IONBF, 0);
}

FILE *
cu_cli_terminal_stderr (void)
{
  return raw_stderr != NULL ? raw_stderr : stderr;
}

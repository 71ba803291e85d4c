/* SPDX-License-Identifier: GPL-3.0-or-later
 * curata-dicom-parser.c — the DICOM parser process (not run by hand).
 *
 * Curata and curata-cli start a few of these and send them the DICOM files to parse with
 * GDCM (cu-dicom-parser.c). A file that makes GDCM crash or abort ends this process only: the
 * file is rejected with the signal as its reason, and the next file gets a new parser.
 * Usage: curata-dicom-parser --fd=N (a connected Unix stream socket).
 */
#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "curation.h"

int
main (int argc, char **argv)
{
  const char *localedir = g_getenv ("CURATA_LOCALEDIR");
  int fd = -1;

  /* Error messages are written here and shown by the caller: same language. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && *localedir != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* A caller that went away is seen as an error on the socket, not as SIGPIPE. */
  signal (SIGPIPE, SIG_IGN);

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--fd="))
      fd = atoi (argv[i] + strlen ("--fd="));
  if (fd < 0)
    {
      g_printerr ("%s\n", _("curata-dicom-parser is started by Curata, not by hand"));
      return 1;
    }
  return cu_dicom_parser_serve (fd);
}

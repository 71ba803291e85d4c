/* SPDX-License-Identifier: GPL-3.0-or-later
 * main.c — entry point of the curata GUI.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>

#include "cu-application.h"

int
main (int argc, char *argv[])
{
  g_autoptr (CuApplication) app = NULL;
  const char *localedir = g_getenv ("CURATA_LOCALEDIR");

  setlocale (LC_ALL, "");
  /* CURATA_LOCALEDIR, which the site reports already honour, lets a translation be checked
   * from the build tree (build/po) before it is installed. */
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL && localedir[0] != '\0' ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = cu_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}

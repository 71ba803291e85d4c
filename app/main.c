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

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = cu_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-application-actions.c — the "app." actions and the keyboard accelerators.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-application.h"

static void
quit_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GApplication *app = G_APPLICATION (user_data);
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (app)));

  /* closing windows cancels their jobs; then the application ends by itself */
  for (GList *w = windows; w != NULL; w = w->next)
    gtk_window_destroy (GTK_WINDOW (w->data));
  g_list_free (windows);
}

static void
about_action (GSimpleAction *action, GVariant *param, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  const char *developers[] = { _("The Curata contributors"), NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("Curata"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Curate medical images (DICOM) for AI research."),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "developers", developers,
                         /* TRANSLATORS: your name(s), one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "about", about_action },
};

void
_cu_application_init_actions (CuApplication *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit",
                                         (const char *[]) { "<Control>q", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.import-folder",
                                         (const char *[]) { "<Control>o", NULL });
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "win.fit",
                                         (const char *[]) { "<Control>0", NULL });
}

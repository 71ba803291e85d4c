/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-application.c — option parsing, the workspace, and the main window.
 *
 * The application is NON_UNIQUE: each process shows the workspace given on its own command
 * line (--workspace), instead of forwarding the request to a running instance that may have
 * another workspace open. SQLite WAL lets two processes share one workspace safely.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-application.h"
#include "cu-window.h"

struct _CuApplication
{
  AdwApplication parent_instance;

  char *workspace;
  gboolean open_demo;
  gboolean show_flags;
  char *open_series;
  CuStore *store;
};

G_DEFINE_FINAL_TYPE (CuApplication, cu_application, ADW_TYPE_APPLICATION)

static const GOptionEntry option_entries[] = {
  { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Workspace folder (default: $XDG_DATA_HOME/curata/default)"), N_("DIR") },
  { "open-demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Write and import the demo study if missing, then open its first series"), NULL },
  { "series", 's', 0, G_OPTION_ARG_STRING, NULL,
    N_("Open the series with this SeriesInstanceUID (or a unique prefix of it)"), N_("UID") },
  { "flags", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Open the consistency flags panel"), NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
  { NULL }
};

static int
cu_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  CuApplication *self = CU_APPLICATION (app);
  g_autoptr (GError) error = NULL;
  g_autofree char *workspace = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("curata %s\n", PACKAGE_VERSION);
      return 0;
    }
  g_variant_dict_lookup (options, "workspace", "^ay", &workspace);
  self->open_demo = g_variant_dict_contains (options, "open-demo");
  self->show_flags = g_variant_dict_contains (options, "flags");
  g_variant_dict_lookup (options, "series", "s", &self->open_series);
  self->workspace = workspace ? g_steal_pointer (&workspace) : cu_store_default_path ();

  self->store = cu_store_open (self->workspace, &error);
  if (self->store == NULL)
    {
      g_printerr (_("curata: cannot open the workspace %s: %s\n"), self->workspace, error->message);
      return 1;
    }
  if (self->open_series != NULL)
    {
      char *uid = cu_store_resolve_series (self->store, self->open_series, &error);
      if (uid == NULL)
        {
          g_printerr (_("curata: %s\n"), error->message);
          return 1;
        }
      g_free (self->open_series);
      self->open_series = uid;
    }
  return -1;
}

static void
cu_application_startup (GApplication *app)
{
  G_APPLICATION_CLASS (cu_application_parent_class)->startup (app);

  /* Images are read against a dark surround, as on a reading-room monitor: grey levels are
   * judged relative to their surroundings, and a light UI shifts them. */
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                      ADW_COLOR_SCHEME_PREFER_DARK);
  _cu_application_init_actions (CU_APPLICATION (app));
}

static void
cu_application_activate (GApplication *app)
{
  CuApplication *self = CU_APPLICATION (app);
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window == NULL)
    window = GTK_WINDOW (cu_window_new (GTK_APPLICATION (app), self->store));
  gtk_window_present (window);
  if (self->open_demo)
    {
      self->open_demo = FALSE;
      cu_window_import_demo (CU_WINDOW (window), self->open_series == NULL);
    }
  if (self->open_series != NULL)
    cu_window_open_series (CU_WINDOW (window), self->open_series);
  g_clear_pointer (&self->open_series, g_free);
  if (self->show_flags)
    {
      self->show_flags = FALSE;
      gtk_widget_activate_action (GTK_WIDGET (window), "win.show-flags", "s", "");
    }
}

static void
cu_application_dispose (GObject *object)
{
  CuApplication *self = CU_APPLICATION (object);

  g_clear_object (&self->store);
  G_OBJECT_CLASS (cu_application_parent_class)->dispose (object);
}

static void
cu_application_finalize (GObject *object)
{
  CuApplication *self = CU_APPLICATION (object);

  g_free (self->workspace);
  g_free (self->open_series);
  G_OBJECT_CLASS (cu_application_parent_class)->finalize (object);
}

static void
cu_application_class_init (CuApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = cu_application_dispose;
  object_class->finalize = cu_application_finalize;
  app_class->handle_local_options = cu_application_handle_local_options;
  app_class->startup = cu_application_startup;
  app_class->activate = cu_application_activate;
}

static void
cu_application_init (CuApplication *self)
{
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Curate medical images (DICOM) for AI research."));
}

CuApplication *
cu_application_new (void)
{
  return g_object_new (CU_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       /* the same resources for the .Devel flavour */
                       "resource-base-path", "/io/github/curata/Curata",
                       NULL);
}

CuStore *
cu_application_get_store (CuApplication *self)
{
  g_return_val_if_fail (CU_IS_APPLICATION (self), NULL);
  return self->store;
}

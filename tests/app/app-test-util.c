/* SPDX-License-Identifier: GPL-3.0-or-later
 * app-test-util.c — helpers shared by the window tests.
 */
#include "config.h"

#include <glib/gstdio.h>

#include "app-test-util.h"
#include "curation-test-util.h"

void
app_test_rm_rf (const char *path)
{
  curation_test_rm_rf (path);
}

gboolean
app_test_wait_for (gboolean (*cond) (gpointer), gpointer data, int seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

void
app_test_drain (void)
{
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
}

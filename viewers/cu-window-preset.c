/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-preset.c — window/level presets.
 *
 * CT windows in Hounsfield units are the common radiology values (e.g. Hoang et al., "Display
 * window settings for CT", AJR 2010; doi:10.2214/AJR.09.3550): soft tissue W400/L40,
 * lung W1500/L−600, bone W1800/L400, brain W80/L40. MR has no absolute intensity scale, so its
 * window spans the 1st–99th percentile of the volume's histogram.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "cu-window-preset.h"

static const CuWindowPreset presets[] = {
  { "soft-tissue", N_("Soft Tissue"), 400, 40 },
  { "lung", N_("Lung"), 1500, -600 },
  { "bone", N_("Bone"), 1800, 400 },
  { "brain", N_("Brain"), 80, 40 },
  { "auto", N_("Automatic (Histogram)"), 0, 0 },
};

const CuWindowPreset *
cu_window_presets (guint *n_presets)
{
  *n_presets = G_N_ELEMENTS (presets);
  return presets;
}

const CuWindowPreset *
cu_window_preset_lookup (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (presets); i++)
    if (g_strcmp0 (presets[i].id, id) == 0)
      return &presets[i];
  return NULL;
}

void
cu_window_auto (const CuVolume *volume, int t, double *window, double *level)
{
  double lo, hi;

  g_return_if_fail (volume != NULL);
  lo = cu_volume_percentile (volume, t, 1.0);
  hi = cu_volume_percentile (volume, t, 99.0);
  if (!(hi > lo))
    {
      float mn, mx;
      cu_volume_get_range (volume, &mn, &mx);
      lo = mn;
      hi = mx > mn ? mx : mn + 1;
    }
  *window = hi - lo;
  *level = (hi + lo) / 2;
}

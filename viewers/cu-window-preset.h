/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-window-preset.h — window/level presets (CT tissue windows, MR from the histogram).
 */
#pragma once

#include "curation.h"

G_BEGIN_DECLS

typedef struct
{
  const char *id;       /* action target: "soft-tissue", "lung", "bone", "brain", "auto" */
  const char *label;    /* N_() marked; translate with _() */
  double window, level; /* 0/0 for "auto" */
} CuWindowPreset;

/* The presets, "auto" (histogram percentiles) last. */
const CuWindowPreset *cu_window_presets       (guint *n_presets);
const CuWindowPreset *cu_window_preset_lookup (const char *id);
/* Window/level from the 1st and 99th percentile of volume t: the usual choice for MR, whose
 * intensities have no absolute scale. */
void                  cu_window_auto          (const CuVolume *volume, int t,
                                               double *window, double *level);

G_END_DECLS

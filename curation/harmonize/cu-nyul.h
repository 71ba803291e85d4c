/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-nyul.h — Nyúl–Udupa piecewise-linear histogram standardization: a standard scale learnt
 * from a training cohort, stored as JSON and applied to later studies.
 */
#pragma once

#include <gio/gio.h>

#include "cu-volume.h"

G_BEGIN_DECLS

#define CU_NYUL_MAX_LANDMARKS 32

typedef struct
{
  char *name;               /* e.g. the sequence it was learnt for ("T2W"), or NULL */
  guint n_landmarks;        /* including the two ends (pc1, pc2) */
  double percentiles[CU_NYUL_MAX_LANDMARKS];  /* ascending, 0–100: pc1, deciles…, pc2 */
  double standard[CU_NYUL_MAX_LANDMARKS];     /* learnt landmark positions on the scale */
  double s_min, s_max;      /* the standard scale's ends (pc1 and pc2 map onto them) */
  guint n_training;         /* volumes it was learnt from */
  char **training_series;   /* their SeriesInstanceUIDs (NULL-terminated), or NULL */
} CuNyulScale;

/* The configuration of Nyúl, Udupa & Zhang 2000: pc1 = 1, deciles 10…90, pc2 = 99, standard
 * range [1, 100]; landmarks not learnt yet (standard[] = 0, n_training 0). */
CuNyulScale *cu_nyul_scale_new          (void);
void         cu_nyul_scale_free         (CuNyulScale *scale);

/* Landmarks (intensities at scale->percentiles) of the foreground of a volume; out receives
 * scale->n_landmarks values. FALSE when the mask is empty. */
gboolean     cu_nyul_landmarks          (const CuVolume     *volume,
                                         const guint8       *mask,
                                         const CuNyulScale  *scale,
                                         double             *out);

/* Learn the standard landmarks from n volumes with their masks: each volume's landmarks are
 * mapped linearly so that pc1 → s_min and pc2 → s_max, and the standard landmarks are their
 * means. uids (may be NULL) are recorded as the training series. */
gboolean     cu_nyul_train              (CuNyulScale        *scale,
                                         const CuVolume *const *volumes,
                                         const guint8 *const *masks,
                                         const char *const  *uids,
                                         guint               n,
                                         GError            **error);

/* Map a volume onto the learnt scale: piecewise linear through (its landmarks → standard
 * landmarks), extended linearly beyond pc1 and pc2 by the end segments. */
CuVolume    *cu_nyul_apply              (const CuVolume     *in,
                                         const guint8       *mask,
                                         const CuNyulScale  *scale,
                                         GError            **error);

char        *cu_nyul_scale_to_json      (const CuNyulScale *scale);
CuNyulScale *cu_nyul_scale_from_json    (const char *json, GError **error);
gboolean     cu_nyul_scale_save         (const CuNyulScale *scale, const char *path, GError **error);
CuNyulScale *cu_nyul_scale_load         (const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuNyulScale, cu_nyul_scale_free)

G_END_DECLS

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-demo.h — the built-in demo study: a pseudonymized synthetic MR-like phantom written as
 * DICOM by Curata itself, plus a small clinical CSV.
 */
#pragma once

#include <gio/gio.h>

#include "cu-progress.h"

G_BEGIN_DECLS

/* The pseudonym of the demo patient: DICOM PatientID and the CSV's person_id. */
#define CU_DEMO_PATIENT_ID "CUR-DEMO-0001"

/* Write the demo study into dir (created if needed): two series of one study with different
 * orientation/resolution, proper geometry tags, PatientIdentityRemoved=YES, and
 * clinical.csv. Returns the list of files written (NULL-terminated) or NULL with error. */
char **cu_demo_write (const char *dir, CuProgress *progress, GError **error);

/* The phantom's ground truth, so tests and later features (segmentation, QC) can check what
 * they find against what was drawn: each lesion is a sphere in patient LPS millimetres. */
typedef struct
{
  const char *name;      /* e.g. "pz-right" */
  double centre[3];      /* LPS mm */
  double radius;         /* mm */
} CuDemoLesion;

const CuDemoLesion *cu_demo_get_lesions (guint *n_lesions);

G_END_DECLS

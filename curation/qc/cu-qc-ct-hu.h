/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-ct-hu.h — the Hounsfield-scale check of a CT: air near −1000 HU and soft tissue /
 * water near 0 HU, else a quality finding (CU_QC_CT_HU). Method in cu-qc-ct-hu.c.
 */
#pragma once

#include "cu-qc-report.h"

G_BEGIN_DECLS

#define CU_QC_HU_AIR        (-1000.0)
#define CU_QC_HU_WATER      0.0
#define CU_QC_HU_TOLERANCE  150.0

/* The air and soft-tissue peaks of a volume (its values as stored after the rescale);
 * FALSE when the volume has no two classes to find them in. */
gboolean cu_qc_ct_hu_peaks (const CuVolume *volume, double *air, double *tissue);

/* For a CT report with a volume: metrics CT_AIR_HU and CT_TISSUE_HU, and a finding when a
 * peak is off the scale (both: error; one: warning). Other modalities are left alone. */
void     cu_qc_check_ct_hu (CuQcReport *report);

G_END_DECLS

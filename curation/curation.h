/* SPDX-License-Identifier: GPL-3.0-or-later
 * curation.h — umbrella header of libcurata. Code outside curation/ includes only this.
 */
#pragma once

#include "cu-progress.h"
#include "cu-volume.h"
#include "cu-volume-error.h"
#include "cu-nifti.h"
#include "cu-dicom-header.h"
#include "cu-dicom-writer.h"
#include "cu-dicom-pixels.h"
#include "cu-series-plan.h"
#include "cu-store.h"
#include "cu-derived-series.h"
#include "cu-demo.h"
#include "cu-deid-profile.h"
#include "cu-deid-check.h"
#include "cu-anonymizer.h"
#include "cu-denoise-error.h"
#include "cu-gaussian.h"
#include "cu-csv.h"
#include "cu-clinical.h"
#include "cu-flag-rules.h"
#include "cu-flags.h"
#include "cu-flag-bundle.h"

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-qc-protocol.h — protocol conformance: which series a study must have and their minimum
 * technical parameters, from a small declarative file (INI syntax, data/packs/README.md; the
 * shipped ones are the protocols of the packs, data/packs/<pack>/protocols/).
 */
#pragma once

#include <glib.h>

#include "cu-qc-report.h"

G_BEGIN_DECLS

#define CU_QC_PROTOCOL_DEFAULT "prostate-mpmri-pirads-2.1"

/* Technical parameters of a series (CuQcReport.parameters names). */
#define CU_QC_P_THICKNESS   "P_THICKNESS"    /* SliceThickness, mm */
#define CU_QC_P_GAP         "P_GAP"          /* spacing along the normal − thickness, mm */
#define CU_QC_P_PIXEL       "P_PIXEL"        /* larger reconstructed pixel spacing, mm */
#define CU_QC_P_ACQ_PHASE   "P_ACQ_PHASE"    /* acquired size along phase encoding, mm */
#define CU_QC_P_ACQ_FREQ    "P_ACQ_FREQ"     /* acquired size along frequency encoding, mm */
#define CU_QC_P_TE          "P_TE"           /* ms */
#define CU_QC_P_TR          "P_TR"           /* ms */
#define CU_QC_P_BMAX        "P_BMAX"         /* highest b-value, s/mm² */
#define CU_QC_P_PHASES      "P_PHASES"       /* time points */
#define CU_QC_P_TEMPORAL    "P_TEMPORAL"     /* temporal resolution, s */

typedef struct _CuQcProtocol CuQcProtocol;

/* A shipped protocol (of any shipped pack) by id, or a protocol file by path. */
CuQcProtocol *cu_qc_protocol_load      (const char *id_or_path, GError **error);
/* A protocol from the text of its file (origin names it in errors). */
CuQcProtocol *cu_qc_protocol_new_from_data (const char *text, const char *origin, GError **error);
/* Whether the study of reports (CuQcReport) is one the protocol is for: one of its series has
 * the protocol's modality, body part (when BodyPartExamined is given) and sequence type. */
gboolean      cu_qc_protocol_applies   (CuQcProtocol *protocol, GPtrArray *reports);
void          cu_qc_protocol_free      (CuQcProtocol *protocol);
const char   *cu_qc_protocol_get_id    (CuQcProtocol *protocol);
const char   *cu_qc_protocol_get_name  (CuQcProtocol *protocol);
/* Ids of the protocols of the shipped packs (NULL-terminated, static). */
const char *const *cu_qc_protocol_builtin (void);

/* Check one study: reports are the checked series of the study (CuQcReport with sequence,
 * plane and parameters). Returns CuQcFinding elements (code CU_QC_PROTOCOL; attribute names
 * the requirement; path NULL): a required series missing (error; warning when the protocol
 * marks it optional), a parameter out of range (error), a parameter the files do not carry
 * (info). The best candidate series is judged for each requirement. */
GPtrArray    *cu_qc_protocol_check     (CuQcProtocol *protocol, GPtrArray *reports);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuQcProtocol, cu_qc_protocol_free)

G_END_DECLS

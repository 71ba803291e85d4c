/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-writer.h — a small pure-C writer of DICOM Part 10 files (Explicit VR Little Endian).
 *
 * Used for the demo study and for derived series. A CuDicomDataset collects data elements in
 * any order; serialisation sorts them by tag, pads values to even length as PS3.5 §6.2 requires
 * for their VR, and writes the 128-byte preamble, "DICM" and the File Meta Information group.
 * Value errors (a UID with letters, a DS value too long, a duplicate tag …) are remembered and
 * reported by cu_dicom_dataset_serialize() / cu_dicom_dataset_write_file(), so callers can add
 * elements without checking each call.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define CU_DICOM_TAG(group, element) ((guint32) (((guint32) (group) << 16) | (guint32) (element)))

/* Explicit VR Little Endian, the only transfer syntax written. */
#define CU_DICOM_TS_EXPLICIT_LE "1.2.840.10008.1.2.1"
#define CU_DICOM_MR_IMAGE_STORAGE "1.2.840.10008.5.1.4.1.1.4"

typedef struct _CuDicomDataset CuDicomDataset;

CuDicomDataset *cu_dicom_dataset_new         (void);
void            cu_dicom_dataset_free        (CuDicomDataset *self);

/* Text VRs (AE AS CS DA DS DT IS LO LT PN SH ST TM UC UI UR UT). value NULL or "" gives a
 * zero-length (Type 2 empty) element. Multiple values are joined with backslashes by the caller. */
void            cu_dicom_dataset_add_string  (CuDicomDataset *self, guint32 tag, const char *vr,
                                              const char *value);
/* printf-style convenience for text VRs. */
void            cu_dicom_dataset_add_printf  (CuDicomDataset *self, guint32 tag, const char *vr,
                                              const char *format, ...) G_GNUC_PRINTF (4, 5);
/* DS (decimal string) with n values, each formatted in at most 16 characters. */
void            cu_dicom_dataset_add_ds      (CuDicomDataset *self, guint32 tag, const double *values,
                                              guint n_values);
void            cu_dicom_dataset_add_us      (CuDicomDataset *self, guint32 tag, guint16 value);
void            cu_dicom_dataset_add_ul      (CuDicomDataset *self, guint32 tag, guint32 value);
void            cu_dicom_dataset_add_fd      (CuDicomDataset *self, guint32 tag, double value);
/* Binary VRs (OB, OW, UN …): the bytes are copied; OW data must already be little endian. */
void            cu_dicom_dataset_add_bytes   (CuDicomDataset *self, guint32 tag, const char *vr,
                                              const void *data, gsize length);
/* A sequence (SQ) of items; takes ownership of the n_items datasets in items (not of the array). */
void            cu_dicom_dataset_add_sequence (CuDicomDataset *self, guint32 tag,
                                               CuDicomDataset **items, guint n_items);

/* The complete Part 10 file: preamble, "DICM", File Meta Information (SOP Class and Instance
 * taken from (0008,0016)/(0008,0018), which must be present) and the dataset. */
GBytes         *cu_dicom_dataset_serialize   (CuDicomDataset *self, GError **error);
/* Serialize and write path atomically (temporary file renamed into place). */
gboolean        cu_dicom_dataset_write_file  (CuDicomDataset *self, const char *path, GError **error);

/* UIDs under the 2.25 arc (ISO/IEC 9834-8: a UUID written as one decimal integer), so Curata
 * needs no registered root. uid_new is random; uid_from_name is a name-based (SHA-1, RFC 4122
 * version 5) UUID, the same for the same name — used where reproducible UIDs matter. */
char           *cu_dicom_uid_new             (void);
char           *cu_dicom_uid_from_name       (const char *name);
/* An existing UUID ("f81d4fae-7dec-11d0-a765-00a0c91e6bf6") as a 2.25 UID; NULL if malformed. */
char           *cu_dicom_uid_from_uuid       (const char *uuid);
/* The Implementation Class UID written in every file's meta header. */
const char     *cu_dicom_implementation_uid  (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDicomDataset, cu_dicom_dataset_free)

G_END_DECLS

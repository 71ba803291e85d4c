/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-pixels.h — decoding the pixel data of one DICOM file.
 *
 * Native (uncompressed) syntaxes are read straight from the recorded pixel offset, with no
 * codec involved (that is what makes series loading about as fast as reading the bytes).
 * Encapsulated syntaxes go through GDCM (JPEG, JPEG-LS, JPEG 2000 via OpenJPEG, RLE); what
 * GDCM cannot decode — HTJ2K, some JPEG 2000 streams — is decoded by OpenJPEG directly
 * (cu-j2k-decoder.c). Anything still undecodable is a CU_DICOM_ERROR_UNSUPPORTED or
 * CU_DICOM_ERROR_DECODE error, never garbage pixels.
 */
#pragma once

#include "cu-dicom-header.h"

G_BEGIN_DECLS

/* Decode every frame of the file described by header into out, as float32 after the modality
 * rescale (per-frame slope/intercept for enhanced objects). Colour images are converted to
 * luminance (ITU-R BT.601). out must hold rows·columns·number_of_frames floats; frames follow
 * each other, x fastest. */
gboolean cu_dicom_read_frames_float (const CuDicomHeader *header,
                                     float               *out,
                                     gsize                n_out,
                                     GError             **error);

/* Decode every frame into stored sample values in host byte order (no rescale), exactly as
 * bits_allocated says: 1, 2 or 4 bytes per sample, samples_per_pixel interleaved.
 * out_size must be rows·columns·samples·frames·(bits_allocated/8) bytes. Bits Allocated 1
 * (segmentations) is unpacked to one byte (0 or 1) per sample, so out_size is then
 * rows·columns·samples·frames bytes. */
gboolean cu_dicom_read_frames_raw   (const CuDicomHeader *header,
                                     guint8              *out,
                                     gsize                out_size,
                                     GError             **error);

G_END_DECLS

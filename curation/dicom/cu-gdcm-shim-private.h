/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gdcm-shim-private.h — internal seam between the C side of DICOM reading and the GDCM shim.
 *
 * Only curation/dicom/ and tests include this. No C++ type appears here: the shim takes and
 * returns plain C data and reports every failure (including C++ exceptions) as a GError.
 */
#pragma once

#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"

G_BEGIN_DECLS

/* The first steps of cu_dicom_header_read: open path, recognise preamble and file meta, and run
 * the structural pre-check (sequence, item and element lengths fit together). Returns a header
 * with path, file_size, mtime, has_preamble, has_meta and the declared transfer_syntax set, and
 * the open descriptor in *out_fd (the caller closes it); NULL with error for files GDCM must
 * not be given. */
CuDicomHeader *_cu_dicom_header_open (const char *path,
                                      int        *out_fd,
                                      GError    **error);

/* _cu_dicom_header_open, and the bytes GDCM will parse (the file up to and including the Pixel
 * Data element header, as the structural check found it) read into *out_bytes with one read,
 * so that GDCM parses memory instead of seeking in the file (on a warm page cache its stream's
 * seek and read system calls cost more than the parse). *out_bytes is NULL when the file is
 * read as a stream after all (deflated, or the header runs past a size worth holding). */
CuDicomHeader *_cu_dicom_header_open_bytes (const char *path,
                                            int        *out_fd,
                                            guint8    **out_bytes,
                                            gsize      *out_len,
                                            GError    **error);

/* Run fn (data, error) with C++ exceptions turned into a CU_DICOM_ERROR_MALFORMED error naming
 * path. Every call into GDCM outside the header reader and decoder goes through here. Crashes
 * and aborts are not caught: files from outside are parsed in a parser process
 * (cu-dicom-parser-private.h). */
gboolean    _cu_gdcm_run_guarded   (const char *path,
                                    gboolean  (*fn) (gpointer data, GError **error),
                                    gpointer    data,
                                    GError    **error);

/* Fill everything GDCM knows into header (header->path, file_size, mtime, has_preamble and
 * has_meta are already set by the caller; transfer_syntax holds the declared one if the file
 * meta has it). Reads up to, not including, Pixel Data; fd is the caller's descriptor of the
 * same file, used to verify the Pixel Data element header. When visit is not NULL, every
 * element of the data set just parsed is then handed to it (cu-dicom-walk.h), once the header
 * is filled: one parse for both. */
gboolean    _cu_gdcm_read_header   (CuDicomHeader *header,
                                    int            fd,
                                    const guint8  *bytes,     /* NULL: read the file */
                                    gsize          n_bytes,
                                    CuDicomWantFunc want,
                                    CuDicomVisitFunc visit,
                                    gpointer       user_data,
                                    GError       **error);

/* Decode all frames of an encapsulated (or deflated) file with GDCM into out: samples
 * interleaved, host byte order, bits_allocated/8 bytes each. *out_ybr tells whether the decoded
 * colour samples are still YCbCr (GDCM converts JPEG/J2K colour to RGB, but not RLE). Runs in
 * a parser process (cu-dicom-parser.c); _local runs here. */
gboolean    _cu_gdcm_decode_frames (const CuDicomHeader *header,
                                    guint8              *out,
                                    gsize                out_size,
                                    gboolean            *out_ybr,
                                    GError             **error);
gboolean    _cu_gdcm_decode_frames_local (const CuDicomHeader *header,
                                          guint8              *out,
                                          gsize                out_size,
                                          gboolean            *out_ybr,
                                          GError             **error);

/* Human-readable name of a transfer syntax UID (translated), or the UID itself if unknown. */
const char *_cu_dicom_transfer_syntax_name (const char *uid);

/* TRUE for transfer syntaxes some decoder here can handle (native, deflate, RLE, JPEG, JPEG-LS,
 * JPEG 2000, HTJ2K, deflated frames). */
gboolean    _cu_dicom_transfer_syntax_known (const char *uid);

/* Make a byte string valid, trimmed UTF-8 (DICOM padding removed). from_charset is an iconv
 * name or NULL for the default repertoire. Returns a newly allocated string. */
char       *_cu_dicom_text_to_utf8 (const char *bytes,
                                    gsize       len,
                                    const char *from_charset);

/* Read NumberOfImagesInMosaic and SliceNormalVector from a Siemens CSA image header blob;
 * leaves the outputs untouched where absent. FALSE if the blob is not a readable CSA header. */
gboolean    _cu_dicom_parse_csa    (const guint8 *data,
                                    gsize         len,
                                    int          *mosaic_images,
                                    double        normal[3],
                                    gboolean     *has_normal);

/* cu-dicom-header-check.c: the memory a header may make us allocate for one file's pixels (half of
 * the physical memory, or of RLIMIT_AS when set), in bytes. */
guint64     _cu_dicom_memory_budget (void);

/* Bytes of the file's pixel data as stored (1-bit samples packed) and as decoded (1 byte per
 * 1-bit sample, else Bits Allocated / 8 per sample), with overflow checks: FALSE when the
 * product overflows or a factor is not positive. */
gboolean    _cu_dicom_pixel_bytes  (const CuDicomHeader *header,
                                    guint64             *stored,
                                    guint64             *decoded);

/* Rows × Columns × Frames × Samples × Bits Allocated against what the file can hold (native
 * pixel data length, one fragment per encapsulated frame, deflate's ratio) and the memory
 * budget; called once the pixel data is located and before anything is sized from the header.
 * fd (the file, or -1) is used to walk encapsulated items (_cu_dicom_check_encapsulated). */
gboolean    _cu_dicom_header_check_pixels (const CuDicomHeader *header,
                                           int                  fd,
                                           GError             **error);

/* cu-dicom-header.c: the items of encapsulated Pixel Data fit the file, end with a sequence
 * delimiter, and are at least as many fragments as there are frames. */
gboolean    _cu_dicom_check_encapsulated (const CuDicomHeader *header,
                                          int                  fd,
                                          GError             **error);

/* PS3.5 §9.1: digits and dots, no empty component, at most 64 characters. */
gboolean    _cu_dicom_uid_valid    (const char *uid);

/* Study, Series and SOP Instance UIDs, when present, are valid UIDs; the error names the
 * attribute and shows the value with control bytes escaped. */
gboolean    _cu_dicom_header_check_uids (const CuDicomHeader *header,
                                         GError             **error);

/* Map a Specific Character Set (0008,0005) value to an iconv name (static) or NULL. */
const char *_cu_dicom_charset_to_iconv (const char *specific_character_set);

G_END_DECLS

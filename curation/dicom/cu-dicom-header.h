/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-header.h — what Curata reads from one DICOM file's header (never the pixels).
 *
 * Filled by the GDCM shim (cu-gdcm-shim.cc) reading up to, not including, Pixel Data.
 * Strings are UTF-8 (converted from the file's Specific Character Set), trimmed of DICOM
 * padding, NULL when the attribute is absent, "" when present but empty.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CU_DICOM_ERROR (cu_dicom_error_quark ())

typedef enum
{
  CU_DICOM_ERROR_IO,           /* cannot open or read the file */
  CU_DICOM_ERROR_NOT_DICOM,    /* no DICM magic and no plausible dataset */
  CU_DICOM_ERROR_MALFORMED,    /* DICOM, but the parser could not get through the header */
  CU_DICOM_ERROR_DICOMDIR,     /* a DICOMDIR (Media Storage Directory), not an image */
  CU_DICOM_ERROR_MISSING,      /* a required attribute (e.g. SOPInstanceUID) is absent */
  CU_DICOM_ERROR_UNSUPPORTED,  /* an encoding no decoder here can read */
  CU_DICOM_ERROR_DECODE,       /* the codec failed on this data (corrupt or truncated) */
} CuDicomError;

GQuark cu_dicom_error_quark (void);

/* Per-frame geometry of multi-frame (enhanced) objects, from the Shared and Per-frame
 * Functional Groups, or replicated from the top-level attributes for classic objects. */
typedef struct
{
  gboolean has_position;
  double position[3];        /* ImagePositionPatient */
  gboolean has_orientation;
  double orientation[6];     /* ImageOrientationPatient */
  gboolean has_spacing;
  double pixel_spacing[2];   /* PixelSpacing: row spacing, column spacing */
  double slice_thickness;    /* 0 if unknown */
  double rescale_slope;      /* 1 if absent */
  double rescale_intercept;  /* 0 if absent */
  int stack_position;        /* InStackPositionNumber, 0 if absent */
  int temporal_index;        /* TemporalPositionIndex, 0 if absent */
  char *stack_id;            /* StackID or NULL */
  double b_value;            /* DiffusionBValue, -1 if absent */
} CuDicomFrame;

typedef struct
{
  char *path;
  gint64 file_size;
  gint64 mtime;                 /* seconds since the epoch */

  gboolean has_preamble;        /* 128-byte preamble + "DICM" found */
  gboolean has_meta;            /* file meta information group present */
  char *transfer_syntax;        /* (0002,0010), or the one the parser deduced */
  gboolean encapsulated;        /* compressed pixel data (fragments) */
  gboolean big_endian;          /* dataset is Explicit VR Big Endian */

  /* Identification */
  char *sop_class_uid;
  char *sop_instance_uid;
  char *patient_id;
  char *patient_name;
  char *patient_sex;
  char *patient_birth_date;
  char *patient_identity_removed;   /* (0012,0062) */
  char *study_uid;
  char *study_date;
  char *study_time;
  char *study_description;
  char *study_id;
  char *accession_number;
  char *series_uid;
  char *series_description;
  char *series_date;
  char *series_time;
  char *modality;
  char *manufacturer;
  char *frame_of_reference_uid;
  char *image_type;                 /* backslash-separated, e.g. "ORIGINAL\PRIMARY\M\ND" */
  char *body_part;
  int series_number;                /* -1 if absent */
  int instance_number;              /* -1 if absent */
  int acquisition_number;           /* -1 if absent */
  int temporal_position;            /* TemporalPositionIdentifier, -1 if absent */
  double echo_time;                 /* -1 if absent */
  double repetition_time;           /* -1 if absent */
  double trigger_time;              /* -1 if absent */
  char *acquisition_time;
  char *content_time;

  /* Image Pixel module; has_pixels is FALSE for SR, RTSTRUCT, waveforms… */
  gboolean has_pixels;
  gint64 pixel_offset;              /* file offset of the Pixel Data value (native syntaxes) */
  gint64 pixel_length;              /* its length in bytes, -1 if undefined (encapsulated) */
  int rows, columns;
  int samples_per_pixel;
  int bits_allocated, bits_stored, high_bit;
  int pixel_representation;         /* 0 unsigned, 1 signed */
  int planar_configuration;
  char *photometric;
  int number_of_frames;             /* 1 for single-frame */

  /* Top-level geometry (classic objects); enhanced objects carry it in frames[] */
  gboolean has_position;
  double position[3];
  gboolean has_orientation;
  double orientation[6];
  gboolean has_spacing;
  double pixel_spacing[2];
  double slice_thickness;            /* 0 if absent */
  double spacing_between_slices;     /* 0 if absent */
  double rescale_slope;              /* 1 if absent */
  double rescale_intercept;          /* 0 if absent */
  double window_center, window_width; /* first values, 0 if absent */
  double gantry_tilt;                 /* degrees, 0 if absent */

  /* Siemens mosaic (ImageType contains MOSAIC and the CSA header says how many images) */
  int mosaic_images;                 /* NumberOfImagesInMosaic, 0 if not a mosaic */
  gboolean has_csa_normal;
  double csa_slice_normal[3];        /* SliceNormalVector from the CSA image header */

  /* Per-frame geometry: n_frames == number_of_frames for images (1 for classic objects) */
  guint n_frames;
  CuDicomFrame *frames;

  /* Added for the quality gate (appended): acquisition attributes that survive the PS3.15
   * Basic Profile, so sequences can be recognised without SeriesDescription. */
  int images_in_acquisition;          /* (0020,1002), -1 if absent */
  int number_of_temporal_positions;   /* (0020,0105), -1 if absent */
  char *scanning_sequence;            /* (0018,0020), e.g. "SE" or "EP\\SE" */
  char *sequence_variant;             /* (0018,0021) */
  char *mr_acquisition_type;          /* (0018,0023) "2D" / "3D" */
  char *manufacturer_model;           /* (0008,1090) */
  int echo_train_length;              /* (0018,0091), -1 if absent */
  double magnetic_field_strength;     /* (0018,0087) tesla, -1 if absent */
  int acquisition_matrix[4];          /* (0018,1310) freq rows, freq cols, phase rows, phase cols; 0 if absent */
  char *phase_encoding_direction;     /* (0018,1312) "ROW" / "COL" */
  double b_value;                     /* DiffusionBValue (0018,9087), else the vendor private tag
                                       * (Siemens (0019,xx0C), GE (0043,xx39) mod 1e9, Philips
                                       * (2001,xx03)); -1 if none */
  char *diffusion_directionality;     /* (0018,9075) */

  /* Added for the consistency rules (appended): kept by the Retain Patient Characteristics
   * option, and the sequence name some vendors use to mark calculated high-b images. */
  char *patient_age;                  /* (0010,1010) AS, e.g. "063Y" */
  char *sequence_name;                /* (0018,0024) */

  /* Added for hostile input (appended): the keyword of the first decimal attribute whose value
   * is NaN or ±Inf (such values read as absent above), NULL if none. */
  char *nonfinite_attribute;
} CuDicomHeader;
/* A new char * field goes into _cu_dicom_header_string_fields (cu-dicom-header.c) too: it is
 * freed from there, and copied from the parser process (cu-dicom-parser.c checks the size). */

/* Read the header of path, stopping before Pixel Data. Never aborts on bad input. */
CuDicomHeader *cu_dicom_header_read   (const char *path, GError **error);
void           cu_dicom_header_free   (CuDicomHeader *header);

/* TRUE if the transfer syntax is uncompressed (implicit/explicit LE, explicit BE) and the
 * pixel data can be read straight from pixel_offset without a codec. */
gboolean       cu_dicom_header_is_native (const CuDicomHeader *header);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuDicomHeader, cu_dicom_header_free)

G_END_DECLS

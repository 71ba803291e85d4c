/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gdcm-element-private.h — shared by the GDCM shim files that visit or rewrite data
 * elements (cu-gdcm-walk.cc, cu-gdcm-rewrite.cc): reading a file with GDCM the way the header
 * reader does, and describing a gdcm::DataElement as a CuDicomElement.
 *
 * Only the C++ files of curation/dicom include this. The C++ part never reaches a public header.
 */
#pragma once

#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"
#include "cu-gdcm-shim-private.h"

#ifdef __cplusplus

#include <memory>
#include <sstream>
#include <string>

#include <gdcmDataElement.h>
#include <gdcmDataSet.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>

/* A file opened with GDCM; the stream (an inflated deflated data set, or a copy whose file
 * meta GDCM would refuse, patched) must outlive the reader, hence one object. */
struct CuGdcmSource
{
  std::unique_ptr<std::istringstream> stream;   /* declared first: destroyed after reader */
  std::unique_ptr<gdcm::Reader> reader;
  std::string declared_ts;   /* the file's own transfer syntax when a patched copy was read */

  gdcm::File &file () { return reader->GetFile (); }
};

/* Read header->path (as returned by _cu_dicom_header_open: pre-checked, transfer syntax
 * declared) with GDCM, exactly as the header reader does: deflated data sets inflated and
 * checked first, a file meta group GDCM refuses patched in memory. up_to_pixels stops before
 * Pixel Data (7FE0,0010) (nothing of the pixels is read); otherwise the whole file is read.
 * May throw; call inside _cu_gdcm_run_guarded. */
bool _cu_gdcm_source_read (CuGdcmSource        &src,
                           const CuDicomHeader *header,
                           bool                 up_to_pixels,
                           GError             **error);

/* Text encoding context of one data set: the iconv name of its Specific Character Set. */
const char *_cu_gdcm_dataset_charset (const gdcm::DataSet &ds);

/* The VR to interpret an element with: the file's explicit VR, or for implicit VR files and
 * VR UN the data dictionary's (private dictionary with the element's creator too); "UN" when
 * nobody knows. Returns a two-letter string (static). */
const char *_cu_gdcm_element_vr (const gdcm::DataSet &ds, const gdcm::DataElement &de);

/* The items of a sequence element: SQ, and UN / implicit elements that the dictionary says are
 * sequences or that GDCM already parsed as undefined-length items. NULL when not a sequence. */
gdcm::SmartPointer<gdcm::SequenceOfItems> _cu_gdcm_element_items (const gdcm::DataSet     &ds,
                                                                 const gdcm::DataElement &de,
                                                                 const char              *vr);

/* Visit every element of ds as cu_dicom_walk_file does (file order, depth first, no Pixel
 * Data, no file meta). The header reader calls it on the data set it has just parsed, so that
 * reading a header and checking its file is one parse. FALSE when the visitor stopped. */
bool _cu_gdcm_walk_dataset (const gdcm::DataSet &ds,
                            CuDicomWantFunc      want,
                            CuDicomVisitFunc     visit,
                            gpointer             user_data,
                            const char          *path);

/* String VRs, whose value a visitor sees as text. */
bool _cu_gdcm_vr_is_text (const char *vr);
/* VRs whose bytes follow the Specific Character Set (PS3.5 §6.1.2.3); the others are ASCII. */
bool _cu_gdcm_vr_uses_charset (const char *vr);

/* "(GGGG,EEEE)" appended to parent ("" at the top level, else "…[i]/"). */
std::string _cu_gdcm_tag_path (const std::string &parent, const gdcm::Tag &t);

/* The private creators of one group of a data set, by block (PS3.5 §7.8.1): the element walk
 * fills it as it meets (gggg,0010-00FF), so that the creator of (gggg,xxEE) is a lookup. */
struct CuGdcmCreators
{
  guint16 group = 0;
  std::string name[256];
};

/* Storage behind a CuDicomElement's pointers; valid until the next fill or destruction. A
 * store reused for the elements of one data set keeps its buffers. creators (optional) is
 * the walk's table for the current private group. */
struct CuGdcmElementStore
{
  std::string tag_path;
  std::string creator;
  std::string ascii;            /* the text when it is ASCII */
  char *text = nullptr;         /* the text otherwise (converted) */
  const CuGdcmCreators *creators = nullptr;
  /* The walk fills one store for all elements of a data set, whose parent path stays the
   * same: the tag path then only has its last element rewritten. */
  bool reuse_parent = false;
  const std::string *tag_path_parent = nullptr;
  ~CuGdcmElementStore () { g_free (text); }
};

/* Describe de (an element of ds) as a CuDicomElement: VR as _cu_gdcm_element_vr, text
 * converted to UTF-8 with charset (iconv name or NULL) for string VRs, private creator looked
 * up in ds. items receives the sequence's items (NULL otherwise). */
void _cu_gdcm_element_fill (const gdcm::DataSet                        &ds,
                            const gdcm::DataElement                    &de,
                            const char                                 *charset,
                            const std::string                          &parent_path,
                            int                                         depth,
                            CuDicomElement                             *out,
                            CuGdcmElementStore                         &store,
                            gdcm::SmartPointer<gdcm::SequenceOfItems>  &items);

#endif /* __cplusplus */

/* SPDX-License-Identifier: GPL-3.0-or-later
 * fuzz-dicom.c — libFuzzer target for the DICOM import path: one input is one file a site
 * sent.
 *
 * It goes through what the import does with every file (cu_deid_check_read: the header and
 * the pseudonymization check's element walk in one GDCM parse, as cu-importer.c's reader
 * threads call it), then the full element walk (cu_dicom_walk_file, as the SEG and derived
 * series code read their source), then the pixel decoding of whatever transfer syntax the
 * file declares, into a buffer sized the way the series loader and QC size it
 * (cu-series-plan.c, cu-qc-check.c). The readers take paths, so the input is written to a
 * file first.
 */
#include "config.h"

#include <string.h>
#include <glib.h>

#include "cu-deid-check.h"
#include "cu-dicom-pixels.h"
#include "cu-dicom-walk.h"
#include "fuzz-util.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static CuDeidProfile *profile;
static CuDeidChecker *checker;

/* Touch every value byte, so that a length pointing past the data is an ASan report here
 * and not a silent read. */
static gboolean
visit_all (const CuDicomElement *element, gpointer user_data)
{
  guint *sum = user_data;

  for (gsize i = 0; element->value != NULL && i < element->length; i++)
    *sum += element->value[i];
  if (element->text != NULL)
    *sum += (guint) strlen (element->text);
  if (element->tag_path != NULL)
    *sum += (guint) strlen (element->tag_path);
  return TRUE;
}

static void
decode_pixels (const CuDicomHeader *h)
{
  g_autoptr(GError) error = NULL;
  g_autofree float *buf = NULL;
  gsize n;

  if (!h->has_pixels || h->rows <= 0 || h->columns <= 0)
    return;
  /* The callers' sizing: rows · columns · frames floats, or nothing when that cannot be had. */
  n = (gsize) h->rows * h->columns * MAX (h->number_of_frames, 1);
  buf = g_try_new (float, n);
  if (buf == NULL)
    return;
  cu_dicom_read_frames_float (h, buf, n, &error);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(CuDicomHeader) header = NULL;
  g_autofree char *path = NULL;
  guint sum = 0;

  if (checker == NULL)
    {
      profile = cu_deid_profile_new_default (&error);
      g_assert_no_error (error);
      checker = cu_deid_checker_new (profile, NULL, &error);
      g_assert_no_error (error);
    }

  path = cu_fuzz_write_input ("input.dcm", data, size);
  findings = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_deid_finding_free);
  header = cu_deid_check_read (checker, path, findings, &error);
  g_clear_error (&error);
  cu_dicom_walk_file (path, visit_all, &sum, &error);
  g_clear_error (&error);
  if (header != NULL)
    decode_pixels (header);
  return 0;
}

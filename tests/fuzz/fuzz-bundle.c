/* SPDX-License-Identifier: GPL-3.0-or-later
 * fuzz-bundle.c — libFuzzer targets for the reading side of site bundles
 * (cu_flag_bundle_import): built twice, as fuzz-bundle-manifest (the input is the bundle's
 * manifest.json) and fuzz-bundle-answers (the input is its answers.csv, the file the site's
 * collectors edit by hand).
 *
 * The other file of the bundle is the one the project's own export wrote (CU_FUZZ_BUNDLE,
 * exported from CU_FUZZ_WORKSPACE by run-fuzz.sh), and the import runs against a private copy
 * of that workspace, so that an input close to the real bundle gets past the identity checks
 * into the answers. A bundle that applies changes the workspace (it cannot be applied twice):
 * the copy is then made again, so that the next input meets the same workspace.
 */
#include "config.h"

#include <glib.h>

#include "cu-flag-bundle.h"
#include "fuzz-util.h"

#if !defined(FUZZ_BUNDLE_INPUT) || !defined(FUZZ_BUNDLE_OTHER)
#error "build with -DFUZZ_BUNDLE_INPUT=\"manifest.json\" -DFUZZ_BUNDLE_OTHER=\"answers.csv\" or the reverse"
#endif

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static CuStore *store;

static void
import (const char *path)
{
  g_autoptr(CuFlagImportReport) report = NULL;
  g_autoptr(GError) error = NULL;

  report = cu_flag_bundle_import (store, path, &error);
  if (report != NULL && report->check != NULL)
    store = cu_fuzz_open_workspace (store);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *dir = g_build_filename (cu_fuzz_scratch (), "bundle", NULL);
  g_autofree char *other = g_build_filename (dir, FUZZ_BUNDLE_OTHER, NULL);
  g_autofree char *original = cu_fuzz_bundle_file (FUZZ_BUNDLE_OTHER);
  g_autofree char *input = NULL;

  if (store == NULL)
    store = cu_fuzz_open_workspace (NULL);

  cu_fuzz_copy_file (original, other);
  g_free (cu_fuzz_write_input ("bundle/" FUZZ_BUNDLE_INPUT, data, size));
  import (dir);

  /* answers.csv alone (no manifest beside it): the rows say which bundle it answers. */
  input = cu_fuzz_write_input ("lone/" FUZZ_BUNDLE_INPUT, data, size);
  if (g_str_equal (FUZZ_BUNDLE_INPUT, "answers.csv"))
    import (input);
  return 0;
}

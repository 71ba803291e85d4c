// SPDX-License-Identifier: GPL-3.0-or-later
// tests/test-cplusplus.cc — the public C headers must compile as C++ (the GDCM shim and,
// later, the VTK shim include them).
#include "curation.h"

int
main ()
{
  CuVolume *v = cu_volume_new (2, 2, 2, 1, TRUE, nullptr);
  int ok = v != nullptr && v->dims[0] == 2;
  cu_volume_unref (v);
  return ok ? 0 : 1;
}

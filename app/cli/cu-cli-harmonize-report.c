/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-cli-harmonize-report.c — curata-cli harmonize --report: the site effect before and after
 * harmonization.
 */
#include "config.h"

#include <stdio.h>
#include <glib/gi18n-lib.h>

#include "cu-cli.h"

int
cu_cli_harmonize_report (CuCli *cli, int argc, char **argv)
{
  cu_cli_error (NULL, _("The harmonization report is not available yet."));
  return CU_CLI_EXIT_ERROR;
}

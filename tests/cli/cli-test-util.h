/* SPDX-License-Identifier: GPL-3.0-or-later
 * cli-test-util.h — running curata-cli from tests and reading its JSON.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The curata-cli under test: the first non-option argument of the test program. */
extern const char *cli_test_program;

/* Run curata-cli with the NULL-terminated arguments; returns its exit status and, if
 * asked, its stdout and stderr. */
int        cli_run        (char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
/* Parse JSON text; fails the test on invalid JSON. */
JsonNode  *cli_parse_json (const char *text);
/* Remove a folder tree created by a test. */
void       cli_remove_tree (const char *path);
/* $CU_SHARED_DICOM, canonical (no "..": the catalog stores canonical paths). */
char      *cli_shared_dicom (void);

/* Compile de_DE.UTF-8 (decimal comma) into dir with localedef, from the Debian package
 * "locales", so that a test can run curata-cli with LOCPATH=dir LC_ALL=de_DE.UTF-8 without
 * touching the system. Fails the test when it cannot. */
void       cli_make_german_locale (const char *dir);

G_END_DECLS

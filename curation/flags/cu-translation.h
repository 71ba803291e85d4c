/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-translation.h — Curata's message catalogue in a language chosen at run time, not the
 * process locale: a site report is written in the site's language, whatever the curator's.
 *
 * Reads the compiled catalogue (curata.mo) of that language from the locale folder
 * (CURATA_LOCALEDIR when set, for running from the build tree; else the installed one).
 * Lookups are thread-safe and never fail: a string without a translation is returned as
 * given, which is how a project's own rule without a translation stays in English.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CuTranslation CuTranslation;

/* lang: "es", "es_ES", "es_ES.UTF-8"…; NULL, "", "C", "POSIX" or "en*" give English (no
 * catalogue). A language without a catalogue is English too, and
 * cu_translation_get_language then says "en". Never NULL. */
CuTranslation *cu_translation_new          (const char *lang);
void           cu_translation_free         (CuTranslation *self);
/* The language really used: the catalogue's ("es", "es_ES") or "en". */
const char    *cu_translation_get_language (CuTranslation *self);
/* msgid translated in context (NULL: none), or msgid itself. */
const char    *cu_translation_get          (CuTranslation *self, const char *context,
                                            const char *msgid) G_GNUC_FORMAT (3);
/* The languages that have a catalogue in the locale folder, sorted, "en" first. */
GStrv          cu_translation_languages    (void);
/* The curator's language (from the process locale), e.g. "es" or "en". */
char          *cu_translation_default_language (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CuTranslation, cu_translation_free)

G_END_DECLS

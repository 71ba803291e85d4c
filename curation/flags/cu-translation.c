/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-translation.c — a GNU .mo catalogue read into a hash table.
 *
 * Format: GNU gettext manual, "The Format of GNU MO Files": a header of 32-bit words
 * (magic 0x950412de in the file's byte order, revision, number of strings N, offset of the
 * original strings' table, offset of the translations' table), each table N pairs of
 * (length, offset). An original with a context is "context\004msgid"; a translation with
 * plural forms holds them NUL-separated (the first is used: the report has no plurals).
 * gettext itself cannot be used here: it follows the process locale, and switching that
 * per report would not be thread-safe (the GUI writes bundles in a worker thread).
 */
#include "config.h"

#include <locale.h>
#include <string.h>

#include "cu-translation.h"

struct _CuTranslation
{
  char *language;
  GHashTable *strings;   /* original → translation, both borrowed from data */
  GBytes *data;
};

static const char *
locale_dir (void)
{
  const char *dir = g_getenv ("CURATA_LOCALEDIR");
  return dir != NULL && dir[0] != '\0' ? dir : LOCALEDIR;
}

static guint32
word (const guint8 *data, gsize offset, gboolean swap)
{
  guint32 w;

  memcpy (&w, data + offset, 4);
  return swap ? GUINT32_SWAP_LE_BE (w) : w;
}

/* Parse the catalogue; FALSE when it is not one (then nothing is kept). */
static gboolean
parse_mo (CuTranslation *self, GBytes *bytes)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint32 magic, n, orig, trans;
  gboolean swap;

  if (size < 28)
    return FALSE;
  memcpy (&magic, data, 4);
  if (magic == 0x950412de)
    swap = FALSE;
  else if (GUINT32_SWAP_LE_BE (magic) == 0x950412de)
    swap = TRUE;
  else
    return FALSE;
  n = word (data, 8, swap);
  orig = word (data, 12, swap);
  trans = word (data, 16, swap);
  if ((guint64) orig + 8 * (guint64) n > size || (guint64) trans + 8 * (guint64) n > size)
    return FALSE;

  for (guint32 i = 0; i < n; i++)
    {
      guint32 ol = word (data, orig + 8 * i, swap), oo = word (data, orig + 8 * i + 4, swap);
      guint32 tl = word (data, trans + 8 * i, swap), to = word (data, trans + 8 * i + 4, swap);

      /* Each string is NUL-terminated in the file; anything else is a corrupt catalogue. */
      if ((guint64) oo + ol >= size || (guint64) to + tl >= size || data[oo + ol] != '\0'
          || data[to + tl] != '\0')
        return FALSE;
      if (ol == 0 || tl == 0)
        continue;   /* the header entry, or an empty translation */
      g_hash_table_insert (self->strings, (gpointer) (data + oo), (gpointer) (data + to));
    }
  self->data = g_bytes_ref (bytes);
  return TRUE;
}

static GBytes *
read_catalogue (const char *lang)
{
  g_autofree char *path = g_build_filename (locale_dir (), lang, "LC_MESSAGES",
                                            GETTEXT_PACKAGE ".mo", NULL);
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return NULL;
  return g_bytes_new_take (contents, length);
}

static gboolean
is_english (const char *lang)
{
  return lang == NULL || lang[0] == '\0' || strcmp (lang, "C") == 0 || strcmp (lang, "POSIX") == 0
         || g_str_has_prefix (lang, "C.") || g_ascii_strncasecmp (lang, "en", 2) == 0;
}

CuTranslation *
cu_translation_new (const char *lang)
{
  CuTranslation *self = g_new0 (CuTranslation, 1);
  g_autofree char *base = NULL;
  char *cut;

  self->strings = g_hash_table_new (g_str_hash, g_str_equal);
  if (!is_english (lang))
    {
      /* "es_ES.UTF-8@euro" → try "es_ES", then "es". */
      base = g_strdup (lang);
      if ((cut = strpbrk (base, ".@")) != NULL)
        *cut = '\0';
      for (int attempt = 0; attempt < 2 && self->language == NULL; attempt++)
        {
          g_autoptr(GBytes) bytes = NULL;

          if (attempt == 1)
            {
              if ((cut = strchr (base, '_')) == NULL)
                break;
              *cut = '\0';
            }
          bytes = read_catalogue (base);
          if (bytes != NULL && parse_mo (self, bytes))
            self->language = g_strdup (base);
          else
            g_hash_table_remove_all (self->strings);
        }
    }
  if (self->language == NULL)
    self->language = g_strdup ("en");
  return self;
}

void
cu_translation_free (CuTranslation *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->strings);
  g_clear_pointer (&self->data, g_bytes_unref);
  g_free (self->language);
  g_free (self);
}

const char *
cu_translation_get_language (CuTranslation *self)
{
  return self->language;
}

const char *
cu_translation_get (CuTranslation *self, const char *context, const char *msgid)
{
  const char *found;

  if (msgid == NULL || msgid[0] == '\0')
    return msgid;
  if (context != NULL)
    {
      g_autofree char *key = g_strconcat (context, "\004", msgid, NULL);
      found = g_hash_table_lookup (self->strings, key);
    }
  else
    found = g_hash_table_lookup (self->strings, msgid);
  return found != NULL ? found : msgid;
}

static int
compare_langs (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
}

GStrv
cu_translation_languages (void)
{
  g_autoptr(GPtrArray) langs = g_ptr_array_new ();
  g_autoptr(GDir) dir = g_dir_open (locale_dir (), 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *mo = g_build_filename (locale_dir (), name, "LC_MESSAGES",
                                              GETTEXT_PACKAGE ".mo", NULL);
      if (!is_english (name) && g_file_test (mo, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (langs, g_strdup (name));
    }
  g_ptr_array_sort (langs, compare_langs);
  g_ptr_array_insert (langs, 0, g_strdup ("en"));
  g_ptr_array_add (langs, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&langs), FALSE);
}

char *
cu_translation_default_language (void)
{
  const char *const *names = g_get_language_names ();
  char *cut;
  char *lang;

  if (names == NULL || names[0] == NULL || is_english (names[0]))
    return g_strdup ("en");
  lang = g_strdup (names[0]);
  if ((cut = strpbrk (lang, ".@")) != NULL)
    *cut = '\0';
  return lang;
}

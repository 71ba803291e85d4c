/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-writer.c — DICOM Part 10 writer, Explicit VR Little Endian.
 *
 * Method: DICOM PS3.10 §7 (file format: 128-byte preamble, "DICM", File Meta Information
 * group 0002 always in Explicit VR Little Endian with its group length), PS3.5 §7.1.2 (data
 * element encoding: 2-byte length for most VRs, 2 reserved bytes + 4-byte length for OB, OD, OF,
 * OL, OV, OW, SQ, SV, UC, UN, UR, UT, UV), §6.2 (value lengths are even: UI padded with NUL,
 * other text with a space, OB with NUL), §7.5 (sequences; we write defined lengths, which every
 * reader accepts and which makes files byte-for-byte reproducible), §9.1 (UID syntax) and
 * ISO/IEC 9834-8 / RFC 4122 for the 2.25 UUID-derived UIDs.
 *
 * Pure C on purpose: writing is simple, and keeping it out of GDCM means derived series can be
 * produced by code that is easy to audit byte by byte.
 */
#include "config.h"

#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "cu-dicom-writer.h"

typedef struct
{
  guint32 tag;
  char vr[3];
  GBytes *value;        /* raw, unpadded value (text or binary), NULL for SQ */
  GPtrArray *items;     /* of CuDicomDataset*, for SQ only */
} Element;

struct _CuDicomDataset
{
  GArray *elements;     /* of Element, in insertion order; sorted when serialised */
  GError *error;        /* first error met while adding, reported at serialisation */
};

/* VRs whose length field is 4 bytes after 2 reserved bytes (PS3.5 Table 7.1-1). */
static const char *const long_vrs[] = { "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV",
                                        "UC", "UN", "UR", "UT", "UV", NULL };

typedef struct
{
  const char *vr;
  guint max_len;        /* maximum length of one value in bytes, 0 = no per-value limit */
  gboolean multi;       /* may hold several backslash-separated values */
} TextVr;

static const TextVr text_vrs[] = {
  { "AE", 16, TRUE },  { "AS", 4, TRUE },    { "CS", 16, TRUE }, { "DA", 8, TRUE },
  { "DS", 16, TRUE },  { "DT", 26, TRUE },   { "IS", 12, TRUE }, { "LO", 64, TRUE },
  { "LT", 10240, FALSE }, { "PN", 64 * 3 + 2, TRUE }, { "SH", 16, TRUE }, { "ST", 1024, FALSE },
  { "TM", 14, TRUE },  { "UC", 0, TRUE },    { "UI", 64, TRUE }, { "UR", 0, FALSE },
  { "UT", 0, FALSE },
};

static gboolean
vr_is_long (const char *vr)
{
  for (guint i = 0; long_vrs[i] != NULL; i++)
    if (strcmp (long_vrs[i], vr) == 0)
      return TRUE;
  return FALSE;
}

static const TextVr *
find_text_vr (const char *vr)
{
  for (guint i = 0; i < G_N_ELEMENTS (text_vrs); i++)
    if (strcmp (text_vrs[i].vr, vr) == 0)
      return &text_vrs[i];
  return NULL;
}

static void
element_clear (gpointer data)
{
  Element *e = data;

  g_clear_pointer (&e->value, g_bytes_unref);
  g_clear_pointer (&e->items, g_ptr_array_unref);
}

CuDicomDataset *
cu_dicom_dataset_new (void)
{
  CuDicomDataset *self = g_new0 (CuDicomDataset, 1);

  self->elements = g_array_new (FALSE, TRUE, sizeof (Element));
  g_array_set_clear_func (self->elements, element_clear);
  return self;
}

void
cu_dicom_dataset_free (CuDicomDataset *self)
{
  if (self == NULL)
    return;
  g_array_unref (self->elements);
  g_clear_error (&self->error);
  g_free (self);
}

static void G_GNUC_PRINTF (3, 4)
remember_error (CuDicomDataset *self, guint32 tag, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  if (self->error != NULL)
    return;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  /* TRANSLATORS: (%04X,%04X) is a DICOM tag such as (0020,0032); the last %s says what is wrong. */
  self->error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("DICOM element (%04X,%04X): %s"),
                             tag >> 16, tag & 0xFFFF, message);
}

static gboolean
check_tag (CuDicomDataset *self, guint32 tag)
{
  /* The meta group is written by the writer itself, and item/delimitation tags are structure. */
  if ((tag >> 16) == 0x0002 || (tag >> 16) == 0xFFFE)
    {
      remember_error (self, tag, "%s", _("this group cannot be added to a dataset"));
      return FALSE;
    }
  for (guint i = 0; i < self->elements->len; i++)
    if (g_array_index (self->elements, Element, i).tag == tag)
      {
        remember_error (self, tag, "%s", _("added twice"));
        return FALSE;
      }
  return TRUE;
}

static void
append (CuDicomDataset *self, guint32 tag, const char *vr, GBytes *value, GPtrArray *items)
{
  Element e = { 0 };

  e.tag = tag;
  memcpy (e.vr, vr, 2);
  e.value = value;
  e.items = items;
  g_array_append_val (self->elements, e);
}

static gboolean
uid_is_valid (const char *uid, gsize len)
{
  gboolean component_start = TRUE;

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = uid[i];
      if (c == '.')
        {
          if (component_start)
            return FALSE;          /* empty component */
          component_start = TRUE;
        }
      else if (g_ascii_isdigit (c))
        {
          /* PS3.5 §9.1: no leading zero in a component, except the component "0" itself. */
          if (component_start && c == '0' && i + 1 < len && uid[i + 1] != '.')
            return FALSE;
          component_start = FALSE;
        }
      else
        return FALSE;
    }
  return !component_start;
}

static gboolean
check_text_value (CuDicomDataset *self, guint32 tag, const TextVr *tv, const char *value)
{
  g_auto (GStrv) values = NULL;

  if (!tv->multi)
    {
      if (tv->max_len > 0 && strlen (value) > tv->max_len)
        {
          remember_error (self, tag, _("value longer than %u characters"), tv->max_len);
          return FALSE;
        }
      return TRUE;
    }

  values = g_strsplit (value, "\\", -1);
  for (guint i = 0; values[i] != NULL; i++)
    {
      const char *v = values[i];
      gsize len = strlen (v);

      if (tv->max_len > 0 && len > tv->max_len)
        {
          remember_error (self, tag, _("value “%s” longer than %u characters for VR %s"), v,
                          tv->max_len, tv->vr);
          return FALSE;
        }
      if (strcmp (tv->vr, "UI") == 0 && !uid_is_valid (v, len))
        {
          remember_error (self, tag, _("“%s” is not a valid UID"), v);
          return FALSE;
        }
      if (strcmp (tv->vr, "CS") == 0)
        for (gsize k = 0; k < len; k++)
          if (!(g_ascii_isupper (v[k]) || g_ascii_isdigit (v[k]) || v[k] == ' ' || v[k] == '_'))
            {
              remember_error (self, tag, _("“%s” is not a valid code string"), v);
              return FALSE;
            }
      if ((strcmp (tv->vr, "DS") == 0 || strcmp (tv->vr, "IS") == 0) && len > 0)
        for (gsize k = 0; k < len; k++)
          if (!(g_ascii_isdigit (v[k]) || strchr ("+-.eE ", v[k]) != NULL)
              || (strcmp (tv->vr, "IS") == 0 && strchr (".eE", v[k]) != NULL))
            {
              remember_error (self, tag, _("“%s” is not a valid number for VR %s"), v, tv->vr);
              return FALSE;
            }
    }
  return TRUE;
}

void
cu_dicom_dataset_add_string (CuDicomDataset *self, guint32 tag, const char *vr, const char *value)
{
  const TextVr *tv;

  g_return_if_fail (self != NULL);
  g_return_if_fail (vr != NULL && strlen (vr) == 2);

  if (value == NULL)
    value = "";
  tv = find_text_vr (vr);
  if (tv == NULL)
    {
      remember_error (self, tag, _("%s is not a text VR"), vr);
      return;
    }
  if (!g_utf8_validate (value, -1, NULL))
    {
      remember_error (self, tag, "%s", _("value is not valid UTF-8"));
      return;
    }
  if (!check_tag (self, tag) || (value[0] != '\0' && !check_text_value (self, tag, tv, value)))
    return;
  append (self, tag, vr, g_bytes_new (value, strlen (value)), NULL);
}

void
cu_dicom_dataset_add_printf (CuDicomDataset *self, guint32 tag, const char *vr, const char *format, ...)
{
  va_list args;
  g_autofree char *value = NULL;

  va_start (args, format);
  value = g_strdup_vprintf (format, args);
  va_end (args);
  cu_dicom_dataset_add_string (self, tag, vr, value);
}

/* Shortest representation of v in at most 16 characters (PS3.5 DS), locale-independent. */
static gboolean
format_ds (double v, char out[G_ASCII_DTOSTR_BUF_SIZE])
{
  if (!isfinite (v))
    return FALSE;
  for (int precision = 12; precision >= 1; precision--)
    {
      char format[8];
      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (out, G_ASCII_DTOSTR_BUF_SIZE, format, v);
      if (strlen (out) <= 16)
        return TRUE;
    }
  return FALSE;
}

void
cu_dicom_dataset_add_ds (CuDicomDataset *self, guint32 tag, const double *values, guint n_values)
{
  g_autoptr (GString) s = g_string_new (NULL);

  g_return_if_fail (self != NULL);
  for (guint i = 0; i < n_values; i++)
    {
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      if (!format_ds (values[i], buf))
        {
          remember_error (self, tag, "%s", _("number cannot be written as a decimal string"));
          return;
        }
      if (i > 0)
        g_string_append_c (s, '\\');
      g_string_append (s, buf);
    }
  cu_dicom_dataset_add_string (self, tag, "DS", s->str);
}

void
cu_dicom_dataset_add_us (CuDicomDataset *self, guint32 tag, guint16 value)
{
  guint16 le = GUINT16_TO_LE (value);

  g_return_if_fail (self != NULL);
  if (check_tag (self, tag))
    append (self, tag, "US", g_bytes_new (&le, sizeof le), NULL);
}

void
cu_dicom_dataset_add_ul (CuDicomDataset *self, guint32 tag, guint32 value)
{
  guint32 le = GUINT32_TO_LE (value);

  g_return_if_fail (self != NULL);
  if (check_tag (self, tag))
    append (self, tag, "UL", g_bytes_new (&le, sizeof le), NULL);
}

void
cu_dicom_dataset_add_fd (CuDicomDataset *self, guint32 tag, double value)
{
  guint64 bits;

  g_return_if_fail (self != NULL);
  G_STATIC_ASSERT (sizeof bits == sizeof value);
  memcpy (&bits, &value, sizeof bits);
  bits = GUINT64_TO_LE (bits);
  if (check_tag (self, tag))
    append (self, tag, "FD", g_bytes_new (&bits, sizeof bits), NULL);
}

void
cu_dicom_dataset_add_bytes (CuDicomDataset *self, guint32 tag, const char *vr, const void *data,
                            gsize length)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (vr != NULL && strlen (vr) == 2);
  g_return_if_fail (data != NULL || length == 0);

  if (find_text_vr (vr) != NULL || strcmp (vr, "SQ") == 0)
    {
      remember_error (self, tag, _("%s is not a binary VR"), vr);
      return;
    }
  if (length > G_MAXUINT32 - 1)
    {
      remember_error (self, tag, "%s", _("value too large"));
      return;
    }
  if (check_tag (self, tag))
    append (self, tag, vr, g_bytes_new (data, length), NULL);
}

void
cu_dicom_dataset_add_sequence (CuDicomDataset *self, guint32 tag, CuDicomDataset **items, guint n_items)
{
  GPtrArray *array = g_ptr_array_new_with_free_func ((GDestroyNotify) cu_dicom_dataset_free);

  for (guint i = 0; i < n_items; i++)
    g_ptr_array_add (array, items[i]);
  if (self == NULL || !check_tag (self, tag))
    {
      g_ptr_array_unref (array);
      return;
    }
  append (self, tag, "SQ", NULL, array);
}

/* ---- serialisation ---- */

static void
put_u16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v & 0xFF, v >> 8 };
  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF, v >> 24 };
  g_byte_array_append (out, b, 4);
}

static void
put_header (GByteArray *out, guint32 tag, const char *vr, guint32 length)
{
  put_u16 (out, tag >> 16);
  put_u16 (out, tag & 0xFFFF);
  g_byte_array_append (out, (const guint8 *) vr, 2);
  if (vr_is_long (vr))
    {
      put_u16 (out, 0);
      put_u32 (out, length);
    }
  else
    put_u16 (out, (guint16) length);
}

static int
compare_elements (gconstpointer a, gconstpointer b)
{
  guint32 ta = ((const Element *) a)->tag, tb = ((const Element *) b)->tag;
  return ta < tb ? -1 : ta > tb;
}

static gboolean serialize_dataset (CuDicomDataset *self, GByteArray *out, GError **error);

static gboolean
serialize_element (const Element *e, GByteArray *out, GError **error)
{
  if (e->items != NULL)
    {
      g_autoptr (GByteArray) body = g_byte_array_new ();

      for (guint i = 0; i < e->items->len; i++)
        {
          g_autoptr (GByteArray) item = g_byte_array_new ();
          if (!serialize_dataset (g_ptr_array_index (e->items, i), item, error))
            return FALSE;
          put_u16 (body, 0xFFFE);
          put_u16 (body, 0xE000);
          put_u32 (body, item->len);
          g_byte_array_append (body, item->data, item->len);
        }
      put_header (out, e->tag, "SQ", body->len);
      g_byte_array_append (out, body->data, body->len);
      return TRUE;
    }
  else
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (e->value, &len);
      gsize padded = len + (len & 1);

      if (!vr_is_long (e->vr) && padded > 0xFFFE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("DICOM element (%04X,%04X): value of %lu bytes too long for VR %s"),
                       e->tag >> 16, e->tag & 0xFFFF, (unsigned long) len, e->vr);
          return FALSE;
        }
      put_header (out, e->tag, e->vr, (guint32) padded);
      if (len > 0)
        g_byte_array_append (out, data, len);
      if (padded != len)
        {
          /* PS3.5 §6.2: UI and binary VRs pad with NUL, text with a space. */
          guint8 pad = (find_text_vr (e->vr) != NULL && strcmp (e->vr, "UI") != 0) ? ' ' : '\0';
          g_byte_array_append (out, &pad, 1);
        }
      return TRUE;
    }
}

static gboolean
serialize_dataset (CuDicomDataset *self, GByteArray *out, GError **error)
{
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return FALSE;
    }
  /* Data elements must appear in ascending tag order (PS3.5 §7.1). */
  g_array_sort (self->elements, compare_elements);
  for (guint i = 0; i < self->elements->len; i++)
    if (!serialize_element (&g_array_index (self->elements, Element, i), out, error))
      return FALSE;
  return TRUE;
}

static char *
dup_text_value (CuDicomDataset *self, guint32 tag)
{
  for (guint i = 0; i < self->elements->len; i++)
    {
      const Element *e = &g_array_index (self->elements, Element, i);
      if (e->tag == tag && e->value != NULL)
        {
          gsize len = 0;
          const char *data = g_bytes_get_data (e->value, &len);
          return len > 0 ? g_strndup (data, len) : NULL;
        }
    }
  return NULL;
}

GBytes *
cu_dicom_dataset_serialize (CuDicomDataset *self, GError **error)
{
  static const guint8 version[2] = { 0x00, 0x01 };
  g_autoptr (GByteArray) out = NULL;
  g_autoptr (GByteArray) meta = NULL;
  g_autoptr (CuDicomDataset) meta_ds = NULL;
  g_autofree char *sop_class = NULL;
  g_autofree char *sop_instance = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }
  sop_class = dup_text_value (self, CU_DICOM_TAG (0x0008, 0x0016));
  sop_instance = dup_text_value (self, CU_DICOM_TAG (0x0008, 0x0018));
  if (sop_class == NULL || sop_instance == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("Cannot write a DICOM file without SOP Class UID and SOP Instance UID"));
      return NULL;
    }

  /* File Meta Information (PS3.10 §7.1). Its elements are in group 0002, which the public
   * add functions refuse, so build it by hand from a private dataset. */
  meta_ds = cu_dicom_dataset_new ();
  append (meta_ds, CU_DICOM_TAG (0x0002, 0x0001), "OB", g_bytes_new_static (version, 2), NULL);
  append (meta_ds, CU_DICOM_TAG (0x0002, 0x0002), "UI", g_bytes_new (sop_class, strlen (sop_class)), NULL);
  append (meta_ds, CU_DICOM_TAG (0x0002, 0x0003), "UI",
          g_bytes_new (sop_instance, strlen (sop_instance)), NULL);
  append (meta_ds, CU_DICOM_TAG (0x0002, 0x0010), "UI",
          g_bytes_new_static (CU_DICOM_TS_EXPLICIT_LE, strlen (CU_DICOM_TS_EXPLICIT_LE)), NULL);
  append (meta_ds, CU_DICOM_TAG (0x0002, 0x0012), "UI",
          g_bytes_new_static (cu_dicom_implementation_uid (), strlen (cu_dicom_implementation_uid ())), NULL);
  {
    g_autofree char *name = g_strdup_printf ("CURATA_%s", PACKAGE_VERSION);
    if (strlen (name) > 16)
      name[16] = '\0';
    append (meta_ds, CU_DICOM_TAG (0x0002, 0x0013), "SH", g_bytes_new (name, strlen (name)), NULL);
  }
  meta = g_byte_array_new ();
  if (!serialize_dataset (meta_ds, meta, error))
    return NULL;

  out = g_byte_array_sized_new (132 + 12 + meta->len + 4096);
  {
    guint8 preamble[128] = { 0 };
    g_byte_array_append (out, preamble, sizeof preamble);
    g_byte_array_append (out, (const guint8 *) "DICM", 4);
  }
  put_header (out, CU_DICOM_TAG (0x0002, 0x0000), "UL", 4);
  put_u32 (out, meta->len);
  g_byte_array_append (out, meta->data, meta->len);

  if (!serialize_dataset (self, out, error))
    return NULL;

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

gboolean
cu_dicom_dataset_write_file (CuDicomDataset *self, const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  const char *data;
  gsize len = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  bytes = cu_dicom_dataset_serialize (self, error);
  if (bytes == NULL)
    return FALSE;
  data = g_bytes_get_data (bytes, &len);
  /* g_file_set_contents writes a temporary file and renames it over path, so a reader or a
   * crash never sees half a file. */
  return g_file_set_contents (path, data, (gssize) len, error);
}

/* ---- UIDs ---- */

/* 16 bytes, big-endian, as one decimal integer (at most 39 digits). */
static char *
uuid_bytes_to_uid (const guint8 bytes[16])
{
  guint8 n[16];
  char digits[48];
  int nd = 0;
  gboolean zero;

  memcpy (n, bytes, 16);
  do
    {
      guint rem = 0;
      zero = TRUE;
      for (int i = 0; i < 16; i++)
        {
          guint cur = (rem << 8) | n[i];
          n[i] = (guint8) (cur / 10);
          rem = cur % 10;
          if (n[i] != 0)
            zero = FALSE;
        }
      digits[nd++] = (char) ('0' + rem);
    }
  while (!zero);

  {
    GString *s = g_string_new ("2.25.");
    while (nd > 0)
      g_string_append_c (s, digits[--nd]);
    return g_string_free (s, FALSE);
  }
}

char *
cu_dicom_uid_from_uuid (const char *uuid)
{
  guint8 bytes[16];
  int k = 0;

  g_return_val_if_fail (uuid != NULL, NULL);
  if (!g_uuid_string_is_valid (uuid))
    return NULL;
  for (const char *p = uuid; *p != '\0' && k < 32; p++)
    {
      if (*p == '-')
        continue;
      if (k % 2 == 0)
        bytes[k / 2] = (guint8) (g_ascii_xdigit_value (*p) << 4);
      else
        bytes[k / 2] |= (guint8) g_ascii_xdigit_value (*p);
      k++;
    }
  return uuid_bytes_to_uid (bytes);
}

char *
cu_dicom_uid_new (void)
{
  g_autofree char *uuid = g_uuid_string_random ();

  return cu_dicom_uid_from_uuid (uuid);
}

char *
cu_dicom_uid_from_name (const char *name)
{
  /* Curata's own namespace UUID for name-based UIDs (fixed once; never change it, or
   * reproducible UIDs change). */
  static const guint8 ns[16] = { 0x6f, 0x1c, 0x3a, 0x52, 0x9d, 0x0e, 0x4b, 0x7a,
                                 0x8c, 0x21, 0x5e, 0x43, 0x19, 0xa7, 0xd0, 0x5b };
  g_autoptr (GChecksum) sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize digest_len = sizeof digest;

  g_return_val_if_fail (name != NULL, NULL);

  g_checksum_update (sha1, ns, sizeof ns);
  g_checksum_update (sha1, (const guchar *) name, strlen (name));
  g_checksum_get_digest (sha1, digest, &digest_len);
  digest[6] = (guint8) ((digest[6] & 0x0F) | 0x50);  /* version 5 */
  digest[8] = (guint8) ((digest[8] & 0x3F) | 0x80);  /* RFC 4122 variant */
  return uuid_bytes_to_uid (digest);
}

const char *
cu_dicom_implementation_uid (void)
{
  static char *uid = NULL;

  if (g_once_init_enter (&uid))
    g_once_init_leave (&uid, cu_dicom_uid_from_name ("io.github.curata.Curata/implementation-class"));
  return uid;
}

/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-deid-check.c — does a file meet the pseudonymization profile? (cu-deid-check.h)
 *
 * Method: every data element, at any depth, is looked up in DICOM PS3.15 Table E.1-1 under the
 * configured options (cu-deid-profile.c) and its value judged against the action (E.1.1):
 *   X      present → finding (a removed sequence's contents are not reported again); an
 *          empty or placeholder value is only information, as it identifies nobody;
 *   Z, D, Z/D, X/Z, X/D, X/Z/D
 *          a value that is neither empty nor a dummy → finding;
 *   U, X/Z/U*
 *          a UID under a known equipment-vendor root → finding (without Retain UIDs, an
 *          original UID made by the modality should have been replaced);
 *   C      free text scanned for residual identifiers (below);
 *   K, not in the table
 *          kept; long free text (LT, ST, UT, UC) not in the table is scanned as well.
 * Private attributes (odd groups) are judged against Curata's list of known-safe private
 * attributes (data/deid_safe_private.tsv, PS3.15 E.3.10: by creator, group and element in the
 * block): a listed attribute passes when Retain Safe Private is applied and is a WARNING
 * otherwise (the Basic Profile removes it, but it carries no identity); an unlisted one is an
 * ERROR unless Retain Safe Private is applied (then a WARNING: the de-identifier judged it
 * safe, Curata cannot tell). Curves (50xx) and overlay data/comments (60xx,3000/4000) follow
 * their rows (X unless Clean Graphics).
 *
 * Severity says how likely a finding is to identify the patient, not only whether the file
 * conforms to the workspace's options. Three things the file itself says lower a profile
 * ERROR once the whole file is read (the markers come after most attributes in tag order):
 *   - a value a de-identifier generated in place of the original (a decimal hash of 16 or
 *     more digits, as CTP writes it, or a hexadecimal digest) in a Z/D-type attribute of a file
 *     whose Patient Identity Removed is YES is INFO: Z and D allow a replaced value, and such a
 *     value cannot be the original (TCIA's hashed AccessionNumber, the refaced GE T1's hashed
 *     InstitutionName, StationName and DeviceSerialNumber);
 *   - an attribute that an option the file declares it applied (CID 7050 codes in (0012,0064),
 *     or in De-identification Method text such as CTP's "DCM:113100/…/113109") would keep is a
 *     WARNING: the site applied that option on purpose, PS3.15 allows it, and the workspace
 *     did not ask for it (TCIA's StationName under Retain Device Identity). The curator sees
 *     it; it does not quarantine. A declared Retain Safe Private likewise lowers unlisted
 *     private attributes to WARNING and listed ones to INFO;
 *   - nothing else: an attribute no option allows (a Requested Procedure ID left inside the
 *     Request Attributes Sequence) stays an ERROR, marker or not. Then the residual-PHI scan beyond the table: Patient Identity Removed (0012,0062)
 * must be YES, De-identification Method (0012,0063) or its code sequence (0012,0064) should be
 * present, Burned In Annotation (0028,0301) YES means the pixels may carry identifiers, and the
 * site's pseudonym pattern applies to PatientID and PatientName.
 *
 * What counts as a dummy value: the empty value; a value matching the site's pseudonym pattern;
 * one of the placeholder words anonymizers write (ANONYMOUS, ANONYMIZED, REMOVED, UNKNOWN,
 * DUMMY, …, case-insensitive), alone or starting a statement of removal ("Removed by CTP");
 * a value made only of placeholder characters (0, X, *, #, -, ^, ., :, / and spaces — "0",
 * "XXXX", "^", "000000"); the placeholder dates 19000101 and 00010101; for person names, a
 * numbered role label ("User2", "Reader 1") and the name of the equipment or software maker
 * (Manufacturer, Manufacturer's Model Name), which name no person. Without a pseudonym pattern a real-looking PatientID is therefore reported: the
 * check cannot tell a pseudonym from an original identifier unless the site says what its
 * pseudonyms look like.
 *
 * Known vendor UID roots (organisation arcs as registered in the ISO/ITU OID tree — see the
 * OID repository, oid-info.com — and seen in those vendors' files of the test corpus):
 * 1.2.840.113619 GE Healthcare, 1.3.12.2.1107.5 Siemens, 1.3.46.670589 Philips Medical Systems,
 * 1.2.840.113704 Philips (former Picker/Marconi CT), 1.2.392.200036.9116 Toshiba / Canon
 * Medical Systems, 1.2.246.352 Varian Medical Systems. Roots of software toolkits (DCMTK,
 * pydicom, GDCM, 2.25 UUID UIDs) are what de-identification tools generate, so they are not
 * listed.
 *
 * Free-text scan (GRegex, case-insensitive where it makes sense): person names written the DICOM
 * way (Family^Given, in LT/ST/UT/UC only: Siemens writes descriptions as "Region^Exam") or after
 * a title (Dr., Mr., Mrs., Ms., Prof.); dates of birth (d/m/y or
 * y-m-d calendar dates in text, or DOB / born followed by digits); phone numbers (groups of
 * digits with separators, 9+ digits, optional +country code); e-mail addresses; street
 * addresses (house number + street word) and postcodes (UK format, US state + ZIP) as warnings;
 * identifiers (MRN/ID labels followed by digits, runs of 7+ digits).
 *
 * A finding never carries the value: only its length and, for values of five characters or
 * more, the first and last character ("present, 8 characters: 1******9").
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "cu-deid-check.h"
#include "cu-dicom-walk.h"

typedef enum
{
  PHI_NAME,
  PHI_TITLE_NAME,
  PHI_DATE,
  PHI_PHONE,
  PHI_EMAIL,
  PHI_ADDRESS,
  PHI_POSTCODE,
  PHI_IDENTIFIER,
  N_PHI,
} PhiKind;

static const struct
{
  const char *pattern;
  GRegexCompileFlags flags;
  const char *what;          /* translated at use */
  CuDeidSeverity severity;
} phi_patterns[N_PHI] = {
  [PHI_NAME] = { "\\b[A-Za-z][A-Za-z'-]+\\^[A-Za-z][A-Za-z'-]+", 0,
                 N_("a person name (Family^Given)"), CU_DEID_SEVERITY_ERROR },
  [PHI_TITLE_NAME] = { "\\b(?i:dr|mr|mrs|ms|miss|prof)\\.?\\s+[A-Z][a-z]+", 0,
                       N_("a titled person name"), CU_DEID_SEVERITY_ERROR },
  [PHI_DATE] = { "\\b(?:(?:0?[1-9]|[12][0-9]|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:19|20)[0-9]{2}"
                 "|(?:19|20)[0-9]{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
                 "|(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12][0-9]|3[01])/(?:19|20)[0-9]{2})\\b"
                 "|\\b(?i:dob|d\\.o\\.b\\.|born)\\W{0,3}[0-9]", 0,
                 N_("a date (of birth?)"), CU_DEID_SEVERITY_ERROR },
  [PHI_PHONE] = { "(?:\\+[0-9]{1,3}[\\s.-]?)?(?:\\(?[0-9]{2,4}\\)?[\\s.-]){1,3}[0-9]{3,4}"
                  "[\\s.-]?[0-9]{2,4}\\b", 0,
                  N_("a phone number"), CU_DEID_SEVERITY_ERROR },
  [PHI_EMAIL] = { "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+", 0,
                  N_("an e-mail address"), CU_DEID_SEVERITY_ERROR },
  [PHI_ADDRESS] = { "\\b[0-9]{1,5}[a-z]?,?\\s+(?:[A-Za-z'.-]+\\s+){1,3}(?:street|st\\.|avenue|"
                    "ave\\.?|road|rd\\.|boulevard|blvd|lane|ln\\.|drive|dr\\.|court|place|"
                    "square|way)\\b"
                    "|\\b(?:[A-Za-z]+(?:stra(?:ss|ß)e|weg|gasse|platz)|rue|calle|via|avenida)"
                    "\\s+[A-Za-z0-9]",
                    G_REGEX_CASELESS, N_("a street address"), CU_DEID_SEVERITY_WARNING },
  [PHI_POSTCODE] = { "\\b[A-Z]{1,2}[0-9][A-Z0-9]?\\s+[0-9][A-Z]{2}\\b"
                     "|\\b(?:AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|"
                     "MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|"
                     "WA|WV|WI|WY),?\\s+[0-9]{5}(?:-[0-9]{4})?\\b", 0,
                     N_("a postcode"), CU_DEID_SEVERITY_WARNING },
  [PHI_IDENTIFIER] = { "\\b(?i:mrn|patient\\s*id|pid|nhs|ssn|id\\s*no)\\b\\W{0,3}[A-Z0-9-]*[0-9]"
                       "|(?<![0-9.])[0-9]{7,}(?![0-9.])", 0,
                       N_("an identifier (record number)"), CU_DEID_SEVERITY_ERROR },
};

static const struct
{
  const char *root;
  const char *organisation;
} vendor_roots[] = {
  { "1.2.840.113619.", "GE Healthcare" },
  { "1.3.12.2.1107.5.", "Siemens" },
  { "1.3.46.670589.", "Philips Medical Systems" },
  { "1.2.840.113704.", "Philips (Picker)" },
  { "1.2.392.200036.9116.", "Toshiba / Canon Medical Systems" },
  { "1.2.246.352.", "Varian Medical Systems" },
};

static const char *const placeholder_words[] = {
  "ANONYMOUS", "ANONYMIZED", "ANONYMISED", "ANON", "ANONYMOUS PATIENT", "DEIDENTIFIED",
  "DE-IDENTIFIED", "REMOVED", "REDACTED", "UNKNOWN", "NONE", "N/A", "NA", "DUMMY", "NO NAME",
  "NONAME", "PATIENT", "ANONYMOUS^PATIENT", "19000101", "00010101",
};

/* The profile's concrete tags resolved once for the checker's options, in an open-addressing
 * table (linear probing, Fibonacci hashing): the check looks every element up, and this
 * replaces a GHashTable lookup plus a walk over ten option columns per element. with_bit[b]
 * is the action under the options plus option b, for the "would another option allow it"
 * question a file's declared options raise (apply_reliefs). want: the element must be
 * visited (its action asks for a look at the value, or the residual scan reads it). */
typedef struct
{
  guint32 tag;          /* 0 = empty slot ((0000,0000) is never in the table) */
  guint8 action;
  guint8 want;
  guint8 with_bit[10];
  const char *keyword;
} TagSlot;

struct _CuDeidChecker
{
  const CuDeidProfile *profile;
  CuDeidProfile *own_profile;
  CuDeidOptions options;
  GRegex *pseudonym;
  GRegex *phi[N_PHI];
  TagSlot *slots;
  CuDeidAction private_action;   /* of the private-attribute row under the options */
  char *expected[CU_DEID_ACTION_X_Z_U + 1];   /* expected_text_translated of each action */
  guint slot_shift;     /* 32 − log2 (number of slots) */
  guint slot_mask;
  /* What want can accept (every tag of the table, private and repeating groups, free text),
   * so that a parser process fills in only those elements (cu-dicom-walk.h). */
  guint32 *hint_tags;
  CuDicomWantHint hint;
};

static char *expected_text_translated (CuDeidAction a);

static inline guint
slot_index (const CuDeidChecker *self, guint32 tag)
{
  return (guint) ((tag * 2654435769u) >> self->slot_shift);
}

static const TagSlot *
find_slot (const CuDeidChecker *self, guint32 tag)
{
  for (guint i = slot_index (self, tag);; i = (i + 1) & self->slot_mask)
    {
      const TagSlot *s = &self->slots[i];
      if (s->tag == tag)
        return s;
      if (s->tag == 0)
        return NULL;
    }
}

/* Top-level and code-sequence attributes the residual scan reads whatever their action. */
static const guint32 marker_tags[] = {
  0x00120062, 0x00120063, 0x00120064, 0x00080070, 0x00081090, 0x00280301, 0x00280302,
  0x00100010, 0x00100020, 0x00080100,
};

static int
compare_tags (const void *a, const void *b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static void
build_slots (CuDeidChecker *self)
{
  guint n_rows = cu_deid_profile_get_n_rows (self->profile);
  guint n_slots = 64, bits = 6;

  while (n_slots < 4 * (n_rows + G_N_ELEMENTS (marker_tags)))
    {
      n_slots *= 2;
      bits++;
    }
  self->slots = g_new0 (TagSlot, n_slots);
  self->slot_shift = 32 - bits;
  self->slot_mask = n_slots - 1;
  for (guint r = 0; r < n_rows + G_N_ELEMENTS (marker_tags); r++)
    {
      guint16 group, element;
      if (r < n_rows)
        {
          if (!cu_deid_profile_get_row_tag (self->profile, r, &group, &element))
            continue;
        }
      else
        {
          group = marker_tags[r - n_rows] >> 16;
          element = marker_tags[r - n_rows] & 0xFFFF;
        }
      guint32 tag = (guint32) group << 16 | element;
      guint i = slot_index (self, tag);
      while (self->slots[i].tag != 0 && self->slots[i].tag != tag)
        i = (i + 1) & self->slot_mask;
      TagSlot *s = &self->slots[i];
      if (s->tag == 0)
        {
          s->tag = tag;
          s->action = cu_deid_profile_lookup (self->profile, group, element, self->options,
                                              &s->keyword, NULL);
          for (int b = 0; b < 10; b++)
            s->with_bit[b] = cu_deid_profile_lookup (self->profile, group, element,
                                                     self->options | (1u << b), NULL, NULL);
        }
      s->want = s->want || r >= n_rows
                || (s->action != CU_DEID_ACTION_NONE && s->action != CU_DEID_ACTION_K);
    }

  /* The hint: every tag of the table (a superset of those want accepts), ascending. */
  guint n_tags = 0;
  self->hint_tags = g_new (guint32, n_slots);
  for (guint i = 0; i < n_slots; i++)
    if (self->slots[i].tag != 0)
      self->hint_tags[n_tags++] = self->slots[i].tag;
  qsort (self->hint_tags, n_tags, sizeof (guint32), compare_tags);
  self->hint = (CuDicomWantHint) {
    .tags = self->hint_tags, .n_tags = n_tags, .private_elements = TRUE,
    .repeating_groups = TRUE, .vrs = "LTSTUTUC",   /* vr_is_free_text */
  };
}

/* The action of an element under the checker's options, and its keyword. */
static CuDeidAction
lookup_action (const CuDeidChecker *self, guint16 group, guint16 element, const char **keyword)
{
  if (group & 1)
    {
      *keyword = NULL;     /* a private attribute is named by its creator */
      return self->private_action;
    }
  if ((group & 1) == 0 && !(group >= 0x5000 && group <= 0x501E)
      && !(group >= 0x6000 && group <= 0x601E))
    {
      const TagSlot *s = find_slot (self, (guint32) group << 16 | element);
      *keyword = s != NULL ? s->keyword : NULL;
      return s != NULL ? (CuDeidAction) s->action : CU_DEID_ACTION_NONE;
    }
  return cu_deid_profile_lookup (self->profile, group, element, self->options, keyword, NULL);
}

void
cu_deid_finding_free (CuDeidFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->path);
  g_free (finding->tag_path);
  g_free (finding->keyword);
  g_free (finding->rule);
  g_free (finding->expected);
  g_free (finding->found);
  g_free (finding);
}

void
cu_deid_checker_free (CuDeidChecker *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->pseudonym, g_regex_unref);
  for (int i = 0; i < N_PHI; i++)
    g_clear_pointer (&self->phi[i], g_regex_unref);
  cu_deid_profile_free (self->own_profile);
  g_free (self->slots);
  g_free (self->hint_tags);
  for (guint a = 0; a < G_N_ELEMENTS (self->expected); a++)
    g_free (self->expected[a]);
  g_free (self);
}

CuDeidChecker *
cu_deid_checker_new (const CuDeidProfile *profile, const CuDeidConfig *config, GError **error)
{
  g_autoptr (CuDeidChecker) self = g_new0 (CuDeidChecker, 1);

  if (profile == NULL)
    {
      self->own_profile = cu_deid_profile_new_default (error);
      if (self->own_profile == NULL)
        return NULL;
      profile = self->own_profile;
    }
  self->profile = profile;
  self->options = config != NULL ? config->options : CU_DEID_OPTIONS_SITE_DEFAULT;
  build_slots (self);
  for (guint a = 0; a < G_N_ELEMENTS (self->expected); a++)
    self->expected[a] = expected_text_translated ((CuDeidAction) a);
  self->private_action = cu_deid_profile_lookup (profile, 0x0009, 0x1000, self->options, NULL,
                                                 NULL);
  if (config != NULL && config->pseudonym_pattern != NULL && *config->pseudonym_pattern != '\0')
    {
      g_autoptr (GError) local = NULL;
      self->pseudonym = g_regex_new (config->pseudonym_pattern, G_REGEX_OPTIMIZE, 0, &local);
      if (self->pseudonym == NULL)
        {
          g_set_error (error, CU_DEID_ERROR, CU_DEID_ERROR_PATTERN,
                       _("The pseudonym pattern “%s” is not a valid regular expression: %s"),
                       config->pseudonym_pattern, local->message);
          return NULL;
        }
    }
  for (int i = 0; i < N_PHI; i++)
    {
      self->phi[i] = g_regex_new (phi_patterns[i].pattern,
                                  phi_patterns[i].flags | G_REGEX_OPTIMIZE, 0, error);
      if (self->phi[i] == NULL)
        return NULL;
    }
  return g_steal_pointer (&self);
}

/* ---- Masking ------------------------------------------------------------------------------ */

/* "present, 8 characters: 1******9" — never the value. Short values show no character. */
/* The translated "present, %ld characters: %s" for n: looked up once per process for the
 * lengths that occur nearly always (the locale does not change while Curata runs). */
static const char *
mask_format (glong n)
{
  static const char *formats[128];
  static gsize ready = 0;

  if (g_once_init_enter (&ready))
    {
      for (glong i = 0; i < (glong) G_N_ELEMENTS (formats); i++)
        formats[i] = g_dngettext (GETTEXT_PACKAGE, "present, %ld character: %s",
                                  "present, %ld characters: %s", i);
      g_once_init_leave (&ready, 1);
    }
  if (n >= 0 && n < (glong) G_N_ELEMENTS (formats))
    return formats[n];
  return g_dngettext (GETTEXT_PACKAGE, "present, %ld character: %s",
                      "present, %ld characters: %s", n);
}

static char *
mask_text (const char *text)
{
  /* ASCII (nearly every value): no UTF-8 walking, no GString */
  gsize len = 0;
  while (text[len] != '\0' && (guchar) text[len] < 0x80)
    len++;
  if (text[len] == '\0' && len >= 5)
    {
      char *stars = g_malloc (len + 1);
      stars[0] = text[0];
      memset (stars + 1, '*', len - 2);
      stars[len - 1] = text[len - 1];
      stars[len] = '\0';
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
      char *out = g_strdup_printf (mask_format ((glong) len), (glong) len, stars);
#pragma GCC diagnostic pop
      g_free (stars);
      return out;
    }
  glong n = g_utf8_strlen (text, -1);
  if (n == 0)
    return g_strdup (_("present, empty"));
  GString *s = g_string_new (NULL);
  if (n < 5)
    {
      for (glong i = 0; i < n; i++)
        g_string_append_c (s, '*');
    }
  else
    {
      gunichar first = g_utf8_get_char (text);
      gunichar last = g_utf8_get_char (g_utf8_offset_to_pointer (text, n - 1));
      g_string_append_unichar (s, first);
      for (glong i = 0; i < n - 2; i++)
        g_string_append_c (s, '*');
      g_string_append_unichar (s, last);
    }
  g_autofree char *stars = g_string_free (s, FALSE);
  /* mask_format returns the translation of one literal ngettext pair (%ld, %s) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  return g_strdup_printf (mask_format (n), n, stars);
#pragma GCC diagnostic pop
}

static char *
mask_element (const CuDicomElement *e)
{
  if (e->is_sequence)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "present, a sequence of %u item",
                                         "present, a sequence of %u items", e->n_items),
                            e->n_items);
  if (e->text != NULL)
    return mask_text (e->text);
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "present, %zu byte",
                                       "present, %zu bytes", e->length), (size_t) e->length);
}

/* ---- Value judgements --------------------------------------------------------------------- */

static gboolean
is_empty (const CuDicomElement *e)
{
  if (e->is_sequence)
    return e->n_items == 0;
  if (e->text != NULL)
    return *e->text == '\0';
  return e->length == 0;
}

static gboolean
is_placeholder (const char *text)
{
  gboolean only_placeholder_chars = TRUE;
  for (const char *p = text; *p != '\0'; p++)
    if (strchr ("0Xx*#-^.:/ ", *p) == NULL)
      {
        only_placeholder_chars = FALSE;
        break;
      }
  if (only_placeholder_chars)
    return TRUE;
  g_autofree char *t = g_strdup (text);
  g_strstrip (t);
  /* "ANONYMOUS^" and friends: trailing empty PN components. */
  gsize l = strlen (t);
  while (l > 0 && (t[l - 1] == '^' || t[l - 1] == ' '))
    t[--l] = '\0';
  for (gsize i = 0; i < G_N_ELEMENTS (placeholder_words); i++)
    if (g_ascii_strcasecmp (t, placeholder_words[i]) == 0)
      return TRUE;
  return FALSE;
}

/* "Removed by CTP", "ANONYMIZED BY …": a value that states its own removal. */
static gboolean
is_removal_statement (const char *text)
{
  static const char *const words[] = { "REMOVED", "ANONYMIZED", "ANONYMISED", "DEIDENTIFIED",
                                       "DE-IDENTIFIED", "REDACTED", "ANONYMOUS" };
  for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
    {
      gsize n = strlen (words[i]);
      if (g_ascii_strncasecmp (text, words[i], n) == 0
          && (text[n] == ' ' || text[n] == '^' || text[n] == ','))
        return TRUE;
    }
  return FALSE;
}

/* A person-name value that names a numbered role, not a person: "User2", "Reader 1",
 * "Annotator_3" — what annotation tools write when they keep readers apart without naming
 * them. A dummy value in the sense of PS3.15 E.1.1 (D: "a dummy value consistent with the
 * VR"). */
static gboolean
is_role_label (const char *text)
{
  static const char *const roles[] = { "USER", "READER", "OBSERVER", "OPERATOR", "ANNOTATOR",
                                       "RATER", "RADIOLOGIST", "PHYSICIAN", "TECHNOLOGIST",
                                       "SEGMENTER" };
  char buf[64];
  gsize n = 0;
  for (const char *p = text; *p != '\0' && n + 1 < sizeof buf; p++)
    if (*p != '^')
      buf[n++] = *p;
  buf[n] = '\0';
  for (gsize i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      gsize l = strlen (roles[i]);
      if (g_ascii_strncasecmp (buf, roles[i], l) != 0)
        continue;
      const char *rest = buf + l;
      if (*rest == ' ' || *rest == '_' || *rest == '-' || *rest == '#')
        rest++;
      /* Numbered only: a bare "physician" may stand for a real one left in place. */
      const char *digits = rest;
      while (g_ascii_isdigit (*rest))
        rest++;
      if (*rest == '\0' && rest > digits)
        return TRUE;
    }
  return FALSE;
}

/* A value a de-identifier generated in place of the original (PS3.15 E.1.1 D/Z: "replace
 * with a dummy value"): a decimal hash of 16 or more digits (what CTP's @hash writes, filling
 * a 16-character SH), or a hexadecimal digest of 16 or more characters with letters and digits.
 * Only taken as replaced in a file that says its identity was removed (0012,0062 YES). */
static gboolean
is_generated_value (const char *text)
{
  gsize n = 0, digits = 0, hex_letters = 0;
  for (const char *p = text; *p != '\0'; p++, n++)
    {
      if (g_ascii_isdigit (*p))
        digits++;
      else if (strchr ("abcdefABCDEF", *p) != NULL)
        hex_letters++;
      else
        return FALSE;
    }
  if (n < 16)
    return FALSE;
  return digits == n || (hex_letters > 0 && digits > 0);
}

static gboolean
is_dummy (CuDeidChecker *self, const CuDicomElement *e)
{
  if (is_empty (e) || e->is_sequence)
    return TRUE;       /* a sequence's contents are judged element by element */
  if (e->text == NULL)
    return FALSE;      /* binary values: only empty counts */
  if (is_placeholder (e->text) || is_removal_statement (e->text))
    return TRUE;
  if (strcmp (e->vr, "PN") == 0 && is_role_label (e->text))
    return TRUE;
  if (self->pseudonym != NULL && g_regex_match (self->pseudonym, e->text, 0, NULL))
    return TRUE;
  return FALSE;
}

static const char *
vendor_root (const char *uid)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vendor_roots); i++)
    if (g_str_has_prefix (uid, vendor_roots[i].root))
      return vendor_roots[i].organisation;
  return NULL;
}

static char *
expected_text_translated (CuDeidAction a)
{
  switch (a)
    {
    case CU_DEID_ACTION_X:
      return g_strdup (_("must be absent (X)"));
    case CU_DEID_ACTION_Z:
      return g_strdup (_("must be empty or a dummy value (Z)"));
    case CU_DEID_ACTION_D:
      return g_strdup (_("must be a dummy value (D)"));
    case CU_DEID_ACTION_Z_D:
      return g_strdup (_("must be empty or a dummy value (Z/D)"));
    case CU_DEID_ACTION_X_Z:
      return g_strdup (_("must be absent or empty (X/Z)"));
    case CU_DEID_ACTION_X_D:
      return g_strdup (_("must be absent or a dummy value (X/D)"));
    case CU_DEID_ACTION_X_Z_D:
      return g_strdup (_("must be absent, empty or a dummy value (X/Z/D)"));
    case CU_DEID_ACTION_U:
      return g_strdup (_("must be a replaced UID (U)"));
    case CU_DEID_ACTION_X_Z_U:
      return g_strdup (_("must be absent, empty or a replaced UID (X/Z/U*)"));
    case CU_DEID_ACTION_C:
      return g_strdup (_("must be cleaned of identifying information (C)"));
    case CU_DEID_ACTION_K:
    case CU_DEID_ACTION_NONE:
    default:
      return g_strdup (_("may be kept (K)"));
    }
}

/* The checker's copy: translated once, when it is made (gettext per finding showed). */
static char *
expected_text (const CuDeidChecker *self, CuDeidAction a)
{
  return g_strdup (self->expected[(guint) a < G_N_ELEMENTS (self->expected) ? a : 0]);
}

/* ---- One file ----------------------------------------------------------------------------- */

/* How a finding may be lowered once the whole file is read (the markers and declared
 * options come after most attributes in tag order). */
typedef enum
{
  RELIEF_NONE,
  RELIEF_PROFILE,          /* a standard attribute the workspace's options do not allow */
  RELIEF_PRIVATE_SAFE,     /* private attributes on the safe list, Retain Safe Private not applied */
  RELIEF_PRIVATE_UNLISTED, /* private attributes not on the safe list */
} ReliefKind;

typedef struct
{
  guint64 key;
  CuDeidFinding *finding;
  guint count;
  ReliefKind relief;
  CuDeidOptions permitted_by;  /* options under which every occurrence would be fine */
  gboolean all_replaced;       /* every occurrence holds a replaced (generated) value */
} Seen;

typedef struct
{
  CuDeidChecker *self;
  const char *path;
  GPtrArray *findings;
  GHashTable *seen;              /* &Seen.key → Seen: one finding per rule, attribute, file */
  /* The contents of a removed sequence are not reported again: elements deeper than
   * skip_depth, until the walk is back at that depth (depth first, file order). */
  gboolean skip_active;
  int skip_depth;
  /* The private group last counted by want (a group's elements come together). */
  guint64 last_private_key;
  Seen *last_private;
  char *identity_removed;        /* (0012,0062) top level, or NULL */
  gboolean has_method;
  gboolean burned_in;
  gboolean recognizable;
  char *patient_id;
  char *patient_name;
  CuDeidOptions declared;        /* options the file says were applied (0012,0063/0064) */
  char *manufacturer;            /* (0008,0070) and (0008,1090), for names that are no person */
  /* Last safe-private block looked up (elements of a block come together). */
  char *sp_creator;
  guint16 sp_group;
  const guint32 *sp_bits;
} FileCheck;

static void
seen_free (gpointer p)
{
  g_free (p);
}

static CuDeidFinding *
new_finding (const char *path, const char *tag_path, const char *keyword, const char *rule,
             char *expected, char *found, CuDeidSeverity severity)
{
  CuDeidFinding *f = g_new0 (CuDeidFinding, 1);
  f->path = g_strdup (path != NULL ? path : "");
  f->tag_path = g_strdup (tag_path != NULL ? tag_path : "");
  f->keyword = g_strdup (keyword);
  f->rule = g_strdup (rule);
  f->expected = expected;
  f->found = found;
  f->severity = severity;
  return f;
}

/* Repeats: one finding per rule and attribute in a file (per-frame sequences repeat
 * attributes hundreds of times); repeats are counted into the first finding. The key is
 * numeric so that a repeat costs one hash lookup and no string formatting. */
static guint64
seen_key (guint rule_id, guint16 group, guint16 element)
{
  return (guint64) rule_id << 32 | (guint64) group << 16 | element;
}

/* TRUE (and counted) when this rule already reported this attribute in the file; a repeat
 * that is more severe (a value where the first occurrence was empty) raises the severity. */
static gboolean
already_reported (FileCheck *fc, guint rule_id, const CuDicomElement *e,
                  CuDeidSeverity severity)
{
  guint64 key = seen_key (rule_id, e->group, e->element);
  Seen *s = g_hash_table_lookup (fc->seen, &key);
  if (s == NULL)
    return FALSE;
  s->count++;
  if (severity > s->finding->severity)
    s->finding->severity = severity;
  return TRUE;
}

static void
add_reported (FileCheck *fc, guint rule_id, const CuDicomElement *e, const char *keyword,
              const char *rule, char *expected, char *found, CuDeidSeverity severity)
{
  Seen *s = g_new0 (Seen, 1);
  s->key = seen_key (rule_id, e->group, e->element);
  s->count = 1;
  s->finding = new_finding (fc->path, e->tag_path, keyword, rule, expected, found, severity);
  g_ptr_array_add (fc->findings, s->finding);
  g_hash_table_insert (fc->seen, &s->key, s);
}

/* Rule ids of the repeat table; phi-text kinds follow RULE_PHI_TEXT. */
enum { RULE_PROFILE, RULE_PRIVATE, RULE_PRIVATE_SAFE, RULE_CURVE, RULE_OVERLAY, RULE_UID_ROOT,
       RULE_PHI_TEXT };

#define N_OPTION_BITS 10

/* Would the element be fine under the workspace's options plus one more? The options for
 * which it would: a file that declares one of them applied it on purpose (cu-deid-check.h). */
static gboolean
action_accepts (CuDeidChecker *self, CuDeidAction a, const CuDicomElement *e)
{
  switch (a)
    {
    case CU_DEID_ACTION_NONE:
    case CU_DEID_ACTION_K:
    case CU_DEID_ACTION_C:
    case CU_DEID_ACTION_U:
    case CU_DEID_ACTION_X_Z_U:
      return TRUE;
    case CU_DEID_ACTION_X:
      return FALSE;
    case CU_DEID_ACTION_X_Z:
      return is_empty (e);
    default:
      return is_dummy (self, e);
    }
}

static CuDeidOptions
permitted_by_options (CuDeidChecker *self, const CuDicomElement *e)
{
  const TagSlot *slot = NULL;
  CuDeidOptions permitted = 0;
  signed char accepts[16];

  memset (accepts, -1, sizeof accepts);

  if ((e->group & 1) == 0 && !(e->group >= 0x5000 && e->group <= 0x501E)
      && !(e->group >= 0x6000 && e->group <= 0x601E))
    slot = find_slot (self, (guint32) e->group << 16 | e->element);
  for (int b = 0; b < N_OPTION_BITS; b++)
    {
      CuDeidOptions bit = (CuDeidOptions) (1u << b);
      if (self->options & bit)
        continue;
      CuDeidAction a = slot != NULL ? (CuDeidAction) slot->with_bit[b]
                                    : cu_deid_profile_lookup (self->profile, e->group, e->element,
                                                              self->options | bit, NULL, NULL);
      /* the options lead to a few distinct actions: judge the value once per action */
      if ((guint) a < G_N_ELEMENTS (accepts) && accepts[a] < 0)
        accepts[a] = action_accepts (self, a, e);
      if ((guint) a < G_N_ELEMENTS (accepts) ? accepts[a] > 0 : action_accepts (self, a, e))
        permitted |= bit;
    }
  return permitted;
}

/* A profile finding (standard attribute), with what may lower it at the end of the file. */
static void
report_profile (FileCheck *fc, const CuDicomElement *e, const char *keyword, CuDeidAction action,
                CuDeidSeverity severity)
{
  guint64 key = seen_key (RULE_PROFILE, e->group, e->element);
  Seen *s = g_hash_table_lookup (fc->seen, &key);
  if (s != NULL)
    {
      /* A repeat (per-frame sequences repeat attributes hundreds of times): only what can
       * still change is judged; an intersection already empty stays empty. */
      s->count++;
      if (severity > s->finding->severity)
        s->finding->severity = severity;
      if (s->permitted_by != 0)
        s->permitted_by &= severity == CU_DEID_SEVERITY_ERROR
                           ? permitted_by_options (fc->self, e) : 0;
      if (s->all_replaced)
        s->all_replaced = action != CU_DEID_ACTION_X && e->text != NULL
                          && is_generated_value (e->text);
      return;
    }
  CuDeidOptions permitted = severity == CU_DEID_SEVERITY_ERROR
                            ? permitted_by_options (fc->self, e) : 0;
  gboolean replaced = action != CU_DEID_ACTION_X && e->text != NULL
                      && is_generated_value (e->text);
  add_reported (fc, RULE_PROFILE, e, keyword, "profile", expected_text (fc->self, action),
                mask_element (e), severity);
  s = g_hash_table_lookup (fc->seen, &key);
  s->relief = RELIEF_PROFILE;
  s->permitted_by = permitted;
  s->all_replaced = replaced;
}

static const char *const option_codes[N_OPTION_BITS] = {
  "113111", "113110", "113109", "113112", "113108", "113106", "113107", "113105", "113104",
  "113103",
};

static const char *const option_names[N_OPTION_BITS] = {
  N_("Retain Safe Private"), N_("Retain UIDs"), N_("Retain Device Identity"),
  N_("Retain Institution Identity"), N_("Retain Patient Characteristics"),
  N_("Retain Longitudinal Temporal Information with Full Dates"),
  N_("Retain Longitudinal Temporal Information with Modified Dates"),
  N_("Clean Descriptors"), N_("Clean Structured Content"), N_("Clean Graphics"),
};

/* Options named by PS3.16 CID 7050 codes in text: the code sequence's code values, or
 * De-identification Method text such as CTP's "DCM:113100/113105/113107/113109". */
static CuDeidOptions
options_in_text (const char *text)
{
  CuDeidOptions options = 0;
  for (int b = 0; text != NULL && b < N_OPTION_BITS; b++)
    if (strstr (text, option_codes[b]) != NULL)
      options |= (CuDeidOptions) (1u << b);
  return options;
}

/* Lower findings the file explains (PS3.15 E.1.1, E.3): see the top of this file. */
static void
apply_reliefs (FileCheck *fc)
{
  gboolean identity_removed = fc->identity_removed != NULL
                              && g_ascii_strcasecmp (fc->identity_removed, "YES") == 0;
  gboolean rsp_declared = (fc->declared & CU_DEID_RETAIN_SAFE_PRIVATE) != 0;
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, fc->seen);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      Seen *s = v;
      CuDeidFinding *f = s->finding;
      char *more = NULL;

      switch (s->relief)
        {
        case RELIEF_PROFILE:
          if (f->severity != CU_DEID_SEVERITY_ERROR)
            break;
          if (s->all_replaced && identity_removed)
            {
              f->severity = CU_DEID_SEVERITY_INFO;
              more = g_strdup_printf (_("%s; a value generated in place of the original "
                                        "(the file says its identity was removed)"), f->found);
            }
          else if ((s->permitted_by & fc->declared) != 0)
            {
              int b = __builtin_ctz ((guint) (s->permitted_by & fc->declared));
              f->severity = CU_DEID_SEVERITY_WARNING;
              more = g_strdup_printf (_("%s; kept under the %s option the file declares"),
                                      f->found, _(option_names[b]));
            }
          break;
        case RELIEF_PRIVATE_SAFE:
          if (rsp_declared)
            {
              f->severity = CU_DEID_SEVERITY_INFO;
              more = g_strdup_printf (_("%s; kept under the Retain Safe Private option the "
                                        "file declares"), f->found);
            }
          break;
        case RELIEF_PRIVATE_UNLISTED:
          if (rsp_declared && f->severity == CU_DEID_SEVERITY_ERROR)
            {
              f->severity = CU_DEID_SEVERITY_WARNING;
              more = g_strdup_printf (_("%s; kept as safe by the de-identifier (Retain Safe "
                                        "Private declared), not known to Curata as safe"),
                                      f->found);
            }
          break;
        case RELIEF_NONE:
        default:
          break;
        }
      if (more != NULL)
        {
          g_free (f->found);
          f->found = more;
        }
    }
}

#define REPORT(fc, rule_id, e, keyword, rule, expected, found, severity)                  \
  G_STMT_START                                                                          \
  {                                                                                     \
    if (!already_reported ((fc), (rule_id), (e), (severity)))                           \
      add_reported ((fc), (rule_id), (e), (keyword), (rule), (expected), (found),       \
                    (severity));                                                        \
  }                                                                                     \
  G_STMT_END

static gboolean vr_is_free_text (const char *vr);

static void
scan_text (FileCheck *fc, const CuDicomElement *e, const char *keyword)
{
  CuDeidChecker *self = fc->self;
  const char *text = e->text;

  if (text == NULL || *text == '\0')
    return;
  /* What every pattern needs at least (a caret, an at sign, a digit or five, a space): one
   * pass over the text spares most regular expressions on most values ("t2_tse_tra"). \s
   * is ASCII whitespace here (no G_REGEX_UCP). */
  gsize n_digits = 0;
  gboolean caret = FALSE, at_sign = FALSE, space = FALSE;
  for (const char *p = text; *p != '\0'; p++)
    {
      if (g_ascii_isdigit (*p))
        n_digits++;
      else if (*p == '^')
        caret = TRUE;
      else if (*p == '@')
        at_sign = TRUE;
      else if (g_ascii_isspace (*p))
        space = TRUE;
    }
  const gboolean possible[N_PHI] = {
    [PHI_NAME] = caret,
    [PHI_TITLE_NAME] = space,
    [PHI_DATE] = n_digits > 0,
    [PHI_PHONE] = n_digits >= 5,
    [PHI_EMAIL] = at_sign,
    [PHI_ADDRESS] = space,
    [PHI_POSTCODE] = space && n_digits > 0,
    [PHI_IDENTIFIER] = n_digits > 0,
  };
  for (int k = 0; k < N_PHI; k++)
    {
      g_autoptr (GMatchInfo) m = NULL;
      if (!possible[k])
        continue;
      /* Siemens writes descriptions (LO) as "Region^Exam": carets are names only in longer
       * free text. */
      if (k == PHI_NAME && !vr_is_free_text (e->vr))
        continue;
      if (already_reported (fc, RULE_PHI_TEXT + k, e, phi_patterns[k].severity)
          || !g_regex_match (self->phi[k], text, 0, &m))
        continue;
      int start = 0, end = 0;
      g_match_info_fetch_pos (m, 0, &start, &end);
      g_autofree char *piece = g_strndup (text + start, end - start);
      g_autofree char *masked = mask_text (piece);
      glong at = g_utf8_pointer_to_offset (text, text + start);
      char *found = g_strdup_printf (_("looks like %s at character %ld of %ld (%s)"),
                                     _(phi_patterns[k].what), at + 1,
                                     g_utf8_strlen (text, -1), masked);
      add_reported (fc, RULE_PHI_TEXT + k, e, keyword, "phi-text",
                    g_strdup (_("no identifying information in free text")), found,
                    phi_patterns[k].severity);
    }
}

static gboolean
vr_is_free_text (const char *vr)
{
  /* asked for every element the walk meets: two characters, no strcmp */
  if (vr[0] == '\0' || vr[1] == '\0' || vr[2] != '\0')
    return FALSE;
  return (vr[1] == 'T' && (vr[0] == 'L' || vr[0] == 'S' || vr[0] == 'U'))
         || (vr[0] == 'U' && vr[1] == 'C');
}

static gboolean
vr_is_text_like (const char *vr)
{
  return vr_is_free_text (vr) || strcmp (vr, "LO") == 0 || strcmp (vr, "SH") == 0
         || strcmp (vr, "PN") == 0;
}

static void
skip_contents_of (FileCheck *fc, const CuDicomElement *e)
{
  if (!e->is_sequence)
    return;
  fc->skip_active = TRUE;
  fc->skip_depth = e->depth;
}

/* Inside a skipped sequence? Leaving it ends the skip. */
static gboolean
skipped (FileCheck *fc, int depth)
{
  if (!fc->skip_active)
    return FALSE;
  if (depth > fc->skip_depth)
    return TRUE;
  fc->skip_active = FALSE;
  return FALSE;
}

/* Is this private element on the known-safe list? The last creator block looked up is kept:
 * the elements of a block come together. */
static gboolean
private_is_safe (FileCheck *fc, guint16 group, guint16 element, const char *creator)
{
  if (creator == NULL)
    return FALSE;
  if (fc->sp_creator == NULL || fc->sp_group != group || strcmp (fc->sp_creator, creator) != 0)
    {
      g_free (fc->sp_creator);
      fc->sp_creator = g_strdup (creator);
      fc->sp_group = group;
      fc->sp_bits = cu_deid_profile_safe_private_block (fc->self->profile, creator, group);
    }
  guint8 low = element & 0xFF;
  return fc->sp_bits != NULL && (fc->sp_bits[low >> 5] & (1u << (low & 31))) != 0;
}

/* A person-name attribute holding the name of the equipment or software maker (a content
 * creator "QIICR" in an object whose Manufacturer names QIICR's software): it names no
 * person. Manufacturer (0008,0070) precedes every person-name attribute in tag order except
 * the (0008,0090) referring physician, which this does not cover. */
static gboolean
names_the_manufacturer (FileCheck *fc, const CuDicomElement *e)
{
  if (fc->manufacturer == NULL || e->text == NULL || strcmp (e->vr, "PN") != 0
      || strlen (e->text) < 3)
    return FALSE;
  g_autofree char *m = g_ascii_strdown (fc->manufacturer, -1);
  g_autofree char *v = g_ascii_strdown (e->text, -1);
  return strstr (m, v) != NULL;
}

/* Which elements visit needs (cu_dicom_header_read_walk_filtered): private and repeating
 * groups, long free text (scanned wherever it is), and the tags of the table whose action
 * looks at the value, plus the markers. Everything else would pass through visit without
 * effect. */
static CuDicomWant
want (guint16 group, guint16 element, const char *vr, int depth, const char *private_creator,
      gpointer user_data)
{
  FileCheck *fc = user_data;

  if (skipped (fc, depth))
    return CU_DICOM_WANT_SKIP_ALL;
  /* Private elements come by the hundred and are reported once per group and file (visit);
   * the repeats are only counted, here, without filling them in. An unsafe one's contents
   * are not looked at (visit: skip_contents_of), so not walked either. */
  if (group & 1)
    {
      if (element < 0x1000)
        return CU_DICOM_WANT_SKIP;      /* group lengths (creators are always visited) */
      gboolean rsp = fc->self->private_action != CU_DEID_ACTION_X;
      gboolean safe = private_is_safe (fc, group, element, private_creator);
      if (safe && rsp)
        return CU_DICOM_WANT_SKIP;
      guint64 key = seen_key (safe ? RULE_PRIVATE_SAFE : RULE_PRIVATE, group, 0);
      Seen *s = key == fc->last_private_key ? fc->last_private : NULL;
      if (s == NULL)
        s = g_hash_table_lookup (fc->seen, &key);
      if (s == NULL)        /* the first: visit reports it */
        return safe ? CU_DICOM_WANT_VISIT : CU_DICOM_WANT_VISIT_ONLY;
      fc->last_private_key = key;
      fc->last_private = s;
      s->count++;
      return safe ? CU_DICOM_WANT_SKIP : CU_DICOM_WANT_SKIP_ALL;
    }
  if ((group >= 0x5000 && group <= 0x501E) || (group >= 0x6000 && group <= 0x601E))
    return CU_DICOM_WANT_VISIT;
  const TagSlot *s = find_slot (fc->self, (guint32) group << 16 | element);
  /* a removed (X) sequence is reported as a whole, its contents are not looked at */
  if (s != NULL && s->action == CU_DEID_ACTION_X)
    return CU_DICOM_WANT_VISIT_ONLY;
  if ((s != NULL && s->want) || (vr != NULL && vr_is_free_text (vr)))
    return CU_DICOM_WANT_VISIT;
  return CU_DICOM_WANT_SKIP;
}

static gboolean
visit (const CuDicomElement *e, gpointer user_data)
{
  FileCheck *fc = user_data;
  CuDeidChecker *self = fc->self;

  if (skipped (fc, e->depth))
    return TRUE;

  /* Top-level markers for the residual scan. */
  if (e->depth == 0)
    {
      guint32 tag = (guint32) e->group << 16 | e->element;
      if (tag == 0x00120062 && e->text != NULL)
        {
          g_free (fc->identity_removed);
          fc->identity_removed = g_strdup (e->text);
        }
      else if ((tag == 0x00120063 && !is_empty (e)) || (tag == 0x00120064 && e->n_items > 0))
        {
          fc->has_method = TRUE;
          if (tag == 0x00120063)
            fc->declared |= options_in_text (e->text);
        }
      else if ((tag == 0x00080070 || tag == 0x00081090) && e->text != NULL && *e->text != '\0')
        {
          char *m = g_strconcat (fc->manufacturer != NULL ? fc->manufacturer : "", " ", e->text,
                                 NULL);
          g_free (fc->manufacturer);
          fc->manufacturer = m;
        }
      else if (tag == 0x00280301 && e->text != NULL && g_ascii_strcasecmp (e->text, "YES") == 0)
        fc->burned_in = TRUE;
      else if (tag == 0x00280302 && e->text != NULL && g_ascii_strcasecmp (e->text, "YES") == 0)
        fc->recognizable = TRUE;
      else if (tag == 0x00100020 && e->text != NULL)
        fc->patient_id = g_strdup (e->text);
      else if (tag == 0x00100010 && e->text != NULL)
        fc->patient_name = g_strdup (e->text);
    }

  /* The code values of the De-identification Method Code Sequence: the options applied. */
  if (e->depth == 1 && e->group == 0x0008 && e->element == 0x0100 && e->text != NULL
      && g_str_has_prefix (e->tag_path, "(0012,0064)["))
    fc->declared |= options_in_text (e->text);

  const char *keyword = NULL;
  CuDeidAction action = lookup_action (self, e->group, e->element, &keyword);

  /* Private attributes: per private group and file, one finding for those on the safe list
   * and one for the others. Creators and group lengths are labels, not values. */
  if (e->group & 1)
    {
      if (e->element < 0x1000)
        return TRUE;
      gboolean rsp = action != CU_DEID_ACTION_X;    /* the workspace applies the option */
      gboolean safe = private_is_safe (fc, e->group, e->element, e->private_creator);
      if (safe && rsp)
        return TRUE;
      CuDicomElement group_key = *e;
      group_key.element = 0;
      guint rule_id = safe ? RULE_PRIVATE_SAFE : RULE_PRIVATE;
      CuDeidSeverity severity = safe || rsp ? CU_DEID_SEVERITY_WARNING : CU_DEID_SEVERITY_ERROR;
      if (!already_reported (fc, rule_id, &group_key, severity))
        {
          char *found;
          if (safe)
            found = g_strdup_printf (_("private group %04X of “%s”: attributes known to be safe "
                                       "(PS3.15 E.3.10)"), e->group, e->private_creator);
          else if (e->private_creator != NULL)
            found = g_strdup_printf (_("private group %04X of “%s”: attributes not known to be "
                                       "safe"), e->group, e->private_creator);
          else
            found = g_strdup_printf (_("private group %04X: attributes without a private "
                                       "creator"), e->group);
          add_reported (fc, rule_id, &group_key, e->private_creator, "private",
                        g_strdup (rsp ? _("only private attributes known to be safe may be kept "
                                          "(Retain Safe Private)")
                                      : _("private attributes must be absent unless Retain Safe "
                                          "Private is applied (X)")),
                        found, severity);
          guint64 key = seen_key (rule_id, group_key.group, 0);
          Seen *sn = g_hash_table_lookup (fc->seen, &key);
          sn->relief = safe ? RELIEF_PRIVATE_SAFE : RELIEF_PRIVATE_UNLISTED;
        }
      if (!safe)
        skip_contents_of (fc, e);
      return TRUE;
    }

  /* Curves and overlays. */
  if (e->group >= 0x5000 && e->group <= 0x501E && !(e->group & 1))
    {
      if (action == CU_DEID_ACTION_X)
        {
          CuDicomElement group_key = *e;
          group_key.element = 0;
          REPORT (fc, RULE_CURVE, &group_key, "CurveData", "curve", expected_text (fc->self, action),
                  g_strdup_printf (_("curve group %04X"), e->group), CU_DEID_SEVERITY_ERROR);
        }
      else if (action == CU_DEID_ACTION_C && e->text != NULL)
        scan_text (fc, e, keyword);
      return TRUE;
    }
  if (e->group >= 0x6000 && e->group <= 0x601E && action != CU_DEID_ACTION_NONE)
    {
      if (action == CU_DEID_ACTION_X)
        REPORT (fc, RULE_OVERLAY, e, keyword, "overlay", expected_text (fc->self, action),
                mask_element (e), CU_DEID_SEVERITY_ERROR);
      else if (action == CU_DEID_ACTION_C && e->text != NULL)
        scan_text (fc, e, keyword);
      return TRUE;
    }

  switch (action)
    {
    case CU_DEID_ACTION_NONE:
    case CU_DEID_ACTION_K:
      if (action == CU_DEID_ACTION_NONE && vr_is_free_text (e->vr))
        scan_text (fc, e, keyword);
      break;

    case CU_DEID_ACTION_C:
      if (e->text != NULL && vr_is_text_like (e->vr))
        scan_text (fc, e, keyword);
      break;

    case CU_DEID_ACTION_X:
      /* Present but empty (or a bare placeholder such as "^^^^"): not removed as the profile
       * says, but it carries nothing identifying, so it is reported without quarantining. */
      report_profile (fc, e, keyword, action,
                      is_empty (e) || (e->text != NULL && is_placeholder (e->text))
                      ? CU_DEID_SEVERITY_INFO : CU_DEID_SEVERITY_ERROR);
      skip_contents_of (fc, e);
      break;

    case CU_DEID_ACTION_X_Z:
      if (!is_empty (e))
        report_profile (fc, e, keyword, action, CU_DEID_SEVERITY_ERROR);
      break;

    case CU_DEID_ACTION_Z:
    case CU_DEID_ACTION_D:
    case CU_DEID_ACTION_Z_D:
    case CU_DEID_ACTION_X_D:
    case CU_DEID_ACTION_X_Z_D:
      /* PatientName/PatientID against a configured pattern are the pseudonym rule's. */
      if (self->pseudonym != NULL && e->depth == 0 && e->group == 0x0010
          && (e->element == 0x0010 || e->element == 0x0020))
        break;
      if (!is_dummy (self, e) && !names_the_manufacturer (fc, e))
        report_profile (fc, e, keyword, action, CU_DEID_SEVERITY_ERROR);
      break;

    case CU_DEID_ACTION_U:
    case CU_DEID_ACTION_X_Z_U:
      if (e->text != NULL && strcmp (e->vr, "UI") == 0)
        {
          /* nearly every UID is single-valued: split only when there is a backslash */
          g_auto (GStrv) uids = strchr (e->text, '\\') != NULL
                                ? g_strsplit (e->text, "\\", -1)
                                : g_strdupv ((char *[]) { (char *) e->text, NULL });
          for (int i = 0; uids[i] != NULL; i++)
            {
              const char *org = vendor_root (g_strstrip (uids[i]));
              if (org != NULL)
                {
                  if (!already_reported (fc, RULE_UID_ROOT, e, CU_DEID_SEVERITY_ERROR))
                    {
                      g_autofree char *masked = mask_text (uids[i]);
                      add_reported (fc, RULE_UID_ROOT, e, keyword, "uid-root",
                                    expected_text (fc->self, action),
                                    g_strdup_printf (_("a UID under the root of %s (%s)"), org,
                                                     masked),
                                    CU_DEID_SEVERITY_ERROR);
                    }
                  break;
                }
            }
        }
      break;

    default:
      break;
    }
  return TRUE;
}

static void
file_findings (FileCheck *fc)
{
  CuDeidChecker *self = fc->self;
  const char *path = fc->path;

  if (fc->identity_removed == NULL)
    g_ptr_array_add (fc->findings,
                     new_finding (path, "(0012,0062)", "PatientIdentityRemoved", "marker",
                                  g_strdup (_("Patient Identity Removed must be YES")),
                                  g_strdup (_("absent")), CU_DEID_SEVERITY_ERROR));
  else if (g_ascii_strcasecmp (fc->identity_removed, "YES") != 0)
    g_ptr_array_add (fc->findings,
                     new_finding (path, "(0012,0062)", "PatientIdentityRemoved", "marker",
                                  g_strdup (_("Patient Identity Removed must be YES")),
                                  g_strdup_printf (_("“%s”"), fc->identity_removed),
                                  CU_DEID_SEVERITY_ERROR));
  if (!fc->has_method)
    g_ptr_array_add (fc->findings,
                     new_finding (path, "(0012,0063)", "DeidentificationMethod", "marker",
                                  g_strdup (_("De-identification Method or its code sequence "
                                              "should say what was done")),
                                  g_strdup (_("absent")), CU_DEID_SEVERITY_WARNING));
  if (fc->burned_in)
    g_ptr_array_add (fc->findings,
                     new_finding (path, "(0028,0301)", "BurnedInAnnotation", "burned-in",
                                  g_strdup (_("no identifying text burned into the pixels")),
                                  g_strdup (_("YES: the pixels may hold identifiers")),
                                  CU_DEID_SEVERITY_ERROR));
  if (fc->recognizable)
    g_ptr_array_add (fc->findings,
                     new_finding (path, "(0028,0302)", "RecognizableVisualFeatures",
                                  "burned-in",
                                  g_strdup (_("no recognizable visual features")),
                                  g_strdup (_("YES: the images may show the face")),
                                  CU_DEID_SEVERITY_WARNING));

  if (self->pseudonym != NULL)
    {
      static const struct { guint32 tag; const char *path; const char *kw; } fields[] = {
        { 0x00100020, "(0010,0020)", "PatientID" },
        { 0x00100010, "(0010,0010)", "PatientName" },
      };
      for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          const char *v = i == 0 ? fc->patient_id : fc->patient_name;
          gboolean empty = v == NULL || *v == '\0';
          /* An empty or placeholder PatientName is fine (Z); the PatientID carries the
           * pseudonym. */
          if (i == 1 && (empty || is_placeholder (v)))
            continue;
          if (!empty && g_regex_match (self->pseudonym, v, 0, NULL))
            continue;
          g_ptr_array_add (fc->findings,
                           new_finding (path, fields[i].path, fields[i].kw, "pseudonym-pattern",
                                        g_strdup (_("must match the site's pseudonym pattern")),
                                        empty ? g_strdup (_("absent or empty"))
                                              : mask_text (v),
                                        CU_DEID_SEVERITY_ERROR));
        }
    }
}

static void
file_check_init (FileCheck *fc, CuDeidChecker *self, const char *path)
{
  memset (fc, 0, sizeof *fc);
  fc->self = self;
  fc->path = path;
  fc->findings = g_ptr_array_new ();
  fc->seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, seen_free);
}

/* The translated "%s; %u occurrences in the file" for count, as mask_format: looked up once
 * per process for the counts that occur nearly always. */
static const char *
occurrences_format (guint count)
{
  static const char *formats[256];
  static gsize ready = 0;

  if (g_once_init_enter (&ready))
    {
      for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
        formats[i] = g_dngettext (GETTEXT_PACKAGE, "%s; %u occurrence in the file",
                                  "%s; %u occurrences in the file", i);
      g_once_init_leave (&ready, 1);
    }
  if (count < G_N_ELEMENTS (formats))
    return formats[count];
  return g_dngettext (GETTEXT_PACKAGE, "%s; %u occurrence in the file",
                      "%s; %u occurrences in the file", count);
}

/* Hand the findings over to findings (ok) or drop them (the file could not be read). */
static void
file_check_finish (FileCheck *fc, gboolean ok, GPtrArray *findings)
{
  if (ok)
    {
      /* Repeated attributes: say how often. */
      GHashTableIter it;
      gpointer v;
      g_hash_table_iter_init (&it, fc->seen);
      while (g_hash_table_iter_next (&it, NULL, &v))
        {
          Seen *s = v;
          if (s->count > 1)
            {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
              char *more = g_strdup_printf (occurrences_format (s->count), s->finding->found,
                                            s->count);
#pragma GCC diagnostic pop
              g_free (s->finding->found);
              s->finding->found = more;
            }
        }
      apply_reliefs (fc);
      file_findings (fc);
      for (guint i = 0; i < fc->findings->len; i++)
        g_ptr_array_add (findings, fc->findings->pdata[i]);
    }
  else
    for (guint i = 0; i < fc->findings->len; i++)
      cu_deid_finding_free (fc->findings->pdata[i]);

  g_ptr_array_unref (fc->findings);
  g_hash_table_unref (fc->seen);
  g_free (fc->identity_removed);
  g_free (fc->patient_id);
  g_free (fc->patient_name);
  g_free (fc->manufacturer);
  g_free (fc->sp_creator);
}

gboolean
cu_deid_check_file (CuDeidChecker *self, const char *path, GPtrArray *findings, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (findings != NULL, FALSE);

  FileCheck fc;
  file_check_init (&fc, self, path);
  gboolean ok = cu_dicom_walk_file_hinted (path, want, &self->hint, visit, &fc, error);
  file_check_finish (&fc, ok, findings);
  return ok;
}

CuDicomHeader *
cu_deid_check_read (CuDeidChecker *self, const char *path, GPtrArray *findings, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (self == NULL || findings != NULL, NULL);

  if (self == NULL)
    return cu_dicom_header_read (path, error);

  FileCheck fc;
  file_check_init (&fc, self, path);
  CuDicomHeader *header = cu_dicom_header_read_walk_hinted (path, want, &self->hint, visit,
                                                            &fc, error);
  file_check_finish (&fc, header != NULL, findings);
  return header;
}

void
cu_deid_check_read_batch (CuDeidChecker *self, guint n, const char *const *paths,
                          CuDicomHeader **headers, GPtrArray **findings, GError **errors)
{
  g_return_if_fail (n == 0 || (paths != NULL && headers != NULL && errors != NULL));
  g_return_if_fail (self == NULL || findings != NULL);

  if (n == 0)
    return;
  g_autofree CuDicomReadJob *jobs = g_new0 (CuDicomReadJob, n);
  g_autofree FileCheck *checks = self != NULL ? g_new (FileCheck, n) : NULL;
  for (guint i = 0; i < n; i++)
    {
      jobs[i].path = paths[i];
      if (self != NULL)
        {
          file_check_init (&checks[i], self, paths[i]);
          jobs[i].user_data = &checks[i];
        }
    }
  if (self != NULL)
    cu_dicom_header_read_walk_batch (jobs, n, want, &self->hint, visit);
  else
    cu_dicom_header_read_walk_batch (jobs, n, NULL, NULL, NULL);
  for (guint i = 0; i < n; i++)
    {
      if (self != NULL)
        file_check_finish (&checks[i], jobs[i].header != NULL, findings[i]);
      headers[i] = jobs[i].header;
      errors[i] = jobs[i].error;
    }
}

/* ---- One study ---------------------------------------------------------------------------- */

void
cu_deid_check_study (CuDeidChecker *self, const char *study_uid, const char *const *pairs,
                     guint n, GPtrArray *findings)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (findings != NULL);
  g_return_if_fail (n == 0 || pairs != NULL);

  g_autoptr (GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < n; i++)
    {
      g_hash_table_add (ids, (gpointer) (pairs[2 * i] != NULL ? pairs[2 * i] : ""));
      g_hash_table_add (names, (gpointer) (pairs[2 * i + 1] != NULL ? pairs[2 * i + 1] : ""));
    }
  if (g_hash_table_size (ids) > 1)
    g_ptr_array_add (findings,
                     new_finding (study_uid, "(0010,0020)", "PatientID", "pseudonym-consistency",
                                  g_strdup (_("one pseudonym per study")),
                                  g_strdup_printf (_("%u different patient IDs in the study"),
                                                   g_hash_table_size (ids)),
                                  CU_DEID_SEVERITY_ERROR));
  if (g_hash_table_size (names) > 1)
    g_ptr_array_add (findings,
                     new_finding (study_uid, "(0010,0010)", "PatientName",
                                  "pseudonym-consistency",
                                  g_strdup (_("one pseudonym per study")),
                                  g_strdup_printf (_("%u different patient names in the study"),
                                                   g_hash_table_size (names)),
                                  CU_DEID_SEVERITY_ERROR));
}

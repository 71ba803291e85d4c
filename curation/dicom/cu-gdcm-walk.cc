/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gdcm-walk.cc — cu_dicom_walk_file (cu-dicom-walk.h), and the element helpers it shares with
 * the rewriter (cu-gdcm-element-private.h).
 *
 * The file goes through the same gate as header reading (structural pre-check, deflated data
 * sets inflated by us, a file meta group GDCM refuses patched in memory, exceptions caught; in a
 * parser process, cu-dicom-parser.c, unless CURATA_DICOM_IN_PROCESS is set), then gdcm::Reader::ReadUpToTag stops before Pixel Data, so no pixel byte is read.
 * Elements are visited in file order, depth first (PS3.5 §7.5: items of a sequence hold nested
 * data sets). VRs follow PS3.5 §6.2.2 / §A.1: implicit VR and VR UN elements are interpreted
 * with the data dictionary (PS3.6, and GDCM's private dictionary keyed by private creator,
 * PS3.5 §7.8.1); text is converted from each data set's Specific Character Set (an item may
 * carry its own, PS3.5 §6.1.2.5.2).
 */
#include "config.h"

#include <cstring>
#include <memory>
#include <string>

#include <gdcmDict.h>
#include <gdcmDictEntry.h>
#include <gdcmDicts.h>
#include <gdcmGlobal.h>
#include <gdcmItem.h>
#include <gdcmVR.h>

#include <glib.h>
#include <glib/gi18n-lib.h>
#include <unistd.h>

#include "cu-dicom-parser-private.h"
#include "cu-gdcm-element-private.h"

const char *
_cu_gdcm_dataset_charset (const gdcm::DataSet &ds)
{
  const gdcm::Tag scs (0x0008, 0x0005);
  if (!ds.FindDataElement (scs))
    return nullptr;
  const gdcm::ByteValue *bv = ds.GetDataElement (scs).GetByteValue ();
  if (bv == nullptr || bv->GetPointer () == nullptr)
    return nullptr;
  g_autofree char *s = _cu_dicom_text_to_utf8 (bv->GetPointer (), bv->GetLength (), nullptr);
  return _cu_dicom_charset_to_iconv (s);
}

namespace
{

/* A GDCM VR as the two letters of PS3.5; the dictionary's "either" VRs resolve to the wider
 * or the unsigned one (only the letters matter here: none of them is text). */
const char *
vr_letters (gdcm::VR::VRType vr)
{
  switch (vr)
    {
    case gdcm::VR::OB_OW:
    case gdcm::VR::US_OW:
    case gdcm::VR::US_SS_OW:
      return "OW";
    case gdcm::VR::US_SS:
      return "US";
    case gdcm::VR::INVALID:
      return nullptr;
    default:
      break;
    }
  const char *s = gdcm::VR::GetVRString (vr);
  if (s == nullptr || strlen (s) != 2 || !g_ascii_isupper (s[0]) || !g_ascii_isupper (s[1]))
    return nullptr;
  return s;
}

/* vr_letters of the single-bit VRTypes, looked up by bit: gdcm::VR::GetVRString searches a
 * table, and this runs for every element of every file checked. */
struct VrTable
{
  /* Bits 0 (AE) to 33 (UV), the single-letter-pair VRs of GDCM 3.0. */
  static const int n_bits = 34;
  const char *letters[n_bits];
  VrTable ()
  {
    for (int b = 0; b < n_bits; b++)
      letters[b] = vr_letters ((gdcm::VR::VRType) (1LL << b));
  }
};

const char *
vr_letters_fast (gdcm::VR::VRType vr)
{
  static const VrTable table;
  unsigned long long v = (unsigned long long) vr;
  if (v != 0 && (v & (v - 1)) == 0 && __builtin_ctzll (v) < VrTable::n_bits)
    return table.letters[__builtin_ctzll (v)];
  return vr_letters (vr);
}

} /* namespace */

const char *
_cu_gdcm_element_vr (const gdcm::DataSet &ds, const gdcm::DataElement &de)
{
  const gdcm::Tag &t = de.GetTag ();
  gdcm::VR::VRType vr = de.GetVR ();
  if (vr != gdcm::VR::INVALID && vr != gdcm::VR::UN)
    {
      const char *s = vr_letters_fast (vr);
      return s != nullptr ? s : "UN";
    }

  /* Implicit VR or UN: ask the dictionary. */
  if (t.GetElement () == 0x0000)
    return "UL";                                   /* group length */
  if (t.IsPrivate () && t.IsPrivateCreator ())
    return "LO";
  const gdcm::Dicts &dicts = gdcm::Global::GetInstance ().GetDicts ();
  const char *s = nullptr;
  if (t.IsPrivate ())
    {
      std::string creator = ds.GetPrivateCreator (t);
      if (!creator.empty ())
        {
          const gdcm::DictEntry &e = dicts.GetDictEntry (t, creator.c_str ());
          s = vr_letters (e.GetVR ());
        }
    }
  else
    {
      const gdcm::DictEntry &e = dicts.GetDictEntry (t);
      s = vr_letters (e.GetVR ());
    }
  if (s == nullptr)
    return vr == gdcm::VR::UN || vr == gdcm::VR::INVALID ? "UN" : "UN";
  return s;
}

gdcm::SmartPointer<gdcm::SequenceOfItems>
_cu_gdcm_element_items (const gdcm::DataSet &ds, const gdcm::DataElement &de, const char *vr)
{
  /* An explicit VR other than SQ (and UN) never holds items: skip the dynamic_casts (IsEmpty
   * makes two), which would otherwise run for every element. */
  gdcm::VR::VRType explicit_vr = de.GetVR ();
  if (explicit_vr != gdcm::VR::INVALID && explicit_vr != gdcm::VR::UN
      && (explicit_vr & gdcm::VR::SQ) == 0 && (vr == nullptr || strcmp (vr, "SQ") != 0))
    return nullptr;
  if (de.IsEmpty ())
    return nullptr;          /* also: no value at all (GetValue would assert) */
  const gdcm::SequenceOfItems *parsed = dynamic_cast<const gdcm::SequenceOfItems *> (
    &de.GetValue ());
  if (parsed != nullptr)
    return const_cast<gdcm::SequenceOfItems *> (parsed);
  if (vr == nullptr || strcmp (vr, "SQ") != 0)
    return nullptr;
  /* A defined-length sequence stored as UN or read without VR: parse its bytes as items. A
   * value that does not parse is treated as opaque bytes, not as a broken file. */
  try
    {
      return de.GetValueAsSQ ();
    }
  catch (...)
    {
      return nullptr;
    }
}

static void
tag_path_into (std::string &path, const std::string *path_parent, const std::string &parent,
               const gdcm::Tag &t)
{
  /* Formatted by hand into a reused buffer: this runs for every element of every file
   * checked. */
  static const char hex[] = "0123456789ABCDEF";
  char buf[12] = "(0000,0000)";
  guint16 g = t.GetGroup (), e = t.GetElement ();
  for (int i = 0; i < 4; i++)
    {
      buf[4 - i] = hex[(g >> (4 * i)) & 0xF];
      buf[9 - i] = hex[(e >> (4 * i)) & 0xF];
    }
  /* A store reused for the elements of one data set (the walk) names the parent it holds:
   * then only the last eleven characters change. */
  if (path_parent == &parent && path.size () == parent.size () + 11)
    memcpy (&path[parent.size ()], buf, 11);
  else
    path.assign (parent).append (buf, 11);
}

/* Text of a string VR value: ASCII (nearly every value) is trimmed into the store's reused
 * buffer as _cu_dicom_text_to_utf8 would trim it, without an allocation; anything else goes
 * through _cu_dicom_text_to_utf8 (character sets, invalid bytes). */
static const char *
element_text (CuGdcmElementStore &store, const char *bytes, gsize len, const char *charset)
{
  while (len > 0 && (bytes[len - 1] == ' ' || bytes[len - 1] == '\0'))
    len--;
  while (len > 0 && bytes[0] == ' ')
    {
      bytes++;
      len--;
    }
  gsize n = 0;
  while (n < len && bytes[n] != '\0' && (guchar) bytes[n] < 0x80)
    n++;
  if (n == len || bytes[n] == '\0')
    {
      /* All ASCII up to the end or to an embedded NUL, which ends the value (as strlen does
       * there). */
      store.ascii.assign (bytes, n);
      return store.ascii.c_str ();
    }
  store.text = _cu_dicom_text_to_utf8 (bytes, len, charset);
  return store.text;
}

std::string
_cu_gdcm_tag_path (const std::string &parent, const gdcm::Tag &t)
{
  std::string path;
  tag_path_into (path, nullptr, parent, t);
  return path;
}

void
_cu_gdcm_element_fill (const gdcm::DataSet &ds, const gdcm::DataElement &de, const char *charset,
                       const std::string &parent_path, int depth, CuDicomElement *out,
                       CuGdcmElementStore &store,
                       gdcm::SmartPointer<gdcm::SequenceOfItems> &items)
{
  const gdcm::Tag &t = de.GetTag ();
  const char *vr = _cu_gdcm_element_vr (ds, de);

  memset (out, 0, sizeof *out);
  tag_path_into (store.tag_path, store.tag_path_parent, parent_path, t);
  store.tag_path_parent = store.reuse_parent ? &parent_path : nullptr;
  g_clear_pointer (&store.text, g_free);
  store.creator.clear ();

  out->tag_path = store.tag_path.c_str ();
  out->group = t.GetGroup ();
  out->element = t.GetElement ();
  out->depth = depth;

  items = _cu_gdcm_element_items (ds, de, vr);
  if (items)
    vr = "SQ";
  memcpy (out->vr, vr, 2);
  out->vr[2] = '\0';
  /* An empty sequence (zero length) is still a sequence, with no items. */
  out->is_sequence = strcmp (vr, "SQ") == 0;
  out->n_items = items ? (guint) items->GetNumberOfItems () : 0;

  if (!items)
    {
      const gdcm::ByteValue *bv = de.GetByteValue ();
      if (bv != nullptr && bv->GetPointer () != nullptr)
        {
          out->value = (const guint8 *) bv->GetPointer ();
          out->length = bv->GetLength ();
        }
      if (_cu_gdcm_vr_is_text (vr))
        out->text = element_text (store,
                                  out->value != nullptr ? (const char *) out->value : "",
                                  out->length,
                                  _cu_gdcm_vr_uses_charset (vr) ? charset : nullptr);
    }

  if (t.IsPrivate ())
    {
      if (t.IsPrivateCreator ())
        {
          /* The creator element names itself. */
          if (out->text != nullptr && *out->text != '\0')
            store.creator = out->text;
        }
      else if (t.GetElement () >= 0x1000)
        {
          /* The walk remembers the creators of the group it is in (they precede their blocks,
           * PS3.5 §7.8.1); others ask GDCM, which searches the data set. */
          const CuGdcmCreators *c = store.creators;
          guint8 block = (guint8) (t.GetElement () >> 8);
          if (c != nullptr && c->group == t.GetGroup ())
            store.creator = c->name[block];
          else
            store.creator = ds.GetPrivateCreator (t);
        }
      while (!store.creator.empty () && (store.creator.back () == ' '
                                         || store.creator.back () == '\0'))
        store.creator.pop_back ();
      if (!store.creator.empty ())
        out->private_creator = store.creator.c_str ();
    }
}

namespace
{

struct Walk
{
  CuDicomWantFunc want;     /* NULL: every element */
  CuDicomVisitFunc visit;
  gpointer user_data;
  const char *path;
};

bool
is_pixel_data (const gdcm::Tag &t)
{
  /* Float / Double Float / Pixel Data: never handed out, at any depth (icon images). */
  return t.GetGroup () == 0x7FE0
         && (t.GetElement () == 0x0008 || t.GetElement () == 0x0009 || t.GetElement () == 0x0010);
}

/* The creators of a data set without private elements (group 0 matches no private one). */
const CuGdcmCreators no_creators;

/* FALSE when the visitor stopped the walk. */
bool
walk_dataset (Walk &w, const gdcm::DataSet &ds, const char *charset, const std::string &prefix,
              int depth)
{
  const char *own = _cu_gdcm_dataset_charset (ds);
  if (own != nullptr)
    charset = own;

  /* One store for the whole data set: its buffers are reused from element to element. */
  CuGdcmElementStore store;
  /* Made when the data set has a private element: most nested items have none, and the
   * table is 256 strings. */
  std::unique_ptr<CuGdcmCreators> own_creators;
  store.reuse_parent = true;
  for (gdcm::DataSet::ConstIterator it = ds.Begin (); it != ds.End (); ++it)
    {
      const gdcm::DataElement &de = *it;
      const gdcm::Tag &t = de.GetTag ();
      if (t.GetGroup () == 0x0002 || t.GetGroup () == 0xFFFE || is_pixel_data (t))
        continue;

      if (t.IsPrivate () && (own_creators == nullptr || t.GetGroup () != own_creators->group))
        {
          if (own_creators == nullptr)
            {
              own_creators = std::make_unique<CuGdcmCreators> ();
              store.creators = own_creators.get ();
            }
          else
            for (auto &n : own_creators->name)
              n.clear ();
          own_creators->group = t.GetGroup ();
        }
      const CuGdcmCreators &creators = own_creators != nullptr ? *own_creators : no_creators;

      CuDicomElement el;
      gdcm::SmartPointer<gdcm::SequenceOfItems> items;
      CuDicomWant wanted = CU_DICOM_WANT_VISIT;
      if (w.want != nullptr && !(t.IsPrivate () && t.IsPrivateCreator ()))
        {
          const char *vr = _cu_gdcm_element_vr (ds, de);
          const char *creator = nullptr;
          std::string searched;
          if (t.IsPrivate () && t.GetElement () >= 0x1000)
            {
              /* as _cu_gdcm_element_fill finds it: the creators of the group the walk is in
               * (kept trimmed), else GDCM's search */
              if (creators.group == t.GetGroup ())
                {
                  const std::string &name = creators.name[(guint8) (t.GetElement () >> 8)];
                  if (!name.empty ())
                    creator = name.c_str ();
                }
              else
                {
                  searched = ds.GetPrivateCreator (t);
                  while (!searched.empty () && (searched.back () == ' ' || searched.back () == '\0'))
                    searched.pop_back ();
                  if (!searched.empty ())
                    creator = searched.c_str ();
                }
            }
          wanted = w.want (t.GetGroup (), t.GetElement (), vr, depth, creator, w.user_data);
          if (wanted == CU_DICOM_WANT_SKIP_ALL)
            continue;
          if (wanted == CU_DICOM_WANT_SKIP)
            {
              /* Not visited, but its items may hold elements that are. */
              items = _cu_gdcm_element_items (ds, de, vr);
              if (!items)
                continue;
              std::string path = _cu_gdcm_tag_path (prefix, t);
              for (gdcm::SequenceOfItems::SizeType i = 1; i <= items->GetNumberOfItems (); i++)
                {
                  char idx[24];
                  g_snprintf (idx, sizeof idx, "[%u]/", (unsigned) (i - 1));
                  if (!walk_dataset (w, items->GetItem (i).GetNestedDataSet (), charset,
                                     path + idx, depth + 1))
                    return false;
                }
              continue;
            }
        }
      _cu_gdcm_element_fill (ds, de, charset, prefix, depth, &el, store, items);
      if (t.IsPrivate () && t.IsPrivateCreator ())
        own_creators->name[t.GetElement () & 0xFF] = store.creator;
      if (!w.visit (&el, w.user_data))
        return false;
      if (!items || wanted == CU_DICOM_WANT_VISIT_ONLY)
        continue;
      for (gdcm::SequenceOfItems::SizeType i = 1; i <= items->GetNumberOfItems (); i++)
        {
          char idx[24];
          g_snprintf (idx, sizeof idx, "[%u]/", (unsigned) (i - 1));
          if (!walk_dataset (w, items->GetItem (i).GetNestedDataSet (), charset,
                             store.tag_path + idx, depth + 1))
            return false;
        }
    }
  return true;
}

struct WalkCall
{
  Walk walk;
  CuDicomHeader *header;
};

gboolean
walk_guarded (gpointer data, GError **error)
{
  WalkCall *call = (WalkCall *) data;
  CuGdcmSource src;
  if (!_cu_gdcm_source_read (src, call->header, true, error))
    {
      if (error != nullptr && *error == nullptr)
        g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                     _("%s: malformed DICOM: the data set could not be parsed (truncated or "
                       "corrupt element)"), call->walk.path);
      return FALSE;
    }
  walk_dataset (call->walk, src.file ().GetDataSet (), nullptr, std::string (), 0);
  return TRUE;
}

} /* namespace */

bool
_cu_gdcm_walk_dataset (const gdcm::DataSet &ds, CuDicomWantFunc want, CuDicomVisitFunc visit,
                       gpointer user_data, const char *path)
{
  Walk w = { want, visit, user_data, path };
  return walk_dataset (w, ds, nullptr, std::string (), 0);
}

extern "C" gboolean
cu_dicom_walk_file (const char *path, CuDicomVisitFunc visit, gpointer user_data,
                    GError **error)
{
  return cu_dicom_walk_file_filtered (path, nullptr, visit, user_data, error);
}

extern "C" gboolean
cu_dicom_walk_file_filtered (const char *path, CuDicomWantFunc want, CuDicomVisitFunc visit,
                             gpointer user_data, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (visit != NULL, FALSE);

  /* GDCM runs in a parser process, where a crash on a hostile file costs that file only. */
  if (_cu_dicom_parser_isolated ())
    return _cu_dicom_parser_walk (path, want, nullptr, visit, user_data, error);
  return _cu_dicom_walk_file_local (path, want, visit, user_data, error);
}

extern "C" gboolean
_cu_dicom_walk_file_local (const char *path, CuDicomWantFunc want, CuDicomVisitFunc visit,
                           gpointer user_data, GError **error)
{
  int fd = -1;
  g_autoptr (CuDicomHeader) h = _cu_dicom_header_open (path, &fd, error);
  if (h == nullptr)
    return FALSE;
  close (fd);

  WalkCall call = { { want, visit, user_data, path }, h };
  return _cu_gdcm_run_guarded (path, walk_guarded, &call, error);
}

/* Two letters as one number, for switches. */
#define VR2(a, b) (((unsigned) (a) << 8) | (unsigned) (b))

bool
_cu_gdcm_vr_is_text (const char *vr)
{
  if (vr == nullptr || vr[0] == '\0')
    return false;
  switch (VR2 (vr[0], vr[1]))
    {
    case VR2 ('A', 'E'): case VR2 ('A', 'S'): case VR2 ('C', 'S'): case VR2 ('D', 'A'):
    case VR2 ('D', 'S'): case VR2 ('D', 'T'): case VR2 ('I', 'S'): case VR2 ('L', 'O'):
    case VR2 ('L', 'T'): case VR2 ('P', 'N'): case VR2 ('S', 'H'): case VR2 ('S', 'T'):
    case VR2 ('T', 'M'): case VR2 ('U', 'C'): case VR2 ('U', 'I'): case VR2 ('U', 'R'):
    case VR2 ('U', 'T'):
      return vr[2] == '\0';
    default:
      return false;
    }
}

bool
_cu_gdcm_vr_uses_charset (const char *vr)
{
  if (vr == nullptr || vr[0] == '\0')
    return false;
  switch (VR2 (vr[0], vr[1]))
    {
    case VR2 ('L', 'O'): case VR2 ('L', 'T'): case VR2 ('P', 'N'): case VR2 ('S', 'H'):
    case VR2 ('S', 'T'): case VR2 ('U', 'C'): case VR2 ('U', 'T'):
      return vr[2] == '\0';
    default:
      return false;
    }
}

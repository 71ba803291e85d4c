/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gdcm-walk.cc — cu_dicom_walk_file (cu-dicom-walk.h), and the element helpers it shares with
 * the rewriter (cu-gdcm-element-private.h).
 *
 * The file goes through the same gate as header reading (structural pre-check, deflated data
 * sets inflated by us, a file meta group GDCM refuses patched in memory, aborts and exceptions
 * caught), then gdcm::Reader::ReadUpToTag stops before Pixel Data, so no pixel byte is read.
 * Elements are visited in file order, depth first (PS3.5 §7.5: items of a sequence hold nested
 * data sets). VRs follow PS3.5 §6.2.2 / §A.1: implicit VR and VR UN elements are interpreted
 * with the data dictionary (PS3.6, and GDCM's private dictionary keyed by private creator,
 * PS3.5 §7.8.1); text is converted from each data set's Specific Character Set (an item may
 * carry its own, PS3.5 §6.1.2.5.2).
 */
#include "config.h"

#include <cstring>
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

} /* namespace */

const char *
_cu_gdcm_element_vr (const gdcm::DataSet &ds, const gdcm::DataElement &de)
{
  const gdcm::Tag &t = de.GetTag ();
  gdcm::VR::VRType vr = de.GetVR ();
  if (vr != gdcm::VR::INVALID && vr != gdcm::VR::UN)
    {
      const char *s = vr_letters (vr);
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

std::string
_cu_gdcm_tag_path (const std::string &parent, const gdcm::Tag &t)
{
  /* Formatted by hand: this runs for every element of every file checked. */
  static const char hex[] = "0123456789ABCDEF";
  char buf[12] = "(0000,0000)";
  guint16 g = t.GetGroup (), e = t.GetElement ();
  for (int i = 0; i < 4; i++)
    {
      buf[4 - i] = hex[(g >> (4 * i)) & 0xF];
      buf[9 - i] = hex[(e >> (4 * i)) & 0xF];
    }
  std::string path;
  path.reserve (parent.size () + 11);
  path.append (parent).append (buf, 11);
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
  store.tag_path = _cu_gdcm_tag_path (parent_path, t);
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
        {
          store.text = _cu_dicom_text_to_utf8 (out->value != nullptr ? (const char *) out->value
                                                                     : "",
                                               out->length,
                                               _cu_gdcm_vr_uses_charset (vr) ? charset : nullptr);
          out->text = store.text;
        }
    }

  if (t.IsPrivate ())
    {
      if (t.IsPrivateCreator ())
        {
          /* The creator element names itself. */
          if (store.text != nullptr && *store.text != '\0')
            store.creator = store.text;
        }
      else if (t.GetElement () >= 0x1000)
        store.creator = ds.GetPrivateCreator (t);
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

/* FALSE when the visitor stopped the walk. */
bool
walk_dataset (Walk &w, const gdcm::DataSet &ds, const char *charset, const std::string &prefix,
              int depth)
{
  const char *own = _cu_gdcm_dataset_charset (ds);
  if (own != nullptr)
    charset = own;

  for (gdcm::DataSet::ConstIterator it = ds.Begin (); it != ds.End (); ++it)
    {
      const gdcm::DataElement &de = *it;
      const gdcm::Tag &t = de.GetTag ();
      if (t.GetGroup () == 0x0002 || t.GetGroup () == 0xFFFE || is_pixel_data (t))
        continue;

      CuDicomElement el;
      CuGdcmElementStore store;
      gdcm::SmartPointer<gdcm::SequenceOfItems> items;
      _cu_gdcm_element_fill (ds, de, charset, prefix, depth, &el, store, items);
      if (!w.visit (&el, w.user_data))
        return false;
      if (!items)
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

extern "C" gboolean
cu_dicom_walk_file (const char *path, CuDicomVisitFunc visit, gpointer user_data,
                    GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (visit != NULL, FALSE);

  int fd = -1;
  g_autoptr (CuDicomHeader) h = _cu_dicom_header_open (path, &fd, error);
  if (h == nullptr)
    return FALSE;
  close (fd);

  WalkCall call = { { visit, user_data, path }, h };
  return _cu_gdcm_run_guarded (path, walk_guarded, &call, error);
}

bool
_cu_gdcm_vr_is_text (const char *vr)
{
  static const char *const text_vrs[] = { "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                          "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT" };
  for (const char *t : text_vrs)
    if (strcmp (vr, t) == 0)
      return true;
  return false;
}

bool
_cu_gdcm_vr_uses_charset (const char *vr)
{
  static const char *const vrs[] = { "LO", "LT", "PN", "SH", "ST", "UC", "UT" };
  for (const char *t : vrs)
    if (strcmp (vr, t) == 0)
      return true;
  return false;
}

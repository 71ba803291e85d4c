/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-gdcm-rewrite.cc — cu_dicom_rewrite_file (cu-dicom-walk.h): rewrite a DICOM file element by
 * element through GDCM.
 *
 * The whole file is read with gdcm::Reader (Pixel Data included, never decoded: encapsulated
 * fragments are written back byte for byte). Every data element is offered to the caller's edit
 * function, depth first, items of sequences included (PS3.5 §7.5); an edited item or sequence gets
 * undefined length so no stale length survives. Implicit VR data sets are made explicit with
 * gdcm::FileExplicitFilter (VRs from the PS3.6 dictionary). The File Meta Information is built
 * anew (PS3.10 §7.1) from the edited data set, so nothing of the original meta group (source AE
 * title, private meta elements, the old MediaStorageSOPInstanceUID) is carried over. Files are
 * written to a temporary name beside out_path and renamed. Every C++ exception stops here.
 */
#include "config.h"

#include <cstring>
#include <string>
#include <vector>

#include <gdcmDataSet.h>
#include <gdcmDict.h>
#include <gdcmDicts.h>
#include <gdcmFile.h>
#include <gdcmFileExplicitFilter.h>
#include <gdcmFileMetaInformation.h>
#include <gdcmGlobal.h>
#include <gdcmReader.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmStringFilter.h>
#include <gdcmTrace.h>
#include <gdcmTransferSyntax.h>
#include <gdcmWriter.h>

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>
#include <unistd.h>

#include "cu-dicom-header.h"
#include "cu-dicom-walk.h"
#include "cu-dicom-writer.h"
#include "cu-gdcm-shim-private.h"

namespace
{

struct RewriteCtx
{
  CuDicomEditFunc edit;
  gpointer user_data;
  const char *charset;          /* iconv name of (0008,0005), NULL = default repertoire */
  gdcm::StringFilter sf;
  const gdcm::Dicts *dicts;
};

bool
is_text_vr (const char *vr)
{
  static const char *const text_vrs[] = { "AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT",
                                          "PN", "SH", "ST", "TM", "UC", "UI", "UR", "UT" };
  for (const char *t : text_vrs)
    if (strcmp (vr, t) == 0)
      return true;
  return false;
}

/* VRs whose bytes depend on the Specific Character Set (PS3.5 §6.1.2.3). */
bool
is_charset_vr (const char *vr)
{
  static const char *const vrs[] = { "SH", "LO", "ST", "LT", "PN", "UT", "UC" };
  for (const char *t : vrs)
    if (strcmp (vr, t) == 0)
      return true;
  return false;
}

/* The VR to report for de: the explicit one, else the dictionary's (implicit files, VR UN).
 * Combined dictionary VRs (US or SS, OB or OW) are reported as their usual member. */
gdcm::VR
element_vr (RewriteCtx &ctx, const gdcm::DataSet &ds, const gdcm::DataElement &de)
{
  gdcm::VR vr = de.GetVR ();
  if (vr != gdcm::VR::INVALID && vr != gdcm::VR::UN)
    return vr;
  const gdcm::Tag &t = de.GetTag ();
  gdcm::VR dict_vr = gdcm::VR::INVALID;
  if (t.IsPrivate () && !t.IsPrivateCreator ())
    {
      std::string owner = ds.GetPrivateCreator (t);
      if (!owner.empty ())
        dict_vr = ctx.dicts->GetDictEntry (t, owner.c_str ()).GetVR ();
    }
  else if (t.IsPrivateCreator ())
    dict_vr = gdcm::VR::LO;
  else
    dict_vr = ctx.dicts->GetDictEntry (t).GetVR ();
  if (dict_vr == gdcm::VR::US_SS)
    return gdcm::VR::US;
  if (dict_vr == gdcm::VR::OB_OW || dict_vr == gdcm::VR::US_OW || dict_vr == gdcm::VR::US_SS_OW)
    return gdcm::VR::OW;
  if (dict_vr == gdcm::VR::INVALID || dict_vr == gdcm::VR::VR_END)
    return gdcm::VR::UN;
  return dict_vr;
}

char *
tag_path_for (const std::string &parent, const gdcm::Tag &t)
{
  g_autofree char *own = g_strdup_printf ("(%04X,%04X)", t.GetGroup (), t.GetElement ());
  if (parent.empty ())
    return g_strdup (own);
  return g_strdup_printf ("%s/%s", parent.c_str (), own);
}

/* Text → value bytes in the element's encoding: character set for text VRs, even length with
 * the PS3.5 §6.2 padding (NUL for UI, space for the rest), binary VRs through StringFilter. */
std::string
encode_value (RewriteCtx &ctx, const gdcm::Tag &t, const char *vr, const char *text)
{
  std::string out;
  if (is_text_vr (vr))
    {
      out = text;
      if (ctx.charset != nullptr && is_charset_vr (vr) && !g_str_is_ascii (text))
        {
          g_autofree char *conv = g_convert (text, -1, ctx.charset, "UTF-8", nullptr, nullptr,
                                             nullptr);
          if (conv != nullptr)
            out = conv;
        }
      if (out.size () % 2)
        out.push_back (strcmp (vr, "UI") == 0 ? '\0' : ' ');
      return out;
    }
  out = ctx.sf.FromString (t, text, strlen (text));
  return out;
}

bool process_dataset (RewriteCtx &ctx, gdcm::DataSet &ds, const std::string &parent, int depth);

/* Visit one element; returns false to propagate a failure. */
bool
process_element (RewriteCtx &ctx, gdcm::DataSet &ds, const gdcm::Tag &t,
                 const std::string &parent, int depth)
{
  if (!ds.FindDataElement (t))
    return true;
  gdcm::DataElement de = ds.GetDataElement (t);
  gdcm::VR vr = element_vr (ctx, ds, de);

  gdcm::SmartPointer<gdcm::SequenceOfItems> sq;
  bool is_sq = vr == gdcm::VR::SQ || de.GetVR () == gdcm::VR::SQ;
  if (is_sq || (de.GetVR () == gdcm::VR::UN && de.GetVL ().IsUndefined ()))
    {
      sq = de.GetValueAsSQ ();
      if (sq)
        is_sq = true;
    }

  g_autofree char *tag_path = tag_path_for (parent, t);
  CuDicomElement el;
  memset (&el, 0, sizeof el);
  el.tag_path = tag_path;
  el.group = t.GetGroup ();
  el.element = t.GetElement ();
  const char *vr_str = is_sq ? "SQ" : gdcm::VR::GetVRString (vr);
  if (vr_str == nullptr || strlen (vr_str) != 2)
    vr_str = "UN";
  memcpy (el.vr, vr_str, 2);
  el.vr[2] = '\0';
  el.depth = depth;
  el.is_sequence = is_sq;
  el.n_items = is_sq && sq ? (guint) sq->GetNumberOfItems () : 0;

  g_autofree char *text = nullptr;
  std::string owner;
  if (t.IsPrivate () && !t.IsPrivateCreator () && !t.IsGroupLength ())
    {
      owner = ds.GetPrivateCreator (t);
      if (!owner.empty ())
        el.private_creator = owner.c_str ();
    }
  if (!is_sq)
    {
      const gdcm::ByteValue *bv = de.GetByteValue ();
      if (bv != nullptr && bv->GetPointer () != nullptr)
        {
          el.value = (const guint8 *) bv->GetPointer ();
          el.length = bv->GetLength ();
        }
      if (is_text_vr (el.vr))
        {
          text = _cu_dicom_text_to_utf8 ((const char *) el.value, el.length,
                                         is_charset_vr (el.vr) ? ctx.charset : nullptr);
          el.text = text;
        }
    }

  char *replacement = nullptr;
  CuDicomEdit edit = ctx.edit (&el, &replacement, ctx.user_data);
  g_autofree char *repl = replacement;

  switch (edit)
    {
    case CU_DICOM_EDIT_REMOVE:
      ds.Remove (t);
      return true;

    case CU_DICOM_EDIT_EMPTY:
      if (is_sq)
        {
          gdcm::SmartPointer<gdcm::SequenceOfItems> empty = new gdcm::SequenceOfItems;
          empty->SetLengthToUndefined ();
          gdcm::DataElement nde (t);
          nde.SetVR (gdcm::VR::SQ);
          nde.SetValue (*empty);
          nde.SetVLToUndefined ();
          ds.Replace (nde);
        }
      else
        {
          gdcm::DataElement nde (t);
          nde.SetVR (de.GetVR ());
          nde.SetByteValue ("", 0);
          ds.Replace (nde);
        }
      return true;

    case CU_DICOM_EDIT_REPLACE:
      if (!is_sq && repl != nullptr)
        {
          std::string bytes = encode_value (ctx, t, el.vr, repl);
          gdcm::DataElement nde (t);
          /* Implicit elements keep VR INVALID here; FileExplicitFilter assigns it later. */
          nde.SetVR (de.GetVR () == gdcm::VR::UN ? vr : de.GetVR ());
          nde.SetByteValue (bytes.data (), (uint32_t) bytes.size ());
          ds.Replace (nde);
          return true;
        }
      /* A replacement for a sequence makes no sense: keep it, cleaning its items. */
      G_GNUC_FALLTHROUGH;
    case CU_DICOM_EDIT_KEEP:
    default:
      if (is_sq && sq)
        {
          for (gdcm::SequenceOfItems::SizeType i = 1; i <= sq->GetNumberOfItems (); i++)
            {
              gdcm::Item &item = sq->GetItem (i);
              g_autofree char *item_path = g_strdup_printf ("%s[%u]", tag_path, (guint) (i - 1));
              if (!process_dataset (ctx, item.GetNestedDataSet (), item_path, depth + 1))
                return false;
              item.SetVLToUndefined ();
            }
          sq->SetLengthToUndefined ();
          gdcm::DataElement nde (t);
          nde.SetVR (gdcm::VR::SQ);
          nde.SetValue (*sq);
          nde.SetVLToUndefined ();
          ds.Replace (nde);
        }
      return true;
    }
}

bool
process_dataset (RewriteCtx &ctx, gdcm::DataSet &ds, const std::string &parent, int depth)
{
  /* Collect the tags first: editing replaces and removes elements of the set. */
  std::vector<gdcm::Tag> tags;
  for (gdcm::DataSet::ConstIterator it = ds.Begin (); it != ds.End (); ++it)
    tags.push_back (it->GetTag ());
  for (const gdcm::Tag &t : tags)
    {
      if (t.GetGroup () == 0x0002 || t == gdcm::Tag (0x7FE0, 0x0010))
        continue;
      /* Group lengths (gggg,0000) are retired and would be stale after editing. */
      if (t.IsGroupLength ())
        {
          ds.Remove (t);
          continue;
        }
      if (!process_element (ctx, ds, t, parent, depth))
        return false;
    }
  return true;
}

gdcm::DataElement
text_element (RewriteCtx &ctx, guint32 tag, const char *vr, const char *text)
{
  gdcm::Tag t ((uint16_t) (tag >> 16), (uint16_t) (tag & 0xFFFF));
  gdcm::DataElement de (t);
  gdcm::VR gvr = gdcm::VR::GetVRType (vr);
  de.SetVR (gvr);
  std::string bytes = encode_value (ctx, t, vr, text != nullptr ? text : "");
  de.SetByteValue (bytes.data (), (uint32_t) bytes.size ());
  return de;
}

gboolean
rewrite (const char *in_path, const char *out_path, CuDicomEditFunc edit, gpointer user_data,
         const CuDicomInsert *inserts, guint n_inserts, const CuDicomCode *codes, guint n_codes,
         GError **error)
{
  gdcm::Trace::WarningOff ();
  gdcm::Trace::DebugOff ();
  gdcm::Trace::ErrorOff ();

  gdcm::Reader reader;
  reader.SetFileName (in_path);
  if (!reader.Read ())
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: malformed DICOM: the data set could not be parsed (truncated or "
                     "corrupt element)"), in_path);
      return FALSE;
    }
  gdcm::File &file = reader.GetFile ();
  gdcm::DataSet &ds = file.GetDataSet ();
  const gdcm::TransferSyntax ts = file.GetHeader ().GetDataSetTransferSyntax ();

  RewriteCtx ctx;
  ctx.edit = edit;
  ctx.user_data = user_data;
  ctx.charset = nullptr;
  ctx.sf.SetFile (file);
  ctx.dicts = &gdcm::Global::GetInstance ().GetDicts ();
  {
    const gdcm::Tag scs_tag (0x0008, 0x0005);
    if (ds.FindDataElement (scs_tag))
      {
        const gdcm::ByteValue *bv = ds.GetDataElement (scs_tag).GetByteValue ();
        if (bv != nullptr && bv->GetPointer () != nullptr)
          {
            g_autofree char *scs = _cu_dicom_text_to_utf8 (bv->GetPointer (), bv->GetLength (),
                                                           nullptr);
            ctx.charset = _cu_dicom_charset_to_iconv (scs);
          }
      }
  }

  if (!process_dataset (ctx, ds, std::string (), 0))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: cannot rewrite the data set"), in_path);
      return FALSE;
    }

  for (guint i = 0; i < n_inserts; i++)
    if (inserts[i].vr != nullptr && strcmp (inserts[i].vr, "SQ") != 0)
      ds.Replace (text_element (ctx, inserts[i].tag, inserts[i].vr, inserts[i].text));

  if (codes != nullptr)
    {
      gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
      sq->SetLengthToUndefined ();
      for (guint i = 0; i < n_codes; i++)
        {
          gdcm::Item item;
          item.SetVLToUndefined ();
          gdcm::DataSet &nds = item.GetNestedDataSet ();
          nds.Insert (text_element (ctx, CU_DICOM_TAG (0x0008, 0x0100), "SH", codes[i].code_value));
          nds.Insert (text_element (ctx, CU_DICOM_TAG (0x0008, 0x0102), "SH",
                                    codes[i].coding_scheme));
          nds.Insert (text_element (ctx, CU_DICOM_TAG (0x0008, 0x0104), "LO",
                                    codes[i].code_meaning));
          sq->AddItem (item);
        }
      gdcm::DataElement de (gdcm::Tag (0x0012, 0x0064));
      de.SetVR (gdcm::VR::SQ);
      de.SetValue (*sq);
      de.SetVLToUndefined ();
      ds.Replace (de);
    }

  /* Output transfer syntax: encapsulated pixel data keeps its own (its fragments are copied,
   * never re-encoded); big endian stays big endian (GDCM holds those values in file byte
   * order); everything else becomes Explicit VR Little Endian. */
  gdcm::TransferSyntax out_ts = gdcm::TransferSyntax::ExplicitVRLittleEndian;
  if (ts.IsEncapsulated ())
    out_ts = ts;
  else if (ts.GetSwapCode () == gdcm::SwapCode::BigEndian)
    out_ts = gdcm::TransferSyntax::ExplicitVRBigEndian;
  if (ts.IsImplicit () || ts == gdcm::TransferSyntax::ImplicitVRBigEndianPrivateGE)
    {
      gdcm::FileExplicitFilter filter;
      filter.SetFile (file);
      filter.SetChangePrivateTags (true);
      filter.SetRecomputeItemLength (false);
      filter.SetRecomputeSequenceLength (false);
      if (!filter.Change ())
        {
          g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                       _("%s: cannot convert the implicit VR data set to explicit VR"), in_path);
          return FALSE;
        }
    }

  /* New File Meta Information from the edited data set. */
  gdcm::FileMetaInformation &fmi = file.GetHeader ();
  fmi.Clear ();
  fmi.SetDataSetTransferSyntax (out_ts);
  {
    RewriteCtx &c = ctx;
    const char *impl = cu_dicom_implementation_uid ();
    fmi.Insert (text_element (c, CU_DICOM_TAG (0x0002, 0x0012), "UI", impl));
    fmi.Insert (text_element (c, CU_DICOM_TAG (0x0002, 0x0013), "SH", "CURATA"));
  }

  g_autofree char *dir = g_path_get_dirname (out_path);
  g_autofree char *base = g_path_get_basename (out_path);
  g_autofree char *tmpl = g_strdup_printf ("%s/.%s.XXXXXX", dir, base);
  int fd = g_mkstemp_full (tmpl, O_RDWR, 0644);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot create a file (%s)"),
                   out_path, g_strerror (saved));
      return FALSE;
    }
  close (fd);

  gdcm::Writer writer;
  writer.SetFile (file);
  writer.SetFileName (tmpl);
  writer.SetCheckFileMetaInformation (true);
  if (!writer.Write ())
    {
      g_unlink (tmpl);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot write the file"),
                   out_path);
      return FALSE;
    }
  if (g_rename (tmpl, out_path) != 0)
    {
      int saved = errno;
      g_unlink (tmpl);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot write the file (%s)"),
                   out_path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

} /* namespace */

extern "C" gboolean
cu_dicom_rewrite_file (const char *in_path, const char *out_path, CuDicomEditFunc edit,
                       gpointer user_data, const CuDicomInsert *inserts, guint n_inserts,
                       const CuDicomCode *codes, guint n_codes, GError **error)
{
  g_return_val_if_fail (in_path != nullptr && out_path != nullptr && edit != nullptr, FALSE);

  /* The header reader runs the structural pre-check and parses the file under the shim's
   * abort guard: a file it refuses never reaches the full GDCM read below, where GDCM's
   * assertions on damaged input would otherwise abort the process. */
  g_autoptr (CuDicomHeader) header = cu_dicom_header_read (in_path, error);
  if (header == nullptr)
    return FALSE;

  try
    {
      return rewrite (in_path, out_path, edit, user_data, inserts, n_inserts, codes, n_codes,
                      error);
    }
  catch (const std::exception &e)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: cannot rewrite the file: %s"), in_path, e.what ());
    }
  catch (...)
    {
      g_clear_error (error);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: cannot rewrite the file"), in_path);
    }
  return FALSE;
}

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
 * written to a temporary name beside out_path and renamed. Files pass the same gate as header
 * reading (structural pre-check, deflated data sets inflated by us, a file meta GDCM refuses
 * patched in memory — the real transfer syntax is written back); every C++ exception becomes
 * an error (_cu_gdcm_run_guarded). The rewrite runs in this process: it only ever sees files
 * the import has already parsed in a parser process (cu-dicom-parser.c).
 */
#include "config.h"

#include <cstring>
#include <ostream>
#include <streambuf>
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
#include "cu-gdcm-element-private.h"

namespace
{

struct RewriteCtx
{
  CuDicomEditFunc edit;
  gpointer user_data;
  gdcm::StringFilter sf;
  bool made_sequences = false;   /* a UN / implicit value became an SQ: VRs to fix */
};


bool
is_pixel_data (const gdcm::Tag &t)
{
  /* Pixel Data, Float and Double Float Pixel Data: copied as they are, at any depth. */
  return t.GetGroup () == 0x7FE0
         && (t.GetElement () == 0x0008 || t.GetElement () == 0x0009 || t.GetElement () == 0x0010);
}

/* Text → value bytes in the element's encoding: character set for text VRs, even length with
 * the PS3.5 §6.2 padding (NUL for UI, space for the rest), binary VRs through StringFilter. */
std::string
encode_value (RewriteCtx &ctx, const gdcm::Tag &t, const char *vr, const char *charset,
              const char *text)
{
  std::string out;
  if (_cu_gdcm_vr_is_text (vr))
    {
      out = text;
      if (charset != nullptr && _cu_gdcm_vr_uses_charset (vr) && !g_str_is_ascii (text))
        {
          g_autofree char *conv = g_convert (text, -1, charset, "UTF-8", nullptr, nullptr,
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

bool process_dataset (RewriteCtx &ctx, gdcm::DataSet &ds, const char *charset,
                      const std::string &prefix, int depth);

/* Offer one element to the edit function and apply its answer. */
bool
process_element (RewriteCtx &ctx, gdcm::DataSet &ds, const gdcm::Tag &t, const char *charset,
                 const std::string &prefix, int depth)
{
  if (!ds.FindDataElement (t))
    return true;
  gdcm::DataElement de = ds.GetDataElement (t);

  CuDicomElement el;
  CuGdcmElementStore store;
  gdcm::SmartPointer<gdcm::SequenceOfItems> items;
  _cu_gdcm_element_fill (ds, de, charset, prefix, depth, &el, store, items);

  char *replacement = nullptr;
  CuDicomEdit edit = ctx.edit (&el, &replacement, ctx.user_data);
  g_autofree char *repl = replacement;
  /* GDCM's own VR for the element: kept as is for explicit files (INVALID for implicit ones,
   * which FileExplicitFilter fills in later). */
  gdcm::VR own_vr = de.GetVR ();
  if (own_vr == gdcm::VR::UN && !el.is_sequence)
    {
      gdcm::VR dict_vr = gdcm::VR::GetVRType (el.vr);
      if (dict_vr != gdcm::VR::INVALID && dict_vr != gdcm::VR::VR_END)
        own_vr = dict_vr;
    }

  switch (edit)
    {
    case CU_DICOM_EDIT_REMOVE:
      ds.Remove (t);
      return true;

    case CU_DICOM_EDIT_EMPTY:
      if (el.is_sequence)
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
          nde.SetVR (own_vr);
          nde.SetByteValue ("", 0);
          ds.Replace (nde);
        }
      return true;

    case CU_DICOM_EDIT_REPLACE:
      if (!el.is_sequence && repl != nullptr)
        {
          std::string bytes = encode_value (ctx, t, el.vr, charset, repl);
          gdcm::DataElement nde (t);
          nde.SetVR (own_vr);
          nde.SetByteValue (bytes.data (), (uint32_t) bytes.size ());
          ds.Replace (nde);
          return true;
        }
      /* A replacement for a sequence makes no sense: keep it, cleaning its items. */
      G_GNUC_FALLTHROUGH;
    case CU_DICOM_EDIT_KEEP:
    default:
      if (items)
        {
          for (gdcm::SequenceOfItems::SizeType i = 1; i <= items->GetNumberOfItems (); i++)
            {
              char idx[24];
              g_snprintf (idx, sizeof idx, "[%u]/", (unsigned) (i - 1));
              gdcm::Item &item = items->GetItem (i);
              if (!process_dataset (ctx, item.GetNestedDataSet (), charset,
                                    store.tag_path + idx, depth + 1))
                return false;
              /* Its content changed: a defined item length would be stale. */
              item.SetVLToUndefined ();
            }
          items->SetLengthToUndefined ();
          if (de.GetVR () != gdcm::VR::SQ)
            ctx.made_sequences = true;
          gdcm::DataElement nde (t);
          nde.SetVR (gdcm::VR::SQ);
          nde.SetValue (*items);
          nde.SetVLToUndefined ();
          ds.Replace (nde);
        }
      return true;
    }
}

bool
process_dataset (RewriteCtx &ctx, gdcm::DataSet &ds, const char *charset,
                 const std::string &prefix, int depth)
{
  /* An item may carry its own Specific Character Set (PS3.5 §6.1.2.5.2). */
  const char *own = _cu_gdcm_dataset_charset (ds);
  if (own != nullptr)
    charset = own;

  /* Collect the tags first: editing replaces and removes elements of the set. */
  std::vector<gdcm::Tag> tags;
  for (gdcm::DataSet::ConstIterator it = ds.Begin (); it != ds.End (); ++it)
    tags.push_back (it->GetTag ());
  for (const gdcm::Tag &t : tags)
    {
      if (t.GetGroup () == 0x0002 || t.GetGroup () == 0xFFFE || is_pixel_data (t))
        continue;
      /* Group lengths (gggg,0000) are retired and would be stale after editing. */
      if (t.IsGroupLength ())
        {
          ds.Remove (t);
          continue;
        }
      if (!process_element (ctx, ds, t, charset, prefix, depth))
        return false;
    }
  return true;
}

gdcm::DataElement
text_element (RewriteCtx &ctx, guint32 tag, const char *vr, const char *charset,
              const char *text)
{
  gdcm::Tag t ((uint16_t) (tag >> 16), (uint16_t) (tag & 0xFFFF));
  gdcm::DataElement de (t);
  gdcm::VR gvr = gdcm::VR::GetVRType (vr);
  de.SetVR (gvr);
  std::string bytes = encode_value (ctx, t, vr, charset, text != nullptr ? text : "");
  de.SetByteValue (bytes.data (), (uint32_t) bytes.size ());
  return de;
}

/* After writing: the file meta of a file GDCM was given a stand-in transfer syntax for (same
 * length, cu-gdcm-shim.cc) must name the real one again. Only the meta group is searched. */
bool
restore_transfer_syntax (const char *path, const std::string &stand_in, const std::string &real)
{
  /* Both as written in the file: padded with NUL to even length (PS3.5 §6.2). */
  std::string from = stand_in, to = real;
  if (from.size () % 2)
    from.push_back ('\0');
  if (to.size () % 2)
    to.push_back ('\0');
  if (from.size () != to.size ())
    return false;
  gchar *contents = nullptr;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, nullptr))
    return false;
  std::string bytes (contents, len);
  g_free (contents);
  size_t meta_end = MIN (bytes.size (), (size_t) 1024);
  size_t at = bytes.substr (0, meta_end).find (from);
  if (at == std::string::npos)
    return false;
  bytes.replace (at, to.size (), to);
  return g_file_set_contents (path, bytes.data (), (gssize) bytes.size (), nullptr);
}

/* The output stream of the writer: write(2) to a descriptor, with the first error kept aside
 * instead of failing the stream. GDCM asserts ("Should not happen") when a stream it writes to
 * goes bad, which aborts the process on a full disk; this stream never goes bad, and the
 * caller reads error() once the writer is done. */
class FdStreamBuf : public std::streambuf
{
public:
  explicit FdStreamBuf (int fd) : fd_ (fd) { setp (buf_, buf_ + sizeof buf_); }
  /* Flush; 0 when every byte reached the file, else the first errno. */
  int finish () { drain (); return err_; }

protected:
  int_type overflow (int_type ch) override
  {
    drain ();
    if (!traits_type::eq_int_type (ch, traits_type::eof ()))
      {
        *pptr () = traits_type::to_char_type (ch);
        pbump (1);
      }
    return traits_type::not_eof (ch);
  }
  int sync () override { drain (); return 0; }

private:
  void drain ()
  {
    const char *p = pbase ();
    size_t left = (size_t) (pptr () - pbase ());
    while (left > 0 && err_ == 0)
      {
        ssize_t n = write (fd_, p, left);
        if (n < 0 && errno == EINTR)
          continue;
        if (n <= 0)
          {
            err_ = n < 0 ? errno : EIO;
            break;
          }
        p += n;
        left -= (size_t) n;
      }
    setp (buf_, buf_ + sizeof buf_);
  }

  int fd_;
  int err_ = 0;
  char buf_[1 << 16];
};

struct RewriteCall
{
  const CuDicomHeader *header;
  const char *out_path;
  CuDicomEditFunc edit;
  gpointer user_data;
  const CuDicomInsert *inserts;
  guint n_inserts;
  const CuDicomCode *codes;
  guint n_codes;
};

gboolean
rewrite (gpointer data, GError **error)
{
  RewriteCall *call = (RewriteCall *) data;
  const char *in_path = call->header->path;
  const char *out_path = call->out_path;

  CuGdcmSource src;
  if (!_cu_gdcm_source_read (src, call->header, false, error))
    {
      if (error != nullptr && *error == nullptr)
        g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                     _("%s: malformed DICOM: the data set could not be parsed (truncated or "
                       "corrupt element)"), in_path);
      return FALSE;
    }
  gdcm::File &file = src.file ();
  gdcm::DataSet &ds = file.GetDataSet ();
  const gdcm::TransferSyntax ts = file.GetHeader ().GetDataSetTransferSyntax ();
  const char *ts_uid = ts.GetString ();
  const std::string gdcm_ts = ts_uid != nullptr ? ts_uid : "";

  RewriteCtx ctx;
  ctx.edit = call->edit;
  ctx.user_data = call->user_data;
  ctx.sf.SetFile (file);

  if (!process_dataset (ctx, ds, nullptr, std::string (), 0))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
                   _("%s: cannot rewrite the data set"), in_path);
      return FALSE;
    }

  const char *charset = _cu_gdcm_dataset_charset (ds);
  for (guint i = 0; i < call->n_inserts; i++)
    {
      const CuDicomInsert *ins = &call->inserts[i];
      if (ins->vr != nullptr && strcmp (ins->vr, "SQ") != 0)
        ds.Replace (text_element (ctx, ins->tag, ins->vr, charset, ins->text));
    }

  if (call->codes != nullptr)
    {
      gdcm::SmartPointer<gdcm::SequenceOfItems> sq = new gdcm::SequenceOfItems;
      sq->SetLengthToUndefined ();
      for (guint i = 0; i < call->n_codes; i++)
        {
          const CuDicomCode *code = &call->codes[i];
          gdcm::Item item;
          item.SetVLToUndefined ();
          gdcm::DataSet &nds = item.GetNestedDataSet ();
          nds.Insert (text_element (ctx, CU_DICOM_TAG (0x0008, 0x0100), "SH", charset,
                                    code->code_value));
          nds.Insert (text_element (ctx, CU_DICOM_TAG (0x0008, 0x0102), "SH", charset,
                                    code->coding_scheme));
          nds.Insert (text_element (ctx, CU_DICOM_TAG (0x0008, 0x0104), "LO", charset,
                                    code->code_meaning));
          sq->AddItem (item);
        }
      gdcm::DataElement de (gdcm::Tag (0x0012, 0x0064));
      de.SetVR (gdcm::VR::SQ);
      de.SetValue (*sq);
      de.SetVLToUndefined ();
      ds.Replace (de);
    }

  /* Output transfer syntax: encapsulated pixel data keeps its own (the fragments are copied,
   * never re-encoded); big endian stays big endian (GDCM holds those values in file byte
   * order and does not swap them on writing); everything else, deflated data sets included
   * (inflated on reading), becomes Explicit VR Little Endian. */
  gdcm::TransferSyntax out_ts = gdcm::TransferSyntax::ExplicitVRLittleEndian;
  if (ts.IsEncapsulated ())
    out_ts = ts;
  else if (ts.GetSwapCode () == gdcm::SwapCode::BigEndian)
    out_ts = gdcm::TransferSyntax::ExplicitVRBigEndian;
  if (ts.IsImplicit () || ctx.made_sequences)
    {
      /* VRs from the dictionary (PS3.5 §6.2.2); sequences and items of undefined length. */
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

  /* New File Meta Information from the edited data set (the writer fills Media Storage SOP
   * Class/Instance UID from (0008,0016)/(0008,0018)). */
  gdcm::FileMetaInformation &fmi = file.GetHeader ();
  fmi.Clear ();
  fmi.SetDataSetTransferSyntax (out_ts);
  fmi.Insert (text_element (ctx, CU_DICOM_TAG (0x0002, 0x0012), "UI", nullptr,
                            cu_dicom_implementation_uid ()));
  fmi.Insert (text_element (ctx, CU_DICOM_TAG (0x0002, 0x0013), "SH", nullptr, "CURATA"));

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

  gdcm::Writer writer;
  bool ok;
  int write_errno;
  {
    FdStreamBuf buf (fd);
    std::ostream stream (&buf);
    writer.SetFile (file);
    writer.SetStream (stream);
    writer.SetCheckFileMetaInformation (true);
    ok = writer.Write ();
    stream.flush ();
    write_errno = buf.finish ();
  }
  if (close (fd) != 0 && write_errno == 0)
    write_errno = errno;
  if (write_errno != 0)
    {
      g_unlink (tmpl);
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, _("%s: cannot write the file (%s)"),
                   out_path, g_strerror (write_errno));
      return FALSE;
    }
  if (ok && ts.IsEncapsulated () && !src.declared_ts.empty () && src.declared_ts != gdcm_ts)
    ok = restore_transfer_syntax (tmpl, gdcm_ts, src.declared_ts);
  if (!ok)
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

  /* The same gate as header reading: the structural pre-check keeps damaged files away from
   * GDCM, and the guarded call turns GDCM's assertion failures and exceptions into errors. */
  int fd = -1;
  g_autoptr (CuDicomHeader) header = _cu_dicom_header_open (in_path, &fd, error);
  if (header == nullptr)
    return FALSE;
  close (fd);

  RewriteCall call = { header, out_path, edit, user_data, inserts, n_inserts, codes, n_codes };
  return _cu_gdcm_run_guarded (in_path, rewrite, &call, error);
}

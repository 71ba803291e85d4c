/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-dicom-parser.c — GDCM in parser processes: the client side (a pool of processes, one
 * request at a time each) and the server loop the curata-dicom-parser program runs.
 *
 * Why processes: GDCM is a large C++ parser fed with files from anywhere. On hostile input it
 * can abort on an assertion, overflow its stack, or corrupt its heap; none of that can be
 * caught and survived inside one process. A parser process that dies costs one file, which is
 * rejected with the signal that stopped it; the next request starts a fresh process.
 *
 * Protocol, over a Unix stream socket (send with MSG_NOSIGNAL: a dead peer is an error, never
 * SIGPIPE): each message is a 64-bit little-endian length and that many bytes. A request is
 * (kind, path[, header, output size]); the reply is a status, then a GError (domain, code,
 * message) or the result: element records (a 1 byte before each, a 0 byte after the last)
 * and a header, or decoded pixels. Both ends are the same build: a header crosses as the bytes of
 * CuDicomHeader followed by its strings and frames, every pointer replaced on arrival. The
 * client trusts nothing in a reply beyond its bounds: every read is checked against the
 * message, and a message is read as it arrives, never allocated from its announced length.
 *
 * The element walk crosses whole (every element, with its value): the caller's want/visit
 * callbacks then run here, on the records, exactly as the in-process walk would run them.
 *
 * Batches: on a warm page cache a header parse costs less than the round trip around it (two
 * wake-ups and half a dozen system calls), so the import sends a parser many paths in one
 * request (KIND_READ_BATCH) and the parser answers each file with its own reply as soon as it
 * is parsed. The client reads the replies through a buffer, many per recv. When a parser dies
 * in a batch, the files answered so far keep their results; the file it died on is parsed
 * once more alone, by a new parser (it is rejected only if that one dies too: the death may
 * have been a heap corrupted by an earlier file); the rest of the batch goes to a new parser.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gi18n-lib.h>

#include "cu-dicom-parser.h"
#include "cu-dicom-parser-private.h"
#include "cu-gdcm-shim-private.h"

#define PARSER_PROGRAM     "curata-dicom-parser"
#define MAX_REPLY          ((guint64) 1 << 32)   /* a reply larger than this is refused */
#define REPLY_TIMEOUT_MS   (10 * 60 * 1000)      /* a parser silent this long is stopped */

enum
{
  KIND_READ = 1,      /* header (+ elements when flags & FLAG_WALK) */
  KIND_WALK = 2,      /* elements only */
  KIND_DECODE = 3,    /* pixels */
  KIND_READ_BATCH = 4,  /* headers (+ elements) of many files: one reply per file */
};

#define FLAG_WALK 1

enum
{
  REC_ASKED = 1,      /* the walk asked want about this element */
  REC_SEQUENCE = 2,
  REC_TEXT = 4,
  REC_CREATOR = 8,
  REC_VALUE = 16,
  REC_BARE = 32,      /* outside the hint: asked about, never filled in */
};

/* ---- Messages --------------------------------------------------------------------------- */

static void
put_u32 (GByteArray *b, guint32 v)
{
  guint8 x[4] = { v, v >> 8, v >> 16, v >> 24 };
  g_byte_array_append (b, x, 4);
}

static void
put_u64 (GByteArray *b, guint64 v)
{
  put_u32 (b, (guint32) v);
  put_u32 (b, (guint32) (v >> 32));
}

static void
put_bytes (GByteArray *b, const void *data, gsize len)
{
  put_u64 (b, len);
  if (len > 0)
    g_byte_array_append (b, data, len);
}

/* A string, NUL included; NULL as the length 0. */
static void
put_str (GByteArray *b, const char *s)
{
  if (s == NULL)
    put_u64 (b, 0);
  else
    put_bytes (b, s, strlen (s) + 1);
}

typedef struct
{
  const guint8 *p;
  gsize len;
  gsize pos;
  gboolean bad;
} In;

static const guint8 *
get_raw (In *in, gsize n)
{
  if (in->bad || n > in->len - in->pos)
    {
      in->bad = TRUE;
      return NULL;
    }
  const guint8 *p = in->p + in->pos;
  in->pos += n;
  return p;
}

static guint32
get_u32 (In *in)
{
  const guint8 *p = get_raw (in, 4);
  return p == NULL ? 0 : p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16)
                         | ((guint32) p[3] << 24);
}

static guint64
get_u64 (In *in)
{
  guint64 lo = get_u32 (in);
  return lo | ((guint64) get_u32 (in) << 32);
}

static const guint8 *
get_bytes (In *in, gsize *len)
{
  guint64 n = get_u64 (in);
  if (n > in->len)
    {
      in->bad = TRUE;
      return NULL;
    }
  *len = (gsize) n;
  return get_raw (in, (gsize) n);
}

/* A string as put_str wrote it: NULL for absent, else NUL-terminated in the message. */
static const char *
get_str (In *in)
{
  gsize n = 0;
  const guint8 *p = get_bytes (in, &n);
  if (p == NULL || n == 0)
    return NULL;
  if (p[n - 1] != '\0' || memchr (p, '\0', n - 1) != NULL)
    {
      in->bad = TRUE;
      return NULL;
    }
  return (const char *) p;
}

static gboolean
send_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t n = send (fd, data, len, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
send_message (int fd, GByteArray *payload)
{
  guint8 head[8];
  for (int i = 0; i < 8; i++)
    head[i] = (guint8) ((guint64) payload->len >> (8 * i));
  /* Length and payload in one system call; the rest (a large reply) as it drains. */
  struct iovec iov[2] = { { head, 8 }, { payload->data, payload->len } };
  struct msghdr msg = { 0 };
  msg.msg_iov = iov;
  msg.msg_iovlen = payload->len > 0 ? 2 : 1;
  ssize_t n;
  do
    n = sendmsg (fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return FALSE;
  gsize sent = (gsize) n;
  if (sent < 8)
    return send_all (fd, head + sent, 8 - sent) && send_all (fd, payload->data, payload->len);
  sent -= 8;
  return send_all (fd, payload->data + sent, payload->len - sent);
}

/* Read exactly len bytes; timeout_ms < 0 waits for ever. FALSE on end of stream, error or
 * timeout (*timed_out set). */
static gboolean
recv_all (int fd, guint8 *data, gsize len, int timeout_ms, gboolean *timed_out)
{
  while (len > 0)
    {
      if (timeout_ms >= 0)
        {
          struct pollfd pfd = { fd, POLLIN, 0 };
          int r = poll (&pfd, 1, timeout_ms);
          if (r < 0 && errno == EINTR)
            continue;
          if (r == 0)
            {
              if (timed_out != NULL)
                *timed_out = TRUE;
              return FALSE;
            }
          if (r < 0)
            return FALSE;
        }
      ssize_t n = recv (fd, data, len, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

/* One message, grown as its bytes arrive (never allocated from the announced length alone). */
static GByteArray *
recv_message (int fd, guint64 max, int timeout_ms, gboolean *timed_out)
{
  guint8 head[8];
  if (!recv_all (fd, head, 8, timeout_ms, timed_out))
    return NULL;
  guint64 len = 0;
  for (int i = 0; i < 8; i++)
    len |= (guint64) head[i] << (8 * i);
  if (len > max)
    return NULL;

  g_autoptr (GByteArray) b = g_byte_array_new ();
  while ((guint64) b->len < len)
    {
      gsize chunk = (gsize) MIN (len - b->len, (guint64) 1 << 20);
      gsize at = b->len;
      g_byte_array_set_size (b, at + chunk);
      if (!recv_all (fd, b->data + at, chunk, timeout_ms, timed_out))
        return NULL;
    }
  return g_steal_pointer (&b);
}

/* ---- Headers across processes ----------------------------------------------------------- */

/* A header crosses as its bytes, and only the pointers listed by
 * _cu_dicom_header_string_fields (and frames, and each frame's stack_id) are replaced: a
 * pointer field added without being listed there would arrive as the parser process's
 * address. These sizes make such a change fail to build until it is looked at (x86-64). */
#if GLIB_SIZEOF_VOID_P == 8
G_STATIC_ASSERT (sizeof (CuDicomHeader) == 680);
G_STATIC_ASSERT (sizeof (CuDicomFrame) == 160);
#endif

static void
put_header (GByteArray *b, const CuDicomHeader *h)
{
  char **fields[64];
  guint n = _cu_dicom_header_string_fields ((CuDicomHeader *) h, fields, G_N_ELEMENTS (fields));

  put_bytes (b, h, sizeof *h);
  put_u32 (b, n);
  for (guint i = 0; i < n; i++)
    put_str (b, *fields[i]);
  put_u32 (b, h->n_frames);
  for (guint i = 0; i < h->n_frames; i++)
    {
      put_bytes (b, &h->frames[i], sizeof h->frames[i]);
      put_str (b, h->frames[i].stack_id);
    }
}

static CuDicomHeader *
get_header (In *in)
{
  char **fields[64];
  gsize len = 0;
  const guint8 *raw = get_bytes (in, &len);
  if (raw == NULL || len != sizeof (CuDicomHeader))
    {
      in->bad = TRUE;
      return NULL;
    }

  g_autoptr (CuDicomHeader) h = g_new (CuDicomHeader, 1);
  memcpy (h, raw, sizeof *h);
  /* Every pointer came from the other process: clear them all before anything can fail. */
  guint n = _cu_dicom_header_string_fields (h, fields, G_N_ELEMENTS (fields));
  for (guint i = 0; i < n; i++)
    *fields[i] = NULL;
  h->frames = NULL;
  guint n_frames_sent = h->n_frames;
  h->n_frames = 0;

  if (get_u32 (in) != n)
    in->bad = TRUE;
  for (guint i = 0; i < n && !in->bad; i++)
    *fields[i] = g_strdup (get_str (in));

  guint n_frames = get_u32 (in);
  /* Each frame takes more than sizeof (CuDicomFrame) bytes of the message. */
  if (in->bad || n_frames != n_frames_sent || n_frames > (in->len - in->pos) / sizeof (CuDicomFrame))
    {
      in->bad = TRUE;
      return NULL;
    }
  h->frames = n_frames > 0 ? g_new0 (CuDicomFrame, n_frames) : NULL;
  h->n_frames = n_frames;
  for (guint i = 0; i < n_frames && !in->bad; i++)
    {
      const guint8 *f = get_bytes (in, &len);
      if (f == NULL || len != sizeof (CuDicomFrame))
        {
          in->bad = TRUE;
          break;
        }
      memcpy (&h->frames[i], f, sizeof (CuDicomFrame));
      h->frames[i].stack_id = NULL;
      h->frames[i].stack_id = g_strdup (get_str (in));
    }
  return in->bad ? NULL : g_steal_pointer (&h);
}

static void
put_error (GByteArray *b, const GError *e)
{
  put_u32 (b, 1);
  put_str (b, g_quark_to_string (e->domain));
  put_u32 (b, (guint32) e->code);
  put_str (b, e->message);
}

/* ---- The parser process ------------------------------------------------------------------ */

typedef struct
{
  GByteArray *out;
  gboolean asked;
  char want_vr[3];
  /* the caller's hint (CuDicomWantHint), as it came in the request */
  gboolean has_hint;
  const guint8 *hint_tags;       /* n_hint_tags little-endian guint32, ascending */
  guint n_hint_tags;
  gboolean hint_private, hint_repeating;
  const char *hint_vrs;
} Recorder;

static gboolean
hint_accepts (const Recorder *r, guint16 group, guint16 element, const char *vr)
{
  if (!r->has_hint)
    return TRUE;
  if ((group & 1) && r->hint_private)
    return TRUE;
  if (r->hint_repeating && ((group >= 0x5000 && group <= 0x501E)
                            || (group >= 0x6000 && group <= 0x601E)))
    return TRUE;
  if (vr != NULL && vr[0] != '\0' && vr[1] != '\0' && r->hint_vrs != NULL)
    for (const char *v = r->hint_vrs; v[0] != '\0' && v[1] != '\0'; v += 2)
      if (v[0] == vr[0] && v[1] == vr[1])
        return TRUE;
  guint32 tag = (guint32) group << 16 | element;
  guint lo = 0, hi = r->n_hint_tags;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const guint8 *p = r->hint_tags + 4 * (gsize) mid;
      guint32 t = p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
      if (t == tag)
        return TRUE;
      if (t < tag)
        lo = mid + 1;
      else
        hi = mid;
    }
  return FALSE;
}

static CuDicomWant
record_want (guint16 group, guint16 element, const char *vr, int depth,
             const char *private_creator, gpointer user_data)
{
  Recorder *r = user_data;
  if (!hint_accepts (r, group, element, vr))
    {
      /* Outside the hint: the caller's want sees it (its state may depend on every element)
       * but will skip it, so it is not filled in here. Its items are still walked. */
      GByteArray *b = r->out;
      guint8 head[2] = { 1, REC_ASKED | REC_BARE | (private_creator != NULL ? REC_CREATOR : 0) };
      g_byte_array_append (b, head, 2);
      put_u32 (b, (guint32) group << 16 | element);
      char two[2] = { vr != NULL ? vr[0] : 0, vr != NULL && vr[0] != 0 ? vr[1] : 0 };
      g_byte_array_append (b, (const guint8 *) two, 2);
      put_u32 (b, (guint32) depth);
      if (private_creator != NULL)
        put_str (b, private_creator);
      return CU_DICOM_WANT_SKIP;
    }
  r->asked = TRUE;
  memset (r->want_vr, 0, sizeof r->want_vr);
  if (vr != NULL)
    g_strlcpy (r->want_vr, vr, sizeof r->want_vr);
  return CU_DICOM_WANT_VISIT;
}

static gboolean
record_visit (const CuDicomElement *e, gpointer user_data)
{
  Recorder *r = user_data;
  GByteArray *b = r->out;
  guint8 flags = (r->asked ? REC_ASKED : 0) | (e->is_sequence ? REC_SEQUENCE : 0)
                 | (e->text != NULL ? REC_TEXT : 0) | (e->private_creator != NULL ? REC_CREATOR : 0)
                 | (e->value != NULL ? REC_VALUE : 0);
  guint8 head[2] = { 1, flags };

  g_byte_array_append (b, head, 2);
  put_u32 (b, (guint32) e->group << 16 | e->element);
  g_byte_array_append (b, (const guint8 *) e->vr, 2);
  g_byte_array_append (b, (const guint8 *) (r->asked ? r->want_vr : e->vr), 2);
  put_u32 (b, (guint32) e->depth);
  put_u32 (b, e->n_items);
  put_u64 (b, e->length);
  put_str (b, e->tag_path);
  if (e->value != NULL)
    put_bytes (b, e->value, e->length);
  if (e->text != NULL)
    put_str (b, e->text);
  if (e->private_creator != NULL)
    put_str (b, e->private_creator);
  r->asked = FALSE;
  return TRUE;
}

static void
end_records (GByteArray *b)
{
  guint8 zero = 0;
  g_byte_array_append (b, &zero, 1);
}

static void
maybe_crash_for_tests (const char *path)
{
  /* A test hook: the tests make the parser die on a chosen file, to prove the import survives
   * what a GDCM crash would do. Never set outside the test suite. */
  const char *crash = g_getenv ("CU_TEST_PARSER_ABORT_ON");
  if (crash != NULL && *crash != '\0' && strstr (path, crash) != NULL)
    abort ();
}

static void
get_hint (In *in, Recorder *rec)
{
  rec->has_hint = get_u32 (in) != 0;
  if (rec->has_hint)
    {
      gsize len = 0;
      rec->hint_tags = get_bytes (in, &len);
      rec->n_hint_tags = (guint) (len / 4);
      guint32 hf = get_u32 (in);
      rec->hint_private = (hf & 1) != 0;
      rec->hint_repeating = (hf & 2) != 0;
      rec->hint_vrs = get_str (in);
    }
}

static void serve_read (guint32 kind, guint32 flags, const char *path, Recorder *rec,
                        GByteArray *reply);

static void
serve_one (In *in, GByteArray *reply)
{
  g_autoptr (GError) error = NULL;
  guint32 kind = get_u32 (in);
  guint32 flags = get_u32 (in);
  const char *path = get_str (in);
  Recorder rec = { 0 };
  if (kind == KIND_READ || kind == KIND_WALK)
    get_hint (in, &rec);

  if (in->bad || path == NULL)
    {
      g_set_error (&error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, "bad request");
      put_error (reply, error);
      return;
    }
  maybe_crash_for_tests (path);

  if (kind == KIND_READ || kind == KIND_WALK)
    {
      serve_read (kind, flags, path, &rec, reply);
      return;
    }

  if (kind == KIND_DECODE)
    {
      g_autoptr (CuDicomHeader) h = get_header (in);
      guint64 size = get_u64 (in);
      if (h == NULL || in->bad || size == 0 || size > MAX_REPLY)
        {
          g_set_error (&error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, "bad request");
          put_error (reply, error);
          return;
        }
      g_autofree guint8 *out = g_try_malloc ((gsize) size);
      gboolean ybr = FALSE;
      if (out == NULL)
        {
          g_set_error (&error, CU_DICOM_ERROR, CU_DICOM_ERROR_DECODE,
                       _("%s: not enough memory to decode the pixel data"), path);
          put_error (reply, error);
          return;
        }
      if (!_cu_gdcm_decode_frames_local (h, out, (gsize) size, &ybr, &error))
        {
          put_error (reply, error);
          return;
        }
      put_u32 (reply, 0);
      put_u32 (reply, ybr ? 1 : 0);
      put_bytes (reply, out, (gsize) size);
      return;
    }

  g_set_error (&error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, "bad request");
  put_error (reply, error);
}

/* The reply to one read (KIND_READ or KIND_WALK), appended to reply. */
static void
serve_read (guint32 kind, guint32 flags, const char *path, Recorder *rec, GByteArray *reply)
{
  /* The reply is written in place (status, element records, header): the records go
   * straight into it as the walk visits them, with no copy. A failure starts it over. */
  gsize base = reply->len;
  rec->out = reply;
  gboolean walk = kind == KIND_WALK || (flags & FLAG_WALK) != 0;
  gboolean ok;
  g_autoptr (CuDicomHeader) h = NULL;
  g_autoptr (GError) error = NULL;
  put_u32 (reply, 0);
  if (kind == KIND_READ)
    {
      h = _cu_dicom_header_read_local (path, walk ? record_want : NULL,
                                       walk ? record_visit : NULL, rec, &error);
      ok = h != NULL;
    }
  else
    ok = _cu_dicom_walk_file_local (path, record_want, record_visit, rec, &error);
  if (!ok)
    {
      g_byte_array_set_size (reply, base);
      put_error (reply, error);
      return;
    }
  if (walk)
    end_records (reply);
  if (h != NULL)
    put_header (reply, h);
}

/* Replies of a batch are sent in groups of this many files (or fewer when they are large):
 * one wake-up of the client per group instead of per file. A parser that dies loses at most
 * the group it was filling, whose files the client parses again. */
#define BATCH_GROUP_FILES 8
#define BATCH_GROUP_BYTES (256 * 1024)

/* KIND_READ_BATCH: kind, flags, n, n paths, hint. Each file's reply is its own message; they
 * are sent as the files are parsed, a few at a time, so that a parser that dies leaves the
 * replies before it with the client. */
static gboolean
serve_batch (int fd, In *in, GByteArray *reply)
{
  g_autoptr (GByteArray) group = g_byte_array_new ();
  guint in_group = 0;

  get_u32 (in);   /* kind */
  guint32 flags = get_u32 (in);
  guint32 n = get_u32 (in);
  if (in->bad || n > in->len / 8)
    return FALSE;
  g_autofree const char **paths = g_new0 (const char *, MAX (n, 1));
  for (guint32 i = 0; i < n; i++)
    paths[i] = get_str (in);
  Recorder rec = { 0 };
  get_hint (in, &rec);
  for (guint32 i = 0; i < n; i++)
    {
      g_byte_array_set_size (reply, 0);
      if (in->bad || paths[i] == NULL)
        {
          g_autoptr (GError) error = NULL;
          g_set_error (&error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO, "bad request");
          put_error (reply, error);
        }
      else
        {
          Recorder r = rec;
          maybe_crash_for_tests (paths[i]);
          serve_read (KIND_READ, flags, paths[i], &r, reply);
        }
      put_bytes (group, reply->data, reply->len);   /* the message: length, payload */
      if (++in_group >= BATCH_GROUP_FILES || group->len >= BATCH_GROUP_BYTES || i + 1 == n)
        {
          if (!send_all (fd, group->data, group->len))
            return FALSE;
          g_byte_array_set_size (group, 0);
          in_group = 0;
        }
    }
  return TRUE;
}

static gboolean in_parser_process;

int
cu_dicom_parser_serve (int fd)
{
  in_parser_process = TRUE;
  for (;;)
    {
      g_autoptr (GByteArray) req = recv_message (fd, (guint64) 1 << 30, -1, NULL);
      if (req == NULL)
        return 0;   /* the client went away */
      In in = { req->data, req->len, 0, FALSE };
      g_autoptr (GByteArray) reply = g_byte_array_sized_new (1 << 16);
      if (req->len >= 4 && req->data[0] == KIND_READ_BATCH && req->data[1] == 0
          && req->data[2] == 0 && req->data[3] == 0)
        {
          if (!serve_batch (fd, &in, reply))
            return 0;
          continue;
        }
      serve_one (&in, reply);
      if (!send_message (fd, reply))
        return 0;
    }
}

/* ---- The client: a pool of parser processes --------------------------------------------- */

gboolean
_cu_dicom_parser_isolated (void)
{
  static gsize mode = 0;   /* 1 isolated, 2 in process */

  if (in_parser_process)
    return FALSE;
  if (g_once_init_enter (&mode))
    {
      const char *env = g_getenv ("CURATA_DICOM_IN_PROCESS");
      g_once_init_leave (&mode, env != NULL && *env != '\0' && strcmp (env, "0") != 0 ? 2 : 1);
    }
  return mode == 1;
}

typedef struct
{
  GPid pid;
  int fd;
  GByteArray *rbuf;   /* replies received and not yet read (batches), from rpos on */
  gsize rpos;
} Parser;

static void
parser_free (Parser *p)
{
  if (p->rbuf != NULL)
    g_byte_array_unref (p->rbuf);
  g_free (p);
}

/* Make at least need bytes available in p->rbuf from p->rpos, receiving as much as the
 * socket holds at a time (up to 1 MiB per call): many small replies per recv. Grows only by
 * what arrives, never by an announced length. */
static gboolean
parser_fill (Parser *p, guint64 need, int timeout_ms, gboolean *timed_out)
{
  if (p->rbuf == NULL)
    p->rbuf = g_byte_array_sized_new (1 << 16);
  while ((guint64) (p->rbuf->len - p->rpos) < need)
    {
      if (p->rpos > 0)
        {
          gsize left = p->rbuf->len - p->rpos;
          memmove (p->rbuf->data, p->rbuf->data + p->rpos, left);
          g_byte_array_set_size (p->rbuf, left);
          p->rpos = 0;
        }
      struct pollfd pfd = { p->fd, POLLIN, 0 };
      int r = poll (&pfd, 1, timeout_ms);
      if (r < 0 && errno == EINTR)
        continue;
      if (r == 0)
        {
          *timed_out = TRUE;
          return FALSE;
        }
      if (r < 0)
        return FALSE;
      gsize at = p->rbuf->len;
      gsize room = (gsize) CLAMP (need - (guint64) at, (guint64) 1 << 16, (guint64) 1 << 20);
      g_byte_array_set_size (p->rbuf, at + room);
      ssize_t n = recv (p->fd, p->rbuf->data + at, room, 0);
      g_byte_array_set_size (p->rbuf, at + (n > 0 ? (gsize) n : 0));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
    }
  return TRUE;
}

/* The next reply of a batch, read in place: *out is valid until the next call. */
static gboolean
parser_recv (Parser *p, guint64 max, int timeout_ms, gboolean *timed_out, In *out)
{
  if (!parser_fill (p, 8, timeout_ms, timed_out))
    return FALSE;
  guint64 len = 0;
  for (int i = 0; i < 8; i++)
    len |= (guint64) p->rbuf->data[p->rpos + i] << (8 * i);
  if (len > max || !parser_fill (p, 8 + len, timeout_ms, timed_out))
    return FALSE;
  *out = (In) { p->rbuf->data + p->rpos + 8, (gsize) len, 0, FALSE };
  p->rpos += 8 + (gsize) len;
  return TRUE;
}

static GMutex pool_lock;
static GCond pool_cond;
static GPtrArray *pool_idle;   /* Parser * */
static guint pool_live;        /* started and not discarded */

static guint
pool_max (void)
{
  /* The import reads with two threads; more processes than cores only cost memory. */
  return CLAMP (g_get_num_processors (), 2, 8);
}

static const char *
parser_program (GError **error)
{
  static char *found = NULL;
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("CURATA_DICOM_PARSER");
      char *path = NULL;
      if (env != NULL && *env != '\0')
        path = g_strdup (env);
      else
        {
          g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
          g_autofree char *dir = self != NULL ? g_path_get_dirname (self) : NULL;
          g_autofree char *beside = dir != NULL ? g_build_filename (dir, PARSER_PROGRAM, NULL)
                                                : NULL;
          /* In a build tree, programs of bench/ and tests/ find it in app/cli/. */
          g_autofree char *in_build = dir != NULL
                                      ? g_build_filename (dir, "..", "app", "cli", PARSER_PROGRAM,
                                                          NULL)
                                      : NULL;
          if (beside != NULL && g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
            path = g_steal_pointer (&beside);
          else if (in_build != NULL && g_file_test (in_build, G_FILE_TEST_IS_EXECUTABLE))
            path = g_canonicalize_filename (in_build, NULL);
          else
            path = g_build_filename (LIBEXECDIR, PARSER_PROGRAM, NULL);
        }
      found = path;
      g_once_init_leave (&once, 1);
    }
  if (!g_file_test (found, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO,
                   _("the DICOM parser program is missing (%s); set CURATA_DICOM_PARSER to "
                     "its path"), found);
      return NULL;
    }
  return found;
}

static Parser *
parser_start (GError **error)
{
  const char *program = parser_program (error);
  int sv[2];

  if (program == NULL)
    return NULL;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    {
      int saved = errno;
      g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_IO,
                   _("cannot start the DICOM parser: %s"), g_strerror (saved));
      return NULL;
    }
  char *argv[] = { (char *) program, (char *) "--fd=3", NULL };
  gint source_fds[] = { sv[1] };
  gint target_fds[] = { 3 };
  GPid pid = 0;
  gboolean ok = g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv, NULL,
                                                  G_SPAWN_DO_NOT_REAP_CHILD
                                                  | G_SPAWN_STDIN_FROM_DEV_NULL
                                                  | G_SPAWN_STDOUT_TO_DEV_NULL
                                                  | G_SPAWN_STDERR_TO_DEV_NULL,
                                                  NULL, NULL, -1, -1, -1, source_fds,
                                                  target_fds, 1, &pid, NULL, NULL, NULL, error);
  close (sv[1]);
  if (!ok)
    {
      close (sv[0]);
      return NULL;
    }
  Parser *p = g_new0 (Parser, 1);
  p->pid = pid;
  p->fd = sv[0];
  return p;
}

static Parser *
pool_acquire (GError **error)
{
  g_mutex_lock (&pool_lock);
  if (pool_idle == NULL)
    pool_idle = g_ptr_array_new ();
  for (;;)
    {
      if (pool_idle->len > 0)
        {
          Parser *p = g_ptr_array_steal_index (pool_idle, pool_idle->len - 1);
          g_mutex_unlock (&pool_lock);
          return p;
        }
      if (pool_live < pool_max ())
        break;
      g_cond_wait (&pool_cond, &pool_lock);
    }
  pool_live++;
  g_mutex_unlock (&pool_lock);

  Parser *p = parser_start (error);
  if (p == NULL)
    {
      g_mutex_lock (&pool_lock);
      pool_live--;
      g_cond_signal (&pool_cond);
      g_mutex_unlock (&pool_lock);
    }
  return p;
}

void
_cu_dicom_parser_prestart (void)
{
  if (!_cu_dicom_parser_isolated ())
    return;
  g_mutex_lock (&pool_lock);
  if (pool_idle == NULL)
    pool_idle = g_ptr_array_new ();
  while (pool_live < pool_max ())
    {
      pool_live++;
      g_mutex_unlock (&pool_lock);
      Parser *p = parser_start (NULL);
      g_mutex_lock (&pool_lock);
      if (p == NULL)
        {
          pool_live--;   /* the first request will say why */
          break;
        }
      g_ptr_array_add (pool_idle, p);
      g_cond_signal (&pool_cond);
    }
  g_mutex_unlock (&pool_lock);
}

static void
pool_release (Parser *p)
{
  g_mutex_lock (&pool_lock);
  g_ptr_array_add (pool_idle, p);
  g_cond_signal (&pool_cond);
  g_mutex_unlock (&pool_lock);
}

/* A parser that died or stopped answering: reap it, say why in *error, and let the next
 * request start a new one. */
static void
pool_discard (Parser *p, const char *path, gboolean timed_out, int code, GError **error)
{
  int status = 0;

  close (p->fd);
  if (timed_out)
    kill (p->pid, SIGKILL);
  while (waitpid (p->pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (timed_out)
    g_set_error (error, CU_DICOM_ERROR, code,
                 _("%s: the DICOM parser did not finish this file within %d minutes"), path,
                 REPLY_TIMEOUT_MS / 60000);
  else if (WIFSIGNALED (status))
    g_set_error (error, CU_DICOM_ERROR, code,
                 _("%s: the DICOM parser stopped on this file: signal %d (%s)"), path,
                 WTERMSIG (status), g_strsignal (WTERMSIG (status)));
  else
    g_set_error (error, CU_DICOM_ERROR, code,
                 _("%s: the DICOM parser stopped on this file (exit status %d)"), path,
                 WIFEXITED (status) ? WEXITSTATUS (status) : -1);
  parser_free (p);

  g_mutex_lock (&pool_lock);
  pool_live--;
  g_cond_signal (&pool_cond);
  g_mutex_unlock (&pool_lock);
}

/* Send one request and wait for its reply. NULL with error (code, a CuDicomError) when the
 * parser died (or could not be started). */
static GByteArray *
call (GByteArray *request, const char *path, guint64 max_reply, int code, GError **error)
{
  Parser *p = pool_acquire (error);
  if (p == NULL)
    return NULL;

  gboolean timed_out = FALSE;
  GByteArray *reply = NULL;
  if (!send_message (p->fd, request))
    {
      /* It died while idle (nothing of this file was parsed yet): once more, with a new
       * one. */
      kill (p->pid, SIGKILL);
      g_autoptr (GError) ignored = NULL;
      pool_discard (p, path, FALSE, code, &ignored);
      p = pool_acquire (error);
      if (p == NULL)
        return NULL;
      if (!send_message (p->fd, request))
        {
          kill (p->pid, SIGKILL);
          pool_discard (p, path, FALSE, code, error);
          return NULL;
        }
    }
  reply = recv_message (p->fd, max_reply, REPLY_TIMEOUT_MS, &timed_out);
  if (reply == NULL)
    {
      /* Dead, silent, or talking nonsense (an oversized reply): it is not reused. */
      if (!timed_out)
        kill (p->pid, SIGKILL);
      pool_discard (p, path, timed_out, code, error);
      return NULL;
    }
  pool_release (p);
  return reply;
}

static void
put_hint (GByteArray *b, const CuDicomWantHint *hint, CuDicomWantFunc want)
{
  /* Without a want function every element is visited: nothing to leave out. */
  if (hint == NULL || want == NULL)
    {
      put_u32 (b, 0);
      return;
    }
  put_u32 (b, 1);
  put_u64 (b, (guint64) hint->n_tags * 4);
  for (guint i = 0; i < hint->n_tags; i++)
    put_u32 (b, hint->tags[i]);
  put_u32 (b, (hint->private_elements ? 1 : 0) | (hint->repeating_groups ? 2 : 0));
  put_str (b, hint->vrs);
}

static gboolean
get_status (In *in, const char *path, GError **error)
{
  guint32 status = get_u32 (in);
  if (!in->bad && status == 0)
    return TRUE;
  if (!in->bad && status == 1)
    {
      const char *domain = get_str (in);
      guint32 code = get_u32 (in);
      const char *message = get_str (in);
      if (!in->bad && domain != NULL && message != NULL)
        {
          g_set_error_literal (error, g_quark_from_string (domain), (gint) code, message);
          return FALSE;
        }
    }
  g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
               _("%s: the DICOM parser sent an unreadable reply"), path);
  return FALSE;
}

static void
bad_reply (const char *path, GError **error)
{
  g_set_error (error, CU_DICOM_ERROR, CU_DICOM_ERROR_MALFORMED,
               _("%s: the DICOM parser sent an unreadable reply"), path);
}

/* Run want and visit over the element records, as the in-process walk would. FALSE when the
 * records are damaged. */
static gboolean
replay (In *in, CuDicomWantFunc want, CuDicomVisitFunc visit, gpointer user_data)
{
  gint64 skip_below = -1;    /* skip elements deeper than this (a skipped sequence's) */
  gboolean stopped = FALSE;

  for (;;)
    {
      const guint8 *head = get_raw (in, 1);
      if (head == NULL)
        return FALSE;
      if (head[0] == 0)
        return TRUE;
      const guint8 *fl = get_raw (in, 1);
      if (fl != NULL && (fl[0] & REC_BARE))
        {
          /* Outside the hint: want is asked and skips it (or all inside it). */
          guint32 btag = get_u32 (in);
          const guint8 *bvr = get_raw (in, 2);
          guint32 bdepth = get_u32 (in);
          const char *creator = (fl[0] & REC_CREATOR) ? get_str (in) : NULL;
          if (in->bad)
            return FALSE;
          if (stopped || want == NULL || (skip_below >= 0 && (gint64) bdepth > skip_below))
            continue;
          skip_below = -1;
          char wvr[3] = { bvr[0], bvr[1], '\0' };
          CuDicomWant w = want (btag >> 16, btag & 0xFFFF, wvr[0] != '\0' ? wvr : NULL,
                                (int) MIN (bdepth, (guint32) G_MAXINT), creator, user_data);
          /* A want that accepts an element outside its hint cannot see it (the hint was
           * wrong); it is skipped, as the hint said. */
          if (w == CU_DICOM_WANT_SKIP_ALL)
            skip_below = bdepth;
          continue;
        }
      guint32 tag = get_u32 (in);
      const guint8 *vr = get_raw (in, 2);
      const guint8 *want_vr = get_raw (in, 2);
      guint32 depth = get_u32 (in);
      guint32 n_items = get_u32 (in);
      guint64 length = get_u64 (in);
      const char *tag_path = get_str (in);
      if (in->bad || head[0] != 1 || tag_path == NULL)
        return FALSE;
      guint8 flags = fl[0];
      CuDicomElement e = { 0 };
      gsize value_len = 0;
      e.tag_path = tag_path;
      e.group = tag >> 16;
      e.element = tag & 0xFFFF;
      memcpy (e.vr, vr, 2);
      e.depth = (int) MIN (depth, (guint32) G_MAXINT);
      e.is_sequence = (flags & REC_SEQUENCE) != 0;
      e.n_items = n_items;
      e.length = (gsize) length;
      if (flags & REC_VALUE)
        {
          e.value = get_bytes (in, &value_len);
          if (e.value != NULL && value_len != length)
            return FALSE;
        }
      if (flags & REC_TEXT)
        e.text = get_str (in);
      if (flags & REC_CREATOR)
        e.private_creator = get_str (in);
      if (in->bad)
        return FALSE;
      /* The text of a string VR is valid UTF-8 where it is made; make sure of it here. */
      if (e.text != NULL && !g_utf8_validate (e.text, -1, NULL))
        return FALSE;

      if (stopped)
        continue;
      if (skip_below >= 0 && (gint64) depth > skip_below)
        continue;
      skip_below = -1;

      CuDicomWant wanted = CU_DICOM_WANT_VISIT;
      if (want != NULL && (flags & REC_ASKED))
        {
          char wvr[3] = { want_vr[0], want_vr[1], '\0' };
          wanted = want (e.group, e.element, wvr[0] != '\0' ? wvr : NULL, e.depth,
                         e.private_creator, user_data);
          if (wanted == CU_DICOM_WANT_SKIP_ALL)
            {
              skip_below = depth;
              continue;
            }
          if (wanted == CU_DICOM_WANT_SKIP)
            continue;
        }
      if (!visit (&e, user_data))
        {
          stopped = TRUE;
          continue;
        }
      if (wanted == CU_DICOM_WANT_VISIT_ONLY)
        skip_below = depth;
    }
}

/* A KIND_READ reply: status, element records (replayed to want and visit), header. */
static CuDicomHeader *
read_reply (In *in, const char *path, CuDicomWantFunc want, CuDicomVisitFunc visit,
            gpointer user_data, GError **error)
{
  if (!get_status (in, path, error))
    return NULL;
  if (visit != NULL && !replay (in, want, visit, user_data))
    {
      bad_reply (path, error);
      return NULL;
    }
  CuDicomHeader *h = get_header (in);
  if (h == NULL)
    bad_reply (path, error);
  return h;
}

void
_cu_dicom_parser_read_batch (CuDicomReadJob *jobs, guint n, CuDicomWantFunc want,
                             const CuDicomWantHint *hint, CuDicomVisitFunc visit)
{
  guint next = 0, failed_sends = 0;

  while (next < n)
    {
      GError *start_error = NULL;
      Parser *p = pool_acquire (&start_error);
      if (p == NULL)
        {
          for (guint i = next; i < n; i++)
            jobs[i].error = g_error_copy (start_error);
          g_error_free (start_error);
          return;
        }

      g_autoptr (GByteArray) req = g_byte_array_new ();
      put_u32 (req, KIND_READ_BATCH);
      put_u32 (req, visit != NULL ? FLAG_WALK : 0);
      put_u32 (req, n - next);
      for (guint i = next; i < n; i++)
        put_str (req, jobs[i].path);
      put_hint (req, hint, want);
      if (!send_message (p->fd, req))
        {
          /* It died while idle (nothing of these files was parsed): a new one, once. */
          g_autoptr (GError) ignored = NULL;
          kill (p->pid, SIGKILL);
          pool_discard (p, jobs[next].path, FALSE, CU_DICOM_ERROR_MALFORMED, &ignored);
          if (++failed_sends > 1)
            {
              for (guint i = next; i < n; i++)
                jobs[i].header = _cu_dicom_parser_read (jobs[i].path, want, hint, visit,
                                                        jobs[i].user_data, &jobs[i].error);
              return;
            }
          continue;
        }

      gboolean timed_out = FALSE;
      guint i = next;
      for (; i < n; i++)
        {
          In in;
          if (!parser_recv (p, MAX_REPLY, REPLY_TIMEOUT_MS, &timed_out, &in))
            break;
          jobs[i].header = read_reply (&in, jobs[i].path, want, visit, jobs[i].user_data,
                                       &jobs[i].error);
        }
      if (i == n)
        {
          p->rpos = 0;
          g_byte_array_set_size (p->rbuf, 0);
          pool_release (p);
          return;
        }

      /* The parser died (or fell silent) on jobs[i]. A silent one is not waited for twice;
       * a dead one may have been killed by an earlier file's damage, so the file is read
       * once more, alone, by a new parser, whose death alone rejects it. */
      GError *died = NULL;
      if (!timed_out)
        kill (p->pid, SIGKILL);
      pool_discard (p, jobs[i].path, timed_out, CU_DICOM_ERROR_MALFORMED, &died);
      if (timed_out)
        jobs[i].error = died;
      else
        {
          g_error_free (died);
          jobs[i].header = _cu_dicom_parser_read (jobs[i].path, want, hint, visit,
                                                  jobs[i].user_data, &jobs[i].error);
        }
      next = i + 1;
    }
}

CuDicomHeader *
_cu_dicom_parser_read (const char *path, CuDicomWantFunc want, const CuDicomWantHint *hint,
                       CuDicomVisitFunc visit, gpointer user_data, GError **error)
{
  g_autoptr (GByteArray) req = g_byte_array_new ();
  put_u32 (req, KIND_READ);
  put_u32 (req, visit != NULL ? FLAG_WALK : 0);
  put_str (req, path);
  put_hint (req, hint, want);

  g_autoptr (GByteArray) reply = call (req, path, MAX_REPLY, CU_DICOM_ERROR_MALFORMED, error);
  if (reply == NULL)
    return NULL;
  In in = { reply->data, reply->len, 0, FALSE };
  return read_reply (&in, path, want, visit, user_data, error);
}

gboolean
_cu_dicom_parser_walk (const char *path, CuDicomWantFunc want, const CuDicomWantHint *hint,
                       CuDicomVisitFunc visit, gpointer user_data, GError **error)
{
  g_autoptr (GByteArray) req = g_byte_array_new ();
  put_u32 (req, KIND_WALK);
  put_u32 (req, 0);
  put_str (req, path);
  put_hint (req, hint, want);

  g_autoptr (GByteArray) reply = call (req, path, MAX_REPLY, CU_DICOM_ERROR_MALFORMED, error);
  if (reply == NULL)
    return FALSE;
  In in = { reply->data, reply->len, 0, FALSE };
  if (!get_status (&in, path, error))
    return FALSE;
  if (!replay (&in, want, visit, user_data))
    {
      bad_reply (path, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
_cu_gdcm_decode_frames (const CuDicomHeader *header, guint8 *out, gsize out_size,
                        gboolean *out_ybr, GError **error)
{
  if (!_cu_dicom_parser_isolated ())
    return _cu_gdcm_decode_frames_local (header, out, out_size, out_ybr, error);

  g_autoptr (GByteArray) req = g_byte_array_new ();
  put_u32 (req, KIND_DECODE);
  put_u32 (req, 0);
  put_str (req, header->path);
  put_header (req, header);
  put_u64 (req, out_size);

  g_autoptr (GByteArray) reply = call (req, header->path, (guint64) out_size + 4096,
                                        CU_DICOM_ERROR_DECODE, error);
  if (reply == NULL)
    return FALSE;
  In in = { reply->data, reply->len, 0, FALSE };
  if (!get_status (&in, header->path, error))
    return FALSE;
  gboolean ybr = get_u32 (&in) != 0;
  gsize len = 0;
  const guint8 *pixels = get_bytes (&in, &len);
  if (pixels == NULL || len != out_size)
    {
      bad_reply (header->path, error);
      return FALSE;
    }
  memcpy (out, pixels, out_size);
  *out_ybr = ybr;
  return TRUE;
}

CuDicomHeader *
cu_dicom_header_read_walk_hinted (const char *path, CuDicomWantFunc want,
                                  const CuDicomWantHint *hint, CuDicomVisitFunc visit,
                                  gpointer user_data, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  if (_cu_dicom_parser_isolated ())
    return _cu_dicom_parser_read (path, want, hint, visit, user_data, error);
  return _cu_dicom_header_read_local (path, want, visit, user_data, error);
}

gboolean
cu_dicom_walk_file_hinted (const char *path, CuDicomWantFunc want, const CuDicomWantHint *hint,
                           CuDicomVisitFunc visit, gpointer user_data, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (visit != NULL, FALSE);

  if (_cu_dicom_parser_isolated ())
    return _cu_dicom_parser_walk (path, want, hint, visit, user_data, error);
  return _cu_dicom_walk_file_local (path, want, visit, user_data, error);
}

void
cu_dicom_header_read_walk_batch (CuDicomReadJob *jobs, guint n_jobs, CuDicomWantFunc want,
                                 const CuDicomWantHint *hint, CuDicomVisitFunc visit)
{
  g_return_if_fail (jobs != NULL || n_jobs == 0);

  if (n_jobs == 0)
    return;
  if (_cu_dicom_parser_isolated ())
    {
      _cu_dicom_parser_read_batch (jobs, n_jobs, want, hint, visit);
      return;
    }
  for (guint i = 0; i < n_jobs; i++)
    jobs[i].header = _cu_dicom_header_read_local (jobs[i].path, want, visit, jobs[i].user_data,
                                                  &jobs[i].error);
}

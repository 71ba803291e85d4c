/* SPDX-License-Identifier: GPL-3.0-or-later
 * cu-store-locks.c — SQLite's file locks, made immune to other code closing the database file.
 *
 * SQLite's unix VFS locks the database and its -shm index with POSIX record locks
 * (fcntl F_SETLK). POSIX locks belong to the process and the inode, and the kernel drops *all*
 * of a process's locks on a file as soon as the process closes *any* descriptor of that file
 * (POSIX.1-2008, fcntl(2) "Advisory record locking"). SQLite is careful with its own
 * descriptors, but it cannot know about anyone else's: in the GUI, GTK's file chooser sniffs
 * the content type of every file in a folder it shows (workspace.sqlite and its -shm and -wal
 * have no extension that shared-mime-info knows, so GLib opens them, reads 4 KiB and closes
 * them). After that the GUI still has its connection but holds no lock, so when curata-cli
 * closes its own connection it believes it is the last user, checkpoints and deletes the -wal
 * and -shm under the GUI; the GUI's later writes go to an unlinked file and are lost.
 *
 * Open file description locks (F_OFD_SETLK, Linux 3.15) have the same byte-range semantics
 * and conflict with POSIX locks of other processes, but belong to an open file description and
 * are released only when the last descriptor of that description is closed: an unrelated
 * open()/close() of the same file creates and drops a description of its own and leaves them
 * alone. SQLite lets an application replace the system calls of its unix VFS
 * (sqlite3_vfs.xSetSystemCall), so every lock request of every connection in this process is
 * redirected here to one description per file, which this file keeps open (a close-on-exec
 * duplicate of the first descriptor seen). One description per file keeps SQLite's own model
 * intact: its unix VFS counts the locks of all connections of a process on one inode and
 * assumes they share one lock owner, exactly as with POSIX locks; only the owner changes from
 * "the process" to "the description this file keeps".
 *
 * A kept description whose file was deleted (nlink 0: a workspace removed while open, or an
 * inode number reused by a new file) is replaced by the next lock request.
 *
 * Where the kernel has no OFD locks (EINVAL), the request falls back to the POSIX lock SQLite
 * asked for.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cu-store-private.h"

typedef int (*CuFcntlFunc) (int, int, ...);

static CuFcntlFunc real_fcntl;
static GMutex      kept_lock;
static GHashTable *kept;          /* (dev, ino) → kept descriptor + 1, as GINT_TO_POINTER */
static gboolean    ofd_unsupported;

typedef struct
{
  dev_t dev;
  ino_t ino;
} FileKey;

static guint
file_key_hash (gconstpointer p)
{
  const FileKey *k = p;
  return g_int64_hash (&(gint64) { (gint64) k->ino }) ^ (guint) k->dev;
}

static gboolean
file_key_equal (gconstpointer a, gconstpointer b)
{
  const FileKey *x = a, *y = b;
  return x->dev == y->dev && x->ino == y->ino;
}

/* The descriptor whose description holds this file's locks, or -1. Called with kept_lock. */
static int
kept_descriptor (int fd)
{
  struct stat st, kst;
  FileKey key;
  gpointer value;
  int kfd;

  if (fstat (fd, &st) != 0)
    return -1;
  key = (FileKey) { st.st_dev, st.st_ino };
  if (kept == NULL)
    kept = g_hash_table_new_full (file_key_hash, file_key_equal, g_free, NULL);
  if (g_hash_table_lookup_extended (kept, &key, NULL, &value))
    {
      kfd = GPOINTER_TO_INT (value) - 1;
      if (fstat (kfd, &kst) == 0 && kst.st_dev == st.st_dev && kst.st_ino == st.st_ino
          && kst.st_nlink > 0)
        return kfd;
      /* The file this description was for is gone: its locks protect nothing any more. */
      close (kfd);
      g_hash_table_remove (kept, &key);
    }
  kfd = real_fcntl (fd, F_DUPFD_CLOEXEC, 0);
  if (kfd < 0)
    return -1;
  g_hash_table_insert (kept, g_memdup2 (&key, sizeof key), GINT_TO_POINTER (kfd + 1));
  return kfd;
}

static int
lock_request (int fd, int cmd, struct flock *lock)
{
  struct flock ofd;
  int ofd_cmd, kfd, rc, saved;

  if (g_atomic_int_get (&ofd_unsupported))
    return real_fcntl (fd, cmd, lock);
  ofd_cmd = cmd == F_SETLK ? F_OFD_SETLK : cmd == F_SETLKW ? F_OFD_SETLKW : F_OFD_GETLK;

  g_mutex_lock (&kept_lock);
  kfd = kept_descriptor (fd);
  g_mutex_unlock (&kept_lock);
  if (kfd < 0)
    return real_fcntl (fd, cmd, lock);

  ofd = *lock;
  ofd.l_pid = 0;                   /* required by F_OFD_* */
  rc = real_fcntl (kfd, ofd_cmd, &ofd);
  saved = errno;
  if (rc < 0 && saved == EINVAL && ofd.l_whence == SEEK_SET)
    {
      /* A kernel without OFD locks: stay with what SQLite asked for. */
      g_atomic_int_set (&ofd_unsupported, TRUE);
      return real_fcntl (fd, cmd, lock);
    }
  if (rc == 0 && cmd == F_GETLK)
    {
      lock->l_type = ofd.l_type;
      lock->l_whence = ofd.l_whence;
      lock->l_start = ofd.l_start;
      lock->l_len = ofd.l_len;
      lock->l_pid = ofd.l_pid;
    }
  errno = saved;
  return rc;
}

static int
cu_fcntl (int fd, int cmd, ...)
{
  va_list ap;
  int rc;

  va_start (ap, cmd);
  switch (cmd)
    {
    case F_SETLK:
    case F_SETLKW:
    case F_GETLK:
      rc = lock_request (fd, cmd, va_arg (ap, struct flock *));
      break;
    case F_GETFD:
    case F_GETFL:
      rc = real_fcntl (fd, cmd);
      break;
    default:
      /* SQLite's other uses (F_SETFD, F_SETFL) take an int. */
      rc = real_fcntl (fd, cmd, va_arg (ap, int));
      break;
    }
  va_end (ap);
  return rc;
}

void
_cu_store_install_locks (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      sqlite3_vfs *vfs = sqlite3_vfs_find ("unix");

      if (vfs != NULL && vfs->iVersion >= 3 && vfs->xGetSystemCall != NULL)
        {
          real_fcntl = (CuFcntlFunc) vfs->xGetSystemCall (vfs, "fcntl");
          if (real_fcntl != NULL
              && vfs->xSetSystemCall (vfs, "fcntl", (sqlite3_syscall_ptr) cu_fcntl) != SQLITE_OK)
            real_fcntl = NULL;
        }
      if (real_fcntl == NULL)
        g_warning ("SQLite's unix VFS does not let its locks be replaced; another descriptor "
                   "of the workspace database closed in this process would drop them");
      g_once_init_leave (&done, 1);
    }
}

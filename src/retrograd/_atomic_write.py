"""Atomic replacement of a file: write a temporary file beside it, fsync, rename.

Used by ``retrograd.save``: a symlink is followed to the file it names, special files (FIFO,
socket, device) and directories are refused, and temporary files left by killed writers (their
names carry the host and pid) are removed by the next write to the same target.
"""

import errno
import os
import re
import socket
import stat
import tempfile
import zlib


_FILE_KINDS = (
    (stat.S_ISFIFO, "FIFO (named pipe)"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def _target(f):
    """The regular file that saving to path ``f`` replaces: ``f`` with symlinks resolved."""
    path = os.fsdecode(os.fspath(f))
    target = os.path.realpath(path)
    via = "" if target == os.path.abspath(path) else f" (the symlink target of {path!r})"
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    if stat.S_ISLNK(st.st_mode):  # realpath stops at a symlink loop
        raise OSError(errno.ELOOP, f"retrograd.save: too many levels of symbolic links in {path!r}", path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"retrograd.save: {target!r}{via} is a directory", path)
    if not stat.S_ISREG(st.st_mode):
        kind = next((k for test, k in _FILE_KINDS if test(st.st_mode)), "special file")
        raise OSError(
            f"retrograd.save: {target!r}{via} is a {kind}, not a regular file. Saving "
            f"to a path replaces the file atomically (temporary file + rename), which "
            f"would put a regular file in its place; to write into the {kind}, open it "
            f"and pass the file object: with open(path, 'wb') as f: save(obj, f)"
        )
    return target


# temporary files: ".<target>.<host tag>-<pid>-<random>.tmp"
_HOST_TAG = format(zlib.crc32(socket.gethostname().encode("utf-8", "replace")), "08x")
_TEMP_TAIL = re.compile(r"([0-9a-f]{8})-([0-9]+)-([a-z0-9_]+)\.tmp")


def write_atomic(path, write):
    """Call ``write(fh)`` on a temporary file beside the regular file ``path`` names (after
    symlinks) and rename it over that file; see ``retrograd.save`` for the rules."""
    target = _target(path)
    directory, base = os.path.split(target)
    _remove_stale_temps(directory, base)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.{_HOST_TAG}-{os.getpid()}-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _remove_stale_temps(directory, base):
    """Delete temporary files of earlier saves to ``base`` whose process is gone (killed
    mid-save). Only files named by this module for this target, made on this host, owned by
    this user, are candidates; a file whose pid is alive (a concurrent save, or an unrelated
    process that reuses the pid) is left alone."""
    if os.name != "posix":
        return
    prefix = f".{base}."
    try:
        names = [n for n in os.listdir(directory) if n.startswith(prefix)]
    except OSError:
        return
    for n in names:
        m = _TEMP_TAIL.fullmatch(n, len(prefix))
        if m is None or m[1] != _HOST_TAG or _pid_alive(int(m[2])):
            continue
        path = os.path.join(directory, n)
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(path)
        except OSError:
            pass


def _pid_alive(pid):
    if pid <= 0:
        return True  # not a pid we write: leave the file alone
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        return True
    return True


def _file_mode(path):
    """The target's current permissions, or what a new file would get under the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask

"""The one atomic writer, and checksums: every file this package writes (results, finished sub-runs,
checkpoints, benchmarks) goes through :func:`write_files`.

A write goes to a temporary file beside each target (``.<name>.<random>.tmp``), is flushed and fsynced, and is
renamed into place only once every file of the write is on disk (a result's npz and json, a checkpoint and its
sidecar: both or neither); on any failure the temporary files are removed and the targets are left as they were. A failure
of the disk or of permissions (a full disk, a read-only folder) becomes one :class:`ResultsError` line that
names the file and the reason; anything else (a bug) keeps its traceback.

:func:`exclusive_lock` serialises the writers of one file and leaves no lock file behind.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # not a POSIX system: filelock's lock, whose file stays
    fcntl = None
    import filelock

from .errors import ResultsError


def file_mode() -> int:
    """0666 minus the process umask (0644 under the usual umask 022): files are readable by other users."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def disk_error(path: Path, e: OSError) -> ResultsError:
    """One line for an OSError met while writing `path` (what a user can fix: space, permissions)."""
    reason = e.strerror or str(e)
    hint = "; free some space and run the same command again" if e.errno == errno.ENOSPC else ""
    return ResultsError(f"cannot write {path}: {reason}{hint}")


def write_files(files: dict) -> None:
    """Write every ``{path: bytes}`` atomically and together: all go to temporary files beside their targets
    (flushed, fsynced) before the first rename, so a failure while writing (a full disk) replaces none of them and
    leaves no temporary behind; the renames then happen in the given order (a rename allocates nothing)."""
    tmps = []
    try:
        for path, data in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            tmps.append((tmp, path))
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, file_mode())
        for tmp, path in tmps:
            os.replace(tmp, path)
        tmps = []
    except OSError as e:
        raise disk_error(Path(tmps[-1][1]) if tmps else Path(next(iter(files))), e) from None
    finally:
        for tmp, _ in tmps:
            Path(tmp).unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """Write one file atomically (see :func:`write_files`)."""
    write_files({path: data})


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def remove_stale_temporaries(folder: Path, name: str) -> None:
    """Remove the temporary files a killed writer of `folder/name` left behind."""
    for stale in Path(folder).glob(f".{name}.*.tmp"):
        stale.unlink(missing_ok=True)


class LockTimeout(Exception):
    """:func:`exclusive_lock` gave up waiting for another process."""


@contextlib.contextmanager
def exclusive_lock(path: Path, timeout: float, on_wait=None):
    """Hold an exclusive lock on `path` (``flock``) for the block, and remove the file on release, so that no lock
    file stays in a results folder. ``on_wait()`` is called once if another process holds it; LockTimeout after
    `timeout` seconds of waiting; an OSError if the file cannot be made (a read-only folder).

    The file is removed while it is still locked, so a process that was waiting on it finds, once it holds it,
    that it is no longer the file at `path`, and locks the file there instead (two holders at once are
    impossible). Interoperates with ``filelock.FileLock`` on the same path, which also uses ``flock``."""
    path = Path(path)
    if fcntl is None:
        lock = filelock.FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            if on_wait is not None:
                on_wait()
            try:
                lock.acquire(timeout=timeout)
            except filelock.Timeout:
                raise LockTimeout(str(path)) from None
        try:
            yield
        finally:
            lock.release()
        return
    deadline, waited = time.monotonic() + timeout, False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, file_mode())
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waited and on_wait is not None:
                        on_wait()
                    waited = True
                    if time.monotonic() >= deadline:
                        raise LockTimeout(str(path)) from None
                    time.sleep(0.05)
            try:
                held, now = os.fstat(fd), os.stat(path)
                if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                    break  # fd stays open: the lock is held
            except FileNotFoundError:
                pass  # removed by the holder we waited for
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)

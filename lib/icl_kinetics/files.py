"""The one atomic writer, and checksums: every file this package writes (results, finished sub-runs,
checkpoints, benchmarks) goes through :func:`atomic_write`.

A write goes to a temporary file beside the target (``.<name>.<random>.tmp``), is flushed and fsynced, and is
renamed into place; on any failure the temporary file is removed and the target is left as it was. A failure
of the disk or of permissions (a full disk, a read-only folder) becomes one :class:`ResultsError` line that
names the file and the reason; anything else (a bug) keeps its traceback.
"""
from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Callable, IO

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


def atomic_write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` atomically: `write(f)` fills a binary temporary file, which then replaces `path`."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
        tmp = None
    except OSError as e:
        raise disk_error(path, e) from None
    except RuntimeError as e:  # torch.save reports a failed write (a full disk) as a RuntimeError
        if "write" in str(e).lower() or "file" in str(e).lower():
            raise ResultsError(f"cannot write {path}: {' '.join(str(e).split())[:200]}") from None
        raise
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(Path(path).read_bytes())


def remove_stale_temporaries(folder: Path, name: str) -> None:
    """Remove the temporary files a killed writer of `folder/name` left behind."""
    for stale in Path(folder).glob(f".{name}.*.tmp"):
        stale.unlink(missing_ok=True)

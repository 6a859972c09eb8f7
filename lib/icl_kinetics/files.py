"""The one atomic writer, and checksums: every file this package writes (results, finished sub-runs,
checkpoints, benchmarks) goes through :func:`write_files`.

A write goes to a temporary file beside each target (``.<name>.<random>.tmp``), is flushed and fsynced, and is
renamed into place only once every file of the write is on disk (a result's npz and json, a checkpoint and its
sidecar: both or neither); on any failure the temporary files are removed and the targets are left as they were. A failure
of the disk or of permissions (a full disk, a read-only folder) becomes one :class:`ResultsError` line that
names the file and the reason; anything else (a bug) keeps its traceback.
"""
from __future__ import annotations

import errno
import hashlib
import os
import tempfile
from pathlib import Path

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

"""The source and the stored results as one download, built with the site (it works offline).

After an HTML build, every file git tracks in the repository (the library, the chapters, the tests, the stored
results, the Makefile) is written to ``_downloads/icl-kinetics-replication.tar.gz`` in the site, under one top
folder; the landing page links to it. Without git (a copy of the repository that is not a clone), the same
folders are read from disk instead, leaving out what .gitignore leaves out: build outputs, the virtual
environment, smoke results, checkpoints.
"""
from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from icl_kinetics.store import REPO_ROOT

ARCHIVE = "icl-kinetics-replication.tar.gz"
TOP = "icl-kinetics-replication"
FALLBACK = ("lib", "book", "results", "scripts", "tests", "_ext", "_config.yml", "_toc.yml", "references.bib",
            "Makefile", "README.md", "requirements.txt", "pyproject.toml", ".ci")
SKIP = (".venv", "_build", "_smoke", "__pycache__", ".ipynb_checkpoints", ".ckpt", ".submitit", ".lock", ".tmp")


def tracked_files(root: Path) -> list[str]:
    """The repository's files, relative to `root`: git's list when it has one, else the folders above from disk."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
        names = [n for n in out.stdout.decode().split("\0") if n]
        if names:
            return [n for n in names if (root / n).is_file()]
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for entry in FALLBACK:
        p = root / entry
        paths = [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else []
        found += [str(q.relative_to(root)) for q in paths
                  if not any(s in part for part in q.relative_to(root).parts for s in SKIP)
                  and ".smoke" not in q.name and not q.name.startswith("smoke.")]
    return found


def write_archive(root: Path, target: Path) -> int:
    """Write the archive of `root`'s files to `target` (written beside it, then renamed); its number of files."""
    names = tracked_files(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_suffix(".part")
    with tarfile.open(part, "w:gz") as tar:
        for n in names:
            tar.add(root / n, arcname=f"{TOP}/{n}", recursive=False)
    part.replace(target)
    return len(names)


def build_finished(app, exception):
    if exception is None and app.builder.format == "html":
        write_archive(Path(REPO_ROOT), Path(app.outdir) / "_downloads" / ARCHIVE)


def setup(app):
    app.connect("build-finished", build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Build the book with its notebooks executed in parallel, or from notebooks executed already.

    python scripts/build_book.py [--jobs 2] [--executed DIR] [--out DIR]

Jupyter Book executes the notebooks one after another while it reads them. This script executes them first,
``--jobs`` at a time (longest first), each with nbclient exactly as ``jupyter-book build`` would (kernel
``python3``, working directory ``book/``, the config's timeout, stopping at the first error), into a copy of the
book's sources under ``<out>/_build/source``, then builds that copy with execution off (``--warningiserror``), so the
site lands in ``<out>/_build/html``. With ``--executed DIR`` nothing is executed: the notebooks come from DIR (for
example those nbmake executed with ``--overwrite`` in ``make test``), after a check that each has the same code as
the book's and ran to its end.

The profile and the results folder are the environment's (``ICL_PROFILE``, ``ICL_RESULTS``, ``ICL_NO_TRAIN``), as
for the book itself. Exit status: 0 built; 1 a notebook or the build failed (the message says which); 2 bad
arguments.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("_config.yml", "_toc.yml", "_ext", "references.bib")  # besides the toc's pages
# seconds each chapter took to execute at the cpu profile (longest first keeps both workers busy to the end)
COST = {"07_kstar_vs_n": 46, "13_scale_ladder": 45, "16_reproducing_the_runs": 40, "03_loss_landscape": 29,
        "01_phenomenology": 25}


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for c in toc["chapters"]]


def stage(out: Path) -> Path:
    """A copy of the book's sources with execution off: the pages, the toc, the extensions."""
    src = out / "_build" / "source"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    for name in SOURCES:
        p = ROOT / name
        (shutil.copytree if p.is_dir() else shutil.copy)(p, src / name)
    cfg = yaml.safe_load((src / "_config.yml").read_text())
    timeout = cfg["execute"]["timeout"]
    cfg["execute"]["execute_notebooks"] = "off"
    (src / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    for page in toc_pages():
        for suffix in (".md", ".ipynb"):
            if (ROOT / f"{page}{suffix}").exists():
                (src / page).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(ROOT / f"{page}{suffix}", src / f"{page}{suffix}")
    return src, timeout


def execute(page: str, target: str, timeout: int) -> tuple[str, float, str]:
    """Execute one notebook as Jupyter Book does; (page, seconds, error or '')."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    t = time.time()
    nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str((ROOT / page).parent)}})
    try:
        client.execute()
    except CellExecutionError as e:
        return page, time.time() - t, str(e).strip().splitlines()[-1]
    nbformat.write(nb, target)
    return page, time.time() - t, ""


def code_of(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def take_executed(src: Path, executed: Path, pages: list[str]) -> list[str]:
    """Copy notebooks executed elsewhere into the stage; the problems (stale or unexecuted copies), one line each."""
    problems = []
    for page in pages:
        own = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
        path = executed / Path(page).name
        path = path.with_suffix(".ipynb")
        if not path.exists():
            problems.append(f"{path}: missing; execute the book first (make test does it with nbmake --overwrite)")
            continue
        done = nbformat.read(path, as_version=4)
        if code_of(done) != code_of(own):
            problems.append(f"{path}: its code differs from {page}.ipynb (stale); execute the book again")
        elif any(c.get("execution_count") is None for c in done.cells if c.cell_type == "code" and c.source.strip()):
            problems.append(f"{path}: not every code cell ran; execute the book again")
        else:
            shutil.copy(path, src / f"{page}.ipynb")
    return problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="notebooks executed at once (default 2)")
    ap.add_argument("--executed", type=Path, default=None, help="take the executed notebooks from this folder")
    ap.add_argument("--out", type=Path, default=ROOT, help="where _build/source and _build/html go (default: the repository)")
    args = ap.parse_args(argv)
    if args.jobs < 1:
        print(f"build_book: --jobs {args.jobs}: needs at least 1", file=sys.stderr)
        return 2
    if args.executed is not None and not args.executed.is_dir():
        print(f"build_book: --executed {args.executed}: no such folder", file=sys.stderr)
        return 2
    out = args.out.resolve()
    src, timeout = stage(out)
    pages = [p for p in toc_pages() if (ROOT / f"{p}.ipynb").exists()]
    t0 = time.time()
    if args.executed is not None:
        problems = take_executed(src, args.executed, pages)
    else:
        problems = []
        order = sorted(pages, key=lambda p: -COST.get(Path(p).name, 10))
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [pool.submit(execute, p, str(src / f"{p}.ipynb"), timeout) for p in order]
            for f in as_completed(futures):
                page, dt, err = f.result()
                print(f"executed {page} in {dt:.0f} s" + (f": FAILED: {err}" if err else ""), flush=True)
                if err:
                    problems.append(f"{page}.ipynb failed: {err}")
    if problems:
        print("\n".join(f"build_book: {p}" for p in problems), file=sys.stderr)
        return 1
    print(f"notebooks ready in {time.time() - t0:.0f} s; building", flush=True)
    jb = Path(sys.executable).parent / "jupyter-book"
    r = subprocess.run([str(jb), "build", str(src), "--path-output", str(out), "--warningiserror", "--keep-going"],
                       env=dict(os.environ))
    if r.returncode:
        print("build_book: jupyter-book build failed (its messages are above)", file=sys.stderr)
        return 1
    print(f"site: {out / '_build' / 'html' / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

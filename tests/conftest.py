"""Shared fixtures: one smoke-profile build of the whole book per test session (tests/test_book.py checks that
it succeeds, tests/test_browser.py opens its pages), and one torch thread for tests that compare runs bit for
bit with runs in other processes."""
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def one_thread():
    """torch on one thread for the test (shard and CLI processes use one thread: the same arithmetic)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@dataclass
class BookBuild:
    root: Path        # the --path-output directory: pages under root/_build/html
    returncode: int
    log: str

    @property
    def html(self) -> Path:
        return self.root / "_build" / "html"


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> BookBuild:
    """Builds the book (Jupyter Book 1.x, Sphinx) once, at the smoke profile unless ICL_PROFILE says otherwise,
    into a temporary directory: the working tree's _build is left alone. With ICL_EXECUTED_BOOK=DIR (make test)
    the site is built from the notebooks nbmake executed there (checked to be the book's current code);
    otherwise scripts/build_book.py executes them, two at a time."""
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, ICL_PROFILE=os.environ.get("ICL_PROFILE", "smoke"))
    executed = os.environ.get("ICL_EXECUTED_BOOK")
    args = ["--executed", str(Path(executed).resolve())] if executed else ["--jobs", "2"]
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_book.py"), "--out", str(out), *args],
                       capture_output=True, text=True, env=env, timeout=1800)
    return BookBuild(out, r.returncode, r.stdout[-4000:] + r.stderr[-4000:])

"""Execute every notebook of the book (from committed results, never training) and write every glued value to a
JSON file, {page: {glue name: text/plain}}: run it before and after a refactor and compare the two files
(`python scripts/glue_snapshot.py before.json`, ..., `python scripts/glue_snapshot.py after.json --compare before.json`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def glued(path: Path) -> dict:
    """{glue name: its text/plain, or text/markdown for a sentence} of one notebook executed in the book folder."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    out = {}
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            record = o.get("metadata", {}).get("scrapbook", {})
            if "name" in record:  # myst_nb.glue: the value's mime bundle under a prefix
                prefix = record.get("mime_prefix", "")
                data = {k[len(prefix):]: v for k, v in o.get("data", {}).items() if k.startswith(prefix)}
                value = data.get("text/plain", data.get("text/markdown"))
                if value is None:
                    raise ValueError(f"{path.name}: glued value {record['name']!r} has no text ({sorted(data)})")
                out[record["name"]] = value
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", help="JSON file to write")
    p.add_argument("--compare", help="an earlier snapshot: report every glued value that differs")
    p.add_argument("--pages", nargs="*", help="notebook names to run (default: all); a comparison then reads only these")
    a = p.parse_args(argv)
    os.environ["ICL_NO_TRAIN"] = "1"
    snap = {nb.name: glued(nb) for nb in sorted((ROOT / "book").glob("*.ipynb")) if not a.pages or nb.name in a.pages}
    Path(a.out).write_text(json.dumps(snap, indent=1, sort_keys=True))
    print(f"{sum(map(len, snap.values()))} glued values on {len(snap)} pages -> {a.out}")
    if a.compare:
        old = {pg: v for pg, v in json.loads(Path(a.compare).read_text()).items() if pg in snap}
        diff = [(pg, k, old.get(pg, {}).get(k), snap.get(pg, {}).get(k))
                for pg in sorted(set(old) | set(snap)) for k in sorted(set(old.get(pg, {})) | set(snap.get(pg, {})))
                if old.get(pg, {}).get(k) != snap.get(pg, {}).get(k)]
        for pg, k, x, y in diff:
            print(f"{pg}::{k}: {x!r} -> {y!r}")
        print(f"{len(diff)} of {sum(map(len, old.values()))} glued values differ")
        return 1 if diff else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``python -m icl_kinetics {list,run,bench}``."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import bench, experiments, store, verdicts
from .train import pick_device


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m icl_kinetics", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the experiments and their profiles")
    r = sub.add_parser("run", help="train an experiment at a profile and store its results")
    r.add_argument("experiment")
    r.add_argument("--profile", default=None, help="smoke | cpu | paper (default: $ICL_PROFILE or cpu)")
    r.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if present)")
    r.add_argument("--out", default=None, help="results directory (default: results/)")
    r.add_argument("--only", nargs="+", default=None, metavar="RUN",
                   help="train only these sub-runs (shards; e.g. N30 N23) and keep them under runs/; the result "
                        "is stored once every sub-run is finished")
    sub.add_parser("scorecard", help="regenerate book/00_results_at_a_glance.md from the claim registry")
    b = sub.add_parser("bench", help="throughput of the ensembled trainer vs a naive loop and the FLOP floor")
    b.add_argument("--device", default=None)
    b.add_argument("--steps", type=int, default=40)
    args = p.parse_args(argv)

    # 1. everything a command needs is checked before any compute; a user's mistake is one line on stderr
    try:
        if args.cmd == "run":
            if args.out is not None and not args.out.strip():
                raise ValueError("--out '': an empty path; leave --out out for results/")
            experiments.get(args.experiment)
            profile = experiments.resolve_profile(args.profile)
            runs = experiments.get(args.experiment).runs(profile)  # constructing the configs validates them
            unknown = sorted(set(args.only or ()) - set(runs))
            if unknown:
                raise ValueError(f"--only {' '.join(unknown)}: no such sub-run of {args.experiment!r} at profile "
                                 f"{profile!r}; its sub-runs are {', '.join(runs)}")
            pick_device(args.device)
            partial = experiments._partial_dir(args.experiment, profile, args.out)
            store.check_writable(args.out)
            _check_creatable(partial)
        elif args.cmd == "bench":
            bench.check_args(args.steps)
            pick_device(args.device)
    except (KeyError, ValueError, store.ResultsError) as e:
        return _fail(e)

    # 2. the compute: only the store's own errors and an interruption are expected; anything else is a bug and
    #    keeps its traceback
    try:
        if args.cmd == "list":
            _list()
        elif args.cmd == "run":
            res = experiments.run(args.experiment, profile, device=args.device, out=args.out, only=args.only)
            if res is None:
                out = f" --out {args.out}" if args.out else ""
                print(f"trained {' '.join(args.only)}; run `python -m icl_kinetics run {args.experiment} "
                      f"--profile {profile}{out}` to train the rest and store the result")
            else:
                print(f"stored {res.experiment}/{res.profile} in {res.meta['wall_time_s']:.0f} s "
                      f"on {res.meta['device']}")
        elif args.cmd == "bench":
            bench.run(args.device, steps=args.steps)
        elif args.cmd == "scorecard":
            page = store.REPO_ROOT / "book" / "00_results_at_a_glance.md"
            page.write_text(verdicts.scorecard_markdown())
            print(f"wrote {page} ({len(verdicts.CLAIMS)} claims)")
    except store.ResultsError as e:
        return _fail(e, code=1)
    except KeyboardInterrupt:
        print("error: interrupted" + (" (finished sub-runs are kept and reused by the same command)"
                                      if args.cmd == "run" else ""), file=sys.stderr)
        return 130
    return 0


def _fail(e: Exception, code: int = 2) -> int:
    msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    print(f"error: {' '.join(str(msg).split())}", file=sys.stderr)  # one line
    return code


def _check_creatable(path: Path) -> None:
    """ResultsError unless the directory `path` exists or can be created (nothing is created here)."""
    p = Path(path).absolute()
    while not p.exists():
        p = p.parent
    if not p.is_dir() or not os.access(p, os.W_OK | os.X_OK):
        raise store.ResultsError(f"cannot write finished sub-runs to {path}: {p} is not a writable directory")


def _list() -> None:
    for name, exp in sorted(experiments.REGISTRY.items()):
        sizes = []
        for prof in experiments.PROFILES:
            cfgs = exp.runs(prof)
            members = sum(c.E for c in cfgs.values())
            steps = max(c.steps for c in cfgs.values())
            stored = experiments.stored_meta(name, prof)
            done = ""
            if stored:
                wall = stored.get("wall_time_s")
                wall = f"{wall / 60:.1f} min" if isinstance(wall, (int, float)) else "wall time unknown"
                done = f", stored: {wall} on {stored.get('device', 'unknown device')}"
            sizes.append(f"{prof}: {len(cfgs)} run(s), {members} members, <= {steps} steps{done}")
        print(f"{name:<24} [{exp.chapter}] {exp.description}\n" + "".join(f"{'':<26}{z}\n" for z in sizes))

if __name__ == "__main__":
    sys.exit(main())

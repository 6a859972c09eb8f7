"""Command line: ``python -m icl_kinetics {list,run,bench}``."""
from __future__ import annotations

import argparse
import sys

from . import bench, experiments


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m icl_kinetics", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the experiments and their profiles")
    r = sub.add_parser("run", help="train an experiment at a profile and store its results")
    r.add_argument("experiment")
    r.add_argument("--profile", default=None, help="smoke | cpu | paper (default: $ICL_PROFILE or cpu)")
    r.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if present)")
    r.add_argument("--out", default=None, help="results directory (default: results/)")
    b = sub.add_parser("bench", help="throughput of the ensembled trainer vs a naive loop and the FLOP floor")
    b.add_argument("--device", default=None)
    b.add_argument("--steps", type=int, default=40)
    args = p.parse_args(argv)

    try:
        if args.cmd == "list":
            for name, exp in sorted(experiments.REGISTRY.items()):
                sizes = []
                for prof in experiments.PROFILES:
                    cfgs = exp.runs(prof)
                    members = sum(c.E for c in cfgs.values())
                    steps = max(c.steps for c in cfgs.values())
                    stored = experiments.stored_meta(name, prof)
                    done = (f", stored: {stored['wall_time_s'] / 60:.1f} min on {stored['device']}"
                            if stored else "")
                    sizes.append(f"{prof}: {len(cfgs)} run(s), {members} members, <= {steps} steps{done}")
                print(f"{name:<24} [{exp.chapter}] {exp.description}\n" + "".join(f"{'':<26}{z}\n" for z in sizes))
        elif args.cmd == "run":
            res = experiments.run(args.experiment, args.profile, device=args.device, out=args.out)
            print(f"stored {res.experiment}/{res.profile} in {res.meta['wall_time_s']:.0f} s "
                  f"on {res.meta['device']}")
        elif args.cmd == "bench":
            bench.run(args.device, steps=args.steps)
    except (KeyError, ValueError, experiments.ResultsError) as e:
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        print(f"error: {msg}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

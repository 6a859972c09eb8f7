"""Command line: ``python -m icl_kinetics {list,run,scorecard,bench}``."""
from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from . import bench, config, executors, experiments, store, verdicts
from .errors import ShardError
from .train import pick_device


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m icl_kinetics", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="list the experiments and their profiles")
    r = sub.add_parser("run", help="train an experiment at a profile and store its results")
    r.add_argument("experiment")
    r.add_argument("--profile", default=None, help="smoke | cpu | paper_net | paper (default: $ICL_PROFILE or cpu)")
    r.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: cuda if present)")
    r.add_argument("--out", default=None, help="results directory (default: results/); required with --set, and "
                   "outside results/")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="change one setting of every sub-run for this run, e.g. --set lr=0.02 --set steps=5000 "
                        "(repeatable; any RunConfig field: lr, steps, N, D, width, batch, Ks, seeds, wd_attn, ...; "
                        "Ks, seeds, wd_attn take comma-separated values, one value goes to every member); needs "
                        "--out DIR outside results/, and the stored json records the changed settings")
    r.add_argument("--only", nargs="+", default=None, metavar="RUN",
                   help="train only these sub-runs (shards; e.g. N30 N23), each kept as a finished shard in "
                        "<out>/<experiment>/<profile>.shards/; the result is stored once every sub-run is finished")
    r.add_argument("--retrain", action="store_true",
                   help="train an experiment whose result is already stored again (without it, run says so and "
                        "trains nothing); the stored result is replaced only once the new one is complete")
    r.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                   help="stop cleanly after this many minutes, with a checkpoint; the same command continues")
    r.add_argument("--checkpoint-every", type=float, default=300.0, metavar="SECONDS",
                   help="save a checkpoint of the sub-run in training at most this often (default 300)")
    r.add_argument("--executor", choices=executors.EXECUTORS, default=None,
                   help="run the sub-runs as shards through submitit: local processes (one per core) or a "
                        "SLURM job array")
    r.add_argument("--partition", default=None, help="SLURM partition (with --executor slurm)")
    r.add_argument("--gpus", type=int, default=0, help="GPUs per shard (with --executor slurm or local)")
    r.add_argument("--timeout-min", type=int, default=24 * 60, help="time limit of one shard job, in minutes")
    sub.add_parser("scorecard", help="regenerate book/00_results_at_a_glance.md from the claim registry")
    b = sub.add_parser("bench", help="throughput of the ensembled trainer vs a naive loop and the roofline; "
                       "writes results/bench/<device>.json and .txt")
    b.add_argument("--device", default=None)
    b.add_argument("--steps", type=int, default=40)
    b.add_argument("--out", default=None, help="directory for <device>.json and .txt (default: results/bench)")
    b.add_argument("--sizes", nargs="+", default=["paper", "cpu"], help="model sizes to time: paper, cpu")
    b.add_argument("--members", nargs="+", type=int, default=[1, 8, 32], help="ensemble sizes E to time")
    b.add_argument("--compile", action="store_true", help="also time torch.compile of the forward + backward "
                   "against eager at E = 8 (minutes of compiling)")
    args = p.parse_args(argv)

    # 1. everything a command needs is checked before any compute; a user's mistake is one line on stderr
    try:
        if args.cmd == "run":
            if args.out is not None and not args.out.strip():
                raise ValueError("--out '': an empty path; leave --out out for results/")
            experiments.get(args.experiment)
            profile = experiments.resolve_profile(args.profile)
            overrides = config.parse_overrides(args.overrides)  # unknown keys, unreadable values
            runs = experiments.configs(args.experiment, profile, overrides)  # constructing them validates them
            if overrides:
                _check_override_out(args.out)
            unknown = sorted(set(args.only or ()) - set(runs))
            if unknown:
                raise ValueError(f"--only {' '.join(unknown)}: no such sub-run of {args.experiment!r} at profile "
                                 f"{profile!r}; its sub-runs are {', '.join(runs)}")
            pick_device(args.device)
            _check_run_flags(args)
            # a stored result is never trained over in silence: matching, it is reported below; damaged or made by
            # another configuration, it is an error here (how to restore it, or the command with --retrain)
            stored = None if args.retrain else _stored(args.experiment, profile, args.out, overrides)
            if (stored is None and args.executor == "slurm"
                    and executors.pending(args.experiment, profile, args.out, overrides)):
                executors.check_slurm()  # (with every shard finished, slurm merges here without SLURM)
            store.check_writable(args.out)
        elif args.cmd == "bench":
            bench.check_args(args.steps, tuple(args.members), tuple(args.sizes))
            pick_device(args.device)
            bench.check_out(args.out)
    except (KeyError, ValueError, store.ResultsError) as e:
        return _fail(e)

    # 2. the compute: only the store's own errors and an interruption are expected; anything else is a bug and
    #    keeps its traceback
    try:
        if args.cmd == "list":
            _list()
        elif args.cmd == "run" and stored is not None:
            print(experiments.already_stored(stored, args.out))
        elif args.cmd == "run" and args.executor == "slurm":
            jobs = executors.submit(args.experiment, profile, "slurm", out=args.out, device=args.device,
                                    partition=args.partition, gpus=args.gpus, timeout_min=args.timeout_min,
                                    checkpoint_every=args.checkpoint_every, retrain=args.retrain,
                                    overrides=overrides)
            if isinstance(jobs, store.Result):  # every shard was finished: merged and stored here
                print(f"every shard of {args.experiment}/{profile} was finished: merged and stored")
            else:
                print(f"submitted {len(jobs)} shard(s) of {args.experiment}/{profile} as SLURM job array "
                      f"{jobs[0].job_id.split('_')[0]}; the last to finish stores the result")
        elif args.cmd == "run":
            if args.executor == "local":
                res = executors.submit(args.experiment, profile, "local", out=args.out, device=args.device,
                                       gpus=args.gpus, timeout_min=args.timeout_min,
                                       checkpoint_every=args.checkpoint_every, retrain=args.retrain,
                                       overrides=overrides)
            else:
                res = experiments.run(args.experiment, profile, device=args.device, out=args.out, only=args.only,
                                      time_limit=args.time_limit, checkpoint_every=args.checkpoint_every,
                                      retrain=args.retrain, overrides=overrides)
            sets = "".join(f" --set {shlex.quote(s)}" for s in args.overrides)
            if res is None:
                out = f" --out {shlex.quote(args.out)}" if args.out else ""
                pr = experiments.progress(args.experiment, profile, args.out, overrides)
                print(f"{args.experiment}/{profile}: {pr.done} of {pr.total} steps done; run `python -m "
                      f"icl_kinetics run {args.experiment} --profile {profile}{sets}{out}` to continue and store "
                      "the result")
            else:
                where = (f" ({sets.strip()}) in {store.result_paths(res.experiment, res.profile, args.out)[2]}"
                         if sets else "")
                print(f"stored {res.experiment}/{res.profile}{where} in {res.meta['wall_time_s']:.0f} s "
                      f"on {res.meta['device']}")
        elif args.cmd == "bench":
            bench.run(args.device, steps=args.steps, members=tuple(args.members), sizes=tuple(args.sizes),
                      out=args.out, compile_trials=args.compile)
        elif args.cmd == "scorecard":
            page = store.REPO_ROOT / "book" / "00_results_at_a_glance.md"
            page.write_text(verdicts.scorecard_markdown())
            print(f"wrote {page} ({len(verdicts.CLAIMS)} claims)")
    except (store.ResultsError, ShardError) as e:
        return _fail(e, code=1)
    except KeyboardInterrupt:
        print("error: interrupted" + (" (finished sub-runs and a checkpoint of the one in training are kept; "
                                      "the same command resumes)" if args.cmd == "run" else ""), file=sys.stderr)
        return 130
    return 0


def _fail(e: Exception, code: int = 2) -> int:
    msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    print(f"error: {' '.join(str(msg).split())}", file=sys.stderr)  # one line
    return code


def _check_override_out(out) -> None:
    """ValueError unless `out` is a results folder of its own for a run with changed settings: given, and neither
    the default results folder (store.RESULTS_DIR, ICL_RESULTS) nor the repository's results/ nor inside them,
    so that a stored result keeps what the catalog says (paths resolved: results, ./results/ and
    /abs/path/results are one folder)."""
    fix = "give --out DIR outside results/ so the stored results stay what the catalog says"
    if out is None:
        raise ValueError(f"--set changes the experiment's settings; {fix}")
    where = Path(out).expanduser().resolve()
    for stored in {Path(store.RESULTS_DIR).expanduser().resolve(), (store.REPO_ROOT / "results").resolve()}:
        if where == stored or stored in where.parents:
            raise ValueError(f"--set changes the experiment's settings and --out {out} is "
                             f"{'' if where == stored else 'inside '}the stored results' folder {stored}; {fix}")


def _stored(name: str, profile: str, out, overrides: dict):
    """experiments.stored_result; with changed settings, a result stored in `out` by other settings is one line
    that says so (the store's own line would name the command without them)."""
    try:
        return experiments.stored_result(name, profile, out, overrides)
    except store.DamagedResultError:
        raise
    except store.ResultsError:
        if not overrides:
            raise
        theirs = (experiments.stored_meta(name, profile, out) or {}).get("overrides", {})
        raise store.ResultsError(
            f"{out} already holds {name}/{profile} made with other settings ("
            + (", ".join(f"{k}={v}" for k, v in theirs.items()) or "the catalog's") + "); give another --out, "
            "or add --retrain to replace it") from None


def _check_run_flags(args) -> None:
    """ValueError for run flags that cannot work together or are out of range."""
    if args.time_limit is not None and not args.time_limit > 0:
        raise ValueError(f"--time-limit {args.time_limit}: must be a number of minutes > 0")
    if not args.checkpoint_every >= 0:
        raise ValueError(f"--checkpoint-every {args.checkpoint_every}: must be a number of seconds >= 0")
    if args.gpus < 0 or args.timeout_min < 1:
        raise ValueError("--gpus must be >= 0 and --timeout-min >= 1")
    if args.executor is not None and (args.only or args.time_limit is not None):
        raise ValueError(f"--executor {args.executor} runs every unfinished sub-run as a shard; leave out --only "
                         "and --time-limit (use --timeout-min for the shard jobs)")
    if args.executor == "slurm" and not args.partition:
        raise ValueError("--executor slurm needs --partition NAME (the SLURM partition to submit to)")
    if args.executor is not None and executors.submitit is None:
        raise ValueError(f"--executor {args.executor}: submitit is not installed here; pip install submitit, or "
                         "run the sub-runs one by one with --only")
    if args.executor != "slurm" and args.partition:
        raise ValueError("--partition is a SLURM setting; add --executor slurm")


def _list() -> None:
    for name, exp in sorted(experiments.REGISTRY.items()):
        sizes = []
        for prof in exp.profiles:
            cfgs = exp.runs(prof)
            members = sum(c.E for c in cfgs.values())
            steps = max(c.steps for c in cfgs.values())
            pr = experiments.progress(name, prof)
            if pr.stored:
                stored = experiments.stored_meta(name, prof) or {}
                wall = stored.get("wall_time_s")
                wall = f"{wall / 60:.1f} min" if isinstance(wall, (int, float)) else "wall time unknown"
                done = f", stored: {wall} on {stored.get('device', 'unknown device')}"
            else:
                done = f", not stored: {pr.done} of {pr.total} steps done"
                done += "".join(f"\n{'':<28}unusable: {p}" for p in pr.problems)
            sizes.append(f"{prof}: {len(cfgs)} run(s), {members} members, <= {steps} steps{done}")
        print(f"{name:<24} [{exp.chapter}] {exp.description}\n" + "".join(f"{'':<26}{z}\n" for z in sizes))

if __name__ == "__main__":
    sys.exit(main())

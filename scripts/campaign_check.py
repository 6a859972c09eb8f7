"""What scripts/gpu_campaign.sh checks with Python before it spends the machine (issue 33), and its plan.

    campaign_check.py SRC DEVICE SMOKE_ONLY ENTRY...

SRC: the committed results the campaign continues from; DEVICE: as `run --device` takes it (auto: cuda when
present); SMOKE_ONLY: 1 to run every entry at the smoke profile; ENTRY: experiment:profile. Checks that torch
imports, that the device exists, that every entry names a known experiment at a profile it defines, and that
nothing in SRC for an entry is damaged or made by another configuration (a stored result or a finished shard:
the message names the file in SRC and how to restore it). Prints ``torch <version> cuda <True|False>``, then the
plan, one line per entry, ``<experiment> <profile> <skip|train|continue> <finished shards in SRC>``, and exits
0; otherwise prints every problem as one line on stderr and exits 2. Trains nothing and writes nothing.
"""
from __future__ import annotations

import sys


def check(src: str, device: str, smoke_only: bool, entries: list[str]) -> tuple[list[str], list[str]]:
    """(plan lines, problems); see the module's docstring."""
    try:
        import torch
    except Exception as e:  # a broken install fails in many ways: all of them are this one line
        return [], [f"PYTHON={sys.executable} does not import torch ({type(e).__name__}: {e}); set PYTHON to the "
                    "python that has torch"]
    from icl_kinetics import experiments
    from icl_kinetics.errors import ResultsError
    from icl_kinetics.train import pick_device

    plan, problems, seen = [f"torch {torch.__version__} cuda {torch.cuda.is_available()}"], [], set()
    try:
        pick_device(device)
    except ValueError as e:
        problems.append(f"DEVICE={device}: {e}")
    if not entries:
        problems.append("CAMPAIGN is empty: give it as space-separated experiment:profile pairs")
    for item in entries:
        name, sep, profile = item.partition(":")
        if not (sep and name and profile) or ":" in profile:
            problems.append(f"CAMPAIGN entry {item!r}: not experiment:profile (e.g. kstar_vs_n:paper)")
            continue
        try:
            exp = experiments.get(name)
            experiments.resolve_profile(profile)
        except (KeyError, ValueError) as e:
            problems.append(f"CAMPAIGN entry {item}: {e.args[0] if e.args else e}")
            continue
        if profile not in exp.profiles:
            problems.append(f"CAMPAIGN entry {item}: {name} is not defined at profile {profile} (its profiles: "
                            f"{', '.join(exp.profiles)})")
            continue
        profile = "smoke" if smoke_only else profile
        if (name, profile) in seen:
            if not smoke_only:  # under SMOKE_ONLY, name:cpu and name:paper are both name:smoke
                problems.append(f"CAMPAIGN entry {item}: listed twice")
            continue
        seen.add((name, profile))
        try:
            if experiments.stored_result(name, profile, src) is not None:
                plan.append(f"{name} {profile} skip 0")
                continue
            shards = experiments.finished_shards(name, profile, src)
        except ResultsError as e:
            problems.append(f"CAMPAIGN entry {item}: {' '.join(str(e).split())}")
            continue
        plan.append(f"{name} {profile} {'continue' if shards else 'train'} {len(shards)}")
    return plan, problems


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("error: usage: campaign_check.py SRC DEVICE SMOKE_ONLY ENTRY...", file=sys.stderr)
        return 2
    plan, problems = check(argv[0], argv[1], argv[2] == "1", argv[3:])
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if problems:
        return 2
    print("\n".join(plan))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

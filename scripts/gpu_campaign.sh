#!/usr/bin/env bash
# The prepared command for a lent GPU machine (issue 21), run from the repository root:
#
#   scripts/gpu_campaign.sh OUT [BUDGET_SECONDS=480]
#
# On a CUDA machine with no network and its own torch (numpy, scipy, tqdm, filelock and matplotlib, but no
# submitit and no diptest; nothing is installed): a short CUDA smoke of the trainer, `bench` on CUDA, then the
# campaign's experiments in priority order, each with --time-limit so the whole stays within BUDGET_SECONDS.
# What comes back is at most 8 files of at most 16 MiB in OUT: campaign.log, the bench's json and txt, and
# results.tar.gz (split into 16 MiB parts when larger) holding every stored result and finished shard (never
# the checkpoints). Unpack here with: cat OUT/results.tar.gz* | tar xz -C results
#
# An experiment already stored in the checkout's results (ICL_RESULTS, default results/) is skipped; one with
# finished shards there continues from them (they are copied in and shipped back unchanged, beside the new ones:
# after unpacking, a stored result's leftover shards go with `rm -r results/<exp>/<profile>.shards`).
#
# Environment: DEVICE (default cuda when present), PYTHON (default python3), CAMPAIGN (space-separated
# experiment:profile pairs, highest priority first), SMOKE_ONLY=1 (every experiment at the smoke profile: what
# `make test` runs on the CPU to check this script), ICL_RESULTS (the committed results to continue from).
set -uo pipefail
OUT=${1:?usage: scripts/gpu_campaign.sh OUT [BUDGET_SECONDS]}
BUDGET=${2:-480}
PY=${PYTHON:-python3}
DEVICE=${DEVICE:-auto}
# Highest priority first: what the ladder's rung at the paper's network still lacks (Fig 6c at its K_half, the
# MLP's clock), the lr x iterations equivalence at the paper's clock (memorization at lr 0.01), then the paper's
# own profile.
CAMPAIGN=${CAMPAIGN:-"bimodality_khalf:paper_net memorization_clock:paper_net memorization:paper ticl_vs_n:paper kstar_vs_n:paper bimodality:paper"}
SRC=$(realpath -m "${ICL_RESULTS:-$(dirname "$0")/../results}")  # relative to the caller's directory
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/lib${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT" || exit 1
LOG="$OUT/campaign.log"
WORK=$(mktemp -d)
START=$(date +%s)
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
say() { echo "[$(( $(date +%s) - START )) s] $*" | tee -a "$LOG"; }
cli() { "$PY" -m icl_kinetics "$@" >>"$LOG" 2>&1; }
# a result in SRC that loads as the code's own (checksums and configuration match); anything else is trained
stored() { "$PY" -c 'import sys; from icl_kinetics import experiments as e
sys.exit(e.load_optional(sys.argv[1], sys.argv[2], sys.argv[3]) is None)' "$1" "$2" "$SRC" 2>>"$LOG"; }

say "gpu campaign: device $DEVICE, budget $BUDGET s, $("$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1)"

# 1. the trainer end to end at the smoke profile (seconds)
timeout 120 "$PY" -m icl_kinetics run ticl_vs_n --profile smoke --device "$DEVICE" --out "$WORK/smoke" >>"$LOG" 2>&1
say "smoke run: exit $?"

# 2. the benchmark (json and txt straight into OUT)
BENCH_ARGS=${BENCH_ARGS:-"--steps 20"}
[ -n "${SMOKE_ONLY:-}" ] && BENCH_ARGS="--steps 1 --sizes cpu --members 1"
# shellcheck disable=SC2086
timeout $(( $(left) / 4 )) "$PY" -m icl_kinetics bench --device "$DEVICE" --out "$OUT" $BENCH_ARGS >>"$LOG" 2>&1
say "bench: exit $?"

# 3. the campaign, in priority order, each experiment stopped cleanly at the time left (60 s kept for packing)
for item in $CAMPAIGN; do
  exp=${item%%:*}; profile=${item##*:}
  [ -n "${SMOKE_ONLY:-}" ] && profile=smoke
  budget=$(( $(left) - 60 ))
  if stored "$exp" "$profile"; then say "$exp/$profile: already stored in $SRC, skipped"; continue; fi
  if [ "$budget" -lt 30 ]; then say "no time left for $exp/$profile"; continue; fi
  if [ -d "$SRC/$exp/$profile.shards" ]; then
    mkdir -p "$WORK/results/$exp" && cp -r "$SRC/$exp/$profile.shards" "$WORK/results/$exp/"
    say "$exp/$profile: continues from $(find "$SRC/$exp/$profile.shards" -name '*.json' | wc -l) finished shard(s)"
  fi
  minutes=$(awk "BEGIN { print ($budget - 20) / 60 }")
  timeout "$budget" "$PY" -m icl_kinetics run "$exp" --profile "$profile" --device "$DEVICE" --out "$WORK/results" \
    --time-limit "$minutes" --checkpoint-every 60 >>"$LOG" 2>&1
  say "$exp/$profile: exit $?"
done

# 4. stored results and finished shards, never checkpoints or job files; 16 MiB parts
rm -f "$OUT"/results.tar.gz*
if [ -d "$WORK/results" ]; then
  tar czf "$WORK/results.tar.gz" -C "$WORK/results" --exclude='*.ckpt' --exclude='*.submitit' --exclude='.*.lock' \
    --exclude='*.tmp' .
  size=$(stat -c %s "$WORK/results.tar.gz")
  if [ "$size" -le $(( 16 * 1024 * 1024 )) ]; then
    cp "$WORK/results.tar.gz" "$OUT/"
  else
    split -b 16M -d -a 1 "$WORK/results.tar.gz" "$OUT/results.tar.gz."
  fi
  say "packed $(tar tzf "$WORK/results.tar.gz" | grep -c '\.npz$') npz files ($size bytes)"
fi
rm -rf "$WORK"
n=$(find "$OUT" -type f | wc -l)
say "done: $n files in $OUT"
[ "$n" -le 8 ] || { say "error: more than 8 files in $OUT"; exit 1; }

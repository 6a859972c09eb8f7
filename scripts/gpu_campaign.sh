#!/usr/bin/env bash
# The prepared command for a lent GPU machine (issues 21, 33), run from any folder:
#
#   scripts/gpu_campaign.sh OUT [BUDGET_SECONDS=480]
#
# On a CUDA machine with no network and its own torch (numpy, scipy, tqdm, filelock and matplotlib, but no
# submitit and no diptest; nothing is installed): a short CUDA smoke of the trainer, `bench` on CUDA, then the
# campaign's experiments in priority order, each with --time-limit so the whole stays within BUDGET_SECONDS.
# What comes back is at most 8 files of at most 16 MiB in OUT (a relative OUT is relative to the caller's
# folder): campaign.log, the bench's json and txt, and results.tar.gz (split into 16 MiB parts when larger)
# holding every stored result and finished shard (never the checkpoints). Unpack here with:
#   cat OUT/results.tar.gz* | tar xz -C results
#
# Before it spends the machine it checks, each failure one line on stderr and exit 2, nothing run: the budget
# (a whole number of seconds, at least MIN_BUDGET: the smoke step and the packing), OUT (writable), PYTHON
# (runs, imports torch), DEVICE (exists), every CAMPAIGN entry (a known experiment at a profile it defines),
# and what it continues from (a damaged stored result or finished shard there is named, with how to restore it).
#
# An experiment already stored in the checkout's results (ICL_RESULTS, default results/) is skipped; one with
# finished shards there continues from them (they are copied in; after unpacking, a stored result's leftover
# shards in the checkout go with `rm -r results/<exp>/<profile>.shards`).
#
# What finished is packed into OUT after every experiment and when the command is stopped (SIGTERM, SIGINT), so
# a stop at any moment ships every finished result and shard. The last line of the log (and of stdout) counts
# the experiments: stored (a new result), continued (new finished shards, no result yet), unfinished (trained,
# nothing finished to ship), failed, already stored, no time left. Exit status: 0 when something new was
# stored (a result or a shard) and nothing failed; 1 when nothing new was stored; 3 when something new was
# stored but an experiment failed or the command was stopped; 2 when a check failed before anything ran.
#
# Environment: DEVICE (default cuda when present), PYTHON (default python3), CAMPAIGN (space-separated
# experiment:profile pairs, highest priority first), SMOKE_ONLY=1 (every experiment at the smoke profile: what
# `make test` runs on the CPU to check this script), BENCH=0 (skip the benchmark), BENCH_ARGS, ICL_RESULTS (the
# committed results to continue from; relative to the caller's folder).
set -uo pipefail
USAGE="usage: scripts/gpu_campaign.sh OUT [BUDGET_SECONDS=480]"
SMOKE_S=60   # the smoke step's time limit
PACK_S=30    # kept for the packing at the end
MIN_BUDGET=$(( SMOKE_S + PACK_S ))
LOG=
fail() {  # a check failed before anything ran: one line, exit 2
  echo "error: $*" >&2
  [ -n "$LOG" ] && echo "error: $*" >>"$LOG"
  exit 2
}

# ---------------------------------------------------------------- 1. checks, before anything is spent
[ $# -ge 1 ] && [ $# -le 2 ] && [ -n "$1" ] || fail "expected OUT and an optional budget; $USAGE"
if [ $# -ge 2 ]; then BUDGET=$2; else BUDGET=480; fi
[[ $BUDGET =~ ^[0-9]+$ ]] || fail "budget '$BUDGET': not a whole number of seconds (at least $MIN_BUDGET); $USAGE"
BUDGET=$(( 10#$BUDGET ))
(( BUDGET >= MIN_BUDGET )) || fail "budget $BUDGET s: too short for the smoke step ($SMOKE_S s) and the packing" \
  "($PACK_S s); give at least $MIN_BUDGET"
OUT=$(realpath -m -- "$1")  # relative to the caller's folder
SRC=$(realpath -m -- "${ICL_RESULTS:-$(dirname "$0")/../results}")
REPO=$(realpath -- "$(dirname "$0")/..")
mkdir -p -- "$OUT" 2>/dev/null || fail "OUT $OUT: cannot create it; choose a writable folder"
probe=$(mktemp "$OUT/.write-check.XXXXXX" 2>/dev/null) && rm -f "$probe" || fail "OUT $OUT: not writable"
LOG="$OUT/campaign.log"
touch "$LOG" 2>/dev/null || { LOG=; fail "OUT $OUT: cannot write campaign.log there"; }
trap 'fail "stopped by SIGTERM during the checks; nothing ran"' TERM
trap 'fail "stopped by SIGINT during the checks; nothing ran"' INT
[ -d "$SRC" ] || fail "ICL_RESULTS $SRC: no such folder (the committed results to continue from)"
PY=${PYTHON:-python3}
command -v -- "$PY" >/dev/null 2>&1 || fail "PYTHON=$PY: no such command; set PYTHON to the python that has torch"
"$PY" -c 'import sys' >/dev/null 2>&1 || fail "PYTHON=$PY does not run python; set PYTHON to the python that has torch"
DEVICE=${DEVICE:-auto}
# Highest priority first: what the ladder's rung at the paper's network still lacks (Fig 6c at its K_half, the
# MLP's clock), the lr x iterations equivalence at the paper's clock (memorization at lr 0.01), then the paper's
# own profile.
CAMPAIGN=${CAMPAIGN-"bimodality_khalf:paper_net memorization_clock:paper_net memorization:paper ticl_vs_n:paper \
kstar_vs_n:paper bimodality:paper"}
export PYTHONPATH="$REPO/lib${PYTHONPATH:+:$PYTHONPATH}"
ERR=$(mktemp) || fail "cannot make a temporary file"
# shellcheck disable=SC2086
PLAN=$("$PY" "$REPO/scripts/campaign_check.py" "$SRC" "$DEVICE" "${SMOKE_ONLY:+1}" $CAMPAIGN 2>"$ERR")
rc=$?
msg=$(grep -v '^[[:space:]]*$' "$ERR")
rm -f "$ERR"
if [ $rc -ne 0 ] || [[ $PLAN != torch* ]]; then
  [ -n "$msg" ] || msg="error: PYTHON=$PY failed to check the campaign (exit $rc)"
  echo "$msg" >&2
  echo "$msg" >>"$LOG"
  exit 2
fi
VERSIONS=${PLAN%%$'\n'*}  # the plan's first line: torch's version and whether CUDA is there
PLAN=${PLAN#"$VERSIONS"}

# ---------------------------------------------------------------- 2. the run
cd "$REPO" || exit 2
WORK=$(mktemp -d)
START=$(date +%s)
STORED=0 CONTINUED=0 UNFINISHED=0 FAILED=0 SKIPPED=0 NOTIME=0 STOPPED= CHILD= DIRTY= CUR=
left() { echo $(( BUDGET - ($(date +%s) - START) )); }
say() { echo "[$(( $(date +%s) - START )) s] $*" | tee -a "$LOG"; }
# run a step in the background under `timeout` (its own process group), so that a TERM or INT reaches the trap
# at once instead of after the step
step() {
  local limit=$1; shift
  timeout "$limit" "$@" >>"$LOG" 2>&1 &
  CHILD=$!
  wait "$CHILD"
  local rc=$?
  CHILD=
  return $rc
}
# every stored result and finished shard, never checkpoints, locks or job files; 16 MiB parts; replaced whole;
# only when a run may have changed them (DIRTY)
pack() {
  [ -n "$DIRTY" ] && [ -d "$WORK/results" ] || return 0
  DIRTY=
  rm -f "$OUT"/.results.tar.gz*
  tar czf "$WORK/results.tar.gz" -C "$WORK/results" --exclude='*.ckpt' --exclude='*.submitit' --exclude='.*.lock' \
    --exclude='*.tmp' . 2>>"$LOG" || { say "error: packing failed (see above)"; return 1; }
  local size n
  size=$(stat -c %s "$WORK/results.tar.gz")
  n=$(tar tzf "$WORK/results.tar.gz" | grep -c '\.npz$')
  if [ "$size" -le $(( 16 * 1024 * 1024 )) ]; then
    cp "$WORK/results.tar.gz" "$OUT/.results.tar.gz" && rm -f "$OUT"/results.tar.gz.[0-9] \
      && mv -f "$OUT/.results.tar.gz" "$OUT/results.tar.gz"
  else
    split -b 16M -d -a 1 "$WORK/results.tar.gz" "$OUT/.results.tar.gz." && rm -f "$OUT"/results.tar.gz* \
      && for part in "$OUT"/.results.tar.gz.[0-9]; do mv -f "$part" "$OUT/${part##*/.}"; done
  fi || { say "error: cannot write the results to $OUT"; return 1; }
  say "packed $n npz file(s) ($size bytes) into $OUT"
}
# count and log what the run of the experiment in CUR ("exp profile shards-before") left, from its files: a
# stored result (its json: written last, atomically, into a folder that held none), new finished shards, or
# neither; the count and the clearing of CUR are one command, so a signal never counts it twice
classify() {
  local rc=$1 exp profile shards now var what
  read -r exp profile shards <<<"$CUR"
  [ -n "$exp" ] || return 0
  now=$(find "$WORK/results/$exp/$profile.shards" -name '*.json' 2>/dev/null | wc -l)
  if [ -f "$WORK/results/$exp/$profile.json" ]; then var=STORED what="stored"
  elif [ "$now" -gt "$shards" ]; then var=CONTINUED what="continued: $(( now - shards )) new finished shard(s), not stored yet"
  elif [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ -n "$STOPPED" ]; then
    var=UNFINISHED what="unfinished: no sub-run finished in the time it had (its checkpoint is not shipped)"
  else var=FAILED what="failed (its error is in the log above)"
  fi
  eval "$var=\$(( $var + 1 )) CUR="
  say "$exp/$profile: exit $rc, $what"
}
finish() {
  pack
  rm -rf "$WORK"
  local n status verdict new=$(( STORED + CONTINUED ))
  n=$(find "$OUT" -maxdepth 1 -type f | wc -l)
  if (( new == 0 )); then status=1; verdict="nothing new stored"
  elif (( FAILED > 0 )) || [ -n "$STOPPED" ]; then status=3; verdict="something new stored, not all of it"
  else status=0; verdict="new results stored"
  fi
  if [ "$n" -gt 8 ]; then say "error: more than 8 files in $OUT"; status=1; fi
  say "done: $verdict: stored $STORED, continued $CONTINUED, unfinished $UNFINISHED, failed $FAILED," \
    "already stored $SKIPPED, no time $NOTIME${STOPPED:+; stopped by $STOPPED}; $n files in $OUT; exit $status"
  exit $status
}
on_signal() {
  local rc=143
  trap '' TERM INT
  STOPPED=SIG$1 DIRTY=1
  say "stopped by SIG$1: packing what finished"
  # a signal that lands between a step's fork and `CHILD=$!` finds CHILD empty: the job table has the step already
  [ -n "$CHILD" ] || CHILD=$(jobs -p | tail -n 1)
  if [ -n "$CHILD" ]; then  # the step in progress: its process group, then KILL after 10 s
    kill -TERM -- -"$CHILD" 2>/dev/null || kill -TERM "$CHILD" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CHILD" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- -"$CHILD" 2>/dev/null || kill -KILL "$CHILD" 2>/dev/null
    wait "$CHILD" 2>/dev/null
    rc=$?
  fi
  classify "$rc"  # the experiment in training, if any: what it left is counted and shipped
  finish
}
trap 'on_signal TERM' TERM
trap 'on_signal INT' INT

say "gpu campaign: device $DEVICE, budget $BUDGET s, $VERSIONS"

# 1. the trainer end to end at the smoke profile (seconds)
step "$SMOKE_S" "$PY" -m icl_kinetics run ticl_vs_n --profile smoke --device "$DEVICE" --out "$WORK/smoke"
say "smoke run: exit $?"

# 2. the benchmark (json and txt straight into OUT)
if [ "${BENCH:-1}" != 0 ]; then
  BENCH_ARGS=${BENCH_ARGS:-"--steps 20"}
  [ -n "${SMOKE_ONLY:-}" ] && BENCH_ARGS="--steps 1 --sizes cpu --members 1"
  # shellcheck disable=SC2086
  step $(( $(left) / 4 )) "$PY" -m icl_kinetics bench --device "$DEVICE" --out "$OUT" $BENCH_ARGS
  say "bench: exit $?"
fi

# 3. the campaign, in the checked plan's order, each experiment stopped cleanly at the time left
while read -r exp profile action shards <&3; do
  [ -n "$exp" ] || continue
  if [ "$action" = skip ]; then
    say "$exp/$profile: already stored in $SRC, skipped"; SKIPPED=$(( SKIPPED + 1 )); continue
  fi
  budget=$(( $(left) - PACK_S ))
  if [ "$budget" -lt 30 ]; then say "no time left for $exp/$profile"; NOTIME=$(( NOTIME + 1 )); continue; fi
  if [ "$action" = continue ]; then
    mkdir -p "$WORK/results/$exp" && cp -r "$SRC/$exp/$profile.shards" "$WORK/results/$exp/"
    say "$exp/$profile: continues from $shards finished shard(s)"
  fi
  minutes=$(awk "BEGIN { print ($budget - 20) / 60 }")
  say "$exp/$profile: training, $budget s at most"
  CUR="$exp $profile $shards"
  step "$budget" "$PY" -m icl_kinetics run "$exp" --profile "$profile" --device "$DEVICE" --out "$WORK/results" \
    --time-limit "$minutes" --checkpoint-every 60
  rc=$? DIRTY=1
  classify "$rc"
  pack
done 3<<<"$PLAN"

finish

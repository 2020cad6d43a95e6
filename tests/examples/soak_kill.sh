#!/usr/bin/env bash
# Soak test of the trainer's checkpoints (issue 19): a short run on the bundled sample is killed
# with SIGKILL at random moments (any phase: data loading, a batch, validation, the checkpoint
# writes) and continued with --resume each time, until it finishes. It must end with the weights
# of an uninterrupted run bit for bit (last and best), and leave no temporary file, no
# last.prev.safetensors and no train.lock behind.
# usage: soak_kill.sh <bin-dir> <source-dir> [kills (default 20)]
set -euo pipefail
bin=$1 src=$2 kills=${3:-20}
data="$src/data/fer2013-sample"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--data "$data" --width 8 --batch-size 16 --epochs 3 --threads 1 --seed 11 --tta none --time-budget 0)

"$bin/train" "${common[@]}" --out "$work/ref" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "reference run failed"; }
# How long an uninterrupted run takes, in milliseconds: kills land uniformly inside it.
start=$(date +%s%N)
"$bin/train" "${common[@]}" --out "$work/timing" > /dev/null 2>&1
span=$(( ($(date +%s%N) - start) / 1000000 ))

RANDOM=19
# The finished run in $work/run must equal the reference and leave nothing behind.
check() {
  cmp -s "$work/ref/last.safetensors" "$work/run/last.safetensors" || fail "after $killed kills: other last weights"
  cmp -s "$work/ref/best.safetensors" "$work/run/best.safetensors" || fail "after $killed kills: other best weights"
  local leftovers
  leftovers=$(find "$work/run" -name '.*.tmp.*' -o -name 'last.prev.safetensors' -o -name 'train.lock')
  [[ -z $leftovers ]] || fail "after $killed kills, left behind: $leftovers"
  finished=$((finished + 1))
  rm -rf "$work/run"
}
# One run (--resume when a state exists, else a fresh start: --overwrite, as a kill before the first
# state may have left weights), killed after `ms` milliseconds (none: to the end).
cycle() {
  local ms=$1 resume=(--overwrite)
  [[ -f "$work/run/last.state.safetensors" ]] && resume=(--resume)
  "$bin/train" "${common[@]}" --out "$work/run" "${resume[@]}" > "$work/run.log" 2>&1 &
  local pid=$!
  if [[ -n $ms ]]; then
    sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
    if kill -9 "$pid" 2> /dev/null; then
      wait "$pid" 2> /dev/null || true
      killed=$((killed + 1))
      return
    fi
  fi
  wait "$pid" || { cat "$work/run.log"; fail "a run after $killed kills failed"; }
  grep -q "^outputs in" "$work/run.log" || { cat "$work/run.log"; fail "a run after $killed kills did not finish"; }
  check
}
killed=0 finished=0
while ((killed < kills)); do cycle $((RANDOM % span)); done
cycle ""  # the last one runs to the end
echo "soak_kill: passed ($killed kills, $finished runs finished equal to the uninterrupted one)"

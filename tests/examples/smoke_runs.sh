#!/usr/bin/env bash
# Safe, self-describing runs (issue 18), end to end on the bundled sample with train_customnet:
#   config.json (every flag of the run, the version) and the weights' metadata (epoch, validation
#   accuracy, flags, version); the "new best" line; a second run into a folder that holds one is
#   refused unless --resume or --overwrite; --resume restores the recorded flags (a run resumed
#   without its --lr ends with the weights of the uninterrupted run) and refuses a conflicting one;
#   --resume --epochs N extends a finished run; the default time budget only without --epochs.
# usage: smoke_runs.sh <bin-dir> <source-dir>
set -euo pipefail
bin=$1 src=$2
data="$src/data/fer2013-sample"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
train=("$bin/train_customnet" --data "$data" --width 8 --batch-size 16 --threads 1 --seed 3 --tta none)
expect_error() {  # expect_error <pattern> <command...>: exit code 2, one line naming the pattern
  local pattern=$1; shift
  set +e; "$@" > "$work/err.out" 2> "$work/err.txt"; local rc=$?; set -e
  [[ $rc -eq 2 ]] || fail "'$*' exited with $rc, expected 2: $(cat "$work/err.txt")"
  [[ $(wc -l < "$work/err.txt") -eq 1 ]] || fail "'$*' printed more than one error line: $(cat "$work/err.txt")"
  grep -qF -- "$pattern" "$work/err.txt" || fail "'$*' error does not say '$pattern': $(cat "$work/err.txt")"
}

# 1. A run records itself: config.json, the weights' metadata, a line per new best.
"${train[@]}" --epochs 1 --lr 0.02 --out "$work/a" > "$work/a.log" 2>&1 || { cat "$work/a.log"; fail "the first run failed"; }
grep -q "^new best validation accuracy .* at epoch 1: saved $work/a/best.safetensors" "$work/a.log" \
  || fail "no 'new best' line: $(cat "$work/a.log")"
python3 - "$work/a" <<'PY' || fail "config.json or the weights' metadata is incomplete"
import json, struct, sys
run = sys.argv[1]
c = json.load(open(run + "/config.json"))
assert c["program"] == "train_customnet" and c["model"] == "customnet", c
assert c["moodnet_version"].count(".") == 2, c
f = c["flags"]
assert f["lr"] == 0.02 and f["epochs"] == 1 and f["width"] == 8 and f["batch-size"] == 16, f
assert f["time-budget"] == 0, f           # --epochs given: no default time budget
assert f["nesterov"] is True and f["tta"] == "none", f
for k in ("out", "resume", "overwrite", "threads", "max-steps"):
    assert k not in f, k                  # per invocation, not the run's
def meta(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n])["__metadata__"]
best = meta(run + "/best.safetensors")
assert best["epoch"] == "1" and 0 <= float(best["val_accuracy"]) <= 1, best
assert best["moodnet_version"] == c["moodnet_version"] and best["program"] == "train_customnet", best
assert json.loads(best["flags"]) == f, best["flags"]
assert meta(run + "/last.safetensors")["epoch"] == "1"
PY
"${train[@]}" --lr 0.02 --max-steps 1 --out "$work/budget" > /dev/null 2>&1 || fail "a run without --epochs failed"
python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['flags']['time-budget'] == 5280" "$work/budget/config.json" \
  || fail "without --epochs the default time budget (88m) should apply"

# 2. A folder that holds a run: refused, naming the folder and both ways on; --overwrite replaces it.
expect_error "--out $work/a holds another run (last.state.safetensors, last.safetensors, best.safetensors): continue it with --resume, replace it with --overwrite" \
  "${train[@]}" --epochs 1 --out "$work/a"
expect_error "give one of them" "${train[@]}" --epochs 1 --out "$work/a" --resume --overwrite
cp "$work/a/best.safetensors" "$work/a-best.safetensors"
"${train[@]}" --epochs 1 --lr 0.03 --out "$work/a" --overwrite > "$work/o.log" 2>&1 || { cat "$work/o.log"; fail "--overwrite failed"; }
grep -q "^--overwrite: removed [0-9]* file(s) of the previous run in $work/a" "$work/o.log" || fail "--overwrite said nothing"
grep -q '"lr": 0.03' "$work/a/config.json" || fail "--overwrite did not write the new run's config.json"
cmp -s "$work/a/best.safetensors" "$work/a-best.safetensors" && fail "--overwrite kept the old best weights"

# 3. --resume restores the recorded flags: stopped after 3 steps, resumed without --lr/--epochs, it
# ends with the weights of the uninterrupted run (tensors and metadata: cmp).
"${train[@]}" --epochs 2 --lr 0.01 --out "$work/full" > /dev/null 2>&1 || fail "the uninterrupted run failed"
"${train[@]}" --epochs 2 --lr 0.01 --max-steps 3 --out "$work/r" > /dev/null 2>&1 || fail "the stopped run failed"
"$bin/train_customnet" --out "$work/r" --resume --threads 1 > "$work/r2.log" 2>&1 || { cat "$work/r2.log"; fail "a bare --resume failed"; }
grep -q "resumed from" "$work/r2.log" || fail "the bare --resume did not resume"
cmp -s "$work/full/last.safetensors" "$work/r/last.safetensors" || fail "a resume without its flags ended with other weights"
cmp -s "$work/full/best.safetensors" "$work/r/best.safetensors" || fail "a resume without its flags picked other best weights"
cmp -s "$work/full/config.json" "$work/r/config.json" || fail "the resumed run's config.json differs"
# A flag given with another value than the run's is refused, naming it and both values.
"${train[@]}" --epochs 2 --lr 0.01 --max-steps 3 --out "$work/c" > /dev/null 2>&1 || fail "the stopped run failed"
expect_error "other settings: --lr 0.05 (the run has 0.01), --seed 4 (the run has 3)" \
  "$bin/train_customnet" --out "$work/c" --resume --lr 0.05 --seed 4
"$bin/train_customnet" --out "$work/c" --resume --lr 0.01 --threads 2 --tta flip > /dev/null 2>&1 \
  || fail "a resume with the same --lr, another --threads and --tta was refused"
expect_error "was made by train_customnet, with other settings than train_mobilenet has" \
  "$bin/train_mobilenet" --out "$work/c" --resume

# 4. --resume --epochs N extends a finished run (the 1-epoch run of part 2, to 2 epochs).
"$bin/train_customnet" --out "$work/a" --resume --epochs 2 > "$work/e.log" 2>&1 || { cat "$work/e.log"; fail "--epochs 2 on a finished run failed"; }
grep -q "^--epochs 2: the run is re-planned from 1 to 2 epochs at step " "$work/e.log" || fail "no re-plan line: $(cat "$work/e.log")"
grep -qE "^epoch +2/2 " "$work/e.log" || fail "the extended run did not train epoch 2"
[[ $(wc -l < "$work/a/history.csv") -eq 3 ]] || fail "history.csv should have 2 epochs after the extension"
grep -q '"epochs": 2,' "$work/a/config.json" || fail "config.json does not record the new length"
expect_error "has already trained 2 epoch(s)" "$bin/train_customnet" --out "$work/a" --resume --epochs 1
echo "smoke_runs: passed"

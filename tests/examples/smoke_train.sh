#!/usr/bin/env bash
# End-to-end smoke test of the example programs on the bundled FER-2013 sample:
#   train_customnet (1 short run) -> files appear, numbers are sane
#   an interrupted run resumed with --resume ends with the same weights as an uninterrupted one
#   predict --json and evaluate on the trained weights
#   bad flags and bad files give a one-line error and exit code 2
# usage: smoke_train.sh <bin-dir> <source-dir>
set -euo pipefail
bin=$1 src=$2
data="$src/data/fer2013-sample"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
common=(--data "$data" --width 8 --batch-size 16 --threads 2 --seed 7 --tta flip)

# 1. A short run: 2 epochs on the sample.
"$bin/train_customnet" "${common[@]}" --epochs 2 --out "$work/a" > "$work/a.log" 2>&1 || { cat "$work/a.log"; fail "training failed"; }
for f in best.safetensors last.safetensors last.state.safetensors history.csv loss.png accuracy.png \
         confusion_validation.png confusion_private_test.png confusion_private_test.txt worst_private_test.png \
         test_results.txt; do
  [[ -s "$work/a/$f" ]] || fail "training did not write $f"
done
[[ $(wc -l < "$work/a/history.csv") -eq 3 ]] || fail "history.csv should have a header and 2 epochs"
grep -qE "^PrivateTest:    Checking accuracy on test set: Got [0-9]+ / 35 correct \([0-9.]+%\)" "$work/a/test_results.txt" \
  || fail "no PrivateTest accuracy line in test_results.txt"
grep -qE "^Public\+Private: Checking accuracy on test set: Got [0-9]+ / 70 correct" "$work/a/test_results.txt" \
  || fail "no Public+Private accuracy line"
head -c 8 "$work/a/loss.png" | od -An -c | grep -q "P   N   G" || fail "loss.png is not a PNG"

# 2. Interrupted after 5 steps, resumed: same final weights as the uninterrupted run.
"$bin/train_customnet" "${common[@]}" --epochs 2 --out "$work/b" --max-steps 5 > "$work/b1.log" 2>&1 || { cat "$work/b1.log"; fail "first half failed"; }
grep -q "continue with --resume" "$work/b1.log" || fail "the stopped run did not save its state"
"$bin/train_customnet" "${common[@]}" --epochs 2 --out "$work/b" --resume > "$work/b2.log" 2>&1 || { cat "$work/b2.log"; fail "resume failed"; }
cmp -s "$work/a/last.safetensors" "$work/b/last.safetensors" || fail "resumed run ended with other weights than the uninterrupted run"
cmp -s "$work/a/best.safetensors" "$work/b/best.safetensors" || fail "resumed run picked other best weights"

# 2b. Every optimizer with every schedule trains end to end (one short epoch each) to a finite loss.
for opt in sgd adam adamw; do
  for sched in cosine step onecycle plateau; do
    lr=0.05; [[ $opt != sgd ]] && lr=0.002
    "$bin/train_customnet" "${common[@]}" --epochs 2 --max-steps 10 --optimizer $opt --lr $lr --schedule $sched \
      --tta none --out "$work/o-$opt-$sched" > "$work/o.log" 2>&1 || { cat "$work/o.log"; fail "$opt + $sched failed"; }
    grep -qE "^epoch +1/2 +train loss [0-9]+\.[0-9]+" "$work/o.log" || { cat "$work/o.log"; fail "$opt + $sched: no finite epoch loss"; }
  done
done

# 3. predict --json: one object per image, 7 probabilities summing to 1.
imgs=("$data"/test/happy/*.jpg)
"$bin/predict" --weights "$work/a/best.safetensors" --json "${imgs[@]:0:3}" > "$work/pred.jsonl"
[[ $(wc -l < "$work/pred.jsonl") -eq 3 ]] || fail "predict --json printed $(wc -l < "$work/pred.jsonl") lines for 3 images"
python3 - "$work/pred.jsonl" <<'PY' || fail "predict --json output is not valid"
import json, sys
classes = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert set(o) == {"file", "box", "label", "probs"} and o["box"] == [0, 0, 48, 48], o
    assert list(o["probs"]) == classes and abs(sum(o["probs"].values()) - 1) < 1e-5, o
    assert o["label"] == max(classes, key=lambda c: o["probs"][c]), o
PY

# 3b. predict's photo flags on a 48x48 sample: a box of the whole image, and letterbox (nothing to pad
# on a square image), give exactly the default's answer; a box outside the image is a clear error.
"$bin/predict" --weights "$work/a/best.safetensors" --json --crop 0,0,48,48 --fit letterbox "${imgs[@]:0:3}" \
  > "$work/pred_box.jsonl" || fail "predict --crop --fit letterbox failed"
cmp -s "$work/pred.jsonl" "$work/pred_box.jsonl" || fail "predict --crop 0,0,48,48 --fit letterbox changed the answer"

# 4. evaluate on the same weights reproduces the trainer's PrivateTest number (no TTA).
"$bin/evaluate" --weights "$work/a/best.safetensors" --data "$data" --split private > "$work/eval.txt"
want=$(grep -E "^PrivateTest:    " "$work/a/test_results.txt" | sed 's/^PrivateTest: *//')
grep -qF "$want" "$work/eval.txt" || fail "evaluate disagrees with the trainer: wanted '$want'"
grep -q "precision" "$work/eval.txt" || fail "evaluate printed no per-class table"

# 5. Bad input: a one-line error and exit code 2, never a crash.
expect_error() {  # expect_error <pattern> <command...>
  local pattern=$1; shift
  set +e; "$@" > "$work/err.out" 2> "$work/err.txt"; local rc=$?; set -e
  [[ $rc -eq 2 ]] || fail "'$*' exited with $rc, expected 2"
  [[ $(wc -l < "$work/err.txt") -eq 1 ]] || fail "'$*' printed more than one error line: $(cat "$work/err.txt")"
  grep -q -- "$pattern" "$work/err.txt" || fail "'$*' error does not mention '$pattern': $(cat "$work/err.txt")"
}
expect_error "--lr" "$bin/train_customnet" --lr -1
expect_error "--batch-size" "$bin/train_mobilenet" --batch-size 0
expect_error "unknown value 'foo'" "$bin/train_customnet" --optimizer foo
expect_error "unknown flag --frobnicate" "$bin/train_customnet" --frobnicate
expect_error "$work/nothing" "$bin/train_customnet" --data "$work/nothing"
expect_error "cannot open" "$bin/predict" --weights "$work/missing.safetensors" "${imgs[0]}"
expect_error "does not fit in the image (48x48" "$bin/predict" --strict --weights "$work/a/best.safetensors" --crop 40,40,20,20 "${imgs[0]}"
expect_error "--crop: '1,2,3' is not X,Y,W,H" "$bin/predict" --weights "$work/a/best.safetensors" --crop 1,2,3 "${imgs[0]}"
printf 'garbage' > "$work/bad.safetensors"
expect_error "bad.safetensors" "$bin/evaluate" --weights "$work/bad.safetensors" --data "$data"
"$bin/train_mobilenet" --data "$data" --width 0.25 --epochs 1 --max-steps 1 --batch-size 8 --out "$work/m" > /dev/null 2>&1 \
  || fail "train_mobilenet smoke run failed"
expect_error "other settings" "$bin/train_customnet" "${common[@]}" --out "$work/m" --resume
# 6. --version on every program: moodnet's version, the compiler, the compiled paths; exit code 0.
for prog in train train_customnet train_mobilenet train_resnet train_resnext predict evaluate; do
  [[ -x "$bin/$prog" ]] || continue
  "$bin/$prog" --version > "$work/version.txt" || fail "$prog --version exited with $?"
  grep -q "^$prog (moodnet [0-9]*\.[0-9]*\.[0-9]*)$" "$work/version.txt" || fail "$prog --version: $(cat "$work/version.txt")"
  grep -q "^AVX-512 paths: " "$work/version.txt" || fail "$prog --version names no AVX-512 state"
done
echo "smoke: 1 passed, 0 failed"

#!/usr/bin/env bash
# ONNX export of every registered model, checked by clients moodnet did not write:
#   customnet, mobilenet: the shipped weights (models/); resnet, resnext: 3 training steps on the bundled
#   sample at small widths (non-trivial batchnorm statistics, grouped convolutions, residual adds), and a
#   ResNet on the sample read as 3-channel 32x32 images
#   each exported twice: dynamic batch with normalised input, and fixed batch 8 with the normalisation in
#   the graph; each with the input and moodnet's logits for 8 real PrivateTest faces of the sample
#   tests/examples/onnx_check.py: onnx.checker, OpenCV's dnn module (and onnx.reference where onnx >= 1.13)
#   give the same logits within the tolerance below
#   bad flags: one-line errors, exit code 2
# Exit 4 (ctest SKIP) when python3-onnx or python3-opencv is missing (after doing what it can).
# usage: onnx_export.sh <bin-dir> <source-dir>
set -euo pipefail
bin=$1 src=$2
data="$src/data/fer2013-sample"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# |cv2 - moodnet| <= tol + tol * |moodnet| for every logit: float32 sums in another order (im2col GEMM against
# OpenCV's convolution, batchnorm applied rather than folded) differ by ~1e-6 relative per layer.
tol=1e-4

# The networks: two shipped, two trained for 3 steps (1 thread: the test must not load the machine).
declare -A weights=([customnet]="$src/models/customnet_w32.safetensors" [mobilenet]="$src/models/mobilenet_a0.5.safetensors")
train_small() {  # label, model, flags...
  local name=$1 model=$2; shift 2
  "$bin/train" --model "$model" "$@" --data "$data" --epochs 1 --max-steps 3 --batch-size 16 --threads 1 --seed 3 \
    --tta none --out "$work/train_$name" > "$work/train_$name.log" 2>&1 || { cat "$work/train_$name.log"; fail "training $name failed"; }
  weights[$name]="$work/train_$name/last.safetensors"
}
train_small resnet resnet --width 8 --blocks 1
train_small resnext resnext --cardinality 4 --group-width 2 --width 16 --blocks 1
# Colour at another size: per-channel normalisation ([3,1,1] in the graph), 32x32 inputs.
train_small resnet_rgb32 resnet --width 4 --blocks 1 --channels 3 --input-size 32

files=()
for name in customnet mobilenet resnet resnext resnet_rgb32; do
  w=${weights[$name]}
  [[ -s $w ]] || fail "no weights for $name ($w)"
  "$bin/export_onnx" --weights "$w" --out "$work/$name.onnx" --reference "$data" --threads 1 > "$work/$name.log" \
    || fail "export_onnx $name failed"
  grep -q "batch N (dynamic)" "$work/$name.log" || { cat "$work/$name.log"; fail "$name: no dynamic batch"; }
  "$bin/export_onnx" --weights "$w" --out "$work/${name}_b8.onnx" --batch 8 --normalize-in-graph --reference "$data" \
    --threads 1 > "$work/${name}_b8.log" || fail "export_onnx --batch 8 --normalize-in-graph $name failed"
  for f in "$name" "${name}_b8"; do
    for part in onnx input.npy logits.npy; do [[ -s "$work/$f.$part" ]] || fail "export_onnx did not write $f.$part"; done
    files+=("$work/$f.onnx")
  done
  head -c 2 "$work/$name.onnx" | od -An -tx1 | grep -q "08 07" || fail "$name.onnx does not start with ir_version 7"
done

# Bad uses: one line, exit code 2.
expect_error() {  # pattern, args...
  local pattern=$1; shift
  set +e; "$bin/export_onnx" "$@" > "$work/err.out" 2> "$work/err.txt"; local rc=$?; set -e
  [[ $rc -eq 2 ]] || { cat "$work/err.txt"; fail "export_onnx $* exited $rc, expected 2"; }
  [[ $(wc -l < "$work/err.txt") -eq 1 ]] || { cat "$work/err.txt"; fail "export_onnx $*: the error is not one line"; }
  grep -q -- "$pattern" "$work/err.txt" || { cat "$work/err.txt"; fail "export_onnx $*: no '$pattern' in the error"; }
}
expect_error "out" --weights "${weights[customnet]}"
expect_error "weights" --out "$work/x.onnx"
expect_error "nonexistent" --weights "$work/nonexistent.safetensors" --out "$work/x.onnx"
expect_error "fewer than --batch" --weights "${weights[customnet]}" --out "$work/x.onnx" --batch 4000 --reference "$data"
expect_error "batch" --weights "${weights[customnet]}" --out "$work/x.onnx" --batch -1

# The clients: a python3 with numpy, preferring one that also has onnx and cv2 (Debian's own /usr/bin/python3
# when another python3 comes first on PATH, e.g. pyenv's).
py=""
for p in python3 /usr/bin/python3; do
  command -v "$p" > /dev/null || continue
  if "$p" -c "import numpy, onnx, cv2" 2> /dev/null; then py=$p; break; fi
  [[ -z $py ]] && "$p" -c "import numpy" 2> /dev/null && py=$p
done
if [[ -z $py ]]; then
  echo "SKIP: no python3 with numpy (Debian python3-numpy, python3-onnx, python3-opencv): the files were written but not checked"
  exit 4
fi
set +e
"$py" "$src/tests/examples/onnx_check.py" "$tol" "${files[@]}"
rc=$?
set -e
[[ $rc -eq 0 || $rc -eq 4 ]] || fail "an ONNX client disagreed with moodnet (above)"
exit $rc

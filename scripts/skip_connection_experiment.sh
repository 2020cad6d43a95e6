#!/usr/bin/env bash
# The student report's question: do skip connections raise FER-2013 accuracy? CustomNet-48 w 32 (a
# ResNeXt-style net without them, 1,240,231 parameters) against ResNet-10-48 w 32 (the same widths with
# them, 1,227,623), the same recipe and epochs, two seeds each. The best epoch is chosen on PublicTest;
# PrivateTest is reported (DESIGN.md contract 4). Two runs go at a time, one thread each (results are
# bit-identical for any thread count), and the script ends with the table docs/results.md quotes.
#   bash scripts/skip_connection_experiment.sh                 # 12 epochs, seeds 1 and 2
#   EPOCHS=30 SEEDS="1 2 3" OUT=runs/skip30 bash scripts/skip_connection_experiment.sh
# Extra arguments go to both trainers (e.g. --data /path/to/fer2013).
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${EPOCHS:-12}
seeds=${SEEDS:-1 2}
out=${OUT:-runs/skip_connection}
bin=build/release/examples
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target train_customnet train_resnet

run() {  # model seed -> trains into $out/<model>_s<seed> (skipped when its results exist)
  local model=$1 seed=$2 dir="$out/$1_s$2"
  shift 2
  if [[ -f "$dir/test_results.txt" ]]; then return; fi
  local width=(--width 32)
  [[ $model == resnet ]] && width+=(--blocks 1)
  "$bin/train_$model" "${width[@]}" --epochs "$epochs" --seed "$seed" --threads 1 --time-budget 0 \
    --out "$dir" "$@" > "$dir.log" 2>&1
}

mkdir -p "$out"
for seed in $seeds; do
  run customnet "$seed" "$@" &
  run resnet "$seed" "$@" &
  wait
done

# accuracy "2457 / 3589" of the first line of test_results.txt that starts with $2
accuracy() { grep -m1 "^$2" "$1/test_results.txt" | sed -E 's/.*Got ([0-9]+) \/ ([0-9]+) correct \(([0-9.]+)%\).*/\3% (\1\/\2)/'; }
echo
echo "| network | seed | epochs | best PublicTest (epoch) | PrivateTest | PrivateTest, flip TTA | minutes |"
echo "|---|---|---|---|---|---|---|"
for model in customnet resnet; do
  for seed in $seeds; do
    dir="$out/${model}_s$seed"
    best=$(awk -F, 'NR > 1 && $5 > b { b = $5; e = $1 } END { printf "%.2f%% (%d)", 100 * b, e }' "$dir/history.csv")
    minutes=$(awk -F, 'NR > 1 { s += $7 } END { printf "%.1f", s / 60 }' "$dir/history.csv")
    name=$([[ $model == resnet ]] && echo "ResNet-10-48 w 32" || echo "CustomNet-48 w 32")
    echo "| $name | $seed | $epochs | $best | $(accuracy "$dir" 'PrivateTest:') | $(accuracy "$dir" 'PrivateTest with flip TTA:') | $minutes |"
  done
done

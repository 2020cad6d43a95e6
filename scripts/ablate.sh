#!/usr/bin/env bash
# The recipe ablation of issue 15: each training feature switched on alone against the trainer's
# defaults, on a short schedule, two seeds per cell, judged on PublicTest only (best epoch and last
# epoch; PrivateTest is not shown: nothing here is a final model, DESIGN.md contract 4). Two runs go
# at a time, one thread each (results are bit-identical for any thread count); a cell whose runs
# finished is not run again, so the script resumes after an interruption. It ends with the table
# docs/results.md quotes.
#   bash scripts/ablate.sh                                    # ResNet-10-48 w 16, 10 epochs, seeds 1 2
#   MODEL=customnet WIDTH=16 EPOCHS=15 OUT=runs/ablate_cn bash scripts/ablate.sh
#   CELLS="baseline ema" bash scripts/ablate.sh               # only some cells
# Extra arguments go to every run (e.g. --data /path/to/fer2013).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${MODEL:-resnet}
width=${WIDTH:-16}
epochs=${EPOCHS:-10}
seeds=(${SEEDS:-1 2})
out=${OUT:-runs/ablate}
bin=build/release/examples

# cell name -> the flags it adds to the defaults
declare -A flags=(
  [baseline]=""
  [ema]="--ema 0.999"
  [crop44]="--crop 44"
  [crop40]="--crop 40"
  [flip_alternate]="--flip alternate"
  [tail]="--tail-fraction 0.2"
  [norm_bias_lr4]="--norm-bias-lr-scale 4"
  [erase0.25]="--erase 0.25"
  [erase0]="--erase 0"
  [smoothing0]="--label-smoothing 0"
  [smoothing0.2]="--label-smoothing 0.2"
  [winograd_f4]="--winograd f4"  # issue 16: F(4x4) in every 3x3 stride-1 layer; same seed, other roundings
  [bf16]="--precision bf16"      # issue 16: bf16 matrix products on AMX (machines that have it)
)
order=(baseline ema crop44 flip_alternate tail norm_bias_lr4 erase0.25 smoothing0)  # the default cells
more=(crop40 erase0 smoothing0.2 winograd_f4 bf16)                                # by name in CELLS
cells=(${CELLS:-${order[*]}})
for c in "${cells[@]}"; do
  [[ -v "flags[$c]" ]] || { echo "ablate.sh: unknown cell '$c' (cells: ${order[*]} ${more[*]})" >&2; exit 2; }
done
[[ ${#seeds[@]} -ge 1 ]] || { echo "ablate.sh: SEEDS is empty" >&2; exit 2; }

if [[ ${ABLATE_NO_BUILD:-0} != 1 ]]; then
  cmake --preset release > /dev/null
  cmake --build --preset release -j "$(nproc)" --target "train_$model"
fi

arch=(--width "$width")
[[ $model == resnet || $model == resnext ]] && arch+=(--blocks "${BLOCKS:-1}")

run() {  # cell seed [extra flags...] -> trains into $out/<cell>_s<seed> (skipped when it finished)
  local cell=$1 seed=$2 dir="$out/$1_s$2"
  shift 2
  [[ -f "$dir/test_results.txt" ]] && return 0
  # shellcheck disable=SC2086  # the cell's flags are words
  "$bin/train_$model" "${arch[@]}" --epochs "$epochs" --seed "$seed" --threads 1 --time-budget 0 \
    --tta none --overwrite ${flags[$cell]} --out "$dir" "$@" > "$dir.log" 2>&1 ||
    { echo "ablate.sh: $cell seed $seed failed, see $dir.log" >&2; return 1; }
}

mkdir -p "$out"
for cell in "${cells[@]}"; do
  for ((i = 0; i < ${#seeds[@]}; i += 2)); do
    run "$cell" "${seeds[i]}" "$@" &
    if ((i + 1 < ${#seeds[@]})); then run "$cell" "${seeds[i + 1]}" "$@" & fi
    wait
  done
  echo "ablate.sh: $cell done ($(date -u +%H:%M) UTC)"
done

# best PublicTest accuracy (%) with its epoch, the last epoch's, and the run's training minutes
best() { awk -F, 'NR > 1 && $5 > b { b = $5; e = $1 } END { printf "%.2f %d\n", 100 * b, e }' "$1/history.csv"; }
last() { awk -F, 'NR > 1 { a = $5 } END { printf "%.2f", 100 * a }' "$1/history.csv"; }
minutes() { awk -F, 'NR > 1 { s += $7 } END { printf "%.1f", s / 60 }' "$1/history.csv"; }
echo
echo "$model w $width, $epochs epochs, seeds ${seeds[*]}; PublicTest accuracy (%)"
echo
echo "| cell | flags | best epoch, per seed | last epoch, per seed | mean of last | vs baseline | minutes per run |"
echo "|---|---|---|---|---:|---:|---:|"
base_mean=""
for cell in "${cells[@]}"; do
  b="" l="" sum=0 m=""
  for s in "${seeds[@]}"; do
    d="$out/${cell}_s$s"
    read -r acc ep < <(best "$d")
    b+="${b:+, }$acc ($ep)"
    l+="${l:+, }$(last "$d")"
    sum=$(awk -v a="$sum" -v b="$(last "$d")" 'BEGIN { print a + b }')
    m=$(minutes "$d")
  done
  mean=$(awk -v s="$sum" -v n="${#seeds[@]}" 'BEGIN { printf "%.2f", s / n }')
  [[ $cell == baseline ]] && base_mean=$mean
  delta=$([[ -n $base_mean ]] && awk -v a="$mean" -v b="$base_mean" 'BEGIN { printf "%+.2f", a - b }' || echo "")
  echo "| $cell | ${flags[$cell]:-(defaults)} | $b | $l | $mean | $delta | $m |"
done

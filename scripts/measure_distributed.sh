#!/usr/bin/env bash
# Issue 17's measurement on one machine: 2 ranks x 1 thread (mpirun, data parallel; also with
# --overlap-allreduce and with --sync-bn) against 1 process x 2 threads, for CustomNet-48 w 32 and MobileNet-V1-48 alpha 0.5 on
# FER-2013, batch 64. Run it on an otherwise idle machine (it uses every core for minutes).
#
# Throughput is taken from two runs per setting that differ only in --max-steps (SHORT and LONG):
# images/s = (LONG - SHORT) * 64 / (wall time difference), so loading the data, compiling the plans
# and the final test evaluation (the same in both runs) cancel out. The time spent in MPI per step
# is the trainer's own log line of the LONG run ("data parallel: X ms/step in the gradient
# allreduce, Y ms/step in the small sums"), an average over its steps, waits for the slower rank
# included. Prints a markdown table for docs/distributed.md.
#
#   bash scripts/measure_distributed.sh                       # build/release, ../shared/fer2013
#   BIN=build/portable/examples SHORT=20 LONG=420 bash scripts/measure_distributed.sh --data /path/to/fer2013
#   SETTINGS="2x1 2x1-overlap" bash scripts/measure_distributed.sh   # some of 1x2 2x1 2x1-overlap 2x1-syncbn
#   NETS=mobilenet:0.5 bash scripts/measure_distributed.sh             # <model>:<--width>, default customnet:32 mobilenet:0.5
# Extra arguments go to every trainer run.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-build/release/examples}
short=${SHORT:-20}
long=${LONG:-220}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [[ -z ${BIN:-} ]]; then
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target train_customnet train_mobilenet
fi
command -v mpirun >/dev/null || { echo "mpirun not found (scripts/setup.sh installs openmpi-bin)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1

# run <name> <steps> <launcher...> -- <trainer args...>: prints the wall seconds; the log is $out/<name>_<steps>.log
run() {
  local name=$1 steps=$2
  shift 2
  local launcher=()
  while [[ $1 != -- ]]; do launcher+=("$1"); shift; done
  shift
  local log="$out/${name}_${steps}.log" t0 t1
  t0=$(date +%s.%N)
  "${launcher[@]}" "$@" --batch-size 64 --max-steps "$steps" --epochs 30 --time-budget 0 --tta none \
    --out "$out/${name}_${steps}" > "$log" 2>&1 || { cat "$log" >&2; echo "FAIL: $name ($steps steps)" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

echo "| network | setting | images/s | gradient allreduce ms/step | small sums ms/step |"
echo "|---|---|---:|---:|---:|"
for net in ${NETS:-customnet:32 mobilenet:0.5}; do
  model=${net%%:*} widthflag=--width width=${net#*:}
  trainer="$bin/train_$model"
  for setting in ${SETTINGS:-1x2 2x1 2x1-overlap 2x1-syncbn}; do
    case $setting in
      1x2) launcher=(env OMP_NUM_THREADS=2); threads=2; extra=() ;;
      2x1) launcher=(mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1); threads=1; extra=() ;;
      2x1-overlap) launcher=(mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1); threads=1; extra=(--overlap-allreduce) ;;
      2x1-syncbn) launcher=(mpirun -np 2 --bind-to core -x OMP_NUM_THREADS=1); threads=1; extra=(--sync-bn) ;;
      *) echo "unknown setting '$setting' (1x2 2x1 2x1-overlap 2x1-syncbn)" >&2; exit 2 ;;
    esac
    name="${model}_${setting}"
    args=("$trainer" "$widthflag" "$width" --threads "$threads" "${extra[@]}" "$@")
    ts=$(run "$name" "$short" "${launcher[@]}" -- "${args[@]}")
    tl=$(run "$name" "$long" "${launcher[@]}" -- "${args[@]}")
    ips=$(awk -v s="$short" -v l="$long" -v a="$ts" -v b="$tl" 'BEGIN { printf "%.1f", (l - s) * 64 / (b - a) }')
    mpi=$(grep -oE "data parallel: [0-9.]+ ms/step in the gradient allreduce[^,]*, [0-9.]+ ms/step" "$out/${name}_${long}.log" | tail -1 || true)
    grad=$(sed -E 's/data parallel: ([0-9.]+) ms.*/\1/' <<< "$mpi")
    sums=$(sed -E 's/.*, ([0-9.]+) ms\/step$/\1/' <<< "$mpi")
    printf "| %s %s %s | %s | %.0f | %s | %s |\n" "$model" "$widthflag" "$width" "$setting" "$ips" "${grad:--}" "${sums:--}"
  done
done
echo
echo "($(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $short and $long steps of batch 64;"
echo " bash scripts/measure_distributed.sh $*)"

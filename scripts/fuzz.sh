#!/usr/bin/env bash
# Builds the libFuzzer programs of tools/fuzz (clang, AddressSanitizer + UBSan) and runs each on its
# corpus for FUZZ_SECONDS seconds; exits non-zero at the first finding (a crash, a sanitizer report,
# an exception other than moodnet::Error, a hang over 10 s on one input, more than 2 GB of memory).
# A run for a time explores new inputs each time (libFuzzer's seed comes from the clock); a run with
# FUZZ_RUNS and FUZZ_SEED is the same every time: CI runs it after scripts/test.sh (a fixed 20,000
# inputs per target from seed 1, so a CI verdict never depends on luck), exploration is a long run.
#   bash scripts/fuzz.sh                               # every target, 20 s each
#   FUZZ_SECONDS=3600 bash scripts/fuzz.sh image       # one target for an hour
#   FUZZ_RUNS=20000 FUZZ_SEED=1 bash scripts/fuzz.sh   # what CI runs: reproducible
# Environment: FUZZ_SECONDS (default 20), FUZZ_RUNS (inputs per target instead of a time),
# FUZZ_SEED (libFuzzer's -seed), FUZZ_BUILD (build folder, default build/fuzz), FUZZ_JOBS
# (build jobs, default nproc). New inputs libFuzzer finds go to $FUZZ_BUILD/corpus/<target>/ (kept
# between runs, never committed); a finding is written to $FUZZ_BUILD/findings/<target>/crash-*
# (or leak-*, timeout-*, oom-*): reproduce it with `$FUZZ_BUILD/tools/fuzz/fuzz_<target> FILE`, fix
# the reader, and commit the file into tools/fuzz/corpus/<target>/ so tests/io/fuzz_corpus.cpp
# replays it in every build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

build=${FUZZ_BUILD:-build/fuzz}
seconds=${FUZZ_SECONDS:-20}
limit=(-max_total_time="$seconds")
what="$seconds s"
if [[ -n ${FUZZ_RUNS:-} ]]; then limit=(-runs="$FUZZ_RUNS"); what="$FUZZ_RUNS inputs"; fi
if [[ -n ${FUZZ_SEED:-} ]]; then limit+=(-seed="$FUZZ_SEED"); what+=" from seed $FUZZ_SEED"; fi
all=(json safetensors training_state fer_csv idx image)
if (($#)); then targets=("$@"); else targets=("${all[@]}"); fi

echo "== fuzz: configure and build (clang) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DMOODNET_BUILD_FUZZERS=ON -DMOODNET_BUILD_TESTS=OFF -DMOODNET_BUILD_BENCHMARKS=OFF -DMOODNET_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$build" -j "${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:allocator_may_return_null=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
status=0
for t in "${targets[@]}"; do
  seeds="tools/fuzz/corpus/$t"
  work="$build/corpus/$t"
  findings="$build/findings/$t"
  mkdir -p "$work" "$findings"
  log="$build/fuzz_$t.log"
  echo "== fuzz_$t: $what on $seeds"
  set +e
  "$build/tools/fuzz/fuzz_$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/" "$work" "$seeds" > "$log" 2>&1
  rc=$?
  set -e
  # libFuzzer's last status line ("#N DONE cov: C ft: F corp: K/S ...") and its final stats.
  done_line=$(grep -E "^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)" "$log" | tail -1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "   ${execs:-?} executions; ${done_line:-no status line}"
  if ((rc != 0)); then
    echo "FAIL: fuzz_$t found a problem (exit $rc); the input is in $findings/, the log in $log:" >&2
    grep -E "ERROR|SUMMARY|runtime error|uncaught|Test unit written" "$log" | head -20 >&2 || tail -30 "$log" >&2
    status=1
  fi
done
exit $status

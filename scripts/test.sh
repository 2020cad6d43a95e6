#!/usr/bin/env bash
# One command: install what is needed, build, and run the test suite: the whole suite in the release
# build (-march=native: the AVX-512 and AMX paths on a machine that has them), then, in the portable
# build (no -march=native: the portable float paths), the tests of the code that depends on the
# architecture: the kernels (only include/moodnet/kernels/ has such paths) and what composes them, the
# layers, optimizers, plans and models (preset portable-tests; the readers, trainers and programs
# compile to the same logic in both and run in the release build; `cmake --preset portable` builds and
# runs everything portable). CI runs this. The sanitizer build (ASan + UBSan) is
# not in the default list: a file compiles about five times slower under it (tests/kernels/conv2d_direct.cpp:
# 43 s against 8 s, Zen 5, 2026-12-01); run it before changing kernels, readers or the plan's memory
# (it skips models/shipped_weights, CMakePresets.json).
#   bash scripts/test.sh                             # release, then portable-tests
#   MOODNET_PRESETS=sanitize bash scripts/test.sh    # any list of presets
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
for preset in ${MOODNET_PRESETS:-release portable-tests}; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done

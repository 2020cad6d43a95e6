#!/usr/bin/env bash
# One command: install what is needed, build, and run the test suite twice: the whole suite in the
# release build (-march=native: the AVX-512 paths on a machine that has them), then every test
# executable in the portable build (no -march=native: the portable float paths of every kernel, layer,
# model and reader; preset portable-tests leaves out the example programs, whose end-to-end scripts
# run in the release build). CI runs this. The sanitizer build (ASan + UBSan) is
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

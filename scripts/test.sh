#!/usr/bin/env bash
# One command: install what is needed, build, and run the whole test suite twice: in the release
# build (-march=native: the AVX-512 paths on a machine that has them) and in the portable build
# (no -march=native: the portable float paths). CI runs this. The sanitizer build (ASan + UBSan) is
# not in the default list: a file compiles about five times slower under it (tests/kernels/conv2d_direct.cpp:
# 43 s against 8 s, Zen 5, 2026-12-01); run it before changing kernels, readers or the plan's memory
# (it skips models/shipped_weights, CMakePresets.json).
#   bash scripts/test.sh                             # release, then portable
#   MOODNET_PRESETS=sanitize bash scripts/test.sh    # any list of presets
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
for preset in ${MOODNET_PRESETS:-release portable}; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done

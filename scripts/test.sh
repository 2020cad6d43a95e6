#!/usr/bin/env bash
# One command: install what is needed, build, and run the whole test suite in the release build and
# in the sanitizer build (ASan + UBSan). Exits non-zero if anything fails. The sanitizer run skips
# models/shipped_weights (CMakePresets.json): it evaluates both shipped models on the full test set,
# which takes over 3 minutes under ASan and checks numbers the release run already checks.
#   bash scripts/test.sh            # both builds
#   MOODNET_PRESETS=release bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

jobs=$(nproc)
for preset in ${MOODNET_PRESETS:-release sanitize}; do
  echo "== $preset: configure and build"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "== $preset: test"
  ctest --preset "$preset" -j "$jobs"
done

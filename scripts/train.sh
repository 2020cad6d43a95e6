#!/usr/bin/env bash
# One command: install what is needed, build the release programs, and run the main job.
# Extra arguments go to the trainer, e.g.  bash scripts/train.sh --epochs 5
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"
if [[ -x build/release/examples/train_customnet ]]; then
  exec build/release/examples/train_customnet "$@"
fi
# Until the trainers land, run the smallest program that exercises the library.
exec build/release/examples/hello_moodnet

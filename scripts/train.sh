#!/usr/bin/env bash
# One command: install what is needed, build the release programs, and train CustomNet-48 on
# FER-2013 with the committed recipe (the full dataset when found, else the bundled sample).
# Extra arguments go to the trainer, e.g.  bash scripts/train.sh --epochs 5 --data /path/to/fer2013
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target train_customnet train_mobilenet predict evaluate
build/release/examples/train_customnet "$@"
echo
echo "Classify your own images:  build/release/examples/predict --weights runs/customnet/best.safetensors IMAGE..."

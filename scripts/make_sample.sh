#!/usr/bin/env bash
# Rebuilds data/fer2013-sample/ from a full FER-2013 image-folder copy: per class the first 20
# train images and the first 5 PublicTest + 5 PrivateTest test images (sorted by file name),
# copied byte for byte.  Usage: scripts/make_sample.sh [/path/to/fer2013]
set -euo pipefail
src=${1:-"$(dirname "$0")/../../shared/fer2013"}
dst="$(dirname "$0")/../data/fer2013-sample"
rm -rf "$dst"
for cls_dir in "$src"/train/*/; do
  cls=$(basename "$cls_dir")
  mkdir -p "$dst/train/$cls" "$dst/test/$cls"
  mapfile -t files < <(find "$src/train/$cls" -maxdepth 1 -type f -name '*.jpg' -printf '%f\n' | LC_ALL=C sort)
  for f in "${files[@]:0:20}"; do cp "$src/train/$cls/$f" "$dst/train/$cls/"; done
  for prefix in PublicTest PrivateTest; do
    mapfile -t files < <(find "$src/test/$cls" -maxdepth 1 -type f -name "${prefix}_*.jpg" -printf '%f\n' | LC_ALL=C sort)
    for f in "${files[@]:0:5}"; do cp "$src/test/$cls/$f" "$dst/test/$cls/"; done
  done
done
echo "sample written to $dst: $(find "$dst" -type f -name '*.jpg' | wc -l) images"

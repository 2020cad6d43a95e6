#!/usr/bin/env bash
# Installs the Debian packages moodnet needs to build, test and benchmark. Idempotent: when every
# package is present it installs nothing (and needs no network). Run as root, or with sudo available.
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libeigen3-dev libstb-dev zlib1g-dev catch2 libbenchmark-dev python3
          openmpi-bin libopenmpi-dev  # MPI: the distributed tests (include/moodnet/distributed/)
          libopencv-objdetect-dev opencv-data)  # predict --faces (optional for the build; the tests use it)
# The ONNX clients that check export_onnx's files (tests/examples/onnx_export.sh: onnx.checker, cv2.dnn).
packages+=(python3-numpy python3-onnx python3-opencv)
# scripts/fuzz.sh (CI): clang with libFuzzer and the sanitizer runtimes, OpenMP for clang.
packages+=(clang libclang-rt-dev libomp-dev)
# Optional extras: PyTorch for the reference comparisons (tools/, bench/compare_pytorch.sh).
if [[ "${MOODNET_WITH_TORCH:-0}" == 1 ]]; then packages+=(python3-torch python3-numpy); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

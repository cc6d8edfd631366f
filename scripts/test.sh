#!/usr/bin/env bash
# Quick start, second command: install, build, run the whole test suite (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
ctest --preset release -j"$(nproc)"
# The QEMU guest test's report: its result lines and the guest's /proc/iouring (ctest shows
# a passing test's output only with -V; docs/qemu.md).
if [[ -f build/release/qemu/guest/run.log ]]; then
  echo "---- QEMU guest test: build/release/qemu/guest/run.log"
  cat build/release/qemu/guest/run.log
fi

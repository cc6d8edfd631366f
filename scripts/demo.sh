#!/usr/bin/env bash
# Quick start, first command: install, build, run `toyos demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)"
exec ./build/release/toyos demo

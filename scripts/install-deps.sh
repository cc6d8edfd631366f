#!/usr/bin/env bash
# Installs what toyos needs from Debian 12's packages (as root). Safe to run again.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  liburing-dev libboost-dev libspdlog-dev libgtest-dev libgmock-dev
  nlohmann-json3-dev
  qemu-system-x86 busybox-static cpio   # the QEMU guest test (qemu/, docs/qemu.md)
  clang libclang-rt-dev                 # the libFuzzer targets (fuzz/, scripts/fuzz.sh)
)
"$(dirname "$0")/apt-ensure.sh" "${packages[@]}"
# The guest kernel for the QEMU test: Debian's linux-image-amd64, downloaded and unpacked
# under build/qemu-cache (never installed as this machine's kernel).
"$(dirname "$0")/../qemu/fetch-kernel.sh" "$(dirname "$0")/../build/qemu-cache"

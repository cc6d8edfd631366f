#!/usr/bin/env bash
# Quick start, second command: install, build, run the whole test suite (what CI runs):
#   1. the release build and every test (unit, integration, differential, qemu);
#   2. the same suite under ASan+UBSan and under TSan (the QEMU guest test runs once, in 1);
#   3. a short run of each libFuzzer target on both executors (scripts/fuzz.sh).
# TOYOS_TEST_STAGES=release (or "release asan", ...) runs a subset; the default is all four.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
stages=${TOYOS_TEST_STAGES:-release asan tsan fuzz}
jobs=$(nproc)

for stage in $stages; do
  echo "==== test stage: $stage"
  case "$stage" in
    release)
      cmake --preset release >/dev/null
      cmake --build --preset release -j"$jobs"
      ctest --preset release -j"$jobs"
      # The QEMU guest test's report: its result lines and the guest's /proc/iouring (ctest
      # shows a passing test's output only with -V; docs/qemu.md).
      if [[ -f build/release/qemu/guest/run.log ]]; then
        echo "---- QEMU guest test: build/release/qemu/guest/run.log"
        cat build/release/qemu/guest/run.log
      fi
      ;;
    asan|tsan)
      cmake --preset "$stage" >/dev/null
      cmake --build --preset "$stage" -j"$jobs"
      ctest --preset "$stage" -j"$jobs" -LE qemu
      ;;
    fuzz)
      ./scripts/fuzz.sh --time "${TOYOS_FUZZ_SECONDS:-20}"
      ;;
    *)
      echo "test.sh: unknown stage '$stage' (release, asan, tsan, fuzz)" >&2
      exit 2
      ;;
  esac
done

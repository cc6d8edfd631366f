#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan; preset "fuzz") and runs each for a while
# on its committed seed corpus (fuzz/corpus/<target>), on both executors in turn.
#
#   scripts/fuzz.sh [--time SECONDS] [--executor uring|threads|both] [--jobs N] [TARGET...]
#
# Defaults: 30 s per target and executor, both executors, all targets (fuzz_enter
# fuzz_register fuzz_path). New corpus entries go to build/fuzz/corpus/<target> (not the
# repository); a crash, leak or hang leaves its input in build/fuzz/artifacts/ and fails the
# run. Each run ends with a line: "fuzz: TARGET executor=E execs=N cov=C ft=F crashes=K".
set -euo pipefail
cd "$(dirname "$0")/.."

time_s=30
executors=(uring threads)
targets=()
while (($#)); do
  case "$1" in
    --time) time_s="$2"; shift 2 ;;
    --executor)
      if [[ "$2" == both ]]; then executors=(uring threads); else executors=("$2"); fi
      shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(fuzz_enter fuzz_register fuzz_path)

# clang and its runtimes (libFuzzer, the sanitizers), if scripts/install-deps.sh has not run.
./scripts/apt-ensure.sh clang libclang-rt-dev
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)" >/dev/null

out=build/fuzz
mkdir -p "$out/artifacts"
status=0
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  mkdir -p "$corpus"
  for ex in "${executors[@]}"; do
    log="$out/$t.$ex.log"
    rc=0
    # -timeout: one input may take at most 10 s (a hang is a finding). Leaks are checked.
    TOYOS_EXECUTOR="$ex" "$out/fuzz/$t" -max_total_time="$time_s" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "$corpus" "fuzz/corpus/$t" \
      >"$log" 2>&1 || rc=$?
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
    cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -aoE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    crashes=0
    if ((rc != 0)); then
      crashes=1
      status=1
      echo "fuzz: $t ($ex) FAILED (exit $rc); the report:"
      grep -aE 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -20 | sed 's/^/  | /'
    fi
    echo "fuzz: $t executor=$ex execs=${execs:-0} cov=${cov:-0} ft=${ft:-0} crashes=$crashes"
  done
done
exit $status

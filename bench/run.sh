#!/usr/bin/env bash
# The benchmark harness (docs/benchmarks.md): ringbench under toyos, fio's io_uring engine and a
# raw liburing loop (bench/raw_uring_bench.c), measured in one run on the same file and machine.
#
#   bench/run.sh [--quick] [--repeats N] [--runtime SECS] [--size SIZE] [--out DIR]
#                [--cases REGEX]
#
# Each repeat runs every case once per system, interleaved (toyos, fio, raw, toyos, ...) and in
# an order rotated per repeat, so that drift on a shared machine hits all systems alike. The
# figures are medians over the repeats (bench/summarize.py); the plot is bench/plot.gp's.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
repeats=3
runtime=3
size=1g
out=$repo/build/bench
only=.
command="bench/run.sh $*"

usage() {
  sed -n '4,6p' "$0" | sed 's/^# *//'
  echo "  --quick: 1 repeat of 1 s on a 256 MiB file (about 2 minutes); default: 3 repeats of 3 s, 1 GiB (about 13 minutes)"
  echo "  --cases REGEX: only the cases of bench/cases.sh whose id matches"
}

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) repeats=1; runtime=1; size=256m; shift ;;
    --repeats) repeats=$2; shift 2 ;;
    --runtime) runtime=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --cases) only=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

# --- what the harness needs (Debian packages; CI does not install these) -----------------------
need=(fio gnuplot-nox jq python3 valgrind)
"$here/../scripts/apt-ensure.sh" "${need[@]}"

# --- build -----------------------------------------------------------------------------------
(cd "$repo" && cmake --preset release >/dev/null && cmake --build --preset release -j2 >/dev/null)
export TOYOS=$repo/build/release/toyos
export RAW=$repo/build/release/bench/raw_uring_bench

# --- the one test file, in the sandbox root toyos boots on (there it is /bench.dat) -------------
mkdir -p "$out/root" "$out/raw"
export ROOT=$out/root FILE=$out/root/bench.dat RAWDIR=$out/raw RUNTIME=$runtime
SIZE_BYTES=$(numfmt --from=iec "${size^^}")
export SIZE_BYTES
if [[ ! -f $FILE || $(stat -c %s "$FILE") -ne $SIZE_BYTES ]]; then
  echo "laying out $FILE ($size)"
  head -c "$SIZE_BYTES" /dev/urandom >"$FILE.tmp"
  mv "$FILE.tmp" "$FILE"
fi
sync

# shellcheck source=bench/systems.sh
source "$here/systems.sh"
# shellcheck source=bench/cases.sh
source "$here/cases.sh"

results=$out/results.jsonl
: >"$results"
{
  echo "{\"date\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"nproc\":$(nproc),"
  echo "\"kernel\":\"$(uname -r)\",\"fio\":\"$(fio --version)\","
  echo "\"cpu\":\"$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)\","
  echo "\"command\":\"$command\",\"repeats\":$repeats,\"runtime\":$runtime,"
  echo "\"size\":\"$size\",\"commit\":\"$(git -C "$repo" rev-parse --short HEAD)\"}"
} | tr -d '\n' >"$out/machine.json"
echo >>"$out/machine.json"

started=$SECONDS
for ((rep = 1; rep <= repeats; rep++)); do
  for spec in "${CASES[@]}"; do
    read -r case_id workload qd direct variant systems rounds <<<"$spec"
    [[ $case_id =~ $only ]] || continue
    IFS=, read -r -a order <<<"$systems"
    n=${#order[@]}
    for ((round = 1; round <= ${rounds:-1}; round++)); do
      # Rotate the order per repeat and round (A B C, B C A, ...).
      for ((k = 0; k < n; k++)); do
        system=${order[$(((k + rep + round - 2) % n))]}
        if [[ $direct == 0 && $workload != nop && $workload != wal ]]; then warm_page_cache; fi
        # Writes of the previous measurement must not be written back during this one.
        if [[ $workload == randwrite-* ]]; then sync; fi
        printf '[%4ds] repeat %d/%d  %-22s %-14s ' $((SECONDS - started)) "$rep" "$repeats" \
          "$case_id" "$system"
        line=$(measure "$system" "$workload" "$qd" "$direct" "$variant") || line=""
        if [[ -z $line ]]; then
          echo "FAILED"
          continue
        fi
        jq -c --arg case "$case_id" --arg system "$system" --arg variant "$variant" \
          --arg workload "$workload" --argjson qd "$qd" --argjson direct "$direct" \
          --argjson repeat "$rep" --argjson round "$round" \
          '. + {case: $case, system: $system, variant: $variant, workload: $workload, qd: $qd,
                direct: $direct, repeat: $repeat, round: $round}' <<<"$line" |
          tee -a "$results" |
          jq -r 'if .iops then "\(.iops | floor) IOPS" else "append p99 \(.append_p99_ns) ns" end'
      done
    done
  done
done

# Instructions per NOP on ringbench's thread, where a NOP's whole path runs (callgrind,
# bench/callgrind.sh): what the counters and the trace cost, free of the machine's noise.
# File I/O cannot run under valgrind (it lacks openat2).
: >"$out/callgrind.jsonl"
for mode in "--stats off" "--stats on" "--trace $RAWDIR/callgrind-trace.json"; do
  read -r -a mode_opts <<<"$mode"
  ir=$("$here/callgrind.sh" -n 64000 -o "$RAWDIR/callgrind" "${mode_opts[@]}" -- \
    --ioengine=nop --batch=32 | sed -n "/ringbench's thread/s/.*instructions\/op=\([0-9]*\).*/\1/p")
  echo "callgrind: ringbench --ioengine=nop --batch=32 with $mode: $ir instructions/op"
  jq -cn --arg mode "${mode_opts[0]#--} ${mode_opts[1]:-}" --argjson ir "$ir" \
    '{mode: ($mode | if startswith("trace") then "trace" else . end), instructions_per_op: $ir}' \
    >>"$out/callgrind.jsonl"
done
rm -f "$RAWDIR/callgrind-trace.json"

python3 "$here/summarize.py" "$out"
if grep -qE '^[0-9]+ [0-9]' "$out/iops_vs_qd.dat"; then
  (cd "$out" && gnuplot "$here/plot.gp")
  echo "plot: $out/iops_vs_qd.png"
fi
echo "results: $results; summary: $out/summary.{md,csv,json}"

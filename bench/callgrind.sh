#!/usr/bin/env bash
# Instructions per operation of a ringbench run, counted by callgrind: the same run with N and
# with 2N operations, and the difference divided by N (boot and setup cancel out); for the
# whole process and for ringbench's own thread (where a NOP's whole path runs).
#
#   bench/callgrind.sh [-n N] [-o DIR] [TOYOS_RUN_OPTIONS...] -- RINGBENCH_OPTIONS...
#   bench/callgrind.sh -n 64000 --executor threads -- --ioengine=nop --batch=32
#
# Valgrind's io_uring_enter wrapper holds its thread lock while the call blocks, which stalls
# every other thread of toyos: runs with host rings need TOYOS_HOST_WAIT=poll (the reactors
# then sleep in poll(2) on the ring fd instead). This script sets it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
toyos=${TOYOS:-$here/../build/release/toyos}
n=64000
out=${TMPDIR:-/tmp}/toyos-callgrind
while [[ $# -gt 0 ]]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -o) out=$2; shift 2 ;;
    --) shift; break ;;
    *) break ;;
  esac
done
# Valgrind runs one thread at a time: threads polling before they sleep would only burn time.
run_opts=(--spin-us 0)
while [[ $# -gt 0 && $1 != -- ]]; do run_opts+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
bench_opts=("$@")
mkdir -p "$out/root"
export TOYOS_HOST_WAIT=poll
# Instructions of a run, counted per thread: prints the whole process's total and that of the
# thread running ringbench's toyos_main. Reactor threads of the uring executor poll on a 1 ms
# timer (TOYOS_HOST_WAIT=poll), so their count follows wall time, not operations; the
# program's thread alone is exact from one run to the next.
total() {
  local ops=$1 file=$out/callgrind.$1.out
  rm -f "$file" "$file"-*
  valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$file" "$toyos" run \
    --root "$out/root" "${run_opts[@]}" ringbench "${bench_opts[@]}" --number_ios="$ops" \
    --progress=0 >"$out/ringbench.$ops.txt" 2>"$out/valgrind.$ops.txt"
  local all=0 program=0 t f
  for f in "$file"-*; do
    t=$(awk '/^summary:|^totals:/ {print $2; exit}' "$f")
    all=$((all + t))
    if grep -q toyos_prog_ringbench "$f"; then program=$t; fi
  done
  echo "$all $program"
}
read -r a a_prog < <(total "$n")
read -r b b_prog < <(total $((2 * n)))
echo "callgrind: ${run_opts[*]} ringbench ${bench_opts[*]}"
echo "  Ir($n ops)=$a Ir($((2 * n)) ops)=$b  instructions/op=$(((b - a) / n))"
echo "  ringbench's thread: Ir($n ops)=$a_prog Ir($((2 * n)) ops)=$b_prog" \
  " instructions/op=$(((b_prog - a_prog) / n))"
echo "  profiles: $out/callgrind.$n.out-* $out/callgrind.$((2 * n)).out-* (one per thread;" \
  "callgrind_annotate)"

#!/usr/bin/env bash
# Instructions per operation of a ringbench run, counted by callgrind: the same run with N and
# with 2N operations, and the difference divided by N (boot and setup cancel out).
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
run_opts=()
while [[ $# -gt 0 && $1 != -- ]]; do run_opts+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
bench_opts=("$@")
mkdir -p "$out/root"
export TOYOS_HOST_WAIT=poll
total() {
  local ops=$1 file=$out/callgrind.$1.out
  valgrind --tool=callgrind --callgrind-out-file="$file" "$toyos" run --root "$out/root" \
    "${run_opts[@]}" ringbench "${bench_opts[@]}" --number_ios="$ops" --progress=0 \
    >"$out/ringbench.$ops.txt" 2>"$out/valgrind.$ops.txt"
  awk '/^summary:|^totals:/ {print $2; exit}' "$file"
}
a=$(total "$n")
b=$(total $((2 * n)))
echo "callgrind: ${run_opts[*]} ringbench ${bench_opts[*]}"
echo "  Ir($n ops)=$a Ir($((2 * n)) ops)=$b  instructions/op=$(( (b - a) / n ))"
echo "  profiles: $out/callgrind.$n.out $out/callgrind.$((2 * n)).out (callgrind_annotate)"

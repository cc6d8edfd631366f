#!/usr/bin/env bash
# Installs toyos into a temporary prefix, builds the external example against the installed
# package, and runs both example programs with the installed toyos binary.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/userland/examples/external" -B "$work/ext" \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/ext" -j2 >/dev/null
mkdir -p "$work/root"
echo "file inside the sandbox" > "$work/root/hello.txt"
head -c 100000 /dev/urandom > "$work/root/src.bin"

out=$("$work/prefix/bin/toyos" run --root "$work/root" "$work/ext/libhello_ext.so" one two)
echo "$out"
grep -q "hello from an external program" <<<"$out"
grep -q "arg 2: two" <<<"$out"
grep -q "file inside the sandbox" <<<"$out"

out=$("$work/prefix/bin/toyos" run --root "$work/root" "$work/ext/liburing_ext.so" /src.bin /dst.bin)
echo "$out"
grep -q "copied 100000 bytes with io_uring" <<<"$out"
cmp "$work/root/src.bin" "$work/root/dst.bin"
echo "external programs: OK"

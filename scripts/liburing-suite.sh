#!/usr/bin/env bash
# liburing 2.3's own test suite, from Debian's source package, on the host kernel and under
# toyos, compared test by test (issue: unmodified programs; docs/liburing-suite.md).
#
#   scripts/liburing-suite.sh [--tests REGEX] [--timeout SECONDS] [--toyos PATH]
#
# 1. Takes liburing's source with `apt-get source liburing` (enabling Debian's deb-src lines
#    for this machine's sources if none are enabled), configures it and builds its test/ as
#    liburing's own Makefile does (each test against the bundled library: the host reference,
#    as DESIGN.md measured it), and each test again as a shared object for `toyos run`.
# 2. Runs every test on the host kernel and under toyos, each in a fresh directory (the host)
#    or a fresh sandbox root (toyos), with a time limit (60 s, as liburing's runtests.sh).
# 3. Writes build/liburing-suite/results.tsv (test, host, toyos, verdict, reason) and
#    build/liburing-suite/results.md, and prints `liburing-suite: N passed, M failed,
#    K skipped` last.
#
# Verdicts. A test passes under toyos only if it exits 0 there and prints no "skip"/"not
# supported" line that it does not print on the host: liburing's tests back off quietly
# when a kernel answers -EINVAL for a feature, and such a run tested nothing. Skipped: the
# test also skips (77) or fails on the host, so there is nothing to compare against. Failed:
# everything else, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

tests_re=.
limit=60
toyos_bin=$repo/build/release/toyos
while (($#)); do
  case "$1" in
    --tests) tests_re=$2; shift 2 ;;
    --timeout) limit=$2; shift 2 ;;
    --toyos) toyos_bin=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "liburing-suite: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

out=$repo/build/liburing-suite
src_parent=$out/src
mkdir -p "$out" "$src_parent"

# --- 1. the source ------------------------------------------------------------------------
"$repo/scripts/apt-ensure.sh" dpkg-dev build-essential
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # The same archive as the machine's binary packages, as source lines.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      > /etc/apt/sources.list.d/toyos-deb-src.sources
  elif [[ -f /etc/apt/sources.list ]]; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > /etc/apt/sources.list.d/toyos-deb-src.list
  else
    echo "liburing-suite: no Debian sources to take deb-src lines from" >&2
    exit 1
  fi
  apt-get update -qq
fi
src=$(find "$src_parent" -maxdepth 1 -type d -name 'liburing-*' | head -n1)
if [[ -z "$src" ]]; then
  (cd "$src_parent" && apt-get source -qq liburing >/dev/null 2>&1) || {
    echo "liburing-suite: apt-get source liburing failed" >&2
    exit 1
  }
  src=$(find "$src_parent" -maxdepth 1 -type d -name 'liburing-*' | head -n1)
fi
echo "liburing-suite: source $src"

# --- 2. the builds ------------------------------------------------------------------------
if [[ ! -f "$src/config-host.mak" ]]; then
  (cd "$src" && ./configure >/dev/null)
fi
if [[ ! -f "$src/test/.built" ]]; then
  make -C "$src/src" -j"$(nproc)" >/dev/null
  # Like runtests: every test program (xxx.t), and its helpers.
  make -C "$src/test" -j"$(nproc)" >/dev/null 2>&1 || true  # a test that does not build is reported below
  touch "$src/test/.built"
fi
mapfile -t names < <(cd "$src/test" && ls ./*.c ./*.cc 2>/dev/null | sed -e 's|^\./||' -e 's/\.cc\{0,1\}$//' |
  grep -vx -e helpers -e exec-target -e helpers.c | sort | grep -E "$tests_re" || true)

# The toyos builds: each test as a shared object (glibc will not dlopen a PIE executable),
# linked against what toyos provides of liburing's C ABI. Until toyos loads a program with an
# ordinary main (issue: unmodified programs), `toyos run` refuses these with ENOEXEC, and the
# verdicts below say so.
mkdir -p "$out/so"
cppflags=(-D_GNU_SOURCE -D__SANE_USERSPACE_TYPES__ -I"$src/src/include" -include "$src/config-host.h"
  -DLIBURING_BUILD_TEST)
for n in "${names[@]}"; do
  so=$out/so/$n.so
  [[ -f "$so" ]] && continue
  file=$src/test/$n.c
  cc=cc
  [[ -f "$file" ]] || { file=$src/test/$n.cc; cc=c++; }
  $cc -shared -fPIC -O2 -w "${cppflags[@]}" -o "$so" "$file" "$src/test/helpers.c" \
    -L"$src/src" -luring -lpthread 2>"$out/so/$n.build.log" || rm -f "$so"
done

# --- 3. the runs ----------------------------------------------------------------------------
backoff_re='[Ss]kip|not supported|[Nn]ot available|unsupported'
run_host() {  # name -> "status<TAB>log"
  local n=$1 dir log
  dir=$(mktemp -d "$out/host.XXXXXX")
  log=$out/logs/$n.host.log
  local rc=0
  (cd "$dir" && timeout -k 5 "$limit" "$src/test/$n.t" >"$log" 2>&1) || rc=$?
  rm -rf "$dir"
  echo "$rc"
}
run_toyos() {
  local n=$1 root log
  root=$(mktemp -d "$out/root.XXXXXX")
  log=$out/logs/$n.toyos.log
  local rc=0
  if [[ ! -f "$out/so/$n.so" ]]; then
    echo "not built" >"$log"
    echo 254
    rm -rf "$root"
    return
  fi
  # pid 1's program is a host path; everything it opens resolves inside the fresh root.
  timeout -k 5 "$limit" "$toyos_bin" run --root "$root" "$out/so/$n.so" >"$log" 2>&1 || rc=$?
  rm -rf "$root"
  echo "$rc"
}
describe() {  # rc -> word
  case "$1" in
    0) echo pass ;;
    77) echo skip ;;
    124|137) echo timeout ;;
    254) echo not-built ;;
    *) echo "fail($1)" ;;
  esac
}

mkdir -p "$out/logs"
[[ -x "$toyos_bin" ]] || { echo "liburing-suite: no toyos binary at $toyos_bin (build the release preset)" >&2; exit 1; }
tsv=$out/results.tsv
printf 'test\thost\ttoyos\tverdict\treason\n' >"$tsv"
passed=0 failed=0 skipped=0
for n in "${names[@]}"; do
  if [[ ! -x "$src/test/$n.t" ]]; then
    printf '%s\tnot-built\t-\tskipped\tdoes not build on this host\n' "$n" >>"$tsv"
    skipped=$((skipped + 1))
    continue
  fi
  h=$(describe "$(run_host "$n")")
  t=$(describe "$(run_toyos "$n")")
  hlog=$out/logs/$n.host.log tlog=$out/logs/$n.toyos.log
  if [[ $h != pass ]]; then
    verdict=skipped reason="not passing on the host ($h)"
  elif [[ $t == pass ]]; then
    # Backing off: a skip line toyos printed that the host did not.
    extra=$(comm -13 <(grep -E "$backoff_re" "$hlog" | sort -u) <(grep -E "$backoff_re" "$tlog" | sort -u) | head -n1)
    if [[ -n "$extra" ]]; then
      verdict=failed reason="backed off: ${extra:0:120}"
    else
      verdict=passed reason=""
    fi
  else
    verdict=failed
    if grep -q "ENOEXEC\|Exec format\|toyos_main" "$tlog" 2>/dev/null; then
      reason="toyos cannot load a program with an ordinary main yet"
    else
      reason="$(tail -n1 "$tlog" | tr '\t' ' ' | cut -c1-120)"
    fi
  fi
  case $verdict in
    passed) passed=$((passed + 1)) ;;
    failed) failed=$((failed + 1)) ;;
    skipped) skipped=$((skipped + 1)) ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$h" "$t" "$verdict" "$reason" >>"$tsv"
  echo "  $n: host $h, toyos $t: $verdict${reason:+ ($reason)}"
done

{
  echo "| test | host | toyos | verdict | reason |"
  echo "|---|---|---|---|---|"
  tail -n +2 "$tsv" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }'
  echo
  echo "liburing-suite: $passed passed, $failed failed, $skipped skipped"
} >"$out/results.md"
echo "liburing-suite: results in $tsv and $out/results.md"
echo "liburing-suite: $passed passed, $failed failed, $skipped skipped"

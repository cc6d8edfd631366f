#!/usr/bin/env bash
# Builds the guest's initramfs (a newc cpio): busybox-static, the NVMe modules of the fetched
# kernel, toyos, the test binaries, the guest scripts, and every shared library the binaries
# need (resolved with ldd; the dynamic loader included). Binaries are copied without their
# debug information.
#
# usage: qemu/build-initramfs.sh OUT.cpio KERNEL_DIR STAGING_DIR BINARY...
#   BINARY: toyos first, then test executables and shared objects, all put in /opt/toyos/bin
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1 kernel=$2 stage=$3
shift 3
(($# > 0)) || { echo "build-initramfs: no binaries given" >&2; exit 2; }

busybox=$(command -v busybox || true)
[[ -n $busybox ]] || { echo "build-initramfs: no busybox (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$busybox" >/dev/null 2>&1; then
    echo "build-initramfs: $busybox is dynamically linked; install busybox-static" >&2
    exit 1
fi
command -v cpio >/dev/null || { echo "build-initramfs: no cpio (apt-get install cpio)" >&2; exit 1; }

rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,proc,sys,tmp,run,root,lib/modules,opt/toyos/bin,qemu}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$kernel"/modules/*.ko "$kernel/modules/order" "$stage/lib/modules/"
cp "$here"/guest/* "$stage/qemu/"
chmod +x "$stage"/qemu/*.sh "$stage/qemu/init"
mv "$stage/qemu/init" "$stage/init"

# Binaries, stripped of debug info, and the libraries they load.
declare -A libs=()
for bin in "$@"; do
    [[ -f $bin ]] || { echo "build-initramfs: missing $bin" >&2; exit 1; }
    dst=$stage/opt/toyos/bin/$(basename "$bin")
    objcopy --strip-debug "$bin" "$dst"
    while read -r lib; do libs[$lib]=1; done < <(
        ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}')
done
for lib in "${!libs[@]}"; do
    mkdir -p "$stage$(dirname "$lib")"
    cp -L "$lib" "$stage$lib"
done

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
echo "build-initramfs: $out ($(du -h "$out" | cut -f1), ${#libs[@]} libraries)"

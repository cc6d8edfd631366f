#!/usr/bin/env bash
# Fetches the guest kernel: Debian's linux-image-amd64 (the image package it depends on),
# downloaded with `apt-get download` and unpacked with `dpkg-deb -x` -- never installed as
# the host's kernel. Keeps only what the guest needs (vmlinuz and the NVMe modules) in
#   CACHE/kernel/{vmlinuz,modules/*.ko,VERSION}
# Idempotent: does nothing when the cache is complete.
#
# usage: qemu/fetch-kernel.sh [CACHE]     (default: build/qemu-cache)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-$here/../build/qemu-cache}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
out=$cache/kernel
# The modules nvme needs, in load order (the crc64/t10-pi ones are soft dependencies that
# modules.dep does not order for busybox insmod). See docs/qemu.md.
modules=(crc64 crc64_rocksoft_generic crc64-rocksoft crct10dif_common crct10dif_generic
         crc-t10dif t10-pi nvme-core nvme)

if [[ -f $out/VERSION && -f $out/vmlinuz ]]; then
    complete=1
    for m in "${modules[@]}"; do [[ -f $out/modules/$m.ko ]] || complete=0; done
    ((complete)) && exit 0
fi

resolve() { apt-cache depends linux-image-amd64 2>/dev/null |
            awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
pkg=$(resolve)
if [[ -z $pkg ]]; then
    apt-get update -qq
    pkg=$(resolve)
fi
if [[ -z $pkg ]]; then
    echo "fetch-kernel: apt cannot resolve linux-image-amd64" >&2
    exit 1
fi

tmp=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"  # apt's _apt user downloads into it
echo "fetch-kernel: apt-get download $pkg"
(cd "$tmp" && apt-get download -q "$pkg" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
deb=$(ls "$tmp"/*.deb 2>/dev/null | head -n1)
if [[ -z $deb ]]; then
    echo "fetch-kernel: apt-get download $pkg failed" >&2
    exit 1
fi
dpkg-deb -x "$deb" "$tmp/root"
version=$(ls "$tmp/root/lib/modules" | head -n1)
rm -rf "$out.new"
mkdir -p "$out.new/modules"
cp "$tmp/root/boot/vmlinuz-$version" "$out.new/vmlinuz"
for m in "${modules[@]}"; do
    ko=$(find "$tmp/root/lib/modules/$version" -name "$m.ko" -print -quit)
    if [[ -z $ko ]]; then
        echo "fetch-kernel: $pkg has no $m.ko" >&2
        exit 1
    fi
    cp "$ko" "$out.new/modules/"
done
printf '%s\n' "${modules[@]}" > "$out.new/modules/order"
echo "$pkg $(dpkg-deb -f "$deb" Version) $version" > "$out.new/VERSION"
rm -rf "$out"
mv "$out.new" "$out"
echo "fetch-kernel: $(cat "$out/VERSION") -> $out"

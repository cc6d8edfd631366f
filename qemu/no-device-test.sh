#!/usr/bin/env bash
# On a machine without an NVMe device (this host, CI): toyos detects and reports it -- the
# boot log says what a program gets, /proc/iouring shows no passthrough or IOPOLL ring, the
# device tests SKIP with the reason, and a --device that is not one refuses to boot (ENODEV).
# Exit 77 (ctest: skipped) on a machine that has an NVMe device.
#
# usage: qemu/no-device-test.sh TOYOS DEVTEST_SO
set -uo pipefail
toyos=$1 devtest=$2
if compgen -G '/dev/ng[0-9]*n[0-9]*' >/dev/null || compgen -G '/dev/nvme[0-9]*n[0-9]*' >/dev/null; then
    echo "this machine has an NVMe device; the guest test covers the device paths"
    exit 77
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failed=0
expect() {  # DESCRIPTION PATTERN (grep -E on the output)
    if grep -qE -- "$2" "$root/out"; then
        echo "ok: $1"
    else
        echo "FAILED: $1 (no line matching: $2)"
        failed=1
    fi
}
"$toyos" run --log-level info --nvme --root "$root" "$devtest" --print-proc \
    passthrough-read iopoll-read fixed-odirect >"$root/out" 2>&1
status=$?
cat "$root/out"
echo "---- checks"
[[ $status == 0 ]] && echo "ok: exit status 0 (skips are no failures)" ||
    { echo "FAILED: exit status $status"; failed=1; }
expect "boot log: no NVMe namespace" 'dev: --nvme: this host has no NVMe namespace'
expect "boot log: URING_CMD errno" 'no NVMe generic char device in /dev.*-ENOENT.*-EOPNOTSUPP'
expect "boot log: no polling queue" 'no block device with a polling queue: no host IOPOLL ring'
for t in passthrough-read iopoll-read fixed-odirect; do
    expect "$t skipped with its reason" "^RESULT $t SKIP no NVMe device in /dev"
done
expect "/proc/iouring: no passthrough ring" $'^HostPassthroughRing:\tno$'
expect "/proc/iouring: no IOPOLL ring" $'^HostIopollRing:\tno$'
expect "/proc/iouring: no devices" $'^Devices:\t$'
expect "/proc/iouring: the host could do passthrough" $'^FeaturePassthrough:\t(yes|no)$'
"$toyos" run --device /dev/null --root "$root" true >"$root/out" 2>&1
status=$?
[[ $status != 0 ]] && echo "ok: --device /dev/null refuses to boot" ||
    { echo "FAILED: --device /dev/null booted"; failed=1; }
expect "--device /dev/null: ENODEV" '--device /dev/null: No such device'
exit $failed

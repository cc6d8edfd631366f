#!/usr/bin/env bash
# Boots a QEMU guest with an emulated NVMe disk and runs toyos's tests inside it (the ctest
# test qemu.guest; docs/qemu.md). Steps: fetch Debian's kernel (fetch-kernel.sh), write the
# disk image with its known pattern, build the initramfs, boot (KVM when usable, else TCG),
# read the results from the serial console, check the image the guest wrote, and fail on
# any FAIL, on a missing summary, or when the wall-clock timeout ends a hung guest.
#
# usage: qemu/run-guest.sh --work DIR --toyos BIN --integration BIN --devtest SO
#                          --image-tool BIN [--cache DIR] [--timeout SECONDS]
# environment: TOYOS_QEMU_ACCEL=auto|kvm|tcg (default auto), TOYOS_QEMU_TIMEOUT (seconds),
#              TOYOS_QEMU_SMP (vCPUs, default 2), TOYOS_QEMU_MEM (MiB, default 1024)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work= toyos= integration= devtest= image_tool=
cache=$here/../build/qemu-cache
timeout_s=${TOYOS_QEMU_TIMEOUT:-600}
while (($#)); do
    case $1 in
        --work) work=$2 ;;
        --toyos) toyos=$2 ;;
        --integration) integration=$2 ;;
        --devtest) devtest=$2 ;;
        --image-tool) image_tool=$2 ;;
        --cache) cache=$2 ;;
        --timeout) timeout_s=$2 ;;
        *) echo "run-guest: unknown argument $1" >&2; exit 2 ;;
    esac
    shift 2
done
for v in work toyos integration devtest image_tool; do
    [[ -n ${!v} ]] || { echo "run-guest: --${v//_/-} is required" >&2; exit 2; }
done
fail() { echo "RESULT host.setup FAIL $*"; echo "SUMMARY FAIL: $*"; exit 1; }
qemu=$(command -v qemu-system-x86_64 || true)
[[ -n $qemu ]] || fail "no qemu-system-x86_64: run scripts/install-deps.sh (qemu-system-x86)"

mkdir -p "$work"
work=$(cd "$work" && pwd)
exec > >(tee "$work/run.log") 2>&1  # what this prints, kept for scripts/test.sh to show
log=$work/serial.log
image=$work/nvme.img
rm -f "$log"

t0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

"$here/fetch-kernel.sh" "$cache" || fail "cannot fetch the guest kernel (see above)"
kernel=$(cd "$cache/kernel" && pwd)
"$image_tool" make "$image" || fail "cannot write the disk image $image"
"$here/build-initramfs.sh" "$work/initramfs.cpio" "$kernel" "$work/initramfs" \
    "$toyos" "$integration" "$devtest" || fail "cannot build the initramfs"
echo "run-guest: guest kernel $(cat "$kernel/VERSION"); prepared in $(elapsed "$t0") s"

# KVM when it works, else TCG; either way it is logged. "Works" means a probe boot of this
# guest reaches its init and powers off within 20 s: on nested hosts /dev/kvm may open, and
# even create the machine, and yet the guest never boots.
smp=${TOYOS_QEMU_SMP:-2}
mem=${TOYOS_QEMU_MEM:-1024}
boots_with_kvm() {  # CPU
    local probe_log=$work/kvm-probe.log
    rm -f "$probe_log"
    timeout -k 5 20 "$qemu" -accel kvm -M q35 -cpu "$1" -smp "$smp" -m "$mem" -nodefaults \
        -display none -no-reboot -serial "file:$probe_log" -kernel "$kernel/vmlinuz" \
        -initrd "$work/initramfs.cpio" -append "console=ttyS0 loglevel=1 panic=-1 toyos.probe" \
        >/dev/null 2>&1
    grep -q '^TOYOS-QEMU PROBE OK' "$probe_log" 2>/dev/null
}
accel=${TOYOS_QEMU_ACCEL:-auto}
cpu=
case $accel in
    auto | kvm)
        if [[ -r /dev/kvm && -w /dev/kvm ]]; then
            for c in host qemu64; do
                if boots_with_kvm "$c"; then cpu=$c; break; fi
            done
            [[ -n $cpu ]] || echo "run-guest: /dev/kvm is present but a probe boot under KVM failed"
        else
            echo "run-guest: no usable /dev/kvm"
        fi
        if [[ -n $cpu ]]; then
            accel=kvm
        elif [[ $accel == kvm ]]; then
            fail "TOYOS_QEMU_ACCEL=kvm but KVM is not usable here"
        else
            accel=tcg cpu=max
        fi
        ;;
    tcg) cpu=max ;;
    *) fail "TOYOS_QEMU_ACCEL must be auto, kvm or tcg (got $accel)" ;;
esac
echo "run-guest: accelerator=$accel cpu=$cpu cpus=$smp memory=${mem}M timeout=${timeout_s}s"

boot0=$(date +%s.%N)
set +e
timeout -k 10 "$timeout_s" "$qemu" \
    -accel "$accel" -M q35 -cpu "$cpu" -smp "$smp" -m "$mem" \
    -nodefaults -display none -no-reboot \
    -serial "file:$log" \
    -kernel "$kernel/vmlinuz" -initrd "$work/initramfs.cpio" \
    -append "console=ttyS0 loglevel=4 panic=-1 rdinit=/init" \
    -drive "file=$image,if=none,id=nvm,format=raw,cache=writeback" \
    -device nvme,serial=toyos0001,drive=nvm
qemu_status=$?
set -e
guest_s=$(elapsed "$boot0")

# The results: the guest's lines, then the host's check of the image.
results=$work/results.txt
tr -d '\r' <"$log" | grep -a '^TOYOS-QEMU ' | sed 's/^TOYOS-QEMU //' >"$results" || true
echo "==== serial console (machine lines) ===="
grep -a '^RESULT \|^NOTE ' "$results" || true
echo "==== /proc/iouring in the guest ===="
sed -n '/^---- begin \/proc\/iouring/,/^---- end \/proc\/iouring/p' "$log" | tr -d '\r'
echo "==== host checks ===="
"$image_tool" check "$image" | tee -a "$results" || true

summary=$(grep -a '^SUMMARY ' "$results" | tail -n1 || true)
guest_fail=$(grep -c '^RESULT [^ ]* FAIL' "$results" || true)
passes=$(grep -c '^RESULT [^ ]* PASS' "$results" || true)
skips=$(grep -c '^RESULT [^ ]* SKIP' "$results" || true)
why=
if ((qemu_status == 124 || qemu_status == 137)); then
    why="the guest did not finish within ${timeout_s} s (killed)"
elif [[ -z $summary ]]; then
    why="no summary line on the serial console (qemu exit status $qemu_status)"
elif ((guest_fail > 0)); then
    why="$guest_fail test(s) failed"
fi
# The device tests must have run, not been skipped.
for t in device.passthrough-read device.passthrough-write device.iopoll-read \
         device.iopoll-write device.fixed-odirect device.fixed-iopoll; do
    grep -q "^RESULT $t PASS" "$results" || why=${why:-"$t did not pass"}
done
if [[ -n $why ]]; then
    echo "==== serial console (full) ===="
    tr -d '\r' <"$log"
fi
echo "==== summary ===="
echo "guest: ${summary:-none}"
echo "run-guest: accelerator=$accel (cpu $cpu), guest ran ${guest_s} s (boot to power-off), whole run $(elapsed "$t0") s"
echo "run-guest: pass=$passes fail=$guest_fail skip=$skips; log: $log"
if [[ -n $why ]]; then
    echo "run-guest: FAIL: $why"
    exit 1
fi
echo "run-guest: PASS"

#!/bin/sh
# The test run inside the QEMU guest. Every test prints one line on the serial console,
#   TOYOS-QEMU RESULT <name> PASS|FAIL|SKIP <detail>
# and the run ends with
#   TOYOS-QEMU SUMMARY pass=N fail=N skip=N total=N seconds=S
# (the host's run-guest.sh reads these). Lines starting "TOYOS-QEMU NOTE" are facts for the
# log; anything else is context printed when a test fails.
set -u
BIN=/opt/toyos/bin
TOYOS=$BIN/toyos
DEVTEST=$BIN/libtoyos_devtest.so
LOGS=/tmp/logs
mkdir -p "$LOGS"
pass=0 fail=0 skip=0

now() { cut -d' ' -f1 /proc/uptime; }
start=$(now)
result() {  # NAME STATUS DETAIL...
    _name=$1 _status=$2
    shift 2
    echo "TOYOS-QEMU RESULT $_name $_status $*"
    case $_status in
        PASS) pass=$((pass + 1)) ;;
        SKIP) skip=$((skip + 1)) ;;
        *) fail=$((fail + 1)) ;;
    esac
}
note() { echo "TOYOS-QEMU NOTE $*"; }
# Marks the end of a phase with its duration.
phase_start=$start
phase() {
    _t=$(now)
    note "phase $1 took $(awk -v a="$phase_start" -v b="$_t" 'BEGIN {printf "%.1f", b - a}') s"
    phase_start=$_t
}
# The last lines of a log, indented, as context for a failure.
context() { tail -n "${2:-40}" "$1" | sed 's/^/    | /'; }

note "booted: guest uptime ${start} s when the tests start"
note "guest kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
note "accelerator seen by the guest: $(dmesg | grep -o 'Hypervisor detected: .*' || echo 'no hypervisor (TCG)')"

# --- the NVMe driver, with a polling queue -------------------------------------------------
# Modules loaded with insmod do not see nvme.poll_queues= on the kernel command line, so the
# parameter goes to insmod.
mods=ok
for m in $(cat /lib/modules/order); do
    args=
    [ "$m" = nvme ] && args="poll_queues=1"
    if ! insmod "/lib/modules/$m.ko" $args 2>"$LOGS/insmod.$m"; then
        mods="insmod $m failed: $(cat "$LOGS/insmod.$m")"
        break
    fi
done
for i in $(seq 100); do
    [ -c /dev/ng0n1 ] && [ -b /dev/nvme0n1 ] && break
    sleep 0.1
done
if [ "$mods" != ok ]; then
    result boot.nvme-driver FAIL "$mods"
elif [ ! -c /dev/ng0n1 ] || [ ! -b /dev/nvme0n1 ]; then
    result boot.nvme-driver FAIL "modules loaded but no /dev/ng0n1 and /dev/nvme0n1"
    dmesg | tail -n 20 | sed 's/^/    | /'
else
    result boot.nvme-driver PASS "$(cat /lib/modules/order | tr '\n' ' ')loaded; /dev/ng0n1 and /dev/nvme0n1 present"
fi
Q=/sys/block/nvme0n1/queue
lba=$(cat $Q/logical_block_size 2>/dev/null || echo 512)
sectors=$(cat /sys/block/nvme0n1/size 2>/dev/null || echo 0)
lbas=$((sectors * 512 / lba))
nsid=$(cat /sys/block/nvme0n1/nsid 2>/dev/null || echo 1)
note "nvme0n1: nsid $nsid, $lbas blocks of $lba bytes, io_poll=$(cat $Q/io_poll 2>/dev/null), $(dmesg | grep -o 'nvme0: [0-9/]* default/read/poll queues' || echo 'queue layout not logged')"
if [ "$(cat $Q/io_poll 2>/dev/null)" = 1 ]; then
    result boot.io-poll PASS "$Q/io_poll = 1 (poll_queues=1)"
else
    result boot.io-poll FAIL "$Q/io_poll = '$(cat $Q/io_poll 2>/dev/null)'"
fi

phase boot-checks
# --- what toyos detects at boot --------------------------------------------------------------
mkdir -p /tmp/r0
$TOYOS run --log-level info --nvme --root /tmp/r0 true >"$LOGS/detect" 2>&1
sed 's/^/    /' "$LOGS/detect"
if grep -q 'dev: /dev/ng0n1 -> /dev/ng0n1 (chardev' "$LOGS/detect" &&
   grep -q 'dev: /dev/nvme0n1 -> /dev/nvme0n1 (blockdev, io_poll=1)' "$LOGS/detect" &&
   grep -q 'passthrough ring (sqe128/cqe32)' "$LOGS/detect" &&
   grep -q 'iopoll ring' "$LOGS/detect"; then
    result toyos.device-detection PASS "boot log names ng0n1 (passthrough ring) and nvme0n1 (io_poll=1, IOPOLL ring)"
else
    result toyos.device-detection FAIL "boot log does not report the devices and their host rings"
fi

# --- the integration suite (tests/integration) through the toyos binary --------------------
TOYOS_BINARY=$TOYOS timeout 400 $BIN/toyos_integration_tests --gtest_color=no >"$LOGS/integration" 2>&1
it_status=$?
awk '
    index($0, "[ RUN      ] ") == 1 { running = $4 }
    index($0, "[       OK ] ") == 1 && / ms\)$/ { print $4, "PASS"; running = "" }
    index($0, "[  FAILED  ] ") == 1 && / ms\)$/ { print $4, "FAIL"; running = "" }
    index($0, "[  SKIPPED ] ") == 1 && / ms\)$/ { print $4, "SKIP"; running = "" }
    END { if (running != "") print running, "FAIL-UNFINISHED" }
' "$LOGS/integration" >"$LOGS/integration.results"
while read -r name status; do
    case $status in
        PASS) result "integration.$name" PASS "" ;;
        SKIP) result "integration.$name" SKIP "$(grep -A3 "^\[ RUN      \] $name\$" "$LOGS/integration" | grep -m1 -i skip)" ;;
        FAIL-UNFINISHED) result "integration.$name" FAIL "did not finish (exit status $it_status)" ;;
        *) result "integration.$name" FAIL "see the lines above"
           awk -v n="$name" 'index($0, "[ RUN      ] " n) == 1 {p = 1} p {print "    | " $0} index($0, "[  FAILED  ] " n) == 1 {p = 0}' "$LOGS/integration" | tail -n 60 ;;
    esac
done <"$LOGS/integration.results"
if [ ! -s "$LOGS/integration.results" ]; then
    result integration FAIL "no test ran (exit status $it_status)"
    context "$LOGS/integration"
fi

phase integration
# --- device tests: toyos programs on the NVMe disk ------------------------------------------
# devtest PREFIX TOYOS_OPTIONS -- DEVTEST_OPTIONS -- TESTS: runs libtoyos_devtest.so and turns
# its RESULT lines into ours (named PREFIX.TEST); a test it did not report is a FAIL.
devtest() {
    _prefix=$1
    shift
    _opts=
    while [ "$1" != -- ]; do _opts="$_opts $1"; shift; done
    shift
    _dopts=
    while [ "$1" != -- ]; do _dopts="$_dopts $1"; shift; done
    shift
    _log="$LOGS/devtest.$_prefix"
    mkdir -p /tmp/devroot
    timeout 300 $TOYOS run --nvme --root /tmp/devroot $_opts $DEVTEST --lba-size "$lba" \
        --nsid "$nsid" --lbas "$lbas" $_dopts "$@" >"$_log" 2>&1
    _rc=$?
    grep '^RESULT ' "$_log" >"$_log.results"
    while read -r _ name status detail; do
        result "$_prefix.$name" "$status" "$detail"
        [ "$status" = FAIL ] && context "$_log" 30
    done <"$_log.results"
    for t in "$@"; do
        grep -q "^RESULT $t " "$_log.results" ||
            { result "$_prefix.$t" FAIL "no result (toyos exit status $_rc)"; context "$_log" 30; }
    done
}
devtest device -- --print-proc -- passthrough-read passthrough-write passthrough-errors \
    iopoll-read iopoll-write iopoll-rules fixed-odirect fixed-iopoll sqpoll
sed -n '/^---- begin \/proc\/iouring/,/^---- end \/proc\/iouring/p' "$LOGS/devtest.device" >"$LOGS/proc-iouring"
# The same I/O on the other host paths: the thread pool (the nvme ioctl, interrupts) and host
# rings in SQPOLL mode. Their writes go to regions of their own.
devtest threads --executor threads -- --expect threads --region threads-write -- \
    passthrough-read passthrough-write passthrough-errors iopoll-read fixed-odirect
devtest hostsqpoll --sqpoll -- --expect hostsqpoll --region hostsqpoll-write -- \
    fixed-odirect passthrough-read iopoll-read

phase device-tests
# --- IOPOLL polls: its completions raise no interrupt -----------------------------------------
# The poll queue (hctx of type "poll") has no interrupt vector: I/O completed by polling does
# not move the NVMe queues' interrupt counts, I/O completed by interrupts does. The same 96
# reads run once on the IOPOLL path and once on the thread pool as the control.
nvme_irqs() {
    awk '/nvme0q[1-9]/ {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i} END {print s + 0}' /proc/interrupts
}
irq0=$(nvme_irqs)
devtest polled -- -- iopoll-read
irq1=$(nvme_irqs)
devtest interrupts --executor threads -- --expect threads -- iopoll-read
irq2=$(nvme_irqs)
polled=$((irq1 - irq0)) interrupts=$((irq2 - irq1))
note "NVMe I/O queue interrupts: $polled during 96 IOPOLL-ring reads, $interrupts during the same reads on the thread pool"
if [ "$polled" -lt 10 ] && [ "$interrupts" -ge 48 ]; then
    result device.iopoll-polled PASS "96 reads on the host IOPOLL ring raised $polled interrupts (thread pool: $interrupts)"
else
    result device.iopoll-polled FAIL "96 reads on the host IOPOLL ring raised $polled interrupts (thread pool: $interrupts)"
fi

phase iopoll-interrupts
# --- ringbench, a short run of each mode ------------------------------------------------------
R=/tmp/benchroot
mkdir -p $R
dd if=/dev/urandom of=$R/bench.dat bs=1M count=16 2>/dev/null
# ringbench MODE TOYOS_OPTIONS -- RINGBENCH_ARGS
ringbench() {
    _mode=$1
    shift
    _opts=
    while [ "$1" != -- ]; do _opts="$_opts $1"; shift; done
    shift
    if ! grep -q '^ *ringbench ' "$LOGS/programs"; then
        result "ringbench.$_mode" SKIP "ringbench not built"
        return
    fi
    _log="$LOGS/ringbench.$_mode"
    timeout 60 $TOYOS run --root $R $_opts ringbench --runtime=2 --output-format=json "$@" >"$_log" 2>&1
    _rc=$?
    _ios=$(grep -o '"total_ios" *: *[0-9]*' "$_log" | grep -o '[0-9]*$' | sort -n | tail -n1)
    _iops=$(grep -o '"iops" *: *[0-9.]*' "$_log" | grep -o '[0-9.]*$' | sort -n | tail -n1)
    if [ "$_rc" = 0 ] && [ "${_ios:-0}" -gt 0 ]; then
        result "ringbench.$_mode" PASS "total_ios=$_ios iops=${_iops:-?} ($*)"
    else
        result "ringbench.$_mode" FAIL "exit status $_rc, total_ios=${_ios:-none} ($*)"
        context "$_log" 20
    fi
}
$TOYOS programs >"$LOGS/programs" 2>&1
ringbench nop -- --ioengine=nop --iodepth=32
ringbench randread -- --rw=randread --bs=4k --iodepth=16 --size=16M --filename=/bench.dat
ringbench randread-threads --executor threads -- --rw=randread --bs=4k --iodepth=16 --size=16M --filename=/bench.dat
ringbench randwrite -- --rw=randwrite --bs=4k --iodepth=16 --size=16M --filename=/bench.dat
ringbench direct-randread --nvme -- --rw=randread --bs=4k --iodepth=32 --direct=1 --size=16M --filename=/dev/nvme0n1
ringbench direct-fixedbufs --nvme -- --rw=randread --bs=4k --iodepth=32 --direct=1 --fixedbufs --registerfiles --size=16M --filename=/dev/nvme0n1
ringbench direct-seqread-128k --nvme -- --rw=read --bs=128k --iodepth=16 --direct=1 --size=16M --filename=/dev/nvme0n1
ringbench sqpoll --nvme -- --rw=randread --bs=4k --iodepth=32 --direct=1 --sqpoll --size=16M --filename=/dev/nvme0n1
ringbench host-sqpoll --sqpoll -- --rw=randread --bs=4k --iodepth=16 --size=16M --filename=/bench.dat

phase ringbench
# --- the end: /proc/iouring of the device run, and the summary -------------------------------
echo "TOYOS-QEMU NOTE /proc/iouring at the end of the device tests:"
if [ -s "$LOGS/proc-iouring" ]; then
    cat "$LOGS/proc-iouring"
else
    result proc.iouring FAIL "the device run did not print /proc/iouring"
fi
sync
end=$(now)
echo "TOYOS-QEMU SUMMARY pass=$pass fail=$fail skip=$skip total=$((pass + fail + skip)) seconds=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')"

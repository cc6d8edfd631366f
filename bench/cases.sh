# shellcheck shell=bash disable=SC2034  # CASES is read by bench/run.sh
# The cases bench/run.sh measures, one a line:
#   CASE_ID WORKLOAD QD DIRECT VARIANT SYSTEMS [ROUNDS]
# WORKLOAD is nop, RW-BS or wal; QD the iodepth (for nop the batch); DIRECT 0 reads through the
# page cache (warmed before each measurement); VARIANT plain, fixed (registered buffers and
# file), sqpoll (toy and host rings in SQPOLL mode, fio's sqthread_poll), toysqpoll (the toy
# ring only), hostsqpoll (the host rings only: where SQPOLL's cost lies); SYSTEMS the
# comma-separated systems of bench/systems.sh, run interleaved; ROUNDS (default 1) how often
# per repeat (the counters' cost is a few percent: more pairs of off and on runs). fio's io_uring engine has no
# NOP, so the NOP cases compare with the raw liburing loop only.
CASES=(
  "nop-b1            nop          1   0 plain  toyos-uring,toyos-threads,raw"
  "nop-b8            nop          8   0 plain  toyos-uring,toyos-threads,raw"
  "nop-b32           nop          32  0 plain  toyos-uring,toyos-threads,raw"
  "nop-b128          nop          128 0 plain  toyos-uring,toyos-threads,raw"
  "randread-4k-qd1   randread-4k  1   0 plain  toyos-uring,toyos-threads,fio,raw"
  "randread-4k-qd16  randread-4k  16  0 plain  toyos-uring,toyos-threads,fio,raw"
  "randread-4k-qd64  randread-4k  64  0 plain  toyos-uring,toyos-threads,fio,raw"
  "randread-4k-qd64-fixed  randread-4k 64 0 fixed  toyos-uring,fio,raw"
  "randread-4k-qd64-sqpoll randread-4k 64 0 sqpoll toyos-uring,fio,raw"
  "randread-4k-qd64-toysqpoll randread-4k 64 0 toysqpoll toyos-uring"
  "randread-4k-qd64-hostsqpoll randread-4k 64 0 hostsqpoll toyos-uring"
  "direct-randread-4k-qd64 randread-4k 64 1 plain  toyos-uring,toyos-threads,fio,raw"
  "direct-randread-4k-qd64-fixed randread-4k 64 1 fixed toyos-uring,fio,raw"
  "direct-read-128k-qd128 read-128k  128 1 plain  toyos-uring,toyos-threads,fio,raw"
  "direct-read-128k-qd128-fixed read-128k 128 1 fixed toyos-uring,fio,raw"
  "randwrite-4k-qd32 randwrite-4k 32  0 plain  toyos-uring,toyos-threads,fio,raw"
  "stats-nop-b32     nop          32  0 plain  toyos-stats-off,toyos-stats-on 3"
  "stats-randread-4k-qd64 randread-4k 64 0 plain toyos-stats-off,toyos-stats-on,toyos-trace 3"
  "wal               wal          0   0 plain  toyos-uring"
  "wal-sqpoll        wal          0   0 sqpoll toyos-uring"
)

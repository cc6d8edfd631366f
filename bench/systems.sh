# shellcheck shell=bash
# The systems bench/run.sh compares, one function each: every measurement prints one JSON line
# with the same keys (iops, bw_bytes, runtime_s, total_ios, errors, toy_enters, host_enters),
# so that bench/summarize.py needs to know nothing about fio's or ringbench's formats.
# Sourced by bench/run.sh, which exports TOYOS, RAW, ROOT, FILE, RAWDIR, RUNTIME, SIZE_BYTES.

# The cached cases read the file through the page cache: have all of it there first.
warm_page_cache() {
  cat "$FILE" >/dev/null
}

# measure SYSTEM WORKLOAD QD DIRECT VARIANT
#   SYSTEM:   toyos-uring | toyos-threads | toyos-stats-off | toyos-stats-on | toyos-trace | fio | raw
#   WORKLOAD: nop | RW-BS (randread-4k, read-128k, randwrite-4k) | wal
#   QD:       iodepth (for nop: the batch, submitted and reaped together)
#   VARIANT:  plain | fixed (registered buffers and file) | sqpoll | toysqpoll | hostsqpoll (toyos only)
measure() {
  local system=$1 workload=$2 qd=$3 direct=$4 variant=$5
  case $system in
    toyos-*) measure_toyos "$@" ;;
    fio) measure_fio "$@" ;;
    raw) measure_raw "$@" ;;
    *) echo "bench: unknown system $system" >&2; return 1 ;;
  esac
}

# Runs a command with its stderr kept aside; on failure shows the end of it.
run_logged() {
  if ! "$@" 2>"$RAWDIR/stderr.txt"; then
    echo "bench: failed: $*" >&2
    tail -5 "$RAWDIR/stderr.txt" >&2
    return 1
  fi
}

measure_toyos() {
  local system=$1 workload=$2 qd=$3 direct=$4 variant=$5
  local run_opts=(--root "$ROOT") prog_opts=()
  case $system in
    toyos-uring) run_opts+=(--executor uring) ;;
    toyos-threads) run_opts+=(--executor threads) ;;
    toyos-stats-off) run_opts+=(--stats off) ;;
    toyos-stats-on) run_opts+=(--stats on) ;;
    toyos-trace) run_opts+=(--trace "$RAWDIR/trace.json") ;;
  esac
  case $variant in
    fixed) prog_opts+=(--fixedbufs --registerfiles) ;;
    sqpoll) run_opts+=(--sqpoll) prog_opts+=(--sqpoll) ;;
    toysqpoll) prog_opts+=(--sqpoll) ;;
    hostsqpoll) run_opts+=(--sqpoll) ;;
  esac
  if [[ $workload == wal ]]; then
    run_logged "$TOYOS" run "${run_opts[@]}" wal --filename /wal.log --output-format=json \
      "${prog_opts[@]}" >"$RAWDIR/toyos.out"
    rm -f "$ROOT/wal.log"
    grep '^{' "$RAWDIR/toyos.out" | tail -1
    return
  fi
  if [[ $workload == nop ]]; then
    prog_opts+=(--ioengine=nop --batch="$qd")
  else
    prog_opts+=(--rw="${workload%-*}" --bs="${workload#*-}" --iodepth="$qd" --direct="$direct"
      --size="$SIZE_BYTES" --filename=/bench.dat)
  fi
  run_logged "$TOYOS" run "${run_opts[@]}" ringbench "${prog_opts[@]}" --runtime="$RUNTIME" \
    --progress=0 --output-format=json >"$RAWDIR/toyos.out"
  if [[ $system == toyos-trace ]]; then
    # The trace must really have been written, or the row would measure nothing.
    [[ -s $RAWDIR/trace.json ]] || { echo "bench: no trace written" >&2; return 1; }
    rm -f "$RAWDIR/trace.json"
  fi
  grep '^{' "$RAWDIR/toyos.out" | tail -1 | jq -c '.jobs[0] as $j | {
      iops: $j.iops, bw_bytes: ($j.read.bw_bytes + $j.write.bw_bytes + $j.nop.bw_bytes),
      runtime_s: ($j.job_runtime / 1000), total_ios: $j.total_ios, errors: .errors,
      toy_enters: $j.toy_enters, host_enters: $j.host_enters, stats: .stats}'
}

measure_fio() {
  local workload=$2 qd=$3 direct=$4 variant=$5
  local opts=(--name=bench --filename="$FILE" --ioengine=io_uring --rw="${workload%-*}"
    --bs="${workload#*-}" --iodepth="$qd" --direct="$direct" --size="$SIZE_BYTES"
    --runtime="$RUNTIME" --time_based --norandommap --randrepeat=0 --invalidate=0
    --output-format=json --output="$RAWDIR/fio.json")
  case $variant in
    fixed) opts+=(--fixedbufs=1 --registerfiles=1) ;;
    sqpoll) opts+=(--sqthread_poll=1) ;;
  esac
  run_logged fio "${opts[@]}" >/dev/null
  jq -c '.jobs[0] as $j | {
      iops: ($j.read.iops + $j.write.iops), bw_bytes: ($j.read.bw_bytes + $j.write.bw_bytes),
      runtime_s: ($j.job_runtime / 1000), total_ios: ($j.read.total_ios + $j.write.total_ios),
      errors: $j.error, toy_enters: null, host_enters: null}' "$RAWDIR/fio.json"
}

measure_raw() {
  local workload=$2 qd=$3 direct=$4 variant=$5
  local opts=(--runtime="$RUNTIME")
  if [[ $workload == nop ]]; then
    opts+=(--ioengine=nop --batch="$qd")
  else
    opts+=(--rw="${workload%-*}" --bs="${workload#*-}" --iodepth="$qd" --direct="$direct"
      --size="$SIZE_BYTES" --filename="$FILE")
  fi
  case $variant in
    fixed) opts+=(--fixedbufs --registerfiles) ;;
    sqpoll) opts+=(--sqpoll) ;;
  esac
  run_logged "$RAW" "${opts[@]}" >"$RAWDIR/raw.out"
  jq -c '{iops, bw_bytes, runtime_s: (.runtime_ns / 1e9), total_ios, errors,
      toy_enters: null, host_enters: null}' "$RAWDIR/raw.out"
}

// toyos ring ABI: Linux's io_uring, exactly.
//
// Struct layouts, constants and mmap offsets come from <linux/io_uring.h> (Debian's
// linux-libc-dev); a program that speaks io_uring to Linux speaks it to toyos. The toy
// syscalls are io_uring_setup / io_uring_enter / io_uring_register (see abi/syscalls.h), and
// the rings are mapped with sys::mmap on the ring fd at IORING_OFF_SQ_RING, IORING_OFF_CQ_RING
// and IORING_OFF_SQES (IORING_FEAT_SINGLE_MMAP: the SQ and CQ rings share one mapping).
//
// Deliberate differences from Linux, each for a reason:
//  * IORING_OP_TOYOS_LSEEK (below) is a toyos opcode: lseek through the ring.
//  * Backpressure (IORING_FEAT_NODROP): while completions wait in the overflow backlog and
//    cannot be flushed into a full CQ, io_uring_enter refuses new submissions with -EBUSY, as
//    Linux 5.5-5.18 did, instead of growing the backlog without bound (Linux 5.19+). The
//    backlog never drops a completion.
//  * msg_control (ancillary data) in SENDMSG/RECVMSG is refused with -EINVAL: SCM_RIGHTS
//    would move host file descriptors past the toy fd table.
//  * IOSQE_BUFFER_SELECT (provided buffers) is not implemented: an SQE with it is refused with
//    -EINVAL (Linux answers per operation, e.g. -ENOBUFS for a READ with no buffer provided).
//  * IORING_OP_POLL_ADD is one-shot only: IORING_POLL_ADD_MULTI is refused with -EINVAL, as
//    is IORING_OP_POLL_REMOVE with IORING_POLL_UPDATE_EVENTS / _USER_DATA (an update in
//    place), until a request can post more than one CQE. A toy ring fd cannot be polled
//    (-EINVAL; Linux reports POLLIN when its CQ has entries).
//  * IORING_SETUP_SQPOLL rings share one kernel poller thread (as if every one were created
//    with IORING_SETUP_ATTACH_WQ); sq_thread_idle is honoured per ring (0: 1000 ms).
//    IORING_SETUP_SQ_AFF is refused: the shared poller cannot be pinned per ring.
//  * IORING_SETUP_IOPOLL rings take only pollable operations (NOP, READ/WRITE[V], *_FIXED,
//    URING_CMD; anything else -EINVAL) and their reads and writes need O_DIRECT files
//    (-EOPNOTSUPP otherwise), as in Linux. Unlike Linux, their CQEs are posted as the I/O
//    completes: userland need not enter to poll. O_DIRECT I/O on a block device whose queue
//    polls runs on a host IOPOLL ring; other files complete through interrupts.
//  * IORING_OP_URING_CMD: NVMe passthrough (NVME_URING_CMD_IO on /dev/ngXnY) on rings set up
//    with SQE128 | CQE32, like Linux's nvme driver requires (-EOPNOTSUPP otherwise, and on any
//    file that is not an NVMe generic char device). The CQE's res is the NVMe status (> 0,
//    e.g. 0x4080 for an LBA out of range) or -errno, big_cqe[0] the command's result dword.
//    Toy processes are not trusted with the device, so every command is checked as Linux
//    checks an unprivileged opener's, and more: cmd flags must be 0 and nsid the namespace's
//    (-EINVAL); only Flush, Write, Read, Compare and Write Zeroes are taken (-EACCES for the
//    rest, vendor-specific included); Flush, Write and Write Zeroes need an fd opened for
//    writing (-EACCES); data_len must be exactly the command's block count times the block
//    size (-EINVAL: the device transfers by block count, not by data_len), and the buffer the
//    process's own memory, writable for a Read (-EFAULT); commands without data take none
//    (-EINVAL). Metadata buffers and IORING_URING_CMD_FIXED are refused with -EINVAL, and
//    NVME_URING_CMD_IO_VEC / ADMIN / ADMIN_VEC with -EOPNOTSUPP; other cmd_ops -ENOTTY.
//  * Setup flags toyos does not implement (SQ_AFF, ATTACH_WQ, DEFER_TASKRUN) are
//    refused with -EINVAL rather than accepted and ignored. COOP_TASKRUN and TASKRUN_FLAG are
//    accepted: completions are posted by kernel threads, so there is never task work to run
//    and IORING_SQ_TASKRUN stays clear.
//  * Per-process limits (toyos run --max-rings, --max-inflight, --max-registered-bytes;
//    docs/reliability.md). Linux has no count of rings per process beyond RLIMIT_NOFILE;
//    toyos answers io_uring_setup past --max-rings with -EMFILE, the errno a full fd table
//    gives. Operations in flight over all of a process's rings are capped: io_uring_enter
//    consumes only the SQEs that fit and answers -EAGAIN when none does (Linux's answer when
//    it cannot allocate a request). Registered buffers are charged in whole pages against
//    --max-registered-bytes, as Linux charges RLIMIT_MEMLOCK: -ENOMEM beyond, as in Linux.
//  * A data buffer that is not the process's memory (or not writable for a read) is found when
//    the request is issued, before the host touches anything, where Linux finds it when the
//    copy faults: the CQE is -EFAULT as on Linux, but also where Linux would copy nothing (a
//    READ at end of file: 0 there; a READ on a file not open for reading: -EBADF there) and
//    without waiting first (a RECV on an idle socket: Linux waits, then -EFAULT).
//  * Fault injection (toyos run --fault; docs/reliability.md) changes results on purpose: an
//    injected error completes the request with -errno without running it, an injected short
//    read or write runs with a smaller length (res is what moved, and a short result breaks
//    a link chain as a real one does), an injected delay issues it later.
#pragma once

#include <linux/io_uring.h>

// lseek through the ring: sqe->fd, sqe->off = offset (as s64), sqe->len = whence.
// res = the new offset or -errno. Reported as supported by IORING_REGISTER_PROBE.
#define IORING_OP_TOYOS_LSEEK 0xF0

// Largest opcode number a probe describes (Linux's probe holds 256 ops).
#define TOYOS_IORING_PROBE_OPS 256

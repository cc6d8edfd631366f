// Blocking host calls that a kill can end, and that never hold a pool worker while they wait.
//
// Host fds that may wait (sockets, pipes, terminals, eventfds) are non-blocking underneath:
// a toy call that should block tries the host call without blocking, and waits for readiness
// in between, in short poll periods that check whether the waiting process was killed, so no
// signal is needed to get a thread out of a host call. The one exception, a console socket
// shared with the shell, is made non-blocking call by call (host_readv_nowait).
//
// A handler run on the AsyncSyscallExecutor (--route NAME=async) does not wait there: it
// records what it waits for in the call's WaitHandoff and fails with kRestartWhenReady; the
// caller, the process's own thread (idle until the call ends anyway), waits for that,
// killably, and runs the handler again. So a receiver that waits for a peer holds no worker.
#pragma once

#include <poll.h>
#include <sys/uio.h>

#include "kernel/file.h"
#include "kernel/process.h"
#include "kernel/result.h"
#include "syscalls/registry.h"

namespace toyos::kernel {

// Like Linux's ERESTARTSYS: internal, never returned to userland (Kernel::dispatch consumes
// it).
constexpr int kRestartWhenReady = 512;

// What an async-routed call waits for before it is run again. `progress` is the handler's own
// record of what it did before it had to wait (a MSG_WAITALL receive's bytes so far, a
// connect in progress), so the rerun goes on from there.
struct WaitHandoff {
    FileRef file;
    short events = 0;
    long progress = 0;
};

// Waits until `host_fd` has `events` (POLLIN/POLLOUT); EINTR if `proc` is killed first.
Result<void> wait_for_fd(const Process& proc, int host_fd, short events);

// Waits until `f` has `events`: on this thread (EINTR on a kill), or, on an async-routed
// call, by handing the wait to the caller (kRestartWhenReady).
Result<void> wait_for_file(SyscallContext& c, const FileRef& f, short events);

// True if `host_fd` has `events` now (or an error or hangup the next call will report).
bool host_fd_ready(int host_fd, short events);

// One non-blocking attempt at a read or write of a may_block() file at its position: -1 with
// errno EAGAIN when it would wait. `rwf` are preadv2/pwritev2 flags.
long host_readv_nowait(const File& f, const iovec* iov, int count, int rwf);
long host_writev_nowait(const File& f, const iovec* iov, int count, int rwf);

// Runs `op` (a non-blocking host call returning -1/errno) on `f` until it does not fail with
// EAGAIN, waiting for `events` in between; with `nonblocking`, EAGAIN is returned as is.
template <class Op>
Result<long> blocking_host_call(SyscallContext& c, const FileRef& f, short events, bool nonblocking,
                                Op op) {
    for (;;) {
        long r = op();
        if (r >= 0) return r;
        const int e = errno;
        if (e == EINTR) continue;
        if ((e != EAGAIN && e != EWOULDBLOCK) || nonblocking) return err(e);
        TOYOS_TRY_VOID(wait_for_file(c, f, events));
    }
}

}  // namespace toyos::kernel

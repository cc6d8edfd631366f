// Blocking host calls that a kill can end. Host sockets are non-blocking; a toy call that
// should block polls the host fd in short periods and checks whether the waiting process was
// killed in between, so no signal is needed to get a thread out of a host call.
#pragma once

#include <poll.h>

#include "kernel/process.h"
#include "kernel/result.h"

namespace toyos::kernel {

// Waits until `host_fd` has `events` (POLLIN/POLLOUT); EINTR if `proc` is killed first.
Result<void> wait_for_fd(const Process& proc, int host_fd, short events);

// Runs `op` (a host call returning -1/errno) until it does not fail with EAGAIN, waiting for
// `events` in between; with `nonblocking`, EAGAIN is returned as is.
template <class Op>
Result<long> blocking_host_call(const Process& proc, int host_fd, short events, bool nonblocking,
                                Op op) {
    for (;;) {
        long r = op();
        if (r >= 0) return r;
        const int e = errno;
        if (e == EINTR) continue;
        if ((e != EAGAIN && e != EWOULDBLOCK) || nonblocking) return err(e);
        TOYOS_TRY_VOID(wait_for_fd(proc, host_fd, events));
    }
}

}  // namespace toyos::kernel

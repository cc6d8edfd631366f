#include "kernel/blocking.h"

namespace toyos::kernel {

Result<void> wait_for_fd(const Process& proc, int host_fd, short events) {
    constexpr int kPollPeriodMs = 50;
    for (;;) {
        if (proc.killed()) return err(EINTR);
        struct pollfd pfd {
            host_fd, events, 0
        };
        int n = ::poll(&pfd, 1, kPollPeriodMs);
        if (n > 0) return {};  // ready, or an error/hangup the next call will report
        if (n < 0 && errno != EINTR) return err(errno);
    }
}

Result<void> wait_for_file(SyscallContext& c, const FileRef& f, short events) {
    if (c.handoff == nullptr) return wait_for_fd(c.proc, f->host_fd(), events);
    if (host_fd_ready(f->host_fd(), events)) return {};  // became ready: no round trip
    c.handoff->file = f;
    c.handoff->events = events;
    return err(kRestartWhenReady);
}

bool host_fd_ready(int host_fd, short events) {
    struct pollfd pfd {
        host_fd, events, 0
    };
    return ::poll(&pfd, 1, 0) > 0;
}

namespace {

// Makes one call on a shared blocking description non-blocking: a socket takes RWF_NOWAIT
// (it honours IOCB_NOWAIT); a stream that is not, by polling first (the only way left, and
// racy only against another reader of the same console).
bool may_call_now(const File& f, short events, int* rwf) {
    if (!f.shared_blocking_host_fd()) return true;
    if (f.is_socket()) {
        *rwf |= RWF_NOWAIT;
        return true;
    }
    if (host_fd_ready(f.host_fd(), events)) return true;
    errno = EAGAIN;
    return false;
}

}  // namespace

long host_readv_nowait(const File& f, const iovec* iov, int count, int rwf) {
    if (!may_call_now(f, POLLIN, &rwf)) return -1;
    return ::preadv2(f.host_fd(), iov, count, -1, rwf);
}

long host_writev_nowait(const File& f, const iovec* iov, int count, int rwf) {
    if (!may_call_now(f, POLLOUT, &rwf)) return -1;
    return ::pwritev2(f.host_fd(), iov, count, -1, rwf);
}

}  // namespace toyos::kernel

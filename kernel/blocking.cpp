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

}  // namespace toyos::kernel

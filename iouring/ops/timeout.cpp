#include "iouring/ops/timeout.h"

#include <linux/time_types.h>
#include <time.h>

#include <algorithm>

#include "iouring/clock.h"
#include "iouring/ring.h"

namespace toyos::iouring::timeout {
namespace {

int prep_common(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe, bool link) {
    if (sqe.buf_index || sqe.len != 1 || sqe.splice_fd_in) return -EINVAL;
    const uint32_t allowed = IORING_TIMEOUT_ABS | IORING_TIMEOUT_CLOCK_MASK;
    if (sqe.timeout_flags & ~allowed) return -EINVAL;
    if ((sqe.timeout_flags & IORING_TIMEOUT_CLOCK_MASK) == IORING_TIMEOUT_CLOCK_MASK)
        return -EINVAL;
    // Linux reads the completion count as 32 bits (io_timeout_prep: u32 off), so 2^32+1 is a
    // count of 1 and a LINK_TIMEOUT's off of 2^32 is 0.
    const auto count = static_cast<uint32_t>(sqe.off);
    if (link && count != 0) return -EINVAL;
    __kernel_timespec ts{};
    auto c = ctx.mem.copy_from_user(&ts, kernel::UserPtr<__kernel_timespec>(sqe.addr));
    if (c.is_error()) return -c.error();
    // As Linux: negative fields are refused, a tv_nsec of 10^9 or more is just added.
    if (ts.tv_sec < 0 || ts.tv_nsec < 0) return -EINVAL;
    int64_t ns = 0;
    if (!(sqe.timeout_flags & IORING_TIMEOUT_ABS)) {
        ns = saturating_timespec_ns(ts.tv_sec, ts.tv_nsec);
    } else {
        const clockid_t clock = (sqe.timeout_flags & IORING_TIMEOUT_BOOTTIME)   ? CLOCK_BOOTTIME
                                : (sqe.timeout_flags & IORING_TIMEOUT_REALTIME) ? CLOCK_REALTIME
                                                                                : CLOCK_MONOTONIC;
        timespec now{};
        clock_gettime(clock, &now);
        // The distance to the deadline, saturated (a deadline in the year 4000 is far, not
        // past).
        ns = std::max<int64_t>(
            0, saturating_timespec_ns(ts.tv_sec - now.tv_sec, ts.tv_nsec - now.tv_nsec));
    }
    req.timeout_ns = ns;
    req.timeout_count = count;
    req.op_flags = sqe.timeout_flags;
    return 0;
}

}  // namespace

int prep_timeout(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_common(ctx, req, sqe, false);
}

int prep_link_timeout(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_common(ctx, req, sqe, true);
}

void issue_timeout(Request& req) {
    req.ring->arm_timeout(&req);
}

}  // namespace toyos::iouring::timeout

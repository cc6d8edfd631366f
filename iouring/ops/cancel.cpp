#include "iouring/ops/cancel.h"

#include "iouring/ring.h"

namespace toyos::iouring::cancel {

int prep_async_cancel(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    const uint32_t allowed = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD |
                             IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_FD_FIXED;
    if (sqe.cancel_flags & ~allowed) return -EINVAL;
    if (sqe.len || sqe.splice_fd_in || sqe.buf_index) return -EINVAL;
    req.cancel_key = sqe.addr;
    req.op_flags = sqe.cancel_flags;
    return 0;
}

void issue_async_cancel(Request& req) {
    SyscallCompletionRing& ring = *req.ring;
    ring.complete(&req, ring.async_cancel(&req));
}

}  // namespace toyos::iouring::cancel

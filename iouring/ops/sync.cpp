#include "iouring/ops/sync.h"

#include <liburing.h>
#include <unistd.h>

#include "iouring/ops/op_support.h"
#include "iouring/request.h"

namespace toyos::iouring::sync {

int prep_fsync(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    if (sqe.fsync_flags & ~IORING_FSYNC_DATASYNC) return -EINVAL;
    if (sqe.addr || sqe.buf_index || sqe.splice_fd_in) return -EINVAL;
    req.op_flags = sqe.fsync_flags;
    return 0;
}

int64_t run_fsync(Request& req) {
    return host_result((req.op_flags & IORING_FSYNC_DATASYNC) ? ::fdatasync(req.host_fd)
                                                              : ::fsync(req.host_fd));
}

void host_prep_fsync(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    io_uring_prep_fsync(&sqe, t.fd, req.op_flags);
}

}  // namespace toyos::iouring::sync

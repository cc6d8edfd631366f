#include "iouring/ops/fs.h"

#include <unistd.h>

#include "iouring/ops/op_support.h"
#include "iouring/request.h"
#include "kernel/file.h"

namespace toyos::iouring::fs {

int prep_lseek(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    if (sqe.len != SEEK_SET && sqe.len != SEEK_CUR && sqe.len != SEEK_END && sqe.len != SEEK_DATA &&
        sqe.len != SEEK_HOLE)
        return -EINVAL;
    req.off = sqe.off;
    req.len = sqe.len;
    return 0;
}

// sqe->off is the offset (as s64), sqe->len the whence; a kernel object seeks in its File.
int64_t run_lseek(Request& req) {
    if (req.host_fd < 0) {
        auto pos = req.file->lseek(static_cast<off_t>(req.off), static_cast<int>(req.len));
        return pos.is_error() ? -pos.error() : pos.value();
    }
    return host_result(
        ::lseek(req.host_fd, static_cast<off_t>(req.off), static_cast<int>(req.len)));
}

}  // namespace toyos::iouring::fs

#include "iouring/ops/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iouring/ops/op_support.h"
#include "iouring/request.h"
#include "kernel/file.h"
#include "kernel/kernel.h"
#include "kernel/vfs.h"

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

// STATX: sqe->fd the directory (a toy fd, never a fixed file), addr the path, len the mask,
// statx_flags the AT_* flags, addr2 the struct statx to fill. Linux copies the path at prep
// (getname_uflags: an empty one is -ENOENT there unless AT_EMPTY_PATH).
int prep_statx(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    if (sqe.buf_index || sqe.splice_fd_in) return -EINVAL;
    if (sqe.flags & IOSQE_FIXED_FILE) return -EBADF;
    auto path =
        ctx.mem.copy_string_from_user(kernel::UserPtr<char>(sqe.addr), kernel::Vfs::kPathMax);
    if (path.is_error()) return -path.error();
    if (path.value().empty() && !(sqe.statx_flags & AT_EMPTY_PATH)) return -ENOENT;
    req.path = std::move(path.value());
    req.len = sqe.len;  // mask
    req.op_flags = sqe.statx_flags;
    req.addr2 = sqe.addr2;
    return 0;
}

// Resolved in the sandbox by the kernel (never by the host's STATX, which would resolve the
// path on the host), the result copied out through the checked door.
int64_t run_statx(Request& req) {
    kernel::Process& proc = *req.submitter;
    struct statx stx {};
    auto r = proc.kernel().statx_path(proc, req.sqe_fd, req.path, static_cast<int>(req.op_flags),
                                      req.len, &stx);
    if (r.is_error()) return -r.error();
    if (proc.memory().copy_to_user(kernel::UserPtr<struct statx>(req.addr2), &stx).is_error())
        return -EFAULT;
    return 0;
}

}  // namespace toyos::iouring::fs

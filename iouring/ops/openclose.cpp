#include "iouring/ops/openclose.h"

#include "iouring/request.h"
#include "kernel/kernel.h"
#include "kernel/vfs.h"

namespace toyos::iouring::openclose {

int prep_openat(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    if (sqe.buf_index || sqe.file_index) return -EINVAL;
    if (sqe.flags & IOSQE_FIXED_FILE) return -EBADF;
    auto path =
        ctx.mem.copy_string_from_user(kernel::UserPtr<char>(sqe.addr), kernel::Vfs::kPathMax);
    if (path.is_error()) return -path.error();
    req.path = std::move(path.value());
    req.len = sqe.len;  // mode
    req.op_flags = sqe.open_flags;
    return 0;
}

int prep_close(const PrepContext&, Request&, const io_uring_sqe& sqe) {
    if (sqe.off || sqe.addr || sqe.len || sqe.rw_flags || sqe.buf_index || sqe.file_index)
        return -EINVAL;
    if (sqe.flags & IOSQE_FIXED_FILE) return -EBADF;
    return 0;
}

// In the submitter's fd table, relative to sqe->fd as the directory (the VFS resolves it).
int64_t run_openat(Request& req) {
    kernel::Process& proc = *req.submitter;
    auto f = proc.kernel().open_file(proc, req.sqe_fd, req.path, static_cast<int>(req.op_flags),
                                     static_cast<mode_t>(req.len));
    if (f.is_error()) return -f.error();
    auto fd = proc.fds().install(std::move(f.value()));
    return fd.is_error() ? -fd.error() : fd.value();
}

// Like Linux, a ring's fd cannot be closed through a ring: the last reference would tear the
// ring down from inside one of its own requests.
int64_t run_close(Request& req) {
    auto f = req.submitter->fds().get(req.sqe_fd);
    if (f.is_error()) return -f.error();
    if (f.value()->kind() == kernel::FileKind::Ring) return -EBADF;
    auto removed = req.submitter->fds().remove(req.sqe_fd);
    return removed.is_error() ? -removed.error() : 0;
}

}  // namespace toyos::iouring::openclose

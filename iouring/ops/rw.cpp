// The read/write family. The buffers are checked and pinned at prep; the thread executor
// reads and writes with preadv2/pwritev2 (streams without blocking: -EAGAIN parks the request
// until the fd is ready), the host ring executor with the host's own opcodes.
#include "iouring/ops/rw.h"

#include <liburing.h>
#include <sys/uio.h>

#include "iouring/ops/op_support.h"
#include "iouring/registration.h"
#include "iouring/request.h"
#include "kernel/blocking.h"
#include "kernel/file.h"

namespace toyos::iouring::rw {
namespace {

constexpr uint32_t kRwFlags = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;

// What every read and write checks. buf_index means something only to the *_FIXED ops (and
// to buffer selection, which toyos refuses): elsewhere Linux ignores it, and so does toyos.
int prep_common(Request& req, const io_uring_sqe& sqe) {
    if (sqe.rw_flags & ~kRwFlags) return -EINVAL;
    if (sqe.splice_fd_in != 0) return -EINVAL;
    req.off = sqe.off;
    req.op_flags = sqe.rw_flags;
    return 0;
}

int prep_plain(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe, kernel::Access acc) {
    if (int r = prep_common(req, sqe)) return r;
    req.addr = reinterpret_cast<void*>(sqe.addr);
    req.len = sqe.len;
    pin_data(req, ctx.mem, sqe.addr, sqe.len, acc);
    return 0;
}

int prep_vectored(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe,
                  kernel::Access acc) {
    if (int r = prep_common(req, sqe)) return r;
    return copy_iovecs(req, ctx.mem, sqe.addr, sqe.len, acc);
}

// Linux looks the registered buffer up at issue: a bad index or range is that issue's -EFAULT.
int prep_fixed(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    if (int r = prep_common(req, sqe)) return r;
    req.addr = reinterpret_cast<void*>(sqe.addr);
    req.len = sqe.len;
    auto b = ctx.regs.fixed_buffer(sqe.buf_index, sqe.addr, sqe.len);
    if (b.is_error()) {
        req.issue_error = -b.error();
        return 0;
    }
    req.buf_index = sqe.buf_index;
    req.pins.push_back(std::move(b.value()));
    return 0;
}

// A kernel object (a /proc file) is read through its File, one iovec at a time; at the file
// position when the SQE's offset is -1 (IORING_FEAT_RW_CUR_POS), else at the offset.
int64_t kernel_readv(Request& r, const iovec* iov, int cnt) {
    int64_t total = 0;
    for (int i = 0; i < cnt; ++i) {
        auto n = r.off == UINT64_MAX ? r.file->read(iov[i].iov_base, iov[i].iov_len)
                                     : r.file->pread(iov[i].iov_base, iov[i].iov_len,
                                                     static_cast<off_t>(r.off) + total);
        if (n.is_error()) return total > 0 ? total : -n.error();
        total += n.value();
        if (static_cast<size_t>(n.value()) < iov[i].iov_len) break;
    }
    return total;
}

// A stream (socket, pipe, terminal, eventfd) is attempted without blocking, whatever its host
// description; sockets and pipes have no position either way.
int64_t readv(Request& r, const iovec* iov, int cnt) {
    if (r.host_fd < 0) return kernel_readv(r, iov, cnt);
    if (r.file->may_block())
        return host_result(
            kernel::host_readv_nowait(*r.file, iov, cnt, static_cast<int>(r.op_flags)));
    const off_t off = r.off == UINT64_MAX ? -1 : static_cast<off_t>(r.off);
    return host_result(::preadv2(r.host_fd, iov, cnt, off, static_cast<int>(r.op_flags)));
}

int64_t writev(Request& r, const iovec* iov, int cnt) {
    if (r.file->may_block())
        return host_result(
            kernel::host_writev_nowait(*r.file, iov, cnt, static_cast<int>(r.op_flags)));
    const off_t off = r.off == UINT64_MAX ? -1 : static_cast<off_t>(r.off);
    return host_result(::pwritev2(r.host_fd, iov, cnt, off, static_cast<int>(r.op_flags)));
}

void set_rw_flags(io_uring_sqe& sqe, const Request& req) {
    sqe.rw_flags = static_cast<__kernel_rwf_t>(req.op_flags);
}

}  // namespace

int prep_read(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_plain(ctx, req, sqe, kernel::Access::Write);
}
int prep_write(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_plain(ctx, req, sqe, kernel::Access::Read);
}
int prep_readv(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_vectored(ctx, req, sqe, kernel::Access::Write);
}
int prep_writev(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_vectored(ctx, req, sqe, kernel::Access::Read);
}
int prep_read_fixed(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_fixed(ctx, req, sqe);
}
int prep_write_fixed(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_fixed(ctx, req, sqe);
}

int64_t run_read(Request& req) {
    iovec v{req.addr, req.len};
    return readv(req, &v, 1);
}
int64_t run_write(Request& req) {
    iovec v{req.addr, req.len};
    return writev(req, &v, 1);
}
int64_t run_readv(Request& req) {
    return readv(req, req.iov, static_cast<int>(req.iovcnt));
}
int64_t run_writev(Request& req) {
    return writev(req, req.iov, static_cast<int>(req.iovcnt));
}

void host_prep_read(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    io_uring_prep_read(&sqe, t.fd, req.addr, req.len, req.off);
    set_rw_flags(sqe, req);
}
void host_prep_write(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    io_uring_prep_write(&sqe, t.fd, req.addr, req.len, req.off);
    set_rw_flags(sqe, req);
}
void host_prep_readv(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    io_uring_prep_readv(&sqe, t.fd, req.iov, req.iovcnt, req.off);
    set_rw_flags(sqe, req);
}
void host_prep_writev(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    io_uring_prep_writev(&sqe, t.fd, req.iov, req.iovcnt, req.off);
    set_rw_flags(sqe, req);
}
// Without a mirrored host buffer, a fixed read or write is a plain one on the same memory.
void host_prep_read_fixed(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    if (t.fixed_buffer >= 0)
        io_uring_prep_read_fixed(&sqe, t.fd, req.addr, req.len, req.off, t.fixed_buffer);
    else
        io_uring_prep_read(&sqe, t.fd, req.addr, req.len, req.off);
    set_rw_flags(sqe, req);
}
void host_prep_write_fixed(io_uring_sqe& sqe, Request& req, const HostTarget& t) {
    if (t.fixed_buffer >= 0)
        io_uring_prep_write_fixed(&sqe, t.fd, req.addr, req.len, req.off, t.fixed_buffer);
    else
        io_uring_prep_write(&sqe, t.fd, req.addr, req.len, req.off);
    set_rw_flags(sqe, req);
}

}  // namespace toyos::iouring::rw

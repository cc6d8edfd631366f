#include "iouring/op_runner.h"

#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "iouring/request.h"
#include "iouring/ring.h"
#include "kernel/blocking.h"
#include "kernel/kernel.h"

namespace toyos::iouring {
namespace {

int64_t sys(long r) {
    return r < 0 ? -errno : r;
}

// Reads at the file position when the SQE's offset is -1 (IORING_FEAT_RW_CUR_POS), else at
// the offset; sockets and pipes have no position either way. Host sockets are non-blocking,
// so an attempt on one returns -EAGAIN rather than waiting.
// A kernel object (a /proc file) is read through its File, one iovec at a time.
int64_t do_kernel_readv(Request& r, const iovec* iov, int cnt) {
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

// A stream (socket, pipe, terminal, eventfd) is attempted without blocking (-EAGAIN: the
// executor parks the request until the fd is ready), whatever its host description.
int64_t do_readv(Request& r, const iovec* iov, int cnt) {
    if (r.host_fd < 0) return do_kernel_readv(r, iov, cnt);
    if (r.file->may_block())
        return sys(kernel::host_readv_nowait(*r.file, iov, cnt, static_cast<int>(r.op_flags)));
    const off_t off = r.off == UINT64_MAX ? -1 : static_cast<off_t>(r.off);
    return sys(::preadv2(r.host_fd, iov, cnt, off, static_cast<int>(r.op_flags)));
}

int64_t do_writev(Request& r, const iovec* iov, int cnt) {
    if (r.file->may_block())
        return sys(kernel::host_writev_nowait(*r.file, iov, cnt, static_cast<int>(r.op_flags)));
    const off_t off = r.off == UINT64_MAX ? -1 : static_cast<off_t>(r.off);
    return sys(::pwritev2(r.host_fd, iov, cnt, off, static_cast<int>(r.op_flags)));
}

int64_t do_openat(Request& r) {
    kernel::Process& proc = *r.submitter;
    auto f = proc.kernel().open_file(proc, r.sqe_fd, r.path, static_cast<int>(r.op_flags),
                                     static_cast<mode_t>(r.len));
    if (f.is_error()) return -f.error();
    auto fd = proc.fds().install(std::move(f.value()));
    return fd.is_error() ? -fd.error() : fd.value();
}

// URING_CMD without a host passthrough ring: the same NVMe command through the driver's
// synchronous ioctl, with the same results (res = NVMe status or -errno, big_cqe[0] = result).
int64_t do_nvme_passthrough(Request& r) {
    nvme_uring_cmd c{};
    std::memcpy(&c, r.cmd, sizeof(c));
    nvme_passthru_cmd64 p{};
    p.opcode = c.opcode;
    p.flags = c.flags;
    p.nsid = c.nsid;
    p.cdw2 = c.cdw2;
    p.cdw3 = c.cdw3;
    p.addr = c.addr;
    p.data_len = c.data_len;
    p.cdw10 = c.cdw10;
    p.cdw11 = c.cdw11;
    p.cdw12 = c.cdw12;
    p.cdw13 = c.cdw13;
    p.cdw14 = c.cdw14;
    p.cdw15 = c.cdw15;
    p.timeout_ms = c.timeout_ms;
    const int status = ::ioctl(r.host_fd, NVME_IOCTL_IO64_CMD, &p);
    if (status < 0) return -errno;
    r.big_cqe[0] = p.result;
    return status;
}

int64_t do_accept(Request& r) {
    // A console socket shared with the shell is blocking: accept only what is there.
    if (r.file->shared_blocking_host_fd() && !kernel::host_fd_ready(r.host_fd, POLLIN))
        return -EAGAIN;
    // Into the request's storage (user_sockaddr set: Linux writes an address), never the
    // caller's memory: finish_accept copies it out through the checked door.
    auto* sa = r.user_sockaddr != 0 ? reinterpret_cast<sockaddr*>(&r.sockaddr) : nullptr;
    long host = ::accept4(r.host_fd, sa, sa != nullptr ? &r.sockaddr_len : nullptr,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (host < 0) return -errno;
    return r.ring->finish_accept(r, static_cast<int>(host));
}

int64_t do_connect(Request& r) {
    if (!r.connect_started) {
        r.connect_started = true;
        if (::connect(r.host_fd, reinterpret_cast<sockaddr*>(&r.sockaddr), r.sockaddr_len) == 0)
            return 0;
        return errno == EINPROGRESS ? -EAGAIN : -errno;
    }
    pollfd pfd{r.host_fd, POLLOUT, 0};
    if (::poll(&pfd, 1, 0) == 0) return -EAGAIN;
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    if (::getsockopt(r.host_fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) return -errno;
    return -so_error;
}

// IORING_CQE_F_SOCK_NONEMPTY, as Linux reports it after a recv on a TCP socket: data is
// still queued, or the peer's FIN arrived (Linux's tcp_inq_hint). The host ring reports it
// itself; here it costs up to three more syscalls, on the fallback path only.
void note_socket_nonempty(Request& r) {
    int queued = 0;
    if (::ioctl(r.host_fd, SIOCINQ, &queued) < 0) return;
    if (queued == 0) {
        char c;
        if (::recv(r.host_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) != 0) return;  // no FIN
    }
    int type = 0;
    socklen_t len = sizeof(type);
    if (::getsockopt(r.host_fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM)
        r.cqe_flags |= IORING_CQE_F_SOCK_NONEMPTY;
}

int64_t do_recv(Request& r) {
    const long n = ::recv(r.host_fd, r.addr, r.len, static_cast<int>(r.op_flags) | MSG_DONTWAIT);
    if (n < 0) return -errno;
    note_socket_nonempty(r);
    return n;
}

int64_t do_recvmsg(Request& r) {
    long n = ::recvmsg(r.host_fd, &r.msg, static_cast<int>(r.op_flags) | MSG_DONTWAIT);
    if (n < 0) return -errno;
    if (int e = r.ring->write_back_msghdr(r); e < 0) return e;  // the data is gone, as on Linux
    note_socket_nonempty(r);
    return n;
}

}  // namespace

uint32_t wait_events(const Request& req) {
    if (req.file == nullptr || !req.file->may_block() || req.file->nonblocking()) return 0;
    switch (req.opcode) {
        case IORING_OP_READ:
        case IORING_OP_READV:
        case IORING_OP_READ_FIXED:
            return (req.op_flags & RWF_NOWAIT) ? 0 : POLLIN;
        case IORING_OP_WRITE:
        case IORING_OP_WRITEV:
        case IORING_OP_WRITE_FIXED:
            return (req.op_flags & RWF_NOWAIT) ? 0 : POLLOUT;
        case IORING_OP_RECV:
        case IORING_OP_RECVMSG:
            return (req.op_flags & MSG_DONTWAIT) ? 0 : POLLIN;
        case IORING_OP_SEND:
        case IORING_OP_SENDMSG:
            return (req.op_flags & MSG_DONTWAIT) ? 0 : POLLOUT;
        case IORING_OP_ACCEPT:
            return POLLIN;
        case IORING_OP_CONNECT:
            return POLLOUT;
        default:
            return 0;
    }
}

int64_t run_operation(Request& r) {
    switch (r.opcode) {
        case IORING_OP_NOP:
            return 0;
        case IORING_OP_READ:
        case IORING_OP_READ_FIXED: {
            iovec v{r.addr, r.len};
            return do_readv(r, &v, 1);
        }
        case IORING_OP_WRITE:
        case IORING_OP_WRITE_FIXED: {
            iovec v{r.addr, r.len};
            return do_writev(r, &v, 1);
        }
        case IORING_OP_READV:
            return do_readv(r, r.iov, static_cast<int>(r.iovcnt));
        case IORING_OP_WRITEV:
            return do_writev(r, r.iov, static_cast<int>(r.iovcnt));
        case IORING_OP_FSYNC:
            return sys((r.op_flags & IORING_FSYNC_DATASYNC) ? ::fdatasync(r.host_fd)
                                                            : ::fsync(r.host_fd));
        case IORING_OP_SEND:
            return sys(::send(r.host_fd, r.addr, r.len,
                              static_cast<int>(r.op_flags) | MSG_NOSIGNAL | MSG_DONTWAIT));
        case IORING_OP_RECV:
            return do_recv(r);
        case IORING_OP_SENDMSG:
            return sys(::sendmsg(r.host_fd, &r.msg,
                                 static_cast<int>(r.op_flags) | MSG_NOSIGNAL | MSG_DONTWAIT));
        case IORING_OP_RECVMSG:
            return do_recvmsg(r);
        case IORING_OP_ACCEPT:
            return do_accept(r);
        case IORING_OP_CONNECT:
            return do_connect(r);
        case IORING_OP_OPENAT:
            return do_openat(r);
        case IORING_OP_CLOSE: {
            // Like Linux, a ring's fd cannot be closed through a ring: the last reference would
            // tear the ring down from inside one of its own requests.
            auto f = r.submitter->fds().get(r.sqe_fd);
            if (f.is_error()) return -f.error();
            if (f.value()->kind() == kernel::FileKind::Ring) return -EBADF;
            auto removed = r.submitter->fds().remove(r.sqe_fd);
            return removed.is_error() ? -removed.error() : 0;
        }
        case IORING_OP_URING_CMD:
            return do_nvme_passthrough(r);
        case IORING_OP_TOYOS_LSEEK:
            if (r.host_fd < 0) {
                auto pos = r.file->lseek(static_cast<off_t>(r.off), static_cast<int>(r.len));
                return pos.is_error() ? -pos.error() : pos.value();
            }
            return sys(::lseek(r.host_fd, static_cast<off_t>(r.off), static_cast<int>(r.len)));
        default:
            return -EINVAL;
    }
}

}  // namespace toyos::iouring

#include "iouring/ops/net.h"

#include <liburing.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>

#include "iouring/ops/op_support.h"
#include "iouring/request.h"
#include "kernel/blocking.h"
#include "kernel/process.h"

// SEND/RECV/SENDMSG/RECVMSG msg_flags are not checked: Linux hands them to the socket, which
// ignores what it does not know (MSG_CMSG_CLOEXEC on a send, say), and so does the host here.

namespace toyos::iouring::net {
namespace {

int prep_send_recv(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe,
                   kernel::Access acc) {
    if (sqe.ioprio != 0 || sqe.buf_index != 0) return -EINVAL;
    req.addr = reinterpret_cast<void*>(sqe.addr);
    req.len = sqe.len;
    req.op_flags = sqe.msg_flags;
    pin_data(req, ctx.mem, sqe.addr, sqe.len, acc);
    return 0;
}

int prep_msg(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe, bool send) {
    if (sqe.buf_index != 0) return -EINVAL;
    msghdr m{};
    auto c = ctx.mem.copy_from_user(&m, kernel::UserPtr<msghdr>(sqe.addr));
    if (c.is_error()) return -c.error();
    if (m.msg_control != nullptr || m.msg_controllen != 0) return -EINVAL;
    const auto acc = send ? kernel::Access::Read : kernel::Access::Write;
    if (m.msg_iovlen > kUioMaxIov) return -EMSGSIZE;
    if (int r = copy_iovecs(req, ctx.mem, reinterpret_cast<uintptr_t>(m.msg_iov),
                            static_cast<uint32_t>(m.msg_iovlen), acc))
        return r;
    // SENDMSG's name is copied in here (as Linux copies it at prep); RECVMSG's is received
    // into the request and copied out at completion, with the msg_namelen the caller has then.
    void* name = nullptr;
    socklen_t namelen = 0;
    if (m.msg_name != nullptr) {
        // Linux clamps a longer name buffer to a sockaddr_storage (__copy_msghdr).
        m.msg_namelen = std::min<socklen_t>(m.msg_namelen, sizeof(sockaddr_storage));
        if (send) {
            auto n = ctx.mem.copy_from_user(
                reinterpret_cast<char*>(&req.sockaddr),
                kernel::UserPtr<char>(reinterpret_cast<uintptr_t>(m.msg_name)), m.msg_namelen);
            if (n.is_error()) return -n.error();
            namelen = m.msg_namelen;
        } else {
            req.user_sockaddr = reinterpret_cast<uintptr_t>(m.msg_name);
            req.user_addrlen = sqe.addr + offsetof(msghdr, msg_namelen);
            namelen = sizeof(sockaddr_storage);
        }
        name = &req.sockaddr;
    }
    req.msg = msghdr{name, namelen, req.iov, req.iovcnt, nullptr, 0, 0};
    req.user_msghdr = send ? 0 : sqe.addr;
    req.op_flags = sqe.msg_flags;
    return 0;
}

// IORING_CQE_F_SOCK_NONEMPTY, as Linux reports it after a recv on a TCP socket: data is
// still queued, or the peer's FIN arrived (Linux's tcp_inq_hint). The host ring reports it
// itself; here it costs up to three more syscalls, on the thread executor only.
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

// Linux's move_addr_to_user: the request's sockaddr (sockaddr_len bytes from the host) to the
// caller's user_sockaddr, truncated to the *user_addrlen it holds now, and the full length to
// *user_addrlen. 0 or -EFAULT / -EINVAL.
int copy_out_sockaddr(const Request& req) {
    if (req.user_sockaddr == 0) return 0;
    const kernel::AddressSpace& mem = req.submitter->memory();
    int room = 0;
    if (mem.copy_from_user(&room, kernel::UserPtr<int>(req.user_addrlen)).is_error())
        return -EFAULT;
    const int full = static_cast<int>(std::min<size_t>(req.sockaddr_len, sizeof(req.sockaddr)));
    if (room < 0) return -EINVAL;
    const size_t n = static_cast<size_t>(std::min(room, full));
    if (mem.copy_to_user(kernel::UserPtr<char>(req.user_sockaddr),
                         reinterpret_cast<const char*>(&req.sockaddr), n)
            .is_error())
        return -EFAULT;
    // "fromlen shall refer to the value before truncation" (POSIX, as Linux writes it).
    const auto written = static_cast<socklen_t>(full);
    if (mem.copy_to_user(kernel::UserPtr<socklen_t>(req.user_addrlen), &written).is_error())
        return -EFAULT;
    return 0;
}

}  // namespace

int prep_send(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_send_recv(ctx, req, sqe, kernel::Access::Read);
}
int prep_recv(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_send_recv(ctx, req, sqe, kernel::Access::Write);
}
int prep_sendmsg(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_msg(ctx, req, sqe, true);
}
int prep_recvmsg(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    return prep_msg(ctx, req, sqe, false);
}

int prep_accept(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    if (sqe.accept_flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
    if (sqe.len || sqe.buf_index || sqe.file_index) return -EINVAL;
    req.op_flags = sqe.accept_flags;
    // Linux reads *addrlen only once the connection is there, and writes the address then:
    // the host accepts into the request's storage, and finish_accept copies it out through
    // the checked door with the caller's *addrlen of that moment (-EFAULT, -EINVAL there).
    // Nothing is read here: there is nothing to check yet.
    if (sqe.addr != 0) {
        req.user_sockaddr = sqe.addr;
        req.user_addrlen = sqe.addr2;
        req.sockaddr_len = sizeof(sockaddr_storage);
    }
    return 0;
}

int prep_connect(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    if (sqe.len || sqe.buf_index || sqe.rw_flags || sqe.splice_fd_in) return -EINVAL;
    const uint64_t len = sqe.off;
    if (len < sizeof(sa_family_t) || len > sizeof(sockaddr_storage)) return -EINVAL;
    auto c = ctx.mem.copy_from_user(reinterpret_cast<char*>(&req.sockaddr),
                                    kernel::UserPtr<char>(sqe.addr), len);
    if (c.is_error()) return -c.error();
    if (req.sockaddr.ss_family != AF_INET && req.sockaddr.ss_family != AF_INET6)
        return -EAFNOSUPPORT;
    req.sockaddr_len = static_cast<socklen_t>(len);
    return 0;
}

// SHUTDOWN: sqe->len is `how`; the socket decides what it means (-EINVAL past SHUT_RDWR).
int prep_shutdown(const PrepContext&, Request& req, const io_uring_sqe& sqe) {
    if (sqe.off || sqe.addr || sqe.rw_flags || sqe.buf_index || sqe.splice_fd_in) return -EINVAL;
    req.len = sqe.len;
    return 0;
}

int64_t run_send(Request& r) {
    return host_result(::send(r.host_fd, r.addr, r.len,
                              static_cast<int>(r.op_flags) | MSG_NOSIGNAL | MSG_DONTWAIT));
}

int64_t run_recv(Request& r) {
    const long n = ::recv(r.host_fd, r.addr, r.len, static_cast<int>(r.op_flags) | MSG_DONTWAIT);
    if (n < 0) return -errno;
    note_socket_nonempty(r);
    return n;
}

int64_t run_sendmsg(Request& r) {
    return host_result(
        ::sendmsg(r.host_fd, &r.msg, static_cast<int>(r.op_flags) | MSG_NOSIGNAL | MSG_DONTWAIT));
}

int64_t run_recvmsg(Request& r) {
    const long n = ::recvmsg(r.host_fd, &r.msg, static_cast<int>(r.op_flags) | MSG_DONTWAIT);
    if (n < 0) return -errno;
    note_socket_nonempty(r);
    return n;
}

int64_t run_accept(Request& r) {
    // A console socket shared with the shell is blocking: accept only what is there.
    if (r.file->shared_blocking_host_fd() && !kernel::host_fd_ready(r.host_fd, POLLIN))
        return -EAGAIN;
    auto* sa = r.user_sockaddr != 0 ? reinterpret_cast<sockaddr*>(&r.sockaddr) : nullptr;
    return host_result(::accept4(r.host_fd, sa, sa != nullptr ? &r.sockaddr_len : nullptr,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC));
}

int64_t run_connect(Request& r) {
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

void host_prep_send(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    io_uring_prep_send(&sqe, t.fd, r.addr, r.len, static_cast<int>(r.op_flags) | MSG_NOSIGNAL);
}
void host_prep_recv(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    io_uring_prep_recv(&sqe, t.fd, r.addr, r.len, static_cast<int>(r.op_flags));
}
void host_prep_sendmsg(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    io_uring_prep_sendmsg(&sqe, t.fd, &r.msg, r.op_flags | MSG_NOSIGNAL);
}
void host_prep_recvmsg(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    // The host writes the kernel copy (msg_namelen, msg_flags); finish_recvmsg copies out.
    io_uring_prep_recvmsg(&sqe, t.fd, &r.msg, r.op_flags);
}
void host_prep_accept(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    // The request's storage, not the caller's memory (finish_accept copies it out).
    if (r.user_sockaddr != 0)
        io_uring_prep_accept(&sqe, t.fd, reinterpret_cast<sockaddr*>(&r.sockaddr), &r.sockaddr_len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    else
        io_uring_prep_accept(&sqe, t.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
}
int64_t run_shutdown(Request& r) {
    return host_result(::shutdown(r.host_fd, static_cast<int>(r.len)));
}

void host_prep_shutdown(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    io_uring_prep_shutdown(&sqe, t.fd, static_cast<int>(r.len));
}

void host_prep_connect(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    io_uring_prep_connect(&sqe, t.fd, reinterpret_cast<const sockaddr*>(&r.sockaddr),
                          r.sockaddr_len);
}

int32_t finish_recvmsg(Request& req, int32_t res) {
    const uint64_t base = req.user_msghdr;
    if (base == 0) return res;
    req.sockaddr_len = req.msg.msg_namelen;
    if (int r = copy_out_sockaddr(req); r < 0) return r;
    if (req.submitter->memory()
            .copy_to_user(kernel::UserPtr<int>(base + offsetof(msghdr, msg_flags)),
                          &req.msg.msg_flags)
            .is_error())
        return -EFAULT;
    return res;
}

int32_t finish_accept(Request& req, int32_t res) {
    const int host_fd = res;
    if (int r = copy_out_sockaddr(req); r < 0) {
        ::close(host_fd);
        return r;
    }
    auto file = std::make_shared<kernel::HostFile>(host_fd, kernel::FileKind::Socket, "socket:tcp");
    file->set_nonblocking((req.op_flags & SOCK_NONBLOCK) != 0);
    auto fd = req.submitter->fds().install(std::move(file));
    return fd.is_error() ? -fd.error() : fd.value();
}

}  // namespace toyos::iouring::net

// Socket syscalls on host sockets: socket, bind, listen, accept, connect, sendto (send),
// recvfrom (recv), setsockopt, getsockname. IPv4 and IPv6 only: a host AF_UNIX socket would
// name paths outside the sandbox.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

Result<FileRef> socket_arg(SyscallContext& c, const SyscallArgs& a, int i) {
    FileRef f = TOYOS_TRY(file_arg(c, a, i));
    if (!f->is_socket()) return err(ENOTSOCK);
    return f;
}

// A sockaddr from user memory, family-checked.
Result<socklen_t> sockaddr_arg(SyscallContext& c, long addr, long len, sockaddr_storage* out) {
    if (len < static_cast<long>(sizeof(sa_family_t)) || len > static_cast<long>(sizeof(*out)))
        return err(EINVAL);
    TOYOS_TRY_VOID(c.proc.memory().copy_from_user(
        reinterpret_cast<char*>(out), UserPtr<char>::from(addr), static_cast<size_t>(len)));
    if (out->ss_family != AF_INET && out->ss_family != AF_INET6) return err(EAFNOSUPPORT);
    return static_cast<socklen_t>(len);
}

// Writes a host sockaddr back through (addr, addrlen*), truncating like Linux.
Result<void> put_sockaddr(SyscallContext& c, long addr, long addrlen_ptr,
                          const sockaddr_storage& sa, socklen_t actual) {
    if (addr == 0) return {};
    socklen_t room = 0;
    auto lenp = UserPtr<socklen_t>::from(addrlen_ptr);
    TOYOS_TRY_VOID(c.proc.memory().copy_from_user(&room, lenp));
    if (static_cast<int>(room) < 0) return err(EINVAL);
    const size_t n = std::min<size_t>(room, actual);
    TOYOS_TRY_VOID(c.proc.memory().copy_to_user(UserPtr<char>::from(addr),
                                                reinterpret_cast<const char*>(&sa), n));
    TOYOS_TRY_VOID(c.proc.memory().copy_to_user(lenp, &actual));
    return {};
}

SysResult sys_socket(SyscallContext& c, const SyscallArgs& a) {
    const int domain = arg_int(a, 0), type = arg_int(a, 1), protocol = arg_int(a, 2);
    if (domain != AF_INET && domain != AF_INET6) return err(EAFNOSUPPORT);
    const int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (base != SOCK_STREAM && base != SOCK_DGRAM) return err(EINVAL);
    int host = ::socket(domain, base | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (host < 0) return err(errno);
    FileRef f = std::make_shared<HostFile>(host, FileKind::Socket,
                                           base == SOCK_STREAM ? "socket:tcp" : "socket:udp");
    f->set_nonblocking((type & SOCK_NONBLOCK) != 0);
    return TOYOS_TRY(c.proc.fds().install(std::move(f)));
}

SysResult sys_bind(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    sockaddr_storage sa{};
    socklen_t len = TOYOS_TRY(sockaddr_arg(c, a.a[1], a.a[2], &sa));
    return host_result(::bind(f->host_fd(), reinterpret_cast<sockaddr*>(&sa), len));
}

SysResult sys_listen(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    return host_result(::listen(f->host_fd(), std::clamp(arg_int(a, 1), 0, 4096)));
}

SysResult sys_accept(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    sockaddr_storage sa{};
    socklen_t len = sizeof(sa);
    const long host = TOYOS_TRY(blocking_host_call(c, f, POLLIN, f->nonblocking(), [&] {
        // A console socket shared with the shell is blocking: accept only what is there.
        if (f->shared_blocking_host_fd() && !host_fd_ready(f->host_fd(), POLLIN)) {
            errno = EAGAIN;
            return -1L;
        }
        return static_cast<long>(::accept4(f->host_fd(), reinterpret_cast<sockaddr*>(&sa), &len,
                                           SOCK_NONBLOCK | SOCK_CLOEXEC));
    }));
    FileRef conn =
        std::make_shared<HostFile>(static_cast<int>(host), FileKind::Socket, "socket:tcp");
    const int fd = TOYOS_TRY(c.proc.fds().install(conn));
    auto put = put_sockaddr(c, a.a[1], a.a[2], sa, len);
    if (put.is_error()) {
        (void)c.proc.fds().remove(fd);
        return err(put.error());
    }
    return fd;
}

SysResult sys_connect(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    sockaddr_storage sa{};
    socklen_t len = TOYOS_TRY(sockaddr_arg(c, a.a[1], a.a[2], &sa));
    // An async-routed connect that had to wait is run again once the socket is writable:
    // the connect is then already under way (progress 1), only its result is left to fetch.
    if (c.handoff == nullptr || c.handoff->progress == 0) {
        if (::connect(f->host_fd(), reinterpret_cast<sockaddr*>(&sa), len) == 0) return 0;
        if (errno != EINPROGRESS) return err(errno);
        if (f->nonblocking()) return err(EINPROGRESS);
        if (c.handoff != nullptr) c.handoff->progress = 1;
    }
    TOYOS_TRY_VOID(wait_for_file(c, f, POLLOUT));
    int so_error = 0;
    socklen_t optlen = sizeof(so_error);
    if (::getsockopt(f->host_fd(), SOL_SOCKET, SO_ERROR, &so_error, &optlen) < 0) return err(errno);
    if (so_error != 0) return err(so_error);
    return 0;
}

constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE | MSG_EOR | MSG_OOB;
constexpr int kRecvFlags = MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_WAITALL | MSG_OOB;

SysResult sys_sendto(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    const int flags = arg_int(a, 3);
    if (flags & ~kSendFlags) return err(EINVAL);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Read));
    sockaddr_storage sa{};
    socklen_t salen = 0;
    if (a.a[4] != 0) salen = TOYOS_TRY(sockaddr_arg(c, a.a[4], a.a[5], &sa));
    const bool nb = f->nonblocking() || (flags & MSG_DONTWAIT);
    // MSG_NOSIGNAL always: a peer that went away must not raise SIGPIPE in the host process.
    return blocking_host_call(c, f, POLLOUT, nb, [&] {
        return ::sendto(f->host_fd(), buf.data, len, flags | MSG_NOSIGNAL | MSG_DONTWAIT,
                        salen ? reinterpret_cast<sockaddr*>(&sa) : nullptr, salen);
    });
}

SysResult sys_recvfrom(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    const int flags = arg_int(a, 3);
    if (flags & ~kRecvFlags) return err(EINVAL);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Write));
    sockaddr_storage sa{};
    socklen_t salen = sizeof(sa);
    const bool nb = f->nonblocking() || (flags & MSG_DONTWAIT);
    const int host_flags = (flags & ~MSG_WAITALL) | MSG_DONTWAIT;
    // An async-routed MSG_WAITALL receive that must wait for more keeps what it has in its
    // handoff and goes on from there when it is run again.
    size_t got = c.handoff != nullptr ? static_cast<size_t>(c.handoff->progress) : 0;
    for (;;) {
        auto received = blocking_host_call(c, f, POLLIN, nb, [&] {
            return ::recvfrom(f->host_fd(), static_cast<char*>(buf.data) + got, len - got,
                              host_flags, reinterpret_cast<sockaddr*>(&sa), &salen);
        });
        if (received.is_error()) {
            if (received.error() == kRestartWhenReady) c.handoff->progress = static_cast<long>(got);
            return err(received.error());
        }
        const long n = received.value();
        got += static_cast<size_t>(n);
        // MSG_WAITALL: keep going until full, end of stream, or (for a kill) an error.
        if (!(flags & MSG_WAITALL) || n == 0 || got >= len || (flags & MSG_PEEK)) break;
    }
    if (a.a[4] != 0) TOYOS_TRY_VOID(put_sockaddr(c, a.a[4], a.a[5], sa, salen));
    return static_cast<long>(got);
}

SysResult sys_setsockopt(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    const int level = arg_int(a, 1), name = arg_int(a, 2);
    const size_t optlen = arg_size(a, 4);
    // An allowlist: options that reach beyond the socket itself (SO_BINDTODEVICE, ...) are
    // not the sandbox's to grant.
    const bool allowed = (level == SOL_SOCKET &&
                          (name == SO_REUSEADDR || name == SO_REUSEPORT || name == SO_KEEPALIVE ||
                           name == SO_RCVBUF || name == SO_SNDBUF || name == SO_LINGER ||
                           name == SO_BROADCAST || name == SO_RCVLOWAT || name == SO_SNDLOWAT)) ||
                         (level == IPPROTO_TCP && (name == TCP_NODELAY || name == TCP_KEEPIDLE ||
                                                   name == TCP_KEEPINTVL || name == TCP_KEEPCNT)) ||
                         (level == IPPROTO_IPV6 && name == IPV6_V6ONLY);
    if (!allowed) return err(ENOPROTOOPT);
    if (optlen > 64) return err(EINVAL);
    char opt[64];
    TOYOS_TRY_VOID(c.proc.memory().copy_from_user(opt, arg_ptr<char>(a, 3), optlen));
    return host_result(
        ::setsockopt(f->host_fd(), level, name, opt, static_cast<socklen_t>(optlen)));
}

SysResult sys_getsockname(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(socket_arg(c, a, 0));
    sockaddr_storage sa{};
    socklen_t len = sizeof(sa);
    if (::getsockname(f->host_fd(), reinterpret_cast<sockaddr*>(&sa), &len) < 0) return err(errno);
    if (a.a[1] == 0) return err(EFAULT);
    TOYOS_TRY_VOID(put_sockaddr(c, a.a[1], a.a[2], sa, len));
    return 0;
}

}  // namespace

void register_net_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_socket, "socket", sys_socket, true);
    r.add(TOYOS_SYS_bind, "bind", sys_bind, true);
    r.add(TOYOS_SYS_listen, "listen", sys_listen, true);
    r.add(TOYOS_SYS_accept, "accept", sys_accept, true);
    r.add(TOYOS_SYS_connect, "connect", sys_connect, true);
    r.add(TOYOS_SYS_sendto, "sendto", sys_sendto, true);
    r.add(TOYOS_SYS_recvfrom, "recvfrom", sys_recvfrom, true);
    r.add(TOYOS_SYS_setsockopt, "setsockopt", sys_setsockopt, true);
    r.add(TOYOS_SYS_getsockname, "getsockname", sys_getsockname, true);
}

}  // namespace toyos::kernel

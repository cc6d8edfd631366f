// File descriptor syscalls: dup, dup2, dup3, fcntl. A dup shares the open file description (the
// File: its offset, held by the host fd behind it, and its status flags); FD_CLOEXEC belongs to
// the number (kernel/fd_table.h). Numbers, errnos and flags as Linux's fs/fcntl.c and fs/file.c.
#include <fcntl.h>

#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

// Status flags F_SETFL may change (Linux's SETFL_MASK, less O_ASYNC: toyos has no SIGIO).
constexpr int kSetflMask = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

SysResult sys_dup(SyscallContext& c, const SyscallArgs& a) {
    return TOYOS_TRY(c.proc.fds().dup(arg_int(a, 0), 0, false));
}

SysResult dup_to(SyscallContext& c, int fd, int target, bool cloexec) {
    FileRef displaced = TOYOS_TRY(c.proc.fds().dup_to(fd, target, cloexec));
    displaced.reset();  // closed here, out of the table's lock (a ring's teardown may follow)
    return target;
}

SysResult sys_dup2(SyscallContext& c, const SyscallArgs& a) {
    const int fd = arg_int(a, 0), target = arg_int(a, 1);
    if (fd == target) {  // Linux: newfd is returned if oldfd is valid
        TOYOS_TRY(file_arg(c, a, 0));
        return target;
    }
    return dup_to(c, fd, target, false);
}

SysResult sys_dup3(SyscallContext& c, const SyscallArgs& a) {
    const int fd = arg_int(a, 0), target = arg_int(a, 1), flags = arg_int(a, 2);
    if (flags & ~O_CLOEXEC) return err(EINVAL);
    if (fd == target) return err(EINVAL);
    return dup_to(c, fd, target, (flags & O_CLOEXEC) != 0);
}

// F_GETFL: the access mode and status flags. A host-backed file answers from its host fd,
// with O_NONBLOCK as the toy flag (sockets and consoles are non-blocking underneath); a kernel
// object answers what Linux's counterpart was opened with.
int status_flags(const File& f) {
    int flags = 0;
    if (f.host_fd() >= 0) {
        flags = ::fcntl(f.host_fd(), F_GETFL);
        if (flags < 0) flags = O_RDWR;
        flags &= ~(O_NONBLOCK | O_CLOEXEC);
    } else {
        flags = (f.kind() == FileKind::Proc ? O_RDONLY : O_RDWR) | O_LARGEFILE;
    }
    return f.nonblocking() ? flags | O_NONBLOCK : flags;
}

SysResult set_status_flags(File& f, int flags) {
    if (f.host_fd() >= 0) {
        // What the host fd itself should carry; its own O_NONBLOCK is the kernel's business.
        const int host = ::fcntl(f.host_fd(), F_GETFL);
        if (host < 0) return err(errno);
        const int want = (host & ~(kSetflMask & ~O_NONBLOCK)) | (flags & kSetflMask & ~O_NONBLOCK);
        if (want != host && ::fcntl(f.host_fd(), F_SETFL, want) < 0) return err(errno);
    } else if (flags & (O_APPEND | O_DIRECT)) {
        return err(EINVAL);  // a kernel object has no file to append to or bypass a cache of
    }
    f.set_nonblocking((flags & O_NONBLOCK) != 0);
    return 0;
}

SysResult sys_fcntl(SyscallContext& c, const SyscallArgs& a) {
    const int fd = arg_int(a, 0), cmd = arg_int(a, 1);
    const long arg = a.a[2];
    switch (cmd) {
        case F_DUPFD:
        case F_DUPFD_CLOEXEC:
            if (arg < 0 || arg >= FdTable::kMaxFds) {
                TOYOS_TRY(file_arg(c, a, 0));
                return err(EINVAL);
            }
            return TOYOS_TRY(c.proc.fds().dup(fd, static_cast<int>(arg), cmd == F_DUPFD_CLOEXEC));
        case F_GETFD:
            return TOYOS_TRY(c.proc.fds().cloexec(fd)) ? FD_CLOEXEC : 0;
        case F_SETFD:
            TOYOS_TRY_VOID(c.proc.fds().set_cloexec(fd, (arg & FD_CLOEXEC) != 0));
            return 0;
        case F_GETFL: {
            FileRef f = TOYOS_TRY(file_arg(c, a, 0));
            return status_flags(*f);
        }
        case F_SETFL: {
            FileRef f = TOYOS_TRY(file_arg(c, a, 0));
            return set_status_flags(*f, static_cast<int>(arg));
        }
        default:
            // Record locks, leases, pipe sizes, seals, owners and signals are not implemented
            // yet: Linux answers -EINVAL for a command it does not know.
            TOYOS_TRY(file_arg(c, a, 0));
            return err(EINVAL);
    }
}

}  // namespace

void register_fd_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_dup, "dup", sys_dup);
    r.add(TOYOS_SYS_dup2, "dup2", sys_dup2);
    r.add(TOYOS_SYS_dup3, "dup3", sys_dup3);
    r.add(TOYOS_SYS_fcntl, "fcntl", sys_fcntl);
}

}  // namespace toyos::kernel

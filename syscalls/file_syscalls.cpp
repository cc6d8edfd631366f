// File I/O syscalls: open/openat, close, read, write, pread, pwrite, lseek, fsync, fdatasync,
// fstat, getdents64.
#include <fcntl.h>
#include <sys/eventfd.h>

#include <algorithm>

#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

SysResult open_common(SyscallContext& c, int dirfd, const std::string& path, int flags,
                      mode_t mode) {
    FileRef f = TOYOS_TRY(c.kernel.open_file(c.proc, dirfd, path, flags, mode));
    return TOYOS_TRY(c.proc.fds().install(std::move(f), (flags & O_CLOEXEC) != 0));
}

SysResult sys_open(SyscallContext& c, const SyscallArgs& a) {
    const std::string path = TOYOS_TRY(path_arg(c, a, 0));
    return open_common(c, AT_FDCWD, path, arg_int(a, 1), static_cast<mode_t>(a.a[2]));
}

SysResult sys_openat(SyscallContext& c, const SyscallArgs& a) {
    const std::string path = TOYOS_TRY(path_arg(c, a, 1));
    return open_common(c, arg_int(a, 0), path, arg_int(a, 2), static_cast<mode_t>(a.a[3]));
}

SysResult sys_close(SyscallContext& c, const SyscallArgs& a) {
    TOYOS_TRY(c.proc.fds().remove(arg_int(a, 0)));
    return 0;
}

SysResult sys_read(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Write));
    if (f->may_block() && f->host_fd() >= 0) {
        const iovec iov{buf.data, len};
        return blocking_host_call(c, f, POLLIN, f->nonblocking(),
                                  [&] { return host_readv_nowait(*f, &iov, 1, 0); });
    }
    return f->read(buf.data, len);
}

SysResult sys_write(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Read));
    if (f->may_block() && f->host_fd() >= 0) {
        const iovec iov{buf.data, len};
        return blocking_host_call(c, f, POLLOUT, f->nonblocking(),
                                  [&] { return host_writev_nowait(*f, &iov, 1, 0); });
    }
    return f->write(buf.data, len);
}

SysResult sys_pread(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    if (a.a[3] < 0) return err(EINVAL);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Write));
    return f->pread(buf.data, len, a.a[3]);
}

SysResult sys_pwrite(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    if (a.a[3] < 0) return err(EINVAL);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Read));
    return f->pwrite(buf.data, len, a.a[3]);
}

SysResult sys_lseek(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    const int whence = arg_int(a, 2);
    if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END && whence != SEEK_DATA &&
        whence != SEEK_HOLE)
        return err(EINVAL);
    return f->lseek(a.a[1], whence);
}

SysResult sys_fsync(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    return f->fsync(false);
}

SysResult sys_fdatasync(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    return f->fsync(true);
}

SysResult sys_fstat(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    struct stat st {};
    TOYOS_TRY_VOID(f->fstat(&st));
    TOYOS_TRY_VOID(c.proc.memory().copy_to_user(arg_ptr<struct stat>(a, 1), &st));
    return 0;
}

SysResult sys_getdents64(SyscallContext& c, const SyscallArgs& a) {
    FileRef f = TOYOS_TRY(file_arg(c, a, 0));
    const size_t len = std::min(arg_size(a, 2), kMaxRwCount);
    UserBuffer buf = TOYOS_TRY(buffer_arg(c, a, 1, len, Access::Write));
    return f->getdents64(buf.data, len);
}

SysResult sys_eventfd2(SyscallContext& c, const SyscallArgs& a) {
    const int flags = arg_int(a, 1);
    if (flags & ~(EFD_NONBLOCK | EFD_CLOEXEC | EFD_SEMAPHORE)) return err(EINVAL);
    const int host = ::eventfd(static_cast<unsigned>(a.a[0]),
                               (flags & EFD_SEMAPHORE) | EFD_NONBLOCK | EFD_CLOEXEC);
    if (host < 0) return err(errno);
    FileRef f = std::make_shared<HostFile>(host, FileKind::EventFd, "anon_inode:[eventfd]");
    f->set_nonblocking((flags & EFD_NONBLOCK) != 0);
    return TOYOS_TRY(c.proc.fds().install(std::move(f), (flags & EFD_CLOEXEC) != 0));
}

}  // namespace

void register_file_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_open, "open", sys_open, true);
    r.add(TOYOS_SYS_openat, "openat", sys_openat, true);
    r.add(TOYOS_SYS_close, "close", sys_close, true);
    r.add(TOYOS_SYS_read, "read", sys_read, true);
    r.add(TOYOS_SYS_write, "write", sys_write, true);
    r.add(TOYOS_SYS_pread, "pread", sys_pread, true);
    r.add(TOYOS_SYS_pwrite, "pwrite", sys_pwrite, true);
    r.add(TOYOS_SYS_lseek, "lseek", sys_lseek, true);
    r.add(TOYOS_SYS_fsync, "fsync", sys_fsync, true);
    r.add(TOYOS_SYS_fdatasync, "fdatasync", sys_fdatasync, true);
    r.add(TOYOS_SYS_fstat, "fstat", sys_fstat, true);
    r.add(TOYOS_SYS_getdents64, "getdents64", sys_getdents64, true);
    r.add(TOYOS_SYS_eventfd2, "eventfd2", sys_eventfd2);
}

}  // namespace toyos::kernel

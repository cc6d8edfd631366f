// Path syscalls: stat, mkdir, unlink. Resolution is the VFS's (never leaves the sandbox).
#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

SysResult sys_stat(SyscallContext& c, const SyscallArgs& a) {
    const std::string path = TOYOS_TRY(path_arg(c, a, 0));
    struct stat st {};
    TOYOS_TRY_VOID(c.kernel.stat_path(c.proc, path, &st));
    TOYOS_TRY_VOID(c.proc.memory().copy_to_user(arg_ptr<struct stat>(a, 1), &st));
    return 0;
}

SysResult sys_mkdir(SyscallContext& c, const SyscallArgs& a) {
    const std::string path = TOYOS_TRY(path_arg(c, a, 0));
    if (ProcFs::components(path) || DevFs::components(path)) return err(EACCES);  // kernel mounts
    TOYOS_TRY_VOID(c.kernel.vfs().mkdir(path, static_cast<mode_t>(a.a[1])));
    return 0;
}

SysResult sys_unlink(SyscallContext& c, const SyscallArgs& a) {
    const std::string path = TOYOS_TRY(path_arg(c, a, 0));
    if (ProcFs::components(path) || DevFs::components(path)) return err(EACCES);
    TOYOS_TRY_VOID(c.kernel.vfs().unlink(path));
    return 0;
}

}  // namespace

void register_fs_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_stat, "stat", sys_stat, true);
    r.add(TOYOS_SYS_mkdir, "mkdir", sys_mkdir, true);
    r.add(TOYOS_SYS_unlink, "unlink", sys_unlink, true);
}

}  // namespace toyos::kernel

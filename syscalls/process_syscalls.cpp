// Process syscalls: getpid, getppid, exit, spawn, waitpid, kill, sleep_ns.
#include <sys/wait.h>

#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

constexpr int kMaxArgs = 256;

SysResult sys_getpid(SyscallContext& c, const SyscallArgs&) {
    return c.proc.pid();
}
SysResult sys_getppid(SyscallContext& c, const SyscallArgs&) {
    return std::max<pid_t>(c.proc.ppid(), 0);
}

SysResult sys_exit(SyscallContext& c, const SyscallArgs& a) {
    c.proc.request_exit(arg_int(a, 0));
    return 0;  // the gate unwinds the thread on the way out
}

SysResult sys_spawn(SyscallContext& c, const SyscallArgs& a) {
    abi::toyos_spawn_args args{};
    TOYOS_TRY_VOID(c.proc.memory().copy_from_user(&args, arg_ptr<abi::toyos_spawn_args>(a, 0)));
    if (args.flags != 0 || args.argc < 0 || args.argc > kMaxArgs) return err(EINVAL);
    const std::string program = TOYOS_TRY(c.proc.memory().copy_string_from_user(
        UserPtr<char>(reinterpret_cast<uintptr_t>(args.program)), Vfs::kPathMax));
    std::vector<std::string> argv;
    for (int i = 0; i < args.argc; ++i) {
        uintptr_t p = 0;
        TOYOS_TRY_VOID(c.proc.memory().copy_from_user(
            &p, UserPtr<uintptr_t>(reinterpret_cast<uintptr_t>(args.argv) + i * sizeof(p))));
        argv.push_back(
            TOYOS_TRY(c.proc.memory().copy_string_from_user(UserPtr<char>(p), Vfs::kPathMax)));
    }
    if (argv.empty()) argv.push_back(program);
    return TOYOS_TRY(c.kernel.spawn(&c.proc, program, argv));
}

SysResult sys_waitpid(SyscallContext& c, const SyscallArgs& a) {
    const pid_t pid = arg_int(a, 0);
    const int options = arg_int(a, 2);
    if (options & ~WNOHANG) return err(EINVAL);
    if (pid == 0 || pid < -1) return err(EINVAL);  // no process groups
    auto status_ptr = arg_ptr<int>(a, 1);
    if (!status_ptr.is_null())  // check before reaping, so a bad pointer loses no child
        TOYOS_TRY(c.proc.memory().access(status_ptr.addr(), sizeof(int), Access::Write));
    auto [child, status] =
        TOYOS_TRY(c.kernel.processes().wait_child(c.proc, pid, (options & WNOHANG) != 0));
    if (child > 0 && !status_ptr.is_null())
        TOYOS_TRY_VOID(c.proc.memory().copy_to_user(status_ptr, &status));
    return child;
}

SysResult sys_kill(SyscallContext& c, const SyscallArgs& a) {
    const pid_t pid = arg_int(a, 0);
    const int sig = arg_int(a, 1);
    if (sig < 0 || sig > 64) return err(EINVAL);
    if (pid <= 0) return err(EINVAL);  // no process groups
    ProcessRef target = c.kernel.processes().find(pid);
    if (!target) return err(ESRCH);
    if (sig != 0 && target->state() != ProcessState::Zombie) target->kill(sig);
    return 0;
}

SysResult sys_sleep_ns(SyscallContext& c, const SyscallArgs& a) {
    if (a.a[0] < 0) return err(EINVAL);
    if (!c.proc.sleep_interruptible(std::chrono::nanoseconds(a.a[0]))) return err(EINTR);
    return 0;
}

}  // namespace

void register_process_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_getpid, "getpid", sys_getpid);
    r.add(TOYOS_SYS_getppid, "getppid", sys_getppid);
    r.add(TOYOS_SYS_exit, "exit", sys_exit);
    r.add(TOYOS_SYS_spawn, "spawn", sys_spawn);
    r.add(TOYOS_SYS_waitpid, "waitpid", sys_waitpid);
    r.add(TOYOS_SYS_kill, "kill", sys_kill);
    r.add(TOYOS_SYS_sleep_ns, "sleep_ns", sys_sleep_ns);
}

}  // namespace toyos::kernel

// Kernel: boots the subsystems, owns the process table, and is the body of the syscall gate.
#pragma once

#include <sys/stat.h>

#include <array>
#include <condition_variable>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "kernel/async_executor.h"
#include "kernel/devfs.h"
#include "kernel/process_table.h"
#include "kernel/procfs.h"
#include "kernel/program_catalog.h"
#include "kernel/resource_limits.h"
#include "kernel/vfs.h"
#include "syscalls/registry.h"

namespace toyos::iouring {
class IoUringManager;
class FaultPlan;
}  // namespace toyos::iouring

namespace toyos::kernel {

struct KernelConfig {
    std::string root;          // sandbox root directory on the host (must exist)
    size_t async_workers = 0;  // 0: one per host core
    size_t stack_size = 8u << 20;
    // Route per syscall number; only routable syscalls honour anything but Direct.
    std::array<Route, SyscallHandlerRegistry::kMax> routes{};
    // The io_uring executor: "uring" (host liburing rings) or "threads" (the
    // AsyncSyscallExecutor). Empty: $TOYOS_EXECUTOR, else "uring".
    std::string executor;
    unsigned host_rings = 0;  // 0: one per core (at most 4)
    bool sqpoll = false;      // host rings in SQPOLL mode
    unsigned sqpoll_idle_ms = 1000;
    int sqpoll_cpu = -1;
    // How long a host reactor polls for the next batch, and a process for its CQEs, before
    // sleeping (iouring/spin_wait.h). 0: sleep at once. toyos run --spin-us.
    uint64_t spin_ns = 200000;
    bool trace = false;  // record every ring operation (toyos run --trace FILE)
    // The io_uring subsystem's per-operation statistics (toyos run --stats off: none).
    bool stats = true;
    // Host devices in /dev: (host path, name) pairs, and every NVMe namespace with `nvme`.
    std::vector<std::pair<std::string, std::string>> devices;
    bool nvme = false;
    // Tests only: host regular files standing in for devices this machine lacks, with the
    // facts the kernel would have probed (DevFs::add_stand_in). Not reachable from the CLI.
    std::vector<DeviceInfo> stand_in_devices;
    // Injected faults (toyos run --fault, --fault-file, --fault-seed); null: none.
    std::shared_ptr<const iouring::FaultPlan> faults;
    // Per-process io_uring limits (toyos run --max-rings, --max-inflight,
    // --max-registered-bytes).
    ResourceLimits limits;
};

// Parses "read=ring,write=async,..." into `routes`; an error message on failure.
std::string parse_routes(const std::string& spec, const SyscallHandlerRegistry& registry,
                         std::array<Route, SyscallHandlerRegistry::kMax>& routes);

class Kernel {
  public:
    static Result<std::unique_ptr<Kernel>> boot(KernelConfig config, ProgramCatalog catalog);
    ~Kernel();  // kills what still runs and joins every process thread
    Kernel(const Kernel&) = delete;
    Kernel& operator=(const Kernel&) = delete;

    // Starts `program` as a child of `parent` (nullptr: of the kernel). A toy parent may name
    // a built-in or a .so inside the sandbox; the kernel may also name a .so on the host.
    Result<pid_t> spawn(Process* parent, const std::string& program,
                        const std::vector<std::string>& argv);
    // Runs `program` as pid 1... or the next pid, waits for it, returns its wait status.
    Result<int> run(const std::string& program, const std::vector<std::string>& argv);

    // The gate's body: route and run syscall `nr` for `proc`.
    long dispatch(Process& proc, long nr, const SyscallArgs& args);

    // The ring route is provided by the io_uring subsystem.
    using RingRoute = std::function<SysResult(Process&, int nr, const SyscallArgs&)>;
    void set_ring_route(RingRoute r) { ring_route_ = std::move(r); }

    const KernelConfig& config() const { return config_; }
    Vfs& vfs() { return *vfs_; }
    ProcFs& procfs() { return *procfs_; }
    const DevFs& devfs() const { return devfs_; }

    // openat(2) for `proc`, the one path every open takes (syscalls and OPENAT SQEs): /proc
    // goes to ProcFs, everything else to the sandbox VFS. `dirfd` is a toy fd or AT_FDCWD.
    Result<FileRef> open_file(Process& proc, int dirfd, const std::string& path, int flags,
                              mode_t mode);
    Result<void> stat_path(Process& proc, const std::string& path, struct stat* st);
    // statx(2) for `proc`, resolved as open_file resolves (never outside the sandbox): `dirfd`
    // a toy fd or AT_FDCWD, `flags` AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT, AT_EMPTY_PATH and
    // AT_STATX_*; errors as Linux's do_statx.
    Result<void> statx_path(Process& proc, int dirfd, const std::string& path, int flags,
                            unsigned mask, struct statx* out);
    ProcessTable& processes() { return processes_; }
    const SyscallHandlerRegistry& syscalls() const { return syscalls_; }
    AsyncSyscallExecutor& async() { return *async_; }
    const ProgramCatalog& programs() const { return catalog_; }
    iouring::IoUringManager& io_uring() { return *io_uring_; }

    // Syscalls made so far, by number and route: live processes plus those that exited.
    uint64_t syscall_count(int nr, Route route) const;
    uint64_t processes_started() const { return processes_started_.load(); }

    // Subsystems register here to be shut down before the kernel's own parts go.
    void on_shutdown(std::function<void()> fn) { shutdown_hooks_.push_back(std::move(fn)); }

  private:
    Kernel(KernelConfig config, ProgramCatalog catalog);
    Result<void> start_thread(const ProcessRef& p, ProgramMain main,
                              const std::vector<std::string>& argv);
    void reaper_loop();
    static void* process_thread_entry(void* arg);
    // The async route: `fn` on the AsyncSyscallExecutor, its waits on the caller's thread.
    SysResult dispatch_async(Process& proc, SyscallFn fn, const SyscallArgs& args);

    KernelConfig config_;
    ProgramCatalog catalog_;
    std::unique_ptr<Vfs> vfs_;
    std::unique_ptr<ProcFs> procfs_;
    DevFs devfs_;
    SyscallHandlerRegistry syscalls_;
    std::unique_ptr<AsyncSyscallExecutor> async_;
    std::unique_ptr<iouring::IoUringManager> io_uring_;
    ProcessTable processes_;
    RingRoute ring_route_;
    std::vector<std::function<void()>> shutdown_hooks_;

    // Threads whose process has not been joined yet; the reaper joins them.
    std::mutex threads_mutex_;
    std::condition_variable threads_cv_;
    std::vector<ProcessRef> unjoined_;
    bool stopping_ = false;
    std::thread reaper_;

    // Counts of exited processes, folded in once at each exit.
    std::array<std::array<std::atomic<uint64_t>, kRouteCount>, SyscallHandlerRegistry::kMax>
        retired_counts_{};
    std::atomic<uint64_t> processes_started_{0};
};

}  // namespace toyos::kernel

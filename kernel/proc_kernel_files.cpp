// The kernel's own /proc files. Format: "Key:\tvalue" lines, documented in docs/proc.md.
#include <sstream>

#include "kernel/kernel.h"
#include "kernel/procfs.h"

namespace toyos::kernel {
namespace {

const char* linux_state(ProcessState s) {
    switch (s) {
        case ProcessState::Embryo:
            return "N (new)";
        case ProcessState::Running:
            return "R (running)";
        case ProcessState::Zombie:
            return "Z (zombie)";
    }
    return "?";
}

std::string status_of(Kernel& k, Process& p) {
    std::ostringstream out;
    uint64_t calls = 0;
    k.syscalls().for_each([&](int nr, const SyscallEntry&) {
        for (int r = 0; r < kRouteCount; ++r) calls += p.syscall_count(nr, static_cast<Route>(r));
    });
    const auto age = std::chrono::steady_clock::now() - p.start_time();
    out << "Name:\t" << p.name() << "\n"
        << "State:\t" << linux_state(p.state()) << "\n"
        << "Pid:\t" << p.pid() << "\n"
        << "PPid:\t" << p.ppid() << "\n"
        << "Threads:\t1\n"
        << "FDs:\t" << p.fds().count() << "\n"
        << "Syscalls:\t" << calls << "\n"
        << "Killed:\t" << p.kill_signal() << "\n"
        << "UptimeMs:\t" << std::chrono::duration_cast<std::chrono::milliseconds>(age).count()
        << "\n";
    // io_uring resources against the process's limits (docs/reliability.md).
    const ResourceUsage& use = *p.usage();
    const ResourceLimits& lim = p.limits();
    out << "Rings:\t" << use.rings.load(std::memory_order_relaxed) << "\n"
        << "RingsMax:\t" << lim.max_rings << "\n"
        << "RingOpsInFlight:\t" << use.inflight.load(std::memory_order_relaxed) << "\n"
        << "RingOpsInFlightMax:\t" << lim.max_inflight << "\n"
        << "RegisteredBufferBytes:\t" << use.registered_bytes.load(std::memory_order_relaxed)
        << "\n"
        << "RegisteredBufferBytesMax:\t" << lim.max_registered_bytes << "\n";
    return out.str();
}

std::string syscalls_text(Kernel& k) {
    // One line per syscall: how often it ran on each route (processes alive and exited).
    std::ostringstream out;
    k.syscalls().for_each([&](int nr, const SyscallEntry& e) {
        out << e.name << ":\tdirect=" << k.syscall_count(nr, Route::Direct)
            << " async=" << k.syscall_count(nr, Route::Async)
            << " ring=" << k.syscall_count(nr, Route::Ring) << "\n";
    });
    return out.str();
}

}  // namespace

void add_kernel_proc_files(Kernel& kernel) {
    ProcFs& fs = kernel.procfs();
    fs.add_global("syscalls", [&kernel] { return syscalls_text(kernel); });
    fs.add_per_process("status", [&kernel](Process& p) { return status_of(kernel, p); });
}

}  // namespace toyos::kernel

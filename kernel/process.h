// Process: a toy process. It runs its program on a host thread of its own, with a stack the
// kernel allocated (so the stack is a known region of its address space), an fd table and an
// address space. Killing a process marks it; every blocking wait in the kernel polls that mark
// (see wait_interruptible and kernel/blocking.h), and the thread unwinds at its next syscall
// boundary, as a real kernel ends a task on its way back to user mode.
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kernel/address_space.h"
#include "kernel/fd_table.h"
#include "kernel/resource_limits.h"

namespace toyos::kernel {

class Kernel;

enum class ProcessState { Embryo, Running, Zombie };
const char* process_state_name(ProcessState s);

// How a syscall reached its handler (see Kernel::dispatch and docs/routing.md).
enum class Route : uint8_t { Direct = 0, Async = 1, Ring = 2 };
constexpr int kRouteCount = 3;
const char* route_name(Route r);

class Process : public std::enable_shared_from_this<Process> {
  public:
    Process(Kernel& kernel, pid_t pid, pid_t ppid, std::string name);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    pid_t ppid() const { return ppid_.load(std::memory_order_relaxed); }
    void set_ppid(pid_t p) { ppid_.store(p, std::memory_order_relaxed); }
    const std::string& name() const { return name_; }
    Kernel& kernel() const { return kernel_; }
    AddressSpace& memory() { return memory_; }
    const AddressSpace& memory() const { return memory_; }
    FdTable& fds() { return fds_; }
    // io_uring resource limits (the kernel's, from toyos run) and what the process uses.
    const ResourceLimits& limits() const;
    const std::shared_ptr<ResourceUsage>& usage() const { return usage_; }

    ProcessState state() const { return state_.load(std::memory_order_acquire); }
    // The Linux wait status (WIFEXITED/WIFSIGNALED encoding); valid once a Zombie.
    int wait_status() const { return wait_status_; }

    // Marks the process killed by `sig`; its blocking waits notice within one poll period.
    void kill(int sig);
    bool killed() const { return kill_signal_.load(std::memory_order_acquire) != 0; }
    int kill_signal() const { return kill_signal_.load(std::memory_order_acquire); }
    // sys::exit: the thread unwinds when the syscall returns to the gate.
    void request_exit(int code);
    bool must_unwind() const { return killed() || exit_requested_.load(std::memory_order_acquire); }

    // Waits for `pred` under `lock`, waking early (false) if the process is killed.
    template <class Pred>
    bool wait_interruptible(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            Pred pred) {
        while (!pred()) {
            if (killed()) return false;
            cv.wait_for(lock, std::chrono::milliseconds(20));
        }
        return true;
    }
    // Sleeps, waking early (false) if killed.
    bool sleep_interruptible(std::chrono::nanoseconds d);

    // Run when the process ends, before it becomes a Zombie (rings cancel their ops here).
    void on_exit(std::function<void(Process&)> hook);
    // The same, for as long as `guard` lives: once it is gone the hook is dropped (so that a
    // process that uses many rings in turn holds hooks only for the live ones).
    void on_exit(std::weak_ptr<const void> guard, std::function<void(Process&)> hook);

    // Per-process syscall counters, summed by /proc/syscalls (no shared cache line per call).
    void count_syscall(int nr, Route route) {
        if (nr >= 0 && nr < kMaxSyscall)
            syscall_counts_[nr][static_cast<int>(route)].fetch_add(1, std::memory_order_relaxed);
    }
    uint64_t syscall_count(int nr, Route route) const {
        return syscall_counts_[nr][static_cast<int>(route)].load(std::memory_order_relaxed);
    }
    static constexpr int kMaxSyscall = 512;

    std::chrono::steady_clock::time_point start_time() const { return start_time_; }

  private:
    friend class Kernel;
    friend class ProcessTable;
    void finish(int wait_status);  // runs exit hooks, releases resources, becomes a Zombie

    Kernel& kernel_;
    const pid_t pid_;
    std::atomic<pid_t> ppid_;
    const std::string name_;
    AddressSpace memory_;
    FdTable fds_;
    std::shared_ptr<ResourceUsage> usage_ = std::make_shared<ResourceUsage>();
    std::atomic<ProcessState> state_{ProcessState::Embryo};
    std::atomic<int> kill_signal_{0};
    std::atomic<bool> exit_requested_{false};
    int exit_code_ = 0;
    int wait_status_ = 0;
    pthread_t thread_{};
    std::atomic<bool> thread_started_{false};
    std::atomic<bool> counted_{false};  // its syscall counts were folded into the kernel's
    MappingRef stack_;
    // Its program's private image (null for a built-in): held until its thread is joined.
    std::shared_ptr<const void> program_image_;
    std::mutex hooks_mutex_;
    struct ExitHook {
        std::function<void(Process&)> fn;
        std::weak_ptr<const void> guard;
        bool guarded = false;
    };
    std::vector<ExitHook> exit_hooks_;
    size_t prune_hooks_at_ = 16;  // when to drop guarded hooks whose guard is gone
    std::array<std::array<std::atomic<uint64_t>, kRouteCount>, kMaxSyscall> syscall_counts_{};
    std::chrono::steady_clock::time_point start_time_ = std::chrono::steady_clock::now();
};

using ProcessRef = std::shared_ptr<Process>;

// The process whose program runs on the calling thread (null on kernel threads).
Process* current_process();
void set_current_process(Process* p);

}  // namespace toyos::kernel

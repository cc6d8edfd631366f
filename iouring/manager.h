// IoUringManager: the io_uring subsystem. It owns the executors and the timer thread, knows
// every live ring, and offers kernel-side callers seed 004's API on a per-process ring:
// create_ring, submit -> seq, reap_completions, wait_completion, stats.
#pragma once

#include <sys/types.h>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "iouring/executor.h"
#include "iouring/fault_plan.h"
#include "iouring/host_features.h"
#include "iouring/host_ring_executor.h"
#include "iouring/ring.h"
#include "iouring/ring_closer.h"
#include "iouring/sq_poller.h"
#include "iouring/thread_executor.h"
#include "iouring/timer_service.h"
#include "iouring/trace_log.h"
#include "kernel/kernel.h"

namespace toyos::iouring {

// A submission through the kernel-side API: an SQE (its user_data is the caller's).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"  // io_uring_sqe ends in a zero-size array
struct SyscallSubmissionEntry {
    io_uring_sqe sqe{};
};
#pragma GCC diagnostic pop

// A completion through the kernel-side API.
struct SyscallCompletionEntry {
    uint64_t seq = 0;
    uint64_t user_data = 0;
    int32_t res = 0;
    uint32_t flags = 0;
    CompletionStatus status = CompletionStatus::Success;
    int error = 0;        // errno when status == Error
    std::string message;  // strerror(error)
};

// A ring that has closed, as the final stats snapshot lists it.
struct RetiredRing {
    pid_t pid = 0;
    int ring = 0;
    uint64_t enters = 0;
    uint64_t submitted = 0;
    uint64_t completed = 0;
    uint64_t overflowed = 0;
    uint64_t cancelled = 0;
};

struct IoUringStats {
    uint64_t active_rings = 0;
    uint64_t total_submissions = 0;
    uint64_t total_completions = 0;
    uint64_t pending = 0;
    uint64_t overflowed = 0;
    uint64_t cancelled = 0;
    uint64_t enters = 0;
    uint64_t cqes_posted = 0;
    // Conservation (completion_ledger.h), all rings ever: lost and duplicated sequence numbers,
    // completions made while a ring was torn down, rings whose ledger was closed.
    uint64_t lost = 0;
    uint64_t duplicated = 0;
    uint64_t completed_at_teardown = 0;
    uint64_t rings_checked = 0;
    uint64_t waits_spun = 0;
    uint64_t waits_slept = 0;
    std::array<uint64_t, 256> op_count{};
};

class IoUringManager {
  public:
    explicit IoUringManager(kernel::Kernel& kernel);
    ~IoUringManager();
    IoUringManager(const IoUringManager&) = delete;
    IoUringManager& operator=(const IoUringManager&) = delete;

    kernel::Kernel& kernel() { return kernel_; }
    Executor& executor() { return *executor_; }
    const HostFeatures& host_features() const { return features_; }
    // The host-ring executor when it is the one in use, else null.
    const HostRingExecutor* host_executor() const { return host_.get(); }
    ThreadExecutor& thread_executor() { return *threads_; }
    TimerService& timers() { return timers_; }
    SqPoller& sq_poller() { return sq_poller_; }

    // io_uring_setup for `proc`: creates a ring and installs its fd.
    kernel::Result<int> setup(kernel::Process& proc, uint32_t entries, io_uring_params& params);

    // Seed 004's kernel-side API, on one ring per process kept by the manager.
    kernel::Result<void> create_ring(pid_t pid, std::optional<uint32_t> sq_entries = {},
                                     std::optional<uint32_t> cq_entries = {});
    kernel::Result<uint64_t> submit(pid_t pid, const SyscallSubmissionEntry& entry);
    kernel::Result<std::vector<SyscallCompletionEntry>> reap_completions(pid_t pid,
                                                                         size_t max = 32);
    kernel::Result<SyscallCompletionEntry> wait_completion(pid_t pid, uint64_t seq);
    IoUringStats stats() const;

    // The ring route of `toyos run --route NAME=ring`: the syscall becomes one SQE on the
    // process's kernel ring, and the call waits for its CQE.
    kernel::SysResult ring_route(kernel::Process& proc, int nr, const kernel::SyscallArgs& args);
    static bool ring_capable(int nr);

    // Live rings (for stats and procfs).
    void add_ring(SyscallCompletionRing* ring);
    void remove_ring(SyscallCompletionRing* ring);
    // The rings of `proc` with their fds (-1: the kernel-side API's ring).
    std::vector<std::pair<int, std::shared_ptr<SyscallCompletionRing>>> rings_of(
        kernel::Process& proc) const;

    // /proc/iouring, /proc/<pid>/iouring, and `toyos run --stats-json` (proc_iouring.cpp).
    std::string proc_global_text() const;
    std::string proc_process_text(kernel::Process& proc) const;
    std::string stats_json() const;
    // With `toyos run --trace`: every operation, written at the end. Null when off.
    TraceLog* trace_log() const { return trace_.get(); }
    // Whether rings and host reactors count per operation (toyos run --stats on|off).
    bool stats_enabled() const { return kernel_.config().stats; }
    int next_ring_id() { return next_ring_id_.fetch_add(1) + 1; }
    // The run's injected faults, or null when it injects none.
    const FaultPlan* faults() const { return faults_; }
    // Teardown of a ring whose file was released on a kernel service thread (ring_closer.h).
    void close_later(std::shared_ptr<SyscallCompletionRing> ring) {
        closer_.close_later(std::move(ring));
    }
    const RingCloser& closer() const { return closer_; }
    // Why the uring executor was not used although asked for ("" when it was, or not asked).
    const std::string& executor_fallback() const { return executor_fallback_; }

  private:
    struct KernelRing {
        std::shared_ptr<SyscallCompletionRing> ring;
        std::mutex mutex;                                  // one kernel-side submitter at a time
        std::map<uint64_t, SyscallCompletionEntry> done;   // reaped, not yet handed out
        std::unordered_map<uint64_t, uint64_t> user_data;  // seq -> caller's user_data
    };
    std::shared_ptr<KernelRing> kernel_ring(pid_t pid) const;
    void drain_kernel_ring(KernelRing& kr);

    kernel::Kernel& kernel_;
    TimerService timers_;
    RingCloser closer_;
    SqPoller sq_poller_;  // declared after timers_: stops before them
    HostFeatures features_;
    std::unique_ptr<ThreadExecutor> threads_;
    std::unique_ptr<HostRingExecutor> host_;
    Executor* executor_ = nullptr;
    const FaultPlan* faults_ = nullptr;
    std::string executor_fallback_;

    mutable std::mutex mutex_;
    std::set<SyscallCompletionRing*> rings_;
    std::unordered_map<pid_t, std::shared_ptr<KernelRing>> kernel_rings_;
    std::atomic<int> next_ring_id_{0};
    std::unique_ptr<TraceLog> trace_;
    static constexpr size_t kMaxRetiredRings = 65536;
    std::vector<RetiredRing> retired_rings_;  // for the final stats snapshot
    // Totals of rings that are gone, folded in when each ring shuts down.
    IoUringStats retired_;
};

}  // namespace toyos::iouring

// SyscallCompletionRing: one io_uring instance of a process.
//
// Submission: io_uring_enter consumes SQEs from the shared SQ (indices masked, each SQE copied
// once, then validated), gives each accepted one a sequence number and a Request, and issues
// it (NOP completes right here; TIMEOUT, LINK_TIMEOUT and ASYNC_CANCEL are the ring's own;
// everything else goes to the executor). Link chains, drain and timeouts are kept here; what a
// completion lets go is issued by a loop (never recursion), and a kernel thread that every
// process shares runs only a bounded slice of it: the rest waits for the ring's continuation
// work on the AsyncSyscallExecutor pool (ring.cpp, after_unlock).
//
// Completion: executors call complete() from any thread. A completion becomes a CQE in the
// shared CQ; when the CQ is full it waits in the overflow backlog (IORING_FEAT_NODROP) and
// IORING_SQ_CQ_OVERFLOW is set until the backlog is flushed. Nothing is ever dropped.
//
// Whose context: a request runs in its submitter's (Request::submitter): that process's
// memory and fd table resolve the SQE's pointers and fds, as in Linux. A ring fd can be shared
// (spawn copies fds 0-2), so the ring refers to no process for its own lifetime: when a
// process exits, the requests it submitted on every ring it submitted to are cancelled and
// waited for (cancel_submitter, Linux's io_uring_cancel_generic), while the ring lives on for
// the others. An SQPOLL ring submits as its creator; once the creator is gone, io_uring_enter
// answers -EOWNERDEAD and the poller takes nothing more.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "iouring/completion_ledger.h"
#include "iouring/registration.h"
#include "iouring/request.h"
#include "iouring/ring_memory.h"
#include "iouring/ring_stats.h"
#include "iouring/spin_wait.h"
#include "iouring/trace_log.h"
#include "kernel/process.h"

namespace toyos::kernel {
class DeviceFile;
}

namespace toyos::iouring {

class Executor;
class TimerService;
class IoUringManager;

struct RingLimits {
    static constexpr uint32_t kMaxSqEntries = 32768;  // IORING_MAX_ENTRIES
    static constexpr uint32_t kMaxCqEntries = 65536;  // IORING_MAX_CQ_ENTRIES
    static constexpr uint32_t kDefaultSqEntries = 256;
};

// An SQE as copied from the SQ: 64 bytes, or 128 on an IORING_SETUP_SQE128 ring (whose
// URING_CMD carries an 80-byte command from sqe->cmd on).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpedantic"  // io_uring_sqe ends in a zero-size array
struct BigSqe {
    io_uring_sqe sqe;
    unsigned char extra[64];
};
#pragma GCC diagnostic pop

// What a completed request looks like to kernel-side callers (IoUringManager).
enum class CompletionStatus { Success, Error, Cancelled };

class SyscallCompletionRing : public std::enable_shared_from_this<SyscallCompletionRing> {
  public:
    // Validates and rounds `p` like io_uring_setup(2) (entries, CQSIZE, CLAMP, flags) and
    // fills in the offsets and features. `executor` runs the I/O; `fallback` runs what
    // `executor` does not support.
    static kernel::Result<std::shared_ptr<SyscallCompletionRing>> create(IoUringManager& manager,
                                                                         kernel::Process& owner,
                                                                         io_uring_params& p);
    ~SyscallCompletionRing();
    SyscallCompletionRing(const SyscallCompletionRing&) = delete;
    SyscallCompletionRing& operator=(const SyscallCompletionRing&) = delete;

    // IORING_REGISTER_ENABLE_RINGS: a ring set up with IORING_SETUP_R_DISABLED starts taking
    // io_uring_enter (and its SQ poller starts). 0, or -EBADFD if it is not disabled.
    int enable_rings(kernel::Process& caller);
    // io_uring_enter(2): consume up to `to_submit` SQEs, then wait for `min_complete` CQEs
    // if IORING_ENTER_GETEVENTS. `timeout_ns` < 0: no timeout.
    kernel::Result<long> enter(kernel::Process& caller, uint32_t to_submit, uint32_t min_complete,
                               uint32_t flags, int64_t timeout_ns);
    // Waits until at least `min` CQEs are ready (flushing the overflow backlog as room
    // appears). EINTR if `caller` is killed, ETIME on timeout.
    kernel::Result<void> wait_cqes(kernel::Process& caller, uint32_t min, int64_t timeout_ns);

    // IORING_SETUP_SQPOLL: the poller thread consumes what userland published (returns how
    // many SQEs it took; 0 also while overflow backpressure holds), and flags its sleep.
    uint32_t sqpoll_submit();
    void set_sq_need_wakeup(bool on);

    // Executors report a request's result here, exactly once.
    void complete(Request* req, int32_t res, uint32_t cflags = 0);
    // The same for `n` requests of this ring at once: one lock, one wakeup (host reactors
    // post a reaped batch this way).
    void complete_many(Request* const* reqs, const int32_t* res, size_t n);

    // The ring's own operations (IssueOn::Ring in ops/op_def.h). TIMEOUT: arms its timer and
    // its completion count; it completes when either is reached, or is cancelled.
    void arm_timeout(Request* req);
    // ASYNC_CANCEL and POLL_REMOVE: cancels what `req` names; its CQE's res (0, -ENOENT,
    // -EALREADY, or the number cancelled with IORING_ASYNC_CANCEL_ALL/ANY).
    int async_cancel(Request* req);

    // Cancels everything in flight and waits until the executors gave every request back,
    // then closes the ring's ledger (every accepted sequence number completed exactly once?).
    // Called when the ring's fd goes away or its process exits.
    void shutdown();

    // The process that set the ring up, while it lives (null once it exited).
    kernel::Process* creator() const { return creator_.load(std::memory_order_acquire); }
    // `p` exits: its requests on this ring are cancelled and waited for (the ring lives on).
    void cancel_submitter(kernel::Process& p);
    IoUringManager& manager() const { return manager_; }
    const RingMemory& memory() const { return mem_; }
    Registrations& registrations() { return regs_; }
    // Set by an executor that copied the registrations somewhere (a host ring's tables) it
    // must clean up at close; a ring that never registered anything closes without asking.
    void mark_registrations_mirrored() { mirrored_.store(true, std::memory_order_release); }
    bool registrations_mirrored() const { return mirrored_.load(std::memory_order_acquire); }
    const RingStats& stats() const { return stats_; }
    uint32_t setup_flags() const { return setup_flags_; }
    uint64_t next_seq() const;
    int id() const { return id_; }
    size_t overflow_backlog() const;
    uint32_t inflight() const;

    // Linux's fdinfo keys and the ring's counters, as /proc/<pid>/iouring shows them.
    std::string fdinfo(int fd) const;
    // The trace events recorded so far (with --trace), handed over once.
    std::vector<TraceEvent> take_trace();
    pid_t owner_pid() const { return owner_pid_; }  // the creator's, for /proc and traces
    const std::string& owner_name() const { return owner_name_; }

    // For the kernel-side API: runs `fn` on every CQE that is ready and consumes it.
    template <class Fn>
    uint32_t drain_cqes(Fn fn, uint32_t max);

    // Timer callbacks.
    // Timer callbacks: the timer claimed the request (timer_service.cpp), so it is theirs.
    static void on_timeout_fired(Request* req);
    static void on_link_timeout_fired(Request* req);
    static void on_fault_delay_fired(Request* req);

    // io_uring_register of buffers (or files) under fault injection: the errno to fail it
    // with, or 0 (counts this ring's registrations of that kind, for every=N).
    int register_fault(bool buffers);

    // The ring counts against its process's ring limit until it shuts down (io_uring_setup).
    void hold_ring_slot() { holds_ring_slot_.store(true, std::memory_order_relaxed); }

  private:
    SyscallCompletionRing(IoUringManager& manager, kernel::Process& owner, RingMemory mem,
                          uint32_t flags, int id);

    // Submission, as `submitter` (its memory and fds resolve the SQEs)
    uint32_t submit_sqes(uint32_t to_submit, kernel::Process& submitter);
    // A process submits here for the first time: its exit is to cancel its requests here.
    void note_submitter(kernel::Process& p);
    int prep(Request* req, const io_uring_sqe& sqe);
    void queue_chain_locked(Request* head, IssueList& to_issue);
    // `req` is issued from now on: drain counts it, and ASYNC_CANCEL can find it.
    void mark_issued_locked(Request* req);
    void unmark_issued_locked(Request* req);
    uint32_t cancel_bucket(uint64_t user_data) const;
    // True if `req` went to the default executor (which then wants a flush()).
    bool issue(Request* req);
    // The executor step of issue(): resolve the file, hand the request to an executor.
    bool dispatch(Request* req);
    // Injected faults (fault_plan.h): decided at submission, applied at issue (true when the
    // request completed or waits for its delay instead of going to an executor now).
    void decide_fault(Request* req);
    bool apply_fault(Request* req);
    int resolve_file(Request* req);

    // Completion
    void complete_locked(Request* req, int32_t res, uint32_t cflags, IssueList& to_issue);
    void post_cqe_locked(uint64_t user_data, int32_t res, uint32_t cflags,
                         const uint64_t* big = nullptr);
    bool flush_overflow_locked();
    // The CQ tail as posting sees it: inside a batch (complete_many), ahead of the published
    // one. Publishing stores it, wakes the waiters it satisfies and signals the eventfd.
    uint32_t cq_tail_locked() const {
        return cq_batch_ ? cq_batch_tail_ : mem_.cq_tail().load(std::memory_order_relaxed);
    }
    void publish_cq_tail_locked(uint32_t tail);
    void begin_cq_batch_locked() {
        cq_batch_ = true;
        cq_batch_tail_ = mem_.cq_tail().load(std::memory_order_relaxed);
    }
    void end_cq_batch_locked() {
        cq_batch_ = false;
        publish_cq_tail_locked(cq_batch_tail_);  // counts the batch's completions too
    }
    void count_completions_locked();
    void refuse_second_completion_locked(int32_t res);
    // Issues what a completion (or a submission: `own_submission`) let go, once the lock is
    // released. Never recursive: a thread already issuing takes the list into its own loop.
    // Kernel threads that every process shares issue only a bounded slice of continuations
    // themselves and queue the rest on the ring's continuation work (ring.cpp).
    void after_unlock(IssueList& to_issue, bool own_submission = false);
    // Issues up to `budget` of `list` on this thread, with whatever those let go; the rest
    // stays in `list`.
    void run_issue_loop(IssueList& list, uint32_t budget);
    // Hands `rest` to the continuation work of its rings (`runner`: the ring whose work is
    // running here, whose rest goes back to the front of its queue).
    static void defer_continuations(IssueList& rest, SyscallCompletionRing* runner);
    void post_continuation_work();
    void run_continuations();
    void release_drain_locked(IssueList& to_issue);
    void check_count_timeouts_locked(IssueList& to_issue);

    // Teardown, once nothing is in flight: counts lost and duplicated sequence numbers.
    void close_ledger();
    // A teardown that has waited long for its requests names each one still live (a request
    // an executor never returns would otherwise hang close() without a word).
    void log_live_requests_locked(std::chrono::steady_clock::duration waited) const;

    // Pool: a submission takes the requests it may need with one lock, and gives back the
    // ones it did not use.
    Request* alloc_requests(uint32_t n, kernel::Process& submitter);
    void return_requests(Request* list);
    void free_request(Request* req);
    void recycle_locked(Request* req);
    // For a canceller that calls the executor outside mutex_ (which the executor's completion
    // takes): pinned, the request is not recycled under it; unpin with mutex_ held.
    static void pin_locked(Request* req) { ++req->cancel_pins; }
    void unpin_locked(Request* req);
    // Asks a pinned request's executor to cancel it; -ENOENT if it has none (yet, or ever).
    static int cancel_pinned(Request* req);

    IoUringManager& manager_;
    std::atomic<kernel::Process*> creator_;  // cleared (under submit_mutex_) when it exits
    RingMemory mem_;
    const uint32_t setup_flags_;
    const int id_;
    const pid_t owner_pid_;
    const std::string owner_name_;
    const bool tracing_;
    Registrations regs_;
    RingStats stats_;
    // Fault injection: null when the run injects none (the hot path tests only this).
    const FaultPlan* faults_ = nullptr;
    std::unique_ptr<uint64_t[]> fault_matches_;  // per rule, written by the submitter only
    std::atomic<uint64_t> register_calls_[2]{};  // files, buffers
    // The process's io_uring usage: every allocated request is one op in flight
    // (ResourceLimits::max_inflight), released when the request is freed.
    const std::shared_ptr<kernel::ResourceUsage> usage_;
    const uint32_t max_inflight_;
    const uint64_t spin_ns_;  // how long a waiter polls the CQ before sleeping
    SpinBackoff wait_backoff_;
    bool inflight_limited_ = false;  // the last submit_sqes took nothing for the limit
    std::atomic<bool> holds_ring_slot_{false};
    std::atomic<bool> mirrored_{false};

    std::mutex submit_mutex_;  // one submitter at a time (kernel API and process)
    // The submission's process (submit_sqes; prep reads its memory). Under submit_mutex_.
    kernel::Process* submitter_ = nullptr;
    // Processes with an exit hook for this ring (note_submitter), and the last one seen, so
    // that a batch from the same process as the last costs one comparison. Under submit_mutex_.
    std::vector<kernel::Process*> submitters_;
    kernel::Process* last_submitter_ = nullptr;
    // Written by the submitter; atomic because fdinfo reads it under the other lock.
    std::atomic<uint32_t> cached_sq_head_{0};
    pid_t single_issuer_ = 0;
    // IORING_SETUP_R_DISABLED until enable_rings(); enter refuses it meanwhile.
    std::atomic<bool> disabled_{false};
    uint32_t sq_idle_ms_ = 1000;  // SQPOLL: the poller's idle time, for a late start
    // Once an SQE asked for IOSQE_CQE_SKIP_SUCCESS, IOSQE_IO_DRAIN is refused (-EOPNOTSUPP), as
    // in Linux: a drain counts completions, and skipped ones cannot be told from missing ones.
    bool drain_disabled_ = false;  // the submitter's (submit_mutex_)

    mutable std::mutex mutex_;  // CQ posting, overflow, chains, drain, live requests
    std::condition_variable cq_cv_;
    uint32_t cq_waiters_ = 0;
    // A waiter sleeps until the CQ tail reaches this (the lowest any waiter needs), so a
    // batch of completions wakes it once, not once per CQE.
    uint32_t cq_wake_tail_ = 0;
    bool cq_batch_ = false;  // complete_many is posting: the tail is published at its end
    uint32_t cq_batch_tail_ = 0;
    struct OverflowCqe {
        uint64_t user_data;
        int32_t res;
        uint32_t flags;
        uint64_t big[2];  // the CQE32 words
    };
    std::deque<OverflowCqe> overflow_;
    // Written by the submitter only (under submit_mutex_), read by anyone.
    std::atomic<uint64_t> next_seq_{1};
    uint32_t inflight_ = 0;         // allocated requests not yet freed
    uint32_t issued_inflight_ = 0;  // issued and not completed (drain waits for 0)
    std::deque<Request*> drain_queue_;
    uint32_t drains_inflight_ = 0;  // issued IOSQE_IO_DRAIN requests: what follows waits
    std::vector<Request*> count_timeouts_;
    uint64_t completions_for_timeouts_ = 0;
    Request* active_ = nullptr;  // live requests (for shutdown)
    // Issued requests, for ASYNC_CANCEL: by user_data in a hash index of buckets fixed at setup
    // (one per CQ entry; the hash is seeded per ring, so a process cannot choose keys that
    // collide), and in a list for the cancels that match by fd or any request.
    std::unique_ptr<Request*[]> cancel_index_;
    uint32_t cancel_index_mask_ = 0;
    uint64_t cancel_index_seed_ = 0;
    Request* issued_ = nullptr;
    // Continuations that a shared kernel thread left for the ring's own work item, which runs
    // them on the AsyncSyscallExecutor pool in bounded slices, one runner at a time and in
    // order, and queues itself again while any remain (while posted, shutdown waits for it).
    struct ContinuationWork final : kernel::AsyncWork {
        SyscallCompletionRing* ring = nullptr;
        void run() override;
    };
    ContinuationWork continuation_work_;
    IssueList deferred_;
    bool continuation_posted_ = false;
    bool closing_ = false;
    uint32_t exit_waiters_ = 0;  // cancel_submitter calls waiting for their requests to end
    // Exactly one completion per accepted sequence number (with stats on); closed at teardown.
    CompletionLedger ledger_;
    uint64_t counted_completions_ = 0;  // of the ledger's noted ones (count_completions_locked)
    // A noted in-order run is applied to the ledger at this length (or where it breaks).
    static constexpr uint64_t kLedgerRunBeforeFlush = 512;
    // What complete_locked does beyond the CQE, tested as one byte: take a latency sample
    // (the first completion after each CQ tail publication), record a trace event.
    static constexpr uint8_t kObserveLatency = 1, kObserveTrace = 2;
    uint8_t observe_ = 0;
    void observe_locked(const Request& req, int32_t res);
    std::vector<TraceEvent> trace_;  // with --trace: every completed operation
    std::vector<std::unique_ptr<Request[]>> slabs_;
    Request* free_ = nullptr;
};

template <class Fn>
uint32_t SyscallCompletionRing::drain_cqes(Fn fn, uint32_t max) {
    std::lock_guard lock(mutex_);
    uint32_t n = 0;
    for (;;) {
        uint32_t head = mem_.cq_head().load(std::memory_order_relaxed);
        const uint32_t tail = mem_.cq_tail().load(std::memory_order_acquire);
        while (head != tail && n < max) {
            fn(*mem_.cqe(head));
            ++head;
            ++n;
        }
        mem_.cq_head().store(head, std::memory_order_release);
        if (n >= max || overflow_.empty()) break;
        flush_overflow_locked();
    }
    return n;
}

}  // namespace toyos::iouring

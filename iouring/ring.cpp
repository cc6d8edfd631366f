// SyscallCompletionRing: setup, submission (SQ consumption, chains, drain) and teardown.
// Completion and the CQ are in ring_completion.cpp; SQE validation in ring_prep.cpp.
#include "iouring/ring.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "iouring/clock.h"
#include "iouring/manager.h"
#include "iouring/ops/cancel.h"
#include "iouring/ops/op_def.h"
#include "iouring/ring_closer.h"
#include "kernel/kernel.h"
#include "kernel/log.h"

namespace toyos::iouring {

using kernel::err;
using kernel::Result;

namespace {

constexpr uint32_t kSupportedSetupFlags =
    IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
    IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_SQPOLL |
    IORING_SETUP_SQE128 | IORING_SETUP_CQE32 | IORING_SETUP_IOPOLL | IORING_SETUP_R_DISABLED;
constexpr uint32_t kFeatures = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP |
                               IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_RW_CUR_POS |
                               IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG | IORING_FEAT_CQE_SKIP |
                               IORING_FEAT_LINKED_FILE | IORING_FEAT_SQPOLL_NONFIXED;

uint32_t roundup_pow2(uint32_t v) {
    uint32_t p = 1;
    while (p < v) p <<= 1;
    return p;
}

// murmur3's 64-bit finalizer: every bit of the key moves every bit of the bucket.
uint64_t mix64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

// Continuations (what a completion lets go: a link's next, requests released by a drain) run
// as Linux runs them, as task work in a loop, never by recursion: the first after_unlock() on a
// thread runs the loop, and whatever completes inside it (a NOP, a cancel, a failed issue, an
// executor's inline completion) appends to that loop's list. A chain of any length then takes
// one stack frame's depth.
struct IssueLoop {
    IssueList pending;
};
thread_local IssueLoop* t_issue_loop = nullptr;

// A process inside its own io_uring_enter: its time, so it runs its continuations to the end.
// Any other thread (the timer, the SQ poller, a host reactor, the poll reactor, a pool worker) is
// shared by every process, and gives each completion only a bounded slice of continuations.
thread_local bool t_submitter = false;

struct SubmitterScope {
    const bool outer = t_submitter;
    SubmitterScope() { t_submitter = true; }
    ~SubmitterScope() { t_submitter = outer; }
    SubmitterScope(const SubmitterScope&) = delete;
    SubmitterScope& operator=(const SubmitterScope&) = delete;
};

// How many continuations a shared kernel thread issues for one completion before it hands the
// rest to the ring's continuation work, and how many one slice of that work issues on the pool
// before it queues itself behind the others' work again.
constexpr uint32_t kSharedThreadContinuations = 32;
constexpr uint32_t kContinuationSlice = 256;
constexpr uint32_t kUnbounded = UINT32_MAX;

}  // namespace

Result<std::shared_ptr<SyscallCompletionRing>> SyscallCompletionRing::create(
    IoUringManager& manager, kernel::Process& owner, io_uring_params& p) {
    if (p.flags & ~kSupportedSetupFlags) return err(EINVAL);
    if (p.resv[0] || p.resv[1] || p.resv[2]) return err(EINVAL);
    const bool clamp = p.flags & IORING_SETUP_CLAMP;
    uint32_t sq = p.sq_entries;
    if (sq == 0) return err(EINVAL);
    if (sq > RingLimits::kMaxSqEntries) {
        if (!clamp) return err(EINVAL);
        sq = RingLimits::kMaxSqEntries;
    }
    sq = roundup_pow2(sq);
    uint32_t cq = 2 * sq;
    if (p.flags & IORING_SETUP_CQSIZE) {
        if (p.cq_entries == 0) return err(EINVAL);
        cq = p.cq_entries;
        if (cq > RingLimits::kMaxCqEntries) {
            if (!clamp) return err(EINVAL);
            cq = RingLimits::kMaxCqEntries;
        }
        cq = roundup_pow2(cq);
        if (cq < sq) return err(EINVAL);
    }
    RingMemory mem = TOYOS_TRY(
        RingMemory::create(sq, cq, p.flags & IORING_SETUP_SQE128, p.flags & IORING_SETUP_CQE32));
    std::shared_ptr<SyscallCompletionRing> ring(
        new SyscallCompletionRing(manager, owner, std::move(mem), p.flags, manager.next_ring_id()));
    p.sq_entries = sq;
    p.cq_entries = cq;
    p.features = kFeatures;
    ring->mem_.fill_offsets(&p.sq_off, &p.cq_off);
    manager.add_ring(ring.get());
    {
        std::lock_guard sl(ring->submit_mutex_);
        ring->note_submitter(owner);  // an SQPOLL ring submits as its creator
    }
    ring->disabled_.store((p.flags & IORING_SETUP_R_DISABLED) != 0, std::memory_order_release);
    ring->sq_idle_ms_ = p.sq_thread_idle != 0 ? p.sq_thread_idle : 1000;
    // A disabled ring's poller starts when the ring is enabled (enable_rings).
    if ((p.flags & IORING_SETUP_SQPOLL) && !(p.flags & IORING_SETUP_R_DISABLED))
        manager.sq_poller().add(ring.get(), ring->sq_idle_ms_);
    return ring;
}

SyscallCompletionRing::SyscallCompletionRing(IoUringManager& manager, kernel::Process& owner,
                                             RingMemory mem, uint32_t flags, int id)
    : manager_(manager),
      creator_(&owner),
      mem_(std::move(mem)),
      setup_flags_(flags),
      id_(id),
      owner_pid_(owner.pid()),
      owner_name_(owner.name()),
      tracing_(manager.trace_log() != nullptr),
      stats_(manager.stats_enabled()),
      faults_(manager.faults()),
      usage_(owner.usage()),
      max_inflight_(owner.limits().max_inflight),
      spin_ns_(manager.kernel().config().spin_ns) {
    if (tracing_) trace_.reserve(1024);
    // Cancel index: as many buckets as CQ entries (what a ring normally has in flight).
    const uint32_t buckets = mem_.cq_entries();
    cancel_index_ = std::make_unique<Request*[]>(buckets);
    cancel_index_mask_ = buckets - 1;
    static std::atomic<uint64_t> rings_made{0};
    cancel_index_seed_ =
        mix64(monotonic_ns() ^ reinterpret_cast<uintptr_t>(this) ^
              (rings_made.fetch_add(1, std::memory_order_relaxed) * 0x9e3779b97f4a7c15ULL));
    continuation_work_.ring = this;
    // The ring's first completion is always a latency sample.
    observe_ = (stats_.enabled ? kObserveLatency : 0) | (tracing_ ? kObserveTrace : 0);
    if (faults_ != nullptr) fault_matches_ = std::make_unique<uint64_t[]>(faults_->rule_count());
}

std::vector<TraceEvent> SyscallCompletionRing::take_trace() {
    std::lock_guard lock(mutex_);
    return std::move(trace_);
}

SyscallCompletionRing::~SyscallCompletionRing() {
    shutdown();
}

uint64_t SyscallCompletionRing::next_seq() const {
    return next_seq_.load(std::memory_order_relaxed);
}

uint32_t SyscallCompletionRing::inflight() const {
    std::lock_guard lock(mutex_);
    return inflight_;
}

size_t SyscallCompletionRing::overflow_backlog() const {
    std::lock_guard lock(mutex_);
    return overflow_.size();
}

Result<long> SyscallCompletionRing::enter(kernel::Process& caller, uint32_t to_submit,
                                          uint32_t min_complete, uint32_t flags,
                                          int64_t timeout_ns) {
    RingStats::bump(stats_.enters);
    // IORING_SETUP_R_DISABLED until IORING_REGISTER_ENABLE_RINGS: nothing, as Linux.
    if (disabled_.load(std::memory_order_acquire)) [[unlikely]]
        return err(EBADFD);
    uint32_t submitted = 0;
    if (setup_flags_ & IORING_SETUP_SQPOLL) {
        // Its submitter, the creator, is gone (Linux: the SQ thread died with it).
        if (creator_.load(std::memory_order_acquire) == nullptr) return err(EOWNERDEAD);
        // The poller consumes the SQ; enter only wakes it (and waits, below). Like Linux,
        // report to_submit as submitted.
        if (flags & IORING_ENTER_SQ_WAKEUP) manager_.sq_poller().wake(this);
        if (flags & IORING_ENTER_SQ_WAIT) {
            while (mem_.sq_tail().load(std::memory_order_acquire) -
                       mem_.sq_head().load(std::memory_order_acquire) >=
                   mem_.sq_entries()) {
                if (!caller.sleep_interruptible(std::chrono::microseconds(50))) return err(EINTR);
            }
        }
        submitted = to_submit;
    } else if (to_submit > 0) {
        const SubmitterScope submitter;
        std::lock_guard sl(submit_mutex_);
        if (setup_flags_ & IORING_SETUP_SINGLE_ISSUER) {
            if (single_issuer_ == 0)
                single_issuer_ = caller.pid();
            else if (single_issuer_ != caller.pid())
                return err(EEXIST);
        }
        {
            // IORING_FEAT_NODROP backpressure: no new work while the backlog cannot drain.
            std::lock_guard lock(mutex_);
            if (closing_) return err(EBADF);
            if (!overflow_.empty() && !flush_overflow_locked()) {
                if (stats_.enabled) RingStats::add(stats_.ebusy);
                return err(EBUSY);
            }
        }
        if (&caller != last_submitter_) [[unlikely]]
            note_submitter(caller);
        submitted = submit_sqes(to_submit, caller);
        if (submitted == 0 && inflight_limited_) return err(EAGAIN);
    }
    if (flags & IORING_ENTER_GETEVENTS) {
        auto waited = wait_cqes(caller, min_complete, timeout_ns);
        if (waited.is_error() && submitted == 0) return err(waited.error());
    }
    return static_cast<long>(submitted);
}

int SyscallCompletionRing::enable_rings(kernel::Process& caller) {
    {
        std::lock_guard sl(submit_mutex_);
        if (!disabled_.load(std::memory_order_relaxed)) return -EBADFD;
        // Linux's SINGLE_ISSUER task of a disabled ring is the one that enables it.
        if ((setup_flags_ & IORING_SETUP_SINGLE_ISSUER) && single_issuer_ == 0)
            single_issuer_ = caller.pid();
        disabled_.store(false, std::memory_order_release);
    }
    // Outside submit_mutex_: the poller takes its own lock and then ours (sqpoll_submit).
    // Only the caller that cleared disabled_ gets here. A close racing with it is safe: the
    // poller skips a closing ring, and the destructor's shutdown() removes it from the poller.
    if (setup_flags_ & IORING_SETUP_SQPOLL) manager_.sq_poller().add(this, sq_idle_ms_);
    return 0;
}

void SyscallCompletionRing::note_submitter(kernel::Process& p) {
    last_submitter_ = &p;
    if (std::find(submitters_.begin(), submitters_.end(), &p) != submitters_.end()) return;
    submitters_.push_back(&p);
    std::weak_ptr<SyscallCompletionRing> weak = weak_from_this();
    p.on_exit(weak, [weak](kernel::Process& exiting) {
        if (auto ring = weak.lock()) ring->cancel_submitter(exiting);
    });
}

uint32_t SyscallCompletionRing::submit_sqes(uint32_t to_submit, kernel::Process& submitter) {
    const uint32_t tail = mem_.sq_tail().load(std::memory_order_acquire);
    mem_.tsan_acquire_sq_tail();
    uint32_t head = cached_sq_head_.load(std::memory_order_relaxed);
    // A hostile tail cannot make us consume more than one ring's worth.
    uint32_t n = std::min({to_submit, tail - head, mem_.sq_entries()});
    if (n == 0) return 0;
    // The process's limit on operations in flight: take what fits (none: EAGAIN).
    n = kernel::ResourceUsage::take_up_to<uint32_t>(usage_->inflight, n, max_inflight_);
    inflight_limited_ = n == 0;
    if (n == 0) return 0;
    // Per SQE: no lock, no allocation. The requests come in one lock, the sequence numbers
    // are the submitter's own, and the chains are queued (NOPs completed) in one more lock.
    Request* pool = alloc_requests(n, submitter);
    if (pool == nullptr) return 0;  // the ring is closing
    submitter_ = &submitter;
    uint64_t seq = next_seq_.load(std::memory_order_relaxed);
    IssueList ready;  // chain heads, in submission order
    Request* chain_head = nullptr;
    Request* chain_tail = nullptr;
    uint32_t consumed = 0;
    uint32_t accepted = 0;
    const bool submit_all = setup_flags_ & IORING_SETUP_SUBMIT_ALL;
    // What completing a refused SQE lets go (requests waiting behind a drain): issued after
    // the lock, before this submission's own chains, which came later.
    IssueList released;
    const bool counting = stats_.enabled;
    const uint64_t t0 = counting || tracing_ ? monotonic_ns() : 0;

    // A chain with an SQE that failed validation is, like Linux's (io_submit_fail_init),
    // assembled to its end and then failed as a whole: each failed SQE completes with its
    // error, every other member with -ECANCELED.
    bool chain_failed = false;
    // Submissions are counted once per enter; before any of them completes, so that
    // Pending (submitted - completed) never reads negative.
    uint32_t counted = 0;
    auto count_submitted = [&] {
        if (counting && accepted > counted) RingStats::add(stats_.submitted, accepted - counted);
        counted = accepted;
    };
    // Per opcode, counted per run of equal opcodes (a batch is mostly one); only this loop
    // touches the run, so it stays in registers.
    uint8_t run_op = 0;
    uint32_t run_count = 0;
    auto fail_chain = [&] {
        count_submitted();
        std::lock_guard lock(mutex_);
        for (Request* r = chain_head; r != nullptr;) {
            Request* next = r->link_next;
            r->link_next = nullptr;
            r->in_chain_wait = false;
            complete_locked(r, r->prep_error < 0 ? r->prep_error : -ECANCELED, 0, released);
            r = next;
        }
    };
    auto end_chain = [&]() __attribute__((always_inline)) {  // once per SQE: keep it inline
        if (chain_failed)
            fail_chain();
        else if (chain_head != nullptr)
            ready.push(chain_head);
        chain_head = chain_tail = nullptr;
        chain_failed = false;
    };
    auto append = [&](Request* req) {
        if (chain_tail != nullptr) {
            chain_tail->link_next = req;
            req->in_chain_wait = true;
        } else {
            chain_head = req;
        }
        chain_tail = req;
    };

    for (uint32_t i = 0; i < n; ++i) {
        const uint32_t index = mem_.sq_array(head).load(std::memory_order_relaxed);
        ++head;
        ++consumed;
        if (index >= mem_.sq_entries()) {
            // Linux drops an invalid array entry, counts it, and stops this submission.
            mem_.sq_dropped().fetch_add(1, std::memory_order_relaxed);
            if (counting) RingStats::add(stats_.sq_dropped);
            break;
        }
        // Copied once, then trusted (an SQE128 ring's SQEs carry 64 more bytes of command).
        BigSqe big;
        std::memcpy(&big, mem_.sqe(index), mem_.sqe_size());
        const io_uring_sqe& sqe = big.sqe;
        Request* req = pool;
        pool = req->free_next;
        req->free_next = nullptr;
        req->seq = seq++;
        req->submit_ns = t0;
        int res = prep(req, sqe);
        if (faults_ != nullptr && res >= 0) [[unlikely]]
            decide_fault(req);
        if (counting) [[likely]] {  // laid out for the statistics-on default
            if (req->opcode != run_op) [[unlikely]] {
                if (run_count > 0) RingStats::add(stats_.op_count[run_op], run_count);
                run_op = req->opcode;
                run_count = 0;
            }
            ++run_count;
        }
        ++accepted;
        const bool linked = req->sqe_flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK);

        // A LINK_TIMEOUT guards the previous request of the chain, which must exist and be
        // linked (and not guarded already).
        if (res >= 0 && req->opcode == IORING_OP_LINK_TIMEOUT &&
            (chain_tail == nullptr || chain_tail->link_timeout != nullptr))
            res = -EINVAL;
        if (res < 0) {
            // The SQE's CQE carries its error; the chain it belongs to fails with it. While
            // the failed SQE is itself linked the chain goes on; otherwise the chain ends and
            // (unless SUBMIT_ALL) so does this submission.
            req->prep_error = res;
            append(req);
            chain_failed = true;
            if (linked) continue;
            end_chain();
            if (!submit_all) break;
            continue;
        }
        if (req->opcode == IORING_OP_LINK_TIMEOUT) {
            chain_tail->link_timeout = req;
            req->lt_target = chain_tail;
            if (!linked) end_chain();
            continue;
        }
        append(req);
        if (!linked) end_chain();
    }
    end_chain();  // an unterminated chain at the end of a submission is issued as it is
    next_seq_.store(seq, std::memory_order_relaxed);
    count_submitted();
    if (run_count > 0) RingStats::add(stats_.op_count[run_op], run_count);
    if (counting && accepted > 0)
        RingStats::add(stats_.batch_hist[RingStats::batch_bucket(accepted)]);
    IssueList to_issue;
    {
        std::lock_guard lock(mutex_);
        if (pool != nullptr) return_requests(pool);
        // What completes right here (NOPs, failures) reaches the CQ with one tail update.
        begin_cq_batch_locked();
        for (Request* r = ready.head; r != nullptr;) {
            Request* next = r->issue_next;
            queue_chain_locked(r, to_issue);
            r = next;
        }
        end_cq_batch_locked();
    }
    cached_sq_head_.store(head, std::memory_order_relaxed);
    mem_.sq_head().store(head, std::memory_order_release);
    released.append(to_issue);
    after_unlock(released, /*own_submission=*/true);
    return consumed;
}

void SyscallCompletionRing::queue_chain_locked(Request* head, IssueList& to_issue) {
    head->in_chain_wait = false;
    if ((head->sqe_flags & IOSQE_IO_DRAIN) || !drain_queue_.empty() || drains_inflight_ > 0) {
        head->drain_deferred = true;
        drain_queue_.push_back(head);
        release_drain_locked(to_issue);
        return;
    }
    head->batch_issue = true;
    // A NOP completes right here (it never leaves the kernel), unless something submitted
    // before it still waits to be issued: a TIMEOUT's count must see it complete after. Issued
    // and completed under one lock, no cancel can see it: it needs no place in the index.
    if (op_def(head->opcode).issue_on == IssueOn::Inline && head->link_timeout == nullptr &&
        to_issue.empty()) {
        head->issued = true;
        ++issued_inflight_;
        complete_locked(head, 0, 0, to_issue);
        return;
    }
    mark_issued_locked(head);
    to_issue.push(head);
}

void SyscallCompletionRing::mark_issued_locked(Request* r) {
    r->issued = true;
    ++issued_inflight_;
    Request** bucket = &cancel_index_[cancel_bucket(r->user_data)];
    r->index_next = *bucket;
    if (*bucket != nullptr) (*bucket)->index_pprev = &r->index_next;
    *bucket = r;
    r->index_pprev = bucket;
    r->issued_next = issued_;
    if (issued_ != nullptr) issued_->issued_pprev = &r->issued_next;
    issued_ = r;
    r->issued_pprev = &issued_;
}

__attribute__((noinline)) void SyscallCompletionRing::unmark_issued_locked(Request* r) {
    *r->index_pprev = r->index_next;
    if (r->index_next != nullptr) r->index_next->index_pprev = r->index_pprev;
    *r->issued_pprev = r->issued_next;
    if (r->issued_next != nullptr) r->issued_next->issued_pprev = r->issued_pprev;
    r->index_next = r->issued_next = nullptr;
    r->index_pprev = r->issued_pprev = nullptr;
}

uint32_t SyscallCompletionRing::cancel_bucket(uint64_t user_data) const {
    return static_cast<uint32_t>(mix64(user_data ^ cancel_index_seed_)) & cancel_index_mask_;
}

// IOSQE_IO_DRAIN: a draining request waits until everything issued before it completed;
// whatever was submitted after it waits behind it.
void SyscallCompletionRing::release_drain_locked(IssueList& to_issue) {
    if (closing_) return;  // shutdown() completes what waits here with -ECANCELED
    while (!drain_queue_.empty()) {
        if (drains_inflight_ > 0) return;  // later ones wait for the drain itself
        Request* r = drain_queue_.front();
        const bool drain = r->sqe_flags & IOSQE_IO_DRAIN;
        if (drain && issued_inflight_ > 0) return;
        drain_queue_.pop_front();
        r->drain_deferred = false;
        mark_issued_locked(r);
        if (drain) ++drains_inflight_;
        to_issue.push(r);
    }
}

void SyscallCompletionRing::after_unlock(IssueList& to_issue, bool own_submission) {
    // With nothing to issue, `this` may already be gone: the completion just made may have been
    // the last, and shutdown frees the ring once none is in flight. The requests to issue keep
    // it alive until the last one is issued, and so does posted continuation work.
    if (to_issue.empty()) return;
    if (IssueLoop* loop = t_issue_loop) {
        loop->pending.append(to_issue);  // the loop running on this thread issues them
        return;
    }
    // A submission issues its own requests wherever it runs (one ring's worth at most); beyond
    // that, a shared kernel thread issues a bounded slice.
    uint32_t budget = kUnbounded;
    if (!t_submitter) budget = (own_submission ? to_issue.count : 0) + kSharedThreadContinuations;
    run_issue_loop(to_issue, budget);
    // Nothing here touches `this`: the loop may have completed its last request.
    if (!to_issue.empty()) defer_continuations(to_issue, nullptr);
}

void SyscallCompletionRing::run_issue_loop(IssueList& list, uint32_t budget) {
    // The executor is taken first: once the last request is issued it may complete at once,
    // and the ring be freed; nothing below touches `this`.
    Executor& executor = manager_.executor();
    // A ring whose last file reference goes inside the loop is torn down by the closer: its
    // shutdown, waiting here for requests still in this loop, would wait for itself.
    const RingTeardownDeferral deferral;
    IssueLoop loop;
    loop.pending.append(list);
    t_issue_loop = &loop;
    bool any = false;
    for (; budget > 0 && !loop.pending.empty(); --budget) {
        Request* r = loop.pending.pop();
        any |= r->ring->issue(r);
    }
    t_issue_loop = nullptr;
    list.append(loop.pending);
    // Only work that went to the executor needs it woken (a NOP never touches the host).
    if (any) executor.flush();
}

void SyscallCompletionRing::defer_continuations(IssueList& rest, SyscallCompletionRing* runner) {
    while (!rest.empty()) {
        // One run of requests of one ring at a time (in practice, all of them are one ring's).
        SyscallCompletionRing* ring = rest.head->ring;
        IssueList run;
        while (!rest.empty() && rest.head->ring == ring) run.push(rest.pop());
        bool post = false;
        {
            std::lock_guard lock(ring->mutex_);
            if (ring == runner) {
                ring->deferred_.prepend(run);  // older than what was deferred meanwhile
            } else {
                ring->deferred_.append(run);
                post = !ring->continuation_posted_;
                ring->continuation_posted_ = true;
            }
        }
        // Posted, the work keeps the ring alive (shutdown waits for it).
        if (post) ring->post_continuation_work();
    }
}

void SyscallCompletionRing::post_continuation_work() {
    // The pool's queue is bounded: wait for room rather than lose the work (the workers are
    // draining it), as the thread executor does.
    kernel::AsyncSyscallExecutor& pool = manager_.kernel().async();
    while (!pool.post(&continuation_work_)) std::this_thread::yield();
}

void SyscallCompletionRing::ContinuationWork::run() {
    const RingTeardownDeferral deferral;  // a worker, inside work on a ring
    ring->run_continuations();
}

void SyscallCompletionRing::run_continuations() {
    IssueList slice;
    {
        std::lock_guard lock(mutex_);
        slice.append(deferred_);  // continuation_posted_ stays set: one runner at a time
    }
    run_issue_loop(slice, kContinuationSlice);
    defer_continuations(slice, this);
    bool again;
    {
        std::lock_guard lock(mutex_);
        again = !deferred_.empty();
        if (!again) {
            continuation_posted_ = false;
            // Once unlocked, a shutdown waiting for this may free the ring.
            if (closing_) cq_cv_.notify_all();
        }
    }
    // Behind whatever else the pool has queued meanwhile: one process's chain cannot hold a
    // worker for longer than a slice.
    if (again) post_continuation_work();
}

bool SyscallCompletionRing::issue(Request* req) {
    if (req->link_timeout != nullptr) {
        Request* lt = req->link_timeout;
        manager_.timers().arm(
            lt, std::chrono::steady_clock::now() + std::chrono::nanoseconds(lt->timeout_ns),
            &SyscallCompletionRing::on_link_timeout_fired);
    }
    const OpDef& def = op_def(req->opcode);
    switch (def.issue_on) {
        case IssueOn::Inline:
            complete(req, 0);  // inside the kernel, never the host
            return false;
        case IssueOn::Ring:
            def.issue(*req);
            return false;
        case IssueOn::Executor:
            break;
    }
    if (req->fault.kind != FaultAction::Kind::None) [[unlikely]] {
        if (apply_fault(req)) return false;
    }
    return dispatch(req);
}

bool SyscallCompletionRing::dispatch(Request* req) {
    {
        std::lock_guard lock(mutex_);
        if (closing_) {
            IssueList none;
            complete_locked(req, -ECANCELED, 0, none);
            return false;
        }
    }
    // A buffer that failed its check at prep fails here, after the file (as Linux resolves
    // the file first): an issue-time failure, which a link chain sees as any other.
    const int r = resolve_file(req);
    if (r < 0 || req->issue_error < 0) {
        complete(req, r < 0 ? r : req->issue_error);
        return false;
    }
    if (manager_.executor().supports(*req)) {
        manager_.executor().issue(req);
        return true;
    }
    manager_.thread_executor().issue(req);
    return false;
}

int SyscallCompletionRing::resolve_file(Request* req) {
    const OpDef& def = op_def(req->opcode);
    if (def.file == FileOperand::None) return 0;  // OPENAT, CLOSE: the fd table is the operand
    auto f = (req->sqe_flags & IOSQE_FIXED_FILE)
                 ? regs_.fixed_file(static_cast<uint32_t>(req->sqe_fd))
                 : req->submitter->fds().get(req->sqe_fd);
    if (f.is_error()) return -f.error();
    if (f.value()->kind() == kernel::FileKind::Ring) {
        // If the process closed that ring's fd meanwhile, this is its last reference, and
        // this thread is inside work on a ring (maybe that very one): its teardown is the
        // closer's (ring_closer.h).
        const RingTeardownDeferral deferral;
        f.value().reset();
        return -EINVAL;
    }
    if (f.value()->host_fd() < 0) {
        // Kernel objects have no host I/O; /proc files can still be read on the ring.
        const bool proc_read = f.value()->kind() == kernel::FileKind::Proc && def.kernel_object;
        if (!proc_read) return -EINVAL;
    }
    if (def.file == FileOperand::Socket && !f.value()->is_socket()) return -ENOTSOCK;
    if (def.check_file != nullptr) {
        if (int r = def.check_file(*req, *f.value(), setup_flags_); r < 0) return r;
    }
    // An IOPOLL ring polls for block I/O: its reads and writes need O_DIRECT, as in Linux.
    if ((setup_flags_ & IORING_SETUP_IOPOLL) && def.read_write && !f.value()->direct())
        return -EOPNOTSUPP;
    req->host_fd = f.value()->host_fd();
    req->file = std::move(f.value());
    return 0;
}

void SyscallCompletionRing::arm_timeout(Request* req) {
    IssueList to_issue;
    std::unique_lock lock(mutex_);
    // Closing, or its LINK_TIMEOUT fired before it got here (cancel_requested).
    if (closing_ || req->cancel_requested.load(std::memory_order_acquire)) {
        complete_locked(req, -ECANCELED, 0, to_issue);
        lock.unlock();
        after_unlock(to_issue);
        return;
    }
    if (req->timeout_count > 0) {
        req->timeout_target = completions_for_timeouts_ + req->timeout_count;
        count_timeouts_.push_back(req);
    }
    // Armed under the lock: once the lock is released its count, a cancel or shutdown may
    // claim and free it, and a timer armed after that would fire on a freed request.
    manager_.timers().arm(
        req, std::chrono::steady_clock::now() + std::chrono::nanoseconds(req->timeout_ns),
        &SyscallCompletionRing::on_timeout_fired);
    req->timer_armed = true;  // from now on a cancel or shutdown may claim it
}

namespace {

// The requests one cancel found: most find one, kept without allocating.
struct CancelMatches {
    Request* first = nullptr;
    std::vector<Request*> rest;
    void push(Request* r) {
        if (first == nullptr)
            first = r;
        else
            rest.push_back(r);
    }
    bool empty() const { return first == nullptr; }
    template <class Fn>
    void for_each(Fn fn) const {
        if (first != nullptr) fn(first);
        for (Request* r : rest) fn(r);
    }
};

}  // namespace

int SyscallCompletionRing::async_cancel(Request* req) {
    const uint32_t f = req->op_flags;
    const bool all = f & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY);
    const bool polls_only = f & cancel::kPollsOnly;
    int count = 0;           // timeouts this cancel completed or marked
    CancelMatches pinned;    // requests to ask their executor
    CancelMatches timeouts;  // armed timeouts this cancel claimed
    IssueList released;      // what the cancelled timeouts' completions let go (drain, links)
    {
        std::lock_guard lock(mutex_);
        // Only issued requests can be found (never a LINK_TIMEOUT: it is armed, not issued).
        // Returns true when the search ends.
        auto consider = [&](Request* r) {
            if (r == req) return false;
            if (polls_only && r->opcode != IORING_OP_POLL_ADD) return false;  // POLL_REMOVE
            if (r->opcode == IORING_OP_TIMEOUT && !r->timer_armed) {
                // Issued, not yet armed: a later SQE of a submission whose issue is still
                // running. A cancel of that same submission comes before it in SQ order and
                // does not see it (Linux has not submitted it yet: -ENOENT). Any other cancel
                // (a link's next, run at once here, on Linux as task work after the whole
                // submission) finds it, as Linux would find it armed: the mark makes its issue
                // complete it with -ECANCELED (only its issue may complete it). One marked
                // already (by its LINK_TIMEOUT, an earlier cancel) is not found again.
                if (req->batch_issue) return false;
                if (r->cancel_requested.exchange(true, std::memory_order_acq_rel)) return false;
                ++count;
            } else if (r->opcode == IORING_OP_TIMEOUT) {
                // A timer that fired holds its claim until its callback completes it.
                if (r->try_claim()) {
                    manager_.timers().disarm(r);
                    ++count;
                    timeouts.push(r);
                }
            } else {
                pin_locked(r);
                pinned.push(r);
            }
            return !all;
        };
        if (f & IORING_ASYNC_CANCEL_ANY) {
            for (Request* r = issued_; r != nullptr; r = r->issued_next)
                if (consider(r)) break;
        } else if (f & IORING_ASYNC_CANCEL_FD) {
            const bool fixed = f & IORING_ASYNC_CANCEL_FD_FIXED;
            for (Request* r = issued_; r != nullptr; r = r->issued_next) {
                if (r->sqe_fd != static_cast<int32_t>(req->sqe_fd) ||
                    ((r->sqe_flags & IOSQE_FIXED_FILE) != 0) != fixed)
                    continue;
                if (consider(r)) break;
            }
        } else {
            // By user_data: one bucket of the index, not every request in flight.
            for (Request* r = cancel_index_[cancel_bucket(req->cancel_key)]; r != nullptr;
                 r = r->index_next) {
                if (r->user_data != req->cancel_key) continue;
                if (consider(r)) break;
            }
        }
        // The timeouts this cancel claimed complete now, under the lock, after the search
        // (completing one takes it out of the lists searched): only those, since one a timer
        // claimed is its callback's to complete.
        timeouts.for_each([&](Request* r) {
            count_timeouts_.erase(std::remove(count_timeouts_.begin(), count_timeouts_.end(), r),
                                  count_timeouts_.end());
            complete_locked(r, -ECANCELED, 0, released);
        });
    }
    after_unlock(released);
    if (count == 0 && pinned.empty()) return -ENOENT;
    int result = 0;
    pinned.for_each([&](Request* m) {
        if (faults_ != nullptr) {
            // Held back by an injected delay: cancelled if its timer has not fired yet (once
            // disarmed, no executor ever sees it).
            bool disarmed;
            {
                std::lock_guard lock(mutex_);
                disarmed = m->fault.kind == FaultAction::Kind::Delay && manager_.timers().disarm(m);
            }
            if (disarmed) {
                complete(m, -ECANCELED);
                ++count;
                return;
            }
        }
        const int r = cancel_pinned(m);
        if (r == 0)
            ++count;
        else if (!all && r != -ENOENT)
            result = r;
    });
    {
        std::lock_guard lock(mutex_);
        pinned.for_each([&](Request* m) { unpin_locked(m); });
    }
    if (all) return count;
    return count > 0 ? 0 : (result != 0 ? result : -ENOENT);
}

uint32_t SyscallCompletionRing::sqpoll_submit() {
    std::lock_guard sl(submit_mutex_);
    kernel::Process* creator = creator_.load(std::memory_order_relaxed);
    if (creator == nullptr) return 0;  // its submitter is gone (enter: -EOWNERDEAD)
    const uint32_t avail = mem_.sq_tail().load(std::memory_order_acquire) -
                           cached_sq_head_.load(std::memory_order_relaxed);
    if (avail == 0) return 0;
    {
        std::lock_guard lock(mutex_);
        if (closing_) return 0;
        if (!overflow_.empty() && !flush_overflow_locked()) return 0;  // NODROP backpressure
    }
    return submit_sqes(avail, *creator);
}

void SyscallCompletionRing::set_sq_need_wakeup(bool on) {
    if (on)
        mem_.sq_flags().fetch_or(IORING_SQ_NEED_WAKEUP, std::memory_order_release);
    else
        mem_.sq_flags().fetch_and(~uint32_t{IORING_SQ_NEED_WAKEUP}, std::memory_order_release);
}

void SyscallCompletionRing::shutdown() {
    // The SQ poller stops touching this ring before anything else goes.
    if (setup_flags_ & IORING_SETUP_SQPOLL) manager_.sq_poller().remove(this);
    std::vector<Request*> issued;   // pinned
    std::vector<Request*> delayed;  // held back by an injected delay, timer disarmed
    {
        std::lock_guard lock(mutex_);
        if (closing_ && inflight_ == 0) return;
        closing_ = true;
        IssueList none;
        // Chains still waiting for a drain never run.
        while (!drain_queue_.empty()) {
            Request* head = drain_queue_.front();
            drain_queue_.pop_front();
            for (Request* r = head; r != nullptr;) {
                Request* next = r->link_next;
                r->link_next = nullptr;
                complete_locked(r, -ECANCELED, 0, none);
                r = next;
            }
        }
        for (Request* r = active_; r != nullptr;) {
            Request* next = r->active_next;
            if (r->issued && r->opcode == IORING_OP_TIMEOUT) {
                // Not armed yet: its issue sees closing_ and cancels it.
                if (r->timer_armed && r->try_claim()) {
                    manager_.timers().disarm(r);
                    count_timeouts_.erase(
                        std::remove(count_timeouts_.begin(), count_timeouts_.end(), r),
                        count_timeouts_.end());
                    complete_locked(r, -ECANCELED, 0, none);
                }
            } else if (r->issued && r->executor.load(std::memory_order_acquire) != nullptr) {
                pin_locked(r);
                issued.push_back(r);
            } else if (r->issued && r->fault.kind == FaultAction::Kind::Delay &&
                       manager_.timers().disarm(r)) {
                delayed.push_back(r);
            }
            r = next;
        }
    }
    for (Request* r : delayed) complete(r, -ECANCELED);
    for (Request* r : issued) cancel_pinned(r);
    std::unique_lock lock(mutex_);
    for (Request* r : issued) unpin_locked(r);
    const auto wait_start = std::chrono::steady_clock::now();
    auto next_report = wait_start + std::chrono::seconds(5);
    // Continuation work still posted touches the ring after its last request completed.
    while (inflight_ > 0 || continuation_posted_) {
        cq_cv_.wait_for(lock, std::chrono::milliseconds(50));
        if (inflight_ == 0 && !continuation_posted_) break;
        if (const auto now = std::chrono::steady_clock::now(); now >= next_report) {
            log_live_requests_locked(now - wait_start);
            next_report = now + std::chrono::seconds(60);
        }
        // Anything issued since (a chain's next step) is cancelled at issue; re-ask the rest.
        std::vector<Request*> again;
        for (Request* r = active_; r != nullptr; r = r->active_next) {
            if (r->issued && r->executor.load(std::memory_order_acquire) != nullptr) {
                pin_locked(r);
                again.push_back(r);
            }
        }
        lock.unlock();
        for (Request* r : again) cancel_pinned(r);
        lock.lock();
        for (Request* r : again) unpin_locked(r);
    }
    lock.unlock();
    close_ledger();
    regs_.clear();
    if (holds_ring_slot_.exchange(false)) usage_->rings.fetch_sub(1, std::memory_order_relaxed);
    manager_.executor().ring_closed(*this);
    manager_.remove_ring(this);
}

void SyscallCompletionRing::cancel_submitter(kernel::Process& p) {
    {
        // After this no submission runs as `p`: the SQ poller's (as the creator) sees
        // creator_ cleared, and `p` itself is past its last syscall.
        std::lock_guard sl(submit_mutex_);
        submitters_.erase(std::remove(submitters_.begin(), submitters_.end(), &p),
                          submitters_.end());
        if (last_submitter_ == &p) last_submitter_ = nullptr;
        if (creator_.load(std::memory_order_relaxed) == &p)
            creator_.store(nullptr, std::memory_order_release);
    }
    // Like shutdown(), for `p`'s requests only: what waits for a drain is cancelled, a timeout
    // claimed and cancelled, what an executor holds asked to cancel; anything else (a link
    // waiting for its head, a request on its way to its executor) is marked, and the executor
    // that takes it (or, for a TIMEOUT, its issue) cancels it. Then wait until none of them
    // lives: they use `p`'s memory and fds.
    auto mine = [&p](const Request* r) { return r->submitter == &p; };
    IssueList released;
    std::vector<Request*> issued;   // pinned
    std::vector<Request*> delayed;  // held back by an injected delay, timer disarmed
    std::unique_lock lock(mutex_);
    ++exit_waiters_;
    std::vector<Request*> undrained;  // chains of `p` (a chain is one submission's)
    for (auto it = drain_queue_.begin(); it != drain_queue_.end();) {
        if (mine(*it)) {
            undrained.push_back(*it);
            it = drain_queue_.erase(it);
        } else {
            ++it;
        }
    }
    for (Request* head : undrained) {
        for (Request* r = head; r != nullptr;) {
            Request* next = r->link_next;
            r->link_next = nullptr;
            r->drain_deferred = false;
            complete_locked(r, -ECANCELED, 0, released);
            r = next;
        }
    }
    release_drain_locked(released);  // what waited behind them may go now
    std::vector<Request*> claimed;   // timeouts, completed after the walk (which frees chains)
    auto cancel_live = [&](bool first) {
        for (Request* r = active_; r != nullptr;) {
            Request* next = r->active_next;
            if (!mine(r) || r->opcode == IORING_OP_LINK_TIMEOUT) {
                r = next;  // a LINK_TIMEOUT ends with the request it guards
                continue;
            }
            if (first) r->cancel_requested.store(true, std::memory_order_release);
            if (r->issued && r->opcode == IORING_OP_TIMEOUT) {
                // Not armed yet: its issue sees the mark and cancels it.
                if (r->timer_armed && r->try_claim()) {
                    manager_.timers().disarm(r);
                    count_timeouts_.erase(
                        std::remove(count_timeouts_.begin(), count_timeouts_.end(), r),
                        count_timeouts_.end());
                    claimed.push_back(r);
                }
            } else if (r->issued && r->executor.load(std::memory_order_acquire) != nullptr) {
                pin_locked(r);
                issued.push_back(r);
            } else if (first && r->issued && r->fault.kind == FaultAction::Kind::Delay &&
                       manager_.timers().disarm(r)) {
                delayed.push_back(r);
            }
            r = next;
        }
        for (Request* r : claimed) complete_locked(r, -ECANCELED, 0, released);
        claimed.clear();
    };
    cancel_live(true);
    for (bool first = true;; first = false) {
        lock.unlock();
        after_unlock(released);
        released.head = nullptr;  // (an IssueList's tail points into itself: not reassigned)
        released.tail = &released.head;
        for (Request* r : delayed) complete(r, -ECANCELED);
        delayed.clear();
        for (Request* r : issued) cancel_pinned(r);
        lock.lock();
        for (Request* r : issued) unpin_locked(r);
        issued.clear();
        bool live = false;
        for (const Request* r = active_; r != nullptr && !live; r = r->active_next) live = mine(r);
        if (!live) break;
        cq_cv_.wait_for(lock, std::chrono::milliseconds(first ? 5 : 50));
        cancel_live(false);  // anything that reached an executor since: asked again
    }
    --exit_waiters_;
}

void SyscallCompletionRing::log_live_requests_locked(
    std::chrono::steady_clock::duration waited) const {
    spdlog::warn(
        "io_uring: ring fd of pid {}: close has waited {} s for {} request(s):", owner_pid_,
        std::chrono::duration_cast<std::chrono::seconds>(waited).count(), inflight_);
    for (const Request* r = active_; r != nullptr; r = r->active_next) {
        const Executor* ex = r->executor.load(std::memory_order_acquire);
        const char* op = opcode_name(r->opcode);
        spdlog::warn(
            "  seq {} {} user_data {:#x} fd {} flags {:#x}: issued {} executor {} exec_state {} "
            "cancel_requested {} chain_wait {} drain_deferred {} link_next {} link_timeout {} "
            "guards {} pins {} fault {}",
            r->seq, op != nullptr ? op : "?", r->user_data, r->sqe_fd, r->sqe_flags, r->issued,
            ex != nullptr ? "set" : "none", static_cast<int>(r->exec_state.load()),
            r->cancel_requested.load(), r->in_chain_wait, r->drain_deferred,
            r->link_next != nullptr, r->link_timeout != nullptr, r->lt_target != nullptr,
            r->cancel_pins, static_cast<int>(r->fault.kind));
    }
}

void SyscallCompletionRing::close_ledger() {
    // The submit lock: a submitter that took its requests before closing_ was set has stored
    // its last sequence number, so next_seq_ is final.
    std::lock_guard sl(submit_mutex_);
    std::lock_guard lock(mutex_);
    if (!stats_.enabled || stats_.ledger_closed.load(std::memory_order_relaxed) != 0) return;
    count_completions_locked();
    const uint64_t duplicated_before = ledger_.duplicated();
    ledger_.close(next_seq_.load(std::memory_order_relaxed));
    RingStats::add(stats_.lost, ledger_.lost());
    RingStats::add(stats_.duplicated, ledger_.duplicated() - duplicated_before);
    RingStats::add(stats_.ledger_closed);
}

Request* SyscallCompletionRing::alloc_requests(uint32_t n, kernel::Process& submitter) {
    std::lock_guard lock(mutex_);
    // Once closing, nothing new is accepted: shutdown's wait for inflight_ == 0 is final.
    if (closing_) return nullptr;
    Request* list = nullptr;
    for (uint32_t i = 0; i < n; ++i) {
        if (free_ == nullptr) {
            // Grow by a slab for the rest of this batch (64 to 1024 requests); steady state
            // reuses requests without allocating, and a big ring that is mostly idle holds
            // only what it used.
            const size_t count = std::clamp<size_t>(n - i, 64, 1024);
            slabs_.push_back(std::make_unique<Request[]>(count));
            Request* slab = slabs_.back().get();
            for (size_t k = 0; k < count; ++k) {
                slab[k].free_next = free_;
                free_ = &slab[k];
            }
        }
        Request* r = free_;
        free_ = r->free_next;
        r->freed = false;
        r->ring = this;
        r->submitter = &submitter;
        r->active_prev = nullptr;
        r->active_next = active_;
        if (active_ != nullptr) active_->active_prev = r;
        active_ = r;
        r->free_next = list;
        list = r;
    }
    inflight_ += n;
    return list;
}

// Called with mutex_ held: requests taken by alloc_requests and never used.
void SyscallCompletionRing::return_requests(Request* list) {
    while (list != nullptr) {
        Request* next = list->free_next;
        list->free_next = nullptr;
        free_request(list);
        list = next;
    }
}

// Called with mutex_ held.
void SyscallCompletionRing::free_request(Request* r) {
    r->freed = true;  // from here on, a completion of it is a second one (refused)
    if (r->index_pprev != nullptr) [[unlikely]]  // not a NOP completed where it was issued
        unmark_issued_locked(r);
    if (r->active_prev != nullptr)
        r->active_prev->active_next = r->active_next;
    else
        active_ = r->active_next;
    if (r->active_next != nullptr) r->active_next->active_prev = r->active_prev;
    if (r->cancel_pins > 0) {
        r->recycle_when_unpinned = true;  // a canceller still reads it: unpin_locked recycles
        return;
    }
    recycle_locked(r);
}

void SyscallCompletionRing::unpin_locked(Request* r) {
    if (--r->cancel_pins == 0 && r->recycle_when_unpinned) recycle_locked(r);
}

int SyscallCompletionRing::cancel_pinned(Request* r) {
    Executor* ex = r->executor.load(std::memory_order_acquire);
    return ex != nullptr ? ex->cancel(r) : -ENOENT;
}

// Called with mutex_ held: back to the pool.
void SyscallCompletionRing::recycle_locked(Request* r) {
    r->reset();
    r->free_next = free_;
    free_ = r;
    --inflight_;
    usage_->inflight.fetch_sub(1, std::memory_order_relaxed);
    if ((inflight_ == 0 && closing_) || exit_waiters_ != 0) [[unlikely]]
        cq_cv_.notify_all();
}

}  // namespace toyos::iouring

// SyscallCompletionRing: completions, the CQ and its overflow backlog, link-chain progress,
// and waiting for CQEs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>

#include "iouring/clock.h"
#include "iouring/manager.h"
#include "iouring/ops/op_def.h"
#include "iouring/ring.h"
#include "iouring/spin_wait.h"
#include "kernel/log.h"

namespace toyos::iouring {

using kernel::err;
using kernel::Result;

void SyscallCompletionRing::complete(Request* req, int32_t res, uint32_t cflags) {
    IssueList to_issue;
    {
        std::lock_guard lock(mutex_);
        complete_locked(req, res, cflags, to_issue);
    }
    after_unlock(to_issue);
}

void SyscallCompletionRing::complete_many(Request* const* reqs, const int32_t* res, size_t n) {
    IssueList to_issue;
    {
        std::lock_guard lock(mutex_);
        // The CQ tail moves once for the batch, as Linux commits its CQ once per flush: a
        // process polling the CQ wakes to the whole batch, and is woken once.
        begin_cq_batch_locked();
        for (size_t i = 0; i < n; ++i)
            complete_locked(reqs[i], res[i], reqs[i]->cqe_flags, to_issue);
        end_cq_batch_locked();
    }
    after_unlock(to_issue);
}

void SyscallCompletionRing::complete_locked(Request* req, int32_t res, uint32_t cflags,
                                            IssueList& to_issue) {
    if (req->freed) [[unlikely]] {
        refuse_second_completion_locked(res);
        return;
    }
    // A short read or write is a failure too (as in Linux): its CQE is posted even with
    // IOSQE_CQE_SKIP_SUCCESS, and it breaks a link chain.
    // (Only asked when it matters: expected_bytes walks an iovec array.)
    const bool matters = req->link_next != nullptr || (req->sqe_flags & IOSQE_CQE_SKIP_SUCCESS);
    const bool failed = res < 0 || (matters && res >= 0 && op_def(req->opcode).read_write &&
                                    static_cast<size_t>(res) < req->expected_bytes());
    // The counters' writers are serialized by mutex_ (ring_stats.h). Completions (and CQEs)
    // are counted, and checked against the ledger, where the CQ tail is published: once per
    // batch (count_completions_locked), so before the CQE is posted.
    if (stats_.enabled) [[likely]] {  // laid out for the statistics-on default
        ledger_.note(req->seq);       // and so counted
        if (res < 0) [[unlikely]]
            RingStats::add(res == -ECANCELED ? stats_.cancelled : stats_.failed);
    }
    const bool skip = req->skip_cqe || ((req->sqe_flags & IOSQE_CQE_SKIP_SUCCESS) && !failed);
    if (!skip) [[likely]] {
        post_cqe_locked(req->user_data, res, cflags, req->big_cqe);
    } else {
        if (stats_.enabled) RingStats::add(stats_.cqes_skipped);
        if (!cq_batch_) count_completions_locked();
    }
    if (observe_ != 0) [[unlikely]]
        observe_locked(*req, res);

    // A LINK_TIMEOUT guarding this request ends with it: -ECANCELED unless it already fired.
    // Its CQE follows the request's, as on Linux (which posts it from task work).
    if (Request* lt = req->link_timeout) {
        req->link_timeout = nullptr;
        lt->lt_target = nullptr;
        if (lt->try_claim()) {
            manager_.timers().disarm(lt);
            lt->skip_cqe = req->skip_cqe;
            complete_locked(lt, -ECANCELED, 0, to_issue);
        }
    }

    // Link chain: the next request runs only if this one succeeded in full (a short read or
    // write breaks the chain, as in Linux), unless this one is a hard link.
    if (Request* next = req->link_next) {
        req->link_next = nullptr;
        // A closing ring runs nothing more: even a hard link's rest is cancelled.
        if ((failed && !(req->sqe_flags & IOSQE_IO_HARDLINK)) || closing_) {
            const bool silent = req->skip_cqe || (req->sqe_flags & IOSQE_CQE_SKIP_SUCCESS);
            for (Request* r = next; r != nullptr;) {
                Request* after = r->link_next;
                r->link_next = nullptr;
                r->in_chain_wait = false;
                r->skip_cqe = silent;
                complete_locked(r, -ECANCELED, 0, to_issue);
                r = after;
            }
        } else {
            next->in_chain_wait = false;
            mark_issued_locked(next);
            if (next->sqe_flags & IOSQE_IO_DRAIN) ++drains_inflight_;
            to_issue.push(next);
        }
    }

    if (req->issued) {
        --issued_inflight_;
        if (req->sqe_flags & IOSQE_IO_DRAIN) --drains_inflight_;
    }
    // A TIMEOUT's count is of CQEs, as Linux's (cached_cq_tail - cq_timeouts): a skipped CQE
    // does not count, a LINK_TIMEOUT's does, and so does a cancelled or failed TIMEOUT's; a
    // TIMEOUT that expired (-ETIME) or met its own count (0) does not.
    const bool timeout_fired = req->opcode == IORING_OP_TIMEOUT && (res == -ETIME || res == 0);
    if (!skip && !timeout_fired) {
        ++completions_for_timeouts_;
        if (!count_timeouts_.empty()) check_count_timeouts_locked(to_issue);
    }
    free_request(req);
    if (!drain_queue_.empty()) release_drain_locked(to_issue);
}

void SyscallCompletionRing::refuse_second_completion_locked(int32_t res) {
    // A kernel bug: something completed a request that was already completed and freed. Posting
    // it would duplicate a CQE, and freeing it again would corrupt the pool (and leave close()
    // waiting for a request count gone below zero). It is refused, counted and reported; a
    // fuzzing build stops here, so that the fuzzer keeps the input and this stack.
    RingStats::add(stats_.duplicated);
    spdlog::error("io_uring: ring {} of pid {}: a request was completed twice (res {}); refused",
                  id_, owner_pid_, res);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    std::abort();
#endif
}

void SyscallCompletionRing::check_count_timeouts_locked(IssueList& to_issue) {
    for (size_t i = 0; i < count_timeouts_.size();) {
        Request* t = count_timeouts_[i];
        if (completions_for_timeouts_ >= t->timeout_target && t->try_claim()) {
            manager_.timers().disarm(t);
            count_timeouts_.erase(count_timeouts_.begin() + static_cast<long>(i));
            complete_locked(t, 0, 0, to_issue);
            continue;
        }
        ++i;
    }
}

void SyscallCompletionRing::on_timeout_fired(Request* req) {
    // The timer claimed it (timer_service.cpp): no count, cancel or shutdown completes it now.
    SyscallCompletionRing* ring = req->ring;
    IssueList to_issue;
    {
        std::lock_guard lock(ring->mutex_);
        auto& ct = ring->count_timeouts_;
        ct.erase(std::remove(ct.begin(), ct.end(), req), ct.end());
        ring->complete_locked(req, -ETIME, 0, to_issue);
    }
    ring->after_unlock(to_issue);
}

void SyscallCompletionRing::on_link_timeout_fired(Request* lt) {
    SyscallCompletionRing* ring = lt->ring;
    Request* target = nullptr;  // pinned
    Request* cancelled_timeout = nullptr;
    IssueList to_issue;
    {
        // The timer claimed it: if its target completed meanwhile, lt_target is null.
        std::lock_guard lock(ring->mutex_);
        target = lt->lt_target;
        if (target != nullptr) target->link_timeout = nullptr;
        if (target != nullptr && target->opcode == IORING_OP_TIMEOUT && target->timer_armed) {
            // A TIMEOUT has no executor to ask: cancelled here, if its own timer or a count
            // has not claimed it first (then it completes as that says).
            if (target->try_claim()) {
                ring->manager_.timers().disarm(target);
                auto& ct = ring->count_timeouts_;
                ct.erase(std::remove(ct.begin(), ct.end(), target), ct.end());
                cancelled_timeout = target;  // after the LINK_TIMEOUT's CQE, as on Linux
            }
            target = nullptr;
        } else if (target != nullptr) {
            pin_locked(target);
            // Marked while it is surely alive: if it has not reached its executor yet (the
            // timer can fire first), the executor sees the mark when it takes it and completes
            // it with -ECANCELED; the cancel() below would find no executor to ask.
            target->cancel_requested.store(true, std::memory_order_release);
        }
        lt->lt_target = nullptr;
        ring->complete_locked(lt, -ETIME, 0, to_issue);
        if (cancelled_timeout != nullptr)
            ring->complete_locked(cancelled_timeout, -ECANCELED, 0, to_issue);
    }
    ring->after_unlock(to_issue);
    // The guarded request is cancelled; it completes with -ECANCELED (or its own result if it
    // was already finishing), and its chain follows from that.
    if (target != nullptr) {
        cancel_pinned(target);
        std::lock_guard lock(ring->mutex_);
        ring->unpin_locked(target);
    }
}

void SyscallCompletionRing::post_cqe_locked(uint64_t user_data, int32_t res, uint32_t cflags,
                                            const uint64_t* big) {
    const bool cqe32 = mem_.cqe_size() == 32;
    if (overflow_.empty()) {
        const uint32_t head = mem_.cq_head().load(std::memory_order_acquire);
        const uint32_t tail = cq_tail_locked();
        if (tail - head < mem_.cq_entries()) {
            io_uring_cqe* cqe = mem_.cqe(tail);
            cqe->user_data = user_data;
            cqe->res = res;
            cqe->flags = cflags;
            if (cqe32) {
                cqe->big_cqe[0] = big != nullptr ? big[0] : 0;
                cqe->big_cqe[1] = big != nullptr ? big[1] : 0;
            }
            if (cq_batch_)
                cq_batch_tail_ = tail + 1;
            else
                publish_cq_tail_locked(tail + 1);
            return;
        }
    }
    // CQ full: keep it (IORING_FEAT_NODROP) and tell userland to enter and flush.
    overflow_.push_back(OverflowCqe{
        user_data, res, cflags, {big != nullptr ? big[0] : 0, big != nullptr ? big[1] : 0}});
    if (stats_.enabled) RingStats::add(stats_.overflowed);
    mem_.sq_flags().fetch_or(IORING_SQ_CQ_OVERFLOW, std::memory_order_release);
    if (!cq_batch_) count_completions_locked();
}

void SyscallCompletionRing::observe_locked(const Request& req, int32_t res) {
    const uint64_t now = monotonic_ns();
    if (observe_ & kObserveLatency) {
        stats_.record_latency(req.opcode, now - req.submit_ns);
        observe_ &= ~kObserveLatency;  // until the next CQ tail publication
    }
    if (tracing_)
        trace_.push_back(TraceEvent{req.submit_ns, now, req.seq, req.user_data, res, id_,
                                    owner_pid_, req.opcode});
}

void SyscallCompletionRing::count_completions_locked() {
    // Every completion was noted in the ledger: its count is the ledger's.
    const uint64_t noted = ledger_.noted();
    if (noted == counted_completions_) return;
    const uint64_t n = noted - counted_completions_;
    counted_completions_ = noted;
    RingStats::add(stats_.completed, n);
    // Torn down: the ring, or a process that submitted to it exits (cancel_submitter).
    if (closing_ || exit_waiters_ != 0) RingStats::add(stats_.completed_at_teardown, n);
    if (const uint64_t dup = ledger_.flush_if_longer(kLedgerRunBeforeFlush)) [[unlikely]]
        RingStats::add(stats_.duplicated, dup);
}

void SyscallCompletionRing::publish_cq_tail_locked(uint32_t tail) {
    count_completions_locked();  // before the CQEs show: a reader never sees them uncounted
    const uint32_t old = mem_.cq_tail().load(std::memory_order_relaxed);
    if (tail == old) return;
    mem_.cq_tail().store(tail, std::memory_order_release);
    mem_.tsan_release_cq_tail();
    if (stats_.enabled) {
        RingStats::add(stats_.cqes_posted, tail - old);
        observe_ |= kObserveLatency;  // the next completion is a latency sample
    }
    if (cq_waiters_ > 0 && static_cast<int32_t>(tail - cq_wake_tail_) >= 0) cq_cv_.notify_all();
    if (regs_.has_eventfd()) regs_.signal_eventfd();
}

bool SyscallCompletionRing::flush_overflow_locked() {
    if (overflow_.empty()) return true;
    const uint32_t head = mem_.cq_head().load(std::memory_order_acquire);
    uint32_t tail = cq_tail_locked();
    bool posted = false;
    while (!overflow_.empty() && tail - head < mem_.cq_entries()) {
        const OverflowCqe& o = overflow_.front();
        io_uring_cqe* cqe = mem_.cqe(tail);
        cqe->user_data = o.user_data;
        cqe->res = o.res;
        cqe->flags = o.flags;
        if (mem_.cqe_size() == 32) {
            cqe->big_cqe[0] = o.big[0];
            cqe->big_cqe[1] = o.big[1];
        }
        overflow_.pop_front();
        ++tail;
        posted = true;
    }
    if (posted) {
        if (cq_batch_)
            cq_batch_tail_ = tail;
        else
            publish_cq_tail_locked(tail);
    }
    if (overflow_.empty()) {
        mem_.sq_flags().fetch_and(~uint32_t{IORING_SQ_CQ_OVERFLOW}, std::memory_order_release);
        return true;
    }
    return false;
}

Result<void> SyscallCompletionRing::wait_cqes(kernel::Process& caller, uint32_t min,
                                              int64_t timeout_ns) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = timeout_ns >= 0 ? Clock::now() + std::chrono::nanoseconds(timeout_ns)
                                          : Clock::time_point::max();
    min = std::min(min, mem_.cq_entries());
    auto cq_ready = [&] {
        return mem_.cq_tail().load(std::memory_order_acquire) -
                   mem_.cq_head().load(std::memory_order_acquire) >=
               min;
    };
    // Poll first (lock-free: the tail is published with release); a completer then needs no
    // futex wake-up. Waits shorter than the budget only poll for their own length.
    const uint64_t budget = timeout_ns >= 0
                                ? std::min<uint64_t>(spin_ns_, static_cast<uint64_t>(timeout_ns))
                                : spin_ns_;
    // While completions wait in the overflow backlog only a flush (under the lock) moves the
    // tail: nothing to poll for.
    const bool overflowed = mem_.sq_flags().load(std::memory_order_acquire) & IORING_SQ_CQ_OVERFLOW;
    if (!cq_ready() && !overflowed &&
        spin_until(budget, wait_backoff_, [&] { return cq_ready() || caller.killed(); }) &&
        cq_ready()) {
        RingStats::bump(stats_.waits_spun);
        return {};
    }
    bool slept = false;
    std::unique_lock lock(mutex_);
    for (;;) {
        flush_overflow_locked();
        const uint32_t head = mem_.cq_head().load(std::memory_order_acquire);
        const uint32_t ready = mem_.cq_tail().load(std::memory_order_relaxed) - head;
        if (ready >= min) return {};
        if (caller.killed()) return err(EINTR);
        const auto now = Clock::now();
        // Linux: a wait that times out with CQEs ready (fewer than asked) returns 0.
        if (now >= deadline) return ready > 0 ? Result<void>{} : err(ETIME);
        // Posting wakes waiters once the tail reaches the lowest tail any of them needs.
        const uint32_t want = head + min;
        if (cq_waiters_ == 0 || static_cast<int32_t>(want - cq_wake_tail_) < 0)
            cq_wake_tail_ = want;
        ++cq_waiters_;
        if (!slept) RingStats::bump(stats_.waits_slept);  // once per wait that sleeps
        slept = true;
        cq_cv_.wait_for(lock,
                        std::min<Clock::duration>(deadline - now, std::chrono::milliseconds(20)));
        --cq_waiters_;
    }
}

}  // namespace toyos::iouring

#include "iouring/sq_poller.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "iouring/clock.h"
#include "iouring/ring.h"

namespace toyos::iouring {

SqPoller::~SqPoller() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void SqPoller::add(SyscallCompletionRing* ring, uint32_t idle_ms) {
    {
        std::lock_guard lock(mutex_);
        entries_.push_back(Entry{ring, uint64_t{idle_ms} * 1'000'000u, monotonic_ns(), false});
        awake_.fetch_add(1, std::memory_order_seq_cst);
        wake_pending_ = true;
        if (!wake_owner_ && !thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
    cv_.notify_all();
    if (wake_owner_) wake_owner_();
}

void SqPoller::remove(SyscallCompletionRing* ring) {
    std::lock_guard lock(mutex_);  // a pass holds it while it works on a ring
    for (const Entry& e : entries_)
        if (e.ring == ring && !e.sleeping) awake_.fetch_sub(1, std::memory_order_seq_cst);
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& e) { return e.ring == ring; }),
                   entries_.end());
}

void SqPoller::mark_awake_locked(Entry& e) {
    if (e.sleeping) awake_.fetch_add(1, std::memory_order_seq_cst);
    e.sleeping = false;
    e.last_work_ns = monotonic_ns();
    e.ring->set_sq_need_wakeup(false);
}

void SqPoller::wake(SyscallCompletionRing* ring) {
    {
        std::lock_guard lock(mutex_);
        ++wakeups_;
        for (Entry& e : entries_)
            if (e.ring == ring) mark_awake_locked(e);
        wake_pending_ = true;
    }
    cv_.notify_all();
    if (wake_owner_) wake_owner_();
}

uint64_t SqPoller::wakeups() const {
    std::lock_guard lock(mutex_);
    return wakeups_;
}

bool SqPoller::poll_once(bool& worked) {
    std::lock_guard lock(mutex_);
    worked = false;
    bool awake = false;
    const uint64_t now = monotonic_ns();
    for (Entry& e : entries_) {
        if (e.sleeping) continue;
        if (e.ring->sqpoll_submit() > 0) {
            e.last_work_ns = now;
            worked = awake = true;
            continue;
        }
        if (now - e.last_work_ns < e.idle_ns) {
            awake = true;
            continue;
        }
        // Idle: ask for a wakeup, then look once more, so that SQEs published by a submitter
        // that saw the flag still clear are not left behind.
        e.ring->set_sq_need_wakeup(true);
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (e.ring->sqpoll_submit() > 0) {
            e.ring->set_sq_need_wakeup(false);
            e.last_work_ns = now;
            worked = awake = true;
        } else {
            e.sleeping = true;
            awake_.fetch_sub(1, std::memory_order_seq_cst);
        }
    }
    return awake;
}

void SqPoller::loop() {
    pthread_setname_np(pthread_self(), "toyos-sqpoll");
    set_thread_id(static_cast<pid_t>(::gettid()));
    for (;;) {
        bool worked = false;
        const bool awake = poll_once(worked);
        std::unique_lock lock(mutex_);
        if (stopping_) return;
        if (awake) {
            lock.unlock();
            std::this_thread::yield();  // let wake/add/remove in between passes
            continue;
        }
        cv_.wait(lock, [&] { return wake_pending_ || stopping_; });
        if (stopping_) return;
        wake_pending_ = false;
    }
}

}  // namespace toyos::iouring

#include "iouring/sq_poller.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "iouring/clock.h"
#include "iouring/ring.h"
#include "iouring/ring_closer.h"

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
    std::lock_guard lock(mutex_);
    entries_.push_back(Entry{ring, uint64_t{idle_ms} * 1'000'000u, monotonic_ns(), false});
    wake_pending_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    cv_.notify_all();
}

void SqPoller::remove(SyscallCompletionRing* ring) {
    std::lock_guard lock(mutex_);  // the thread holds it while it works on a ring
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& e) { return e.ring == ring; }),
                   entries_.end());
}

void SqPoller::wake(SyscallCompletionRing* ring) {
    std::lock_guard lock(mutex_);
    ++wakeups_;
    for (Entry& e : entries_) {
        if (e.ring != ring) continue;
        e.sleeping = false;
        e.last_work_ns = monotonic_ns();
        ring->set_sq_need_wakeup(false);
    }
    wake_pending_ = true;
    cv_.notify_all();
}

uint64_t SqPoller::wakeups() const {
    std::lock_guard lock(mutex_);
    return wakeups_;
}

void SqPoller::loop() {
    pthread_setname_np(pthread_self(), "toyos-sqpoll");
    const RingTeardownDeferral deferral;
    tid_ = static_cast<pid_t>(::gettid());
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        bool awake = false;
        const uint64_t now = monotonic_ns();
        for (Entry& e : entries_) {
            if (e.sleeping) continue;
            if (e.ring->sqpoll_submit() > 0) {
                e.last_work_ns = now;
                awake = true;
                continue;
            }
            if (now - e.last_work_ns < e.idle_ns) {
                awake = true;
                continue;
            }
            // Idle: ask for a wakeup, then look once more, so that SQEs published by a
            // submitter that saw the flag still clear are not left behind.
            e.ring->set_sq_need_wakeup(true);
            std::atomic_thread_fence(std::memory_order_seq_cst);
            if (e.ring->sqpoll_submit() > 0) {
                e.ring->set_sq_need_wakeup(false);
                e.last_work_ns = now;
                awake = true;
            } else {
                e.sleeping = true;
            }
        }
        if (awake) {
            // Let wake/add/remove in between passes, then poll again.
            lock.unlock();
            std::this_thread::yield();
            lock.lock();
            continue;
        }
        cv_.wait(lock, [&] { return wake_pending_ || stopping_; });
        wake_pending_ = false;
    }
}

}  // namespace toyos::iouring

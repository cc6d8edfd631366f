#include "iouring/timer_service.h"

#include "iouring/request.h"
#include "iouring/ring_closer.h"

namespace toyos::iouring {

TimerService::TimerService() : thread_([this] { loop(); }) {}

TimerService::~TimerService() {
    stop();
}

void TimerService::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void TimerService::arm(Request* req, Clock::time_point deadline, Callback on_fire) {
    bool earliest;
    {
        std::lock_guard lock(mutex_);
        auto it = timers_.emplace(deadline, std::make_pair(req, on_fire));
        index_[req] = it;
        earliest = it == timers_.begin();
    }
    if (earliest) cv_.notify_one();
}

bool TimerService::disarm(Request* req) {
    std::lock_guard lock(mutex_);
    auto it = index_.find(req);
    if (it == index_.end()) return false;
    timers_.erase(it->second);
    index_.erase(it);
    return true;
}

size_t TimerService::pending() const {
    std::lock_guard lock(mutex_);
    return timers_.size();
}

void TimerService::loop() {
    const RingTeardownDeferral deferral;
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (timers_.empty()) {
            cv_.wait(lock);
            continue;
        }
        auto first = timers_.begin();
        if (Clock::now() < first->first) {
            // A copy: while we wait unlocked, disarm() may erase the node holding the key.
            const Clock::time_point deadline = first->first;
            cv_.wait_until(lock, deadline);
            continue;
        }
        auto [req, cb] = first->second;
        timers_.erase(first);
        index_.erase(req);
        // A timer fires only if it wins its request's claim, taken under this lock: whoever
        // claimed first (a count, a cancel, the target of a LINK_TIMEOUT, shutdown) is about to
        // disarm it and waits for this lock, so the request is alive here. Once claimed, no one
        // else completes or frees it: the callback, outside the lock, still owns it.
        if (!req->try_claim()) continue;
        lock.unlock();
        cb(req);
        lock.lock();
    }
}

}  // namespace toyos::iouring

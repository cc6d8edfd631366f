#include "iouring/timer_service.h"

#include "iouring/request.h"

namespace toyos::iouring {

TimerService::TimerService() : thread_([this] { loop(); }) {}

TimerService::~TimerService() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void TimerService::arm(Request* req, Clock::time_point deadline, Callback on_fire) {
    bool earliest;
    {
        std::lock_guard lock(mutex_);
        auto it = timers_.emplace(deadline, Timer{req->ring, req, req->seq, on_fire});
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

void TimerService::quiesce() {
    if (std::this_thread::get_id() == thread_.get_id()) return;
    std::unique_lock lock(mutex_);
    const uint64_t begun = fired_;
    finished_cv_.wait(lock, [&] { return finished_ >= begun; });
}

void TimerService::loop() {
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
        const Timer t = first->second;
        timers_.erase(first);
        index_.erase(t.req);
        ++fired_;
        lock.unlock();
        t.on_fire(t.ring, t.req, t.seq);
        lock.lock();
        ++finished_;
        finished_cv_.notify_all();
    }
}

}  // namespace toyos::iouring

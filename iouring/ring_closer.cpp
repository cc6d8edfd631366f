#include "iouring/ring_closer.h"

#include <pthread.h>

#include "iouring/ring.h"

namespace toyos::iouring {

namespace {
thread_local int t_deferrals = 0;
}

RingTeardownDeferral::RingTeardownDeferral() {
    ++t_deferrals;
}
RingTeardownDeferral::~RingTeardownDeferral() {
    --t_deferrals;
}
bool RingTeardownDeferral::active() {
    return t_deferrals > 0;
}

void RingCloser::close_later(std::shared_ptr<SyscallCompletionRing> ring) {
    std::unique_lock lock(mutex_);
    if (stopping_) {
        // The manager is going down (its rings were all closed before): no thread is started
        // that nobody would join. Torn down here, as it would be without the deferral.
        lock.unlock();
        ring->shutdown();
        return;
    }
    queue_.push_back(std::move(ring));
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    cv_.notify_one();
}

void RingCloser::stop() {
    std::thread thread;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        thread = std::move(thread_);
    }
    cv_.notify_one();
    if (thread.joinable()) thread.join();
}

uint64_t RingCloser::closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
}

void RingCloser::loop() {
    pthread_setname_np(pthread_self(), "toyos-closer");
    std::unique_lock lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and nothing left
        std::shared_ptr<SyscallCompletionRing> ring = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        ring->shutdown();
        ring.reset();
        lock.lock();
        ++closed_;
    }
}

}  // namespace toyos::iouring

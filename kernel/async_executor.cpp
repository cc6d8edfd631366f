#include "kernel/async_executor.h"

#include "kernel/process.h"

namespace toyos::kernel {
namespace {
thread_local bool t_on_worker = false;
}

void TicketState::complete(long result) {
    {
        std::lock_guard lock(mutex_);
        result_ = result;
        done_.store(true, std::memory_order_release);
    }
    cv_.notify_all();
}

Result<long> TicketState::wait(const Process* waiter) {
    std::unique_lock lock(mutex_);
    while (!done_.load(std::memory_order_acquire)) {
        if (waiter != nullptr && waiter->killed()) return err(EINTR);
        cv_.wait_for(lock, std::chrono::milliseconds(20));
    }
    return result_;
}

AsyncSyscallExecutor::AsyncSyscallExecutor(size_t workers, size_t queue_capacity)
    : general_(queue_capacity), short_(queue_capacity) {
    if (workers == 0) workers = std::max(2u, std::thread::hardware_concurrency());
    threads_.reserve(workers + 1);
    for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(general_); });
    threads_.emplace_back([this] { worker_loop(short_); });
}

AsyncSyscallExecutor::~AsyncSyscallExecutor() {
    stopping_.store(true, std::memory_order_release);
    general_.available.release(static_cast<std::ptrdiff_t>(threads_.size()));
    short_.available.release(1);
    for (auto& t : threads_) t.join();
}

bool AsyncSyscallExecutor::on_worker_thread() {
    return t_on_worker;
}

bool AsyncSyscallExecutor::post(AsyncWork* work, Lane lane) {
    if (stopping_.load(std::memory_order_acquire)) return false;
    LaneQueue& q = lane == Lane::Short ? short_ : general_;
    if (!q.queue.bounded_push(work)) return false;
    queued_.fetch_add(1, std::memory_order_relaxed);
    q.available.release();
    return true;
}

void AsyncSyscallExecutor::worker_loop(LaneQueue& lane) {
    t_on_worker = true;
    for (;;) {
        lane.available.acquire();
        AsyncWork* work = nullptr;
        if (lane.queue.pop(work)) {
            queued_.fetch_sub(1, std::memory_order_relaxed);
            work->run();
            completed_.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (stopping_.load(std::memory_order_acquire)) return;
    }
}

}  // namespace toyos::kernel

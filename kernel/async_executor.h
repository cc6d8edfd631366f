// AsyncSyscallExecutor: a bounded pool of kernel threads that runs work asynchronously.
//
// Two uses: any syscall handler can be run on it and waited for through a Ticket (the "async"
// route), and the io_uring subsystem posts operations to it that the host ring cannot run.
// Work items are posted through a Boost.Lockfree queue of fixed capacity: posting never
// allocates and fails with EAGAIN when the pool is saturated.
//
// Two lanes, as Linux's io-wq keeps bounded and unbounded work apart: the general lane (one
// worker per core) runs whatever may take long (file I/O of any size, syscall handlers); the
// short lane, with a worker of its own, runs only the short fd-table operations every ring
// needs (OPENAT, CLOSE, LSEEK), so they never queue behind another process's long calls.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <thread>
#include <vector>

#include <boost/lockfree/queue.hpp>

#include "kernel/result.h"

namespace toyos::kernel {

class Process;

// A unit of work. The poster owns it until run() is called; run() must not throw.
struct AsyncWork {
    virtual ~AsyncWork() = default;
    virtual void run() = 0;
};

// The shared state behind a Ticket.
class TicketState {
  public:
    void complete(long result);
    bool ready() const { return done_.load(std::memory_order_acquire); }
    long result() const { return result_; }
    // Waits for the result; if `waiter` is killed first, returns EINTR (the work still runs).
    Result<long> wait(const Process* waiter);

  private:
    std::atomic<bool> done_{false};
    long result_ = 0;
    std::mutex mutex_;
    std::condition_variable cv_;
};

// What submit_* hands back: wait on it or poll it.
class Ticket {
  public:
    Ticket() = default;
    explicit Ticket(std::shared_ptr<TicketState> s) : state_(std::move(s)) {}
    bool valid() const { return state_ != nullptr; }
    bool ready() const { return state_->ready(); }
    // The result once ready: >= 0 or -errno.
    std::optional<long> poll() const {
        if (!state_->ready()) return std::nullopt;
        return state_->result();
    }
    Result<long> wait(const Process* waiter = nullptr) const { return state_->wait(waiter); }

  private:
    std::shared_ptr<TicketState> state_;
};

class AsyncSyscallExecutor {
  public:
    enum class Lane { General, Short };

    // workers == 0 picks the number of host cores (at least 2).
    explicit AsyncSyscallExecutor(size_t workers = 0, size_t queue_capacity = 4096);
    ~AsyncSyscallExecutor();
    AsyncSyscallExecutor(const AsyncSyscallExecutor&) = delete;
    AsyncSyscallExecutor& operator=(const AsyncSyscallExecutor&) = delete;

    // Queues `work` on `lane`; false (EAGAIN for the caller) if its queue is full or the pool
    // is stopping.
    bool post(AsyncWork* work, Lane lane = Lane::General);
    // Runs `fn` on a worker and returns a ticket for its long result.
    template <class Fn>
    Result<Ticket> submit(Fn fn);

    size_t workers() const { return threads_.size() - 1; }  // the general lane's
    uint64_t completed() const { return completed_.load(std::memory_order_relaxed); }
    size_t queued() const { return queued_.load(std::memory_order_relaxed); }
    // True on one of this pool's threads (used to avoid waiting on ourselves).
    static bool on_worker_thread();

  private:
    struct LaneQueue {
        explicit LaneQueue(size_t capacity) : queue(capacity) {}
        boost::lockfree::queue<AsyncWork*> queue;
        std::counting_semaphore<> available{0};
    };
    void worker_loop(LaneQueue& lane);

    LaneQueue general_;
    LaneQueue short_;
    std::atomic<bool> stopping_{false};
    std::atomic<size_t> queued_{0};
    std::atomic<uint64_t> completed_{0};
    std::vector<std::thread> threads_;
};

template <class Fn>
Result<Ticket> AsyncSyscallExecutor::submit(Fn fn) {
    struct FnWork final : AsyncWork {
        FnWork(Fn f, std::shared_ptr<TicketState> s) : fn(std::move(f)), state(std::move(s)) {}
        void run() override {
            state->complete(fn());
            delete this;
        }
        Fn fn;
        std::shared_ptr<TicketState> state;
    };
    auto state = std::make_shared<TicketState>();
    auto* work = new FnWork(std::move(fn), state);
    if (!post(work)) {
        delete work;
        return err(EAGAIN);
    }
    return Ticket(std::move(state));
}

}  // namespace toyos::kernel

#include "iouring/thread_executor.h"

#include <cerrno>
#include <thread>

#include "iouring/op_runner.h"
#include "iouring/request.h"
#include "iouring/ring.h"

namespace toyos::iouring {

ThreadExecutor::ThreadExecutor(kernel::AsyncSyscallExecutor& pool)
    : pool_(pool), reactor_([this](Request* r) { requeue(r); }) {}

void ThreadExecutor::issue(Request* req) {
    req->may_park.store(wait_events(*req) != 0, std::memory_order_relaxed);
    req->executor = this;
    req->exec_state.store(ExecState::Queued, std::memory_order_release);
    requeue(req);
}

void ThreadExecutor::requeue(Request* req) {
    req->exec_state.store(ExecState::Queued, std::memory_order_release);
    // The pool's queue is bounded; when it is full, wait for room rather than lose the
    // request (the workers are draining it).
    while (!pool_.post(req)) std::this_thread::yield();
}

// Completes a request that a cancel caught before it finished.
void ThreadExecutor::finish_cancelled(Request* req) {
    req->cancel_honoured.store(true, std::memory_order_relaxed);
    req->exec_state.store(ExecState::Done, std::memory_order_release);
    req->ring->complete(req, -ECANCELED);
}

void ThreadExecutor::execute(Request* req) {
    if (req->cancel_requested.load(std::memory_order_acquire)) {
        finish_cancelled(req);
        return;
    }
    req->exec_state.store(ExecState::Running, std::memory_order_release);
    const int64_t res = run_operation(*req);
    operations_.fetch_add(1, std::memory_order_relaxed);
    if (res == -EAGAIN) {
        if (const uint32_t events = wait_events(*req)) {
            // Park it; a cancel that came while it ran is honoured here.
            req->exec_state.store(ExecState::Armed, std::memory_order_release);
            reactor_.arm(req, req->host_fd, events);
            if (req->cancel_requested.load(std::memory_order_acquire) && reactor_.remove(req))
                finish_cancelled(req);
            return;
        }
    }
    req->exec_state.store(ExecState::Done, std::memory_order_release);
    req->ring->complete(req, static_cast<int32_t>(res), req->cqe_flags);
}

// Called by the ring's submitter (under its submit lock) or its shutdown (no submissions any
// more): either way `req`, a pooled request of that ring, is not reused meanwhile, even if it
// completes.
int ThreadExecutor::cancel(Request* req) {
    req->cancel_requested.store(true, std::memory_order_release);
    switch (req->exec_state.load(std::memory_order_acquire)) {
        case ExecState::Armed:
            if (reactor_.remove(req)) finish_cancelled(req);
            return 0;  // else just woken: the retry sees cancel_requested
        case ExecState::Queued:
            return 0;  // the worker sees cancel_requested before running it
        case ExecState::Running:
            // A socket operation's attempt never blocks: it is about to park (then the cancel
            // takes it, as Linux's would, whose attempt runs inline at submit) or to finish.
            // Anything else may block on the worker, like Linux's io-wq work: -EALREADY.
            // Only atomics are read here: the request may complete (and be reset) meanwhile.
            if (!req->may_park.load(std::memory_order_relaxed)) return -EALREADY;
            while (req->exec_state.load(std::memory_order_acquire) == ExecState::Running)
                std::this_thread::yield();
            return cancel(req);
        case ExecState::Done:
            return req->cancel_honoured.load(std::memory_order_acquire) ? 0 : -EALREADY;
    }
    return -ENOENT;
}

}  // namespace toyos::iouring

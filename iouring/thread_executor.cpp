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
    req->executor.store(this, std::memory_order_release);
    req->exec_state.store(ExecState::Queued, std::memory_order_release);
    // A socket operation that would wait parks in the PollReactor, never on a worker: as
    // Linux does, make its first (non-blocking) attempt right here, so that by the time the
    // submit returns it has completed or is parked, and a cancel then always finds it parked
    // (0), never running (-EALREADY). IOSQE_ASYNC asks for a worker, as on Linux.
    if (wait_events(*req) != 0 && !(req->sqe_flags & IOSQE_ASYNC)) {
        execute(req);
        return;
    }
    requeue(req);
}

void ThreadExecutor::requeue(Request* req) {
    req->exec_state.store(ExecState::Queued, std::memory_order_seq_cst);  // see execute()
    // The fd-table operations every ring needs take the short lane, never queued behind
    // another process's long I/O.
    const bool short_op = req->opcode == IORING_OP_OPENAT || req->opcode == IORING_OP_CLOSE ||
                          req->opcode == IORING_OP_TOYOS_LSEEK;
    const auto lane = short_op ? kernel::AsyncSyscallExecutor::Lane::Short
                               : kernel::AsyncSyscallExecutor::Lane::General;
    // The pool's queue is bounded; when it is full, wait for room rather than lose the
    // request (the workers are draining it).
    while (!pool_.post(req, lane)) std::this_thread::yield();
}

// Completes a request that a cancel caught before it finished.
void ThreadExecutor::finish_cancelled(Request* req) {
    req->exec_state.store(ExecState::Done, std::memory_order_release);
    req->ring->complete(req, -ECANCELED);
}

void ThreadExecutor::execute(Request* req) {
    // The cancel mark and exec_state are read and written seq_cst (also in requeue(), arm()
    // and cancel()): a cancel that marks a request while it is queued, run or parked must
    // either see the state it leads to or be seen by the next check. With release/acquire
    // both sides could read the old values (store buffering) and the cancel would be lost.
    if (req->cancel_requested.load(std::memory_order_seq_cst)) {
        finish_cancelled(req);
        return;
    }
    req->exec_state.store(ExecState::Running, std::memory_order_release);
    const int64_t res = run_operation(*req);
    operations_.fetch_add(1, std::memory_order_relaxed);
    if (res == -EAGAIN) {
        if (const uint32_t events = wait_events(*req)) {
            // Park it, unless a cancel came while it ran. Once parked it is the reactor's: it
            // may be ready, run, complete and be reused before arm() returns, so nothing here
            // reads it after.
            req->exec_state.store(ExecState::Armed, std::memory_order_seq_cst);
            if (!reactor_.arm(req, req->host_fd, events)) finish_cancelled(req);
            return;
        }
    }
    req->exec_state.store(ExecState::Done, std::memory_order_release);
    req->ring->complete(req, static_cast<int32_t>(res), req->cqe_flags);
}

int ThreadExecutor::cancel(Request* req) {
    // seq_cst: see execute().
    req->cancel_requested.store(true, std::memory_order_seq_cst);
    switch (req->exec_state.load(std::memory_order_seq_cst)) {
        case ExecState::Armed:
            if (reactor_.remove(req)) finish_cancelled(req);
            return 0;  // else just woken: the retry sees cancel_requested
        case ExecState::Queued:
            return 0;  // the worker sees cancel_requested before running it
        case ExecState::Running:
        case ExecState::Done:
            return -EALREADY;
    }
    return -ENOENT;
}

}  // namespace toyos::iouring

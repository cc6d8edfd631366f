#include "iouring/thread_executor.h"

#include <cerrno>
#include <thread>

#include "iouring/ops/op_def.h"
#include "iouring/request.h"
#include "iouring/ring.h"
#include "kernel/file.h"

namespace toyos::iouring {
namespace {

// The poll events a request waits for when its attempt would block (0: it never waits): a
// stream the toy process did not make O_NONBLOCK, an operation that may wait, not asked not
// to (RWF_NOWAIT, MSG_DONTWAIT); a POLL_ADD, the events it asked for.
uint32_t wait_events(const Request& req) {
    const OpDef& def = op_def(req.opcode);
    if (def.waits_for_request_events) return req.op_flags;
    if (req.file == nullptr || !req.file->may_block() || req.file->nonblocking()) return 0;
    return (req.op_flags & def.nowait_flag) ? 0 : def.poll_events;
}

}  // namespace

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
    const auto lane = op_def(req->opcode).short_lane ? kernel::AsyncSyscallExecutor::Lane::Short
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
    // One attempt with host syscalls; a stream that would block waits in the reactor.
    const OpDef& def = op_def(req->opcode);
    int64_t res = def.run(*req);
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
    if (res >= 0 && def.finish != nullptr) res = def.finish(*req, static_cast<int32_t>(res));
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

#include "iouring/request.h"

#include "iouring/ops/op_def.h"
#include "iouring/ring_closer.h"
#include "iouring/thread_executor.h"

namespace toyos::iouring {

void Request::run() {
    const RingTeardownDeferral deferral;  // a worker, inside work on a ring
    // Only the thread executor posts requests to the AsyncSyscallExecutor.
    static_cast<ThreadExecutor*>(executor.load(std::memory_order_acquire))->execute(this);
}

size_t Request::expected_bytes() const {
    if (full_bytes != 0) return full_bytes;
    if (op_def(opcode).vectored) {
        size_t n = 0;
        for (uint32_t i = 0; i < iovcnt; ++i) n += iov[i].iov_len;
        return n;
    }
    return len;
}

void Request::reset() {
    ring = nullptr;
    executor.store(nullptr, std::memory_order_relaxed);
    seq = user_data = 0;
    opcode = sqe_flags = 0;
    sqe_fd = -1;
    file.reset();
    host_fd = -1;
    addr = nullptr;
    len = 0;
    off = 0;
    op_flags = 0;
    addr2 = 0;
    buf_index = 0;
    heap_iov.clear();
    iov = nullptr;
    iovcnt = 0;
    msg = msghdr{};
    user_msghdr = 0;
    sockaddr_len = 0;
    user_sockaddr = user_addrlen = 0;
    path.clear();
    pins.clear();  // keeps capacity: no allocation in steady state
    connect_started = false;
    timeout_ns = 0;
    timeout_count = timeout_target = cancel_key = 0;
    cmd_op = 0;
    big_cqe[0] = big_cqe[1] = 0;
    fault = FaultAction{};
    full_bytes = 0;
    cqe_flags = 0;
    prep_error = 0;
    issue_error = 0;
    skip_cqe = false;
    link_next = link_timeout = lt_target = nullptr;
    issued = timer_armed = in_chain_wait = drain_deferred = batch_issue = false;
    cancel_pins = 0;
    recycle_when_unpinned = false;
    freed = true;
    active_prev = active_next = issue_next = exec_next = nullptr;
    // index_* and issued_* are null already: taking a request out of the index clears them.
    submit_ns = 0;
    exec_state.store(ExecState::Queued, std::memory_order_relaxed);
    cancel_requested.store(false, std::memory_order_relaxed);
    claimed.store(false, std::memory_order_relaxed);
}

}  // namespace toyos::iouring

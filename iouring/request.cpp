#include "iouring/request.h"

#include "iouring/ring_closer.h"

#include "iouring/thread_executor.h"

namespace toyos::iouring {

void Request::run() {
    const RingTeardownDeferral deferral;  // a worker, inside work on a ring
    // Only the thread executor posts requests to the AsyncSyscallExecutor.
    static_cast<ThreadExecutor*>(executor.load(std::memory_order_acquire))->execute(this);
}

bool is_read_write(uint8_t opcode) {
    switch (opcode) {
        case IORING_OP_READ:
        case IORING_OP_WRITE:
        case IORING_OP_READV:
        case IORING_OP_WRITEV:
        case IORING_OP_READ_FIXED:
        case IORING_OP_WRITE_FIXED:
            return true;
        default:
            return false;
    }
}

size_t Request::expected_bytes() const {
    if (full_bytes != 0) return full_bytes;
    if (opcode == IORING_OP_READV || opcode == IORING_OP_WRITEV) {
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

const char* opcode_name(uint8_t opcode) {
    switch (opcode) {
        case IORING_OP_NOP:
            return "NOP";
        case IORING_OP_READV:
            return "READV";
        case IORING_OP_WRITEV:
            return "WRITEV";
        case IORING_OP_FSYNC:
            return "FSYNC";
        case IORING_OP_READ_FIXED:
            return "READ_FIXED";
        case IORING_OP_WRITE_FIXED:
            return "WRITE_FIXED";
        case IORING_OP_SENDMSG:
            return "SENDMSG";
        case IORING_OP_RECVMSG:
            return "RECVMSG";
        case IORING_OP_TIMEOUT:
            return "TIMEOUT";
        case IORING_OP_ACCEPT:
            return "ACCEPT";
        case IORING_OP_ASYNC_CANCEL:
            return "ASYNC_CANCEL";
        case IORING_OP_LINK_TIMEOUT:
            return "LINK_TIMEOUT";
        case IORING_OP_CONNECT:
            return "CONNECT";
        case IORING_OP_OPENAT:
            return "OPENAT";
        case IORING_OP_CLOSE:
            return "CLOSE";
        case IORING_OP_READ:
            return "READ";
        case IORING_OP_WRITE:
            return "WRITE";
        case IORING_OP_SEND:
            return "SEND";
        case IORING_OP_RECV:
            return "RECV";
        case IORING_OP_URING_CMD:
            return "URING_CMD";
        case IORING_OP_TOYOS_LSEEK:
            return "LSEEK";
        default:
            return nullptr;
    }
}

}  // namespace toyos::iouring

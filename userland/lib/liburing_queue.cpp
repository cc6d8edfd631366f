// toyos liburing: submitting and reaping.
#include "toyos/liburing.h"

namespace toyos {
namespace {

// Publishes the prepared SQEs: one release store of the tail. Returns how many are pending.
unsigned flush_sq(io_uring* ring) {
    io_uring_sq* sq = &ring->sq;
    if (sq->sqe_head != sq->sqe_tail) {
        sq->sqe_head = sq->sqe_tail;
        io_uring_store_release(sq->ktail, sq->sqe_tail);
    }
    return sq->sqe_tail - io_uring_load_acquire(sq->khead);
}

int submit(io_uring* ring, unsigned wait_nr) {
    const unsigned submitted = flush_sq(ring);
    unsigned flags = 0;
    if (ring->flags & IORING_SETUP_SQPOLL) {
        // The kernel's poller consumes the SQ: enter only to wake it or to wait. The fence
        // orders our tail store before reading its flag (the poller does the reverse).
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (io_uring_load_acquire(ring->sq.kflags) & IORING_SQ_NEED_WAKEUP)
            flags |= IORING_ENTER_SQ_WAKEUP;
        if (wait_nr > 0 || io_uring_cq_has_overflow(ring)) flags |= IORING_ENTER_GETEVENTS;
        if (flags == 0) return static_cast<int>(submitted);
        const int r = sys::io_uring_enter(ring->ring_fd, submitted, wait_nr, flags, nullptr, 0);
        return r < 0 ? r : static_cast<int>(submitted);
    }
    if (wait_nr > 0 || io_uring_cq_has_overflow(ring)) flags |= IORING_ENTER_GETEVENTS;
    if (submitted == 0 && flags == 0) return 0;
    return sys::io_uring_enter(ring->ring_fd, submitted, wait_nr, flags, nullptr, 0);
}

// A CQE if one is ready (after flushing an overflow backlog into the CQ if there is one).
int peek(io_uring* ring, io_uring_cqe** cqe_ptr) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        const unsigned head = *ring->cq.khead;
        const unsigned tail = io_uring_load_acquire(ring->cq.ktail);
        if (head != tail) {
            *cqe_ptr = &ring->cq.cqes[(head & ring->cq.ring_mask) << io_uring_cqe_shift(ring)];
            return 0;
        }
        if (!io_uring_cq_has_overflow(ring)) break;
        const int r = sys::io_uring_enter(ring->ring_fd, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
        if (r < 0) return r;
    }
    *cqe_ptr = nullptr;
    return -EAGAIN;
}

}  // namespace

int io_uring_submit(io_uring* ring) {
    return submit(ring, 0);
}

int io_uring_submit_and_wait(io_uring* ring, unsigned wait_nr) {
    return submit(ring, wait_nr);
}

int io_uring_peek_cqe(io_uring* ring, io_uring_cqe** cqe_ptr) {
    return peek(ring, cqe_ptr);
}

int io_uring_wait_cqe_nr(io_uring* ring, io_uring_cqe** cqe_ptr, unsigned wait_nr) {
    for (;;) {
        if (wait_nr <= 1 || io_uring_cq_ready(ring) >= wait_nr) {
            const int r = peek(ring, cqe_ptr);
            if (r == 0 || r != -EAGAIN) return r;
        }
        const int r = sys::io_uring_enter(ring->ring_fd, 0, wait_nr ? wait_nr : 1,
                                          IORING_ENTER_GETEVENTS, nullptr, 0);
        if (r < 0) return r;
    }
}

int io_uring_wait_cqe_timeout(io_uring* ring, io_uring_cqe** cqe_ptr, __kernel_timespec* ts) {
    if (peek(ring, cqe_ptr) == 0) return 0;
    io_uring_getevents_arg arg{};
    arg.ts = reinterpret_cast<uint64_t>(ts);
    const unsigned pending = flush_sq(ring);
    const int r =
        sys::io_uring_enter(ring->ring_fd, pending, 1,
                            IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
    if (r < 0) return r;
    const int p = peek(ring, cqe_ptr);
    return p == -EAGAIN ? -ETIME : p;
}

unsigned io_uring_peek_batch_cqe(io_uring* ring, io_uring_cqe** cqes, unsigned count) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        const unsigned head = *ring->cq.khead;
        const unsigned ready = io_uring_load_acquire(ring->cq.ktail) - head;
        if (ready > 0) {
            const unsigned n = ready < count ? ready : count;
            for (unsigned i = 0; i < n; ++i)
                cqes[i] =
                    &ring->cq.cqes[((head + i) & ring->cq.ring_mask) << io_uring_cqe_shift(ring)];
            return n;
        }
        if (!io_uring_cq_has_overflow(ring)) break;
        sys::io_uring_enter(ring->ring_fd, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0);
    }
    return 0;
}

}  // namespace toyos

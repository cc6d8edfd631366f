// fuzz_enter: the submission path fed hostile shared memory. An input sets up a ring (sizes
// and flags from the input), then plays a few rounds of: write SQEs (raw bytes, sometimes
// nudged towards valid fds, buffers and opcodes so the fuzzer reaches deep), scribble on the
// SQ array, tail, flags and CQ head as a hostile process may, and call io_uring_enter with
// input-chosen arguments. Then it reaps and closes the ring, which must cancel whatever is
// still in flight. The kernel must answer with errnos and CQEs, never crash, hang or leak.
#include <linux/time_types.h>

#include <cstring>

#include "harness.h"
#include "toyos/liburing.h"

using namespace toyos;
using toyos::fuzz::FuzzInput;
using toyos::fuzz::FuzzProcess;

namespace {

constexpr uint8_t kOps[] = {IORING_OP_NOP,     IORING_OP_READV,        IORING_OP_WRITEV,
                            IORING_OP_FSYNC,   IORING_OP_READ_FIXED,   IORING_OP_WRITE_FIXED,
                            IORING_OP_SENDMSG, IORING_OP_RECVMSG,      IORING_OP_TIMEOUT,
                            IORING_OP_ACCEPT,  IORING_OP_ASYNC_CANCEL, IORING_OP_LINK_TIMEOUT,
                            IORING_OP_CONNECT, IORING_OP_OPENAT,       IORING_OP_CLOSE,
                            IORING_OP_READ,    IORING_OP_WRITE,        IORING_OP_SEND,
                            IORING_OP_RECV,    IORING_OP_URING_CMD,    IORING_OP_TOYOS_LSEEK};

// Fills SQE `sqe` (of `size` bytes) from the input, then maybe nudges fields towards values
// the kernel accepts.
void write_sqe(FuzzProcess& fp, FuzzInput& in, io_uring_sqe* sqe, size_t size) {
    in.take(sqe, size);
    const uint8_t nudge = in.u8();
    if (nudge & 0x01) sqe->fd = fp.fixture(in.u8());
    if (nudge & 0x02) sqe->addr = fp.pick_addr(in);
    if (nudge & 0x04) sqe->len %= 8192;
    if (nudge & 0x08) sqe->opcode = kOps[sqe->opcode % sizeof kOps];
    if (nudge & 0x10) sqe->flags &= 0x7f;  // the IOSQE_* bits Linux knows
    if (nudge & 0x20) sqe->off %= 1u << 20;
    if (nudge & 0x40) sqe->buf_index %= 4;
    if (nudge & 0x80) {  // a timeout or an iovec array of the process's own memory
        auto* ts = reinterpret_cast<__kernel_timespec*>(fp.scratch() + 8192);
        ts->tv_sec = 0;
        ts->tv_nsec = 1000 * (in.u8() % 50);
        sqe->addr = reinterpret_cast<uint64_t>(ts);
    }
}

void play(FuzzProcess& fp, FuzzInput& in) {
    auto* p = reinterpret_cast<io_uring_params*>(fp.private_area());
    std::memset(p, 0, sizeof *p);
    unsigned entries = 1u + in.u8() % 16;
    const uint8_t setup = in.u8();
    if (setup & 0x01) {
        p->flags |= IORING_SETUP_CQSIZE;
        p->cq_entries = in.u8();
    }
    if (setup & 0x02) p->flags |= IORING_SETUP_CLAMP;
    if ((setup & 0x44) == 0x44) {  // 1 in 4: an SQPOLL ring costs a poller round trip
        p->flags |= IORING_SETUP_SQPOLL;
        p->sq_thread_idle = 1;
    }
    if (setup & 0x08) p->flags |= IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
    if (setup & 0x10) p->flags |= in.u32();  // mostly -EINVAL
    // 0, huge, ...; not for SQPOLL: its poller would spend most of the run consuming the
    // garbage a hostile tail exposes in a 32768-entry SQ (65536 NOPs per CQ it fills).
    if ((setup & 0x20) && !(p->flags & IORING_SETUP_SQPOLL)) entries = in.u32();
    io_uring ring;
    if (io_uring_queue_init_params(entries, &ring, p) < 0) return;

    const size_t sqe_size = (p->flags & IORING_SETUP_SQE128) ? 128 : 64;
    const unsigned sq_entries = ring.sq.ring_entries;
    const unsigned rounds = 1 + in.u8() % 4;
    for (unsigned r = 0; r < rounds && !in.empty(); ++r) {
        const uint32_t tail = __atomic_load_n(ring.sq.ktail, __ATOMIC_RELAXED);
        const unsigned n = in.u8() % (sq_entries + 2);
        for (unsigned i = 0; i < n; ++i) {
            auto* base = reinterpret_cast<unsigned char*>(ring.sq.sqes);
            auto* sqe =
                reinterpret_cast<io_uring_sqe*>(base + ((tail + i) & ring.sq.ring_mask) * sqe_size);
            write_sqe(fp, in, sqe, sqe_size);
        }
        const uint8_t hostile = in.u8();
        if (hostile & 0x01) ring.sq.array[in.u8() % sq_entries] = in.u32();
        uint32_t new_tail = tail + n;
        if (hostile & 0x02) new_tail = in.u32();
        if (hostile & 0x04) __atomic_store_n(ring.sq.kflags, in.u32(), __ATOMIC_RELAXED);
        if (hostile & 0x08) __atomic_store_n(ring.cq.khead, in.u32(), __ATOMIC_RELAXED);
        if (hostile & 0x10) __atomic_store_n(ring.sq.khead, in.u32(), __ATOMIC_RELAXED);
        __atomic_store_n(ring.sq.ktail, new_tail, __ATOMIC_RELEASE);

        // Any enter flags but IORING_ENTER_SQ_WAIT: it waits for the SQ poller to make room,
        // which a hostile SQ (head and tail scribbled on) may never get; as on Linux only a
        // kill ends that wait, so it would only stall the fuzzer.
        uint32_t flags = (hostile & 0x20) ? in.u32() & ~IORING_ENTER_SQ_WAIT : 0;
        const uint32_t to_submit = (hostile & 0x40) ? in.u32() : n;
        uint32_t min_complete = 0;
        auto* arg = reinterpret_cast<io_uring_getevents_arg*>(fp.private_area() + 512);
        auto* ts = reinterpret_cast<__kernel_timespec*>(fp.private_area() + 640);
        if (hostile & 0x80) {
            // Waiting is bounded: GETEVENTS always comes with a 100 us timeout.
            flags |= IORING_ENTER_GETEVENTS;
            min_complete = in.u8() % 8;
        }
        if (flags & IORING_ENTER_GETEVENTS) {
            flags |= IORING_ENTER_EXT_ARG;
            *ts = __kernel_timespec{0, 100'000};
            *arg = io_uring_getevents_arg{0, 0, 0, reinterpret_cast<uint64_t>(ts)};
        }
        if (flags & IORING_ENTER_EXT_ARG) {
            if (!(flags & IORING_ENTER_GETEVENTS)) min_complete = 0;
            *ts = __kernel_timespec{0, 100'000};
            *arg = io_uring_getevents_arg{0, 0, 0, reinterpret_cast<uint64_t>(ts)};
            sys::io_uring_enter(ring.ring_fd, to_submit, min_complete, flags, arg, sizeof *arg);
        } else {
            sys::io_uring_enter(ring.ring_fd, to_submit, 0, flags, nullptr, 0);
        }
        // Reap whatever is there, then leave the CQ as a well-behaved process would.
        const uint32_t cq_tail = __atomic_load_n(ring.cq.ktail, __ATOMIC_ACQUIRE);
        __atomic_store_n(ring.cq.khead, cq_tail, __ATOMIC_RELEASE);
    }
    io_uring_queue_exit(&ring);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzProcess& fp = FuzzProcess::get();
    FuzzInput in(data, size);
    fp.begin_input(in);
    play(fp, in);
    fp.end_input();
    return 0;
}

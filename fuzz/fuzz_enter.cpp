// fuzz_enter: the submission path fed hostile shared memory. An input sets up a ring (sizes
// and flags from the input), then plays a few rounds of: write SQEs (raw bytes, sometimes
// nudged towards valid fds, buffers and opcodes so the fuzzer reaches deep), scribble on the
// SQ array, tail, flags and CQ head as a hostile process may, and call io_uring_enter with
// input-chosen arguments; or, on a ring set up for it, generate a link chain as long as the
// SQ (write_chain: long chains, cancel storms). Then it reaps and closes the ring, which must
// cancel whatever is still in flight. The kernel must answer with errnos and CQEs, never
// crash, hang or leak.
#include <linux/time_types.h>

#include <cstring>

#include "harness.h"
#include "iouring/ops/op_def.h"
#include "toyos/liburing.h"

using namespace toyos;
using toyos::fuzz::FuzzInput;
using toyos::fuzz::FuzzProcess;

namespace {

// The opcodes toyos implements, from its table of operations (every row is fuzzed as it lands).
struct Opcodes {
    uint8_t op[256];
    unsigned count = 0;
    Opcodes() {
        for (unsigned o = 0; o < 256; ++o)
            if (iouring::op_def(static_cast<uint8_t>(o)).prep != nullptr)
                op[count++] = static_cast<uint8_t>(o);
    }
};
const Opcodes kOps;

// Fills SQE `sqe` (of `size` bytes) from the input, then maybe nudges fields towards values
// the kernel accepts.
void write_sqe(FuzzProcess& fp, FuzzInput& in, io_uring_sqe* sqe, size_t size) {
    in.take(sqe, size);
    const uint8_t nudge = in.u8();
    if (nudge & 0x01) sqe->fd = fp.fixture(in.u8());
    if (nudge & 0x02) sqe->addr = fp.pick_addr(in);
    if (nudge & 0x04) sqe->len %= 8192;
    if (nudge & 0x08) sqe->opcode = kOps.op[sqe->opcode % kOps.count];
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

// A generated round: one link chain of up to a whole SQ, built from a few input bytes (the
// raw rounds above almost never chain more than a handful of SQEs). Its head is a NOP, a
// TIMEOUT (the timer thread lets the chain go), a READ of the file (an executor's thread) or a
// READ of the eventfd that never completes (the ring's close must cancel the chain); its body
// NOPs, ASYNC_CANCELs (a cancel storm: by the head's user_data, the next SQE's, a key nothing
// has, with CANCEL_ALL, ANY or FD) or file READs, linked or hard-linked, some with
// IOSQE_CQE_SKIP_SUCCESS or IOSQE_ASYNC; every user_data may be the same (one index bucket).
// Returns how many SQEs it wrote.
unsigned write_chain(FuzzProcess& fp, FuzzInput& in, io_uring& ring, size_t sqe_size) {
    const unsigned count = 1 + in.u16() % ring.sq.ring_entries;
    const uint8_t head_kind = in.u8();
    const uint8_t body_kind = in.u8();
    const uint8_t link = in.u8();
    const uint8_t cancel = in.u8();
    const bool same_user_data = link & 0x40;
    auto* ts = reinterpret_cast<__kernel_timespec*>(fp.scratch() + 8192);
    *ts = __kernel_timespec{0, 1000 * (in.u8() % 200)};
    const uint32_t tail = __atomic_load_n(ring.sq.ktail, __ATOMIC_RELAXED);
    auto* base = reinterpret_cast<unsigned char*>(ring.sq.sqes);
    for (unsigned i = 0; i < count; ++i) {
        auto* sqe =
            reinterpret_cast<io_uring_sqe*>(base + ((tail + i) & ring.sq.ring_mask) * sqe_size);
        std::memset(sqe, 0, sqe_size);
        const uint8_t kind = i == 0 ? head_kind % 4 : 4 + (body_kind + (body_kind >> 4) * i) % 3;
        switch (kind) {
            case 0:
            case 4:
                io_uring_prep_nop(sqe);
                break;
            case 1:
                io_uring_prep_timeout(sqe, ts, 0, 0);
                break;
            case 2:
            case 6:
                io_uring_prep_read(sqe, fp.fixture(fuzz::kFile), fp.scratch() + 4096, 64, 0);
                break;
            case 3:
                io_uring_prep_read(sqe, fp.fixture(fuzz::kEventfd), fp.scratch() + 4096, 8, 0);
                break;
            case 5: {
                const uint64_t key = (cancel & 0x03) == 0   ? 0
                                     : (cancel & 0x03) == 1 ? i + 1
                                     : (cancel & 0x03) == 2 ? i - 1
                                                            : 0xdead0000u + i;
                io_uring_prep_cancel64(sqe, same_user_data ? 7 : key, 0);
                static constexpr uint32_t kFlags[] = {
                    0,
                    0,
                    IORING_ASYNC_CANCEL_ALL,
                    IORING_ASYNC_CANCEL_ANY,
                    IORING_ASYNC_CANCEL_FD,
                    IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL};
                sqe->cancel_flags = kFlags[(cancel >> 2) % 6];
                if (sqe->cancel_flags & IORING_ASYNC_CANCEL_FD)
                    sqe->fd = fp.fixture(fuzz::kEventfd);
                break;
            }
        }
        sqe->user_data = same_user_data ? 7 : i;
        if (i + 1 < count) sqe->flags |= (link & 0x01) ? IOSQE_IO_HARDLINK : IOSQE_IO_LINK;
        if ((link & 0x02) && i % (1 + (link >> 4) % 4) == 0) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        if ((link & 0x04) && i % 2 == 1) sqe->flags |= IOSQE_ASYNC;
        if ((link & 0x08) && i == 0) sqe->flags |= IOSQE_IO_DRAIN;
    }
    return count;
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
    // Long chains: a ring of 64 to 1024 entries (the harness's limit on operations in flight)
    // whose rounds may be generated chains.
    const bool chains = setup & 0x80;
    if (chains) entries = 64u << (in.u8() % 5);
    io_uring ring;
    if (io_uring_queue_init_params(entries, &ring, p) < 0) return;

    const size_t sqe_size = (p->flags & IORING_SETUP_SQE128) ? 128 : 64;
    const unsigned sq_entries = ring.sq.ring_entries;
    const unsigned rounds = 1 + in.u8() % 4;
    for (unsigned r = 0; r < rounds && !in.empty(); ++r) {
        const uint32_t tail = __atomic_load_n(ring.sq.ktail, __ATOMIC_RELAXED);
        const bool chain_round = chains && (in.u8() & 0x01);
        const unsigned n =
            chain_round ? write_chain(fp, in, ring, sqe_size) : in.u8() % (sq_entries + 2);
        for (unsigned i = 0; i < n && !chain_round; ++i) {
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

// pump(): runs a numbered list of operations on a ring with a bounded number in flight, each
// on a buffer slot of its own, and checks every completion as it arrives.
#pragma once

#include "devtest.h"
#include "toyos/io.h"

namespace toyos::devtest {

constexpr unsigned kMaxDepth = 64;

// prep(i, slot, sqe) prepares operation i with the memory `slot`; check(i, slot, cqe) returns
// a PASS (carry on) or a FAIL (stop). With `spin`, completions are reaped by looking at the
// CQ only, never entering the kernel (the toy SQPOLL thread submits); an op that takes more
// than 10 s then fails the run rather than hanging it.
template <class Prep, class Check>
Verdict pump(io_uring* ring, unsigned count, unsigned depth, DmaBuffer& mem, size_t slot_bytes,
             Prep prep, Check check, bool spin = false) {
    if (depth > kMaxDepth || depth * slot_bytes > mem.bytes) return fail("pump: bad depth");
    unsigned free_slots[kMaxDepth];
    unsigned nfree = depth;
    for (unsigned s = 0; s < depth; ++s) free_slots[s] = depth - 1 - s;
    unsigned next = 0, done = 0;
    while (done < count) {
        bool prepared = false;
        while (next < count && nfree > 0) {
            io_uring_sqe* sqe = io_uring_get_sqe(ring);
            if (sqe == nullptr) break;
            const unsigned slot = free_slots[--nfree];
            prep(next, mem.data + slot * slot_bytes, sqe);
            sqe->user_data = (static_cast<uint64_t>(slot) << 32) | next;
            ++next;
            prepared = true;
        }
        if (prepared) {
            const int r = io_uring_submit(ring);
            if (r < 0) return fail("io_uring_submit: %s", io::error_text(r));
        }
        io_uring_cqe* cqe = nullptr;
        if (spin) {
            // 10 s in steps of 20 us, looking at the CQ only.
            for (unsigned tries = 0; io_uring_peek_cqe(ring, &cqe) != 0; ++tries) {
                if (tries == 500000) return fail("no completion in 10 s without entering");
                sys::sleep_ns(20000);
            }
        } else if (const int r = wait_one(ring, &cqe); r < 0) {
            return fail("waiting for a completion: %s", io::error_text(r));
        }
        const unsigned slot = static_cast<unsigned>(cqe->user_data >> 32);
        const unsigned i = static_cast<unsigned>(cqe->user_data & 0xffffffffu);
        if (slot >= depth || i >= next) return fail("CQE with a foreign user_data");
        const Verdict v = check(i, mem.data + slot * slot_bytes, *cqe);
        io_uring_cqe_seen(ring, cqe);
        if (v.status != Verdict::Pass) return v;
        free_slots[nfree++] = slot;
        ++done;
    }
    return pass("%u ops", count);
}

}  // namespace toyos::devtest

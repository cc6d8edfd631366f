// Helpers every scenario uses: take an SQE, tag it, submit, reap CQEs into an Outcome.
// Templates over the backend B (host_backend.cpp / toy_backend.cpp), which provides
//   B::Ring ring;                       an initialised ring (16 SQ entries)
//   static B::io_uring_*                the liburing functions of liburing_api.h
//   dir_fd(), create_file(), open_file(), file_content(), tcp_socket(), tcp_listener(),
//   tcp_pair(), bound_socket(), connect(), send(), close()    plain syscalls of that side
// Every buffer handed to a kernel is a local of the scenario: on toyos that is the toy
// process's own stack, which is user memory.
#pragma once

#include <linux/time_types.h>

#include <algorithm>
#include <initializer_list>
#include <string>

#include "outcome.h"

namespace toyos::diff {

// A fd number no scenario opens, on either side.
constexpr int kBadFd = 999;
// An address no process has on either side: below Linux's mmap_min_addr, in no toyos region.
inline void* unmapped_address() {
    return reinterpret_cast<void*>(uintptr_t{0x1000});
}
// A CQE wait that takes this long means a completion was lost.
constexpr long long kWaitSeconds = 10;

template <class B>
io_uring_sqe* next_sqe(B& b, Outcome& o) {
    io_uring_sqe* sqe = B::io_uring_get_sqe(&b.ring);
    if (sqe == nullptr) {
        o.failures.push_back("the SQ is full");
        static io_uring_sqe scratch;  // written, never submitted
        sqe = &scratch;
    }
    return sqe;
}

// Call after the prep helper (which clears flags).
inline void tag(io_uring_sqe* sqe, uint64_t user_data, unsigned flags = 0) {
    sqe->user_data = user_data;
    sqe->flags |= static_cast<uint8_t>(flags);
}

inline void fact(Outcome& o, const std::string& what, long long value) {
    o.facts.push_back(what + " = " + std::to_string(value));
}

template <class B>
int submit(B& b, Outcome& o, const std::string& what) {
    const int r = B::io_uring_submit(&b.ring);
    fact(o, what + ": io_uring_submit", r);
    return r;
}

// Waits for `n` CQEs and records them as one step. `fd_results`: user_data whose res is an
// fd number (compared by class).
template <class B>
Step& reap(B& b, Outcome& o, const std::string& what, unsigned n, bool ordered,
           std::initializer_list<uint64_t> fd_results = {}) {
    Step& step = o.steps.emplace_back();
    step.what = what;
    step.ordered = ordered;
    for (unsigned i = 0; i < n; ++i) {
        __kernel_timespec ts{kWaitSeconds, 0};
        io_uring_cqe* cqe = nullptr;
        const int r = B::io_uring_wait_cqe_timeout(&b.ring, &cqe, &ts);
        if (r < 0) {
            o.failures.push_back(what + ": got " + std::to_string(i) + " of " + std::to_string(n) +
                                 " CQEs (wait: " + std::to_string(r) + ")");
            break;
        }
        CqeRecord rec{cqe->user_data, cqe->res, cqe->flags, false};
        rec.res_is_fd =
            std::find(fd_results.begin(), fd_results.end(), rec.user_data) != fd_results.end();
        step.cqes.push_back(rec);
        B::io_uring_cqe_seen(&b.ring, cqe);
    }
    return step;
}

// Collects CQEs up to and including the one of `last`, a request whose CQE the scenario knows
// comes after everything under test: for scenarios where how many CQEs Linux posts is itself
// what is being compared.
template <class B>
Step& reap_until(B& b, Outcome& o, const std::string& what, uint64_t last) {
    Step& step = o.steps.emplace_back();
    step.what = what;
    for (unsigned i = 0; i < 64; ++i) {
        __kernel_timespec ts{kWaitSeconds, 0};
        io_uring_cqe* cqe = nullptr;
        const int r = B::io_uring_wait_cqe_timeout(&b.ring, &cqe, &ts);
        if (r < 0) {
            o.failures.push_back(what + ": no CQE for " + std::to_string(last) +
                                 " (wait: " + std::to_string(r) + ")");
            break;
        }
        step.cqes.push_back(CqeRecord{cqe->user_data, cqe->res, cqe->flags, false});
        B::io_uring_cqe_seen(&b.ring, cqe);
        if (step.cqes.back().user_data == last) break;
    }
    return step;
}

// The res of `user_data` in `step`, or `missing`.
inline int res_of(const Step& step, uint64_t user_data, int missing = -99999) {
    for (const CqeRecord& c : step.cqes)
        if (c.user_data == user_data) return c.res;
    return missing;
}

// The order in which the CQEs of `members` (one chain) appeared in `step`: Linux orders a
// chain's CQEs, not their interleaving with independent requests.
inline void chain_order_fact(Outcome& o, const Step& step,
                             std::initializer_list<uint64_t> members) {
    std::string seen;
    for (const CqeRecord& c : step.cqes)
        if (std::find(members.begin(), members.end(), c.user_data) != members.end())
            seen += " " + std::to_string(c.user_data);
    o.facts.push_back(step.what + ": chain order" + seen);
}

// Nothing more is ready (a skipped or duplicated CQE would show here).
template <class B>
void expect_cq_empty(B& b, Outcome& o, const std::string& what) {
    fact(o, what + ": io_uring_cq_ready", B::io_uring_cq_ready(&b.ring));
}

// The first `n` bytes of `buf` as a fact (what a read returned).
inline void bytes_fact(Outcome& o, const std::string& what, const char* buf, long n) {
    o.facts.push_back(what + " = \"" + std::string(buf, n > 0 ? static_cast<size_t>(n) : 0) + "\"");
}

}  // namespace toyos::diff

// Per-process limits on io_uring resources, and a process's use of them (toyos run
// --max-rings, --max-inflight, --max-registered-bytes; docs/reliability.md). Usage is shared
// (shared_ptr) with the rings and registrations that charge it, so whatever is released last
// still finds it. Each charge is one atomic read-modify-write: no lock.
#pragma once

#include <atomic>
#include <cstdint>

namespace toyos::kernel {

struct ResourceLimits {
    // io_uring_setup beyond this many live rings of the process: EMFILE.
    uint32_t max_rings = 64;
    // SQEs accepted and not yet completed, over all the process's rings: io_uring_enter takes
    // only as many as fit, and answers EAGAIN when none does.
    uint32_t max_inflight = 65536;
    // Registered buffer bytes (each buffer rounded up to whole pages, as Linux charges
    // RLIMIT_MEMLOCK) over all the process's rings: io_uring_register answers ENOMEM beyond.
    uint64_t max_registered_bytes = uint64_t{256} << 20;
};

struct ResourceUsage {
    std::atomic<uint32_t> rings{0};
    std::atomic<uint32_t> inflight{0};
    std::atomic<uint64_t> registered_bytes{0};

    // Takes up to `want` units of `counter` under `limit`; returns how many it took.
    template <class T>
    static T take_up_to(std::atomic<T>& counter, T want, T limit) {
        T cur = counter.load(std::memory_order_relaxed);
        for (;;) {
            const T room = cur < limit ? limit - cur : 0;
            const T got = want < room ? want : room;
            if (got == 0) return 0;
            if (counter.compare_exchange_weak(cur, cur + got, std::memory_order_relaxed))
                return got;
        }
    }
    // All of `want` or nothing.
    template <class T>
    static bool take_all(std::atomic<T>& counter, T want, T limit) {
        T cur = counter.load(std::memory_order_relaxed);
        for (;;) {
            if (cur > limit || want > limit - cur) return false;
            if (counter.compare_exchange_weak(cur, cur + want, std::memory_order_relaxed))
                return true;
        }
    }
};

}  // namespace toyos::kernel

// The ring's clock: CLOCK_MONOTONIC in nanoseconds (a vDSO call, no syscall).
#pragma once

#include <time.h>

#include <cstdint>

namespace toyos::iouring {

inline uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// A timespec as nanoseconds, saturated the way Linux's timespec64_to_ktime saturates: beyond
// about 31 years (so "never" in practice, and still far from overflowing when a caller adds it
// to now()) it is that bound, either sign. Any tv_nsec is taken as it is added, as ktime_set
// does (Linux does not require tv_nsec < 10^9 of a TIMEOUT or an io_uring_enter timeout).
inline int64_t saturating_timespec_ns(int64_t tv_sec, int64_t tv_nsec) {
    constexpr int64_t kNeverSec = 1'000'000'000;
    constexpr int64_t kNeverNs = kNeverSec * 1'000'000'000LL;
    if (tv_sec >= kNeverSec) return kNeverNs;
    if (tv_sec <= -kNeverSec) return -kNeverNs;
    int64_t ns = 0;
    if (__builtin_add_overflow(tv_sec * 1'000'000'000LL, tv_nsec, &ns))
        return tv_nsec > 0 ? kNeverNs : -kNeverNs;
    return ns > kNeverNs ? kNeverNs : (ns < -kNeverNs ? -kNeverNs : ns);
}

}  // namespace toyos::iouring

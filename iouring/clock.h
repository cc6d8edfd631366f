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

}  // namespace toyos::iouring

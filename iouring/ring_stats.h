// RingStats: one ring's counters. They live in the ring and are summed when read (procfs,
// IoUringManager::stats), so no operation writes a cache line shared between rings.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace toyos::iouring {

struct RingStats {
    static constexpr int kBatchBuckets = 9;  // 1, 2-3, 4-7, ..., 128-255, >= 256

    std::atomic<uint64_t> enters{0};
    std::atomic<uint64_t> submitted{0};   // accepted SQEs (each got a sequence number)
    std::atomic<uint64_t> completed{0};   // completions produced (CQE posted or skipped)
    std::atomic<uint64_t> cqes_posted{0};
    std::atomic<uint64_t> cqes_skipped{0};  // IOSQE_CQE_SKIP_SUCCESS
    std::atomic<uint64_t> overflowed{0};    // completions that went to the backlog
    std::atomic<uint64_t> cancelled{0};     // completed with -ECANCELED
    std::atomic<uint64_t> failed{0};        // completed with another -errno
    std::atomic<uint64_t> sq_dropped{0};    // invalid SQ array entries skipped
    std::atomic<uint64_t> ebusy{0};         // enters refused by backpressure
    std::array<std::atomic<uint64_t>, 256> op_count{};
    std::array<std::atomic<uint64_t>, kBatchBuckets> batch_hist{};

    static int batch_bucket(uint32_t n) {
        int b = 0;
        while (n > 1 && b < kBatchBuckets - 1) {
            n >>= 1;
            ++b;
        }
        return b;
    }
    static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.fetch_add(n, std::memory_order_relaxed);
    }
};

}  // namespace toyos::iouring

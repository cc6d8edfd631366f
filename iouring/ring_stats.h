// RingStats: one ring's counters. They live in the ring and are summed when read (procfs,
// IoUringManager::stats), so no operation writes a cache line shared between rings.
//
// Each counter has one writer at a time: the submitter (under the ring's submit lock) or the
// completer (under the ring's lock). So the hot path adds with a relaxed load and store, not a
// locked read-modify-write; readers on other threads see whole values. Only `enters` (any
// thread of the process may enter) uses fetch_add, once per enter. With `toyos run --stats off`
// the ring counts nothing per operation (`enabled` is false).
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

#include "iouring/latency_histogram.h"

namespace toyos::iouring {

struct RingStats {
    static constexpr int kBatchBuckets = 9;  // 1, 2-3, 4-7, ..., 128-255, >= 256
    explicit RingStats(bool on = true) : enabled(on) {}
    ~RingStats() {
        for (auto& h : latency) delete h.load(std::memory_order_relaxed);
    }
    RingStats(const RingStats&) = delete;
    RingStats& operator=(const RingStats&) = delete;

    const bool enabled;
    std::atomic<uint64_t> enters{0};
    std::atomic<uint64_t> submitted{0};  // accepted SQEs (each got a sequence number)
    std::atomic<uint64_t> completed{0};  // completions produced (CQE posted or skipped)
    std::atomic<uint64_t> cqes_posted{0};
    std::atomic<uint64_t> cqes_skipped{0};  // IOSQE_CQE_SKIP_SUCCESS
    std::atomic<uint64_t> overflowed{0};    // completions that went to the backlog
    std::atomic<uint64_t> cancelled{0};     // completed with -ECANCELED
    std::atomic<uint64_t> failed{0};        // completed with another -errno
    std::atomic<uint64_t> sq_dropped{0};    // invalid SQ array entries skipped
    std::atomic<uint64_t> ebusy{0};         // enters refused by backpressure
    // Enters that waited for CQEs: satisfied while polling (iouring/spin_wait.h), or asleep.
    std::atomic<uint64_t> waits_spun{0};
    std::atomic<uint64_t> waits_slept{0};
    // Conservation (completion_ledger.h): completions for a sequence number that had already
    // completed or was never given; accepted numbers that never completed (known at teardown);
    // completions produced while the ring was being torn down (its process never reaps them);
    // 1 once the ring's ledger was closed at teardown.
    std::atomic<uint64_t> duplicated{0};
    std::atomic<uint64_t> lost{0};
    std::atomic<uint64_t> completed_at_teardown{0};
    std::atomic<uint64_t> ledger_closed{0};
    std::array<std::atomic<uint64_t>, 256> op_count{};
    std::array<std::atomic<uint64_t>, kBatchBuckets> batch_hist{};
    // Latency (submission to completion) of one completion per CQ tail publication (the
    // first after it; the ring's first completion too), per opcode, created at its first
    // sample (so a ring pays only for the opcodes it uses).
    std::array<std::atomic<LatencyHistogram*>, 256> latency{};

    void record_latency(uint8_t opcode, uint64_t ns) {
        LatencyHistogram* h = latency[opcode].load(std::memory_order_acquire);
        if (h == nullptr) {
            auto* fresh = new LatencyHistogram();
            if (latency[opcode].compare_exchange_strong(h, fresh, std::memory_order_acq_rel))
                h = fresh;
            else
                delete fresh;  // another thread won; `h` now holds its histogram
        }
        h->record(ns);
    }

    static int batch_bucket(uint32_t n) {
        return n <= 1 ? 0 : std::min(static_cast<int>(std::bit_width(n)) - 1, kBatchBuckets - 1);
    }
    // For counters with several concurrent writers.
    static void bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.fetch_add(n, std::memory_order_relaxed);
    }
    // For counters whose writers are serialized by a lock the caller holds.
    static void add(std::atomic<uint64_t>& c, uint64_t n = 1) {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
};

}  // namespace toyos::iouring

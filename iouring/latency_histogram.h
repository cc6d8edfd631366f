// LatencyHistogram: a log-linear histogram of nanosecond latencies (8 buckets per power of
// two, so a percentile is within 12.5% of the true value). Relaxed atomic counters: writers
// never lock, readers sum what they see.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace toyos::iouring {

class LatencyHistogram {
  public:
    static constexpr int kSubBits = 3;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = (64 - kSubBits + 1) * kSub;

    void record(uint64_t ns) { buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed); }

    uint64_t count() const {
        uint64_t n = 0;
        for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
        return n;
    }

    // The value at quantile q (0..1): the middle of the bucket holding it; 0 when empty.
    uint64_t percentile(double q) const {
        std::array<uint64_t, kBuckets> snap{};
        uint64_t total = 0;
        for (int i = 0; i < kBuckets; ++i)
            total += snap[i] = buckets_[i].load(std::memory_order_relaxed);
        if (total == 0) return 0;
        auto rank = static_cast<uint64_t>(q * static_cast<double>(total - 1));
        for (int i = 0; i < kBuckets; ++i) {
            if (rank < snap[i]) return (lower_bound(i) + upper_bound(i)) / 2;
            rank -= snap[i];
        }
        return lower_bound(kBuckets - 1);
    }

    static int bucket_of(uint64_t v) {
        if (v < kSub) return static_cast<int>(v);
        const int msb = 63 - std::countl_zero(v);
        const int shift = msb - kSubBits;
        return (shift + 1) * kSub + static_cast<int>((v >> shift) & (kSub - 1));
    }
    static uint64_t lower_bound(int b) {
        if (b < kSub) return static_cast<uint64_t>(b);
        const int shift = b / kSub - 1;
        return (static_cast<uint64_t>(kSub + b % kSub)) << shift;
    }
    static uint64_t upper_bound(int b) {
        if (b < kSub) return static_cast<uint64_t>(b);
        return lower_bound(b) + (uint64_t{1} << (b / kSub - 1)) - 1;
    }

  private:
    std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
};

}  // namespace toyos::iouring

// SyscallCompletionRing::fdinfo: one ring's block of /proc/<pid>/iouring. The first keys are
// Linux's io_uring fdinfo (fs/io_uring/fdinfo.c); the rest are toyos's counters. docs/proc.md.
#include <algorithm>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>

#include "iouring/manager.h"
#include "iouring/ops/op_def.h"
#include "iouring/ring.h"

namespace toyos::iouring {
namespace {

void line(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void line(std::string& out, const char* fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) out.append(buf, std::min<size_t>(static_cast<size_t>(n), sizeof(buf) - 1));
}

}  // namespace

std::string SyscallCompletionRing::fdinfo(int fd) const {
    std::string out;
    const RingStats& s = stats_;
    const uint32_t sq_head = mem_.sq_head().load(std::memory_order_acquire);
    const uint32_t sq_tail = mem_.sq_tail().load(std::memory_order_acquire);
    const uint32_t cq_head = mem_.cq_head().load(std::memory_order_acquire);
    const uint32_t cq_tail = mem_.cq_tail().load(std::memory_order_acquire);
    uint32_t cached_sq_head = 0;
    uint64_t seq = 0;
    uint32_t inflight = 0;
    std::vector<io_uring_cqe> overflow;
    {
        std::lock_guard lock(mutex_);
        cached_sq_head = cached_sq_head_.load(std::memory_order_relaxed);
        seq = next_seq_ - 1;
        inflight = issued_inflight_;
        for (const OverflowCqe& o : overflow_)
            overflow.push_back(io_uring_cqe{o.user_data, o.res, o.flags});
    }
    const uint64_t submitted = s.submitted.load(std::memory_order_relaxed);
    const uint64_t completed = s.completed.load(std::memory_order_relaxed);

    line(out, "Ring:\t%d\n", id_);
    line(out, "Fd:\t%d\n", fd);
    line(out, "SqMask:\t0x%x\n", mem_.sq_mask());
    line(out, "SqHead:\t%u\n", sq_head);
    line(out, "SqTail:\t%u\n", sq_tail);
    line(out, "CachedSqHead:\t%u\n", cached_sq_head);
    line(out, "CqMask:\t0x%x\n", mem_.cq_mask());
    line(out, "CqHead:\t%u\n", cq_head);
    line(out, "CqTail:\t%u\n", cq_tail);
    line(out, "CachedCqTail:\t%u\n", cq_tail);  // toyos publishes every CQE at once
    line(out, "SQEs:\t%u\n", sq_tail - cached_sq_head);
    line(out, "CQEs:\t%u\n", cq_tail - cq_head);
    const bool sqpoll = setup_flags_ & IORING_SETUP_SQPOLL;
    line(out, "SqThread:\t%d\n", sqpoll ? manager_.sq_poller().thread_id() : -1);
    line(out, "SqThreadCpu:\t%d\n", -1);
    line(out, "UserFiles:\t%u\n", regs_.file_count());
    line(out, "UserBufs:\t%u\n", regs_.buffer_count());
    line(out, "CqOverflowList:\t%zu\n", overflow.size());
    for (const io_uring_cqe& c : overflow)
        line(out, "  user_data=%" PRIu64 ", res=%d, flags=0x%x\n",
             static_cast<uint64_t>(c.user_data), c.res, c.flags);
    line(out, "SetupFlags:\t0x%x\n", setup_flags_);
    line(out, "Seq:\t%" PRIu64 "\n", seq);
    line(out, "Enters:\t%" PRIu64 "\n", s.enters.load(std::memory_order_relaxed));
    line(out, "Submitted:\t%" PRIu64 "\n", submitted);
    line(out, "Completed:\t%" PRIu64 "\n", completed);
    line(out, "Pending:\t%" PRIu64 "\n", submitted - completed);
    line(out, "InFlight:\t%u\n", inflight);
    line(out, "CqesPosted:\t%" PRIu64 "\n", s.cqes_posted.load(std::memory_order_relaxed));
    line(out, "CqesSkipped:\t%" PRIu64 "\n", s.cqes_skipped.load(std::memory_order_relaxed));
    line(out, "Overflow:\t%" PRIu64 "\n", s.overflowed.load(std::memory_order_relaxed));
    line(out, "Cancelled:\t%" PRIu64 "\n", s.cancelled.load(std::memory_order_relaxed));
    line(out, "Failed:\t%" PRIu64 "\n", s.failed.load(std::memory_order_relaxed));
    line(out, "SqDropped:\t%" PRIu64 "\n", s.sq_dropped.load(std::memory_order_relaxed));
    line(out, "Busy:\t%" PRIu64 "\n", s.ebusy.load(std::memory_order_relaxed));
    line(out, "WaitsSpun:\t%" PRIu64 "\n", s.waits_spun.load(std::memory_order_relaxed));
    line(out, "WaitsSlept:\t%" PRIu64 "\n", s.waits_slept.load(std::memory_order_relaxed));
    line(out, "Duplicated:\t%" PRIu64 "\n", s.duplicated.load(std::memory_order_relaxed));
    line(out, "CompletedAtTeardown:\t%" PRIu64 "\n",
         s.completed_at_teardown.load(std::memory_order_relaxed));
    // Batch sizes per enter, as power-of-two buckets.
    out += "BatchHist:\t";
    for (int b = 0; b < RingStats::kBatchBuckets; ++b) {
        const unsigned lo = 1u << b;
        const uint64_t n = s.batch_hist[b].load(std::memory_order_relaxed);
        if (b == RingStats::kBatchBuckets - 1)
            line(out, "%u+:%" PRIu64 "\n", lo, n);
        else if (lo == 1)
            line(out, "1:%" PRIu64 " ", n);
        else
            line(out, "%u-%u:%" PRIu64 " ", lo, 2 * lo - 1, n);
    }
    for (int op = 0; op < 256; ++op) {
        const uint64_t n = s.op_count[op].load(std::memory_order_relaxed);
        const char* name = opcode_name(static_cast<uint8_t>(op));
        if (n == 0 || name == nullptr) continue;
        line(out, "Op.%s:\t%" PRIu64 "\n", name, n);
    }
    // Latency (ns, submission to completion) of the sampled operations, per opcode.
    for (int op = 0; op < 256; ++op) {
        const LatencyHistogram* h = s.latency[op].load(std::memory_order_acquire);
        const char* name = opcode_name(static_cast<uint8_t>(op));
        if (h == nullptr || name == nullptr) continue;
        line(out,
             "Latency.%s:\tsamples=%" PRIu64 " p50=%" PRIu64 " p99=%" PRIu64 " p99.9=%" PRIu64 "\n",
             name, h->count(), h->percentile(0.50), h->percentile(0.99), h->percentile(0.999));
    }
    return out;
}

}  // namespace toyos::iouring

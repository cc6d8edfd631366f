// RingMemory: the memory shared by the kernel and the process for one ring, laid out as
// Linux lays it out. One block holds the SQ ring header, the CQ ring header and CQEs, and the
// SQ index array (IORING_FEAT_SINGLE_MMAP); a second block holds the SQEs. The offsets userland
// needs are reported in io_uring_params at setup.
//
// Nothing here trusts the process: it may write anything into this memory at any time, so
// every read of a shared index is masked before use and every SQE is copied before it is
// looked at (see SyscallCompletionRing).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "kernel/host_memory.h"
#include "toyos/abi/io_uring.h"

#if defined(__SANITIZE_THREAD__)
#define TOYOS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TOYOS_TSAN 1
#endif
#endif

namespace toyos::iouring {

class RingMemory {
  public:
    // sq_entries and cq_entries are powers of two; sqe128/cqe32 double the entry sizes.
    static kernel::Result<RingMemory> create(uint32_t sq_entries, uint32_t cq_entries, bool sqe128,
                                             bool cqe32);

    void fill_offsets(io_sqring_offsets* sq, io_cqring_offsets* cq) const;
    const kernel::MappingRef& rings() const { return rings_; }
    const kernel::MappingRef& sqes() const { return sqes_; }
    size_t rings_size() const { return rings_->length(); }
    size_t sqes_size() const { return sqes_->length(); }

    // Shared words, accessed atomically (the process is another thread).
    std::atomic_ref<uint32_t> sq_head() const { return word(sq_head_off_); }
    std::atomic_ref<uint32_t> sq_tail() const { return word(sq_tail_off_); }
    std::atomic_ref<uint32_t> sq_flags() const { return word(sq_flags_off_); }
    std::atomic_ref<uint32_t> sq_dropped() const { return word(sq_dropped_off_); }
    std::atomic_ref<uint32_t> cq_head() const { return word(cq_head_off_); }
    std::atomic_ref<uint32_t> cq_tail() const { return word(cq_tail_off_); }
    std::atomic_ref<uint32_t> cq_overflow() const { return word(cq_overflow_off_); }
    std::atomic_ref<uint32_t> cq_flags() const { return word(cq_flags_off_); }
    std::atomic_ref<uint32_t> sq_array(uint32_t slot) const {
        return word(sq_array_off_ + 4 * (slot & sq_mask_));
    }
    // The SQE in slot `index` (already bounds-checked by the caller), and the CQE slot for
    // a free-running tail.
    const void* sqe(uint32_t index) const {
        return static_cast<const char*>(sqes_->base()) + size_t{index} * sqe_size_;
    }
    io_uring_cqe* cqe(uint32_t tail) const {
        return reinterpret_cast<io_uring_cqe*>(static_cast<char*>(rings_->base()) + cqes_off_ +
                                               size_t{tail & cq_mask_} * cqe_size_);
    }

    uint32_t sq_entries() const { return sq_entries_; }
    uint32_t cq_entries() const { return cq_entries_; }
    uint32_t sq_mask() const { return sq_mask_; }
    uint32_t cq_mask() const { return cq_mask_; }
    uint32_t sqe_size() const { return sqe_size_; }
    uint32_t cqe_size() const { return cqe_size_; }

    RingMemory() = default;

    // ThreadSanitizer only (no-ops elsewhere). Each mmap of the ring fd is a view of its own
    // (RingFile::mmap), so the kernel's release store of the CQ tail and a process's acquire
    // load of it are at different addresses of one physical page: the hardware pairs them,
    // TSan cannot, and it reports every byte the kernel wrote for a completion (a READ's
    // buffer, a RECVMSG's name) as a race with the process reading it after the CQE. So the
    // kernel also releases at each view's CQ tail when it publishes, and acquires at each
    // view's SQ tail when it consumes.
#ifdef TOYOS_TSAN
    void add_view(uintptr_t rings_view_base) const;
    void tsan_release_cq_tail() const;
    void tsan_acquire_sq_tail() const;
#else
    void add_view(uintptr_t) const {}
    void tsan_release_cq_tail() const {}
    void tsan_acquire_sq_tail() const {}
#endif

  private:
    std::atomic_ref<uint32_t> word(uint32_t off) const {
        return std::atomic_ref<uint32_t>(
            *reinterpret_cast<uint32_t*>(static_cast<char*>(rings_->base()) + off));
    }

    struct Views {
        std::mutex mutex;
        std::vector<uintptr_t> bases;  // of the rings block's views (stale ones are harmless)
    };
#ifdef TOYOS_TSAN
    std::shared_ptr<Views> views_ = std::make_shared<Views>();
#endif
    kernel::MappingRef rings_, sqes_;
    uint32_t sq_entries_ = 0, cq_entries_ = 0, sq_mask_ = 0, cq_mask_ = 0;
    uint32_t sqe_size_ = 64, cqe_size_ = 16;
    uint32_t sq_head_off_ = 0, sq_tail_off_ = 0, sq_mask_off_ = 0, sq_entries_off_ = 0,
             sq_flags_off_ = 0, sq_dropped_off_ = 0, sq_array_off_ = 0;
    uint32_t cq_head_off_ = 0, cq_tail_off_ = 0, cq_mask_off_ = 0, cq_entries_off_ = 0,
             cq_overflow_off_ = 0, cq_flags_off_ = 0, cqes_off_ = 0;
};

}  // namespace toyos::iouring

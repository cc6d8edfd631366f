#include "iouring/ring_memory.h"

#include <sys/mman.h>

namespace toyos::iouring {

kernel::Result<RingMemory> RingMemory::create(uint32_t sq_entries, uint32_t cq_entries, bool sqe128,
                                              bool cqe32) {
    RingMemory m;
    m.sq_entries_ = sq_entries;
    m.cq_entries_ = cq_entries;
    m.sq_mask_ = sq_entries - 1;
    m.cq_mask_ = cq_entries - 1;
    m.sqe_size_ = sqe128 ? 128 : 64;
    m.cqe_size_ = cqe32 ? 32 : 16;
    // Producer and consumer indices on separate cache lines, as in Linux's struct io_rings.
    m.sq_head_off_ = 0;
    m.sq_tail_off_ = 64;
    m.cq_head_off_ = 128;
    m.cq_tail_off_ = 192;
    m.sq_mask_off_ = 256;
    m.cq_mask_off_ = 260;
    m.sq_entries_off_ = 264;
    m.cq_entries_off_ = 268;
    m.sq_dropped_off_ = 272;
    m.sq_flags_off_ = 276;
    m.cq_flags_off_ = 280;
    m.cq_overflow_off_ = 284;
    m.cqes_off_ = 320;
    m.sq_array_off_ = m.cqes_off_ + cq_entries * m.cqe_size_;
    const size_t rings_len = m.sq_array_off_ + size_t{sq_entries} * 4;
    // Shared, so that each mmap of the ring fd can be a view of its own (RingFile::mmap).
    m.rings_ = TOYOS_TRY(kernel::HostMapping::shared(rings_len));
    m.sqes_ = TOYOS_TRY(kernel::HostMapping::shared(size_t{sq_entries} * m.sqe_size_));
    auto put = [&](uint32_t off, uint32_t v) { m.word(off).store(v, std::memory_order_relaxed); };
    put(m.sq_mask_off_, m.sq_mask_);
    put(m.cq_mask_off_, m.cq_mask_);
    put(m.sq_entries_off_, sq_entries);
    put(m.cq_entries_off_, cq_entries);
    // Identity-fill the SQ array once (seed 003): a submitter that keeps SQE index == ring
    // slot never writes it again, and one that writes its own order is still honoured.
    for (uint32_t i = 0; i < sq_entries; ++i) m.sq_array(i).store(i, std::memory_order_relaxed);
    return m;
}

void RingMemory::fill_offsets(io_sqring_offsets* sq, io_cqring_offsets* cq) const {
    *sq = io_sqring_offsets{};
    sq->head = sq_head_off_;
    sq->tail = sq_tail_off_;
    sq->ring_mask = sq_mask_off_;
    sq->ring_entries = sq_entries_off_;
    sq->flags = sq_flags_off_;
    sq->dropped = sq_dropped_off_;
    sq->array = sq_array_off_;
    *cq = io_cqring_offsets{};
    cq->head = cq_head_off_;
    cq->tail = cq_tail_off_;
    cq->ring_mask = cq_mask_off_;
    cq->ring_entries = cq_entries_off_;
    cq->overflow = cq_overflow_off_;
    cq->cqes = cqes_off_;
    cq->flags = cq_flags_off_;
}

}  // namespace toyos::iouring

#ifdef TOYOS_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace toyos::iouring {

void RingMemory::add_view(uintptr_t rings_view_base) const {
    std::lock_guard lock(views_->mutex);
    views_->bases.push_back(rings_view_base);
}

void RingMemory::tsan_release_cq_tail() const {
    std::lock_guard lock(views_->mutex);
    for (uintptr_t base : views_->bases)
        __tsan_release(reinterpret_cast<void*>(base + cq_tail_off_));
}

void RingMemory::tsan_acquire_sq_tail() const {
    std::lock_guard lock(views_->mutex);
    for (uintptr_t base : views_->bases)
        __tsan_acquire(reinterpret_cast<void*>(base + sq_tail_off_));
}

}  // namespace toyos::iouring
#endif

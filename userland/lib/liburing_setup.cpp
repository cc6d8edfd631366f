// toyos liburing: ring setup and teardown.
#include <cstring>

#include "toyos/liburing.h"

namespace toyos {

int io_uring_queue_init_params(unsigned entries, io_uring* ring, io_uring_params* p) {
    std::memset(ring, 0, sizeof(*ring));
    const int fd = sys::io_uring_setup(entries, p);
    if (fd < 0) return fd;
    const int r = io_uring_queue_mmap(fd, p, ring);
    if (r < 0) sys::close(fd);
    return r;
}

int io_uring_queue_mmap(int fd, io_uring_params* p, io_uring* ring) {
    std::memset(ring, 0, sizeof(*ring));
    // One mapping for both rings (IORING_FEAT_SINGLE_MMAP), one for the SQEs.
    size_t sq_sz = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    const size_t cqe_size =
        (p->flags & IORING_SETUP_CQE32) ? 2 * sizeof(io_uring_cqe) : sizeof(io_uring_cqe);
    const size_t sqe_size =
        (p->flags & IORING_SETUP_SQE128) ? 2 * sizeof(io_uring_sqe) : sizeof(io_uring_sqe);
    size_t cq_sz = p->cq_off.cqes + p->cq_entries * cqe_size;
    const size_t ring_sz = sq_sz > cq_sz ? sq_sz : cq_sz;
    void* rings = sys::mmap(nullptr, ring_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                            IORING_OFF_SQ_RING);
    if (rings == MAP_FAILED) return -sys::last_mmap_error();
    const size_t sqes_sz = p->sq_entries * sqe_size;
    void* sqes = sys::mmap(nullptr, sqes_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                           IORING_OFF_SQES);
    if (sqes == MAP_FAILED) {
        const int e = sys::last_mmap_error();
        sys::munmap(rings, ring_sz);
        return -e;
    }
    auto* base = static_cast<char*>(rings);
    auto at = [&](unsigned off) { return reinterpret_cast<unsigned*>(base + off); };
    ring->sq.khead = at(p->sq_off.head);
    ring->sq.ktail = at(p->sq_off.tail);
    ring->sq.kflags = at(p->sq_off.flags);
    ring->sq.kdropped = at(p->sq_off.dropped);
    ring->sq.array = at(p->sq_off.array);
    ring->sq.sqes = static_cast<io_uring_sqe*>(sqes);
    ring->sq.ring_mask = *at(p->sq_off.ring_mask);
    ring->sq.ring_entries = *at(p->sq_off.ring_entries);
    ring->sq.ring_sz = ring_sz;
    ring->sq.ring_ptr = rings;
    ring->sq.sqe_head = ring->sq.sqe_tail = *ring->sq.ktail;
    ring->cq.khead = at(p->cq_off.head);
    ring->cq.ktail = at(p->cq_off.tail);
    ring->cq.kflags = at(p->cq_off.flags);
    ring->cq.koverflow = at(p->cq_off.overflow);
    ring->cq.cqes = reinterpret_cast<io_uring_cqe*>(base + p->cq_off.cqes);
    ring->cq.ring_mask = *at(p->cq_off.ring_mask);
    ring->cq.ring_entries = *at(p->cq_off.ring_entries);
    ring->cq.ring_sz = ring_sz;
    ring->cq.ring_ptr = rings;
    ring->flags = p->flags;
    ring->ring_fd = fd;
    ring->features = p->features;
    // The kernel identity-filled sq.array at setup; submitting never writes it (seed 003).
    return 0;
}

int io_uring_queue_init(unsigned entries, io_uring* ring, unsigned flags) {
    io_uring_params p;
    std::memset(&p, 0, sizeof(p));
    p.flags = flags;
    return io_uring_queue_init_params(entries, ring, &p);
}

void io_uring_queue_exit(io_uring* ring) {
    sys::munmap(ring->sq.sqes,
                ring->sq.ring_entries * (sizeof(io_uring_sqe) << io_uring_sqe_shift(ring)));
    sys::munmap(ring->sq.ring_ptr, ring->sq.ring_sz);
    sys::close(ring->ring_fd);
    ring->ring_fd = -1;
}

}  // namespace toyos

#include "iouring/ring_file.h"

#include "iouring/manager.h"
#include "iouring/ring_closer.h"

namespace toyos::iouring {

RingFile::~RingFile() {
    // The last reference: on a kernel service thread, maybe inside work on this very ring.
    if (RingTeardownDeferral::active()) {
        ring_->manager().close_later(std::move(ring_));
    } else {
        ring_->shutdown();
    }
}

kernel::Result<kernel::Region> RingFile::mmap(kernel::Process& proc, size_t length,
                                              uint64_t offset) {
    if (proc.pid() != ring_->owner_pid()) return kernel::err(EACCES);
    const RingMemory& mem = ring_->memory();
    const kernel::MappingRef* backing = nullptr;
    switch (offset & IORING_OFF_MMAP_MASK) {
        case IORING_OFF_SQ_RING:
        case IORING_OFF_CQ_RING:
            backing = &mem.rings();  // IORING_FEAT_SINGLE_MMAP: one block for both
            break;
        case IORING_OFF_SQES:
            backing = &mem.sqes();
            break;
        default:
            return kernel::err(EINVAL);
    }
    if ((offset & ~IORING_OFF_MMAP_MASK) != 0) return kernel::err(EINVAL);
    if (length > (*backing)->length()) return kernel::err(EINVAL);
    const size_t page = 4096;
    const size_t span = std::min((length + page - 1) / page * page, (*backing)->length());
    const uintptr_t start = (*backing)->start();
    return kernel::Region{start, start + span, true, kernel::RegionKind::Ring, *backing};
}

}  // namespace toyos::iouring

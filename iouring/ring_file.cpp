#include "iouring/ring_file.h"

#include <sys/mman.h>

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

kernel::Result<kernel::Region> RingFile::mmap(kernel::Process& proc, size_t length, uint64_t offset,
                                              int prot) {
    // Any process that holds the ring's fd may map it (an inherited fd: spawn copies fds 0-2),
    // as on Linux; each mapping is that process's own view, which goes with it.
    (void)proc;
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
    // Each mmap is a view of its own over the ring's pages, with the protection asked for (as
    // on Linux): a PROT_READ mapping is not writable by the kernel's checked door either, and
    // regions never overlap, so munmap of one leaves the others alone.
    kernel::MappingRef view = TOYOS_TRY((*backing)->view(length, prot));
    const uintptr_t start = view->start();
    const size_t span = view->length();
    if (backing == &mem.rings()) mem.add_view(start);
    return kernel::Region{
        start,           start + span,     (prot & PROT_WRITE) != 0, kernel::RegionKind::Ring,
        std::move(view), prot != PROT_NONE};
}

}  // namespace toyos::iouring

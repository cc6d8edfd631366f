#include "kernel/host_memory.h"

#include <sys/mman.h>
#include <unistd.h>

namespace toyos::kernel {

Result<std::shared_ptr<HostMapping>> HostMapping::anonymous(size_t length, int prot, bool guard) {
    if (length == 0) return err(EINVAL);
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t rounded = (length + page - 1) / page * page;
    const size_t extra = guard ? page : 0;
    void* p = ::mmap(nullptr, rounded + extra, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return err(errno == ENOMEM ? ENOMEM : errno);
    if (guard) ::mprotect(p, page, PROT_NONE);
    auto* base = static_cast<char*>(p) + extra;
    return std::shared_ptr<HostMapping>(
        new HostMapping(p, rounded + extra, base, rounded, /*owned=*/true));
}

Result<std::shared_ptr<HostMapping>> HostMapping::shared(size_t length) {
    if (length == 0) return err(EINVAL);
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t rounded = (length + page - 1) / page * page;
    // A memfd, so that view() can map the same pages again with mmap(2) (mremap with an
    // old_size of 0 would too, but valgrind refuses it, and callgrind measures the hot paths).
    const int fd = ::memfd_create("toyos-ring", MFD_CLOEXEC);
    if (fd < 0) return err(errno);
    if (::ftruncate(fd, static_cast<off_t>(rounded)) != 0) {
        const int e = errno;
        ::close(fd);
        return err(e);
    }
    void* p = ::mmap(nullptr, rounded, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        const int e = errno;
        ::close(fd);
        return err(e);
    }
    auto m = std::shared_ptr<HostMapping>(new HostMapping(p, rounded, p, rounded, /*owned=*/true));
    m->memfd_ = fd;
    return m;
}

Result<std::shared_ptr<HostMapping>> HostMapping::view(size_t length, int prot) const {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t rounded = (length + page - 1) / page * page;
    if (length == 0 || rounded > length_ || memfd_ < 0) return err(EINVAL);
    void* p = ::mmap(nullptr, rounded, prot, MAP_SHARED, memfd_, 0);
    if (p == MAP_FAILED) return err(errno);
    return std::shared_ptr<HostMapping>(new HostMapping(p, rounded, p, rounded, /*owned=*/true));
}

std::shared_ptr<HostMapping> HostMapping::borrowed(void* base, size_t length,
                                                   std::shared_ptr<const void> owner) {
    auto m = std::shared_ptr<HostMapping>(new HostMapping(base, length, base, length, false));
    m->owner_ = std::move(owner);
    return m;
}

HostMapping::~HostMapping() {
    if (owned_) ::munmap(map_base_, map_length_);
    if (memfd_ >= 0) ::close(memfd_);  // the views keep their pages mapped
}

}  // namespace toyos::kernel

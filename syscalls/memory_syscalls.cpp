// Memory syscalls: mmap (anonymous memory, or a file that maps itself such as a ring fd) and
// munmap. What mmap returns becomes a region of the caller's address space: memory it may
// hand to the kernel.
#include <sys/mman.h>

#include "syscalls/common.h"

namespace toyos::kernel {
namespace {

constexpr size_t kMaxMapping = size_t{1} << 32;  // 4 GiB per mapping

SysResult sys_mmap(SyscallContext& c, const SyscallArgs& a) {
    const size_t len = arg_size(a, 1);
    const int prot = arg_int(a, 2), flags = arg_int(a, 3), fd = arg_int(a, 4);
    if (len == 0 || len > kMaxMapping) return err(EINVAL);
    if (prot & ~(PROT_READ | PROT_WRITE)) return err(EINVAL);  // no executable user memory
    if (flags & MAP_FIXED) return err(EINVAL);                 // placement is the kernel's
    const int sharing = flags & (MAP_SHARED | MAP_PRIVATE);
    if (sharing != MAP_SHARED && sharing != MAP_PRIVATE) return err(EINVAL);
    if (flags & MAP_ANONYMOUS) {
        auto mapping = TOYOS_TRY(HostMapping::anonymous(len, prot));
        const uintptr_t start = mapping->start();
        c.proc.memory().add(Region{start, start + mapping->length(), (prot & PROT_WRITE) != 0,
                                   RegionKind::Anonymous, std::move(mapping), prot != PROT_NONE});
        return static_cast<long>(start);
    }
    FileRef f = TOYOS_TRY(c.proc.fds().get(fd));
    if (a.a[5] < 0) return err(EINVAL);
    Region region = TOYOS_TRY(f->mmap(c.proc, len, static_cast<uint64_t>(a.a[5]), prot));
    const uintptr_t start = region.start;
    c.proc.memory().add(std::move(region));
    return static_cast<long>(start);
}

SysResult sys_munmap(SyscallContext& c, const SyscallArgs& a) {
    TOYOS_TRY_VOID(c.proc.memory().remove(static_cast<uintptr_t>(a.a[0]), arg_size(a, 1)));
    return 0;
}

}  // namespace

void register_memory_syscalls(SyscallHandlerRegistry& r) {
    using namespace abi;
    r.add(TOYOS_SYS_mmap, "mmap", sys_mmap);
    r.add(TOYOS_SYS_munmap, "munmap", sys_munmap);
}

}  // namespace toyos::kernel

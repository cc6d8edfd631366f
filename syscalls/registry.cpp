#include "syscalls/registry.h"

#include <cassert>
#include <string>

namespace toyos::kernel {

void SyscallHandlerRegistry::add(int nr, const char* name, SyscallFn fn, bool routable) {
    assert(nr >= 0 && nr < kMax && entries_[nr].fn == nullptr);
    entries_[nr] = SyscallEntry{name, fn, routable};
}

int SyscallHandlerRegistry::number_of(const std::string& name) const {
    for (int i = 0; i < kMax; ++i)
        if (entries_[i].fn && name == entries_[i].name) return i;
    return -1;
}

void register_all_syscalls(SyscallHandlerRegistry& r) {
    register_file_syscalls(r);
    register_fd_syscalls(r);
    register_fs_syscalls(r);
    register_net_syscalls(r);
    register_memory_syscalls(r);
    register_process_syscalls(r);
    register_io_uring_syscalls(r);
}

}  // namespace toyos::kernel

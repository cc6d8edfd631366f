// Helpers shared by the syscall families: argument conversion and the checked lookups every
// handler starts with.
#pragma once

#include <climits>

#include "kernel/blocking.h"
#include "kernel/kernel.h"
#include "syscalls/registry.h"

namespace toyos::kernel {

// Linux caps a single read/write at this many bytes (MAX_RW_COUNT).
constexpr size_t kMaxRwCount = 0x7ffff000;

inline int arg_int(const SyscallArgs& a, int i) {
    return static_cast<int>(a.a[i]);
}
inline size_t arg_size(const SyscallArgs& a, int i) {
    return static_cast<size_t>(a.a[i]);
}
template <class T>
inline UserPtr<T> arg_ptr(const SyscallArgs& a, int i) {
    return UserPtr<T>::from(a.a[i]);
}

inline Result<FileRef> file_arg(SyscallContext& c, const SyscallArgs& a, int i) {
    return c.proc.fds().get(arg_int(a, i));
}

inline Result<UserBuffer> buffer_arg(SyscallContext& c, const SyscallArgs& a, int i, size_t len,
                                     Access acc) {
    return c.proc.memory().access(static_cast<uintptr_t>(a.a[i]), len, acc);
}

inline Result<std::string> path_arg(SyscallContext& c, const SyscallArgs& a, int i) {
    return c.proc.memory().copy_string_from_user(arg_ptr<char>(a, i), Vfs::kPathMax);
}

}  // namespace toyos::kernel

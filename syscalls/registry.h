// SyscallHandlerRegistry: syscall number -> handler. Each syscall family registers its
// handlers from its own file (file_syscalls.cpp, net_syscalls.cpp, ...).
#pragma once

#include <array>
#include <string>

#include "kernel/result.h"
#include "toyos/abi/syscalls.h"

namespace toyos::kernel {
class Kernel;
class Process;
struct WaitHandoff;

struct SyscallArgs {
    long a[6]{};
};

struct SyscallContext {
    Kernel& kernel;
    Process& proc;
    // Set on an async-routed call: a handler that would wait hands the wait to its caller
    // instead of holding the pool worker (kernel/blocking.h).
    WaitHandoff* handoff = nullptr;
};

using SyscallFn = SysResult (*)(SyscallContext&, const SyscallArgs&);

struct SyscallEntry {
    const char* name = nullptr;
    SyscallFn fn = nullptr;
    // May be sent through the AsyncSyscallExecutor or the process's ring (--route).
    bool routable = false;
};

class SyscallHandlerRegistry {
  public:
    static constexpr int kMax = abi::TOYOS_SYS_MAX;

    void add(int nr, const char* name, SyscallFn fn, bool routable = false);
    const SyscallEntry* find(int nr) const {
        if (nr < 0 || nr >= kMax || entries_[nr].fn == nullptr) return nullptr;
        return &entries_[nr];
    }
    int number_of(const std::string& name) const;  // -1 if unknown
    template <class F>
    void for_each(F f) const {
        for (int i = 0; i < kMax; ++i)
            if (entries_[i].fn) f(i, entries_[i]);
    }

  private:
    std::array<SyscallEntry, kMax> entries_{};
};

// One per family; registry.cpp calls them all.
void register_file_syscalls(SyscallHandlerRegistry& r);
void register_fd_syscalls(SyscallHandlerRegistry& r);
void register_fs_syscalls(SyscallHandlerRegistry& r);
void register_net_syscalls(SyscallHandlerRegistry& r);
void register_memory_syscalls(SyscallHandlerRegistry& r);
void register_process_syscalls(SyscallHandlerRegistry& r);
void register_io_uring_syscalls(SyscallHandlerRegistry& r);
void register_all_syscalls(SyscallHandlerRegistry& r);

}  // namespace toyos::kernel

// SyscallHandlerRegistry: every number of the ABI header has a handler with its name, the
// routable ones are exactly the ones that may leave the calling thread, and lookups of numbers
// outside the table are refused rather than indexed.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "syscalls/registry.h"

using namespace toyos;
using kernel::SyscallHandlerRegistry;

namespace {

struct Expected {
    int nr;
    const char* name;
};

// The ABI header's numbers (syscalls/include/toyos/abi/syscalls.h).
const Expected kAbi[] = {
    {toyos::abi::TOYOS_SYS_read, "read"},
    {toyos::abi::TOYOS_SYS_write, "write"},
    {toyos::abi::TOYOS_SYS_open, "open"},
    {toyos::abi::TOYOS_SYS_close, "close"},
    {toyos::abi::TOYOS_SYS_stat, "stat"},
    {toyos::abi::TOYOS_SYS_fstat, "fstat"},
    {toyos::abi::TOYOS_SYS_lseek, "lseek"},
    {toyos::abi::TOYOS_SYS_mmap, "mmap"},
    {toyos::abi::TOYOS_SYS_munmap, "munmap"},
    {toyos::abi::TOYOS_SYS_pread, "pread"},
    {toyos::abi::TOYOS_SYS_pwrite, "pwrite"},
    {toyos::abi::TOYOS_SYS_getpid, "getpid"},
    {toyos::abi::TOYOS_SYS_socket, "socket"},
    {toyos::abi::TOYOS_SYS_connect, "connect"},
    {toyos::abi::TOYOS_SYS_accept, "accept"},
    {toyos::abi::TOYOS_SYS_sendto, "sendto"},
    {toyos::abi::TOYOS_SYS_recvfrom, "recvfrom"},
    {toyos::abi::TOYOS_SYS_bind, "bind"},
    {toyos::abi::TOYOS_SYS_listen, "listen"},
    {toyos::abi::TOYOS_SYS_setsockopt, "setsockopt"},
    {toyos::abi::TOYOS_SYS_getsockname, "getsockname"},
    {toyos::abi::TOYOS_SYS_exit, "exit"},
    {toyos::abi::TOYOS_SYS_waitpid, "waitpid"},
    {toyos::abi::TOYOS_SYS_kill, "kill"},
    {toyos::abi::TOYOS_SYS_fsync, "fsync"},
    {toyos::abi::TOYOS_SYS_fdatasync, "fdatasync"},
    {toyos::abi::TOYOS_SYS_mkdir, "mkdir"},
    {toyos::abi::TOYOS_SYS_unlink, "unlink"},
    {toyos::abi::TOYOS_SYS_getdents64, "getdents64"},
    {toyos::abi::TOYOS_SYS_eventfd2, "eventfd2"},
    {toyos::abi::TOYOS_SYS_dup, "dup"},
    {toyos::abi::TOYOS_SYS_dup2, "dup2"},
    {toyos::abi::TOYOS_SYS_dup3, "dup3"},
    {toyos::abi::TOYOS_SYS_fcntl, "fcntl"},
    {toyos::abi::TOYOS_SYS_openat, "openat"},
    {toyos::abi::TOYOS_SYS_io_uring_setup, "io_uring_setup"},
    {toyos::abi::TOYOS_SYS_io_uring_enter, "io_uring_enter"},
    {toyos::abi::TOYOS_SYS_io_uring_register, "io_uring_register"},
    {toyos::abi::TOYOS_SYS_spawn, "spawn"},
    {toyos::abi::TOYOS_SYS_getppid, "getppid"},
    {toyos::abi::TOYOS_SYS_sleep_ns, "sleep_ns"},
};

TEST(SyscallRegistry, EveryAbiNumberHasItsHandler) {
    SyscallHandlerRegistry reg;
    kernel::register_all_syscalls(reg);
    std::set<int> abi_numbers;
    for (const Expected& e : kAbi) {
        abi_numbers.insert(e.nr);
        const kernel::SyscallEntry* entry = reg.find(e.nr);
        ASSERT_NE(entry, nullptr) << e.name;
        EXPECT_STREQ(entry->name, e.name);
        EXPECT_NE(entry->fn, nullptr);
        EXPECT_EQ(reg.number_of(e.name), e.nr);
    }
    // Nothing is registered that the ABI header does not name.
    reg.for_each([&](int nr, const kernel::SyscallEntry& entry) {
        EXPECT_TRUE(abi_numbers.count(nr)) << "unexpected syscall " << nr << " " << entry.name;
    });
}

TEST(SyscallRegistry, LookupsOutsideTheTableAreRefused) {
    SyscallHandlerRegistry reg;
    kernel::register_all_syscalls(reg);
    EXPECT_EQ(reg.find(-1), nullptr);
    EXPECT_EQ(reg.find(SyscallHandlerRegistry::kMax), nullptr);
    EXPECT_EQ(reg.find(1 << 30), nullptr);
    EXPECT_EQ(reg.find(6), nullptr);  // a gap in the numbering
    EXPECT_EQ(reg.number_of("frobnicate"), -1);
    EXPECT_EQ(reg.number_of(""), -1);
}

TEST(SyscallRegistry, OnlyCallsThatMayLeaveTheThreadAreRoutable) {
    SyscallHandlerRegistry reg;
    kernel::register_all_syscalls(reg);
    // What the process itself is (exit, spawn, its memory map, its rings) runs on its thread.
    for (const char* name : {"exit", "spawn", "waitpid", "kill", "getpid", "getppid", "mmap",
                             "munmap", "io_uring_setup", "io_uring_enter", "io_uring_register"}) {
        const kernel::SyscallEntry* e = reg.find(reg.number_of(name));
        ASSERT_NE(e, nullptr) << name;
        EXPECT_FALSE(e->routable) << name;
    }
    // Plain file and socket I/O may run on the AsyncSyscallExecutor or through the ring.
    for (const char* name : {"read", "write", "pread", "pwrite", "fsync", "fdatasync"}) {
        const kernel::SyscallEntry* e = reg.find(reg.number_of(name));
        ASSERT_NE(e, nullptr) << name;
        EXPECT_TRUE(e->routable) << name;
    }
}

}  // namespace

// toyos syscall ABI: the numbers and the gate. Shared by kernel and userland; nothing else is.
//
// A syscall is `toyos_syscall(nr, a0..a5)`. It returns a value >= 0 on success or -errno, like
// the raw Linux syscall interface. Pointers are passed as integers and checked by the kernel.
#pragma once

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The one entry point into the kernel. Defined by the toyos binary; programs loaded with
// `toyos run ./prog.so` resolve it from there at load time.
long toyos_syscall(long nr, long a0, long a1, long a2, long a3, long a4, long a5);

#ifdef __cplusplus
}
#endif

#ifdef __cplusplus
namespace toyos::abi {
#endif

// Numbers are stable: append, never renumber.
enum toyos_syscall_nr {
    TOYOS_SYS_read = 0,
    TOYOS_SYS_write = 1,
    TOYOS_SYS_open = 2,  // (path, flags, mode): openat(AT_FDCWD, ...)
    TOYOS_SYS_close = 3,
    TOYOS_SYS_stat = 4,   // (path, struct stat*)
    TOYOS_SYS_fstat = 5,  // (fd, struct stat*)
    TOYOS_SYS_lseek = 8,
    TOYOS_SYS_mmap = 9,  // (addr, len, prot, flags, fd, off): anonymous, or a ring fd
    TOYOS_SYS_munmap = 11,
    TOYOS_SYS_pread = 17,
    TOYOS_SYS_pwrite = 18,
    TOYOS_SYS_dup = 32,
    TOYOS_SYS_dup2 = 33,
    TOYOS_SYS_getpid = 39,
    TOYOS_SYS_socket = 41,
    TOYOS_SYS_connect = 42,
    TOYOS_SYS_accept = 43,
    TOYOS_SYS_sendto = 44,    // send is sendto with a null address
    TOYOS_SYS_recvfrom = 45,  // recv is recvfrom with a null address
    TOYOS_SYS_bind = 49,
    TOYOS_SYS_listen = 50,
    TOYOS_SYS_setsockopt = 54,
    TOYOS_SYS_exit = 60,
    TOYOS_SYS_waitpid = 61,  // (pid, int* status, options)
    TOYOS_SYS_kill = 62,
    TOYOS_SYS_fcntl = 72,  // F_DUPFD(_CLOEXEC), F_GETFD/F_SETFD, F_GETFL/F_SETFL
    TOYOS_SYS_fsync = 74,
    TOYOS_SYS_fdatasync = 75,
    TOYOS_SYS_mkdir = 83,
    TOYOS_SYS_unlink = 87,
    TOYOS_SYS_getdents64 = 217,
    TOYOS_SYS_eventfd2 = 290,
    TOYOS_SYS_dup3 = 292,  // (initval, flags): EFD_NONBLOCK, EFD_SEMAPHORE
    TOYOS_SYS_openat = 257,
    TOYOS_SYS_getsockname = 51,
    TOYOS_SYS_io_uring_setup = 425,
    TOYOS_SYS_io_uring_enter = 426,
    TOYOS_SYS_io_uring_register = 427,
    // toyos-specific
    TOYOS_SYS_spawn = 500,  // (const toyos_spawn_args*) -> pid
    TOYOS_SYS_getppid = 501,
    TOYOS_SYS_sleep_ns = 502,  // (nanoseconds): interruptible by kill
    TOYOS_SYS_MAX = 512,
};

// spawn: run a program (built-in name or path to a .so on the host) as a child process.
// argv is a null-terminated array of strings in the caller's memory.
struct toyos_spawn_args {
    const char* program;
    const char* const* argv;  // argv[0] is the program name as the child sees it
    int argc;
    int flags;  // reserved, must be 0
};

// waitpid status encoding, same as Linux's: WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG apply.
// A process ended by kill(pid, sig) reports WIFSIGNALED with WTERMSIG == sig.

#ifdef __cplusplus
}  // namespace toyos::abi
#endif

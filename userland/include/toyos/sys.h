// <toyos/sys.h>: the toyos syscalls for userland programs.
//
// POSIX argument conventions; every call returns >= 0 on success and -errno on failure (no
// global errno), except mmap, which returns the address or MAP_FAILED with the errno in
// sys::last_mmap_error(). Memory handed to the kernel must be the program's own: its stack,
// memory from sys::mmap, or its loaded image (globals, string literals). Heap memory from
// malloc/new is not the process's as far as the kernel knows and gets -EFAULT.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>

#include "toyos/abi/syscalls.h"

// A userland program: `extern "C" int toyos_main(int argc, char** argv)` in a shared object
// run with `toyos run ./prog.so`, or a built-in declared with TOYOS_PROGRAM (program.h).

namespace toyos::sys {

long syscall6(long nr, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
              long a5 = 0);

// Files
int open(const char* path, int flags, mode_t mode = 0);
int openat(int dirfd, const char* path, int flags, mode_t mode = 0);
int close(int fd);
ssize_t read(int fd, void* buf, size_t count);
ssize_t write(int fd, const void* buf, size_t count);
ssize_t pread(int fd, void* buf, size_t count, off_t offset);
ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset);
off_t lseek(int fd, off_t offset, int whence);
int fsync(int fd);
int fdatasync(int fd);
int stat(const char* path, struct stat* st);
int fstat(int fd, struct stat* st);
int unlink(const char* path);
int mkdir(const char* path, mode_t mode);
int dup(int fd);
int dup2(int fd, int target);
int dup3(int fd, int target, int flags);   // O_CLOEXEC
int fcntl(int fd, int cmd, long arg = 0);  // F_DUPFD(_CLOEXEC), F_GETFD/SETFD, F_GETFL/SETFL
// Fills `buf` with struct linux_dirent64 records (see toyos/dirent.h); 0 at the end.
ssize_t getdents64(int fd, void* buf, size_t count);

// Sockets
int socket(int domain, int type, int protocol);
int bind(int fd, const struct sockaddr* addr, socklen_t len);
int listen(int fd, int backlog);
int accept(int fd, struct sockaddr* addr, socklen_t* len);
int connect(int fd, const struct sockaddr* addr, socklen_t len);
ssize_t send(int fd, const void* buf, size_t len, int flags);
ssize_t recv(int fd, void* buf, size_t len, int flags);
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr,
               socklen_t addrlen);
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* addr,
                 socklen_t* addrlen);
int setsockopt(int fd, int level, int name, const void* value, socklen_t len);
int getsockname(int fd, struct sockaddr* addr, socklen_t* len);

// Memory
void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset);
int munmap(void* addr, size_t length);
int last_mmap_error();  // the errno of the last failed mmap on this thread

// Events
int eventfd(unsigned int initval, int flags);  // EFD_NONBLOCK, EFD_SEMAPHORE

// io_uring: the raw ring syscalls (toyos/liburing.h is the friendly API over them).
int io_uring_setup(unsigned entries, void* params /* struct io_uring_params* */);
int io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                   const void* arg, size_t argsz);
int io_uring_register(int fd, unsigned opcode, const void* arg, unsigned nr_args);

// Processes
pid_t getpid();
pid_t getppid();
[[noreturn]] void exit(int status);
// Runs `program` (a built-in name, or the path of a .so inside the sandbox) with `argv`
// (null-terminated; argv[0] is the name the child sees). Returns the child's pid.
pid_t spawn(const char* program, const char* const* argv);
pid_t waitpid(pid_t pid, int* status, int options);
int kill(pid_t pid, int sig);
int sleep_ns(long nanoseconds);  // -EINTR if killed meanwhile

}  // namespace toyos::sys

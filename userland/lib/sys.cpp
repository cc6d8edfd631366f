#include "toyos/sys.h"

#include <cerrno>
#include <type_traits>

namespace toyos::sys {
namespace {
using namespace toyos::abi;
thread_local int t_mmap_error = 0;

template <class T>
long L(T v) {
    if constexpr (std::is_pointer_v<T>)
        return reinterpret_cast<long>(v);  // NOLINT
    else
        return static_cast<long>(v);
}
}  // namespace

long syscall6(long nr, long a0, long a1, long a2, long a3, long a4, long a5) {
    return toyos_syscall(nr, a0, a1, a2, a3, a4, a5);
}

int open(const char* path, int flags, mode_t mode) {
    return static_cast<int>(syscall6(TOYOS_SYS_open, L(path), flags, mode));
}
int openat(int dirfd, const char* path, int flags, mode_t mode) {
    return static_cast<int>(syscall6(TOYOS_SYS_openat, dirfd, L(path), flags, mode));
}
int close(int fd) {
    return static_cast<int>(syscall6(TOYOS_SYS_close, fd));
}
ssize_t read(int fd, void* buf, size_t count) {
    return syscall6(TOYOS_SYS_read, fd, L(buf), L(count));
}
ssize_t write(int fd, const void* buf, size_t count) {
    return syscall6(TOYOS_SYS_write, fd, L(buf), L(count));
}
ssize_t pread(int fd, void* buf, size_t count, off_t offset) {
    return syscall6(TOYOS_SYS_pread, fd, L(buf), L(count), offset);
}
ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
    return syscall6(TOYOS_SYS_pwrite, fd, L(buf), L(count), offset);
}
off_t lseek(int fd, off_t offset, int whence) {
    return syscall6(TOYOS_SYS_lseek, fd, offset, whence);
}
int dup(int fd) {
    return static_cast<int>(syscall6(TOYOS_SYS_dup, fd));
}

int dup2(int fd, int target) {
    return static_cast<int>(syscall6(TOYOS_SYS_dup2, fd, target));
}

int dup3(int fd, int target, int flags) {
    return static_cast<int>(syscall6(TOYOS_SYS_dup3, fd, target, flags));
}

int fcntl(int fd, int cmd, long arg) {
    return static_cast<int>(syscall6(TOYOS_SYS_fcntl, fd, cmd, arg));
}

int fsync(int fd) {
    return static_cast<int>(syscall6(TOYOS_SYS_fsync, fd));
}
int fdatasync(int fd) {
    return static_cast<int>(syscall6(TOYOS_SYS_fdatasync, fd));
}
int stat(const char* path, struct stat* st) {
    return static_cast<int>(syscall6(TOYOS_SYS_stat, L(path), L(st)));
}
int fstat(int fd, struct stat* st) {
    return static_cast<int>(syscall6(TOYOS_SYS_fstat, fd, L(st)));
}
int unlink(const char* path) {
    return static_cast<int>(syscall6(TOYOS_SYS_unlink, L(path)));
}
int mkdir(const char* path, mode_t mode) {
    return static_cast<int>(syscall6(TOYOS_SYS_mkdir, L(path), mode));
}
ssize_t getdents64(int fd, void* buf, size_t count) {
    return syscall6(TOYOS_SYS_getdents64, fd, L(buf), L(count));
}

int socket(int domain, int type, int protocol) {
    return static_cast<int>(syscall6(TOYOS_SYS_socket, domain, type, protocol));
}
int bind(int fd, const struct sockaddr* addr, socklen_t len) {
    return static_cast<int>(syscall6(TOYOS_SYS_bind, fd, L(addr), len));
}
int listen(int fd, int backlog) {
    return static_cast<int>(syscall6(TOYOS_SYS_listen, fd, backlog));
}
int accept(int fd, struct sockaddr* addr, socklen_t* len) {
    return static_cast<int>(syscall6(TOYOS_SYS_accept, fd, L(addr), L(len)));
}
int connect(int fd, const struct sockaddr* addr, socklen_t len) {
    return static_cast<int>(syscall6(TOYOS_SYS_connect, fd, L(addr), len));
}
ssize_t send(int fd, const void* buf, size_t len, int flags) {
    return sendto(fd, buf, len, flags, nullptr, 0);
}
ssize_t recv(int fd, void* buf, size_t len, int flags) {
    return recvfrom(fd, buf, len, flags, nullptr, nullptr);
}
ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr,
               socklen_t addrlen) {
    return syscall6(TOYOS_SYS_sendto, fd, L(buf), L(len), flags, L(addr), addrlen);
}
ssize_t recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* addr,
                 socklen_t* addrlen) {
    return syscall6(TOYOS_SYS_recvfrom, fd, L(buf), L(len), flags, L(addr), L(addrlen));
}
int setsockopt(int fd, int level, int name, const void* value, socklen_t len) {
    return static_cast<int>(syscall6(TOYOS_SYS_setsockopt, fd, level, name, L(value), len));
}
int getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
    return static_cast<int>(syscall6(TOYOS_SYS_getsockname, fd, L(addr), L(len)));
}

void* mmap(void* addr, size_t length, int prot, int flags, int fd, off_t offset) {
    long r = syscall6(TOYOS_SYS_mmap, L(addr), L(length), prot, flags, fd, offset);
    if (r < 0 && r > -4096) {
        t_mmap_error = static_cast<int>(-r);
        return MAP_FAILED;
    }
    return reinterpret_cast<void*>(r);
}
int munmap(void* addr, size_t length) {
    return static_cast<int>(syscall6(TOYOS_SYS_munmap, L(addr), L(length)));
}
int last_mmap_error() {
    return t_mmap_error;
}

int eventfd(unsigned int initval, int flags) {
    return static_cast<int>(syscall6(TOYOS_SYS_eventfd2, initval, flags));
}
int io_uring_setup(unsigned entries, void* params) {
    return static_cast<int>(syscall6(TOYOS_SYS_io_uring_setup, entries, L(params)));
}
int io_uring_enter(int fd, unsigned to_submit, unsigned min_complete, unsigned flags,
                   const void* arg, size_t argsz) {
    return static_cast<int>(
        syscall6(TOYOS_SYS_io_uring_enter, fd, to_submit, min_complete, flags, L(arg), L(argsz)));
}
int io_uring_register(int fd, unsigned opcode, const void* arg, unsigned nr_args) {
    return static_cast<int>(syscall6(TOYOS_SYS_io_uring_register, fd, opcode, L(arg), nr_args));
}

pid_t getpid() {
    return static_cast<pid_t>(syscall6(TOYOS_SYS_getpid));
}
pid_t getppid() {
    return static_cast<pid_t>(syscall6(TOYOS_SYS_getppid));
}
void exit(int status) {
    syscall6(TOYOS_SYS_exit, status);
    __builtin_unreachable();  // the kernel ends the thread on the way out of the gate
}
pid_t spawn(const char* program, const char* const* argv) {
    int argc = 0;
    while (argv != nullptr && argv[argc] != nullptr) ++argc;
    toyos_spawn_args args{program, argv, argc, 0};
    return static_cast<pid_t>(syscall6(TOYOS_SYS_spawn, L(&args)));
}
pid_t waitpid(pid_t pid, int* status, int options) {
    return static_cast<pid_t>(syscall6(TOYOS_SYS_waitpid, pid, L(status), options));
}
int kill(pid_t pid, int sig) {
    return static_cast<int>(syscall6(TOYOS_SYS_kill, pid, sig));
}
int sleep_ns(long nanoseconds) {
    return static_cast<int>(syscall6(TOYOS_SYS_sleep_ns, nanoseconds));
}

}  // namespace toyos::sys

// FdTable: a process's file descriptors. Numbers are the kernel's own (lowest free first,
// like POSIX); userland never sees a host fd.
#pragma once

#include <mutex>
#include <vector>

#include "kernel/file.h"

namespace toyos::kernel {

class FdTable {
  public:
    static constexpr int kMaxFds = 1024;

    // Lowest free number; EMFILE when full. `cloexec`: the fd's FD_CLOEXEC flag (O_CLOEXEC).
    Result<int> install(FileRef file, bool cloexec = false);
    Result<void> install_at(int fd, FileRef file);
    Result<FileRef> get(int fd) const;  // EBADF
    Result<FileRef> remove(int fd);     // EBADF

    // dup, fcntl(F_DUPFD): `fd`'s file also at the lowest free number >= `min_fd` (EBADF;
    // EINVAL for a `min_fd` outside the table; EMFILE when nothing is free from there).
    Result<int> dup(int fd, int min_fd, bool cloexec);
    // dup2, dup3: `fd`'s file also at `target` (EBADF for either out of range). What `target`
    // held is returned, to be released once the caller is out of the table's lock.
    Result<FileRef> dup_to(int fd, int target, bool cloexec);
    // The fd's FD_CLOEXEC flag (fcntl F_GETFD/F_SETFD); EBADF.
    Result<bool> cloexec(int fd) const;
    Result<void> set_cloexec(int fd, bool on);
    std::vector<std::pair<int, FileRef>> snapshot() const;
    size_t count() const;
    void clear();

  private:
    mutable std::mutex mutex_;
    std::vector<FileRef> files_;
    std::vector<bool> cloexec_;  // beside files_, as long
};

}  // namespace toyos::kernel

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

    Result<int> install(FileRef file);  // lowest free number; EMFILE when full
    Result<void> install_at(int fd, FileRef file);
    Result<FileRef> get(int fd) const;  // EBADF
    Result<FileRef> remove(int fd);     // EBADF
    std::vector<std::pair<int, FileRef>> snapshot() const;
    size_t count() const;
    void clear();

  private:
    mutable std::mutex mutex_;
    std::vector<FileRef> files_;
};

}  // namespace toyos::kernel

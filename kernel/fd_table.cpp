#include "kernel/fd_table.h"

#include <algorithm>

namespace toyos::kernel {

Result<int> FdTable::install(FileRef file, bool cloexec) {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < files_.size(); ++i) {
        if (!files_[i]) {
            files_[i] = std::move(file);
            cloexec_[i] = cloexec;
            return static_cast<int>(i);
        }
    }
    if (files_.size() >= kMaxFds) return err(EMFILE);
    files_.push_back(std::move(file));
    cloexec_.push_back(cloexec);
    return static_cast<int>(files_.size() - 1);
}

Result<void> FdTable::install_at(int fd, FileRef file) {
    if (fd < 0 || fd >= kMaxFds) return err(EBADF);
    FileRef old;  // released after the lock
    std::lock_guard lock(mutex_);
    if (files_.size() <= static_cast<size_t>(fd)) {
        files_.resize(fd + 1);
        cloexec_.resize(fd + 1);
    }
    old = std::move(files_[fd]);
    files_[fd] = std::move(file);
    cloexec_[fd] = false;
    return {};
}

Result<FileRef> FdTable::get(int fd) const {
    std::lock_guard lock(mutex_);
    if (fd < 0 || static_cast<size_t>(fd) >= files_.size() || !files_[fd]) return err(EBADF);
    return files_[fd];
}

Result<FileRef> FdTable::remove(int fd) {
    std::lock_guard lock(mutex_);
    if (fd < 0 || static_cast<size_t>(fd) >= files_.size() || !files_[fd]) return err(EBADF);
    FileRef f = std::move(files_[fd]);
    files_[fd] = nullptr;
    cloexec_[fd] = false;
    return f;
}

Result<int> FdTable::dup(int fd, int min_fd, bool cloexec) {
    std::lock_guard lock(mutex_);
    if (fd < 0 || static_cast<size_t>(fd) >= files_.size() || !files_[fd]) return err(EBADF);
    if (min_fd < 0 || min_fd >= kMaxFds) return err(EINVAL);
    for (size_t i = static_cast<size_t>(min_fd); i < files_.size(); ++i) {
        if (!files_[i]) {
            files_[i] = files_[fd];
            cloexec_[i] = cloexec;
            return static_cast<int>(i);
        }
    }
    const size_t at = std::max(files_.size(), static_cast<size_t>(min_fd));
    if (at >= kMaxFds) return err(EMFILE);
    files_.resize(at + 1);
    cloexec_.resize(at + 1);
    files_[at] = files_[fd];
    cloexec_[at] = cloexec;
    return static_cast<int>(at);
}

Result<FileRef> FdTable::dup_to(int fd, int target, bool cloexec) {
    std::lock_guard lock(mutex_);
    if (fd < 0 || static_cast<size_t>(fd) >= files_.size() || !files_[fd]) return err(EBADF);
    if (target < 0 || target >= kMaxFds) return err(EBADF);
    if (files_.size() <= static_cast<size_t>(target)) {
        files_.resize(target + 1);
        cloexec_.resize(target + 1);
    }
    FileRef old = std::move(files_[target]);
    files_[target] = files_[fd];
    cloexec_[target] = cloexec;
    return old;
}

Result<bool> FdTable::cloexec(int fd) const {
    std::lock_guard lock(mutex_);
    if (fd < 0 || static_cast<size_t>(fd) >= files_.size() || !files_[fd]) return err(EBADF);
    return static_cast<bool>(cloexec_[fd]);
}

Result<void> FdTable::set_cloexec(int fd, bool on) {
    std::lock_guard lock(mutex_);
    if (fd < 0 || static_cast<size_t>(fd) >= files_.size() || !files_[fd]) return err(EBADF);
    cloexec_[fd] = on;
    return {};
}

std::vector<std::pair<int, FileRef>> FdTable::snapshot() const {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<int, FileRef>> out;
    for (size_t i = 0; i < files_.size(); ++i)
        if (files_[i]) out.emplace_back(static_cast<int>(i), files_[i]);
    return out;
}

size_t FdTable::count() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const auto& f : files_) n += f ? 1 : 0;
    return n;
}

void FdTable::clear() {
    std::vector<FileRef> old;
    {
        std::lock_guard lock(mutex_);
        old.swap(files_);
        cloexec_.clear();
    }
}

}  // namespace toyos::kernel

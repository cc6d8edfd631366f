#include "kernel/fd_table.h"

namespace toyos::kernel {

Result<int> FdTable::install(FileRef file) {
    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < files_.size(); ++i) {
        if (!files_[i]) {
            files_[i] = std::move(file);
            return static_cast<int>(i);
        }
    }
    if (files_.size() >= kMaxFds) return err(EMFILE);
    files_.push_back(std::move(file));
    return static_cast<int>(files_.size() - 1);
}

Result<void> FdTable::install_at(int fd, FileRef file) {
    if (fd < 0 || fd >= kMaxFds) return err(EBADF);
    std::lock_guard lock(mutex_);
    if (files_.size() <= static_cast<size_t>(fd)) files_.resize(fd + 1);
    files_[fd] = std::move(file);
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
    return f;
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
    }
}

}  // namespace toyos::kernel

// Vfs: the toy file system namespace, a sandbox root directory on the host.
//
// Resolution never leaves the root, and the host kernel enforces it rather than string checks:
// every lookup is openat2(root, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). As in a chroot,
// "/.." is "/", an absolute symlink target is taken relative to the root, and magic links
// (/proc/self/root, /proc/<pid>/fd/N of the host) are refused with ELOOP. Toy paths are
// resolved from "/" (processes have no working directory of their own).
#pragma once

#include <sys/stat.h>

#include <memory>
#include <string>
#include <utility>

#include "kernel/result.h"

namespace toyos::kernel {

class Vfs {
  public:
    // Opens `root_dir` on the host as the sandbox root.
    static Result<std::unique_ptr<Vfs>> mount(const std::string& root_dir);
    ~Vfs();
    Vfs(const Vfs&) = delete;
    Vfs& operator=(const Vfs&) = delete;

    const std::string& root_path() const { return root_path_; }

    // openat(2) within the sandbox. `dir_host_fd` is the host fd of a toy directory fd for
    // relative paths (resolved beneath it), or -1 for the root. Returns a host fd.
    Result<int> open(const std::string& path, int flags, mode_t mode, int dir_host_fd = -1) const;
    Result<void> stat(const std::string& path, struct stat* st) const;
    Result<void> mkdir(const std::string& path, mode_t mode) const;
    Result<void> unlink(const std::string& path) const;

    static constexpr size_t kPathMax = 4096;

  private:
    Vfs(int root_fd, std::string root_path) : root_fd_(root_fd), root_path_(std::move(root_path)) {}
    // The parent directory of `path` (as an O_PATH host fd) and the last component.
    Result<std::pair<int, std::string>> open_parent(const std::string& path) const;

    int root_fd_;
    std::string root_path_;
};

}  // namespace toyos::kernel

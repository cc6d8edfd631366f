#include "kernel/vfs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>

namespace toyos::kernel {
namespace {

constexpr uint64_t kInRoot = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
constexpr uint64_t kBeneath = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
// Flags a toy process may pass to open; anything else is EINVAL.
constexpr int kAllowedOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK |
                                  O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_DIRECT | O_DSYNC |
                                  O_SYNC | O_NOATIME | O_PATH | O_LARGEFILE;
// The mode bits a toy process may give what it creates: never set-user-ID or set-group-ID.
// toyos often runs as root, and a set-id file it left in the sandbox directory would run with
// root's rights on the host (Linux keeps them only for a caller with CAP_FSETID, which a toy
// process is not). The sticky bit and the permission bits pass; umask applies as usual.
constexpr mode_t kCreatableModeBits = S_ISVTX | S_IRWXU | S_IRWXG | S_IRWXO;

Result<int> openat2_host(int dirfd, const std::string& path, uint64_t flags, mode_t mode,
                         uint64_t resolve) {
    struct open_how how {};
    how.flags = flags | O_CLOEXEC;
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? (mode & kCreatableModeBits) : 0;
    how.resolve = resolve;
    long fd;
    do {
        fd = ::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof(how));
    } while (fd < 0 && errno == EAGAIN);  // RESOLVE_IN_ROOT retries on a racing rename
    if (fd < 0) return err(errno);
    return static_cast<int>(fd);
}

}  // namespace

Result<std::unique_ptr<Vfs>> Vfs::mount(const std::string& root_dir) {
    int fd = ::open(root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return err(errno);
    char resolved[PATH_MAX];
    std::string path = ::realpath(root_dir.c_str(), resolved) ? resolved : root_dir;
    return std::unique_ptr<Vfs>(new Vfs(fd, path));
}

Vfs::~Vfs() {
    ::close(root_fd_);
}

Result<int> Vfs::open(const std::string& path, int flags, mode_t mode, int dir_host_fd) const {
    if (path.empty()) return err(ENOENT);
    if (path.size() > kPathMax) return err(ENAMETOOLONG);
    if (flags & ~kAllowedOpenFlags) return err(EINVAL);
    if (path[0] != '/' && dir_host_fd >= 0)
        return openat2_host(dir_host_fd, path, static_cast<unsigned>(flags), mode, kBeneath);
    return openat2_host(root_fd_, path, static_cast<unsigned>(flags), mode, kInRoot);
}

Result<void> Vfs::stat(const std::string& path, struct stat* st) const {
    int fd = TOYOS_TRY(open(path, O_PATH, 0));
    int r = ::fstat(fd, st);
    int e = errno;
    ::close(fd);
    if (r < 0) return err(e);
    return {};
}

Result<std::pair<int, std::string>> Vfs::open_parent(const std::string& path) const {
    if (path.empty()) return err(ENOENT);
    if (path.size() > kPathMax) return err(ENAMETOOLONG);
    std::string p = path;
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    const auto slash = p.rfind('/');
    std::string parent = slash == std::string::npos ? "/" : p.substr(0, slash + 1);
    std::string leaf = slash == std::string::npos ? p : p.substr(slash + 1);
    if (leaf.empty() || leaf == "/") return err(EBUSY);  // the root itself
    if (leaf == "." || leaf == "..") return err(EINVAL);
    int fd = TOYOS_TRY(openat2_host(root_fd_, parent, O_PATH | O_DIRECTORY, 0, kInRoot));
    return std::make_pair(fd, leaf);
}

Result<void> Vfs::mkdir(const std::string& path, mode_t mode) const {
    auto [dirfd, leaf] = TOYOS_TRY(open_parent(path));
    int r = ::mkdirat(dirfd, leaf.c_str(), mode & kCreatableModeBits);
    int e = errno;
    ::close(dirfd);
    if (r < 0) return err(e);
    return {};
}

Result<void> Vfs::unlink(const std::string& path) const {
    auto [dirfd, leaf] = TOYOS_TRY(open_parent(path));
    int r = ::unlinkat(dirfd, leaf.c_str(), 0);
    int e = errno;
    ::close(dirfd);
    if (r < 0) return err(e);
    return {};
}

}  // namespace toyos::kernel

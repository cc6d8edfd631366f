#include "kernel/devfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "kernel/log.h"
#include "kernel/path.h"

namespace toyos::kernel {
namespace {

std::string base_name(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

// A number from a sysfs attribute, or -1.
long sysfs_number(const std::string& path) {
    std::ifstream in(path);
    long v = -1;
    return (in >> v) ? v : -1;
}

// /sys/block/NAME/queue/io_poll: 1 when the driver has poll queues (nvme poll_queues=N).
bool queue_polls(const std::string& block_name) {
    return sysfs_number("/sys/block/" + block_name + "/queue/io_poll") == 1;
}

// An NVMe generic char device (ngXnY): its namespace id (asked of the driver) and block size
// (that of its block device nvmeXnY). ENODEV when it is not one or either is unknown.
Result<void> identify_namespace(const std::string& host_path, DeviceInfo& d) {
    const std::string base = base_name(host_path);
    struct stat cls {};
    if (::stat(("/sys/class/nvme-generic/" + base).c_str(), &cls) != 0) return err(ENODEV);
    const int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err(errno);
    const int nsid = ::ioctl(fd, NVME_IOCTL_ID);
    ::close(fd);
    const long lba = sysfs_number("/sys/block/nvme" + base.substr(2) + "/queue/logical_block_size");
    if (nsid <= 0 || lba < 512 || (lba & (lba - 1)) != 0) return err(ENODEV);
    d.nsid = static_cast<uint32_t>(nsid);
    d.lba_shift = static_cast<unsigned>(__builtin_ctzl(static_cast<unsigned long>(lba)));
    return {};
}

}  // namespace

Result<void> DevFs::add(const std::string& host_path, const std::string& name) {
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        return err(EINVAL);
    if (devices_.count(name) != 0) return err(EEXIST);
    struct stat st {};
    if (::stat(host_path.c_str(), &st) != 0) return err(errno);
    DeviceInfo d;
    d.name = name;
    d.host_path = host_path;
    if (S_ISBLK(st.st_mode)) {
        d.kind = FileKind::BlockDevice;
        d.io_poll = queue_polls(base_name(host_path));
    } else if (S_ISCHR(st.st_mode)) {
        // Only NVMe generic char devices: they are what URING_CMD passthrough speaks to.
        TOYOS_TRY_VOID(identify_namespace(host_path, d));
        d.kind = FileKind::CharDevice;
    } else {
        return err(ENODEV);
    }
    devices_[name] = d;
    return {};
}

Result<void> DevFs::add_stand_in(const DeviceInfo& d) {
    struct stat st {};
    if (::stat(d.host_path.c_str(), &st) != 0) return err(errno);
    const bool facts = d.kind == FileKind::BlockDevice ||
                       (d.kind == FileKind::CharDevice && d.nsid > 0 && d.lba_shift >= 9);
    if (!S_ISREG(st.st_mode) || !facts || d.name.empty() || d.name.find('/') != std::string::npos)
        return err(EINVAL);
    if (devices_.count(d.name) != 0) return err(EEXIST);
    devices_[d.name] = d;
    spdlog::info("dev: /dev/{} stands in for a {} (file {})", d.name, file_kind_name(d.kind),
                 d.host_path);
    return {};
}

size_t DevFs::add_nvme() {
    static const std::regex kNvme("(nvme|ng)[0-9]+n[0-9]+");
    size_t found = 0;
    DIR* dir = ::opendir("/dev");
    if (dir == nullptr) return 0;
    while (dirent* e = ::readdir(dir)) {
        if (!std::regex_match(e->d_name, kNvme)) continue;
        const std::string path = std::string("/dev/") + e->d_name;
        if (auto added = add(path, e->d_name); added.ok())
            ++found;
        else
            spdlog::warn("dev: {} not exposed: {}", path, std::strerror(added.error()));
    }
    ::closedir(dir);
    return found;
}

Result<void> DevFs::expose(const std::vector<std::pair<std::string, std::string>>& devices,
                           bool nvme) {
    for (const auto& [host, name] : devices) {
        if (auto added = add(host, name); added.is_error()) {
            spdlog::error("--device {}: {}", host, std::strerror(added.error()));
            return err(added.error());
        }
    }
    if (nvme && add_nvme() == 0)
        spdlog::info("dev: --nvme: this host has no NVMe namespace (/dev/nvmeXnY, /dev/ngXnY)");
    for (const auto& [name, d] : devices_) {
        if (d.kind == FileKind::CharDevice)
            spdlog::info(
                "dev: /dev/{} -> {} (chardev, NVMe nsid {}, {}-byte blocks): URING_CMD "
                "passthrough",
                name, d.host_path, d.nsid, 1u << d.lba_shift);
        else
            spdlog::info("dev: /dev/{} -> {} (blockdev, io_poll={})", name, d.host_path,
                         d.io_poll ? 1 : 0);
    }
    if (!has_passthrough())
        spdlog::info(
            "dev: no NVMe generic char device in /dev{}: IORING_OP_URING_CMD has no device "
            "(opening /dev/ngXnY: -ENOENT; URING_CMD on any other file: -EOPNOTSUPP)",
            nvme ? "" : " (expose the host's with --nvme)");
    if (!has_polling_queue())
        spdlog::info(
            "dev: no block device with a polling queue: no host IOPOLL ring; IOPOLL rings' "
            "O_DIRECT I/O completes through interrupts");
    return {};
}

bool DevFs::has_passthrough() const {
    for (const auto& [name, d] : devices_)
        if (d.kind == FileKind::CharDevice) return true;
    return false;
}

bool DevFs::has_polling_queue() const {
    for (const auto& [name, d] : devices_)
        if (d.kind == FileKind::BlockDevice && d.io_poll) return true;
    return false;
}

std::optional<std::vector<std::string>> DevFs::components(const std::string& path) {
    return components_under("dev", path);
}

const DeviceInfo* DevFs::memory_device(const std::string& name) {
    // Character devices with no state of their own (Linux's drivers/char/mem.c and random.c):
    // a toy process reads and writes the host's, through syscalls and ring operations alike.
    // Their kind is Other: they are not NVMe generic char devices (URING_CMD: -EOPNOTSUPP).
    static const DeviceInfo kMemory[] = {
        {"null", "/dev/null", FileKind::Other, false, 0, 0},
        {"zero", "/dev/zero", FileKind::Other, false, 0, 0},
        {"full", "/dev/full", FileKind::Other, false, 0, 0},
        {"random", "/dev/random", FileKind::Other, false, 0, 0},
        {"urandom", "/dev/urandom", FileKind::Other, false, 0, 0},
    };
    for (const DeviceInfo& d : kMemory)
        if (d.name == name) return &d;
    return nullptr;
}

Result<FileRef> DevFs::open(const std::vector<std::string>& comps, int flags) const {
    if (comps.empty()) return err(EISDIR);  // listing /dev: not needed by any program yet
    if (comps.size() != 1) return err(ENOENT);
    const DeviceInfo* found = memory_device(comps[0]);
    if (found == nullptr) {
        auto it = devices_.find(comps[0]);
        if (it == devices_.end()) return err(ENOENT);
        found = &it->second;
    }
    const DeviceInfo& d = *found;
    if (d.kind == FileKind::Other) {
        // As on Linux: `> /dev/null` opens it O_CREAT | O_TRUNC, which an existing device takes.
        if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) return err(EEXIST);
        if (flags & O_DIRECTORY) return err(ENOTDIR);
    } else if (flags & (O_CREAT | O_TRUNC | O_DIRECTORY)) {
        return err(EINVAL);
    }
    // Only what a device open means is passed on; O_NONBLOCK stays a toy flag.
    const int host_flags = (flags & (O_ACCMODE | O_DIRECT | O_SYNC | O_DSYNC)) | O_CLOEXEC;
    const int fd = ::open(d.host_path.c_str(), host_flags);
    if (fd < 0) return err(errno);
    const int mode = flags & O_ACCMODE;
    auto f = std::make_shared<DeviceFile>(fd, d, mode == O_WRONLY || mode == O_RDWR);
    f->set_device_flags((flags & O_DIRECT) != 0, d.io_poll);
    f->set_nonblocking((flags & O_NONBLOCK) != 0);
    return FileRef(std::move(f));
}

Result<void> DevFs::stat(const std::vector<std::string>& comps, struct stat* st) const {
    if (comps.empty()) {
        std::memset(st, 0, sizeof(*st));
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
        return {};
    }
    if (comps.size() != 1) return err(ENOENT);
    const DeviceInfo* d = memory_device(comps[0]);
    if (d == nullptr) {
        auto it = devices_.find(comps[0]);
        if (it == devices_.end()) return err(ENOENT);
        d = &it->second;
    }
    if (::stat(d->host_path.c_str(), st) != 0) return err(errno);
    return {};
}

}  // namespace toyos::kernel

#include "kernel/devfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "kernel/log.h"
#include "kernel/path.h"

namespace toyos::kernel {
namespace {

// /sys/block/NAME/queue/io_poll: 1 when the driver has poll queues (nvme poll_queues=N).
bool queue_polls(const std::string& host_path) {
    const std::string name = host_path.substr(host_path.rfind('/') + 1);
    std::ifstream in("/sys/block/" + name + "/queue/io_poll");
    int v = 0;
    return (in >> v) && v == 1;
}

}  // namespace

Result<void> DevFs::add(const std::string& host_path, const std::string& name) {
    struct stat st {};
    if (::stat(host_path.c_str(), &st) != 0) return err(errno);
    DeviceInfo d;
    d.name = name;
    d.host_path = host_path;
    if (S_ISBLK(st.st_mode)) {
        d.kind = FileKind::BlockDevice;
        d.io_poll = queue_polls(host_path);
    } else if (S_ISCHR(st.st_mode)) {
        // Only NVMe generic char devices: they are what URING_CMD passthrough speaks to.
        const std::string base = host_path.substr(host_path.rfind('/') + 1);
        struct stat cls {};
        if (::stat(("/sys/class/nvme-generic/" + base).c_str(), &cls) != 0) return err(ENODEV);
        d.kind = FileKind::CharDevice;
    } else {
        return err(ENODEV);
    }
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
        return err(EINVAL);
    devices_[name] = d;
    return {};
}

size_t DevFs::add_nvme() {
    static const std::regex kNvme("(nvme|ng)[0-9]+n[0-9]+");
    size_t found = 0;
    DIR* dir = ::opendir("/dev");
    if (dir == nullptr) return 0;
    while (dirent* e = ::readdir(dir)) {
        if (!std::regex_match(e->d_name, kNvme)) continue;
        if (add(std::string("/dev/") + e->d_name, e->d_name).ok()) ++found;
    }
    ::closedir(dir);
    return found;
}

bool DevFs::has_passthrough() const {
    for (const auto& [name, d] : devices_)
        if (d.kind == FileKind::CharDevice && name.rfind("ng", 0) == 0) return true;
    return false;
}

std::optional<std::vector<std::string>> DevFs::components(const std::string& path) {
    return components_under("dev", path);
}

Result<FileRef> DevFs::open(const std::vector<std::string>& comps, int flags) const {
    if (comps.empty()) return err(EISDIR);  // listing /dev: not needed by any program yet
    if (comps.size() != 1) return err(ENOENT);
    auto it = devices_.find(comps[0]);
    if (it == devices_.end()) return err(ENOENT);
    const DeviceInfo& d = it->second;
    if (flags & (O_CREAT | O_TRUNC | O_DIRECTORY)) return err(EINVAL);
    // Only what a device open means is passed on; O_NONBLOCK stays a toy flag.
    const int host_flags = (flags & (O_ACCMODE | O_DIRECT | O_SYNC | O_DSYNC)) | O_CLOEXEC;
    const int fd = ::open(d.host_path.c_str(), host_flags);
    if (fd < 0) return err(errno);
    auto f = std::make_shared<HostFile>(fd, d.kind, "/dev/" + d.name);
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
    auto it = devices_.find(comps[0]);
    if (it == devices_.end()) return err(ENOENT);
    if (::stat(it->second.host_path.c_str(), st) != 0) return err(errno);
    return {};
}

}  // namespace toyos::kernel

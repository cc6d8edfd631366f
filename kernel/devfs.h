// DevFs: /dev in the toy VFS. It holds the memory devices every program expects (null, zero,
// full, random, urandom: the host's own, which touch no host state) and the host devices the
// kernel was told to expose (`toyos run --device HOST[=NAME]`, or `--nvme` for every NVMe
// namespace the host has: /dev/nvmeXnY block devices and /dev/ngXnY generic char devices, the
// latter for IORING_OP_URING_CMD passthrough). Nothing else of the host's /dev is reachable.
//
// Like /proc, /dev is recognised lexically and shadows a "dev" directory in the sandbox root.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kernel/file.h"
#include "kernel/result.h"

namespace toyos::kernel {

struct DeviceInfo {
    std::string name;       // under /dev
    std::string host_path;  // e.g. /dev/ng0n1
    FileKind kind = FileKind::Other;
    bool io_poll = false;  // block device whose queue polls (/sys/block/X/queue/io_poll)
    // NVMe generic char devices: the namespace the commands must address and its block size,
    // which the kernel needs to check a command's data length against its block count.
    uint32_t nsid = 0;
    unsigned lba_shift = 0;
};

// An open device: a host fd, plus what the device is and how it was opened.
class DeviceFile final : public HostFile {
  public:
    DeviceFile(int host_fd, const DeviceInfo& info, bool writable)
        : HostFile(host_fd, info.kind, "/dev/" + info.name), info_(info), writable_(writable) {}
    const DeviceFile* as_device() const override { return this; }
    const DeviceInfo& info() const { return info_; }
    bool writable() const { return writable_; }  // opened O_WRONLY or O_RDWR

  private:
    DeviceInfo info_;
    bool writable_;
};

class DevFs {
  public:
    // Adds `host_path` as /dev/NAME. ENODEV if it is not a block device or an NVMe generic
    // char device whose namespace can be identified; EEXIST if NAME is taken.
    Result<void> add(const std::string& host_path, const std::string& name);
    // Tests only: `d.host_path` is a regular file that stands in for a block device or an NVMe
    // generic char device with the facts in `d`, so that what the kernel checks before the
    // device can be tested on machines without one. EINVAL if it is not a regular file.
    Result<void> add_stand_in(const DeviceInfo& d);
    // Every NVMe namespace of the host (block and generic char devices); how many were found.
    size_t add_nvme();
    // At boot: the --device list (any failure is an error) and, with `nvme`, every NVMe
    // namespace; then logs what /dev holds and what a program gets without a device.
    Result<void> expose(const std::vector<std::pair<std::string, std::string>>& devices, bool nvme);
    const std::map<std::string, DeviceInfo>& devices() const { return devices_; }
    // Whether a device takes URING_CMD passthrough / has a polling queue (for the host rings).
    bool has_passthrough() const;
    bool has_polling_queue() const;

    // The component below /dev of a toy path, or nullopt if the path is not under /dev.
    static std::optional<std::vector<std::string>> components(const std::string& path);
    Result<FileRef> open(const std::vector<std::string>& comps, int flags) const;
    Result<void> stat(const std::vector<std::string>& comps, struct stat* st) const;

  private:
    // /dev/null, zero, full, random, urandom, or nullptr.
    static const DeviceInfo* memory_device(const std::string& name);

    std::map<std::string, DeviceInfo> devices_;
};

}  // namespace toyos::kernel

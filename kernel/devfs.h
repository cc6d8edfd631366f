// DevFs: /dev in the toy VFS. It holds only the host devices the kernel was told to expose
// (`toyos run --device HOST[=NAME]`, or `--nvme` for every NVMe namespace the host has:
// /dev/nvmeXnY block devices and /dev/ngXnY generic char devices, the latter for
// IORING_OP_URING_CMD passthrough). Nothing else of the host's /dev is reachable.
//
// Like /proc, /dev is recognised lexically and shadows a "dev" directory in the sandbox root.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/file.h"
#include "kernel/result.h"

namespace toyos::kernel {

struct DeviceInfo {
    std::string name;       // under /dev
    std::string host_path;  // e.g. /dev/ng0n1
    FileKind kind = FileKind::Other;
    bool io_poll = false;  // block device whose queue polls (/sys/block/X/queue/io_poll)
};

class DevFs {
  public:
    // Adds `host_path` as /dev/NAME; ENODEV if it is not a block or char device.
    Result<void> add(const std::string& host_path, const std::string& name);
    // Every NVMe namespace of the host (block and generic char devices); how many were found.
    size_t add_nvme();
    const std::map<std::string, DeviceInfo>& devices() const { return devices_; }
    bool has_passthrough() const;

    // The component below /dev of a toy path, or nullopt if the path is not under /dev.
    static std::optional<std::vector<std::string>> components(const std::string& path);
    Result<FileRef> open(const std::vector<std::string>& comps, int flags) const;
    Result<void> stat(const std::vector<std::string>& comps, struct stat* st) const;

  private:
    std::map<std::string, DeviceInfo> devices_;
};

}  // namespace toyos::kernel

#include "iouring/ops/uring_cmd.h"

#include <liburing.h>
#include <linux/nvme_ioctl.h>
#include <sys/ioctl.h>

#include <cstddef>
#include <cstring>

#include "iouring/ops/op_support.h"
#include "iouring/request.h"
#include "kernel/devfs.h"
#include "kernel/process.h"

namespace toyos::iouring::uring_cmd {
namespace {

// NVME_URING_CMD_IO with a struct nvme_uring_cmd, checked as Linux checks an unprivileged
// opener's command (toy processes are not trusted with the device), plus what only the
// kernel can check here: the data buffer must be the process's memory, in the direction the
// command moves data, and exactly as long as the blocks the command transfers -- the device
// DMAs by block count, not by data_len. What is refused, and why, is in the ABI header.
int check_nvme_cmd(Request& req, const kernel::DeviceFile& dev, uint32_t setup_flags) {
    // NVMe needs the big SQE and CQE, as Linux's nvme driver insists.
    if (!(setup_flags & IORING_SETUP_SQE128) || !(setup_flags & IORING_SETUP_CQE32))
        return -EOPNOTSUPP;
    switch (req.cmd_op) {
        case NVME_URING_CMD_IO:
            break;
        case NVME_URING_CMD_IO_VEC:
        case NVME_URING_CMD_ADMIN:
        case NVME_URING_CMD_ADMIN_VEC:
            return -EOPNOTSUPP;  // Linux has them; toyos does not (ABI header)
        default:
            return -ENOTTY;
    }
    nvme_uring_cmd c{};
    std::memcpy(&c, req.cmd, sizeof(c));
    const kernel::DeviceInfo& ns = dev.info();
    if (c.flags != 0 || c.nsid != ns.nsid) return -EINVAL;
    if (c.metadata != 0 || c.metadata_len != 0) return -EINVAL;
    // The I/O command set's data commands; anything else (vendor-specific, dataset
    // management, reservations, ...) has effects the kernel cannot vouch for.
    enum : uint8_t { kFlush = 0x00, kWrite = 0x01, kRead = 0x02, kCompare = 0x05, kZeroes = 0x08 };
    const bool changes_media = c.opcode == kFlush || c.opcode == kWrite || c.opcode == kZeroes;
    switch (c.opcode) {
        case kFlush:
        case kWrite:
        case kRead:
        case kCompare:
        case kZeroes:
            break;
        default:
            return -EACCES;
    }
    if (changes_media && !dev.writable()) return -EACCES;
    if (c.opcode == kFlush || c.opcode == kZeroes)
        return c.addr == 0 && c.data_len == 0 ? 0 : -EINVAL;
    const uint64_t blocks = (c.cdw12 & 0xffffu) + 1;  // NLB, 0's based
    if (c.data_len != blocks << ns.lba_shift) return -EINVAL;
    const auto acc = c.opcode == kRead ? kernel::Access::Write : kernel::Access::Read;
    if (int r = pin_user(req, req.submitter->memory(), c.addr, c.data_len, acc); r < 0) return r;
    // The host sees the checked address.
    c.addr = reinterpret_cast<uintptr_t>(req.addr);
    std::memcpy(req.cmd, &c, sizeof(c));
    return 0;
}

}  // namespace

// The command is copied here; what it means is checked once the file is known to be an NVMe
// generic char device (check_file), as Linux leaves it to the driver.
int prep(const PrepContext& ctx, Request& req, const io_uring_sqe& sqe) {
    if (sqe.uring_cmd_flags != 0 || sqe.ioprio != 0) return -EINVAL;  // (off holds cmd_op)
    req.cmd_op = sqe.cmd_op;
    if (ctx.setup_flags & IORING_SETUP_SQE128)
        std::memcpy(req.cmd,
                    reinterpret_cast<const unsigned char*>(&sqe) + offsetof(io_uring_sqe, cmd),
                    sizeof(req.cmd));
    return 0;
}

int check_file(Request& req, const kernel::File& file, uint32_t setup_flags) {
    // Linux: -EOPNOTSUPP for a file whose driver has no uring_cmd.
    const kernel::DeviceFile* dev = file.as_device();
    if (dev == nullptr || dev->kind() != kernel::FileKind::CharDevice) return -EOPNOTSUPP;
    return check_nvme_cmd(req, *dev, setup_flags);
}

// Without a host passthrough ring: the same NVMe command through the driver's synchronous
// ioctl, with the same results (res = NVMe status or -errno, big_cqe[0] = result).
int64_t run(Request& r) {
    nvme_uring_cmd c{};
    std::memcpy(&c, r.cmd, sizeof(c));
    nvme_passthru_cmd64 p{};
    p.opcode = c.opcode;
    p.flags = c.flags;
    p.nsid = c.nsid;
    p.cdw2 = c.cdw2;
    p.cdw3 = c.cdw3;
    p.addr = c.addr;
    p.data_len = c.data_len;
    p.cdw10 = c.cdw10;
    p.cdw11 = c.cdw11;
    p.cdw12 = c.cdw12;
    p.cdw13 = c.cdw13;
    p.cdw14 = c.cdw14;
    p.cdw15 = c.cdw15;
    p.timeout_ms = c.timeout_ms;
    const int status = ::ioctl(r.host_fd, NVME_IOCTL_IO64_CMD, &p);
    if (status < 0) return -errno;
    r.big_cqe[0] = p.result;
    return status;
}

// The checked command, as submitted; its buffer is pinned by the request.
void host_prep(io_uring_sqe& sqe, Request& r, const HostTarget& t) {
    io_uring_prep_rw(IORING_OP_URING_CMD, &sqe, t.fd, nullptr, 0, 0);
    sqe.cmd_op = r.cmd_op;
    std::memcpy(sqe.cmd, r.cmd, sizeof(r.cmd));
}

}  // namespace toyos::iouring::uring_cmd

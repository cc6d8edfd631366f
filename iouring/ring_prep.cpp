// SyscallCompletionRing::prep: turns a copied SQE into a Request, or an errno for its CQE.
// Every pointer in the SQE is user memory and goes through the process's AddressSpace; the
// Request keeps a pin on each buffer so the memory outlives munmap and exit while the host
// may still touch it.
#include <fcntl.h>
#include <linux/time_types.h>
#include <netinet/in.h>
#include <time.h>

#include <linux/nvme_ioctl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "iouring/clock.h"
#include "iouring/ring.h"
#include "kernel/devfs.h"
#include "kernel/vfs.h"

namespace toyos::iouring {
namespace {

constexpr uint32_t kUioMaxIov = 1024;
constexpr uint8_t kSqeFlags = IOSQE_FIXED_FILE | IOSQE_IO_DRAIN | IOSQE_IO_LINK |
                              IOSQE_IO_HARDLINK | IOSQE_ASYNC | IOSQE_CQE_SKIP_SUCCESS;
constexpr uint32_t kRwFlags = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND;
// SEND/RECV/SENDMSG/RECVMSG msg_flags are not checked: Linux hands them to the socket, which
// ignores what it does not know (MSG_CMSG_CLOEXEC on a send, say), and so does the host here.

}  // namespace

int SyscallCompletionRing::prep(Request* req, const io_uring_sqe& sqe) {
    auto& mem = submitter_->memory();  // the submission's process (ring.h)
    req->user_data = sqe.user_data;
    req->opcode = sqe.opcode;
    req->sqe_flags = sqe.flags;
    req->sqe_fd = sqe.fd;
    if (sqe.flags & ~kSqeFlags) return -EINVAL;  // BUFFER_SELECT and unknown bits
    if (sqe.flags & IOSQE_CQE_SKIP_SUCCESS) drain_disabled_ = true;
    if ((sqe.flags & IOSQE_IO_DRAIN) && drain_disabled_) return -EOPNOTSUPP;
    if (sqe.personality != 0) return -EINVAL;

    // A data buffer: checked here (the host only ever sees checked memory, pinned), but a
    // buffer that fails is, as on Linux, the operation's fault when it runs: the SQE is
    // consumed and completes with the error at issue (dispatch), breaking its link chain there.
    auto pin_data = [&](uint64_t addr, size_t len, kernel::Access acc) {
        auto buf = mem.access(addr, len, acc);
        if (buf.is_error()) {
            if (req->issue_error == 0) req->issue_error = -buf.error();
            return;
        }
        if (buf->pin) req->pins.push_back(std::move(buf->pin));
    };
    auto copy_iovecs = [&](uint64_t user_iov, uint32_t count, kernel::Access acc) -> int {
        if (count > kUioMaxIov) return -EINVAL;
        iovec* dst = req->inline_iov;
        if (count > 4) {
            req->heap_iov.resize(count);
            dst = req->heap_iov.data();
        }
        if (count > 0) {  // the array is copied at prep, as Linux imports it (-EFAULT here)
            auto c = mem.copy_from_user(dst, kernel::UserPtr<iovec>(user_iov), count);
            if (c.is_error()) return -c.error();
        }
        for (uint32_t i = 0; i < count; ++i)
            pin_data(reinterpret_cast<uintptr_t>(dst[i].iov_base), dst[i].iov_len, acc);
        req->iov = dst;
        req->iovcnt = count;
        return 0;
    };

    // IOPOLL rings take only what can be polled for (Linux's io_op_def.iopoll).
    if (setup_flags_ & IORING_SETUP_IOPOLL) {
        switch (sqe.opcode) {
            case IORING_OP_NOP:
            case IORING_OP_READ:
            case IORING_OP_WRITE:
            case IORING_OP_READV:
            case IORING_OP_WRITEV:
            case IORING_OP_READ_FIXED:
            case IORING_OP_WRITE_FIXED:
            case IORING_OP_URING_CMD:
                break;
            default:
                return -EINVAL;
        }
    }

    switch (sqe.opcode) {
        case IORING_OP_NOP:
            return 0;

        case IORING_OP_URING_CMD:
            return prep_uring_cmd(req, sqe);

        case IORING_OP_READ:
        case IORING_OP_WRITE:
        case IORING_OP_READ_FIXED:
        case IORING_OP_WRITE_FIXED:
        case IORING_OP_READV:
        case IORING_OP_WRITEV: {
            const bool is_read = sqe.opcode == IORING_OP_READ || sqe.opcode == IORING_OP_READV ||
                                 sqe.opcode == IORING_OP_READ_FIXED;
            const auto acc = is_read ? kernel::Access::Write : kernel::Access::Read;
            if (sqe.rw_flags & ~kRwFlags) return -EINVAL;
            if (sqe.splice_fd_in != 0) return -EINVAL;
            req->off = sqe.off;
            req->op_flags = sqe.rw_flags;
            // buf_index means something only to the *_FIXED ops (and to buffer selection,
            // which toyos refuses): elsewhere Linux ignores it, and so does toyos.
            if (sqe.opcode == IORING_OP_READV || sqe.opcode == IORING_OP_WRITEV)
                return copy_iovecs(sqe.addr, sqe.len, acc);
            req->addr = reinterpret_cast<void*>(sqe.addr);
            req->len = sqe.len;
            if (sqe.opcode == IORING_OP_READ_FIXED || sqe.opcode == IORING_OP_WRITE_FIXED) {
                // Linux looks the registered buffer up at issue: a bad index or range is
                // that issue's -EFAULT.
                auto b = regs_.fixed_buffer(sqe.buf_index, sqe.addr, sqe.len);
                if (b.is_error()) {
                    req->issue_error = -b.error();
                    return 0;
                }
                req->buf_index = sqe.buf_index;
                req->pins.push_back(std::move(b.value()));
                return 0;
            }
            pin_data(sqe.addr, sqe.len, acc);
            return 0;
        }

        case IORING_OP_FSYNC:
            if (sqe.fsync_flags & ~IORING_FSYNC_DATASYNC) return -EINVAL;
            if (sqe.addr || sqe.buf_index || sqe.splice_fd_in) return -EINVAL;
            req->op_flags = sqe.fsync_flags;
            return 0;

        case IORING_OP_SEND:
        case IORING_OP_RECV: {
            const bool send = sqe.opcode == IORING_OP_SEND;
            if (sqe.ioprio != 0 || sqe.buf_index != 0) return -EINVAL;
            req->addr = reinterpret_cast<void*>(sqe.addr);
            req->len = sqe.len;
            req->op_flags = sqe.msg_flags;
            pin_data(sqe.addr, sqe.len, send ? kernel::Access::Read : kernel::Access::Write);
            return 0;
        }

        case IORING_OP_SENDMSG:
        case IORING_OP_RECVMSG: {
            const bool send = sqe.opcode == IORING_OP_SENDMSG;
            if (sqe.buf_index != 0) return -EINVAL;
            msghdr m{};
            auto c = mem.copy_from_user(&m, kernel::UserPtr<msghdr>(sqe.addr));
            if (c.is_error()) return -c.error();
            if (m.msg_control != nullptr || m.msg_controllen != 0) return -EINVAL;
            const auto acc = send ? kernel::Access::Read : kernel::Access::Write;
            if (m.msg_iovlen > kUioMaxIov) return -EMSGSIZE;
            if (int r = copy_iovecs(reinterpret_cast<uintptr_t>(m.msg_iov),
                                    static_cast<uint32_t>(m.msg_iovlen), acc))
                return r;
            // The name never reaches the host as a user pointer: SENDMSG's is copied in here
            // (as Linux copies it at prep); RECVMSG's is received into the request and copied
            // out at completion, with the msg_namelen the caller has then (copy_out_sockaddr).
            void* name = nullptr;
            socklen_t namelen = 0;
            if (m.msg_name != nullptr) {
                // Linux clamps a longer name buffer to a sockaddr_storage (__copy_msghdr).
                m.msg_namelen = std::min<socklen_t>(m.msg_namelen, sizeof(sockaddr_storage));
                if (send) {
                    auto n = mem.copy_from_user(
                        reinterpret_cast<char*>(&req->sockaddr),
                        kernel::UserPtr<char>(reinterpret_cast<uintptr_t>(m.msg_name)),
                        m.msg_namelen);
                    if (n.is_error()) return -n.error();
                    namelen = m.msg_namelen;
                } else {
                    req->user_sockaddr = reinterpret_cast<uintptr_t>(m.msg_name);
                    req->user_addrlen = sqe.addr + offsetof(msghdr, msg_namelen);
                    namelen = sizeof(sockaddr_storage);
                }
                name = &req->sockaddr;
            }
            req->msg = msghdr{name, namelen, req->iov, req->iovcnt, nullptr, 0, 0};
            req->user_msghdr = send ? 0 : sqe.addr;
            req->op_flags = sqe.msg_flags;
            return 0;
        }

        case IORING_OP_ACCEPT: {
            if (sqe.accept_flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) return -EINVAL;
            if (sqe.len || sqe.buf_index || sqe.file_index) return -EINVAL;
            req->op_flags = sqe.accept_flags;
            // Linux reads *addrlen only once the connection is there, and writes the address
            // then: the host accepts into the request's storage, and completion copies it out
            // through the checked door with the caller's *addrlen of that moment (-EFAULT,
            // -EINVAL there). Nothing is read here: there is nothing to check yet.
            if (sqe.addr != 0) {
                req->user_sockaddr = sqe.addr;
                req->user_addrlen = sqe.addr2;
                req->sockaddr_len = sizeof(sockaddr_storage);
            }
            return 0;
        }

        case IORING_OP_CONNECT: {
            if (sqe.len || sqe.buf_index || sqe.rw_flags || sqe.splice_fd_in) return -EINVAL;
            const uint64_t len = sqe.off;
            if (len < sizeof(sa_family_t) || len > sizeof(sockaddr_storage)) return -EINVAL;
            auto c = mem.copy_from_user(reinterpret_cast<char*>(&req->sockaddr),
                                        kernel::UserPtr<char>(sqe.addr), len);
            if (c.is_error()) return -c.error();
            if (req->sockaddr.ss_family != AF_INET && req->sockaddr.ss_family != AF_INET6)
                return -EAFNOSUPPORT;
            req->sockaddr_len = static_cast<socklen_t>(len);
            return 0;
        }

        case IORING_OP_OPENAT: {
            if (sqe.buf_index || sqe.file_index) return -EINVAL;
            if (sqe.flags & IOSQE_FIXED_FILE) return -EBADF;
            auto path =
                mem.copy_string_from_user(kernel::UserPtr<char>(sqe.addr), kernel::Vfs::kPathMax);
            if (path.is_error()) return -path.error();
            req->path = std::move(path.value());
            req->len = sqe.len;  // mode
            req->op_flags = sqe.open_flags;
            return 0;
        }

        case IORING_OP_CLOSE:
            if (sqe.off || sqe.addr || sqe.len || sqe.rw_flags || sqe.buf_index || sqe.file_index)
                return -EINVAL;
            if (sqe.flags & IOSQE_FIXED_FILE) return -EBADF;
            return 0;

        case IORING_OP_TOYOS_LSEEK:
            if (sqe.len != SEEK_SET && sqe.len != SEEK_CUR && sqe.len != SEEK_END &&
                sqe.len != SEEK_DATA && sqe.len != SEEK_HOLE)
                return -EINVAL;
            req->off = sqe.off;
            req->len = sqe.len;
            return 0;

        case IORING_OP_TIMEOUT:
        case IORING_OP_LINK_TIMEOUT: {
            const bool link = sqe.opcode == IORING_OP_LINK_TIMEOUT;
            if (sqe.buf_index || sqe.len != 1 || sqe.splice_fd_in) return -EINVAL;
            const uint32_t allowed = IORING_TIMEOUT_ABS | IORING_TIMEOUT_CLOCK_MASK;
            if (sqe.timeout_flags & ~allowed) return -EINVAL;
            if ((sqe.timeout_flags & IORING_TIMEOUT_CLOCK_MASK) == IORING_TIMEOUT_CLOCK_MASK)
                return -EINVAL;
            // Linux reads the completion count as 32 bits (io_timeout_prep: u32 off), so 2^32+1
            // is a count of 1 and a LINK_TIMEOUT's off of 2^32 is 0.
            const auto count = static_cast<uint32_t>(sqe.off);
            if (link && count != 0) return -EINVAL;
            __kernel_timespec ts{};
            auto c = mem.copy_from_user(&ts, kernel::UserPtr<__kernel_timespec>(sqe.addr));
            if (c.is_error()) return -c.error();
            // As Linux: negative fields are refused, a tv_nsec of 10^9 or more is just added.
            if (ts.tv_sec < 0 || ts.tv_nsec < 0) return -EINVAL;
            int64_t ns = 0;
            if (!(sqe.timeout_flags & IORING_TIMEOUT_ABS)) {
                ns = saturating_timespec_ns(ts.tv_sec, ts.tv_nsec);
            } else {
                const clockid_t clock =
                    (sqe.timeout_flags & IORING_TIMEOUT_BOOTTIME)   ? CLOCK_BOOTTIME
                    : (sqe.timeout_flags & IORING_TIMEOUT_REALTIME) ? CLOCK_REALTIME
                                                                    : CLOCK_MONOTONIC;
                timespec now{};
                clock_gettime(clock, &now);
                // The distance to the deadline, saturated (a deadline in the year 4000 is far,
                // not past).
                ns = std::max<int64_t>(
                    0, saturating_timespec_ns(ts.tv_sec - now.tv_sec, ts.tv_nsec - now.tv_nsec));
            }
            req->timeout_ns = ns;
            req->timeout_count = count;
            req->op_flags = sqe.timeout_flags;
            return 0;
        }

        case IORING_OP_ASYNC_CANCEL: {
            const uint32_t allowed = IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_FD |
                                     IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_FD_FIXED;
            if (sqe.cancel_flags & ~allowed) return -EINVAL;
            if (sqe.len || sqe.splice_fd_in || sqe.buf_index) return -EINVAL;
            req->cancel_key = sqe.addr;
            req->op_flags = sqe.cancel_flags;
            return 0;
        }

        default:
            return -EINVAL;
    }
}

int SyscallCompletionRing::pin_user(Request* req, uint64_t addr, size_t len, kernel::Access acc) {
    auto buf = submitter_->memory().access(addr, len, acc);
    if (buf.is_error()) return -buf.error();
    if (buf->pin) req->pins.push_back(std::move(buf->pin));
    req->addr = buf->data;
    req->len = static_cast<uint32_t>(len);
    return 0;
}

// IORING_OP_URING_CMD: the command is copied here; what it means is checked once the file is
// known to be an NVMe generic char device (check_nvme_cmd), as Linux leaves it to the driver.
int SyscallCompletionRing::prep_uring_cmd(Request* req, const io_uring_sqe& sqe) {
    if (sqe.uring_cmd_flags != 0 || sqe.ioprio != 0) return -EINVAL;  // (off holds cmd_op)
    req->cmd_op = sqe.cmd_op;
    if (setup_flags_ & IORING_SETUP_SQE128)
        std::memcpy(req->cmd,
                    reinterpret_cast<const unsigned char*>(&sqe) + offsetof(io_uring_sqe, cmd),
                    sizeof(req->cmd));
    return 0;
}

// NVME_URING_CMD_IO with a struct nvme_uring_cmd, checked as Linux checks an unprivileged
// opener's command (toy processes are not trusted with the device), plus what only the
// kernel can check here: the data buffer must be the process's memory, in the direction the
// command moves data, and exactly as long as the blocks the command transfers -- the device
// DMAs by block count, not by data_len. What is refused, and why, is in the ABI header.
int SyscallCompletionRing::check_nvme_cmd(Request* req, const kernel::DeviceFile& dev) {
    // NVMe needs the big SQE and CQE, as Linux's nvme driver insists.
    if (!(setup_flags_ & IORING_SETUP_SQE128) || !(setup_flags_ & IORING_SETUP_CQE32))
        return -EOPNOTSUPP;
    switch (req->cmd_op) {
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
    std::memcpy(&c, req->cmd, sizeof(c));
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
    if (int r = pin_user(req, c.addr, c.data_len, acc); r < 0) return r;
    // The host sees the checked address.
    c.addr = reinterpret_cast<uintptr_t>(req->addr);
    std::memcpy(req->cmd, &c, sizeof(c));
    return 0;
}

}  // namespace toyos::iouring

// Devices on a machine that has none: DevFs refuses what it cannot identify, and regular files
// standing in for an NVMe namespace and a polling block device (DevFs::add_stand_in) run every
// check the kernel makes before the device -- the NVMe command rules on both executors, and
// the host passthrough and IOPOLL rings' plumbing. The real device runs in the QEMU guest
// (qemu/, label qemu).
#include <gtest/gtest.h>
#include <linux/nvme_ioctl.h>
#include <sys/wait.h>

#include <cstdlib>
#include <cstring>

#include "kernel/devfs.h"
#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

constexpr int kSkipNoDirectIo = 77;  // the sandbox's file system has no O_DIRECT
constexpr int kSkipNoIopoll = 78;    // ... or its files cannot be polled for

bool uring_executor() {
    return proc_iouring("HostRings") > 0;
}

nvme_uring_cmd* nvme_cmd(io_uring_sqe* sqe) {
    return reinterpret_cast<nvme_uring_cmd*>(reinterpret_cast<unsigned char*>(sqe) +
                                             offsetof(io_uring_sqe, cmd));
}

const unsigned char kReadOnly[4096] = {1};  // the image's read-only data

int prog_nvme_checks(int, char**) {
    const int ro = sys::open("/dev/ng0n1", O_RDONLY);
    const int rw = sys::open("/dev/ng0n1", O_RDWR);
    T_CHECK(ro >= 0 && rw >= 0);
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32) == 0);
    void* mem =
        sys::mmap(nullptr, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T_CHECK(mem != MAP_FAILED);
    const long long ops_before = proc_iouring("HostPassthroughOps");
    // A read of 8 blocks (4 KiB) at block 0, changed by `tweak`; the CQE's res.
    auto run = [&](int fd, auto&& tweak) -> int {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), fd);
        nvme_uring_cmd* c = nvme_cmd(sqe);
        std::memset(c, 0, sizeof(*c));
        c->opcode = 0x02;
        c->nsid = 1;
        c->addr = reinterpret_cast<uintptr_t>(mem);
        c->data_len = 4096;
        c->cdw12 = 7;
        tweak(sqe, c);
        io_uring_cqe* cqe = nullptr;
        if (io_uring_submit_and_wait(&ring, 1) != 1 || io_uring_wait_cqe(&ring, &cqe) != 0)
            return -9999;
        const int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        return res;
    };
    auto none = [](io_uring_sqe*, nvme_uring_cmd*) {};
    // What the kernel refuses before any device sees it.
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) { c->data_len = 3584; }) == -EINVAL);
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) { c->cdw12 = 8; }) == -EINVAL);
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) { c->nsid = 2; }) == -EINVAL);
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) { c->flags = 1; }) == -EINVAL);
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) { c->metadata_len = 8; }) == -EINVAL);
    static unsigned char* heap = new unsigned char[4096];
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) {
                c->addr = reinterpret_cast<uintptr_t>(heap);
            }) == -EFAULT);
    // A read stores into its buffer: read-only memory is refused.
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) {
                c->addr = reinterpret_cast<uintptr_t>(kReadOnly);
            }) == -EFAULT);
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = 0x01; }) == -EACCES);
    T_CHECK(run(ro, [](io_uring_sqe*, nvme_uring_cmd* c) {
                c->opcode = 0x00;
                c->addr = 0;
                c->data_len = 0;
            }) == -EACCES);
    T_CHECK(run(rw, [](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = 0x09; }) == -EACCES);
    T_CHECK(run(rw, [](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = 0x81; }) == -EACCES);
    T_CHECK(run(rw, [](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = 0x00; }) == -EINVAL);
    T_CHECK(run(ro, [](io_uring_sqe* s, nvme_uring_cmd*) { s->cmd_op = NVME_URING_CMD_IO_VEC; }) ==
            -EOPNOTSUPP);
    T_CHECK(run(ro, [](io_uring_sqe* s, nvme_uring_cmd*) { s->cmd_op = NVME_URING_CMD_ADMIN; }) ==
            -EOPNOTSUPP);
    T_CHECK(run(ro, [](io_uring_sqe* s, nvme_uring_cmd*) { s->cmd_op = 7; }) == -ENOTTY);
    T_CHECK(run(ro, [](io_uring_sqe* s, nvme_uring_cmd*) { s->uring_cmd_flags = 1; }) == -EINVAL);
    // A command that passes them reaches the host, where a regular file has no NVMe driver:
    // the passthrough ring answers like Linux for a file without uring_cmd, the thread pool's
    // nvme ioctl like Linux for a file without that ioctl.
    const bool uring = uring_executor();
    const int expected = uring ? -EOPNOTSUPP : -ENOTTY;
    T_CHECK(run(ro, none) == expected);
    T_CHECK(run(rw, [](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = 0x01; }) == expected);
    if (uring) {
        T_CHECK(proc_iouring("HostPassthroughRing") == 1);
        T_CHECK(proc_iouring("HostPassthroughOps") - ops_before == 2);
    } else {
        T_CHECK(proc_iouring("HostPassthroughOps") == 0);
    }
    // A ring of 64-byte SQEs cannot carry the command.
    io_uring small;
    T_CHECK(io_uring_queue_init(4, &small, 0) == 0);
    io_uring_sqe* sqe = io_uring_get_sqe(&small);
    io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), ro);
    io_uring_cqe* cqe = nullptr;
    T_CHECK(io_uring_submit_and_wait(&small, 1) == 1 && io_uring_wait_cqe(&small, &cqe) == 0);
    T_CHECK(cqe->res == -EOPNOTSUPP);
    io_uring_cqe_seen(&small, cqe);
    io_uring_queue_exit(&small);
    io_uring_queue_exit(&ring);
    return 0;
}

unsigned char pattern_byte(size_t i) {
    return static_cast<unsigned char>((i * 2654435761u) >> 13);
}

// O_DIRECT reads of a polling block device's stand-in on an IOPOLL ring, some into
// registered buffers: on the uring executor, every one on the host IOPOLL ring.
int prog_iopoll_stand_in(int, char**) {
    const int fd = sys::open("/dev/disk0", O_RDONLY | O_DIRECT);
    if (fd == -EINVAL) return kSkipNoDirectIo;
    T_CHECK(fd >= 0);
    io_uring ring;
    constexpr size_t kOps = 32, kLen = 4096;
    T_CHECK(io_uring_queue_init(kOps, &ring, IORING_SETUP_IOPOLL) == 0);
    auto* mem = static_cast<unsigned char*>(sys::mmap(nullptr, kOps * kLen, PROT_READ | PROT_WRITE,
                                                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    T_CHECK(mem != MAP_FAILED);
    iovec iov{mem, kOps * kLen};
    T_CHECK(io_uring_register_buffers(&ring, &iov, 1) == 0);
    const long long iopoll_before = proc_iouring("HostIopollOps");
    const long long fixed_before = proc_iouring("HostFixedBufferOps");
    for (unsigned i = 0; i < kOps; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        T_CHECK(sqe != nullptr);
        const uint64_t off = uint64_t{i} * 7 % kOps * kLen;
        if (i % 2 == 0)
            io_uring_prep_read(sqe, fd, mem + i * kLen, kLen, off);
        else
            io_uring_prep_read_fixed(sqe, fd, mem + i * kLen, kLen, off, 0);
        sqe->user_data = i;
    }
    T_CHECK(io_uring_submit(&ring) == static_cast<int>(kOps));
    for (unsigned n = 0; n < kOps; ++n) {
        io_uring_cqe* cqe = nullptr;
        T_CHECK(io_uring_wait_cqe(&ring, &cqe) == 0);
        const unsigned i = static_cast<unsigned>(cqe->user_data);
        const int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        if (res == -EOPNOTSUPP) return kSkipNoIopoll;
        T_CHECK(res == static_cast<int>(kLen));
        const uint64_t off = uint64_t{i} * 7 % kOps * kLen;
        for (unsigned b = 0; b < kLen; ++b) T_CHECK(mem[i * kLen + b] == pattern_byte(off + b));
    }
    if (uring_executor()) {
        T_CHECK(proc_iouring("HostIopollRing") == 1);
        T_CHECK(proc_iouring("HostIopollOps") - iopoll_before == kOps);
        T_CHECK(proc_iouring("HostFixedBufferOps") - fixed_before == kOps / 2);
    } else {
        T_CHECK(proc_iouring("HostIopollOps") == 0);
    }
    io_uring_queue_exit(&ring);
    sys::close(fd);
    return 0;
}

kernel::DeviceInfo stand_in(const std::string& path, const char* name, kernel::FileKind kind) {
    kernel::DeviceInfo d;
    d.name = name;
    d.host_path = path;
    d.kind = kind;
    d.io_poll = kind == kernel::FileKind::BlockDevice;
    d.nsid = 1;
    d.lba_shift = 9;
    return d;
}

}  // namespace

TEST(DevFs, ExposesOnlyDevicesItCanIdentify) {
    test::TempRoot root;
    root.write("file", "x");
    kernel::DevFs fs;
    auto error = [](kernel::Result<void> r) { return r.is_error() ? r.error() : 0; };
    EXPECT_EQ(error(fs.add("/dev/null", "null")), ENODEV);  // a char device, not NVMe
    EXPECT_EQ(error(fs.add(root.path() + "/file", "file")), ENODEV);
    EXPECT_EQ(error(fs.add(root.path() + "/none", "none")), ENOENT);
    EXPECT_EQ(error(fs.add("/dev/null", "a/b")), EINVAL);
    EXPECT_EQ(error(fs.add("/dev/null", "..")), EINVAL);
    EXPECT_FALSE(fs.has_passthrough());
    EXPECT_FALSE(fs.has_polling_queue());
    // Stand-ins must be regular files with the facts a device would have given.
    auto ng = stand_in(root.path() + "/file", "ng0n1", kernel::FileKind::CharDevice);
    ng.lba_shift = 0;
    EXPECT_EQ(error(fs.add_stand_in(ng)), EINVAL);
    ng.lba_shift = 9;
    EXPECT_EQ(error(fs.add_stand_in(stand_in("/dev/null", "x", kernel::FileKind::CharDevice))),
              EINVAL);
    EXPECT_EQ(error(fs.add_stand_in(ng)), 0);
    EXPECT_EQ(error(fs.add_stand_in(ng)), EEXIST);
    EXPECT_TRUE(fs.has_passthrough());
    EXPECT_EQ(error(fs.add_stand_in(
                  stand_in(root.path() + "/file", "disk0", kernel::FileKind::BlockDevice))),
              0);
    EXPECT_TRUE(fs.has_polling_queue());
    // Only what was exposed opens; nothing else under /dev.
    EXPECT_EQ(fs.open({"sda"}, O_RDONLY).error(), ENOENT);
    EXPECT_EQ(fs.open({"ng0n1", "x"}, O_RDONLY).error(), ENOENT);
    EXPECT_EQ(fs.open({"ng0n1"}, O_RDWR | O_CREAT).error(), EINVAL);
    auto f = fs.open({"ng0n1"}, O_RDWR);
    ASSERT_TRUE(f.ok());
    ASSERT_NE(f.value()->as_device(), nullptr);
    EXPECT_TRUE(f.value()->as_device()->writable());
    EXPECT_EQ(f.value()->as_device()->info().nsid, 1u);
}

TEST(DeviceStandIns, NvmeCommandChecksBeforeTheDevice) {
    test::TempRoot root;
    root.write("ng.img", std::string(1 << 20, '\0'));
    kernel::KernelConfig config;
    config.stand_in_devices.push_back(
        stand_in(root.path() + "/ng.img", "ng0n1", kernel::FileKind::CharDevice));
    EXPECT_EQ(exit_code(test::run_program(root.path(), "nvme", prog_nvme_checks, {}, config)), 0);
}

TEST(DeviceStandIns, IopollRingOnAPollingBlockDevice) {
    test::TempRoot root;
    std::string data(size_t{32} * 4096, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(pattern_byte(i));
    root.write("disk.img", data);
    kernel::KernelConfig config;
    config.stand_in_devices.push_back(
        stand_in(root.path() + "/disk.img", "disk0", kernel::FileKind::BlockDevice));
    const int code =
        exit_code(test::run_program(root.path(), "iopoll", prog_iopoll_stand_in, {}, config));
    if (code == kSkipNoDirectIo) GTEST_SKIP() << "no O_DIRECT on the file system of /tmp";
    if (code == kSkipNoIopoll)
        GTEST_SKIP() << "this host's IOPOLL ring refuses O_DIRECT reads of files on "
                        "/tmp's file system (-EOPNOTSUPP)";
    EXPECT_EQ(code, 0);
}

// NVMe passthrough: IORING_OP_URING_CMD with NVME_URING_CMD_IO on /dev/ng0n1, from a toy
// ring set up with SQE128 | CQE32. Reads are checked byte for byte against the image; writes
// go to a region of their own and are read back (and checked by the host after the run).
#include <linux/nvme_ioctl.h>

#include <cstring>

#include "../image_pattern.h"
#include "devtest.h"
#include "io_pump.h"
#include "proc_counters.h"
#include "toyos/io.h"

namespace toyos::devtest {
namespace {

constexpr uint8_t kNvmeFlush = 0x00;
constexpr uint8_t kNvmeWrite = 0x01;
constexpr uint8_t kNvmeRead = 0x02;
constexpr uint16_t kStatusLbaOutOfRange = 0x80;  // generic command status, SCT 0

// The 80 bytes from sqe->cmd on (an SQE128 ring's command area).
nvme_uring_cmd* nvme_cmd(io_uring_sqe* sqe) {
    return reinterpret_cast<nvme_uring_cmd*>(reinterpret_cast<unsigned char*>(sqe) +
                                             offsetof(io_uring_sqe, cmd));
}

void prep_nvme(io_uring_sqe* sqe, int fd, uint8_t opcode, const Options& o, uint64_t slba,
               uint32_t nlb, void* buf) {
    io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), fd);
    nvme_uring_cmd* c = nvme_cmd(sqe);
    std::memset(c, 0, sizeof(*c));
    c->opcode = opcode;
    c->nsid = o.nsid;
    if (nlb > 0) {
        c->addr = reinterpret_cast<uintptr_t>(buf);
        c->data_len = static_cast<uint32_t>(nlb * o.lba_size);
        c->cdw10 = static_cast<uint32_t>(slba);
        c->cdw11 = static_cast<uint32_t>(slba >> 32);
        c->cdw12 = nlb - 1;  // 0's based
    }
}

struct PassthroughRing {
    io_uring ring{};
    int fd = -1;
    int error = 0;
    PassthroughRing(const Options& o, int open_flags) {
        fd = sys::open(o.ng, open_flags);
        if (fd < 0) {
            error = fd;
            return;
        }
        error = io_uring_queue_init(16, &ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32);
    }
    ~PassthroughRing() {
        if (error == 0) io_uring_queue_exit(&ring);
        if (fd >= 0) sys::close(fd);
    }
};

// The host path a passthrough run must have taken: `ops` commands on the host's SQE128/CQE32
// ring (uring executor), or none (threads executor: the nvme ioctl on the thread pool).
Verdict check_passthrough_path(const Options& o, const ProcCounters& before, unsigned ops) {
    ProcCounters after;
    DT_CHECK(after.read_global(), "cannot read /proc/iouring");
    const uint64_t host = after.number("HostPassthroughOps") - before.number("HostPassthroughOps");
    if (o.expect == Expect::Threads) {
        DT_CHECK(std::strcmp(after.text("Executor"), "threads") == 0);
        DT_CHECK(host == 0, "%llu commands on a host ring", static_cast<unsigned long long>(host));
    } else {
        DT_CHECK(std::strcmp(after.text("HostPassthroughRing"), "yes") == 0,
                 "no host passthrough ring");
        DT_CHECK(host == ops, "HostPassthroughOps grew by %llu, expected %u",
                 static_cast<unsigned long long>(host), ops);
    }
    return ok();
}

const char* path_name(const Options& o) {
    return o.expect == Expect::Threads ? "nvme ioctl on the thread pool" : "host SQE128/CQE32 ring";
}

}  // namespace

Verdict test_passthrough_read(const Options& o) {
    PassthroughRing p(o, O_RDONLY);
    DT_CHECK(p.fd >= 0, "open %s: %s", o.ng, io::error_text(p.fd));
    DT_CHECK(p.error == 0, "SQE128/CQE32 ring: %s", io::error_text(p.error));
    ProcCounters before;
    DT_CHECK(before.read_global());
    // Sizes from one block to 128 KiB, at addresses spread over the read region.
    static const unsigned kBlocks[] = {1, 8, 256, 3, 64, 128, 17, 32};
    const unsigned max_nlb = 256;
    const uint64_t region_lbas = qemu::kReadRegion.bytes / o.lba_size;
    const unsigned count = 64, depth = 8;
    DmaBuffer mem(size_t{depth} * max_nlb * o.lba_size);
    DT_CHECK(mem.ok());
    uint64_t bytes = 0;
    Verdict v = pump(
        &p.ring, count, depth, mem, size_t{max_nlb} * o.lba_size,
        [&](unsigned i, unsigned char* slot, io_uring_sqe* sqe) {
            const unsigned nlb = kBlocks[i % 8];
            std::memset(slot, 0, size_t{nlb} * o.lba_size);
            prep_nvme(sqe, p.fd, kNvmeRead, o, spread_lba(i, region_lbas, nlb), nlb, slot);
        },
        [&](unsigned i, unsigned char* slot, const io_uring_cqe& cqe) -> Verdict {
            const unsigned nlb = kBlocks[i % 8];
            const uint64_t off = spread_lba(i, region_lbas, nlb) * o.lba_size;
            DT_CHECK(cqe.res == 0, "read %u: res %d", i, cqe.res);
            const size_t len = size_t{nlb} * o.lba_size;
            const size_t bad = qemu::pattern_mismatch(qemu::kImageSeed, off, slot, len);
            DT_CHECK(bad == len, "read %u (%zu bytes at %llu): byte %zu differs", i, len,
                     static_cast<unsigned long long>(off), bad);
            bytes += len;
            return ok();
        });
    if (v.status != Verdict::Pass) return v;
    if (Verdict c = check_passthrough_path(o, before, count); c.status != Verdict::Pass) return c;
    return pass("%u NVMe reads, %llu bytes verified, on the %s", count,
                static_cast<unsigned long long>(bytes), path_name(o));
}

Verdict test_passthrough_write(const Options& o) {
    WriteTarget t;
    DT_CHECK(write_target(o, "passthrough-write", t), "unknown region");
    PassthroughRing p(o, O_RDWR);
    DT_CHECK(p.fd >= 0, "open %s: %s", o.ng, io::error_text(p.fd));
    DT_CHECK(p.error == 0, "SQE128/CQE32 ring: %s", io::error_text(p.error));
    // Never write to a disk that is not the test image: its first blocks must match.
    {
        DmaBuffer head(size_t{64} * 1024);
        DT_CHECK(head.ok());
        io_uring_sqe* sqe = io_uring_get_sqe(&p.ring);
        prep_nvme(sqe, p.fd, kNvmeRead, o, 0, static_cast<uint32_t>(head.bytes / o.lba_size),
                  head.data);
        io_uring_cqe* cqe = nullptr;
        DT_CHECK(io_uring_submit_and_wait(&p.ring, 1) >= 0 && wait_one(&p.ring, &cqe) == 0);
        const int res = cqe->res;
        io_uring_cqe_seen(&p.ring, cqe);
        DT_CHECK(res == 0 && qemu::pattern_mismatch(qemu::kImageSeed, 0, head.data, head.bytes) ==
                                 head.bytes,
                 "the device does not hold the test image: refusing to write");
    }
    ProcCounters before;
    DT_CHECK(before.read_global());
    const uint64_t first_lba = t.offset / o.lba_size;
    const unsigned chunk = 64 * 1024, nlb = chunk / o.lba_size;
    const unsigned writes = static_cast<unsigned>(t.bytes / chunk);
    DmaBuffer mem(size_t{4} * chunk);
    DT_CHECK(mem.ok());
    Verdict v = pump(
        &p.ring, writes, 4, mem, chunk,
        [&](unsigned i, unsigned char* slot, io_uring_sqe* sqe) {
            qemu::pattern_fill(t.seed, t.offset + uint64_t{i} * chunk, slot, chunk);
            prep_nvme(sqe, p.fd, kNvmeWrite, o, first_lba + uint64_t{i} * nlb, nlb, slot);
        },
        [&](unsigned i, unsigned char*, const io_uring_cqe& cqe) -> Verdict {
            DT_CHECK(cqe.res == 0, "write %u: res %d", i, cqe.res);
            return ok();
        });
    if (v.status != Verdict::Pass) return v;
    // Flush (no data), then read the region back in halves of a chunk.
    {
        io_uring_sqe* sqe = io_uring_get_sqe(&p.ring);
        prep_nvme(sqe, p.fd, kNvmeFlush, o, 0, 0, nullptr);
        io_uring_cqe* cqe = nullptr;
        DT_CHECK(io_uring_submit_and_wait(&p.ring, 1) >= 0 && wait_one(&p.ring, &cqe) == 0);
        const int res = cqe->res;
        io_uring_cqe_seen(&p.ring, cqe);
        DT_CHECK(res == 0, "flush: res %d", res);
    }
    const unsigned half = chunk / 2, half_nlb = half / o.lba_size;
    const unsigned reads = static_cast<unsigned>(t.bytes / half);
    v = pump(
        &p.ring, reads, 8, mem, half,
        [&](unsigned i, unsigned char* slot, io_uring_sqe* sqe) {
            std::memset(slot, 0, half);
            prep_nvme(sqe, p.fd, kNvmeRead, o, first_lba + uint64_t{i} * half_nlb, half_nlb, slot);
        },
        [&](unsigned i, unsigned char* slot, const io_uring_cqe& cqe) -> Verdict {
            DT_CHECK(cqe.res == 0, "read back %u: res %d", i, cqe.res);
            const uint64_t off = t.offset + uint64_t{i} * half;
            const size_t bad = qemu::pattern_mismatch(t.seed, off, slot, half);
            DT_CHECK(bad == half, "read back %u: byte %zu differs", i, bad);
            return ok();
        });
    if (v.status != Verdict::Pass) return v;
    if (Verdict c = check_passthrough_path(o, before, writes + 1 + reads);
        c.status != Verdict::Pass)
        return c;
    // The block device sees what the commands wrote (O_DIRECT: no page cache in between).
    const int blk = sys::open(o.block, O_RDONLY | O_DIRECT);
    DT_CHECK(blk >= 0, "open %s: %s", o.block, io::error_text(blk));
    const ssize_t n = sys::pread(blk, mem.data, chunk, static_cast<off_t>(t.offset));
    sys::close(blk);
    DT_CHECK(n == static_cast<ssize_t>(chunk), "pread %s: %zd", o.block, n);
    DT_CHECK(qemu::pattern_mismatch(t.seed, t.offset, mem.data, chunk) == chunk,
             "the block device reads other data than the commands wrote");
    return pass("%u NVMe writes + flush + %u reads of %s (%llu bytes) verified, on the %s", writes,
                reads, t.name, static_cast<unsigned long long>(t.bytes), path_name(o));
}

// What the kernel refuses before the device sees it, and a device error passed through.
Verdict test_passthrough_errors(const Options& o) {
    PassthroughRing p(o, O_RDONLY);
    DT_CHECK(p.fd >= 0, "open %s: %s", o.ng, io::error_text(p.fd));
    DT_CHECK(p.error == 0, "SQE128/CQE32 ring: %s", io::error_text(p.error));
    DmaBuffer mem(size_t{64} * 1024);
    DT_CHECK(mem.ok());
    ProcCounters before;
    DT_CHECK(before.read_global());
    auto run = [&](auto&& tweak) -> int {
        io_uring_sqe* sqe = io_uring_get_sqe(&p.ring);
        prep_nvme(sqe, p.fd, kNvmeRead, o, 0, 8, mem.data);
        tweak(sqe, nvme_cmd(sqe));
        io_uring_cqe* cqe = nullptr;
        if (io_uring_submit_and_wait(&p.ring, 1) < 0 || wait_one(&p.ring, &cqe) != 0) return -9999;
        const int res = cqe->res;
        io_uring_cqe_seen(&p.ring, cqe);
        return res;
    };
    int r;
    // A block past the end: the device answers with its status (positive res), as Linux does.
    r = run([&](io_uring_sqe*, nvme_uring_cmd* c) {
        c->cdw10 = static_cast<uint32_t>(o.lbas);
        c->cdw11 = static_cast<uint32_t>(o.lbas >> 32);
    });
    DT_CHECK(r > 0 && (r & 0xff) == kStatusLbaOutOfRange, "read past the end: res %d", r);
    const int device_status = r;
    // data_len that does not match the block count: the device would transfer more (or less)
    // than the buffer the kernel checked.
    r = run([](io_uring_sqe*, nvme_uring_cmd* c) { c->data_len -= 512; });
    DT_CHECK(r == -EINVAL, "short data_len: res %d", r);
    r = run([](io_uring_sqe*, nvme_uring_cmd* c) { c->cdw12 = 63; });
    DT_CHECK(r == -EINVAL, "more blocks than data_len: res %d", r);
    // Another namespace than the device's.
    r = run([&](io_uring_sqe*, nvme_uring_cmd* c) { c->nsid = o.nsid + 1; });
    DT_CHECK(r == -EINVAL, "wrong nsid: res %d", r);
    // Memory that is not the process's (the heap), and metadata.
    static unsigned char* heap = new unsigned char[8192];
    r = run([&](io_uring_sqe*, nvme_uring_cmd* c) { c->addr = reinterpret_cast<uintptr_t>(heap); });
    DT_CHECK(r == -EFAULT, "heap buffer: res %d", r);
    r = run([&](io_uring_sqe*, nvme_uring_cmd* c) {
        c->metadata = reinterpret_cast<uintptr_t>(mem.data + 8192);
        c->metadata_len = 64;
    });
    DT_CHECK(r == -EINVAL, "metadata: res %d", r);
    // A write on an fd opened read-only, a vendor command, command flags, another cmd_op.
    r = run([](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = kNvmeWrite; });
    DT_CHECK(r == -EACCES, "write on a read-only fd: res %d", r);
    r = run([](io_uring_sqe*, nvme_uring_cmd* c) { c->opcode = 0x82; });
    DT_CHECK(r == -EACCES, "vendor opcode: res %d", r);
    r = run([](io_uring_sqe*, nvme_uring_cmd* c) { c->flags = 1; });
    DT_CHECK(r == -EINVAL, "command flags: res %d", r);
    // Vectored and admin commands are not offered (ABI header); unknown ones are not NVMe's.
    r = run([](io_uring_sqe* sqe, nvme_uring_cmd*) { sqe->cmd_op = NVME_URING_CMD_IO_VEC; });
    DT_CHECK(r == -EOPNOTSUPP, "cmd_op IO_VEC: res %d", r);
    r = run([](io_uring_sqe* sqe, nvme_uring_cmd*) { sqe->cmd_op = NVME_URING_CMD_ADMIN; });
    DT_CHECK(r == -EOPNOTSUPP, "cmd_op ADMIN: res %d", r);
    r = run([](io_uring_sqe* sqe, nvme_uring_cmd*) { sqe->cmd_op = 0x1234; });
    DT_CHECK(r == -ENOTTY, "unknown cmd_op: res %d", r);
    // A ring of 64-byte SQEs cannot carry the command.
    io_uring small;
    DT_CHECK(io_uring_queue_init(4, &small, 0) == 0);
    io_uring_sqe* sqe = io_uring_get_sqe(&small);
    io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), p.fd);
    io_uring_cqe* cqe = nullptr;
    DT_CHECK(io_uring_submit_and_wait(&small, 1) >= 0 && wait_one(&small, &cqe) == 0);
    r = cqe->res;
    io_uring_cqe_seen(&small, cqe);
    io_uring_queue_exit(&small);
    DT_CHECK(r == -EOPNOTSUPP, "64-byte SQE ring: res %d", r);
    // The ring still works, and only the command past the end reached the device.
    r = run([](io_uring_sqe*, nvme_uring_cmd*) {});
    DT_CHECK(r == 0, "a good read after the errors: res %d", r);
    DT_CHECK(qemu::pattern_mismatch(qemu::kImageSeed, 0, mem.data, 8 * o.lba_size) ==
             8 * o.lba_size);
    if (Verdict c = check_passthrough_path(o, before, 2); c.status != Verdict::Pass) return c;
    return pass(
        "device status 0x%x passed through; EINVAL/EFAULT/EACCES/ENOTTY/EOPNOTSUPP "
        "refused before the device; on the %s",
        static_cast<unsigned>(device_status), path_name(o));
}

}  // namespace toyos::devtest

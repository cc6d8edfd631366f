// Block I/O on /dev/nvme0n1 with O_DIRECT: a toy IOPOLL ring (run on the host's IOPOLL ring
// when the queue polls), registered buffers and files (host registered buffers), and a toy
// SQPOLL ring that submits and completes without the process entering the kernel.
#include <cstring>

#include "../image_pattern.h"
#include "devtest.h"
#include "io_pump.h"
#include "proc_counters.h"
#include "toyos/io.h"

namespace toyos::devtest {
namespace {

unsigned long long ull(uint64_t v) {
    return static_cast<unsigned long long>(v);
}

// Counter growth between two snapshots of /proc/iouring.
struct Delta {
    ProcCounters before;
    bool ok = before.read_global();
    uint64_t operator()(const ProcCounters& after, const char* key) const {
        return after.number(key) - before.number(key);
    }
};

// Reads of 1 to 128 blocks spread over the read region, checked against the image.
struct ReadPlan {
    static constexpr unsigned kBlocks[] = {8, 1, 128, 16, 256, 8, 64, 3};
    static constexpr unsigned kMaxBlocks = 256;
    const Options& o;
    uint64_t region_lbas = qemu::kReadRegion.bytes / o.lba_size;
    uint64_t bytes = 0;
    unsigned nlb(unsigned i) const { return kBlocks[i % 8]; }
    uint64_t offset(unsigned i) const { return spread_lba(i, region_lbas, nlb(i)) * o.lba_size; }
    size_t len(unsigned i) const { return nlb(i) * o.lba_size; }
    size_t slot_bytes() const { return size_t{kMaxBlocks} * o.lba_size; }
    Verdict check(unsigned i, const unsigned char* slot, const io_uring_cqe& cqe) {
        DT_CHECK(cqe.res == static_cast<int>(len(i)), "read %u: res %d, expected %zu", i, cqe.res,
                 len(i));
        const size_t bad = qemu::pattern_mismatch(qemu::kImageSeed, offset(i), slot, len(i));
        DT_CHECK(bad == len(i), "read %u (%zu bytes at %llu): byte %zu differs", i, len(i),
                 ull(offset(i)), bad);
        bytes += len(i);
        return ok();
    }
};

// Writes the target region in `chunk`s, then reads it back and checks it.
Verdict write_and_verify(io_uring* ring, int fd, const WriteTarget& t, unsigned chunk,
                         bool spin = false) {
    DmaBuffer mem(size_t{8} * chunk);
    DT_CHECK(mem.ok());
    const unsigned n = static_cast<unsigned>(t.bytes / chunk);
    Verdict v = pump(
        ring, n, 8, mem, chunk,
        [&](unsigned i, unsigned char* slot, io_uring_sqe* sqe) {
            qemu::pattern_fill(t.seed, t.offset + uint64_t{i} * chunk, slot, chunk);
            io_uring_prep_write(sqe, fd, slot, chunk, t.offset + uint64_t{i} * chunk);
        },
        [&](unsigned i, unsigned char*, const io_uring_cqe& cqe) -> Verdict {
            DT_CHECK(cqe.res == static_cast<int>(chunk), "write %u: res %d", i, cqe.res);
            return ok();
        },
        spin);
    if (v.status != Verdict::Pass) return v;
    return pump(
        ring, n, 8, mem, chunk,
        [&](unsigned i, unsigned char* slot, io_uring_sqe* sqe) {
            std::memset(slot, 0, chunk);
            io_uring_prep_read(sqe, fd, slot, chunk, t.offset + uint64_t{i} * chunk);
        },
        [&](unsigned i, unsigned char* slot, const io_uring_cqe& cqe) -> Verdict {
            DT_CHECK(cqe.res == static_cast<int>(chunk), "read back %u: res %d", i, cqe.res);
            const size_t bad =
                qemu::pattern_mismatch(t.seed, t.offset + uint64_t{i} * chunk, slot, chunk);
            DT_CHECK(bad == chunk, "read back %u: byte %zu differs", i, bad);
            return ok();
        },
        spin);
}

// On the uring executor, IOPOLL-ring I/O on a polling queue must run on the host IOPOLL ring.
Verdict check_iopoll_path(const Options& o, const Delta& d, const ProcCounters& after,
                          uint64_t ops) {
    const uint64_t host = d(after, "HostIopollOps");
    if (o.expect == Expect::Threads) {
        DT_CHECK(host == 0, "%llu ops on a host IOPOLL ring", ull(host));
        return ok();
    }
    DT_CHECK(std::strcmp(after.text("HostIopollRing"), "yes") == 0, "no host IOPOLL ring");
    DT_CHECK(host == ops, "HostIopollOps grew by %llu, expected %llu", ull(host), ull(ops));
    return ok();
}

const char* iopoll_path(const Options& o) {
    return o.expect == Expect::Threads ? "thread pool (no host ring)" : "host IOPOLL ring";
}

}  // namespace

Verdict test_iopoll_read(const Options& o) {
    io_uring ring;
    DT_CHECK(io_uring_queue_init(32, &ring, IORING_SETUP_IOPOLL) == 0);
    const int fd = sys::open(o.block, O_RDONLY | O_DIRECT);
    DT_CHECK(fd >= 0, "open %s O_DIRECT: %s", o.block, io::error_text(fd));
    Delta d;
    DT_CHECK(d.ok);
    ReadPlan plan{o};
    const unsigned count = 96, depth = 16;
    DmaBuffer mem(depth * plan.slot_bytes());
    DT_CHECK(mem.ok());
    Verdict v = pump(
        &ring, count, depth, mem, plan.slot_bytes(),
        [&](unsigned i, unsigned char* slot, io_uring_sqe* sqe) {
            std::memset(slot, 0, plan.len(i));
            io_uring_prep_read(sqe, fd, slot, static_cast<unsigned>(plan.len(i)), plan.offset(i));
        },
        [&](unsigned i, unsigned char* slot, const io_uring_cqe& cqe) {
            return plan.check(i, slot, cqe);
        });
    sys::close(fd);
    io_uring_queue_exit(&ring);
    if (v.status != Verdict::Pass) return v;
    ProcCounters after;
    DT_CHECK(after.read_global());
    if (Verdict c = check_iopoll_path(o, d, after, count); c.status != Verdict::Pass) return c;
    return pass("%u O_DIRECT reads at QD %u, %llu bytes verified, on the %s", count, depth,
                ull(plan.bytes), iopoll_path(o));
}

Verdict test_iopoll_write(const Options& o) {
    WriteTarget t;
    DT_CHECK(write_target(o, "iopoll-write", t), "unknown region");
    io_uring ring;
    DT_CHECK(io_uring_queue_init(32, &ring, IORING_SETUP_IOPOLL) == 0);
    const int fd = sys::open(o.block, O_RDWR | O_DIRECT);
    DT_CHECK(fd >= 0, "open %s O_RDWR|O_DIRECT: %s", o.block, io::error_text(fd));
    Delta d;
    DT_CHECK(d.ok);
    const unsigned chunk = 32 * 1024;
    Verdict v = write_and_verify(&ring, fd, t, chunk);
    sys::close(fd);
    io_uring_queue_exit(&ring);
    if (v.status != Verdict::Pass) return v;
    ProcCounters after;
    DT_CHECK(after.read_global());
    const uint64_t ops = 2 * (t.bytes / chunk);
    if (Verdict c = check_iopoll_path(o, d, after, ops); c.status != Verdict::Pass) return c;
    return pass("%llu O_DIRECT writes + reads of %s (%llu bytes) verified, on the %s", ull(ops),
                t.name, ull(t.bytes), iopoll_path(o));
}

// What an IOPOLL ring refuses, as Linux does; and that /dev says the queue polls.
Verdict test_iopoll_rules(const Options& o) {
    ProcCounters g;
    DT_CHECK(g.read_global());
    const char* devices = g.text("Devices");
    char want[64];
    std::snprintf(want, sizeof(want), "%s:blockdev:io_poll", o.block + 5);  // after "/dev/"
    DT_CHECK(std::strstr(devices, want) != nullptr, "/proc/iouring Devices: '%s'", devices);
    io_uring ring;
    DT_CHECK(io_uring_queue_init(8, &ring, IORING_SETUP_IOPOLL) == 0);
    DmaBuffer mem(8192);
    DT_CHECK(mem.ok());
    auto one = [&](auto&& prep) -> int {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        prep(sqe);
        io_uring_cqe* cqe = nullptr;
        if (io_uring_submit_and_wait(&ring, 1) < 0 || wait_one(&ring, &cqe) != 0) return -9999;
        const int res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
        return res;
    };
    // Buffered I/O cannot be polled for.
    const int buffered = sys::open(o.block, O_RDONLY);
    DT_CHECK(buffered >= 0);
    int r = one([&](io_uring_sqe* s) { io_uring_prep_read(s, buffered, mem.data, 4096, 0); });
    DT_CHECK(r == -EOPNOTSUPP, "buffered read: res %d", r);
    // Nor can an fsync.
    const int direct = sys::open(o.block, O_RDONLY | O_DIRECT);
    DT_CHECK(direct >= 0);
    r = one([&](io_uring_sqe* s) { io_uring_prep_fsync(s, direct, 0); });
    DT_CHECK(r == -EINVAL, "fsync on an IOPOLL ring: res %d", r);
    // O_DIRECT needs block-aligned memory: the device refuses a misaligned buffer.
    r = one([&](io_uring_sqe* s) { io_uring_prep_read(s, direct, mem.data + 1, 4096, 0); });
    DT_CHECK(r == -EINVAL, "misaligned O_DIRECT buffer: res %d", r);
    // And a good read still works.
    r = one([&](io_uring_sqe* s) { io_uring_prep_read(s, direct, mem.data, 4096, 4096); });
    DT_CHECK(r == 4096, "aligned read: res %d", r);
    DT_CHECK(qemu::pattern_mismatch(qemu::kImageSeed, 4096, mem.data, 4096) == 4096);
    sys::close(buffered);
    sys::close(direct);
    io_uring_queue_exit(&ring);
    return pass("%s polls; buffered -EOPNOTSUPP, FSYNC -EINVAL, misaligned -EINVAL", want);
}

// READ_FIXED/WRITE_FIXED with O_DIRECT on a plain ring, half of them on a registered file.
Verdict test_fixed_odirect(const Options& o) {
    WriteTarget t;
    DT_CHECK(write_target(o, "fixed-write", t), "unknown region");
    io_uring ring;
    DT_CHECK(io_uring_queue_init(32, &ring, 0) == 0);
    const int fd = sys::open(o.block, O_RDWR | O_DIRECT);
    DT_CHECK(fd >= 0, "open %s O_RDWR|O_DIRECT: %s", o.block, io::error_text(fd));
    const unsigned depth = 8;
    const size_t slot = size_t{128} * 1024;
    DmaBuffer mem(depth * slot);
    DT_CHECK(mem.ok());
    iovec iov[depth];
    for (unsigned i = 0; i < depth; ++i) iov[i] = iovec{mem.data + i * slot, slot};
    DT_CHECK(io_uring_register_buffers(&ring, iov, depth) == 0);
    DT_CHECK(io_uring_register_files(&ring, &fd, 1) == 0);
    Delta d;
    DT_CHECK(d.ok);
    auto slot_index = [&](const unsigned char* p) {
        return static_cast<int>((p - mem.data) / static_cast<ptrdiff_t>(slot));
    };
    // Reads over the read region (up to 128 KiB each).
    ReadPlan plan{o};
    const unsigned reads = 64;
    unsigned fixed_file_ops = 0;
    auto place = [&](io_uring_sqe* sqe, unsigned i) {
        if (i % 2 == 1) {  // registered file slot 0
            sqe->fd = 0;
            sqe->flags |= IOSQE_FIXED_FILE;
            ++fixed_file_ops;
        }
    };
    Verdict v = pump(
        &ring, reads, depth, mem, slot,
        [&](unsigned i, unsigned char* s, io_uring_sqe* sqe) {
            const unsigned len = static_cast<unsigned>(std::min<size_t>(plan.len(i), slot));
            std::memset(s, 0, len);
            io_uring_prep_read_fixed(sqe, fd, s, len, plan.offset(i), slot_index(s));
            place(sqe, i);
        },
        [&](unsigned i, unsigned char* s, const io_uring_cqe& cqe) -> Verdict {
            const size_t len = std::min<size_t>(plan.len(i), slot);
            DT_CHECK(cqe.res == static_cast<int>(len), "read_fixed %u: res %d", i, cqe.res);
            const size_t bad = qemu::pattern_mismatch(qemu::kImageSeed, plan.offset(i), s, len);
            DT_CHECK(bad == len, "read_fixed %u: byte %zu differs", i, bad);
            plan.bytes += len;
            return ok();
        });
    if (v.status != Verdict::Pass) return v;
    // Write the region with WRITE_FIXED, read it back with READ_FIXED.
    const unsigned n = static_cast<unsigned>(t.bytes / slot);
    v = pump(
        &ring, n, depth, mem, slot,
        [&](unsigned i, unsigned char* s, io_uring_sqe* sqe) {
            qemu::pattern_fill(t.seed, t.offset + i * slot, s, slot);
            io_uring_prep_write_fixed(sqe, fd, s, slot, t.offset + i * slot, slot_index(s));
            place(sqe, i);
        },
        [&](unsigned i, unsigned char*, const io_uring_cqe& cqe) -> Verdict {
            DT_CHECK(cqe.res == static_cast<int>(slot), "write_fixed %u: res %d", i, cqe.res);
            return ok();
        });
    if (v.status != Verdict::Pass) return v;
    v = pump(
        &ring, n, depth, mem, slot,
        [&](unsigned i, unsigned char* s, io_uring_sqe* sqe) {
            std::memset(s, 0, slot);
            io_uring_prep_read_fixed(sqe, fd, s, slot, t.offset + i * slot, slot_index(s));
            place(sqe, i);
        },
        [&](unsigned i, unsigned char* s, const io_uring_cqe& cqe) -> Verdict {
            DT_CHECK(cqe.res == static_cast<int>(slot), "read_fixed back %u: res %d", i, cqe.res);
            const size_t bad = qemu::pattern_mismatch(t.seed, t.offset + i * slot, s, slot);
            DT_CHECK(bad == slot, "read_fixed back %u: byte %zu differs", i, bad);
            return ok();
        });
    sys::close(fd);
    io_uring_queue_exit(&ring);
    if (v.status != Verdict::Pass) return v;
    ProcCounters after;
    DT_CHECK(after.read_global());
    const uint64_t ops = reads + 2 * n;
    const uint64_t host_bufs = d(after, "HostFixedBufferOps");
    const uint64_t host_files = d(after, "HostFixedFileOps");
    if (o.expect == Expect::Threads) {
        DT_CHECK(host_bufs == 0 && host_files == 0);
    } else {
        DT_CHECK(host_bufs == ops, "HostFixedBufferOps grew by %llu, expected %llu", ull(host_bufs),
                 ull(ops));
        DT_CHECK(host_files == fixed_file_ops, "HostFixedFileOps grew by %llu, expected %u",
                 ull(host_files), fixed_file_ops);
    }
    if (o.expect == Expect::HostSqpoll)
        DT_CHECK(std::strcmp(after.text("HostSqpoll"), "yes") == 0, "host rings not in SQPOLL");
    return pass(
        "%u READ_FIXED (%llu bytes) + %u WRITE_FIXED/READ_FIXED of %s verified; "
        "host fixed-buffer ops %llu, fixed-file ops %llu%s",
        reads, ull(plan.bytes), n, t.name, ull(host_bufs), ull(host_files),
        o.expect == Expect::HostSqpoll ? " (host SQPOLL rings)" : "");
}

// Registered buffers on an IOPOLL ring: both host paths at once.
Verdict test_fixed_iopoll(const Options& o) {
    io_uring ring;
    DT_CHECK(io_uring_queue_init(32, &ring, IORING_SETUP_IOPOLL) == 0);
    const int fd = sys::open(o.block, O_RDONLY | O_DIRECT);
    DT_CHECK(fd >= 0);
    ReadPlan plan{o};
    const unsigned depth = 8, count = 48;
    DmaBuffer mem(depth * plan.slot_bytes());
    DT_CHECK(mem.ok());
    iovec iov[depth];
    for (unsigned i = 0; i < depth; ++i)
        iov[i] = iovec{mem.data + i * plan.slot_bytes(), plan.slot_bytes()};
    DT_CHECK(io_uring_register_buffers(&ring, iov, depth) == 0);
    Delta d;
    DT_CHECK(d.ok);
    Verdict v = pump(
        &ring, count, depth, mem, plan.slot_bytes(),
        [&](unsigned i, unsigned char* s, io_uring_sqe* sqe) {
            std::memset(s, 0, plan.len(i));
            const int index = static_cast<int>((s - mem.data) / plan.slot_bytes());
            io_uring_prep_read_fixed(sqe, fd, s, static_cast<unsigned>(plan.len(i)), plan.offset(i),
                                     index);
        },
        [&](unsigned i, unsigned char* s, const io_uring_cqe& cqe) {
            return plan.check(i, s, cqe);
        });
    sys::close(fd);
    io_uring_queue_exit(&ring);
    if (v.status != Verdict::Pass) return v;
    ProcCounters after;
    DT_CHECK(after.read_global());
    if (Verdict c = check_iopoll_path(o, d, after, count); c.status != Verdict::Pass) return c;
    const uint64_t host_bufs = d(after, "HostFixedBufferOps");
    if (o.expect != Expect::Threads)
        DT_CHECK(host_bufs == count, "HostFixedBufferOps grew by %llu, expected %u", ull(host_bufs),
                 count);
    return pass(
        "%u READ_FIXED O_DIRECT (%llu bytes) verified on the %s with %llu host "
        "registered-buffer ops",
        count, ull(plan.bytes), iopoll_path(o), ull(host_bufs));
}

// A toy SQPOLL ring: the kernel's poller consumes the SQ, completions are reaped from the CQ,
// and the process enters the kernel only if the poller went to sleep.
Verdict test_sqpoll(const Options& o) {
    WriteTarget t;
    DT_CHECK(write_target(o, "sqpoll-write", t), "unknown region");
    io_uring_params p{};
    p.flags = IORING_SETUP_SQPOLL;
    p.sq_thread_idle = 2000;
    io_uring ring;
    DT_CHECK(io_uring_queue_init_params(32, &ring, &p) == 0);
    const int fd = sys::open(o.block, O_RDWR | O_DIRECT);
    DT_CHECK(fd >= 0);
    ReadPlan plan{o};
    const unsigned depth = 16, count = 64;
    DmaBuffer mem(depth * plan.slot_bytes());
    DT_CHECK(mem.ok());
    Verdict v = pump(
        &ring, count, depth, mem, plan.slot_bytes(),
        [&](unsigned i, unsigned char* s, io_uring_sqe* sqe) {
            std::memset(s, 0, plan.len(i));
            io_uring_prep_read(sqe, fd, s, static_cast<unsigned>(plan.len(i)), plan.offset(i));
        },
        [&](unsigned i, unsigned char* s, const io_uring_cqe& cqe) {
            return plan.check(i, s, cqe);
        },
        /*spin=*/true);
    if (v.status != Verdict::Pass) return v;
    v = write_and_verify(&ring, fd, t, 16 * 1024, /*spin=*/true);
    if (v.status != Verdict::Pass) return v;
    ProcCounters r;
    DT_CHECK(r.read_ring(ring.ring_fd), "no block for ring fd %d in /proc/self/iouring",
             ring.ring_fd);
    const uint64_t enters = r.number("Enters"), submitted = r.number("Submitted");
    sys::close(fd);
    io_uring_queue_exit(&ring);
    // Every submission went through the poller; the process entered at most to wake it once
    // (the poller may sleep before the first SQE).
    DT_CHECK(submitted == count + 2 * (t.bytes / (uint64_t{16} * 1024)), "Submitted %llu",
             ull(submitted));
    DT_CHECK(enters <= 1, "%llu toy enters for %llu SQEs", ull(enters), ull(submitted));
    return pass("%llu O_DIRECT reads/writes (%s verified) with %llu toy enters", ull(submitted),
                t.name, ull(enters));
}

}  // namespace toyos::devtest

// fuzz_register: io_uring_register with input-chosen opcodes, argument memory and counts
// (iovec arrays, fd arrays and file updates built from the input, pointing into the process's
// memory or anywhere), then a few operations that use whatever got registered
// (READ_FIXED/WRITE_FIXED with input-chosen buffer indexes and ranges, IOSQE_FIXED_FILE with
// input-chosen slots). Registration must refuse what is not the process's and fixed
// operations must stay inside what was registered.
#include <linux/time_types.h>
#include <sys/uio.h>

#include <cstring>

#include "harness.h"
#include "toyos/liburing.h"

using namespace toyos;
using toyos::fuzz::FuzzInput;
using toyos::fuzz::FuzzProcess;

namespace {

// Where the argument structures go: the second half of scratch (the first half is the
// input's raw bytes and the buffers).
unsigned char* arg_area(FuzzProcess& fp) {
    return fp.scratch() + FuzzProcess::kScratchBytes / 2;
}

uint64_t build_iovecs(FuzzProcess& fp, FuzzInput& in, unsigned& count) {
    auto* iov = reinterpret_cast<iovec*>(arg_area(fp));
    count = in.u8() % 16;
    for (unsigned i = 0; i < count; ++i) {
        iov[i].iov_base = reinterpret_cast<void*>(fp.pick_addr(in));
        const uint8_t len = in.u8();
        iov[i].iov_len = (len & 0x80) ? in.u64() : (len % 16) * 512u;
    }
    return reinterpret_cast<uint64_t>(iov);
}

uint64_t build_fds(FuzzProcess& fp, FuzzInput& in, unsigned& count) {
    auto* fds = reinterpret_cast<int*>(arg_area(fp) + 4096);
    count = in.u8() % 16;
    for (unsigned i = 0; i < count; ++i) {
        const uint8_t how = in.u8();
        fds[i] = how < 160 ? fp.fixture(how) : how < 200 ? -1 : static_cast<int>(in.u32());
    }
    return reinterpret_cast<uint64_t>(fds);
}

void register_something(FuzzProcess& fp, FuzzInput& in, int ring_fd) {
    const uint8_t op_byte = in.u8();
    const uint32_t opcode = op_byte < 0xc0 ? op_byte % 32 : in.u32();
    unsigned count = 0;
    uint64_t arg = 0;
    switch (in.u8() % 7) {
        case 0:
            break;
        case 1:
            arg = fp.pick_addr(in);
            count = in.u8();
            break;
        case 2:
            arg = build_iovecs(fp, in, count);
            break;
        case 3:
            arg = build_fds(fp, in, count);
            break;
        case 4: {  // IORING_REGISTER_FILES_UPDATE's struct
            auto* up = reinterpret_cast<io_uring_files_update*>(arg_area(fp) + 8192);
            unsigned n = 0;
            up->offset = in.u8() % 20;
            up->resv = (in.u8() & 0x0f) == 0 ? 1 : 0;
            up->fds = build_fds(fp, in, n);
            arg = reinterpret_cast<uint64_t>(up);
            count = n;
            break;
        }
        case 5: {  // an eventfd number
            auto* fd = reinterpret_cast<int*>(arg_area(fp) + 12288);
            *fd = (in.u8() & 1) ? fp.fixture(toyos::fuzz::kEventfd) : fp.fixture(in.u8());
            arg = reinterpret_cast<uint64_t>(fd);
            count = 1;
            break;
        }
        default:
            arg = in.u64();
            break;
    }
    if (in.u8() & 0x80) count = in.u32();
    sys::io_uring_register(ring_fd, opcode, reinterpret_cast<void*>(arg), count);
}

void use_registrations(FuzzProcess& fp, FuzzInput& in, io_uring& ring) {
    const unsigned n = in.u8() % 5;
    unsigned queued = 0;
    for (unsigned i = 0; i < n; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring);
        if (sqe == nullptr) break;
        const uint8_t kind = in.u8();
        const auto addr = reinterpret_cast<void*>(fp.pick_addr(in));
        const unsigned len = in.u16() % 8192;
        const int buf_index = in.u8() % 20;
        const off_t off = in.u16();
        switch (kind % 4) {
            case 0:
                io_uring_prep_read_fixed(sqe, fp.fixture(toyos::fuzz::kFile), addr, len, off,
                                         buf_index);
                break;
            case 1:
                io_uring_prep_write_fixed(sqe, fp.fixture(toyos::fuzz::kFile), addr, len, off,
                                          buf_index);
                break;
            case 2:  // a fixed-file slot, which may hold anything or nothing
                io_uring_prep_read(sqe, in.u8() % 20, addr, len, off);
                sqe->flags |= IOSQE_FIXED_FILE;
                break;
            default:
                io_uring_prep_write(sqe, in.u8() % 20, addr, len, off);
                sqe->flags |= IOSQE_FIXED_FILE;
                break;
        }
        sqe->user_data = i;
        ++queued;
    }
    if (queued == 0) return;
    // Bounded wait: a fixed slot may name a socket with nothing to read.
    io_uring_submit(&ring);
    auto* ts = reinterpret_cast<__kernel_timespec*>(fp.private_area() + 1024);
    auto* arg = reinterpret_cast<io_uring_getevents_arg*>(fp.private_area() + 1088);
    *ts = __kernel_timespec{0, 100'000};
    *arg = io_uring_getevents_arg{0, 0, 0, reinterpret_cast<uint64_t>(ts)};
    sys::io_uring_enter(ring.ring_fd, 0, queued, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, arg,
                        sizeof *arg);
    io_uring_cqe* cqe = nullptr;
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
        ++seen;
    }
    io_uring_cq_advance(&ring, seen);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzProcess& fp = FuzzProcess::get();
    FuzzInput in(data, size);
    fp.begin_input(in);
    io_uring ring;
    auto* p = reinterpret_cast<io_uring_params*>(fp.private_area());
    std::memset(p, 0, sizeof *p);
    if (io_uring_queue_init_params(8, &ring, p) == 0) {
        const unsigned steps = 1 + in.u8() % 6;
        for (unsigned s = 0; s < steps && !in.empty(); ++s) {
            register_something(fp, in, ring.ring_fd);
            if (in.u8() & 1) use_registrations(fp, in, ring);
        }
        io_uring_queue_exit(&ring);
    }
    fp.end_input();
    return 0;
}

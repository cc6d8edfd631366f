// Rings for devices: SQE128/CQE32 layout, URING_CMD checks, IOPOLL rules. The NVMe device
// itself is exercised in the QEMU guest (tests/qemu); here, what needs no device.
#include <gtest/gtest.h>
#include <linux/nvme_ioctl.h>
#include <sys/wait.h>

#include <cstring>

#include "ring_test_support.h"
#include "toy_program_checks.h"
#include "toyos/io.h"
#include "toyos/liburing.h"

using namespace toyos;

namespace {

// Submits one prepared SQE and returns its CQE's res (and the CQE32 words in `big`).
int one(io_uring* ring, uint64_t big[2] = nullptr) {
    if (io_uring_submit(ring) != 1) return -9999;
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(ring, &cqe) != 0) return -9998;
    const int res = cqe->res;
    if (big != nullptr) {
        big[0] = cqe->big_cqe[0];
        big[1] = cqe->big_cqe[1];
    }
    io_uring_cqe_seen(ring, cqe);
    return res;
}

int prog_big_ring(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, IORING_SETUP_SQE128 | IORING_SETUP_CQE32) == 0);
    // Two rounds of 8 NOPs: every slot of both double-size arrays is used, and each CQE32
    // carries its user_data and zero extra words.
    for (int round = 0; round < 2; ++round) {
        for (uint64_t i = 0; i < 8; ++i) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring);
            T_CHECK(sqe != nullptr);
            io_uring_prep_nop(sqe);
            io_uring_sqe_set_data64(sqe, 100 * round + i);
        }
        T_CHECK(io_uring_submit_and_wait(&ring, 8) == 8);
        unsigned head = 0, seen = 0;
        io_uring_cqe* cqe = nullptr;
        io_uring_for_each_cqe(&ring, head, cqe) {
            T_CHECK(cqe->user_data == 100 * static_cast<uint64_t>(round) + seen);
            T_CHECK(cqe->res == 0 && cqe->big_cqe[0] == 0 && cqe->big_cqe[1] == 0);
            ++seen;
        }
        T_CHECK(seen == 8);
        io_uring_cq_advance(&ring, seen);
    }
    // URING_CMD on a regular file: no driver takes commands there.
    const int file = sys::open("/data.bin", O_RDONLY);
    T_CHECK(file >= 0);
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), file);
    T_CHECK(one(&ring) == -EOPNOTSUPP);
    // Flags URING_CMD does not take.
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), file);
    sqe->uring_cmd_flags = 1;  // IORING_URING_CMD_FIXED
    T_CHECK(one(&ring) == -EINVAL);
    io_uring_queue_exit(&ring);

    // On a ring of 64-byte SQEs the same: -EOPNOTSUPP.
    io_uring small;
    T_CHECK(io_uring_queue_init(4, &small, 0) == 0);
    sqe = io_uring_get_sqe(&small);
    io_uring_prep_uring_cmd(sqe, static_cast<int>(NVME_URING_CMD_IO), file);
    T_CHECK(one(&small) == -EOPNOTSUPP);
    io_uring_queue_exit(&small);
    // No NVMe device was exposed: /dev has nothing to open.
    T_CHECK(sys::open("/dev/ng0n1", O_RDONLY) == -ENOENT);
    return 0;
}

int prog_iopoll_ring(int, char**) {
    io_uring ring;
    T_CHECK(io_uring_queue_init(8, &ring, IORING_SETUP_IOPOLL) == 0);
    // Only pollable operations: OPENAT is refused at prep, as on Linux.
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_openat(sqe, AT_FDCWD, "/data.bin", O_RDONLY, 0);
    T_CHECK(one(&ring) == -EINVAL);
    // Buffered reads cannot be polled for.
    static char buf[64];
    const int buffered = sys::open("/data.bin", O_RDONLY);
    T_CHECK(buffered >= 0);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, buffered, buf, sizeof(buf), 0);
    T_CHECK(one(&ring) == -EOPNOTSUPP);
    // O_DIRECT with an aligned buffer: the read runs (on a general host ring, since this
    // file's device does not poll) and returns the data.
    const int direct = sys::open("/data.bin", O_RDONLY | O_DIRECT);
    T_CHECK(direct >= 0);
    void* mem =
        sys::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    T_CHECK(mem != MAP_FAILED);
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_read(sqe, direct, mem, 4096, 4096);
    T_CHECK(one(&ring) == 4096);
    T_CHECK(static_cast<unsigned char*>(mem)[0] == 1 &&
            static_cast<unsigned char*>(mem)[4095] == 1);
    // A NOP is pollable.
    sqe = io_uring_get_sqe(&ring);
    io_uring_prep_nop(sqe);
    T_CHECK(one(&ring) == 0);
    io_uring_queue_exit(&ring);
    return 0;
}

}  // namespace

TEST(DeviceRings, Sqe128Cqe32LayoutAndUringCmdChecks) {
    test::TempRoot root;
    root.write("data.bin", std::string(8192, '\0'));
    EXPECT_EQ(exit_code(test::run_program(root.path(), "big", prog_big_ring)), 0);
}

TEST(DeviceRings, IopollTakesOnlyPollableIo) {
    test::TempRoot root;
    std::string data(4096, '\0');
    data += std::string(4096, '\1');
    root.write("data.bin", data);
    EXPECT_EQ(exit_code(test::run_program(root.path(), "iopoll", prog_iopoll_ring)), 0);
}

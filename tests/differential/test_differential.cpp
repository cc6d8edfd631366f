// Differential tests: each scenario (scenarios.h) runs on the host kernel's io_uring through
// the system liburing and on toyos, and the two must answer alike: every CQE's res and flags
// (keyed by user_data, in order where Linux guarantees it), submit counts, register results,
// the bytes read. Run on both toyos executors (ctest -L differential); TOYOS_DIFF_VERBOSE=1
// prints what both saw.
#include <gtest/gtest.h>
#include <linux/io_uring.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "runners.h"

namespace toyos::diff {
namespace {

// The one place where toyos may answer differently from Linux: its deliberate differences
// (iouring/include/toyos/abi/io_uring.h). The CQE of `user_data` in `scenario` must have res
// `toyos_res` on toyos and something else on Linux; everything else is compared as usual.
struct Deviation {
    Scenario scenario;
    uint64_t user_data;
    int32_t toyos_res;
    const char* why;
};
constexpr Deviation kDeviations[] = {
    {Scenario::deliberate_deviations, 1, -EINVAL,
     "IOSQE_BUFFER_SELECT: provided buffers are not implemented (Linux: -ENOBUFS here)"},
    {Scenario::deliberate_deviations, 2, -EINVAL,
     "msg_control: SCM_RIGHTS would move host fds past the toy fd table"},
};

CqeRecord* find_cqe(Outcome& o, uint64_t user_data) {
    for (Step& step : o.steps)
        for (CqeRecord& c : step.cqes)
            if (c.user_data == user_data) return &c;
    return nullptr;
}

// Checks each deviation of `s`, then makes the host's record say what toyos says on purpose.
void apply_deviations(Scenario s, Outcome& host, Outcome& toy) {
    for (const Deviation& d : kDeviations) {
        if (d.scenario != s) continue;
        CqeRecord* h = find_cqe(host, d.user_data);
        CqeRecord* t = find_cqe(toy, d.user_data);
        ASSERT_TRUE(h != nullptr && t != nullptr) << "no CQE for " << d.user_data;
        EXPECT_EQ(t->res, d.toyos_res) << d.why;
        EXPECT_NE(h->res, d.toyos_res)
            << "toyos now answers like Linux: drop the deviation (" << d.why << ")";
        h->res = d.toyos_res;
    }
}

void expect_same(Scenario s) {
    Outcome host = run_on_host(s);
    Outcome toy = run_on_toyos(s);
    apply_deviations(s, host, toy);
    EXPECT_TRUE(host.failures.empty()) << "the scenario went wrong on the host:\n"
                                       << describe(host);
    EXPECT_TRUE(toy.failures.empty()) << "the scenario went wrong on toyos:\n" << describe(toy);
    EXPECT_FALSE(host.steps.empty() && host.facts.empty()) << "the scenario observed nothing";
    if (std::getenv("TOYOS_DIFF_VERBOSE") != nullptr)  // what both saw, also when they agree
        std::printf("host saw:\n%s\ntoyos saw:\n%s", describe(host).c_str(), describe(toy).c_str());
    const std::string diff = differences(host, toy);
    EXPECT_TRUE(diff.empty()) << diff << "\nhost saw:\n"
                              << describe(host) << "\ntoyos saw:\n"
                              << describe(toy);
}

// One test per scenario; `ops` are the opcodes the host must support (else skipped).
#define DIFFERENTIAL_TEST(name, ...)                                         \
    TEST(Differential, name) {                                               \
        if (auto missing = host_lacks({__VA_ARGS__}))                        \
            GTEST_SKIP() << "the host's io_uring lacks opcode " << *missing; \
        expect_same(Scenario::name);                                         \
    }

DIFFERENTIAL_TEST(nop, IORING_OP_NOP)
DIFFERENTIAL_TEST(bad_opcode, IORING_OP_NOP)
DIFFERENTIAL_TEST(unknown_sqe_flags, IORING_OP_NOP)
DIFFERENTIAL_TEST(link_broken_by_bad_fd, IORING_OP_NOP, IORING_OP_READ)
DIFFERENTIAL_TEST(link_broken_by_prep_error, IORING_OP_NOP)
DIFFERENTIAL_TEST(hardlink_survives_failure, IORING_OP_NOP, IORING_OP_READ)
DIFFERENTIAL_TEST(link_chain_write_then_read, IORING_OP_WRITE, IORING_OP_READ, IORING_OP_FSYNC)
DIFFERENTIAL_TEST(drain_waits_for_earlier, IORING_OP_RECV, IORING_OP_NOP)
DIFFERENTIAL_TEST(cqe_skip_success, IORING_OP_NOP, IORING_OP_READ)
DIFFERENTIAL_TEST(async_flag, IORING_OP_NOP, IORING_OP_READ)
DIFFERENTIAL_TEST(read_write, IORING_OP_READ, IORING_OP_WRITE)
DIFFERENTIAL_TEST(readv_writev, IORING_OP_READV, IORING_OP_WRITEV)
DIFFERENTIAL_TEST(fixed_buffers, IORING_OP_READ_FIXED, IORING_OP_WRITE_FIXED)
DIFFERENTIAL_TEST(fixed_files_and_update, IORING_OP_READ)
DIFFERENTIAL_TEST(openat_close, IORING_OP_OPENAT, IORING_OP_CLOSE, IORING_OP_READ, IORING_OP_WRITE)
DIFFERENTIAL_TEST(fsync, IORING_OP_FSYNC)
DIFFERENTIAL_TEST(send_recv, IORING_OP_SEND, IORING_OP_RECV)
DIFFERENTIAL_TEST(sendmsg_recvmsg, IORING_OP_SENDMSG, IORING_OP_RECVMSG)
DIFFERENTIAL_TEST(accept_connect, IORING_OP_ACCEPT, IORING_OP_CONNECT, IORING_OP_SEND,
                  IORING_OP_RECV)
DIFFERENTIAL_TEST(timeout_relative_and_count, IORING_OP_TIMEOUT, IORING_OP_NOP)
DIFFERENTIAL_TEST(link_timeout, IORING_OP_LINK_TIMEOUT, IORING_OP_RECV, IORING_OP_NOP,
                  IORING_OP_TIMEOUT)
DIFFERENTIAL_TEST(async_cancel, IORING_OP_ASYNC_CANCEL, IORING_OP_RECV, IORING_OP_TIMEOUT)
DIFFERENTIAL_TEST(ring_fd_as_operand, IORING_OP_READ, IORING_OP_CLOSE, IORING_OP_NOP)
DIFFERENTIAL_TEST(registration_errors, IORING_OP_NOP)
DIFFERENTIAL_TEST(deliberate_deviations, IORING_OP_READ, IORING_OP_SENDMSG)
DIFFERENTIAL_TEST(prep_errors, IORING_OP_READV, IORING_OP_TIMEOUT, IORING_OP_LINK_TIMEOUT,
                  IORING_OP_ASYNC_CANCEL, IORING_OP_ACCEPT, IORING_OP_OPENAT, IORING_OP_CONNECT,
                  IORING_OP_SEND)
DIFFERENTIAL_TEST(timeout_count_semantics, IORING_OP_TIMEOUT, IORING_OP_LINK_TIMEOUT, IORING_OP_NOP,
                  IORING_OP_ASYNC_CANCEL)
DIFFERENTIAL_TEST(shutdown, IORING_OP_SHUTDOWN, IORING_OP_RECV, IORING_OP_SEND)
DIFFERENTIAL_TEST(statx, IORING_OP_STATX)
DIFFERENTIAL_TEST(disabled_ring, IORING_OP_NOP)
DIFFERENTIAL_TEST(enter_timeout_extremes, IORING_OP_TIMEOUT, IORING_OP_NOP)
DIFFERENTIAL_TEST(small_errno_differences, IORING_OP_SEND, IORING_OP_RECV, IORING_OP_RECVMSG)
DIFFERENTIAL_TEST(fd_calls, IORING_OP_READ, IORING_OP_WRITE)
DIFFERENTIAL_TEST(memory_devices, IORING_OP_READ, IORING_OP_WRITE)
DIFFERENTIAL_TEST(foreign_memory, IORING_OP_READ, IORING_OP_READV, IORING_OP_READ_FIXED,
                  IORING_OP_OPENAT, IORING_OP_TIMEOUT, IORING_OP_SENDMSG, IORING_OP_RECVMSG,
                  IORING_OP_SEND, IORING_OP_RECV, IORING_OP_CONNECT, IORING_OP_WRITE)
DIFFERENTIAL_TEST(accept_address_copy_out, IORING_OP_ACCEPT)
DIFFERENTIAL_TEST(probe, IORING_OP_NOP)
DIFFERENTIAL_TEST(poll, IORING_OP_POLL_ADD, IORING_OP_POLL_REMOVE, IORING_OP_SEND, IORING_OP_RECV,
                  IORING_OP_ASYNC_CANCEL)

}  // namespace
}  // namespace toyos::diff

// Differential tests: each scenario (scenarios.h) runs on the host kernel's io_uring through
// the system liburing and on toyos, and the two must answer alike: every CQE's res and flags
// (keyed by user_data, in order where Linux guarantees it), submit counts, register results,
// the bytes read. Run on both toyos executors (ctest -L differential); TOYOS_DIFF_VERBOSE=1
// prints what both saw.
#include <gtest/gtest.h>
#include <linux/io_uring.h>

#include <cstdio>
#include <cstdlib>

#include "runners.h"

namespace toyos::diff {
namespace {

void expect_same(Scenario s) {
    const Outcome host = run_on_host(s);
    const Outcome toy = run_on_toyos(s);
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
DIFFERENTIAL_TEST(link_timeout, IORING_OP_LINK_TIMEOUT, IORING_OP_RECV, IORING_OP_NOP)
DIFFERENTIAL_TEST(async_cancel, IORING_OP_ASYNC_CANCEL, IORING_OP_RECV, IORING_OP_TIMEOUT)
DIFFERENTIAL_TEST(ring_fd_as_operand, IORING_OP_READ, IORING_OP_CLOSE, IORING_OP_NOP)
DIFFERENTIAL_TEST(registration_errors, IORING_OP_NOP)
DIFFERENTIAL_TEST(prep_errors, IORING_OP_READV, IORING_OP_TIMEOUT, IORING_OP_LINK_TIMEOUT,
                  IORING_OP_ASYNC_CANCEL, IORING_OP_ACCEPT, IORING_OP_OPENAT, IORING_OP_CONNECT,
                  IORING_OP_SEND)

}  // namespace
}  // namespace toyos::diff

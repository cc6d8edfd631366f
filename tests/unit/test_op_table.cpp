// The table of operations (iouring/ops/op_def.h): every row keeps what its fields promise, so
// the ring and the executors, which trust the rows, never meet a row with a missing function.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "iouring/ops/op_def.h"

using namespace toyos::iouring;

namespace {

TEST(OpTable, UnimplementedRowsAreEmpty) {
    for (unsigned op = 0; op < kOpTable.size(); ++op) {
        const OpDef& d = kOpTable[op];
        if (d.name != nullptr) continue;
        EXPECT_TRUE(d.prep == nullptr && d.issue == nullptr && d.run == nullptr &&
                    d.host_prep == nullptr && d.finish == nullptr && d.check_file == nullptr)
            << "opcode " << op << " has functions but no name";
    }
}

TEST(OpTable, EveryRowIsWhole) {
    std::set<std::string> names;
    for (unsigned op = 0; op < kOpTable.size(); ++op) {
        const OpDef& d = kOpTable[op];
        if (d.name == nullptr) continue;
        SCOPED_TRACE(d.name);
        EXPECT_TRUE(names.insert(d.name).second) << "two rows are named " << d.name;
        EXPECT_NE(d.prep, nullptr);
        switch (d.issue_on) {
            case IssueOn::Executor:
                EXPECT_NE(d.run, nullptr) << "the thread executor could not run it";
                EXPECT_EQ(d.issue, nullptr);
                break;
            case IssueOn::Ring:
                // LINK_TIMEOUT is never issued alone: submission attaches it to its target.
                EXPECT_TRUE(op == IORING_OP_LINK_TIMEOUT || d.issue != nullptr);
                EXPECT_EQ(d.run, nullptr);
                break;
            case IssueOn::Inline:
                EXPECT_TRUE(d.issue == nullptr && d.run == nullptr);
                EXPECT_EQ(d.file, FileOperand::None);
                break;
        }
        // A host lane is a promise that the host ring executor can write its SQE.
        EXPECT_EQ(d.host != HostLane::None, d.host_prep != nullptr);
        EXPECT_TRUE(d.host == HostLane::None || d.issue_on == IssueOn::Executor);
        EXPECT_TRUE(d.file != FileOperand::Device || d.check_file != nullptr);
        EXPECT_TRUE(!d.kernel_object || d.file == FileOperand::Any);
        // Only an executor's attempt on a file can wait for the file to be ready.
        EXPECT_TRUE(d.poll_events == 0 ||
                    (d.issue_on == IssueOn::Executor && d.file != FileOperand::None));
        EXPECT_TRUE(!d.waits_for_request_events ||
                    (d.issue_on == IssueOn::Executor && d.file != FileOperand::None));
        EXPECT_TRUE(d.nowait_flag == 0 || d.poll_events != 0);
        EXPECT_TRUE(!(d.vectored || d.fixed_buffer) || d.read_write);
        EXPECT_TRUE(!d.read_write || (d.can_be_short && d.file == FileOperand::Any));
    }
    EXPECT_GE(names.size(), 23u);  // the 22 Linux opcodes toyos has, and its LSEEK
}

TEST(OpTable, NamesAreTheTablesRows) {
    EXPECT_STREQ(opcode_name(IORING_OP_READ), "READ");
    EXPECT_STREQ(opcode_name(IORING_OP_URING_CMD), "URING_CMD");
    EXPECT_STREQ(opcode_name(IORING_OP_TOYOS_LSEEK), "LSEEK");
    EXPECT_EQ(opcode_name(199), nullptr);
    // An IOPOLL ring takes only what Linux polls for (io_issue_def.iopoll).
    EXPECT_TRUE(op_def(IORING_OP_READ_FIXED).iopoll);
    EXPECT_FALSE(op_def(IORING_OP_ACCEPT).iopoll);
    EXPECT_FALSE(op_def(IORING_OP_OPENAT).iopoll);
}

}  // namespace

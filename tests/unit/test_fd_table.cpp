#include <gtest/gtest.h>
#include <unistd.h>

#include "kernel/fd_table.h"

using namespace toyos::kernel;

namespace {

FileRef devnull() {
    return HostFile::adopt(::dup(STDIN_FILENO), "test");
}

TEST(FdTable, LowestFreeNumberFirst) {
    FdTable t;
    EXPECT_EQ(t.install(devnull()).value(), 0);
    EXPECT_EQ(t.install(devnull()).value(), 1);
    EXPECT_EQ(t.install(devnull()).value(), 2);
    ASSERT_TRUE(t.remove(1).ok());
    EXPECT_EQ(t.install(devnull()).value(), 1);
    EXPECT_EQ(t.count(), 3u);
}

TEST(FdTable, BadDescriptors) {
    FdTable t;
    EXPECT_EQ(t.get(0).error(), EBADF);
    EXPECT_EQ(t.get(-1).error(), EBADF);
    EXPECT_EQ(t.remove(7).error(), EBADF);
    EXPECT_EQ(t.install_at(FdTable::kMaxFds, devnull()).error(), EBADF);
    ASSERT_TRUE(t.install_at(5, devnull()).ok());
    EXPECT_TRUE(t.get(5).ok());
    EXPECT_EQ(t.get(4).error(), EBADF);
}

TEST(FdTable, FullTableIsEmfile) {
    FdTable t;
    FileRef f = devnull();  // one file shared by every slot
    for (int i = 0; i < FdTable::kMaxFds; ++i) ASSERT_TRUE(t.install(f).ok());
    EXPECT_EQ(t.install(f).error(), EMFILE);
}

}  // namespace

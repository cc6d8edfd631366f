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

TEST(FdTable, DupSharesTheFileAndKeepsCloexecPerNumber) {
    FdTable t;
    ASSERT_EQ(t.install(devnull(), true).value(), 0);
    EXPECT_TRUE(t.cloexec(0).value());
    const int d = t.dup(0, 0, false).value();
    EXPECT_EQ(d, 1);                                            // the lowest free number
    EXPECT_EQ(t.get(d).value().get(), t.get(0).value().get());  // one open file description
    EXPECT_FALSE(t.cloexec(d).value());
    EXPECT_EQ(t.dup(0, 10, true).value(), 10);  // F_DUPFD: at or above the floor
    EXPECT_TRUE(t.cloexec(10).value());
    EXPECT_EQ(t.dup(0, 5, false).value(), 5);  // the holes below the table's end count too
    ASSERT_TRUE(t.set_cloexec(5, true).ok());
    EXPECT_TRUE(t.cloexec(5).value());
    EXPECT_EQ(t.dup(3, 0, false).error(), EBADF);
    EXPECT_EQ(t.dup(0, -1, false).error(), EINVAL);
    EXPECT_EQ(t.dup(0, FdTable::kMaxFds, false).error(), EINVAL);
    EXPECT_EQ(t.cloexec(3).error(), EBADF);
    EXPECT_EQ(t.set_cloexec(3, true).error(), EBADF);
}

TEST(FdTable, DupToReplacesAndHandsBackWhatWasThere) {
    FdTable t;
    FileRef a = devnull(), b = devnull();
    ASSERT_EQ(t.install(a).value(), 0);
    ASSERT_EQ(t.install(b, true).value(), 1);
    auto displaced = t.dup_to(0, 1, false);
    ASSERT_TRUE(displaced.ok());
    EXPECT_EQ(displaced.value().get(), b.get());  // released by the caller, out of the lock
    EXPECT_EQ(t.get(1).value().get(), a.get());
    EXPECT_FALSE(t.cloexec(1).value());
    auto empty = t.dup_to(0, 700, true);  // onto a free number past the table's end
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty.value(), nullptr);
    EXPECT_TRUE(t.cloexec(700).value());
    EXPECT_EQ(t.dup_to(2, 3, false).error(), EBADF);
    EXPECT_EQ(t.dup_to(0, -1, false).error(), EBADF);
    EXPECT_EQ(t.dup_to(0, FdTable::kMaxFds, false).error(), EBADF);
}

TEST(FdTable, DupOfAFullTableIsEmfile) {
    FdTable t;
    FileRef f = devnull();
    for (int i = 0; i < FdTable::kMaxFds; ++i) ASSERT_TRUE(t.install(f).ok());
    EXPECT_EQ(t.dup(0, 0, false).error(), EMFILE);
    ASSERT_TRUE(t.remove(1000).ok());
    EXPECT_EQ(t.dup(0, 1001, false).error(), EMFILE);
    EXPECT_EQ(t.dup(0, 0, false).value(), 1000);
}

}  // namespace

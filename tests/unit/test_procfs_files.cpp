// A /proc file's offset: lseek as Linux's seq files answer it, with no signed overflow.
#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>

#include "kernel/procfs.h"

using namespace toyos::kernel;

TEST(ProcFile, LseekOverflowIsEinvalNotSignedOverflow) {
    ProcFile f("test", [] { return std::string("0123456789"); });
    char c = 0;
    ASSERT_EQ(f.read(&c, 1).value(), 1);  // the text is made at a read from offset 0
    EXPECT_EQ(c, '0');
    ASSERT_EQ(f.lseek(5, SEEK_SET).value(), 5);
    // 5 + LLONG_MAX overflows off_t: -EINVAL (was signed overflow, UBSan), offset unchanged.
    auto r = f.lseek(LLONG_MAX, SEEK_CUR);
    ASSERT_TRUE(r.is_error());
    EXPECT_EQ(r.error(), EINVAL);
    EXPECT_EQ(f.lseek(0, SEEK_CUR).value(), 5);
    auto end = f.lseek(LLONG_MAX, SEEK_END);  // 10 + LLONG_MAX
    ASSERT_TRUE(end.is_error());
    EXPECT_EQ(end.error(), EINVAL);
    EXPECT_EQ(f.lseek(-6, SEEK_CUR).error(), EINVAL);  // before the start
    EXPECT_EQ(f.lseek(-5, SEEK_CUR).value(), 0);
}

// Lexical paths for the kernel's own mounts (/proc, /dev), which no host directory backs.
#include <gtest/gtest.h>

#include "kernel/path.h"

using namespace toyos::kernel;
using Comps = std::vector<std::string>;

TEST(LexicalPath, DotsAndSlashesNeverClimbAboveRoot) {
    EXPECT_EQ(lexical_components("/a/b/c"), (Comps{"a", "b", "c"}));
    EXPECT_EQ(lexical_components("a//b/./c/"), (Comps{"a", "b", "c"}));
    EXPECT_EQ(lexical_components("/a/../b"), (Comps{"b"}));
    EXPECT_EQ(lexical_components("/../../x"), (Comps{"x"}));
    EXPECT_EQ(lexical_components("../.."), Comps{});
    EXPECT_EQ(lexical_components(""), Comps{});
    EXPECT_EQ(lexical_components("/"), Comps{});
    EXPECT_EQ(lexical_components("..."), (Comps{"..."}));  // a name, not a climb
}

TEST(LexicalPath, ComponentsUnderAMount) {
    EXPECT_EQ(components_under("proc", "/proc/self/iouring"), (Comps{"self", "iouring"}));
    EXPECT_EQ(components_under("proc", "/proc"), Comps{});
    EXPECT_EQ(components_under("proc", "proc/1/../2/status"), (Comps{"2", "status"}));
    EXPECT_EQ(components_under("proc", "/x/../proc/1"), (Comps{"1"}));
    EXPECT_FALSE(components_under("proc", "/procfs/1"));
    EXPECT_FALSE(components_under("proc", "/proc/../etc"));
    EXPECT_FALSE(components_under("proc", "/"));
}

TEST(LexicalPath, LeavingAMountAgainGoesToTheSandbox) {
    EXPECT_EQ(path_after_leaving("proc", "/proc/../a"), "/a");
    EXPECT_EQ(path_after_leaving("proc", "./proc/../../b/c"), "/b/c");
    EXPECT_EQ(path_after_leaving("proc", "/proc/.."), "/");
    EXPECT_FALSE(path_after_leaving("proc", "/proc/1"));      // still inside
    EXPECT_FALSE(path_after_leaving("proc", "/a/../b"));      // never entered it
    EXPECT_FALSE(path_after_leaving("proc", "/procx/../b"));  // another name
}

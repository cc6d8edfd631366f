#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kernel/vfs.h"

using namespace toyos::kernel;
namespace fs = std::filesystem;

namespace {

class VfsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/toyos-vfs-XXXXXX";
        base_ = ::mkdtemp(tmpl);
        root_ = base_ + "/root";
        fs::create_directories(root_ + "/sub");
        std::ofstream(root_ + "/inside.txt") << "inside";
        std::ofstream(base_ + "/outside.txt") << "OUTSIDE";
        vfs_ = Vfs::mount(root_).value();
    }
    void TearDown() override { fs::remove_all(base_); }

    // Reads a path through the VFS; "" if it cannot be opened.
    std::string read(const std::string& p) {
        auto fd = vfs_->open(p, O_RDONLY, 0);
        if (fd.is_error()) return "";
        char buf[64] = {};
        const ssize_t n = ::read(fd.value(), buf, sizeof(buf));
        ::close(fd.value());
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
    }

    std::string base_, root_;
    std::unique_ptr<Vfs> vfs_;
};

TEST_F(VfsTest, OpensInsideTheRoot) {
    EXPECT_EQ(read("/inside.txt"), "inside");
    EXPECT_EQ(read("inside.txt"), "inside");
    EXPECT_EQ(read("/sub/../inside.txt"), "inside");
}

TEST_F(VfsTest, DotDotAndAbsolutePathsStayInside) {
    // Like a chroot: "/.." is "/", so these look for root/outside.txt, which does not exist.
    for (const char* p : {"/../outside.txt", "../outside.txt", "/sub/../../outside.txt",
                          "../../../../outside.txt"}) {
        EXPECT_EQ(vfs_->open(p, O_RDONLY, 0).error(), ENOENT) << p;
        EXPECT_EQ(read(p), "") << p;
    }
}

TEST_F(VfsTest, SymlinksCannotLeave) {
    fs::create_symlink(base_ + "/outside.txt", root_ + "/abs");
    fs::create_symlink("../outside.txt", root_ + "/rel");
    fs::create_symlink("../../outside.txt", root_ + "/sub/deeper");
    for (const char* p : {"/abs", "/rel", "/sub/deeper"}) EXPECT_EQ(read(p), "") << p;
    // O_CREAT through a link that points outside creates nothing outside.
    fs::create_symlink(base_ + "/created.txt", root_ + "/creator");
    auto fd = vfs_->open("/creator", O_WRONLY | O_CREAT, 0644);
    if (fd.ok()) ::close(fd.value());
    EXPECT_FALSE(fs::exists(base_ + "/created.txt"));
}

TEST_F(VfsTest, MagicLinksAreRefused) {
    fs::create_symlink("/proc/self/root", root_ + "/hostroot");
    EXPECT_EQ(read("/hostroot/etc/hostname"), "");
    EXPECT_EQ(read("/proc/self/root/etc/hostname"), "");
    fs::create_directories(root_ + "/proc");
    EXPECT_EQ(read("/proc/self/root/etc/hostname"), "");
}

TEST_F(VfsTest, MkdirUnlinkStatInside) {
    ASSERT_TRUE(vfs_->mkdir("/newdir", 0755).ok());
    EXPECT_TRUE(fs::is_directory(root_ + "/newdir"));
    EXPECT_EQ(vfs_->mkdir("/newdir", 0755).error(), EEXIST);
    EXPECT_FALSE(vfs_->mkdir("/../escaped", 0755).is_error() && fs::exists(base_ + "/escaped"));
    EXPECT_FALSE(fs::exists(base_ + "/escaped"));
    struct stat st {};
    ASSERT_TRUE(vfs_->stat("/inside.txt", &st).ok());
    EXPECT_EQ(st.st_size, 6);
    ASSERT_TRUE(vfs_->unlink("/inside.txt").ok());
    EXPECT_FALSE(fs::exists(root_ + "/inside.txt"));
    EXPECT_TRUE(fs::exists(base_ + "/outside.txt"));
    EXPECT_EQ(vfs_->unlink("/../outside.txt").error(), ENOENT);
    EXPECT_TRUE(fs::exists(base_ + "/outside.txt"));
    EXPECT_EQ(vfs_->unlink("/").error(), EBUSY);
}

TEST_F(VfsTest, BadArguments) {
    EXPECT_EQ(vfs_->open("", O_RDONLY, 0).error(), ENOENT);
    EXPECT_EQ(vfs_->open(std::string(5000, 'a'), O_RDONLY, 0).error(), ENAMETOOLONG);
    EXPECT_EQ(vfs_->open("/inside.txt", O_RDONLY | O_TMPFILE, 0).error(), EINVAL);
}

}  // namespace

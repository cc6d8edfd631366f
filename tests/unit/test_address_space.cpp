#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>

#include "kernel/address_space.h"

using namespace toyos::kernel;

namespace {

Region anon_region(size_t len, bool writable, MappingRef* out = nullptr) {
    auto m = HostMapping::anonymous(len, PROT_READ | PROT_WRITE).value();
    if (out) *out = m;
    return Region{m->start(), m->start() + m->length(), writable, RegionKind::Anonymous, m};
}

TEST(AddressSpace, AccessInsideOutsideAndStraddling) {
    AddressSpace as;
    Region r = anon_region(8192, true);
    const uintptr_t s = r.start;
    as.add(r);
    EXPECT_TRUE(as.access(s, 8192, Access::Write).ok());
    EXPECT_TRUE(as.access(s + 100, 1, Access::Read).ok());
    EXPECT_EQ(as.access(s - 1, 2, Access::Read).error(), EFAULT);     // starts before
    EXPECT_EQ(as.access(s + 8191, 2, Access::Read).error(), EFAULT);  // runs past the end
    EXPECT_EQ(as.access(0x10, 1, Access::Read).error(), EFAULT);
    EXPECT_EQ(as.access(UINTPTR_MAX - 4, 16, Access::Read).error(), EFAULT);  // wraps
    EXPECT_TRUE(as.access(0x10, 0, Access::Read).ok());  // empty ranges touch nothing
}

TEST(AddressSpace, ReadOnlyRegionRefusesWrites) {
    AddressSpace as;
    Region r = anon_region(4096, false);
    as.add(r);
    EXPECT_TRUE(as.access(r.start, 16, Access::Read).ok());
    EXPECT_EQ(as.access(r.start, 16, Access::Write).error(), EFAULT);
    int v = 5;
    EXPECT_EQ(as.copy_to_user(UserPtr<int>(r.start), &v).error(), EFAULT);
}

TEST(AddressSpace, CopyHelpersAndStrings) {
    AddressSpace as;
    Region r = anon_region(4096, true);
    as.add(r);
    const int in = 42;
    ASSERT_TRUE(as.copy_to_user(UserPtr<int>(r.start), &in).ok());
    int out = 0;
    ASSERT_TRUE(as.copy_from_user(&out, UserPtr<int>(r.start)).ok());
    EXPECT_EQ(out, 42);
    char* p = reinterpret_cast<char*>(r.start);
    std::strcpy(p, "/path/name");
    auto s = as.copy_string_from_user(UserPtr<char>(r.start), 4096);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s.value(), "/path/name");
    EXPECT_EQ(as.copy_string_from_user(UserPtr<char>(r.start), 4).error(), ENAMETOOLONG);
    // A string that runs to the end of the region without a NUL is EFAULT.
    std::memset(p, 'a', 4096);
    EXPECT_EQ(as.copy_string_from_user(UserPtr<char>(r.start), 8192).error(), EFAULT);
    EXPECT_EQ(as.copy_string_from_user(UserPtr<char>(0), 16).error(), EFAULT);
}

TEST(AddressSpace, RemoveOnlyWholeMappableRegionsAndPinsOutliveIt) {
    AddressSpace as;
    MappingRef m;
    Region r = anon_region(8192, true, &m);
    as.add(r);
    std::weak_ptr<HostMapping> weak = m;
    m.reset();
    r.backing.reset();
    auto pinned = as.access(r.start, 64, Access::Write);
    ASSERT_TRUE(pinned.ok());
    EXPECT_EQ(as.remove(r.start + 4096, 4096).error(), EINVAL);  // not the region's start
    EXPECT_EQ(as.remove(r.start, 100000).error(), EINVAL);       // longer than the region
    ASSERT_TRUE(as.remove(r.start, 8192).ok());
    EXPECT_EQ(as.access(r.start, 1, Access::Read).error(), EFAULT);
    EXPECT_FALSE(weak.expired());  // an operation in flight still holds the memory
    pinned.value().pin.reset();
    EXPECT_TRUE(weak.expired());

    auto stack = HostMapping::anonymous(4096, PROT_READ | PROT_WRITE).value();
    as.add(Region{stack->start(), stack->start() + 4096, true, RegionKind::Stack, stack});
    EXPECT_EQ(as.remove(stack->start(), 4096).error(), EINVAL);  // a stack is not munmap'able
}

}  // namespace

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <vector>

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

// PROT_NONE memory is the process's, but no access reaches it: every copy and the string
// copy answer EFAULT without touching it (they used to read it and the host's SIGSEGV killed
// the whole kernel).
TEST(AddressSpace, ProtNoneRegionRefusesEveryAccess) {
    AddressSpace as;
    auto m = HostMapping::anonymous(4096, PROT_NONE).value();
    as.add(Region{m->start(), m->start() + m->length(), false, RegionKind::Anonymous, m, false});
    EXPECT_EQ(as.access(m->start(), 16, Access::Read).error(), EFAULT);
    EXPECT_EQ(as.access(m->start(), 16, Access::Write).error(), EFAULT);
    int v = 0;
    EXPECT_EQ(as.copy_from_user(&v, UserPtr<int>(m->start() + 64)).error(), EFAULT);
    EXPECT_EQ(as.copy_string_from_user(UserPtr<char>(m->start()), 4096).error(), EFAULT);
}

// Views of one shared block: each has its own address and protection, the pages are shared,
// and the lookup finds each exactly however many there are.
TEST(AddressSpace, SharedViewsAreRegionsOfTheirOwn) {
    AddressSpace as;
    auto block = HostMapping::shared(3 * 4096).value();
    std::vector<MappingRef> views;
    for (int i = 0; i < 6; ++i) {
        auto v = block->view(i < 5 ? 4096 : 3 * 4096, PROT_READ | PROT_WRITE).value();
        as.add(Region{v->start(), v->start() + v->length(), true, RegionKind::Ring, v});
        views.push_back(v);
    }
    auto ro = block->view(4096, PROT_READ).value();
    as.add(Region{ro->start(), ro->start() + ro->length(), false, RegionKind::Ring, ro});
    for (size_t i = 0; i < views.size(); ++i)
        for (size_t j = 0; j < i; ++j) EXPECT_NE(views[i]->start(), views[j]->start());
    const uintptr_t full = views[5]->start();
    EXPECT_TRUE(as.access(full + 2 * 4096, 4096, Access::Write).ok());
    EXPECT_EQ(as.access(views[0]->start() + 4096, 1, Access::Read).error(), EFAULT);
    EXPECT_EQ(as.access(ro->start(), 4, Access::Write).error(), EFAULT);
    ASSERT_TRUE(as.access(ro->start(), 4, Access::Read).ok());
    static_cast<char*>(views[5]->base())[7] = 'x';  // one set of pages
    EXPECT_EQ(static_cast<char*>(ro->base())[7], 'x');
    EXPECT_EQ(static_cast<char*>(block->base())[7], 'x');
    ASSERT_TRUE(as.remove(views[2]->start(), 4096).ok());
    EXPECT_TRUE(as.access(views[1]->start(), 4096, Access::Write).ok());
    EXPECT_TRUE(as.access(full, 3 * 4096, Access::Write).ok());
}

}  // namespace

#include "kernel/address_space.h"

#include <algorithm>
#include <mutex>

namespace toyos::kernel {

const char* region_kind_name(RegionKind k) {
    switch (k) {
        case RegionKind::Stack:
            return "stack";
        case RegionKind::Anonymous:
            return "anon";
        case RegionKind::Image:
            return "image";
        case RegionKind::Ring:
            return "ring";
    }
    return "?";
}

void AddressSpace::add(Region region) {
    std::unique_lock lock(mutex_);
    auto it = std::lower_bound(regions_.begin(), regions_.end(), region.start,
                               [](const Region& r, uintptr_t s) { return r.start < s; });
    regions_.insert(it, std::move(region));
}

Result<void> AddressSpace::remove(uintptr_t start, size_t length) {
    MappingRef dropped;  // released after the lock
    std::unique_lock lock(mutex_);
    auto it = std::find_if(regions_.begin(), regions_.end(),
                           [&](const Region& r) { return r.start == start; });
    if (it == regions_.end() || it->kind == RegionKind::Stack || it->kind == RegionKind::Image)
        return err(EINVAL);
    // Lengths are rounded to pages by mmap; accept the caller's length up to that rounding.
    const size_t span = it->end - it->start;
    if (length == 0 || length > span || span - length >= 4096) return err(EINVAL);
    dropped = std::move(it->backing);
    regions_.erase(it);
    return {};
}

void AddressSpace::clear() {
    std::vector<Region> old;
    {
        std::unique_lock lock(mutex_);
        old.swap(regions_);
    }
}

Result<UserBuffer> AddressSpace::access(uintptr_t addr, size_t length, Access acc) const {
    if (length == 0) return UserBuffer{reinterpret_cast<void*>(addr), 0, nullptr};
    uintptr_t last = 0;
    if (__builtin_add_overflow(addr, length - 1, &last)) return err(EFAULT);
    std::shared_lock lock(mutex_);
    // Regions never overlap (every mmap, a ring's too, is a mapping of its own): the one that
    // could hold addr is the last that starts at or below it.
    const Region* r = find_locked(addr);
    if (r == nullptr || last >= r->end) return err(EFAULT);
    if (acc == Access::Write ? !r->writable : !r->readable) return err(EFAULT);
    return UserBuffer{reinterpret_cast<void*>(addr), length, r->backing};
}

const Region* AddressSpace::find_locked(uintptr_t addr) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), addr,
                               [](uintptr_t a, const Region& r) { return a < r.start; });
    if (it == regions_.begin()) return nullptr;
    --it;
    return addr < it->end ? &*it : nullptr;
}

Result<std::string> AddressSpace::copy_string_from_user(UserPtr<char> src, size_t max_len) const {
    if (src.is_null()) return err(EFAULT);
    std::shared_lock lock(mutex_);
    const Region* r = find_locked(src.addr());
    if (r == nullptr || !r->readable) return err(EFAULT);
    const size_t avail = r->end - src.addr();
    const auto* p = reinterpret_cast<const char*>(src.addr());
    const size_t scan = std::min(avail, max_len + 1);
    const void* nul = std::memchr(p, 0, scan);
    if (nul == nullptr) return err(scan > max_len ? ENAMETOOLONG : EFAULT);
    return std::string(p, static_cast<const char*>(nul));
}

std::vector<Region> AddressSpace::regions() const {
    std::shared_lock lock(mutex_);
    return regions_;
}

size_t AddressSpace::bytes_mapped(RegionKind kind) const {
    std::shared_lock lock(mutex_);
    size_t total = 0;
    for (const auto& r : regions_)
        if (r.kind == kind) total += r.end - r.start;
    return total;
}

}  // namespace toyos::kernel

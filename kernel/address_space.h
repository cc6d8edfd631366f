// AddressSpace: which host memory a process may hand to the kernel, and the one checked path
// by which user memory reaches the kernel.
//
// toyos processes share the host process's address space, so "user memory" is a policy: a
// process owns its thread's stack, what it got from sys::mmap (anonymous or ring memory), and
// the loaded image of its own program. Every pointer that comes from userland is a UserPtr<T>
// and is dereferenced only through access()/copy_from_user()/copy_to_user() below; anything
// outside the process's regions is EFAULT.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "kernel/host_memory.h"
#include "kernel/result.h"

namespace toyos::kernel {

enum class RegionKind { Stack, Anonymous, Image, Ring };
const char* region_kind_name(RegionKind k);

enum class Access { Read = 1, Write = 2 };

// A mapping's protection is its own: an access the mapping does not allow is EFAULT, as the
// host's copy_{to,from}_user would answer (x86: PROT_WRITE implies readable).
struct Region {
    uintptr_t start = 0;
    uintptr_t end = 0;  // exclusive
    bool writable = true;
    RegionKind kind = RegionKind::Anonymous;
    MappingRef backing;    // keeps the memory alive
    bool readable = true;  // false: PROT_NONE
};

// A pointer into user memory. It cannot be dereferenced; only the checked helpers read it.
template <class T>
class UserPtr {
  public:
    UserPtr() = default;
    explicit UserPtr(uintptr_t addr) : addr_(addr) {}
    static UserPtr from(long raw) { return UserPtr(static_cast<uintptr_t>(raw)); }
    uintptr_t addr() const { return addr_; }
    bool is_null() const { return addr_ == 0; }
    UserPtr offset(size_t elements) const { return UserPtr(addr_ + elements * sizeof(T)); }

  private:
    uintptr_t addr_ = 0;
};

// A checked view of user memory, valid while `pin` is held (see HostMapping).
struct UserBuffer {
    void* data = nullptr;
    size_t length = 0;
    MappingRef pin;
};

class AddressSpace {
  public:
    AddressSpace() = default;
    AddressSpace(const AddressSpace&) = delete;
    AddressSpace& operator=(const AddressSpace&) = delete;

    void add(Region region);
    // Removes the region that starts at `start` (munmap). Returns EINVAL unless [start,
    // start+length) is exactly one region; the memory itself lives on while pinned.
    Result<void> remove(uintptr_t start, size_t length);
    void clear();

    // The single checked path: [addr, addr+length) must lie inside one region whose protection
    // allows the access asked for. length 0 is valid (and yields a null pin).
    Result<UserBuffer> access(uintptr_t addr, size_t length, Access access) const;

    template <class T>
    Result<void> copy_from_user(T* dst, UserPtr<T> src, size_t count = 1) const {
        static_assert(std::is_trivially_copyable_v<T>);
        auto buf = access(src.addr(), count * sizeof(T), Access::Read);
        if (buf.is_error()) return err(buf.error());
        if (count == 0) return {};  // dst and the pin may be null: memcpy must not see them
        std::memcpy(static_cast<void*>(dst), buf->data, count * sizeof(T));
        return {};
    }
    template <class T>
    Result<void> copy_to_user(UserPtr<T> dst, const T* src, size_t count = 1) const {
        static_assert(std::is_trivially_copyable_v<T>);
        auto buf = access(dst.addr(), count * sizeof(T), Access::Write);
        if (buf.is_error()) return err(buf.error());
        if (count == 0) return {};
        std::memcpy(buf->data, static_cast<const void*>(src), count * sizeof(T));
        return {};
    }
    // A NUL-terminated string of at most max_len bytes (ENAMETOOLONG beyond), from readable
    // memory.
    Result<std::string> copy_string_from_user(UserPtr<char> src, size_t max_len) const;

    std::vector<Region> regions() const;
    size_t bytes_mapped(RegionKind kind) const;

  private:
    // The region holding addr, or null (mutex_ held).
    const Region* find_locked(uintptr_t addr) const;

    mutable std::shared_mutex mutex_;
    std::vector<Region> regions_;  // sorted by start, non-overlapping
};

}  // namespace toyos::kernel

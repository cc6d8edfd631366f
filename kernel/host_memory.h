// HostMapping: a block of host memory owned by the kernel (a process stack, an anonymous mmap,
// ring memory). Reference-counted: a region of a process's address space holds one reference,
// and so does every operation in flight on it, so the memory outlives both munmap and process
// exit until the host can no longer touch it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "kernel/result.h"

namespace toyos::kernel {

class HostMapping {
  public:
    // Anonymous, zero-filled, page-aligned memory; `guard` adds an inaccessible page below.
    static Result<std::shared_ptr<HostMapping>> anonymous(size_t length, int prot,
                                                          bool guard = false);
    // Shared memory (ring memory; a memfd of its own): one set of pages view() can map again.
    static Result<std::shared_ptr<HostMapping>> shared(size_t length);
    // A second mapping of this shared memory's first `length` bytes (rounded up to pages), at
    // an address of its own and with its own protection: what a process's mmap of a ring fd
    // gets, as Linux gives each mmap its own vma over the ring's pages.
    Result<std::shared_ptr<HostMapping>> view(size_t length, int prot) const;
    // Memory the kernel did not map itself (a loaded program image): never released here;
    // `owner` (may be null) is what keeps it mapped, held as long as this mapping.
    static std::shared_ptr<HostMapping> borrowed(void* base, size_t length,
                                                 std::shared_ptr<const void> owner = nullptr);

    ~HostMapping();
    HostMapping(const HostMapping&) = delete;
    HostMapping& operator=(const HostMapping&) = delete;

    void* base() const { return base_; }
    uintptr_t start() const { return reinterpret_cast<uintptr_t>(base_); }
    size_t length() const { return length_; }

  private:
    HostMapping(void* map_base, size_t map_length, void* base, size_t length, bool owned)
        : map_base_(map_base),
          map_length_(map_length),
          base_(base),
          length_(length),
          owned_(owned) {}
    void* map_base_;
    size_t map_length_;
    void* base_;
    size_t length_;
    bool owned_;
    std::shared_ptr<const void> owner_;
    int memfd_ = -1;  // shared(): the pages' file, which view() maps again
};

using MappingRef = std::shared_ptr<HostMapping>;

}  // namespace toyos::kernel

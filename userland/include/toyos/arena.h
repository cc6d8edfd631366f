// Arena: a bump allocator over sys::mmap memory, for data a program hands to the kernel
// (argv arrays for spawn, path strings built at run time, large I/O buffers).
#pragma once

#include <cstddef>
#include <cstring>

#include "toyos/sys.h"

namespace toyos {

class Arena {
  public:
    explicit Arena(size_t bytes);
    ~Arena();
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    bool ok() const { return base_ != nullptr; }
    void* alloc(size_t n, size_t align = 16);  // nullptr when full
    char* strdup(const char* s);
    char* strndup(const char* s, size_t n);
    void reset() { used_ = 0; }

  private:
    char* base_ = nullptr;
    size_t size_ = 0;
    size_t used_ = 0;
};

}  // namespace toyos

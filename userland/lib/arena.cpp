#include "toyos/arena.h"

namespace toyos {

Arena::Arena(size_t bytes) {
    void* p = sys::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        base_ = static_cast<char*>(p);
        size_ = bytes;
    }
}

Arena::~Arena() {
    if (base_ != nullptr) sys::munmap(base_, size_);
}

void* Arena::alloc(size_t n, size_t align) {
    size_t start = (used_ + align - 1) & ~(align - 1);
    if (base_ == nullptr || start + n > size_) return nullptr;
    used_ = start + n;
    return base_ + start;
}

char* Arena::strndup(const char* s, size_t n) {
    char* p = static_cast<char*>(alloc(n + 1, 1));
    if (p == nullptr) return nullptr;
    std::memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char* Arena::strdup(const char* s) {
    return strndup(s, std::strlen(s));
}

}  // namespace toyos

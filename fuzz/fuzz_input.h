// FuzzInput: reads a fuzzer's bytes as a stream of small decisions. Past the end every read
// gives zeros, so any input, however short, decodes to something.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace toyos::fuzz {

class FuzzInput {
  public:
    FuzzInput(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

    bool empty() const { return p_ == end_; }
    size_t remaining() const { return static_cast<size_t>(end_ - p_); }

    // Copies up to `n` bytes into `out` and zero-fills the rest; returns how many were real.
    size_t take(void* out, size_t n) {
        const size_t k = std::min(n, remaining());
        if (k > 0) std::memcpy(out, p_, k);
        std::memset(static_cast<unsigned char*>(out) + k, 0, n - k);
        p_ += k;
        return k;
    }
    template <class T>
    T read() {
        T v{};
        take(&v, sizeof v);
        return v;
    }
    uint8_t u8() { return read<uint8_t>(); }
    uint16_t u16() { return read<uint16_t>(); }
    uint32_t u32() { return read<uint32_t>(); }
    uint64_t u64() { return read<uint64_t>(); }
    // A string of u8-prefixed length (it may hold NULs).
    std::string str() {
        std::string s(u8(), '\0');
        s.resize(take(s.data(), s.size()));
        return s;
    }

  private:
    const uint8_t* p_;
    const uint8_t* end_;
};

// The inverse, for the seed corpora (fuzz/seeds.cpp): appends what FuzzInput reads back.
class FuzzOutput {
  public:
    template <class T>
    FuzzOutput& put(T v) {
        bytes_.append(reinterpret_cast<const char*>(&v), sizeof v);
        return *this;
    }
    FuzzOutput& u8(uint8_t v) { return put(v); }
    FuzzOutput& u16(uint16_t v) { return put(v); }
    FuzzOutput& u32(uint32_t v) { return put(v); }
    FuzzOutput& u64(uint64_t v) { return put(v); }
    FuzzOutput& raw(const void* p, size_t n) {
        bytes_.append(static_cast<const char*>(p), n);
        return *this;
    }
    FuzzOutput& str(const std::string& s) {
        u8(static_cast<uint8_t>(s.size()));
        bytes_.append(s.data(), std::min<size_t>(s.size(), 255));
        return *this;
    }
    const std::string& bytes() const { return bytes_; }

  private:
    std::string bytes_;
};

}  // namespace toyos::fuzz

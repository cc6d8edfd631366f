// The emulated NVMe disk's contents, known to both sides: the host writes the image before
// the guest boots and checks what the guest wrote after it powers off; the guest's device
// tests check every byte they read against it. Plain C++, no toyos headers: it is compiled
// into a host tool and into a toyos userland program.
//
// Every 8-byte word of the disk is a hash of (seed, word index), so a misplaced block, a
// stale buffer or a byte written at the wrong offset never passes. The image starts out
// with kImageSeed everywhere; each write test owns a region and fills it with its own seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace toyos::qemu {

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint64_t kImageBytes = 32 * kMiB;
constexpr uint64_t kImageSeed = 0x746f796f735f6e76;  // "toyos_nv"

struct ImageRegion {
    const char* name;
    uint64_t offset;  // bytes
    uint64_t bytes;
    uint64_t seed;  // what the region holds after the guest run
};

// Read-only for the tests: the pattern they read back.
constexpr ImageRegion kReadRegion{"read", 0, 24 * kMiB, kImageSeed};
// One region per write test; nothing else writes there.
constexpr ImageRegion kWriteRegions[] = {
    {"passthrough-write", 24 * kMiB, 1 * kMiB, 0x7061737374687275},
    {"iopoll-write", 25 * kMiB, 1 * kMiB, 0x696f706f6c6c5f77},
    {"fixed-write", 26 * kMiB, 1 * kMiB, 0x66697865645f7772},
    {"sqpoll-write", 27 * kMiB, 1 * kMiB, 0x7371706f6c6c5f77},
    {"hostsqpoll-write", 28 * kMiB, 1 * kMiB, 0x686f737473717077},
    {"threads-write", 29 * kMiB, 1 * kMiB, 0x7468726561647377},
};
// [30 MiB, 32 MiB) stays kImageSeed and untouched: a check that no write strayed.
constexpr ImageRegion kTailRegion{"tail", 30 * kMiB, 2 * kMiB, kImageSeed};

inline const ImageRegion* write_region(const char* name) {
    for (const ImageRegion& r : kWriteRegions)
        if (std::strcmp(r.name, name) == 0) return &r;
    return nullptr;
}

// splitmix64 of (seed, word): cheap, and no two nearby words or seeds look alike.
inline uint64_t pattern_word(uint64_t seed, uint64_t word) {
    uint64_t z = seed + (word + 1) * 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Fills buf with the pattern of `seed` for disk bytes [offset, offset + len); offset and len
// are multiples of 8.
inline void pattern_fill(uint64_t seed, uint64_t offset, void* buf, size_t len) {
    auto* out = static_cast<unsigned char*>(buf);
    for (size_t i = 0; i < len; i += 8) {
        const uint64_t w = pattern_word(seed, (offset + i) / 8);
        std::memcpy(out + i, &w, 8);
    }
}

// The offset (relative to buf) of the first byte that differs from the pattern, or len.
inline size_t pattern_mismatch(uint64_t seed, uint64_t offset, const void* buf, size_t len) {
    const auto* in = static_cast<const unsigned char*>(buf);
    for (size_t i = 0; i < len; i += 8) {
        const uint64_t w = pattern_word(seed, (offset + i) / 8);
        if (std::memcmp(in + i, &w, 8) != 0) {
            for (size_t b = 0; b < 8; ++b)
                if (in[i + b] != reinterpret_cast<const unsigned char*>(&w)[b]) return i + b;
        }
    }
    return len;
}

}  // namespace toyos::qemu

// toyos_qemu_image: writes the emulated NVMe disk's image before a guest run, and checks it
// after: every region must hold the pattern of its seed (image_pattern.h), so the write
// tests' data reached the disk and no write landed anywhere else.
//
//   toyos_qemu_image make IMAGE    the whole image with kImageSeed
//   toyos_qemu_image check IMAGE   one RESULT line per region; exit 1 if any differs
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "image_pattern.h"

namespace {

using namespace toyos::qemu;

constexpr size_t kChunk = 1 << 20;

int make(const char* path) {
    FILE* f = std::fopen(path, "wb");
    if (f == nullptr) {
        std::fprintf(stderr, "toyos_qemu_image: %s: %s\n", path, std::strerror(errno));
        return 1;
    }
    std::vector<unsigned char> buf(kChunk);
    for (uint64_t off = 0; off < kImageBytes; off += kChunk) {
        pattern_fill(kImageSeed, off, buf.data(), kChunk);
        if (std::fwrite(buf.data(), 1, kChunk, f) != kChunk) {
            std::fprintf(stderr, "toyos_qemu_image: write %s: %s\n", path, std::strerror(errno));
            std::fclose(f);
            return 1;
        }
    }
    return std::fclose(f) == 0 ? 0 : 1;
}

// "PASS" or why not, for one region of the image file.
bool check_region(FILE* f, const ImageRegion& r) {
    std::vector<unsigned char> buf(kChunk);
    for (uint64_t done = 0; done < r.bytes; done += kChunk) {
        const size_t n = static_cast<size_t>(r.bytes - done < kChunk ? r.bytes - done : kChunk);
        if (std::fseek(f, static_cast<long>(r.offset + done), SEEK_SET) != 0 ||
            std::fread(buf.data(), 1, n, f) != n) {
            std::printf("RESULT host.image.%s FAIL cannot read the image at %llu\n", r.name,
                        static_cast<unsigned long long>(r.offset) + done);
            return false;
        }
        const size_t bad = pattern_mismatch(r.seed, r.offset + done, buf.data(), n);
        if (bad != n) {
            const bool original = pattern_mismatch(kImageSeed, r.offset + done, buf.data(), n) == n;
            std::printf(
                "RESULT host.image.%s FAIL byte %llu differs from the expected pattern%s\n", r.name,
                static_cast<unsigned long long>(r.offset) + done + bad,
                original ? " (the region still holds the original image: never written)" : "");
            return false;
        }
    }
    std::printf("RESULT host.image.%s PASS %llu bytes at %llu hold seed %016llx\n", r.name,
                static_cast<unsigned long long>(r.bytes), static_cast<unsigned long long>(r.offset),
                static_cast<unsigned long long>(r.seed));
    return true;
}

int check(const char* path) {
    FILE* f = std::fopen(path, "rb");
    if (f == nullptr) {
        std::printf("RESULT host.image FAIL %s: %s\n", path, std::strerror(errno));
        return 1;
    }
    bool ok = check_region(f, kReadRegion);
    for (const ImageRegion& r : kWriteRegions) ok = check_region(f, r) && ok;
    ok = check_region(f, kTailRegion) && ok;
    std::fclose(f);
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "make") == 0) return make(argv[2]);
    if (argc == 3 && std::strcmp(argv[1], "check") == 0) return check(argv[2]);
    std::fprintf(stderr, "usage: toyos_qemu_image make|check IMAGE\n");
    return 2;
}

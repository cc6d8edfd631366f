// devtest's small shared pieces: verdicts, DMA buffers, write regions, block addresses.
#include <cstdio>
#include <cstring>

#include "../image_pattern.h"
#include "devtest.h"

namespace toyos::devtest {
namespace {

Verdict make(Verdict::Status s, const char* fmt, va_list ap) {
    Verdict v;
    v.status = s;
    std::vsnprintf(v.text, sizeof(v.text), fmt, ap);
    return v;
}

}  // namespace

Verdict pass(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Verdict v = make(Verdict::Pass, fmt, ap);
    va_end(ap);
    return v;
}

Verdict fail(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Verdict v = make(Verdict::Fail, fmt, ap);
    va_end(ap);
    return v;
}

Verdict skip(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    Verdict v = make(Verdict::Skip, fmt, ap);
    va_end(ap);
    return v;
}

Verdict fail_at(int line, const char* cond, const char* fmt, ...) {
    char detail[200];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return fail("line %d: %s%s%s", line, cond, detail[0] != '\0' ? ": " : "", detail);
}

DmaBuffer::DmaBuffer(size_t n) {
    void* p = sys::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        data = static_cast<unsigned char*>(p);
        bytes = n;
    }
}

DmaBuffer::~DmaBuffer() {
    if (data != nullptr) sys::munmap(data, bytes);
}

bool write_target(const Options& o, const char* own, WriteTarget& out) {
    const qemu::ImageRegion* r = qemu::write_region(o.region != nullptr ? o.region : own);
    if (r == nullptr) return false;
    out = WriteTarget{r->name, r->offset, r->bytes, r->seed};
    return true;
}

uint64_t spread_lba(unsigned i, uint64_t lbas_in_region, unsigned nlb) {
    // A multiplicative hash keeps neighbours apart; the last block still fits.
    const uint64_t slots = lbas_in_region - nlb;
    return (static_cast<uint64_t>(i) * 0x9e3779b1u + 7) % slots;
}

int wait_one(io_uring* ring, io_uring_cqe** cqe) {
    if (io_uring_peek_cqe(ring, cqe) == 0) return 0;
    const int r = io_uring_submit_and_wait(ring, 1);
    if (r < 0) return r;
    return io_uring_wait_cqe(ring, cqe);
}

}  // namespace toyos::devtest

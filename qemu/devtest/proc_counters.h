// A snapshot of /proc/iouring (or of one ring's block of /proc/self/iouring), read through
// the toy VFS, to tell which host path ran the I/O: `Key:\tvalue` lines (docs/proc.md).
#pragma once

#include <cstdint>

namespace toyos::devtest {

class ProcCounters {
  public:
    // /proc/iouring. false if it cannot be read.
    bool read_global();
    // The block of /proc/self/iouring for the ring with toy fd `ring_fd`.
    bool read_ring(int ring_fd);

    // The number after "KEY:\t" (0 if absent), or the text (empty if absent).
    uint64_t number(const char* key) const;
    const char* text(const char* key) const;  // valid until the next read

  private:
    bool load(const char* path);
    const char* find(const char* key) const;

    char buf_[32768];
    const char* begin_ = buf_;  // the part searched: all of it, or one ring's block
    const char* end_ = buf_;
    mutable char value_[512];
};

// Prints /proc/iouring to fd 1 between marker lines (the QEMU harness extracts it).
void print_proc_iouring();

}  // namespace toyos::devtest

// The fuzz targets' toy process. A kernel is booted once, on a temporary sandbox, with one
// toy process that parks itself; the fuzzer's thread then makes syscalls *as* that process
// (set_current_process), so each input costs syscalls, not a process start or a thread
// hand-off. Everything an input hands the kernel lives in the process's own sys::mmap memory
// (scratch()), as it would for a real program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.h"

namespace toyos::fuzz {

// The toy fds every input may aim at (kept open across inputs; restored if an input closes
// one of them).
enum Fixture : unsigned {
    kFile,       // /hello.txt, O_RDWR
    kDir,        // /d, O_DIRECTORY
    kTcpClient,  // connected to kTcpServer over loopback
    kTcpServer,
    kListener,  // listening TCP socket (ACCEPT blocks on it)
    kUdp,       // bound UDP socket
    kEventfd,
    kFixtureCount
};

class FuzzProcess {
  public:
    // Boots the kernel on first use; the calling thread acts as the toy process afterwards.
    static FuzzProcess& get();

    int fixture(unsigned i) const { return fixtures_[i % kFixtureCount]; }
    // The fuzz-controlled part of the process's memory: kScratchBytes, zeroed at each input.
    // One mapping holds the private area, then scratch up to the mapping's end: a range near
    // scratch's end runs out of the mapping, and no I/O running past scratch can reach the
    // harness's own parameters (a timespec overwritten mid-call made a 1 ms wait unbounded).
    unsigned char* scratch() const { return scratch_; }
    static constexpr size_t kScratchBytes = 64 * 1024;
    // A pointer into scratch() chosen by the input (page-aligned sometimes, for O_DIRECT-ish
    // paths), into a PROT_NONE or a read-only page of the process, into another process's
    // memory, or a raw value the kernel must refuse.
    uint64_t pick_addr(FuzzInput& in) const;
    // The harness's own corner of the process memory (parameters, sockaddrs, paths).
    unsigned char* private_area() const { return scratch_ - kPrivateBytes; }
    static constexpr size_t kPrivateBytes = 16 * 1024;

    // The victim process's memory (pick_addr offers it; end_input checks it never changed).
    static constexpr size_t kVictimBytes = 16 * 1024;

    // Starts an input: zeroes scratch and fills its start from the input (u16 length).
    void begin_input(FuzzInput& in);
    // Ends an input: closes every fd the input left open and restores the fixtures.
    void end_input();
    // Puts the sandbox's files back as boot made them (inputs may unlink or create
    // anything inside the root); what inputs created is swept every `sweep_every` calls.
    void restore_sandbox(unsigned sweep_every = 1024);

    const std::string& host_root() const { return root_; }
    const std::string& host_outside() const { return outside_; }
    // What outside/secret holds; no read through the kernel may ever return it.
    static constexpr const char* kSecret = "TOYOS-FUZZ-SECRET-a6d1c0de";

  private:
    FuzzProcess() = default;
    void boot();
    void make_fixtures();
    void lay_out_sandbox();
    void close_fixtures();
    // Aborts (a finding) if any byte of the victim's memory changed.
    void check_victim() const;

    std::string dir_, root_, outside_;
    unsigned restores_ = 0;
    unsigned char* scratch_ = nullptr;
    unsigned char* prot_none_ = nullptr;  // one page each, mapped by the process
    unsigned char* read_only_ = nullptr;
    int fixtures_[kFixtureCount] = {};
    const void* fixture_files_[kFixtureCount] = {};  // the File objects, to notice a swap
};

}  // namespace toyos::fuzz

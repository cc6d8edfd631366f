// Writes the seed corpora, fuzz/corpus/<target>/, with FuzzOutput: each seed is an input the
// target decodes into a meaningful scenario (a valid submission, a link chain, a hostile tail,
// a registration and its use, a path that tries to escape), so fuzzing starts deep.
//   fuzz_seeds DIR    (scripts/fuzz.sh runs it; the corpora are kept in the repository)
#include <fcntl.h>
#include <linux/io_uring.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_input.h"

using toyos::fuzz::FuzzOutput;

namespace {

void save(const std::string& dir, const std::string& name, const FuzzOutput& out) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/" + name, std::ios::binary) << out.bytes();
}

io_uring_sqe sqe(uint8_t opcode, uint8_t flags, uint64_t user_data, uint32_t len = 0) {
    io_uring_sqe s;
    std::memset(&s, 0, sizeof s);
    s.opcode = opcode;
    s.flags = flags;
    s.len = len;
    s.user_data = user_data;
    return s;
}

// fuzz_enter: scratch bytes, setup, then rounds of SQEs (each: 64 bytes + a nudge byte and
// what the nudge reads), a hostile byte, its extras.
struct EnterSeed {
    FuzzOutput out;
    explicit EnterSeed(uint8_t entries, uint8_t setup = 0) {
        out.u16(0);  // no scratch bytes
        out.u8(entries).u8(setup);
    }
    EnterSeed& rounds(uint8_t n) {
        out.u8(static_cast<uint8_t>(n - 1));
        return *this;
    }
    // Setup bit 0x80: a ring of 64 << (`shift` % 5) entries, whose rounds each start with a byte
    // (bit 0: a generated chain, see fuzz_enter's write_chain; else raw SQEs as sqes()).
    EnterSeed& chain_ring(uint8_t shift) {
        out.u8(shift);
        return *this;
    }
    EnterSeed& raw_round() {
        out.u8(0);
        return *this;
    }
    // `count` SQEs; head 0 NOP, 1 TIMEOUT, 2 READ of the file, 3 READ of the eventfd; body
    // (low nibble + high nibble * i) % 3: 0 NOP, 1 ASYNC_CANCEL, 2 READ of the file; link bit 0
    // hard links, 0x02 CQE_SKIP_SUCCESS, 0x04 ASYNC, 0x08 drain, 0x40 one user_data for all;
    // cancel & 3: key 0, i + 1, i - 1, none; (cancel >> 2) % 6: -, -, ALL, ANY, FD, FD|ALL.
    EnterSeed& chain(uint16_t count, uint8_t head, uint8_t body, uint8_t link, uint8_t cancel,
                     uint8_t timeout_us = 100) {
        out.u8(1).u16(static_cast<uint16_t>(count - 1)).u8(head).u8(body).u8(link).u8(cancel);
        out.u8(timeout_us);
        return *this;
    }
    EnterSeed& sqes(const std::vector<std::pair<io_uring_sqe, uint8_t>>& list, uint8_t fixture,
                    uint8_t addr_how = 4, uint16_t addr = 0) {
        out.u8(static_cast<uint8_t>(list.size()));
        for (const auto& [s, nudge] : list) {
            out.raw(&s, sizeof s).u8(nudge);
            if (nudge & 0x01) out.u8(fixture);
            if (nudge & 0x02) out.u8(addr_how).u16(addr);
            if (nudge & 0x80) out.u8(10);
        }
        return *this;
    }
    // The hostile byte and what each of its bits reads (in the target's order): 0x01 array
    // slot and value, 0x02 tail, 0x04 SQ flags, 0x08 CQ head, 0x10 SQ head, 0x20 enter
    // flags, 0x40 to_submit, 0x80 min_complete (with GETEVENTS and a 100 us timeout).
    EnterSeed& enter(uint8_t hostile, uint32_t value = 0) {
        out.u8(hostile);
        if (hostile & 0x01) out.u8(0).u32(value);
        for (uint8_t bit : {0x02, 0x04, 0x08, 0x10, 0x20, 0x40})
            if (hostile & bit) out.u32(value);
        if (hostile & 0x80) out.u8(1);
        return *this;
    }
};

void enter_seeds(const std::string& dir) {
    constexpr uint8_t kFd = 0x01, kAddr = 0x02, kLen = 0x04, kFlags = 0x10;
    save(dir, "nop", EnterSeed(4).rounds(1).sqes({{sqe(IORING_OP_NOP, 0, 1), 0}}, 0).enter(0).out);
    save(dir, "read-file",
         EnterSeed(4)
             .rounds(1)
             .sqes({{sqe(IORING_OP_READ, 0, 7, 64), kFd | kAddr | kLen}}, 0)
             .enter(0x80)
             .out);
    save(dir, "link-bad-fd",
         EnterSeed(8)
             .rounds(1)
             .sqes({{sqe(IORING_OP_NOP, IOSQE_IO_LINK, 1), kFlags},
                    {sqe(IORING_OP_READ, IOSQE_IO_LINK, 2, 16), kAddr | kLen | kFlags},
                    {sqe(IORING_OP_NOP, 0, 3), 0}},
                   0)
             .enter(0x80)
             .out);
    save(dir, "recv-link-timeout",
         EnterSeed(8)
             .rounds(1)
             .sqes({{sqe(IORING_OP_RECV, IOSQE_IO_LINK, 1, 32), kFd | kAddr | kLen},
                    {sqe(IORING_OP_LINK_TIMEOUT, 0, 2, 1), 0x80}},
                   3)
             .enter(0x80)
             .out);
    save(dir, "accept-cancel",
         EnterSeed(8)
             .rounds(2)
             .sqes({{sqe(IORING_OP_ACCEPT, 0, 5), kFd}}, 4)
             .enter(0)
             .sqes({{sqe(IORING_OP_ASYNC_CANCEL, 0, 6), 0}}, 0)
             .enter(0x80)
             .out);
    save(dir, "hostile-tail",
         EnterSeed(4)
             .rounds(1)
             .sqes({{sqe(IORING_OP_NOP, 0, 1), 0}}, 0)
             .enter(0x02, 0xfffffff0u)
             .out);
    save(dir, "hostile-array",
         EnterSeed(4).rounds(1).sqes({{sqe(IORING_OP_NOP, 0, 1), 0}}, 0).enter(0x01, 999).out);
    // CQ head set 4 behind the tail: the CQ looks full, so the NOPs' CQEs overflow.
    save(dir, "full-cq-overflow",
         EnterSeed(3)
             .rounds(1)
             .sqes({{sqe(IORING_OP_NOP, 0, 1), 0},
                    {sqe(IORING_OP_NOP, 0, 2), 0},
                    {sqe(IORING_OP_NOP, 0, 3), 0},
                    {sqe(IORING_OP_NOP, 0, 4), 0}},
                   0)
             .enter(0x08, 0xfffffffcu)
             .out);
    save(dir, "sqpoll",
         EnterSeed(4, 0x44).rounds(1).sqes({{sqe(IORING_OP_NOP, 0, 9), 0}}, 0).enter(0x80).out);

    // Long chains and cancel storms (defects 6 and 7 of issue 18: completed by recursion, and
    // each cancel walked every live request, on whichever shared thread ran the chain).
    constexpr uint8_t kHard = 0x01, kSkip = 0x02, kDrain = 0x08, kSameKey = 0x40;
    constexpr uint8_t kNone = 3, kAll = 2 << 2, kByFd = 4 << 2;
    save(dir, "chain-nops",
         EnterSeed(1, 0x80).chain_ring(4).rounds(1).chain(1024, 0, 0, 0, 0).enter(0x80).out);
    save(
        dir, "chain-timeout-cancel-storm",
        EnterSeed(1, 0x80).chain_ring(4).rounds(1).chain(1024, 1, 1, kHard, kNone).enter(0x80).out);
    save(dir, "chain-read-cancel-all",
         EnterSeed(1, 0x80).chain_ring(4).rounds(1).chain(1024, 2, 1, kHard, kAll).enter(0x80).out);
    save(dir, "chain-stuck-read-cancel-fd",
         EnterSeed(1, 0x80)
             .chain_ring(4)
             .rounds(2)
             .chain(1024, 3, 0x11, kHard, kByFd)
             .enter(0)
             .raw_round()
             .sqes({{sqe(IORING_OP_NOP, 0, 1), 0}}, 0)
             .enter(0x80)
             .out);
    save(dir, "chain-same-user-data",
         EnterSeed(1, 0x80)
             .chain_ring(4)
             .rounds(1)
             .chain(1024, 1, 1, kHard | kSameKey, 0)
             .enter(0x80)
             .out);
    save(dir, "chain-skip-drain",
         EnterSeed(1, 0x80)
             .chain_ring(3)
             .rounds(2)
             .chain(512, 0, 0x12, kSkip | kDrain, 1)
             .enter(0)
             .chain(512, 1, 0x21, kHard | kSkip, 2)
             .enter(0x80)
             .out);
    save(
        dir, "chain-sqpoll-cancel-storm",
        EnterSeed(1, 0xc4).chain_ring(4).rounds(1).chain(1024, 0, 1, kHard, kNone).enter(0x80).out);
}

void register_seeds(const std::string& dir) {
    FuzzOutput buffers;  // IORING_REGISTER_BUFFERS of two scratch pages, then READ_FIXED
    buffers.u16(0).u8(1);
    buffers.u8(IORING_REGISTER_BUFFERS).u8(2).u8(2);   // opcode, iovec kind, 2 iovecs
    buffers.u8(2).u16(0).u8(8);                        // page 0, 4 KiB
    buffers.u8(2).u16(1).u8(8);                        // page 1, 4 KiB
    buffers.u8(0);                                     // count as built
    buffers.u8(1).u8(1);                               // use: one op
    buffers.u8(0).u8(2).u16(0).u16(512).u8(0).u16(0);  // READ_FIXED page 0, 512 bytes, buf 0
    save(dir, "buffers-read-fixed", buffers);

    FuzzOutput files;  // IORING_REGISTER_FILES of the fixtures, then a FIXED_FILE read
    files.u16(0).u8(2);
    files.u8(IORING_REGISTER_FILES).u8(3).u8(3).u8(0).u8(1).u8(2).u8(0).u8(0);
    files.u8(IORING_REGISTER_FILES_UPDATE).u8(4).u8(1).u8(1).u8(2).u8(6).u8(170).u8(0);
    files.u8(1).u8(1).u8(2).u8(4).u16(0).u16(64).u8(0).u16(0).u8(0);
    save(dir, "files-update-fixed-file", files);

    FuzzOutput eventfd;
    eventfd.u16(0).u8(0).u8(IORING_REGISTER_EVENTFD).u8(5).u8(1).u8(0).u8(0);
    save(dir, "eventfd", eventfd);

    FuzzOutput probe;
    probe.u16(0).u8(0).u8(IORING_REGISTER_PROBE).u8(1).u8(4).u16(0).u8(64).u8(0).u8(0);
    save(dir, "probe", probe);
}

void path_seeds(const std::string& dir) {
    const std::vector<std::string> paths = {"hello.txt",
                                            "../outside/secret",
                                            "/../../outside/secret",
                                            "escape",
                                            "absolute-escape",
                                            "/proc/self/root/../outside/secret",
                                            "d/../../outside",
                                            "loop",
                                            "/proc/iouring",
                                            "new-dir/x"};
    int i = 0;
    for (const auto& p : paths) {
        FuzzOutput out;
        out.u16(0).u8(1);                                    // two ops
        out.u8(0).u8(1).str(p).u32(O_RDONLY);                // open(p)
        out.u8(6).u8(1).str(p).u32(O_RDWR | O_CREAT).u8(0);  // OPENAT on a ring, relative to /d
        save(dir, "path-" + std::to_string(i++), out);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fuzz_seeds DIR   (writes DIR/fuzz_enter, ...)\n");
        return 2;
    }
    const std::string dir = argv[1];
    enter_seeds(dir + "/fuzz_enter");
    register_seeds(dir + "/fuzz_register");
    path_seeds(dir + "/fuzz_path");
    return 0;
}

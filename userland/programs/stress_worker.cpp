// stress worker: one process with one tiny ring (CQ as small as the SQ: 4 or 8 entries) that keeps
// a mix of operations in flight and reaps lazily, so the CQ overflows all the time and submits
// meet -EBUSY backpressure. It checks in userland that every user_data it submitted comes back
// exactly once, with a result that operation can have, and writes what it found to its result
// file. The parent (stress.cpp) may kill it at any moment; then the kernel's ledger does the
// checking (completion_ledger.h).
#include <poll.h>
#include <time.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "stress.h"
#include "toyos/io.h"
#include "toyos/liburing.h"
#include "toyos/sys.h"

namespace toyos::stress {
namespace {

constexpr unsigned kSlots = 48;       // operations with buffers in flight at most
constexpr unsigned kBlock = 512;      // file I/O size
constexpr unsigned kSockChunk = 64;   // socket I/O size
constexpr unsigned kStepMaxSqes = 3;  // the longest group of SQEs one step prepares
constexpr uint16_t kNoSlot = 0xffff;
constexpr int kBadFd = 999;  // never open in a worker
// File blocks [0, kSlots) are written and read by single operations, [kSlots, 2 kSlots) by
// link chains: a chain owns the block of its READ's slot, so nothing else touches it meanwhile.
constexpr uint64_t kFileSize = 2 * kSlots * kBlock;
constexpr uint64_t kPastEof = 1 << 20;  // a READ here returns 0: short, so it breaks its chain
constexpr uint64_t kNeverSubmitted = 0x5354524553530000ULL;  // a user_data no op ever has

enum class Kind : uint8_t {
    Nop,
    Write,
    Read,
    Writev,
    Readv,
    Fsync,
    Send,
    Recv,
    HangingRecv,  // RECV on the side nobody writes to, guarded by a LINK_TIMEOUT
    LinkTimeout,
    Timeout,        // TIMEOUT with a completion count
    LongTimeout,    // 10 s TIMEOUT: always in flight, until an ASYNC_CANCEL ends it
    Cancel,         // ASYNC_CANCEL by user_data of something that may still be in flight
    CancelMissing,  // ASYNC_CANCEL of a user_data never submitted
    ChainWrite,     // WRITE -> FSYNC -> READ of the same block, linked
    ChainFsync,
    ChainRead,
    ShortRead,    // the head of a chain broken by a short read
    BadFdWrite,   // the head of a chain broken by -EBADF
    Severed,      // an operation behind a broken link: -ECANCELED
    PollReady,    // POLL_ADD for POLLOUT on a socket with room: at once
    PollWaiting,  // POLL_ADD for POLLIN on the side nobody writes to, ended by a POLL_REMOVE
    PollRemove,
};

const char* kind_name(Kind k) {
    static const char* const names[] = {
        "NOP",         "WRITE",        "READ",         "WRITEV",         "READV",
        "FSYNC",       "SEND",         "RECV",         "HANGING_RECV",   "LINK_TIMEOUT",
        "TIMEOUT",     "LONG_TIMEOUT", "ASYNC_CANCEL", "CANCEL_MISSING", "CHAIN_WRITE",
        "CHAIN_FSYNC", "CHAIN_READ",   "SHORT_READ",   "BAD_FD_WRITE",   "SEVERED",
        "POLL_READY",  "POLL_WAITING", "POLL_REMOVE"};
    return names[static_cast<int>(k)];
}

// Whether `res` is a result operation `k` can have.
bool plausible(Kind k, int res) {
    switch (k) {
        case Kind::Nop:
        case Kind::Fsync:
        case Kind::ChainFsync:
        case Kind::ShortRead:  // at EOF: 0 bytes
            return res == 0;
        case Kind::Write:
        case Kind::Read:
        case Kind::Writev:
        case Kind::Readv:
        case Kind::ChainWrite:
        case Kind::ChainRead:
            return res == static_cast<int>(kBlock);  // inside the file: always whole
        case Kind::Send:
            return res > 0 && res <= static_cast<int>(kSockChunk);
        case Kind::Recv:  // cancelled when the worker ends with it still waiting for data
            return (res > 0 && res <= static_cast<int>(kSockChunk)) || res == -ECANCELED;
        case Kind::HangingRecv:
        case Kind::Severed:
            return res == -ECANCELED;
        case Kind::LinkTimeout:  // fired, or its target ended first
            return res == -ETIME || res == -ECANCELED;
        case Kind::Timeout:  // its count reached, its time up, or cancelled at the end
            return res == 0 || res == -ETIME || res == -ECANCELED;
        case Kind::LongTimeout:  // -ETIME only if a worker lives 10 s (a very slow machine)
            return res == -ECANCELED || res == -ETIME;
        case Kind::Cancel:
            return res == 0 || res == -ENOENT || res == -EALREADY;
        case Kind::CancelMissing:
            return res == -ENOENT;
        case Kind::BadFdWrite:
            return res == -EBADF;
        case Kind::PollReady:
            return res == POLLOUT;
        case Kind::PollWaiting:
            return res == -ECANCELED;
        case Kind::PollRemove:  // -EALREADY: the thread executor was trying it just then
            return res == 0 || res == -EALREADY;
    }
    return false;
}

// Per-slot memory the kernel reads and writes: it must be the process's own (sys::mmap).
struct Slot {
    unsigned char buf[kBlock];
    iovec iov[2];
    __kernel_timespec ts;
};

enum class State : uint8_t { InFlight, Done };

struct Op {
    Kind kind;
    State state;
    uint16_t slot;
    uint8_t pattern;  // CHAIN_READ: the byte its chain's WRITE wrote
};

struct Rng {
    uint64_t s;
    uint64_t next() {  // splitmix64
        uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }
};

class Worker {
  public:
    // No destructor may make a syscall: a kill unwinds the thread from its next syscall, and
    // a syscall inside a destructor run by that unwind would end the whole kernel
    // (std::terminate). What the worker holds, the kernel releases when it dies.
    explicit Worker(const WorkerOptions& o) : o_(o), rng_{o.seed} {}

    int run();

  private:
    int setup();
    void step();
    void finish();
    uint16_t take_slot();
    uint64_t add_op(Kind kind, uint16_t slot, uint8_t pattern = 0);
    io_uring_sqe* sqe_for(Kind kind, uint16_t slot, uint8_t pattern = 0);
    void flush();
    unsigned reap();
    bool wait_one(long timeout_ns);
    void on_cqe(const io_uring_cqe& cqe);
    void complain(const char* what, uint64_t user_data, int res);

    const WorkerOptions& o_;
    Rng rng_;
    Slot* slots_ = nullptr;
    std::vector<uint16_t> free_slots_;
    std::vector<Op> ops_;                  // ops_[user_data - 1]
    std::vector<uint64_t> long_timeouts_;  // in flight, to cancel
    uint64_t in_flight_ = 0;
    io_uring ring_{};
    int file_fd_ = -1, sock_a_ = -1, sock_b_ = -1;
    unsigned complaints_ = 0;
    WorkerReport report_;
};

int Worker::setup() {
    if (o_.sq_entries < kStepMaxSqes) return -EINVAL;  // a link chain must fit in one submit
    void* mem = sys::mmap(nullptr, kSlots * sizeof(Slot), PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return -sys::last_mmap_error();
    slots_ = static_cast<Slot*>(mem);
    for (unsigned i = kSlots; i-- > 0;) free_slots_.push_back(static_cast<uint16_t>(i));
    ops_.reserve(o_.ops + 2 * kSlots + 16);

    char path[64];
    data_path(path, sizeof(path), o_.id);
    file_fd_ = sys::open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (file_fd_ < 0) return file_fd_;
    const char zero = 0;  // sized once: every read inside the file is whole
    if (int r = static_cast<int>(sys::pwrite(file_fd_, &zero, 1, kFileSize - 1)); r < 0) return r;

    // A loopback TCP pair: SEND on a, RECV on b; nothing is ever sent the other way.
    const int listener = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (listener < 0) return listener;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    int r = sys::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (r == 0) r = sys::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
    if (r == 0) r = sys::listen(listener, 1);
    if (r == 0) r = sock_a_ = sys::socket(AF_INET, SOCK_STREAM, 0);
    if (r >= 0) r = sys::connect(sock_a_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (r == 0) r = sock_b_ = sys::accept(listener, nullptr, nullptr);
    sys::close(listener);
    if (r < 0) return r;

    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE;
    p.cq_entries = o_.sq_entries;  // as small as the SQ allows
    r = io_uring_queue_init_params(o_.sq_entries, &ring_, &p);
    if (r < 0) return r;
    return 0;
}

uint16_t Worker::take_slot() {
    const uint16_t s = free_slots_.back();
    free_slots_.pop_back();
    return s;
}

uint64_t Worker::add_op(Kind kind, uint16_t slot, uint8_t pattern) {
    ops_.push_back(Op{kind, State::InFlight, slot, pattern});
    ++in_flight_;
    return ops_.size();
}

// An SQE with user_data set for a new operation (the SQ has room: step() made sure).
io_uring_sqe* Worker::sqe_for(Kind kind, uint16_t slot, uint8_t pattern) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    io_uring_prep_nop(sqe);
    io_uring_sqe_set_data64(sqe, add_op(kind, slot, pattern));
    return sqe;
}

void Worker::step() {
    const unsigned pick = rng_.below(100);
    auto ms = [](__kernel_timespec& ts, long v) {
        ts.tv_sec = v / 1000;
        ts.tv_nsec = (v % 1000) * 1'000'000;
    };
    if (long_timeouts_.empty() || pick < 2) {
        // Something always in flight for a kill to find.
        const uint16_t s = take_slot();
        ms(slots_[s].ts, 10'000);
        io_uring_sqe* sqe = sqe_for(Kind::LongTimeout, s);
        io_uring_prep_timeout(sqe, &slots_[s].ts, 0, 0);
        long_timeouts_.push_back(sqe->user_data);
        return;
    }
    if (pick < 6) {
        // Cancel the oldest long timeout (it may have ended meanwhile: then -ENOENT).
        const uint64_t target = long_timeouts_.front();
        long_timeouts_.erase(long_timeouts_.begin());
        io_uring_prep_cancel64(sqe_for(Kind::Cancel, kNoSlot), target, 0);
        return;
    }
    if (pick < 8) {
        io_uring_prep_cancel64(sqe_for(Kind::CancelMissing, kNoSlot), kNeverSubmitted, 0);
        return;
    }
    if (pick < 14) {
        io_uring_prep_nop(sqe_for(Kind::Nop, kNoSlot));
        return;
    }
    if (pick < 16) {
        io_uring_prep_poll_add(sqe_for(Kind::PollReady, kNoSlot), sock_b_, POLLOUT);
        return;
    }
    if (pick < 18) {
        io_uring_sqe* poll = sqe_for(Kind::PollWaiting, kNoSlot);
        io_uring_prep_poll_add(poll, sock_a_, POLLIN);
        io_uring_prep_poll_remove(sqe_for(Kind::PollRemove, kNoSlot), poll->user_data);
        return;
    }
    if (pick < 50) {
        // Plain file I/O on the slot's own block.
        const uint16_t s = take_slot();
        Slot& sl = slots_[s];
        const uint64_t off = uint64_t{s} * kBlock;
        sl.iov[0] = iovec{sl.buf, kBlock / 2};
        sl.iov[1] = iovec{sl.buf + kBlock / 2, kBlock / 2};
        switch (rng_.below(4)) {
            case 0:
                std::memset(sl.buf, 0x5a, kBlock);
                io_uring_prep_write(sqe_for(Kind::Write, s), file_fd_, sl.buf, kBlock, off);
                break;
            case 1:
                io_uring_prep_read(sqe_for(Kind::Read, s), file_fd_, sl.buf, kBlock, off);
                break;
            case 2:
                std::memset(sl.buf, 0xa5, kBlock);
                io_uring_prep_writev(sqe_for(Kind::Writev, s), file_fd_, sl.iov, 2, off);
                break;
            default:
                io_uring_prep_readv(sqe_for(Kind::Readv, s), file_fd_, sl.iov, 2, off);
                break;
        }
        return;
    }
    if (pick < 52) {
        io_uring_prep_fsync(sqe_for(Kind::Fsync, kNoSlot), file_fd_, IORING_FSYNC_DATASYNC);
        return;
    }
    if (pick < 68) {
        // SEND then RECV (linked half the time). Every RECV has a SEND of as many bytes before
        // it, so none waits forever unless a SEND was cut short.
        const uint16_t s1 = take_slot(), s2 = take_slot();
        std::memset(slots_[s1].buf, 's', kSockChunk);
        io_uring_sqe* send = sqe_for(Kind::Send, s1);
        io_uring_prep_send(send, sock_a_, slots_[s1].buf, kSockChunk, 0);
        if (rng_.below(2) == 0) io_uring_sqe_set_flags(send, IOSQE_IO_LINK);
        io_uring_prep_recv(sqe_for(Kind::Recv, s2), sock_b_, slots_[s2].buf, kSockChunk, 0);
        return;
    }
    if (pick < 74) {
        // A RECV that never gets data, ended by its LINK_TIMEOUT.
        const uint16_t s1 = take_slot(), s2 = take_slot();
        io_uring_sqe* recv = sqe_for(Kind::HangingRecv, s1);
        io_uring_prep_recv(recv, sock_a_, slots_[s1].buf, kSockChunk, 0);
        io_uring_sqe_set_flags(recv, IOSQE_IO_LINK);
        ms(slots_[s2].ts, 1 + rng_.below(3));
        io_uring_prep_link_timeout(sqe_for(Kind::LinkTimeout, s2), &slots_[s2].ts, 0);
        return;
    }
    if (pick < 82) {
        const uint16_t s = take_slot();
        ms(slots_[s].ts, 5 + rng_.below(25));
        io_uring_prep_timeout(sqe_for(Kind::Timeout, s), &slots_[s].ts, 1 + rng_.below(4), 0);
        return;
    }
    if (pick < 92) {
        // WRITE -> FSYNC -> READ of one block, linked: the READ must see what the WRITE wrote.
        const uint16_t sw = take_slot(), sr = take_slot();
        const uint64_t off = (kSlots + uint64_t{sr}) * kBlock;
        const auto pattern = static_cast<uint8_t>(1 + rng_.below(255));
        std::memset(slots_[sw].buf, pattern, kBlock);
        std::memset(slots_[sr].buf, 0, kBlock);
        io_uring_sqe* w = sqe_for(Kind::ChainWrite, sw);
        io_uring_prep_write(w, file_fd_, slots_[sw].buf, kBlock, off);
        io_uring_sqe_set_flags(w, IOSQE_IO_LINK);
        io_uring_sqe* f = sqe_for(Kind::ChainFsync, kNoSlot);
        io_uring_prep_fsync(f, file_fd_, IORING_FSYNC_DATASYNC);
        io_uring_sqe_set_flags(f, IOSQE_IO_LINK);
        io_uring_prep_read(sqe_for(Kind::ChainRead, sr, pattern), file_fd_, slots_[sr].buf, kBlock,
                           off);
        return;
    }
    // A chain broken at its head: a short read, or a write to a bad fd. The rest: -ECANCELED.
    const uint16_t s = take_slot();
    io_uring_sqe* head;
    if (rng_.below(2) == 0) {
        head = sqe_for(Kind::ShortRead, s);
        io_uring_prep_read(head, file_fd_, slots_[s].buf, kBlock, kPastEof);
    } else {
        head = sqe_for(Kind::BadFdWrite, s);
        io_uring_prep_write(head, kBadFd, slots_[s].buf, kBlock, 0);
    }
    io_uring_sqe_set_flags(head, IOSQE_IO_LINK);
    io_uring_sqe* mid = sqe_for(Kind::Severed, kNoSlot);
    io_uring_prep_nop(mid);
    io_uring_sqe_set_flags(mid, IOSQE_IO_LINK);
    io_uring_prep_fsync(sqe_for(Kind::Severed, kNoSlot), file_fd_, 0);
}

// Submits what is prepared. -EBUSY (the CQ's overflow backlog cannot drain) means: reap first.
void Worker::flush() {
    while (io_uring_sq_ready(&ring_) > 0) {
        const int r = io_uring_submit(&ring_);
        if (r > 0) continue;
        if (r == -EBUSY) {
            // Reaping makes room in the CQ; the next enter flushes the backlog into it.
            ++report_.busy;
            if (reap() == 0) sys::sleep_ns(100'000);
            continue;
        }
        complain("submit failed", 0, r);
        return;
    }
}

unsigned Worker::reap() {
    if (io_uring_cq_has_overflow(&ring_)) ++report_.overflow_seen;
    unsigned n = 0;
    io_uring_cqe* cqe = nullptr;
    while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
        on_cqe(*cqe);
        io_uring_cqe_seen(&ring_, cqe);
        ++n;
    }
    return n;
}

// Waits up to `timeout_ns` for one completion and handles what is ready.
bool Worker::wait_one(long timeout_ns) {
    __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
    io_uring_cqe* cqe = nullptr;
    const int r = io_uring_wait_cqe_timeout(&ring_, &cqe, &ts);
    if (r < 0) return false;
    reap();
    return true;
}

void Worker::complain(const char* what, uint64_t user_data, int res) {
    if (++complaints_ > 5) return;
    const bool known = user_data >= 1 && user_data <= ops_.size();
    io::printf(2, "stress worker %u: %s: user_data=%llu op=%s res=%d\n", o_.id, what,
               static_cast<unsigned long long>(user_data),
               known ? kind_name(ops_[user_data - 1].kind) : "?", res);
}

void Worker::on_cqe(const io_uring_cqe& cqe) {
    const uint64_t ud = cqe.user_data;
    if (ud == 0 || ud > ops_.size()) {
        ++report_.duplicated;  // a completion for nothing this worker submitted
        complain("completion for an unknown user_data", ud, cqe.res);
        return;
    }
    Op& op = ops_[ud - 1];
    if (op.state == State::Done) {
        ++report_.duplicated;
        complain("second completion", ud, cqe.res);
        return;
    }
    op.state = State::Done;
    --in_flight_;
    if (!plausible(op.kind, cqe.res)) {
        ++report_.bad_res;
        complain("implausible result", ud, cqe.res);
    } else if (op.kind == Kind::ChainRead) {
        for (unsigned i = 0; i < kBlock; ++i) {
            if (slots_[op.slot].buf[i] == op.pattern) continue;
            ++report_.bad_res;
            complain("linked READ did not see its chain's WRITE", ud, cqe.res);
            break;
        }
    }
    if (op.slot != kNoSlot) free_slots_.push_back(op.slot);
}

void Worker::finish() {
    flush();
    // End what would otherwise wait: long timeouts, counted timeouts, receives still waiting.
    for (uint64_t ud = 1; ud <= ops_.size(); ++ud) {
        const Op& op = ops_[ud - 1];
        if (op.state != State::InFlight) continue;
        if (op.kind != Kind::LongTimeout && op.kind != Kind::Timeout && op.kind != Kind::Recv)
            continue;
        if (io_uring_sq_space_left(&ring_) == 0) flush();
        io_uring_prep_cancel64(sqe_for(Kind::Cancel, kNoSlot), ud, 0);
    }
    flush();
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (in_flight_ > 0) {
        if (!wait_one(100'000'000)) reap();
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 20) break;
    }
    if (in_flight_ > 0) {
        report_.lost += in_flight_;
        for (uint64_t ud = 1; ud <= ops_.size(); ++ud)
            if (ops_[ud - 1].state == State::InFlight) complain("never completed", ud, 0);
    }
    // Nothing more may come: a late CQE now would be a second completion.
    wait_one(20'000'000);
}

int Worker::run() {
    if (int r = setup(); r < 0) {
        io::printf(2, "stress worker %u: setup: %s\n", o_.id, io::error_text(r));
        return 2;
    }
    while (ops_.size() < o_.ops) {
        // Room for the longest step; otherwise submit and reap until there is.
        while (free_slots_.size() < kStepMaxSqes || io_uring_sq_space_left(&ring_) < kStepMaxSqes) {
            flush();
            if (free_slots_.size() < kStepMaxSqes && reap() == 0) wait_one(1'000'000);
        }
        step();
        // Lazily: several steps per submit, and reaping only now and then.
        if (rng_.below(3) == 0) flush();
        if (rng_.below(8) == 0) reap();
    }
    finish();
    report_.ops = ops_.size();
    io_uring_queue_exit(&ring_);  // tears the ring down: the kernel closes its ledger
    for (int fd : {file_fd_, sock_a_, sock_b_}) sys::close(fd);
    sys::munmap(slots_, kSlots * sizeof(Slot));

    char path[64], line[256];
    data_path(path, sizeof(path), o_.id);
    sys::unlink(path);
    result_path(path, sizeof(path), o_.id);
    const int fd = sys::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 2;
    const int n = std::snprintf(
        line, sizeof(line),
        "ops=%llu lost=%llu duplicated=%llu bad_res=%llu busy=%llu overflow_seen=%llu\n",
        static_cast<unsigned long long>(report_.ops), static_cast<unsigned long long>(report_.lost),
        static_cast<unsigned long long>(report_.duplicated),
        static_cast<unsigned long long>(report_.bad_res),
        static_cast<unsigned long long>(report_.busy),
        static_cast<unsigned long long>(report_.overflow_seen));
    io::write_all(fd, line, static_cast<size_t>(n));
    sys::close(fd);
    return report_.lost + report_.duplicated + report_.bad_res == 0 ? 0 : 1;
}

}  // namespace

void data_path(char* buf, unsigned long size, unsigned id) {
    std::snprintf(buf, size, "%s/w%u.dat", kDir, id);
}

void result_path(char* buf, unsigned long size, unsigned id) {
    std::snprintf(buf, size, "%s/w%u.res", kDir, id);
}

int run_worker(const WorkerOptions& o) {
    Worker w(o);
    return w.run();
}

}  // namespace toyos::stress

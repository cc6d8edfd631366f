// FaultPlan: deterministic fault injection (toyos run --fault SPEC, --fault-file FILE,
// --fault-seed N; grammar and examples in docs/reliability.md).
//
// A spec is TARGET[:KEY[=VALUE]]...: TARGET an opcode name in lower case (read, write_fixed,
// ...), '*' (every operation an executor runs), host-ring, register-buffers or register-files;
// one action (error=ERRNO, short=FRACTION, delay=DURATION, fail) and optional selectors
// (prob=P, every=N). A ring decides at submission, in SQ order, under its submit lock: the
// decision is a hash of the seed, the ring's id, the rule and the request's sequence number
// (and, for every=N, a per-ring count of the rule's matches), never a shared RNG or the clock,
// so a run replays exactly. The ring applies the decision when it issues the request, the same
// way for the host ring executor and the thread pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace toyos::iouring {

// What a ring does to one request instead of (or before) running it as submitted.
struct FaultAction {
    enum class Kind : uint8_t { None, Error, Short, Delay };
    Kind kind = Kind::None;
    int32_t error = 0;      // Error: completes with -error, never runs
    uint32_t keep_ppm = 0;  // Short: runs with this fraction (parts per million) of its bytes
    int64_t delay_ns = 0;   // Delay: issued this much later (a timer, no thread blocks)
};

struct FaultRule {
    enum class Target : uint8_t { Opcode, AnyOp, HostRing, RegisterBuffers, RegisterFiles };
    Target target = Target::AnyOp;
    uint8_t opcode = 0;  // Target::Opcode
    FaultAction action;
    double prob = 1.0;   // fires with this probability (after `every`)
    uint64_t every = 0;  // 0: every match; N: the Nth, 2Nth, ... match of a ring
    std::string text;    // the spec as written
};

// Counts of injected faults, for /proc/iouring (written only when a fault fires).
struct FaultCounters {
    std::atomic<uint64_t> errors{0};
    std::atomic<uint64_t> short_ops{0};
    std::atomic<uint64_t> delays{0};
    std::atomic<uint64_t> register_errors{0};
    std::atomic<uint64_t> host_ring_failures{0};
};

class FaultPlan {
  public:
    // Parses one spec; false with a message in `error` if it is malformed.
    static bool parse(const std::string& spec, FaultRule& out, std::string& error);
    // Reads FILE: one spec per line, '#' starts a comment, blank lines skipped.
    static bool parse_file(const std::string& path, std::vector<std::string>& specs,
                           std::string& error);

    FaultPlan() = default;
    FaultPlan(std::vector<FaultRule> rules, uint64_t seed);

    bool empty() const { return rules_.empty(); }
    uint64_t seed() const { return seed_; }
    const std::vector<FaultRule>& rules() const { return rules_; }
    // A ring keeps one match count per rule.
    size_t rule_count() const { return rules_.size(); }

    // The decision for request `seq` of opcode `opcode` on ring `ring_id`; `matches` is the
    // ring's per-rule match counts (rule_count() of them), advanced here. `bytes` is what the
    // request would transfer (0: not a read or write; a short needs at least 2).
    FaultAction decide(int ring_id, uint64_t seq, uint8_t opcode, uint64_t bytes,
                       uint64_t* matches) const;
    // io_uring_register of buffers or files on ring `ring_id`: the errno to fail with, or 0.
    // `call` counts that ring's registrations of that kind (deterministic per ring).
    int register_error(int ring_id, bool buffers, uint64_t call) const;
    // host-ring:fail / host-ring:error=E: the errno the host ring setup fails with, or 0.
    int host_ring_error() const;

    FaultCounters& counters() const { return counters_; }

  private:
    bool fires(const FaultRule& rule, size_t index, int ring_id, uint64_t n, uint64_t* match) const;

    std::vector<FaultRule> rules_;
    uint64_t seed_ = 0;
    mutable FaultCounters counters_;
};

}  // namespace toyos::iouring

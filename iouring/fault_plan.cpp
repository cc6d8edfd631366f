#include "iouring/fault_plan.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "iouring/ops/op_def.h"
#include "iouring/request.h"

namespace toyos::iouring {
namespace {

// SplitMix64's finalizer: a well-mixed 64-bit hash of the decision's inputs.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// A uniform number in [0, 1) from the seed, the ring, the rule and the request.
double uniform(uint64_t seed, int ring_id, size_t rule, uint64_t n) {
    uint64_t h = mix(seed);
    h = mix(h ^ static_cast<uint64_t>(static_cast<uint32_t>(ring_id)));
    h = mix(h ^ rule);
    h = mix(h ^ n);
    return static_cast<double>(h >> 11) * 0x1.0p-53;
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

bool parse_errno(const std::string& v, int32_t& out) {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (!v.empty() && *end == '\0') {
        if (n < 1 || n > 4095) return false;
        out = static_cast<int32_t>(n);
        return true;
    }
    for (int e = 1; e < 4096; ++e) {
        const char* name = strerrorname_np(e);
        if (name != nullptr && v == name) {
            out = e;
            return true;
        }
    }
    return false;
}

// "250us", "2ms", "1s", or plain nanoseconds ("500ns" or "500").
bool parse_duration(const std::string& v, int64_t& out) {
    char* end = nullptr;
    const double n = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || !(n >= 0) || !std::isfinite(n)) return false;
    const std::string unit = end;
    double scale;
    if (unit.empty() || unit == "ns")
        scale = 1;
    else if (unit == "us")
        scale = 1e3;
    else if (unit == "ms")
        scale = 1e6;
    else if (unit == "s")
        scale = 1e9;
    else
        return false;
    const double ns = n * scale;
    if (ns > 60e9) return false;  // a delay is a hiccup, not a hang
    out = static_cast<int64_t>(ns);
    return true;
}

bool parse_target(const std::string& t, FaultRule& r) {
    if (t == "*") {
        r.target = FaultRule::Target::AnyOp;
        return true;
    }
    if (t == "host-ring") {
        r.target = FaultRule::Target::HostRing;
        return true;
    }
    if (t == "register-buffers") {
        r.target = FaultRule::Target::RegisterBuffers;
        return true;
    }
    if (t == "register-files") {
        r.target = FaultRule::Target::RegisterFiles;
        return true;
    }
    for (int op = 0; op < 256; ++op) {
        const OpDef& def = op_def(static_cast<uint8_t>(op));
        // What the ring completes itself is never run by an executor: nothing to inject.
        if (def.name == nullptr || def.issue_on != IssueOn::Executor) continue;
        if (lower(def.name) == t) {
            r.target = FaultRule::Target::Opcode;
            r.opcode = static_cast<uint8_t>(op);
            return true;
        }
    }
    return false;
}

}  // namespace

bool FaultPlan::parse(const std::string& spec, FaultRule& out, std::string& error) {
    FaultRule r;
    r.text = spec;
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t colon = spec.find(':', start);
        parts.push_back(spec.substr(start, colon - start));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    if (!parse_target(parts[0], r)) {
        error = "unknown target '" + parts[0] +
                "' (an opcode such as read or write_fixed, *, host-ring, register-buffers, "
                "register-files)";
        return false;
    }
    bool has_action = false;
    auto set_action = [&](FaultAction::Kind kind) {
        if (has_action) {
            error = "more than one action in '" + spec + "'";
            return false;
        }
        has_action = true;
        r.action.kind = kind;
        return true;
    };
    for (size_t i = 1; i < parts.size(); ++i) {
        const std::string& p = parts[i];
        const size_t eq = p.find('=');
        const std::string key = p.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : p.substr(eq + 1);
        if (key == "fail" && eq == std::string::npos) {
            if (!set_action(FaultAction::Kind::Error)) return false;
            r.action.error = ENOMEM;
        } else if (key == "error") {
            if (!set_action(FaultAction::Kind::Error)) return false;
            if (!parse_errno(value, r.action.error)) {
                error = "error=" + value + ": not an errno name (EIO) or number (1..4095)";
                return false;
            }
        } else if (key == "short") {
            if (!set_action(FaultAction::Kind::Short)) return false;
            char* end = nullptr;
            const double f = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || !(f >= 0 && f < 1)) {
                error = "short=" + value + ": the fraction kept must be in [0, 1)";
                return false;
            }
            r.action.keep_ppm = static_cast<uint32_t>(f * 1e6);
        } else if (key == "delay") {
            if (!set_action(FaultAction::Kind::Delay)) return false;
            if (!parse_duration(value, r.action.delay_ns)) {
                error = "delay=" + value + ": a duration such as 500us, 2ms or 1s (at most 60s)";
                return false;
            }
        } else if (key == "prob") {
            char* end = nullptr;
            r.prob = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0' || !(r.prob > 0 && r.prob <= 1)) {
                error = "prob=" + value + ": a probability in (0, 1]";
                return false;
            }
        } else if (key == "every") {
            char* end = nullptr;
            const long long n = std::strtoll(value.c_str(), &end, 10);
            if (value.empty() || *end != '\0' || n < 1) {
                error = "every=" + value + ": a count >= 1";
                return false;
            }
            r.every = static_cast<uint64_t>(n);
        } else {
            error = "unknown key '" + key + "' (error=, short=, delay=, fail, prob=, every=)";
            return false;
        }
    }
    if (!has_action) {
        error = "'" + spec + "' has no action (error=ERRNO, short=FRACTION, delay=TIME, fail)";
        return false;
    }
    const bool op_target =
        r.target == FaultRule::Target::Opcode || r.target == FaultRule::Target::AnyOp;
    if (!op_target && r.action.kind != FaultAction::Kind::Error) {
        error = "'" + parts[0] + "' takes only fail or error=ERRNO";
        return false;
    }
    if (r.target == FaultRule::Target::HostRing && (r.every != 0 || r.prob < 1.0)) {
        error = "host-ring is set up once at boot: no prob= or every=";
        return false;
    }
    if (r.target == FaultRule::Target::Opcode && r.action.kind == FaultAction::Kind::Short &&
        !op_def(r.opcode).can_be_short) {
        error = "short= applies to reads, writes, send and recv, not '" + parts[0] + "'";
        return false;
    }
    out = std::move(r);
    return true;
}

bool FaultPlan::parse_file(const std::string& path, std::vector<std::string>& specs,
                           std::string& error) {
    std::ifstream in(path);
    if (!in) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    std::string line;
    while (std::getline(in, line)) {
        if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
        const size_t b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos) continue;
        const size_t e = line.find_last_not_of(" \t\r");
        specs.push_back(line.substr(b, e - b + 1));
    }
    return true;
}

FaultPlan::FaultPlan(std::vector<FaultRule> rules, uint64_t seed)
    : rules_(std::move(rules)), seed_(seed) {}

bool FaultPlan::fires(const FaultRule& rule, size_t index, int ring_id, uint64_t n,
                      uint64_t* match) const {
    if (rule.every > 0) {
        const uint64_t m = ++*match;
        if (m % rule.every != 0) return false;
    }
    return rule.prob >= 1.0 || uniform(seed_, ring_id, index, n) < rule.prob;
}

FaultAction FaultPlan::decide(int ring_id, uint64_t seq, uint8_t opcode, uint64_t bytes,
                              uint64_t* matches) const {
    FaultAction chosen;
    for (size_t i = 0; i < rules_.size(); ++i) {
        const FaultRule& r = rules_[i];
        if (r.target == FaultRule::Target::Opcode) {
            if (r.opcode != opcode) continue;
        } else if (r.target != FaultRule::Target::AnyOp) {
            continue;
        }
        // A short needs something to cut: at least 2 bytes of a read or write.
        if (r.action.kind == FaultAction::Kind::Short &&
            (!op_def(opcode).can_be_short || bytes < 2))
            continue;
        // Every matching rule counts the request, so one rule's `every` does not depend on
        // whether an earlier rule fired; the first rule that fires decides.
        if (fires(r, i, ring_id, seq, &matches[i]) && chosen.kind == FaultAction::Kind::None)
            chosen = r.action;
    }
    return chosen;
}

int FaultPlan::register_error(int ring_id, bool buffers, uint64_t call) const {
    const auto want =
        buffers ? FaultRule::Target::RegisterBuffers : FaultRule::Target::RegisterFiles;
    for (size_t i = 0; i < rules_.size(); ++i) {
        const FaultRule& r = rules_[i];
        if (r.target != want) continue;
        if (r.every > 0 && call % r.every != 0) continue;
        if (r.prob < 1.0 && uniform(seed_, ring_id, i, call) >= r.prob) continue;
        counters_.register_errors.fetch_add(1, std::memory_order_relaxed);
        return r.action.error;
    }
    return 0;
}

int FaultPlan::host_ring_error() const {
    for (const FaultRule& r : rules_)
        if (r.target == FaultRule::Target::HostRing) return r.action.error;
    return 0;
}

}  // namespace toyos::iouring

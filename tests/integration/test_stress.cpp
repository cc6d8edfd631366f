// stress through the toyos binary, on both executors: P processes, N operations, random kills
// and constant CQ overflow, and the kernel's conservation check must come out clean.
#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "sandbox.h"

namespace {

using namespace toyos_it;

// The size the issue asks for. Sanitizer builds run it too (measured in docs/reliability.md).
constexpr int kProcs = 64;
constexpr long long kOps = 100'000;

// "stress: k=v k=v ..." into a map ("" if the line is missing).
std::map<std::string, std::string> summary_of(const std::string& out) {
    std::map<std::string, std::string> kv;
    const size_t at = out.rfind("stress: ");
    if (at == std::string::npos) return kv;
    std::istringstream words(out.substr(at + 8, out.find('\n', at) - at - 8));
    for (std::string w; words >> w;) {
        const size_t eq = w.find('=');
        if (eq != std::string::npos) kv[w.substr(0, eq)] = w.substr(eq + 1);
    }
    return kv;
}

long long num(const std::map<std::string, std::string>& kv, const std::string& key) {
    auto it = kv.find(key);
    return it == kv.end() ? -1 : std::stoll(it->second);
}

class Stress : public Sandbox, public ::testing::WithParamInterface<const char*> {};

TEST_P(Stress, EverySubmissionCompletesExactlyOnce) {
    const std::string executor = GetParam();
    Result r = run("--executor " + executor + " stress --procs " + std::to_string(kProcs) +
                   " --ops " + std::to_string(kOps) + " --seed 7");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    auto kv = summary_of(r.out);
    ASSERT_FALSE(kv.empty()) << r.out << r.err;
    EXPECT_GE(num(kv, "ops"), kOps);
    EXPECT_EQ(num(kv, "lost"), 0);
    EXPECT_EQ(num(kv, "duplicated"), 0);
    EXPECT_EQ(num(kv, "bad_res"), 0);
    EXPECT_EQ(num(kv, "failed"), 0);
    EXPECT_EQ(kv["balanced"], "yes");
    EXPECT_EQ(kv["executor"], executor);
    // The run did what it is for: workers died with work in flight, CQs overflowed, submits
    // met backpressure, and the kernel closed a ledger for every ring.
    EXPECT_GT(num(kv, "killed"), 0);
    EXPECT_GT(num(kv, "killed_in_flight"), 0);
    EXPECT_GT(num(kv, "teardown_completions"), 0);
    EXPECT_GT(num(kv, "overflowed"), 0);
    EXPECT_GT(num(kv, "busy"), 0);
    EXPECT_GT(num(kv, "cancelled"), 0);
    EXPECT_GT(num(kv, "workers"), kProcs);  // killed and finished ones were replaced
    EXPECT_GE(num(kv, "rings_checked"), num(kv, "workers") - num(kv, "killed"));
}

INSTANTIATE_TEST_SUITE_P(Executors, Stress, ::testing::Values("uring", "threads"));

TEST_F(Sandbox, StressOptions) {
    Result r = run("stress --help");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("--procs"), std::string::npos);
    EXPECT_NE(r.out.find("--kill-rate"), std::string::npos);
    EXPECT_EQ(run("stress --procs 0").status, 2);
    EXPECT_EQ(run("stress --sq-entries 2").status, 2);  // a link chain of 3 must fit
    EXPECT_EQ(run("stress --ops").status, 2);
    // Without per-operation counters there is nothing to check against: refuse.
    r = run("--stats off stress --procs 2 --ops 100");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cannot check"), std::string::npos);
}

}  // namespace

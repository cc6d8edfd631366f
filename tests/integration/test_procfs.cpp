// /proc, --stats-json and --trace, through the toyos binary.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sandbox.h"

namespace {

using namespace toyos_it;
using nlohmann::json;

bool has_key(const std::string& text, const std::string& key) {
    return text.rfind(key + ":\t", 0) == 0 || text.find("\n" + key + ":\t") != std::string::npos;
}

// The first "Key:\tvalue" with that key, as a number (-1 if missing).
long long value_of(const std::string& text, const std::string& key) {
    size_t at = text.rfind(key + ":\t", 0) == 0 ? 0 : text.find("\n" + key + ":\t");
    if (at == std::string::npos) return -1;
    if (at != 0) ++at;
    return std::stoll(text.substr(at + key.size() + 2));
}

TEST_F(Sandbox, ProcIouringPrintsTheDocumentedKeys) {
    Result r = run("cat /proc/iouring");
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* key : {"ActiveRings",
                            "TotalSubmissions",
                            "TotalCompletions",
                            "Pending",
                            "Overflowed",
                            "Cancelled",
                            "ToyEnters",
                            "HostEnters",
                            "HostRings",
                            "Executor",
                            "FeatureSqpoll",
                            "FeatureIopoll",
                            "FeaturePassthrough",
                            "FeatureFixedBuffers",
                            "FeatureFixedFiles",
                            "FeatureSingleIssuer",
                            "FeatureDeferTaskrun",
                            "ExecutorFallback",
                            "FaultRules",
                            "FaultSeed",
                            "FaultErrors",
                            "FaultShort",
                            "FaultDelays",
                            "FaultRegisterErrors",
                            "FaultHostRingFailures",
                            "Op.NOP",
                            "Op.READ",
                            "Op.OPENAT"})
        EXPECT_TRUE(has_key(r.out, key)) << key << " missing in:\n" << r.out;
    // cat's own ring is live while it reads: it has opened the file and is reading it.
    EXPECT_EQ(value_of(r.out, "ActiveRings"), 1);
    EXPECT_EQ(value_of(r.out, "Op.OPENAT"), 1);
    EXPECT_EQ(value_of(r.out, "TotalSubmissions"),
              value_of(r.out, "TotalCompletions") + value_of(r.out, "Pending"));
}

TEST_F(Sandbox, ProcSelfIouringShowsCatsOwnRing) {
    Result r = run("cat /proc/self/iouring");
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* key :
         {"SqMask",    "SqHead",    "SqTail",       "CachedSqHead",   "CqMask",
          "CqHead",    "CqTail",    "CachedCqTail", "SQEs",           "CQEs",
          "SqThread",  "UserFiles", "UserBufs",     "CqOverflowList", "Seq",
          "Submitted", "Completed", "Pending",      "Overflow",       "BatchHist"})
        EXPECT_TRUE(has_key(r.out, key)) << key << " missing in:\n" << r.out;
    // The text was made while cat's READ of it was in flight: OPENAT done, READ pending.
    EXPECT_EQ(value_of(r.out, "Op.OPENAT"), 1);
    EXPECT_EQ(value_of(r.out, "Op.READ"), 1);
    EXPECT_EQ(value_of(r.out, "Submitted"), 2);
    EXPECT_EQ(value_of(r.out, "Completed"), 1);
    EXPECT_EQ(value_of(r.out, "Pending"), 1);
    EXPECT_TRUE(has_key(r.out, "Latency.OPENAT")) << r.out;  // the first op is always sampled
}

TEST_F(Sandbox, ProcTreeStatusFdsAndSyscalls) {
    Result r = run("sh -c 'ls /proc; cat /proc/1/status; ls /proc/self/fd; cat /proc/syscalls'");
    ASSERT_EQ(r.status, 0) << r.err;
    for (const char* want :
         {"\niouring\n", "\nself\n", "\nsyscalls\n", "1\n", "Name:\tsh\n", "Pid:\t1\n",
          "PPid:\t0\n", "State:\tR (running)\n",
          "read:\tdirect=", "io_uring_enter:\tdirect=", "RingsMax:\t64\n",
          "RingOpsInFlightMax:\t65536\n", "RegisteredBufferBytesMax:\t268435456\n"})
        EXPECT_NE(r.out.find(want), std::string::npos) << want << " missing in:\n" << r.out;
    Result fd = run("cat /proc/self/fd/3");  // cat's ring
    EXPECT_EQ(fd.out, "anon_inode:[io_uring]\n") << fd.err;
}

TEST_F(Sandbox, ProcIsReadOnlyAndLexical) {
    EXPECT_NE(run("mkdir /proc/x").status, 0);
    EXPECT_NE(run("rm /proc/iouring").status, 0);
    Result cp = run("cp /hello.txt /proc/iouring");
    EXPECT_NE(cp.status, 0);
    EXPECT_NE(cp.err.find("Permission denied"), std::string::npos) << cp.err;
    Result missing = run("cat /proc/4242/status");
    EXPECT_NE(missing.status, 0);
    EXPECT_NE(missing.err.find("No such file"), std::string::npos) << missing.err;
    EXPECT_FALSE(fs::exists(root_ + "/proc"));  // nothing was created on the host
    // ".." out of /proc is the sandbox root again.
    EXPECT_EQ(run("cat /proc/../hello.txt").out, "hello, sandbox\n");
}

TEST_F(Sandbox, StatsJsonFiguresAddUp) {
    write("big.bin", std::string(3 << 20, 'x'));
    const std::string stats = dir_ + "/stats.json";
    Result r = run("--stats-json " + stats +
                   " sh -c 'cp /big.bin /copy.bin; cat /hello.txt; cp /hello.txt /h2'");
    ASSERT_EQ(r.status, 0) << r.err;
    json s = json::parse(slurp(stats));
    uint64_t submitted = 0, completed = 0;
    ASSERT_EQ(s["rings"].size(), 3u) << s.dump();
    for (const json& ring : s["rings"]) {
        EXPECT_EQ(ring["submitted"].get<uint64_t>(),
                  ring["completed"].get<uint64_t>() + ring["pending"].get<uint64_t>());
        submitted += ring["submitted"].get<uint64_t>();
        completed += ring["completed"].get<uint64_t>();
    }
    EXPECT_EQ(submitted, s["total_submissions"].get<uint64_t>());
    EXPECT_EQ(completed, s["total_completions"].get<uint64_t>());
    EXPECT_EQ(s["pending"].get<uint64_t>(), 0u);
    uint64_t by_op = 0;
    for (const auto& [op, n] : s["ops"].items()) by_op += n.get<uint64_t>();
    EXPECT_EQ(by_op, submitted);
    EXPECT_GT(s["ops"]["READ_FIXED"].get<uint64_t>(), 0u);  // cp's registered buffers
}

TEST_F(Sandbox, TraceHoldsOneCompleteEventPerOperation) {
    write("big.bin", std::string(1 << 20, 'y'));
    const std::string stats = dir_ + "/stats.json", trace = dir_ + "/trace.json";
    Result r = run("--stats-json " + stats + " --trace " + trace +
                   " sh -c 'cp /big.bin /copy.bin; cat /hello.txt'");
    ASSERT_EQ(r.status, 0) << r.err;
    json s = json::parse(slurp(stats));
    json t = json::parse(slurp(trace));            // throws (and fails the test) if it is not JSON
    std::map<std::pair<int, uint64_t>, int> seen;  // (ring, seq) -> events
    size_t complete_events = 0;
    for (const json& e : t["traceEvents"]) {
        if (e["ph"] != "X") continue;
        ++complete_events;
        EXPECT_TRUE(e.contains("pid") && e.contains("tid") && e.contains("ts") &&
                    e.contains("dur") && e.contains("name"));
        const json& a = e["args"];
        EXPECT_TRUE(a.contains("opcode") && a.contains("latency_ns") && a.contains("res"));
        ++seen[{a["ring"].get<int>(), a["seq"].get<uint64_t>()}];
    }
    EXPECT_EQ(complete_events, s["total_completions"].get<uint64_t>());
    EXPECT_EQ(complete_events, s["total_submissions"].get<uint64_t>());
    for (const auto& [key, n] : seen)
        EXPECT_EQ(n, 1) << "ring " << key.first << " seq " << key.second;
}

TEST_F(Sandbox, RingstatShowsOtherProcessesRings) {
    write("big.bin", std::string(8 << 20, 'z'));
    Result r = run("sh -c 'ringstat -n 1; cp /big.bin /c.bin & ringstat -n 3 -d 0.05; wait'");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("rings="), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("SUBMITTED"), std::string::npos) << r.out;
}

}  // namespace

// toyos run --fault/--fault-file/--fault-seed and the per-process limits, through the toyos
// binary: programs see the injected results and nothing is lost, a seed replays exactly, the
// host ring failure takes the real fallback, bad specs and limits are refused clearly.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "sandbox.h"

namespace {

using namespace toyos_it;
using nlohmann::json;

std::string varied(size_t n) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('A' + (i * 7 + i / 251) % 26);
    return s;
}

// (ring, seq, opcode, res) of every operation of a --trace file, in sequence order.
std::vector<std::tuple<int, uint64_t, int, int>> trace_results(const std::string& path) {
    std::vector<std::tuple<int, uint64_t, int, int>> out;
    const json t = json::parse(slurp(path));
    for (const json& e : t["traceEvents"]) {
        if (e["ph"] != "X") continue;
        const json& a = e["args"];
        out.emplace_back(a["ring"].get<int>(), a["seq"].get<uint64_t>(), a["opcode"].get<int>(),
                         a["res"].get<int>());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST_F(Sandbox, FaultShortTransfersKeepCatExactAndReplayBySeed) {
    const std::string data = varied(600 * 1024);
    write("big.txt", data);
    auto run_with_seed = [&](int seed) {
        const std::string stats = dir_ + "/stats.json", trace = dir_ + "/trace.json";
        Result r =
            run("--fault read:short=0.3:prob=0.5 --fault write:short=0.5:every=3"
                " --fault-seed " +
                std::to_string(seed) + " --stats-json " + stats + " --trace " + trace +
                " cat /big.txt");
        EXPECT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.out.size(), data.size());
        EXPECT_TRUE(r.out == data);  // every byte, in order, despite the short transfers
        const json s = json::parse(slurp(stats));
        EXPECT_EQ(s["faults"]["seed"].get<int>(), seed);
        EXPECT_GT(s["faults"]["short"].get<int>(), 0);
        EXPECT_EQ(s["faults"]["errors"].get<int>(), 0);
        EXPECT_EQ(s["total_submissions"], s["total_completions"]);  // nothing lost
        return trace_results(trace);
    };
    const auto first = run_with_seed(11);
    ASSERT_FALSE(first.empty());
    EXPECT_EQ(run_with_seed(11), first);  // the same seed replays every result
    EXPECT_NE(run_with_seed(12), first);
}

TEST_F(Sandbox, FaultErrorsReachTheProgramAsErrno) {
    Result r = run("--fault read:error=EIO cat /hello.txt");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("cat: /hello.txt: Input/output error"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
    r = run("--fault openat:error=EACCES cat /hello.txt");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
}

TEST_F(Sandbox, FaultFileCommentsAndBadSpecs) {
    std::ofstream(dir_ + "/faults.txt") << "# read errors\n\n  read:error=EIO   # always\n";
    Result r = run("--fault-file " + dir_ + "/faults.txt cat /hello.txt");
    EXPECT_EQ(r.status, 1);
    EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << r.err;
    r = run("--fault read:bogus=1 cat /hello.txt");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("toyos: --fault read:bogus=1: unknown key 'bogus'"), std::string::npos)
        << r.err;
    r = run("--fault-file " + dir_ + "/missing.txt cat /hello.txt");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("No such file or directory"), std::string::npos) << r.err;
    r = run("--fault read:error=EIO --fault-seed -1 cat /hello.txt");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("--fault-seed"), std::string::npos) << r.err;
}

TEST_F(Sandbox, HostRingFailureFallsBackAndSaysSo) {
    Result r = run("--log-level warn --executor uring --fault host-ring:fail cat /proc/iouring");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("host rings unavailable (Cannot allocate memory, injected by --fault); "
                         "executor=threads"),
              std::string::npos)
        << r.err;
    EXPECT_NE(r.out.find("\nExecutor:\tthreads\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nExecutorFallback:\tENOMEM (injected: host-ring)\n"), std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("\nFaultHostRingFailures:\t1\n"), std::string::npos) << r.out;
    // Without faults, the keys are there and say so.
    r = run("cat /proc/iouring");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\nFaultRules:\t0\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nFaultErrors:\t0\n"), std::string::npos) << r.out;
}

TEST_F(Sandbox, LimitsAreSettableShownAndValidated) {
    Result r =
        run("--max-rings 3 --max-inflight 100 --max-registered-bytes 64M "
            "cat /proc/self/status");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("\nRings:\t1\n"), std::string::npos) << r.out;  // cat's own ring
    EXPECT_NE(r.out.find("\nRingsMax:\t3\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nRingOpsInFlightMax:\t100\n"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\nRegisteredBufferBytesMax:\t67108864\n"), std::string::npos) << r.out;
    for (const char* bad : {"--max-rings 0", "--max-inflight -5", "--max-registered-bytes 12Q",
                            "--max-registered-bytes 0"}) {
        r = run(std::string(bad) + " cat /hello.txt");
        EXPECT_EQ(r.status, 2) << bad;
        EXPECT_NE(r.err.find("toyos: --max-"), std::string::npos) << bad << ": " << r.err;
    }
}

}  // namespace

// Integration tests: the toyos binary, run the way a user runs it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "sandbox.h"

namespace {

using namespace toyos_it;

TEST_F(Sandbox, CatPrintsAFile) {
    Result r = run("cat /hello.txt");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello, sandbox\n");
}

TEST_F(Sandbox, NoPathLeavesTheSandbox) {
    fs::create_symlink(dir_ + "/x", root_ + "/abs_link");  // absolute, outside
    fs::create_symlink("../x", root_ + "/rel_link");       // relative, outside
    fs::create_symlink("/proc/self/root/etc/hostname", root_ + "/magic");
    for (const char* path : {"/../x", "../x", "../../etc/hostname", "/abs_link", "/rel_link",
                             "/magic", "/proc/self/root/etc/passwd"}) {
        Result r = run(std::string("cat ") + path);
        EXPECT_NE(r.status, 0) << path;
        EXPECT_NE(r.err.find("cat: "), std::string::npos) << path << ": " << r.err;
        EXPECT_EQ(r.out.find("SECRET-OUTSIDE"), std::string::npos) << path;
        EXPECT_EQ(r.out, "") << path;
    }
    // Writes and creations through escaping paths land nowhere outside.
    run("sh -c 'mkdir /../escaped; cp /hello.txt /../copied; cp /hello.txt /abs_link'");
    EXPECT_FALSE(fs::exists(dir_ + "/escaped"));
    EXPECT_FALSE(fs::exists(dir_ + "/copied"));
    EXPECT_EQ(slurp(dir_ + "/x"), "SECRET-OUTSIDE\n");
}

TEST_F(Sandbox, FileToolsWorkInsideTheRoot) {
    write("a.txt", "alpha\n");
    Result r = run("sh -c 'mkdir -p /d/e; cp /a.txt /d/e/b.txt; ls /d/e; rm /a.txt; ls /'");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(slurp(root_ + "/d/e/b.txt"), "alpha\n");
    EXPECT_FALSE(fs::exists(root_ + "/a.txt"));
    EXPECT_NE(r.out.find("b.txt\n"), std::string::npos);
    EXPECT_NE(r.out.find("d\n"), std::string::npos);
}

TEST_F(Sandbox, CpCopiesLargeFilesExactly) {
    std::string data;
    for (unsigned i = 0; i < 1'000'000; ++i) data.push_back(static_cast<char>((i * 7919u) >> 3));
    write("big.bin", data);
    for (const char* ex : {"uring", "threads"}) {
        Result r = toyos(std::string("run --executor ") + ex + " --root " + root_ +
                         " cp /big.bin /copy.bin");
        EXPECT_EQ(r.status, 0) << ex << ": " << r.err;
        EXPECT_EQ(slurp(root_ + "/copy.bin"), data) << ex;
    }
}

TEST_F(Sandbox, EchoServerAndClient) {
    const std::string port = std::to_string(free_port());
    Result r = run("sh -c 'echo-server --count 1 " + port + " & echo-client 127.0.0.1 " + port +
                   " hello; wait'");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "hello\n");
}

TEST_F(Sandbox, EchoServerServesManyConnectionsAtOnce) {
    const std::string port = std::to_string(free_port());
    std::string script = "echo-server --count 16 " + port + " &";
    for (int i = 0; i < 16; ++i)
        script += " echo-client 127.0.0.1 " + port + " message-" + std::to_string(i) + " &";
    script += " wait";
    Result r = run("sh -c '" + script + "'");
    EXPECT_EQ(r.status, 0) << r.err;
    for (int i = 0; i < 16; ++i)
        EXPECT_NE(r.out.find("message-" + std::to_string(i) + "\n"), std::string::npos) << i;
}

TEST_F(Sandbox, ShellExitStatus) {
    EXPECT_EQ(run("sh -c false").status, 1);
    EXPECT_EQ(run("sh -c 'exit 3'").status, 3);
    EXPECT_EQ(run("sh -c 'false; true'").status, 0);
    Result r = run("sh -c nosuchprogram");
    EXPECT_EQ(r.status, 127);
    EXPECT_NE(r.err.find("nosuchprogram"), std::string::npos);
    write("script.sh", "# a comment\necho one\necho 'two words'\nexit 4\necho never\n");
    r = run("sh /script.sh");
    EXPECT_EQ(r.status, 4);
    EXPECT_EQ(r.out, "one\ntwo words\n");
}

TEST_F(Sandbox, KillEndsABackgroundProcess) {
    // sleep 30 in the background, killed by pid (2: sh is 1, sleep is 2).
    Result r = run("sh -c 'sleep 30 & kill -9 2; wait'");
    EXPECT_EQ(r.status, 128 + 9) << r.err;
}

// The console is reopened non-blocking (kernel/file.h: adopt_console): data through a stdin
// pipe and out through a stdout pipe still arrives whole and in order, through ring READs and
// WRITEs (cat, both executors, with both pipes filling up on the way) and through plain
// writes (sh's echo, direct and async-routed).
TEST_F(Sandbox, ConsolePipesCarryDataWhole) {
    std::string data;
    for (unsigned i = 0; i < 600'000; ++i) data.push_back(static_cast<char>('a' + (i * 31u) % 26));
    std::ofstream(dir_ + "/input") << data;
    const std::string out = dir_ + "/piped";
    auto piped = [&](const std::string& args) {
        const std::string cmd = "cd " + dir_ + " && (printf 'hi\\n'; sleep 0.2; cat input) | " +
                                toyos_binary() + " run " + args + " | (sleep 0.2; cat) > " + out;
        const int st = std::system(cmd.c_str());
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    };
    for (const char* ex : {"uring", "threads"}) {
        EXPECT_EQ(piped(std::string("--executor ") + ex + " --root " + root_ + " cat"), 0) << ex;
        EXPECT_EQ(slurp(out), "hi\n" + data) << ex;
    }
    for (const char* route : {"write=direct", "write=async"}) {
        EXPECT_EQ(piped(std::string("--route ") + route + " --root " + root_ +
                        " sh -c 'echo one; echo two'"),
                  0)
            << route;
        EXPECT_EQ(slurp(out), "one\ntwo\n") << route;
    }
}

TEST_F(Sandbox, RoutesGiveTheSameResults) {
    for (const char* route : {"all=direct", "all=async", "all=ring", "read=ring,write=async"}) {
        Result r = run(std::string("--route ") + route + " cat /hello.txt");
        EXPECT_EQ(r.status, 0) << route << ": " << r.err;
        EXPECT_EQ(r.out, "hello, sandbox\n") << route;
    }
    Result bad = run("--route stat=ring cat /hello.txt");
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.err.find("no io_uring opcode"), std::string::npos);
}

TEST_F(Sandbox, ProgramsHelpAndErrors) {
    Result r = toyos("programs");
    EXPECT_EQ(r.status, 0);
    for (const char* p : {"cat", "cp", "ls", "mkdir", "rm", "echo-server", "echo-client", "sh",
                          "echo", "sleep", "kill", "true", "false"})
        EXPECT_NE(r.out.find(std::string(p) + " "), std::string::npos) << p;
    EXPECT_EQ(toyos("--help").status, 0);
    r = toyos("run --help");
    EXPECT_EQ(r.status, 0);
    EXPECT_NE(r.out.find("--root"), std::string::npos);
    EXPECT_EQ(toyos("demo --help").status, 0);
    EXPECT_EQ(toyos("programs --help").status, 0);
    r = run("no-such-program");
    EXPECT_EQ(r.status, 127);
    EXPECT_EQ(toyos("run --root /nonexistent/dir cat /x").status, 1);
    EXPECT_EQ(toyos("frobnicate").status, 2);
}

TEST_F(Sandbox, DemoRunsAndReportsCounters) {
    Result r = toyos("demo");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("== kernel counters =="), std::string::npos);
    EXPECT_NE(r.out.find("first message"), std::string::npos);
    EXPECT_NE(r.out.find("READ_FIXED="), std::string::npos);
    EXPECT_NE(r.out.find("demo finished"), std::string::npos);
}

}  // namespace

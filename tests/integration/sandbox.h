// The integration tests' fixture: a temporary sandbox and the toyos binary run as a user
// runs it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace toyos_it {

namespace fs = std::filesystem;

struct Result {
    int status = -1;  // exit code
    std::string out, err;
};

// The toyos binary under test: TOYOS_BINARY from the environment (the QEMU guest runs these
// tests with the binary at another path), else the one this build made.
inline std::string toyos_binary() {
    const char* env = std::getenv("TOYOS_BINARY");
    return env != nullptr && *env != '\0' ? env : TOYOS_BINARY;
}

inline std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class Sandbox : public ::testing::Test {
  protected:
    void SetUp() override {
        char tmpl[] = "/tmp/toyos-it-XXXXXX";
        dir_ = ::mkdtemp(tmpl);
        root_ = dir_ + "/root";
        fs::create_directories(root_);
        write("hello.txt", "hello, sandbox\n");
        // A secret next to the sandbox, and one under /tmp: neither may ever be read.
        std::ofstream(dir_ + "/x") << "SECRET-OUTSIDE\n";
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& rel, const std::string& s) const {
        std::ofstream(root_ + "/" + rel) << s;
    }
    // Runs `toyos ARGS` (shell words) with stdout and stderr captured.
    Result toyos(const std::string& args) const {
        const std::string out = dir_ + "/stdout", err = dir_ + "/stderr";
        const std::string cmd = std::string("cd ") + dir_ + " && " + toyos_binary() + " " + args +
                                " >" + out + " 2>" + err + " </dev/null";
        const int st = std::system(cmd.c_str());
        Result r;
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        r.out = slurp(out);
        r.err = slurp(err);
        return r;
    }
    Result run(const std::string& args) const { return toyos("run --root " + root_ + " " + args); }

    std::string dir_, root_;
};

inline int free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

}  // namespace toyos_it

// devtest [OPTIONS] TEST...: runs the named device tests and prints one line per test,
//   RESULT <test> PASS|FAIL|SKIP <detail>
// and, with --print-proc, /proc/iouring at the end. Exit status 1 if any test failed.
//
// options: --lba-size N  --nsid N  --lbas N (capacity in blocks)  --ng PATH  --block PATH
//          --region NAME (where write tests write)  --expect uring|threads|hostsqpoll
//          --print-proc
#include <cstdlib>
#include <cstring>

#include "devtest.h"
#include "proc_counters.h"
#include "toyos/io.h"

using namespace toyos;
using namespace toyos::devtest;

namespace {

struct Test {
    const char* name;
    Verdict (*run)(const Options&);
};

constexpr Test kTests[] = {
    {"passthrough-read", test_passthrough_read},
    {"passthrough-write", test_passthrough_write},
    {"passthrough-errors", test_passthrough_errors},
    {"iopoll-read", test_iopoll_read},
    {"iopoll-write", test_iopoll_write},
    {"iopoll-rules", test_iopoll_rules},
    {"fixed-odirect", test_fixed_odirect},
    {"fixed-iopoll", test_fixed_iopoll},
    {"sqpoll", test_sqpoll},
};

const Test* find_test(const char* name) {
    for (const Test& t : kTests)
        if (std::strcmp(t.name, name) == 0) return &t;
    return nullptr;
}

// The device must be there: without it every test is a SKIP that says why.
Verdict device_present(const Options& o) {
    struct stat st {};
    const int a = sys::stat(o.ng, &st);
    const int b = sys::stat(o.block, &st);
    if (a < 0 || b < 0)
        return skip(
            "no NVMe device in /dev (%s: %s, %s: %s); run with --nvme on a machine "
            "that has one",
            o.ng, a < 0 ? io::error_text(a) : "ok", o.block, b < 0 ? io::error_text(b) : "ok");
    return ok();
}

}  // namespace

extern "C" int toyos_main(int argc, char** argv) {
    Options o;
    bool print_proc = false;
    int first_test = argc;
    for (int i = 1; i < argc; ++i) {
        const char* flag = argv[i];
        const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
        auto is = [&](const char* name) { return std::strcmp(flag, name) == 0 && v != nullptr; };
        if (std::strcmp(flag, "--print-proc") == 0) {
            print_proc = true;
            continue;
        }
        if (flag[0] != '-') {
            first_test = i;
            break;
        }
        if (is("--lba-size")) {
            o.lba_size = std::strtoul(v, nullptr, 10);
        } else if (is("--nsid")) {
            o.nsid = static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
        } else if (is("--lbas")) {
            o.lbas = std::strtoull(v, nullptr, 10);
        } else if (is("--ng")) {
            o.ng = v;
        } else if (is("--block")) {
            o.block = v;
        } else if (is("--region")) {
            o.region = v;
        } else if (is("--expect") && std::strcmp(v, "uring") == 0) {
            o.expect = Expect::Uring;
        } else if (is("--expect") && std::strcmp(v, "threads") == 0) {
            o.expect = Expect::Threads;
        } else if (is("--expect") && std::strcmp(v, "hostsqpoll") == 0) {
            o.expect = Expect::HostSqpoll;
        } else {
            io::printf(2, "devtest: bad option %s %s\n", flag, v != nullptr ? v : "");
            return 2;
        }
        ++i;
    }
    if (first_test == argc || o.lba_size < 512 || (o.lba_size & (o.lba_size - 1)) != 0) {
        io::puts(2,
                 "usage: devtest [--lba-size N] [--nsid N] [--lbas N] [--expect MODE] "
                 "[--region NAME] [--print-proc] TEST...\ntests:");
        for (const Test& t : kTests) io::printf(2, " %s", t.name);
        io::puts(2, "\n");
        return 2;
    }
    const Verdict present = device_present(o);
    int failed = 0;
    for (int i = first_test; i < argc; ++i) {
        const Test* t = find_test(argv[i]);
        Verdict v = t == nullptr                      ? fail("no such test")
                    : present.status != Verdict::Pass ? present
                                                      : t->run(o);
        static const char* const kStatus[] = {"PASS", "FAIL", "SKIP"};
        io::printf(1, "RESULT %s %s %s\n", argv[i], kStatus[v.status], v.text);
        if (v.status == Verdict::Fail) ++failed;
    }
    if (print_proc) print_proc_iouring();
    return failed > 0 ? 1 : 0;
}

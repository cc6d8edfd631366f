// stress: conservation of completions under churn. The parent keeps --procs worker processes
// running (stress_worker.cpp: mixed file, socket, timeout, link, cancel operations on rings
// whose CQ overflows all the time), kills random ones while they have operations in flight,
// and spawns new ones until the kernel has accepted --ops submissions. Then it checks, from
// /proc/iouring, that the kernel's ledger found no lost or duplicated completion and that the
// counters balance, adds what the surviving workers checked in userland, and prints one line:
//   stress: ops=N lost=0 duplicated=0 overflowed=X killed=K cancelled=C ...
// It exits 1 if anything is off. docs/reliability.md.
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "stress.h"
#include "toyos/io.h"
#include "toyos/program.h"
#include "toyos/sys.h"

namespace {

using namespace toyos;
using namespace toyos::stress;

struct Options {
    unsigned procs = 64;
    uint64_t ops = 100'000;
    uint64_t seed = 1;
    unsigned kill_rate = 25;  // percent of workers killed
    unsigned sq_entries = 0;  // 0: 2, 4 or 8 at random per worker
    uint64_t worker_ops = 0;  // 0: --ops / (4 * --procs), within [32, 4096]
    bool worker = false;      // internal: run as a worker
    unsigned worker_id = 0;
};

int usage(int code) {
    io::puts(code == 0 ? 1 : 2,
             "usage: stress [--procs P] [--ops N] [--seed S] [--kill-rate PCT] [--sq-entries E]\n"
             "              [--worker-ops M]\n"
             "  Keeps P worker processes (default 64) running mixed ring operations (file\n"
             "  READ/WRITE/READV/WRITEV/FSYNC, loopback TCP SEND/RECV, TIMEOUT with a count,\n"
             "  LINK chains, some broken on purpose, LINK_TIMEOUT, ASYNC_CANCEL, POLL_ADD and\n"
             "  POLL_REMOVE, NOP) on rings whose CQ is as small as their SQ, reaping lazily\n"
             "  so the CQ overflows all the time; kills PCT% of them (default 25) at random\n"
             "  moments with operations in flight, and spawns new ones until the kernel\n"
             "  accepted N submissions (default 100000). Then checks that every accepted submission got exactly one completion\n"
             "  (/proc/iouring Lost, Duplicated; each surviving worker's own user_data check)\n"
             "  and that the counters balance. Prints one summary line; exits 1 if anything\n"
             "  is off.\n"
             "  --seed S          the random choices (operations, sizes, which worker dies when)\n"
             "  --sq-entries E    every worker's SQ and CQ size, a power of two >= 4 (a step\n"
             "                    takes up to 3 SQEs; default: 4, or 8 one time in three)\n"
             "  --worker-ops M    SQEs per worker (default N / (4 P), within [32, 4096])\n");
    return code;
}

bool parse_u64(const char* s, uint64_t& out) {
    char* end = nullptr;
    const unsigned long long v = std::strtoull(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0') return false;
    out = v;
    return true;
}

// 0: parsed; -1: --help was printed; otherwise the exit status.
int parse(int argc, char** argv, Options& o) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (std::strcmp(a, "--help") == 0 || std::strcmp(a, "-h") == 0) {
            usage(0);
            return -1;
        }
        if (std::strcmp(a, "--worker") == 0) {
            o.worker = true;
            continue;
        }
        const char* name = a;
        const char* value = std::strchr(a, '=');
        char key[32];
        if (value != nullptr) {
            const size_t n = std::min<size_t>(static_cast<size_t>(value - a), sizeof(key) - 1);
            std::memcpy(key, a, n);
            key[n] = '\0';
            name = key;
            ++value;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            io::printf(2, "stress: %s needs a value\n", a);
            return usage(2);
        }
        uint64_t v = 0;
        if (!parse_u64(value, v)) {
            io::printf(2, "stress: %s: not a number: %s\n", name, value);
            return usage(2);
        }
        if (std::strcmp(name, "--procs") == 0 && v >= 1 && v <= 1024)
            o.procs = static_cast<unsigned>(v);
        else if (std::strcmp(name, "--ops") == 0 && v >= 1)
            o.ops = v;
        else if (std::strcmp(name, "--seed") == 0)
            o.seed = v;
        else if (std::strcmp(name, "--kill-rate") == 0 && v <= 100)
            o.kill_rate = static_cast<unsigned>(v);
        else if (std::strcmp(name, "--sq-entries") == 0 && v >= 4 && v <= 4096 &&
                 (v & (v - 1)) == 0)
            o.sq_entries = static_cast<unsigned>(v);
        else if (std::strcmp(name, "--worker-ops") == 0 && v >= 1)
            o.worker_ops = v;
        else if (std::strcmp(name, "--worker-id") == 0)
            o.worker_id = static_cast<unsigned>(v);
        else {
            io::printf(2, "stress: bad option or value: %s %s\n", name, value);
            return usage(2);
        }
    }
    return 0;
}

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

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

// --- /proc --------------------------------------------------------------------------------------
char g_text[1 << 16];  // image memory: the kernel writes here

// The text of a /proc file, with a leading newline so every key matches "\nKey:\t".
const char* read_proc(const char* path) {
    g_text[0] = '\n';
    size_t len = 1;
    const int fd = sys::open(path, O_RDONLY);
    if (fd >= 0) {
        for (;;) {
            const ssize_t n = sys::read(fd, g_text + len, sizeof(g_text) - 1 - len);
            if (n <= 0) break;
            len += static_cast<size_t>(n);
        }
        sys::close(fd);
    }
    g_text[len] = '\0';
    return g_text;
}

long long value_of(const char* text, const char* key) {
    char k[64];
    std::snprintf(k, sizeof(k), "\n%s:\t", key);
    const char* at = std::strstr(text, k);
    return at == nullptr ? -1 : std::atoll(at + std::strlen(k));
}

struct Counters {
    long long submissions, completions, active_rings, overflowed, cancelled, lost, duplicated,
        teardown, rings_checked;
    bool stats_on;
    char executor[16];
};

Counters read_counters() {
    const char* t = read_proc("/proc/iouring");
    Counters c{};
    c.submissions = value_of(t, "TotalSubmissions");
    c.completions = value_of(t, "TotalCompletions");
    c.active_rings = value_of(t, "ActiveRings");
    c.overflowed = value_of(t, "Overflowed");
    c.cancelled = value_of(t, "Cancelled");
    c.lost = value_of(t, "Lost");
    c.duplicated = value_of(t, "Duplicated");
    c.teardown = value_of(t, "CompletedAtTeardown");
    c.rings_checked = value_of(t, "RingsChecked");
    c.stats_on = std::strstr(t, "\nStats:\ton") != nullptr;
    std::snprintf(c.executor, sizeof(c.executor), "?");
    if (const char* e = std::strstr(t, "\nExecutor:\t")) {
        e += std::strlen("\nExecutor:\t");
        const size_t n = std::min<size_t>(std::strcspn(e, "\n"), sizeof(c.executor) - 1);
        std::memcpy(c.executor, e, n);
        c.executor[n] = '\0';
    }
    return c;
}

// --- workers ------------------------------------------------------------------------------------
struct Child {
    pid_t pid;
    unsigned id;
    uint64_t kill_at_ns;  // 0: left to finish
};

struct Totals {
    unsigned spawned = 0, killed = 0, killed_in_flight = 0, finished = 0, failed = 0;
    WorkerReport user;  // summed over the workers that ran to their end
};

pid_t spawn_worker(const Options& o, unsigned id, Rng& rng) {
    static const unsigned kSizes[] = {4, 4, 8};
    char a_id[24], a_seed[24], a_ops[24], a_sq[24];
    std::snprintf(a_id, sizeof(a_id), "%u", id);
    std::snprintf(a_seed, sizeof(a_seed), "%llu", static_cast<unsigned long long>(rng.next() >> 1));
    const uint64_t per = o.worker_ops != 0
                             ? o.worker_ops
                             : std::clamp<uint64_t>(o.ops / (4 * uint64_t{o.procs}), 32, 4096);
    std::snprintf(a_ops, sizeof(a_ops), "%llu", static_cast<unsigned long long>(per));
    std::snprintf(a_sq, sizeof(a_sq), "%u",
                  o.sq_entries != 0 ? o.sq_entries : kSizes[rng.below(3)]);
    const char* argv[] = {"stress",       "--worker", "--worker-id",  a_id, "--seed", a_seed,
                          "--worker-ops", a_ops,      "--sq-entries", a_sq, nullptr};
    return sys::spawn("stress", argv);
}

// Adds a finished worker's result file to the totals (false if it has none).
bool collect_report(unsigned id, WorkerReport& sum) {
    char path[64];
    result_path(path, sizeof(path), id);
    const char* t = read_proc(path);
    sys::unlink(path);
    auto field = [&](const char* key) -> long long {
        char k[32];
        std::snprintf(k, sizeof(k), "%s=", key);
        const char* at = std::strstr(t, k);
        return at == nullptr ? -1 : std::atoll(at + std::strlen(k));
    };
    const long long f[] = {field("ops"),     field("lost"), field("duplicated"),
                           field("bad_res"), field("busy"), field("overflow_seen")};
    for (long long v : f)
        if (v < 0) return false;
    sum.ops += static_cast<uint64_t>(f[0]);
    sum.lost += static_cast<uint64_t>(f[1]);
    sum.duplicated += static_cast<uint64_t>(f[2]);
    sum.bad_res += static_cast<uint64_t>(f[3]);
    sum.busy += static_cast<uint64_t>(f[4]);
    sum.overflow_seen += static_cast<uint64_t>(f[5]);
    return true;
}

// Reaps every worker that has ended, and counts how it ended.
void reap_children(std::vector<Child>& running, Totals& t) {
    for (;;) {
        int status = 0;
        const pid_t pid = sys::waitpid(-1, &status, WNOHANG);
        if (pid <= 0) return;
        auto it = std::find_if(running.begin(), running.end(),
                               [&](const Child& c) { return c.pid == pid; });
        if (it == running.end()) continue;
        const unsigned id = it->id;
        running.erase(it);
        char path[64];
        data_path(path, sizeof(path), id);
        if (WIFSIGNALED(status)) {
            ++t.killed;
            sys::unlink(path);  // a killed worker leaves its file behind
            result_path(path, sizeof(path), id);
            sys::unlink(path);
            continue;
        }
        ++t.finished;
        // A worker whose checks failed still reports what it found.
        const bool reported = collect_report(id, t.user);
        if (WEXITSTATUS(status) != 0 || !reported) {
            ++t.failed;
            io::printf(2, "stress: worker %u (pid %d) exited %d\n", id, pid, WEXITSTATUS(status));
        }
    }
}

void kill_due(std::vector<Child>& running, Totals& t, uint64_t now) {
    for (Child& c : running) {
        if (c.kill_at_ns == 0 || now < c.kill_at_ns) continue;
        c.kill_at_ns = 0;
        // What the kernel shows just before the kill: operations issued and not completed.
        char path[48];
        std::snprintf(path, sizeof(path), "/proc/%d/iouring", c.pid);
        if (value_of(read_proc(path), "InFlight") > 0) ++t.killed_in_flight;
        sys::kill(c.pid, 9);
    }
}

int run_parent(const Options& o) {
    const Counters before = read_counters();
    if (!before.stats_on || before.lost < 0) {
        io::puts(2,
                 "stress: /proc/iouring has no counters (toyos run --stats off?): cannot check\n");
        return 1;
    }
    const int mk = sys::mkdir(kDir, 0755);
    if (mk < 0 && mk != -EEXIST) {
        io::printf(2, "stress: mkdir %s: %s\n", kDir, io::error_text(mk));
        return 1;
    }
    Rng rng{o.seed};
    std::vector<Child> running;
    Totals t;
    unsigned next_id = 0;
    const uint64_t start = now_ns();
    for (;;) {
        reap_children(running, t);
        const uint64_t now = now_ns();
        kill_due(running, t, now);
        const Counters c = read_counters();
        // A worker that failed its own checks (or could not start) ends the run: no more
        // spawning, the summary reports it.
        const bool more =
            static_cast<uint64_t>(c.submissions - before.submissions) < o.ops && t.failed == 0;
        if (!more && running.empty()) break;
        while (more && running.size() < o.procs) {
            const unsigned id = next_id++;
            const pid_t pid = spawn_worker(o, id, rng);
            if (pid < 0) {
                io::printf(2, "stress: spawn: %s\n", io::error_text(pid));
                break;
            }
            ++t.spawned;
            // A victim dies 1-40 ms into its life: long enough to have work in flight.
            const bool victim = rng.below(100) < o.kill_rate;
            running.push_back(
                Child{pid, id, victim ? now + (1 + rng.below(40)) * 1'000'000ULL : 0});
        }
        sys::sleep_ns(2'000'000);
    }
    const uint64_t elapsed_ms = (now_ns() - start) / 1'000'000;

    // Every worker is gone, so every ring it had was torn down and its ledger closed.
    const Counters after = read_counters();
    auto d = [](long long a, long long b) { return static_cast<unsigned long long>(a - b); };
    const unsigned long long ops = d(after.submissions, before.submissions);
    const unsigned long long completions = d(after.completions, before.completions);
    const unsigned long long lost = d(after.lost, before.lost) + t.user.lost;
    const unsigned long long duplicated =
        d(after.duplicated, before.duplicated) + t.user.duplicated;
    const unsigned long long rings_checked = d(after.rings_checked, before.rings_checked);
    const bool balanced = ops == completions && after.active_rings == before.active_rings &&
                          rings_checked >= t.finished;
    const bool ok = lost == 0 && duplicated == 0 && t.user.bad_res == 0 && t.failed == 0 &&
                    balanced && ops >= o.ops;
    if (!balanced)
        io::printf(2,
                   "stress: counters do not balance: submissions=%llu completions=%llu "
                   "active_rings=%lld (before %lld) rings_checked=%llu finished=%u\n",
                   ops, completions, after.active_rings, before.active_rings, rings_checked,
                   t.finished);
    io::printf(1,
               "stress: ops=%llu lost=%llu duplicated=%llu overflowed=%llu killed=%u "
               "cancelled=%llu killed_in_flight=%u teardown_completions=%llu busy=%llu "
               "bad_res=%llu failed=%u workers=%u procs=%u rings_checked=%llu balanced=%s "
               "executor=%s seed=%llu ms=%llu\n",
               ops, lost, duplicated, d(after.overflowed, before.overflowed), t.killed,
               d(after.cancelled, before.cancelled), t.killed_in_flight,
               d(after.teardown, before.teardown), static_cast<unsigned long long>(t.user.busy),
               static_cast<unsigned long long>(t.user.bad_res), t.failed, t.spawned, o.procs,
               rings_checked, balanced ? "yes" : "no", after.executor,
               static_cast<unsigned long long>(o.seed),
               static_cast<unsigned long long>(elapsed_ms));
    return ok ? 0 : 1;
}

}  // namespace

TOYOS_PROGRAM(stress, "stress",
              "stress [--procs P] [--ops N] [--seed S] [--kill-rate PCT]: churn processes and "
              "rings, check every submission completes exactly once") {
    Options o;
    if (int r = parse(argc, argv, o); r != 0) return r < 0 ? 0 : r;
    if (o.worker) {
        WorkerOptions w;
        w.id = o.worker_id;
        w.seed = o.seed;
        w.ops = o.worker_ops != 0 ? o.worker_ops : 1000;
        w.sq_entries = o.sq_entries != 0 ? o.sq_entries : 4;
        return run_worker(w);
    }
    return run_parent(o);
}

// raw_uring_bench: the host's own io_uring through the system liburing, with the loop ringbench
// runs on a toy ring (keep iodepth in flight, refill from what was reaped, one
// io_uring_submit_and_wait per refill). It is the "raw liburing" column of bench/run.sh: what
// the same loop costs with no toyos in between.
//
//   raw_uring_bench --ioengine=nop --batch=32 --runtime=5
//   raw_uring_bench --rw=randread --bs=4096 --iodepth=64 --filename=F --runtime=5 [--direct=1]
//                   [--fixedbufs] [--registerfiles] [--sqpoll]
//
// Prints one JSON object: {"rw":..., "iodepth":..., "total_ios":..., "iops":...,
// "bw_bytes":..., "runtime_ns":..., "errors":...}.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;
static uint64_t rng_next(void) {  // xorshift64*
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint64_t parse_size(const char* s) {
    char* end = NULL;
    uint64_t v = strtoull(s, &end, 10);
    switch (*end) {
        case 'k':
        case 'K':
            return v << 10;
        case 'm':
        case 'M':
            return v << 20;
        case 'g':
        case 'G':
            return v << 30;
        default:
            return v;
    }
}

static const char* opt(const char* arg, const char* name) {
    const size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=') return arg + n + 1;
    return NULL;
}

int main(int argc, char** argv) {
    const char* rw = "randread";
    const char* filename = NULL;
    bool nop = false, direct = false, fixedbufs = false, registerfiles = false, sqpoll = false;
    unsigned iodepth = 0, batch = 0;
    uint64_t bs = 4096, size = 0;
    double runtime = 5;
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        const char* v;
        if ((v = opt(a, "--rw")))
            rw = v;
        else if ((v = opt(a, "--ioengine")))
            nop = strcmp(v, "nop") == 0;
        else if ((v = opt(a, "--bs")))
            bs = parse_size(v);
        else if ((v = opt(a, "--size")))
            size = parse_size(v);
        else if ((v = opt(a, "--iodepth")))
            iodepth = (unsigned)atoi(v);
        else if ((v = opt(a, "--batch")))
            batch = (unsigned)atoi(v);
        else if ((v = opt(a, "--runtime")))
            runtime = atof(v);
        else if ((v = opt(a, "--filename")))
            filename = v;
        else if ((v = opt(a, "--direct")))
            direct = atoi(v) != 0;
        else if (strcmp(a, "--fixedbufs") == 0)
            fixedbufs = true;
        else if (strcmp(a, "--registerfiles") == 0)
            registerfiles = true;
        else if (strcmp(a, "--sqpoll") == 0)
            sqpoll = true;
        else {
            fprintf(stderr, "raw_uring_bench: unknown option %s\n", a);
            return 2;
        }
    }
    if (nop) {
        if (batch == 0) batch = iodepth ? iodepth : 1;
        if (iodepth == 0) iodepth = batch;
    } else {
        if (iodepth == 0) iodepth = 1;
        if (batch == 0) batch = 1;
    }
    const bool rd = strcmp(rw, "read") == 0 || strcmp(rw, "randread") == 0;
    const bool seq = strcmp(rw, "read") == 0 || strcmp(rw, "write") == 0;
    int fd = -1;
    if (!nop) {
        if (filename == NULL) {
            fprintf(stderr, "raw_uring_bench: --filename is required\n");
            return 2;
        }
        fd = open(filename, (rd ? O_RDONLY : O_WRONLY) | (direct ? O_DIRECT : 0));
        if (fd < 0) {
            perror(filename);
            return 1;
        }
        if (size == 0) {
            struct stat st;
            fstat(fd, &st);
            size = (uint64_t)st.st_size;
        }
    }
    struct io_uring ring;
    struct io_uring_params p;
    memset(&p, 0, sizeof(p));
    if (sqpoll) {
        p.flags = IORING_SETUP_SQPOLL;
        p.sq_thread_idle = 1000;
    }
    int r = io_uring_queue_init_params(iodepth, &ring, &p);
    if (r < 0) {
        fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r));
        return 1;
    }
    unsigned char* bufs = NULL;
    if (!nop) {
        bufs = mmap(NULL, bs * iodepth, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (bufs == MAP_FAILED) return 1;
        memset(bufs, 0x5a, bs * iodepth);
        if (fixedbufs) {
            struct iovec* iov = calloc(iodepth, sizeof(*iov));
            for (unsigned i = 0; i < iodepth; ++i) iov[i] = (struct iovec){bufs + i * bs, bs};
            if ((r = io_uring_register_buffers(&ring, iov, iodepth)) < 0) {
                fprintf(stderr, "register buffers: %s\n", strerror(-r));
                return 1;
            }
        }
        if (registerfiles) {
            if ((r = io_uring_register_files(&ring, &fd, 1)) < 0) {
                fprintf(stderr, "register files: %s\n", strerror(-r));
                return 1;
            }
        }
    }
    const uint64_t blocks = nop ? 1 : size / bs;
    if (blocks == 0) {
        fprintf(stderr, "raw_uring_bench: file smaller than one block\n");
        return 1;
    }
    unsigned* free_slots = malloc(iodepth * sizeof(unsigned));
    for (unsigned i = 0; i < iodepth; ++i) free_slots[i] = i;
    unsigned nfree = iodepth, inflight = 0;
    uint64_t ios = 0, bytes = 0, errors = 0, seq_block = 0, iter = 0;
    const uint64_t start = now_ns(), runtime_ns = (uint64_t)(runtime * 1e9);
    bool stopping = false;
    for (;;) {
        unsigned queued = 0;
        if (!stopping && nfree >= batch) {
            while (nfree > 0) {
                struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
                if (sqe == NULL && sqpoll && inflight + queued == 0) {
                    // The SQ poller posts CQEs before it publishes the SQ head it consumed:
                    // everything can be reaped while the SQ still looks full.
                    io_uring_sqring_wait(&ring);
                    continue;
                }
                if (sqe == NULL) break;
                const unsigned slot = free_slots[--nfree];
                if (nop) {
                    io_uring_prep_nop(sqe);
                } else {
                    const uint64_t block = seq ? seq_block : rng_next() % blocks;
                    if (seq && ++seq_block == blocks) seq_block = 0;
                    const int f = registerfiles ? 0 : fd;
                    void* buf = bufs + (size_t)slot * bs;
                    if (fixedbufs) {
                        if (rd)
                            io_uring_prep_read_fixed(sqe, f, buf, (unsigned)bs, block * bs,
                                                     (int)slot);
                        else
                            io_uring_prep_write_fixed(sqe, f, buf, (unsigned)bs, block * bs,
                                                      (int)slot);
                    } else if (rd) {
                        io_uring_prep_read(sqe, f, buf, (unsigned)bs, block * bs);
                    } else {
                        io_uring_prep_write(sqe, f, buf, (unsigned)bs, block * bs);
                    }
                    if (registerfiles) sqe->flags |= IOSQE_FIXED_FILE;
                }
                io_uring_sqe_set_data64(sqe, slot);
                ++queued;
            }
        }
        if (inflight + queued == 0) break;
        const unsigned want = batch < inflight + queued ? batch : inflight + queued;
        if (sqpoll) {
            io_uring_submit(&ring);
            unsigned spins = 0;
            while (io_uring_cq_ready(&ring) < want && ++spins < (1u << 10)) __builtin_ia32_pause();
            if (io_uring_cq_ready(&ring) < want) {
                struct io_uring_cqe* c;
                io_uring_wait_cqe_nr(&ring, &c, want);
            }
        } else {
            io_uring_submit_and_wait(&ring, io_uring_cq_ready(&ring) >= want ? 0 : want);
        }
        inflight += queued;
        struct io_uring_cqe* cqe;
        unsigned head, n = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            if (cqe->res < 0) {
                if (errors++ == 0) fprintf(stderr, "raw_uring_bench: %s\n", strerror(-cqe->res));
                stopping = true;
            } else {
                ++ios;
                bytes += (uint64_t)cqe->res;
            }
            free_slots[nfree++] = (unsigned)cqe->user_data;
            ++n;
        }
        io_uring_cq_advance(&ring, n);
        inflight -= n;
        if ((++iter & 31) == 0 && now_ns() - start >= runtime_ns) stopping = true;
    }
    const uint64_t elapsed = now_ns() - start;
    const double secs = (double)elapsed * 1e-9;
    printf(
        "{\"rw\":\"%s\",\"bs\":%llu,\"iodepth\":%u,\"batch\":%u,\"direct\":%d,\"fixedbufs\":%d,"
        "\"registerfiles\":%d,\"sqpoll\":%d,\"total_ios\":%llu,\"iops\":%.3f,\"bw_bytes\":%.0f,"
        "\"runtime_ns\":%llu,\"errors\":%llu}\n",
        nop ? "nop" : rw, (unsigned long long)bs, iodepth, batch, direct, fixedbufs, registerfiles,
        sqpoll, (unsigned long long)ios, (double)ios / secs, (double)bytes / secs,
        (unsigned long long)elapsed, (unsigned long long)errors);
    io_uring_queue_exit(&ring);
    return errors == 0 ? 0 : 1;
}

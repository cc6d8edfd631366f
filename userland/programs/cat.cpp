// cat FILE...: copy files (or stdin with no argument or "-") to stdout.
#include "toyos/io.h"
#include "toyos/program.h"
#include "toyos/sys.h"

namespace {

int cat_fd(int fd, const char* name) {
    char buf[16384];
    for (;;) {
        ssize_t n = toyos::sys::read(fd, buf, sizeof(buf));
        if (n == 0) return 0;
        if (n < 0) {
            toyos::io::printf(2, "cat: %s: %s\n", name, toyos::io::error_text(n));
            return 1;
        }
        ssize_t w = toyos::io::write_all(1, buf, static_cast<size_t>(n));
        if (w < 0) {
            toyos::io::printf(2, "cat: write: %s\n", toyos::io::error_text(w));
            return 1;
        }
    }
}

}  // namespace

TOYOS_PROGRAM(cat, "cat", "cat [FILE...]: concatenate files to standard output") {
    if (argc < 2) return cat_fd(0, "-");
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        if (argv[i][0] == '-' && argv[i][1] == '\0') {
            status |= cat_fd(0, "-");
            continue;
        }
        int fd = toyos::sys::open(argv[i], O_RDONLY);
        if (fd < 0) {
            toyos::io::printf(2, "cat: %s: %s\n", argv[i], toyos::io::error_text(fd));
            status = 1;
            continue;
        }
        status |= cat_fd(fd, argv[i]);
        toyos::sys::close(fd);
    }
    return status;
}

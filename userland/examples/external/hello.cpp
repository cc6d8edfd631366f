// A toyos program outside the tree: greets, echoes its arguments, prints a sandbox file.
#include <toyos/io.h>
#include <toyos/sys.h>

extern "C" int toyos_main(int argc, char** argv) {
    toyos::io::printf(1, "hello from an external program, pid %d\n", toyos::sys::getpid());
    for (int i = 1; i < argc; ++i) toyos::io::printf(1, "arg %d: %s\n", i, argv[i]);
    const int fd = toyos::sys::open("/hello.txt", O_RDONLY);
    if (fd < 0) {
        toyos::io::printf(2, "hello_ext: /hello.txt: %s\n", toyos::io::error_text(fd));
        return 1;
    }
    char buf[256];
    const ssize_t n = toyos::sys::read(fd, buf, sizeof(buf));
    if (n > 0) toyos::io::write_all(1, buf, static_cast<size_t>(n));
    toyos::sys::close(fd);
    return 0;
}

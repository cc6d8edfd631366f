#include "kernel/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace toyos::kernel {

const char* file_kind_name(FileKind k) {
    switch (k) {
        case FileKind::Regular:
            return "file";
        case FileKind::Directory:
            return "dir";
        case FileKind::Socket:
            return "socket";
        case FileKind::Stream:
            return "stream";
        case FileKind::EventFd:
            return "eventfd";
        case FileKind::Ring:
            return "io_uring";
        case FileKind::Proc:
            return "proc";
        case FileKind::BlockDevice:
            return "blockdev";
        case FileKind::CharDevice:
            return "chardev";
        case FileKind::Other:
            return "other";
    }
    return "?";
}

// Defaults: what Linux answers for a file that lacks the operation.
Result<long> File::read(void*, size_t) {
    return err(EINVAL);
}
Result<long> File::write(const void*, size_t) {
    return err(EINVAL);
}
Result<long> File::pread(void*, size_t, off_t) {
    return err(ESPIPE);
}
Result<long> File::pwrite(const void*, size_t, off_t) {
    return err(ESPIPE);
}
Result<long> File::lseek(off_t, int) {
    return err(ESPIPE);
}
Result<long> File::fsync(bool) {
    return err(EINVAL);
}
Result<void> File::fstat(struct stat*) {
    return err(EINVAL);
}
Result<long> File::getdents64(void*, size_t) {
    return err(ENOTDIR);
}
Result<Region> File::mmap(Process&, size_t, uint64_t, int) {
    return err(ENODEV);
}

HostFile::~HostFile() {
    ::close(fd_);
}

FileRef HostFile::adopt(int host_fd, std::string name) {
    struct stat st {};
    FileKind kind = FileKind::Other;
    if (::fstat(host_fd, &st) == 0) {
        if (S_ISREG(st.st_mode))
            kind = FileKind::Regular;
        else if (S_ISDIR(st.st_mode))
            kind = FileKind::Directory;
        else if (S_ISSOCK(st.st_mode))
            kind = FileKind::Socket;
        else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
            kind = FileKind::Stream;
    }
    return std::make_shared<HostFile>(host_fd, kind, std::move(name));
}

FileRef HostFile::adopt_console(int host_console_fd) {
    struct stat st {};
    const int flags = ::fcntl(host_console_fd, F_GETFL);
    if (flags < 0 || ::fstat(host_console_fd, &st) < 0) return nullptr;
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
        const std::string path = "/proc/self/fd/" + std::to_string(host_console_fd);
        const int own =
            ::open(path.c_str(), (flags & O_ACCMODE) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (own >= 0) return std::make_shared<HostFile>(own, FileKind::Stream, "console");
    }
    const int host = ::fcntl(host_console_fd, F_DUPFD_CLOEXEC, 3);
    if (host < 0) return nullptr;
    FileRef f = adopt(host, "console");
    // A stream /proc could not reopen (no /proc; a pipe's write end with no reader) keeps the
    // shared description too: blocking.h then polls before each call.
    if (f->may_block() && (flags & O_NONBLOCK) == 0) f->set_shared_blocking_host_fd(true);
    return f;
}

Result<long> HostFile::read(void* buf, size_t len) {
    if (kind_ == FileKind::Directory) return err(EISDIR);
    return host_result(::read(fd_, buf, len));
}
Result<long> HostFile::write(const void* buf, size_t len) {
    return host_result(::write(fd_, buf, len));
}
Result<long> HostFile::pread(void* buf, size_t len, off_t off) {
    return host_result(::pread(fd_, buf, len, off));
}
Result<long> HostFile::pwrite(const void* buf, size_t len, off_t off) {
    return host_result(::pwrite(fd_, buf, len, off));
}
Result<long> HostFile::lseek(off_t off, int whence) {
    return host_result(::lseek(fd_, off, whence));
}
Result<long> HostFile::fsync(bool datasync) {
    return host_result(datasync ? ::fdatasync(fd_) : ::fsync(fd_));
}
Result<void> HostFile::fstat(struct stat* st) {
    if (::fstat(fd_, st) < 0) return err(errno);
    return {};
}
Result<long> HostFile::getdents64(void* buf, size_t len) {
    if (kind_ != FileKind::Directory) return err(ENOTDIR);
    return host_result(::syscall(SYS_getdents64, fd_, buf, len));
}

}  // namespace toyos::kernel

// File: what a toy fd refers to. Most files are host-backed (HostFile: regular files,
// directories, sockets); a ring fd and procfs files are kernel objects of their own.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "kernel/address_space.h"
#include "kernel/result.h"

namespace toyos::kernel {

class Process;
class DeviceFile;

enum class FileKind {
    Regular,
    Directory,
    Socket,
    Stream,
    EventFd,
    Ring,
    Proc,
    BlockDevice,  // a host block device exposed in /dev (e.g. nvme0n1)
    CharDevice,   // a host NVMe generic char device in /dev (ngXnY): URING_CMD passthrough
    Other
};
const char* file_kind_name(FileKind k);

class File {
  public:
    virtual ~File() = default;
    virtual FileKind kind() const = 0;
    // The host fd behind this file, or -1 for a kernel object. The host executor runs
    // operations on it directly.
    virtual int host_fd() const { return -1; }
    // What /proc/<pid>/fd shows for it.
    virtual std::string describe() const = 0;

    virtual Result<long> read(void* buf, size_t len);
    virtual Result<long> write(const void* buf, size_t len);
    virtual Result<long> pread(void* buf, size_t len, off_t off);
    virtual Result<long> pwrite(const void* buf, size_t len, off_t off);
    virtual Result<long> lseek(off_t off, int whence);
    virtual Result<long> fsync(bool datasync);
    virtual Result<void> fstat(struct stat* st);
    virtual Result<long> getdents64(void* buf, size_t len);
    // mmap of this file into `proc` (ring fds) with protection `prot`: a region of its own;
    // ENODEV for files that cannot be mapped.
    virtual Result<Region> mmap(Process& proc, size_t length, uint64_t offset, int prot);

    // A host device exposed in /dev (kernel/devfs.h), or nullptr.
    virtual const DeviceFile* as_device() const { return nullptr; }

    bool is_socket() const { return kind() == FileKind::Socket; }
    // Toy O_NONBLOCK: a call that would block fails with EAGAIN. (Host sockets are always
    // non-blocking underneath; see kernel/blocking.h.)
    bool nonblocking() const { return nonblocking_; }
    void set_nonblocking(bool nb) { nonblocking_ = nb; }
    // Block devices: opened with O_DIRECT, and whose queue polls (IOPOLL-capable).
    bool direct() const { return direct_; }
    bool pollable() const { return pollable_; }
    void set_device_flags(bool direct, bool pollable) {
        direct_ = direct;
        pollable_ = pollable;
    }
    // Whether a call on it may wait indefinitely (sockets, pipes, terminals).
    bool may_block() const {
        return kind() == FileKind::Socket || kind() == FileKind::Stream ||
               kind() == FileKind::EventFd;
    }
    // The host fd is a blocking open file description the kernel shares with someone else (a
    // console socket: the shell's own, which a socket cannot be reopened to escape), so it
    // cannot be made O_NONBLOCK. Every other may_block() host fd is O_NONBLOCK on the host
    // and its toy blocking is emulated by polling; on this one each call must be made
    // non-blocking by itself (kernel/blocking.h: host_readv_nowait).
    bool shared_blocking_host_fd() const { return shared_blocking_host_fd_; }
    void set_shared_blocking_host_fd(bool shared) { shared_blocking_host_fd_ = shared; }

  private:
    bool nonblocking_ = false;
    bool shared_blocking_host_fd_ = false;
    bool direct_ = false;
    bool pollable_ = false;
};

using FileRef = std::shared_ptr<File>;

// A file backed by a host fd that this object owns and closes (DeviceFile adds what a /dev
// device is).
class HostFile : public File {
  public:
    HostFile(int host_fd, FileKind kind, std::string name)
        : fd_(host_fd), kind_(kind), name_(std::move(name)) {}
    ~HostFile() override;
    HostFile(const HostFile&) = delete;
    HostFile& operator=(const HostFile&) = delete;

    // Classifies the host fd by fstat.
    static FileRef adopt(int host_fd, std::string name);
    // One of the host's own fds 0-2 as a toy console file (nullptr if it is not open). A pipe,
    // FIFO or terminal is reopened through /proc/self/fd as a new open file description made
    // O_NONBLOCK, so a toy read or write on it can wait killably without changing the shell's
    // description; a regular file never blocks; a socket stays shared and blocking, each call
    // on it is made non-blocking by itself.
    static FileRef adopt_console(int host_console_fd);

    FileKind kind() const override { return kind_; }
    int host_fd() const override { return fd_; }
    std::string describe() const override { return name_; }

    Result<long> read(void* buf, size_t len) override;
    Result<long> write(const void* buf, size_t len) override;
    Result<long> pread(void* buf, size_t len, off_t off) override;
    Result<long> pwrite(const void* buf, size_t len, off_t off) override;
    Result<long> lseek(off_t off, int whence) override;
    Result<long> fsync(bool datasync) override;
    Result<void> fstat(struct stat* st) override;
    Result<long> getdents64(void* buf, size_t len) override;

  private:
    int fd_;
    FileKind kind_;
    std::string name_;
};

}  // namespace toyos::kernel

// ProcFs: the /proc mount of the toy VFS. Nothing on the host backs it: each file's text is
// produced by a kernel generator when it is read from offset 0 (as Linux's seq_file does), so
// a reader that rereads from the start sees fresh figures and a partial read never mixes two
// snapshots. Subsystems add their own files (the io_uring subsystem adds /proc/iouring and
// /proc/<pid>/iouring). Layout and keys: docs/proc.md.
//
// /proc is recognised lexically ("/proc/..", "/./proc" and "proc/x" from "/" all count), since
// it is a kernel namespace and not a host directory; a "proc" directory inside the sandbox root
// is shadowed, as a mount shadows what is under it. /proc/self is the reading process.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/file.h"
#include "kernel/result.h"

namespace toyos::kernel {

class Kernel;
class Process;

class ProcFs {
  public:
    using GlobalGenerator = std::function<std::string()>;
    using ProcessGenerator = std::function<std::string(Process& target)>;

    explicit ProcFs(Kernel& kernel) : kernel_(kernel) {}

    // /proc/NAME and /proc/<pid>/NAME. Call at boot, before processes run.
    void add_global(const std::string& name, GlobalGenerator gen);
    void add_per_process(const std::string& name, ProcessGenerator gen);

    // The components below /proc of a toy path, or nullopt if it is not under /proc.
    static std::optional<std::vector<std::string>> components(const std::string& path);

    // `comps` from components(); `reader` resolves "self".
    Result<FileRef> open(Process& reader, const std::vector<std::string>& comps, int flags) const;
    Result<void> stat(Process& reader, const std::vector<std::string>& comps,
                      struct stat* st) const;

  private:
    struct Node {
        bool directory = false;
        std::function<std::string()> text;                // files
        std::function<std::vector<std::string>()> names;  // directories
    };
    Result<Node> lookup(Process& reader, const std::vector<std::string>& comps) const;
    std::vector<std::string> root_names() const;

    Kernel& kernel_;
    std::map<std::string, GlobalGenerator> global_;
    std::map<std::string, ProcessGenerator> per_process_;
};

// A /proc file: read-only text, generated again whenever a read starts at offset 0.
class ProcFile final : public File {
  public:
    ProcFile(std::string name, std::function<std::string()> gen)
        : name_(std::move(name)), gen_(std::move(gen)) {}
    FileKind kind() const override { return FileKind::Proc; }
    std::string describe() const override { return name_; }
    Result<long> read(void* buf, size_t len) override;
    Result<long> pread(void* buf, size_t len, off_t off) override;
    Result<long> lseek(off_t off, int whence) override;
    Result<void> fstat(struct stat* st) override;

  private:
    long copy_out(void* buf, size_t len, off_t off);  // under mutex_

    std::string name_;
    std::function<std::string()> gen_;
    std::mutex mutex_;
    std::string text_;
    off_t pos_ = 0;
};

// A /proc directory: its entries are listed when it is opened.
class ProcDir final : public File {
  public:
    ProcDir(std::string name, std::vector<std::string> entries)
        : name_(std::move(name)), entries_(std::move(entries)) {}
    FileKind kind() const override { return FileKind::Proc; }
    std::string describe() const override { return name_; }
    Result<long> read(void*, size_t) override { return err(EISDIR); }
    Result<long> lseek(off_t off, int whence) override;
    Result<void> fstat(struct stat* st) override;
    Result<long> getdents64(void* buf, size_t len) override;

  private:
    std::string name_;
    std::vector<std::string> entries_;
    std::mutex mutex_;
    size_t next_ = 0;
};

}  // namespace toyos::kernel

namespace toyos::kernel {
// The kernel's own /proc files: /proc/syscalls and /proc/<pid>/status.
void add_kernel_proc_files(Kernel& kernel);
}  // namespace toyos::kernel

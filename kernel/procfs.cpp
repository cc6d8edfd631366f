#include "kernel/procfs.h"

#include <dirent.h>
#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "kernel/kernel.h"
#include "kernel/path.h"

namespace toyos::kernel {
namespace {

std::optional<pid_t> parse_pid(const std::string& s) {
    if (s.empty() || s.size() > 9) return std::nullopt;
    pid_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

}  // namespace

void ProcFs::add_global(const std::string& name, GlobalGenerator gen) {
    global_[name] = std::move(gen);
}

void ProcFs::add_per_process(const std::string& name, ProcessGenerator gen) {
    per_process_[name] = std::move(gen);
}

std::optional<std::vector<std::string>> ProcFs::components(const std::string& path) {
    return components_under("proc", path);
}

std::vector<std::string> ProcFs::root_names() const {
    std::vector<std::string> names;
    for (const auto& [name, gen] : global_) names.push_back(name);
    names.emplace_back("self");
    for (const ProcessRef& p : kernel_.processes().all()) names.push_back(std::to_string(p->pid()));
    return names;
}

Result<ProcFs::Node> ProcFs::lookup(Process& reader, const std::vector<std::string>& comps) const {
    Node node;
    if (comps.empty()) {
        node.directory = true;
        node.names = [this] { return root_names(); };
        return node;
    }
    if (comps.size() == 1) {
        if (auto it = global_.find(comps[0]); it != global_.end()) {
            node.text = it->second;
            return node;
        }
    }
    // /proc/<pid>/... and /proc/self/...
    std::optional<pid_t> pid =
        comps[0] == "self" ? std::optional<pid_t>(reader.pid()) : parse_pid(comps[0]);
    if (!pid) return err(ENOENT);
    ProcessRef target = kernel_.processes().find(*pid);
    if (!target) return err(ENOENT);
    if (comps.size() == 1) {
        node.directory = true;
        node.names = [this] {
            std::vector<std::string> names{"fd"};
            for (const auto& [name, gen] : per_process_) names.push_back(name);
            return names;
        };
        return node;
    }
    if (comps[1] == "fd") {
        if (comps.size() == 2) {
            node.directory = true;
            node.names = [target] {
                std::vector<std::string> names;
                for (const auto& [fd, file] : target->fds().snapshot())
                    names.push_back(std::to_string(fd));
                return names;
            };
            return node;
        }
        // /proc/<pid>/fd/N: what the descriptor refers to (Linux shows it as a link target).
        std::optional<pid_t> fd = parse_pid(comps[2]);
        if (comps.size() != 3 || !fd) return err(ENOENT);
        auto file = target->fds().get(*fd);
        if (file.is_error()) return err(ENOENT);
        node.text = [f = file.value()] { return f->describe() + "\n"; };
        return node;
    }
    if (comps.size() != 2) return err(ENOENT);
    auto it = per_process_.find(comps[1]);
    if (it == per_process_.end()) return err(ENOENT);
    node.text = [gen = it->second, target] { return gen(*target); };
    return node;
}

Result<FileRef> ProcFs::open(Process& reader, const std::vector<std::string>& comps,
                             int flags) const {
    Node node = TOYOS_TRY(lookup(reader, comps));
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC)) != 0) return err(EACCES);
    std::string name = "/proc";
    for (const std::string& c : comps) name += "/" + c;
    if (node.directory) return FileRef(std::make_shared<ProcDir>(name, node.names()));
    if (flags & O_DIRECTORY) return err(ENOTDIR);
    return FileRef(std::make_shared<ProcFile>(name, std::move(node.text)));
}

Result<void> ProcFs::stat(Process& reader, const std::vector<std::string>& comps,
                          struct stat* st) const {
    Node node = TOYOS_TRY(lookup(reader, comps));
    std::memset(st, 0, sizeof(*st));
    st->st_mode = node.directory ? (S_IFDIR | 0555) : (S_IFREG | 0444);
    st->st_nlink = 1;
    st->st_blksize = 4096;
    return {};
}

// --- ProcFile --------------------------------------------------------------------------------

long ProcFile::copy_out(void* buf, size_t len, off_t off) {
    if (off == 0) text_ = gen_();
    if (static_cast<size_t>(off) >= text_.size()) return 0;
    const size_t n = std::min(len, text_.size() - static_cast<size_t>(off));
    std::memcpy(buf, text_.data() + off, n);
    return static_cast<long>(n);
}

Result<long> ProcFile::read(void* buf, size_t len) {
    std::lock_guard lock(mutex_);
    const long n = copy_out(buf, len, pos_);
    pos_ += n;
    return n;
}

Result<long> ProcFile::pread(void* buf, size_t len, off_t off) {
    if (off < 0) return err(EINVAL);
    std::lock_guard lock(mutex_);
    return copy_out(buf, len, off);
}

Result<long> ProcFile::lseek(off_t off, int whence) {
    std::lock_guard lock(mutex_);
    off_t base = 0;
    if (whence == SEEK_CUR)
        base = pos_;
    else if (whence == SEEK_END)
        base = static_cast<off_t>(text_.size());
    else if (whence != SEEK_SET)
        return err(EINVAL);
    off_t pos = 0;
    if (__builtin_add_overflow(base, off, &pos) || pos < 0) return err(EINVAL);
    pos_ = pos;
    return pos_;
}

Result<void> ProcFile::fstat(struct stat* st) {
    std::memset(st, 0, sizeof(*st));
    st->st_mode = S_IFREG | 0444;  // size 0, as Linux reports for /proc files
    st->st_nlink = 1;
    st->st_blksize = 4096;
    return {};
}

// --- ProcDir ---------------------------------------------------------------------------------

Result<long> ProcDir::lseek(off_t off, int whence) {
    if (whence != SEEK_SET || off < 0) return err(EINVAL);
    std::lock_guard lock(mutex_);
    next_ = static_cast<size_t>(off);
    return off;
}

Result<void> ProcDir::fstat(struct stat* st) {
    std::memset(st, 0, sizeof(*st));
    st->st_mode = S_IFDIR | 0555;
    st->st_nlink = 2;
    st->st_blksize = 4096;
    return {};
}

Result<long> ProcDir::getdents64(void* buf, size_t len) {
    // linux_dirent64: ino, off, reclen, type, name; records 8-byte aligned. "." and ".."
    // come first, as getdents64 gives them.
    std::lock_guard lock(mutex_);
    auto* out = static_cast<char*>(buf);
    size_t used = 0;
    while (next_ < entries_.size() + 2) {
        const std::string name = next_ == 0 ? "." : next_ == 1 ? ".." : entries_[next_ - 2];
        const size_t reclen = (offsetof(dirent64, d_name) + name.size() + 1 + 7) & ~size_t{7};
        if (used + reclen > len) {
            if (used == 0) return err(EINVAL);  // buffer too small for one entry
            break;
        }
        // Built aside and copied: the caller's buffer need not be aligned for dirent64.
        dirent64 d{};
        d.d_ino = next_ + 1;
        d.d_off = static_cast<off_t>(next_ + 1);
        d.d_reclen = static_cast<unsigned short>(reclen);
        const bool numeric = name.find_first_not_of("0123456789") == std::string::npos;
        const bool is_dir =
            next_ < 2 || name == "fd" || (name_ == "/proc" && (name == "self" || numeric));
        d.d_type = is_dir ? DT_DIR : DT_REG;
        std::memcpy(out + used, &d, offsetof(dirent64, d_name));
        std::memcpy(out + used + offsetof(dirent64, d_name), name.c_str(), name.size() + 1);
        used += reclen;
        ++next_;
    }
    return static_cast<long>(used);
}

}  // namespace toyos::kernel

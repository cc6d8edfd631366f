#include "kernel/program_catalog.h"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstring>
#include <mutex>

#include "kernel/log.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3: an executable memfd even under vm.memfd_noexec=1
#endif

namespace toyos::kernel {
namespace {

// A program file larger than this is refused (EFBIG) rather than copied.
constexpr off_t kMaxProgramBytes = off_t{256} << 20;

struct ImageQuery {
    uintptr_t load_base;
    bool main_program;
    std::vector<Region>* out;
    bool found;
    std::shared_ptr<ProgramImage> owner;  // kept alive by every region's backing
};

// Images whose last reference went, waiting for unload_released().
struct ReleasedImage {
    void* handle;
    int memfd;
};
std::mutex g_released_mutex;
std::vector<ReleasedImage> g_released;

std::string memfd_path(int memfd) {
    return "/proc/self/fd/" + std::to_string(memfd);
}

int create_image_memfd() {
    int fd = ::memfd_create("toyos-program", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)  // a kernel before 6.3 knows no MFD_EXEC
        fd = ::memfd_create("toyos-program", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd;
}

// glibc keeps one object per STB_GNU_UNIQUE symbol (a C++ inline function's static, a template's
// static member) for the whole host process: every later copy of a program would bind to the
// first copy's. In the private copy they become ordinary global symbols, so each image keeps its
// own. Reads only .dynsym through the section headers, every offset checked against `size` (the
// file is the program's, hostile or not); an object without section headers is left as it is.
void make_unique_symbols_global(unsigned char* elf, size_t size) {
    Elf64_Ehdr eh;
    if (size < sizeof(eh)) return;
    std::memcpy(&eh, elf, sizeof(eh));
    if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return;
    if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff == 0 || eh.e_shoff > size ||
        eh.e_shnum > (size - eh.e_shoff) / sizeof(Elf64_Shdr))
        return;
    for (size_t i = 0; i < eh.e_shnum; ++i) {
        Elf64_Shdr sh;
        std::memcpy(&sh, elf + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
        if (sh.sh_type != SHT_DYNSYM || sh.sh_entsize != sizeof(Elf64_Sym)) continue;
        if (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset) continue;
        for (size_t n = 0; n < sh.sh_size / sizeof(Elf64_Sym); ++n) {
            unsigned char& info =
                elf[sh.sh_offset + n * sizeof(Elf64_Sym) + offsetof(Elf64_Sym, st_info)];
            if (ELF64_ST_BIND(info) == STB_GNU_UNIQUE)
                info = static_cast<unsigned char>(ELF64_ST_INFO(STB_GLOBAL, ELF64_ST_TYPE(info)));
        }
    }
}

// Copies a regular file into a new sealed memfd (no write, shrink or grow, seals fixed).
Result<int> private_copy(int host_fd) {
    struct stat st {};
    if (::fstat(host_fd, &st) != 0) return err(errno);
    if (!S_ISREG(st.st_mode)) return err(EACCES);  // execve's answer for a non-regular file
    const int memfd = create_image_memfd();
    if (memfd < 0) return err(errno);
    auto fail = [memfd](int e) -> Result<int> {
        ::close(memfd);
        return err(e);
    };
    off_t copied = 0;
    for (;;) {
        const ssize_t n = ::sendfile(memfd, host_fd, &copied, 1u << 20);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail(errno);
        }
        if (n == 0) break;
        if (copied > kMaxProgramBytes) return fail(EFBIG);
    }
    if (copied > 0) {
        void* map = ::mmap(nullptr, static_cast<size_t>(copied), PROT_READ | PROT_WRITE, MAP_SHARED,
                           memfd, 0);
        if (map == MAP_FAILED) return fail(errno);
        make_unique_symbols_global(static_cast<unsigned char*>(map), static_cast<size_t>(copied));
        ::munmap(map, static_cast<size_t>(copied));
    }
    if (::fcntl(memfd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
        return fail(errno);
    return memfd;
}

// Regions for an ELF object's PT_LOAD segments; PT_GNU_RELRO pages are read-only to the kernel.
int collect_segments(struct dl_phdr_info* info, size_t, void* data) {
    auto* q = static_cast<ImageQuery*>(data);
    const bool is_main = info->dlpi_name == nullptr || info->dlpi_name[0] == '\0';
    if (q->found) return 1;
    if (q->main_program ? !is_main : info->dlpi_addr != q->load_base) return 0;
    q->found = true;
    uintptr_t relro_start = 0, relro_end = 0;
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type == PT_GNU_RELRO) {
            relro_start = info->dlpi_addr + ph.p_vaddr;
            relro_end = (relro_start + ph.p_memsz + 4095) & ~uintptr_t{4095};
        }
    }
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
        uintptr_t start = info->dlpi_addr + ph.p_vaddr;
        uintptr_t end = start + ph.p_memsz;
        const bool writable = (ph.p_flags & PF_W) != 0;
        auto add = [&](uintptr_t s, uintptr_t e, bool w) {
            if (e <= s) return;
            q->out->push_back(
                Region{s, e, w, RegionKind::Image,
                       HostMapping::borrowed(reinterpret_cast<void*>(s), e - s, q->owner)});
        };
        if (writable && relro_end > start && relro_start < end) {
            add(start, std::max(start, relro_start), true);
            add(std::max(start, relro_start), std::min(end, relro_end), false);
            add(std::min(end, relro_end), end, true);
        } else {
            add(start, end, writable);
        }
    }
    return 1;
}

}  // namespace

ProgramImage::~ProgramImage() {
    std::lock_guard lock(g_released_mutex);
    g_released.push_back(ReleasedImage{handle_, memfd_});
}

void ProgramCatalog::unload_released() {
    std::vector<ReleasedImage> images;
    {
        std::lock_guard lock(g_released_mutex);
        images.swap(g_released);
    }
    for (const ReleasedImage& image : images) {
        ::dlclose(image.handle);
        // dlopen() finds a loaded object by its name first: while an object that refused to
        // unload (DF_1_NODELETE) is known as /proc/self/fd/N, fd N stays taken, so that no
        // later image is mistaken for it.
        const std::string path = memfd_path(image.memfd);
        if (void* still = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
            ::dlclose(still);
            spdlog::warn("program image {} cannot be unloaded; its memory stays", path);
            continue;
        }
        ::close(image.memfd);
    }
}

void ProgramCatalog::add_builtin(const std::string& name, ProgramMain main,
                                 const std::string& description) {
    builtins_[name] = Builtin{main, description};
}

std::vector<ProgramInfo> ProgramCatalog::builtins() const {
    std::vector<ProgramInfo> out;
    for (const auto& [name, b] : builtins_) out.push_back({name, b.description});
    return out;
}

bool ProgramCatalog::has_builtin(const std::string& name) const {
    return builtins_.count(name) != 0;
}

Result<LoadedProgram> ProgramCatalog::load_builtin(const std::string& name) const {
    auto it = builtins_.find(name);
    if (it == builtins_.end()) return err(ENOENT);
    // The toyos binary's own image, found once (thread-safe static initialisation).
    static const std::vector<Region> main_image = [] {
        std::vector<Region> regions;
        ImageQuery q{0, true, &regions, false, nullptr};
        dl_iterate_phdr(collect_segments, &q);
        return regions;
    }();
    return LoadedProgram{name, it->second.main, main_image, nullptr};
}

Result<LoadedProgram> ProgramCatalog::load_shared_object(const std::string& host_path) const {
    const int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return err(errno);
    auto r = load_shared_object_fd(fd, host_path);
    ::close(fd);
    return r;
}

Result<LoadedProgram> ProgramCatalog::load_shared_object_fd(int host_fd,
                                                            const std::string& name) const {
    const int memfd = TOYOS_TRY(private_copy(host_fd));
    // A distinct inode per copy: glibc maps it as an object of its own, with its own link map.
    void* handle = ::dlopen(memfd_path(memfd).c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        spdlog::debug("cannot load {}: {}", name, ::dlerror());
        ::close(memfd);
        return err(ENOEXEC);
    }
    auto owner = std::make_shared<ProgramImage>(handle, memfd);
    auto main = reinterpret_cast<ProgramMain>(::dlsym(handle, "toyos_main"));
    if (main == nullptr) return err(ENOEXEC);
    struct link_map* map = nullptr;
    if (::dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) return err(ENOEXEC);
    LoadedProgram prog{name, main, {}, owner};
    ImageQuery q{map->l_addr, false, &prog.image, false, owner};
    dl_iterate_phdr(collect_segments, &q);
    if (!q.found) return err(ENOEXEC);
    return prog;
}

}  // namespace toyos::kernel

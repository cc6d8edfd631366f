#include "kernel/program_catalog.h"

#include <dlfcn.h>
#include <link.h>

#include <algorithm>
#include <climits>

namespace toyos::kernel {
namespace {

struct ImageQuery {
    uintptr_t load_base;
    bool main_program;
    std::vector<Region>* out;
    bool found;
};

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
            q->out->push_back(Region{s, e, w, RegionKind::Image,
                                     HostMapping::borrowed(reinterpret_cast<void*>(s), e - s)});
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
        ImageQuery q{0, true, &regions, false};
        dl_iterate_phdr(collect_segments, &q);
        return regions;
    }();
    return LoadedProgram{name, it->second.main, main_image};
}

Result<LoadedProgram> ProgramCatalog::load_shared_object(const std::string& host_path) const {
    void* handle = dlopen(host_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) return err(ENOEXEC);
    auto main = reinterpret_cast<ProgramMain>(dlsym(handle, "toyos_main"));
    if (main == nullptr) return err(ENOEXEC);
    struct link_map* map = nullptr;
    if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || map == nullptr) return err(ENOEXEC);
    LoadedProgram prog{host_path, main, {}};
    ImageQuery q{map->l_addr, false, &prog.image, false};
    dl_iterate_phdr(collect_segments, &q);
    if (!q.found) return err(ENOEXEC);
    return prog;
}

Result<LoadedProgram> ProgramCatalog::load_shared_object_fd(int host_fd,
                                                            const std::string& name) const {
    auto r = load_shared_object("/proc/self/fd/" + std::to_string(host_fd));
    if (r.ok()) r->name = name;
    return r;
}

}  // namespace toyos::kernel

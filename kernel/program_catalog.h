// ProgramCatalog: the programs the kernel can run. Built-ins are functions linked into the
// toyos binary; external programs are shared objects exporting `toyos_main`. Loading one gives
// its entry point and the memory of its loaded image, which becomes part of the process's
// address space (string literals and globals are user memory the program may pass in).
//
// Each load of an external program is a private image: the file's bytes are copied into a
// sealed memfd and dlopen()ed from there, so every process has its own data, bss and TLS, and
// nobody can change (truncate, overwrite) the bytes a process runs. Built-ins share the toyos
// binary's image.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kernel/address_space.h"

namespace toyos::kernel {

using ProgramMain = int (*)(int argc, char** argv);

struct ProgramInfo {
    std::string name;
    std::string description;
};

// One private load of an external program: the dlopen() handle and its memfd. The last
// reference (the process, until its thread is joined, and the image's regions, which
// operations in flight may pin) hands it to the unloader; ProgramCatalog::unload_released()
// dlclose()s it on a thread that holds no kernel lock.
class ProgramImage {
  public:
    ProgramImage(void* handle, int memfd) : handle_(handle), memfd_(memfd) {}
    ~ProgramImage();
    ProgramImage(const ProgramImage&) = delete;
    ProgramImage& operator=(const ProgramImage&) = delete;

  private:
    void* handle_;
    int memfd_;
};

struct LoadedProgram {
    std::string name;
    ProgramMain main = nullptr;
    std::vector<Region> image;
    std::shared_ptr<ProgramImage> owner;  // null for built-ins
};

class ProgramCatalog {
  public:
    void add_builtin(const std::string& name, ProgramMain main, const std::string& description);
    std::vector<ProgramInfo> builtins() const;
    bool has_builtin(const std::string& name) const;

    // A built-in by name.
    Result<LoadedProgram> load_builtin(const std::string& name) const;
    // A shared object by host path (the CLI's `toyos run ./prog.so`), or by an open host fd
    // (a .so inside the sandbox, spawned by a toy process), as a private image (see above).
    Result<LoadedProgram> load_shared_object(const std::string& host_path) const;
    Result<LoadedProgram> load_shared_object_fd(int host_fd, const std::string& name) const;

    // dlclose()s the images whose last reference went (the reaper calls it after joining
    // threads, the kernel at shutdown). It runs the programs' static destructors.
    static void unload_released();

  private:
    struct Builtin {
        ProgramMain main;
        std::string description;
    };
    std::map<std::string, Builtin> builtins_;
};

}  // namespace toyos::kernel

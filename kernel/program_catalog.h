// ProgramCatalog: the programs the kernel can run. Built-ins are functions linked into the
// toyos binary; external programs are shared objects exporting `toyos_main`. Loading one gives
// its entry point and the memory of its loaded image, which becomes part of the process's
// address space (string literals and globals are user memory the program may pass in).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "kernel/address_space.h"

namespace toyos::kernel {

using ProgramMain = int (*)(int argc, char** argv);

struct ProgramInfo {
    std::string name;
    std::string description;
};

struct LoadedProgram {
    std::string name;
    ProgramMain main = nullptr;
    std::vector<Region> image;
};

class ProgramCatalog {
  public:
    void add_builtin(const std::string& name, ProgramMain main, const std::string& description);
    std::vector<ProgramInfo> builtins() const;
    bool has_builtin(const std::string& name) const;

    // A built-in by name.
    Result<LoadedProgram> load_builtin(const std::string& name) const;
    // A shared object by host path (the CLI's `toyos run ./prog.so`), or by an open host fd
    // (a .so inside the sandbox, spawned by a toy process). Loaded images stay loaded.
    Result<LoadedProgram> load_shared_object(const std::string& host_path) const;
    Result<LoadedProgram> load_shared_object_fd(int host_fd, const std::string& name) const;

  private:
    struct Builtin {
        ProgramMain main;
        std::string description;
    };
    std::map<std::string, Builtin> builtins_;
};

}  // namespace toyos::kernel

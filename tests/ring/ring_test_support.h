// Test support: boot a kernel on a temporary sandbox and run a test body as a toy process.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "kernel/kernel.h"

namespace toyos::test {

class TempRoot {
  public:
    TempRoot();
    ~TempRoot();
    const std::string& path() const { return path_; }
    void write(const std::string& rel, const std::string& content) const;
    std::string read(const std::string& rel) const;

  private:
    std::string path_;
};

// Boots a kernel whose built-ins are `programs` (name -> main) and runs `name` as pid 1.
// Returns the wait status.
int run_program(const std::string& root, const std::string& name, int (*main)(int, char**),
                const std::vector<std::string>& args = {}, kernel::KernelConfig config = {});

}  // namespace toyos::test

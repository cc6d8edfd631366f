#include "cli/demo.h"

#include <cstdio>

namespace toyos::cli {

const char* kDemoUsage = "usage: toyos demo\n";

int run_demo(kernel::ProgramCatalog) {
    std::puts("demo: not yet");
    return 0;
}

}  // namespace toyos::cli

// `toyos demo`: boots the kernel on a temporary sandbox filled with sample files, runs several
// programs as processes and prints what they did and the kernel's counters.
#pragma once

#include "kernel/program_catalog.h"

namespace toyos::cli {

extern const char* kDemoUsage;
int run_demo(kernel::ProgramCatalog catalog);

}  // namespace toyos::cli

#include "ring_test_support.h"

#include <fstream>

#include <sstream>
#include "kernel/log.h"

namespace toyos::test {

TempRoot::TempRoot() {
    char tmpl[] = "/tmp/toyos-test-XXXXXX";
    path_ = ::mkdtemp(tmpl);
}

TempRoot::~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

void TempRoot::write(const std::string& rel, const std::string& content) const {
    std::ofstream(path_ + "/" + rel) << content;
}

std::string TempRoot::read(const std::string& rel) const {
    std::ifstream in(path_ + "/" + rel);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

int run_program(const std::string& root, const std::string& name, int (*main)(int, char**),
                const std::vector<std::string>& args, kernel::KernelConfig config) {
    kernel::init_logging(kernel::log_level_from_env("warn"));
    kernel::ProgramCatalog catalog;
    catalog.add_builtin(name, main, "test program");
    config.root = root;
    auto k = kernel::Kernel::boot(config, std::move(catalog));
    if (k.is_error()) return -1;
    std::vector<std::string> argv{name};
    argv.insert(argv.end(), args.begin(), args.end());
    auto status = k.value()->run(name, argv);
    return status.is_error() ? -status.error() : status.value();
}

}  // namespace toyos::test

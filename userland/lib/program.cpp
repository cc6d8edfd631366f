#include "toyos/program.h"

namespace toyos {
namespace {
const ProgramRegistration* g_head = nullptr;  // constant-initialized: safe from static order
}

const ProgramRegistration* builtin_programs() {
    return g_head;
}

ProgramRegistrar::ProgramRegistrar(const char* name, const char* description, ProgramMain main)
    : reg_{name, description, main, g_head} {
    g_head = &reg_;
}

}  // namespace toyos

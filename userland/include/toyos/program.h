// Built-in programs: TOYOS_PROGRAM(name, "description") { ... } defines
// `int main(int argc, char** argv)` for a program linked into the toyos binary.
// (An external program is a shared object that defines extern "C" toyos_main instead.)
#pragma once

namespace toyos {

using ProgramMain = int (*)(int argc, char** argv);

struct ProgramRegistration {
    const char* name;
    const char* description;
    ProgramMain main;
    const ProgramRegistration* next;
};

// The built-ins linked into this binary, as a list (registration order is unspecified).
const ProgramRegistration* builtin_programs();

class ProgramRegistrar {
  public:
    ProgramRegistrar(const char* name, const char* description, ProgramMain main);

  private:
    ProgramRegistration reg_;
};

}  // namespace toyos

#define TOYOS_PROGRAM_CONCAT2(a, b) a##b
#define TOYOS_PROGRAM_CONCAT(a, b) TOYOS_PROGRAM_CONCAT2(a, b)
#define TOYOS_PROGRAM(ident, name, description)                                 \
    static int TOYOS_PROGRAM_CONCAT(toyos_prog_, ident)(int argc, char** argv); \
    static ::toyos::ProgramRegistrar TOYOS_PROGRAM_CONCAT(toyos_reg_, ident)(   \
        name, description, &TOYOS_PROGRAM_CONCAT(toyos_prog_, ident));          \
    static int TOYOS_PROGRAM_CONCAT(toyos_prog_, ident)(int argc, char** argv)

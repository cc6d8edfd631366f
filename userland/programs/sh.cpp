// sh: a small shell for demos and test scripts.
//   sh -c 'CMD; CMD & CMD\nCMD'   or   sh SCRIPT
// Commands end at a newline, ';' or '&' ('&' runs it in the background). Words split on
// blanks; '...' and "..." quote; '#' starts a comment. Built-ins: wait, exit [N].
// The exit status is that of the last foreground command (128+N if killed by signal N).
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "toyos/arena.h"
#include "toyos/io.h"
#include "toyos/program.h"

namespace {

using namespace toyos;

struct Command {
    std::vector<std::string> words;
    bool background = false;
};

// Splits a script into commands; false with a message on an unterminated quote.
bool parse(const std::string& text, std::vector<Command>& out) {
    Command cur;
    std::string word;
    bool in_word = false;
    auto end_word = [&] {
        if (in_word) cur.words.push_back(word);
        word.clear();
        in_word = false;
    };
    auto end_command = [&](bool background) {
        end_word();
        cur.background = background;
        if (!cur.words.empty()) out.push_back(cur);
        cur = Command{};
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\'' || c == '"') {
            const size_t close = text.find(c, i + 1);
            if (close == std::string::npos) {
                io::puts(2, "sh: unterminated quote\n");
                return false;
            }
            word.append(text, i + 1, close - i - 1);
            in_word = true;
            i = close;
        } else if (c == '#' && !in_word) {
            while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
        } else if (c == '\n' || c == ';') {
            end_command(false);
        } else if (c == '&') {
            end_command(true);
        } else if (c == ' ' || c == '\t' || c == '\r') {
            end_word();
        } else {
            word += c;
            in_word = true;
        }
    }
    end_command(false);
    return true;
}

int status_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

bool read_script(const char* path, std::string& out) {
    const int fd = sys::open(path, O_RDONLY);
    if (fd < 0) {
        io::printf(2, "sh: %s: %s\n", path, io::error_text(fd));
        return false;
    }
    char buf[8192];
    for (;;) {
        const ssize_t n = sys::read(fd, buf, sizeof(buf));
        if (n < 0) {
            io::printf(2, "sh: %s: %s\n", path, io::error_text(n));
            sys::close(fd);
            return false;
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    sys::close(fd);
    return true;
}

// Runs a command (spawn + optional wait); returns its status code.
int run(const Command& cmd, std::vector<pid_t>& background) {
    const std::string& name = cmd.words[0];
    if (name == "exit") {
        sys::exit(cmd.words.size() > 1 ? std::atoi(cmd.words[1].c_str()) : 0);
    }
    if (name == "wait") {
        int last = 0;
        for (pid_t pid : background) {
            int st = 0;
            if (sys::waitpid(pid, &st, 0) == pid) last = status_code(st);
        }
        background.clear();
        return last;
    }
    // argv must be the process's own memory: build it in an mmap'd arena.
    Arena arena(64 * 1024);
    auto** argv = static_cast<const char**>(arena.alloc((cmd.words.size() + 1) * sizeof(char*)));
    if (argv == nullptr) return 126;
    for (size_t i = 0; i < cmd.words.size(); ++i) argv[i] = arena.strdup(cmd.words[i].c_str());
    argv[cmd.words.size()] = nullptr;
    const pid_t pid = sys::spawn(argv[0], argv);
    if (pid < 0) {
        io::printf(2, "sh: %s: %s\n", name.c_str(),
                   pid == -ENOENT ? "command not found" : io::error_text(pid));
        return 127;
    }
    if (cmd.background) {
        background.push_back(pid);
        return 0;
    }
    int st = 0;
    const pid_t w = sys::waitpid(pid, &st, 0);
    if (w < 0) return 1;
    return status_code(st);
}

}  // namespace

TOYOS_PROGRAM(sh, "sh", "sh -c STRING | sh SCRIPT: run commands (';' '&' newline, wait, exit)") {
    std::string text;
    if (argc >= 2 && std::strcmp(argv[1], "--help") == 0) {
        io::puts(1,
                 "usage: sh -c STRING | sh SCRIPT\n"
                 "  commands end at newline, ';' or '&' (background); built-ins: wait, "
                 "exit [N]\n");
        return 0;
    }
    if (argc >= 3 && std::strcmp(argv[1], "-c") == 0) {
        text = argv[2];
    } else if (argc == 2) {
        if (!read_script(argv[1], text)) return 127;
    } else {
        io::puts(2, "usage: sh -c STRING | sh SCRIPT\n");
        return 2;
    }
    std::vector<Command> cmds;
    if (!parse(text, cmds)) return 2;
    std::vector<pid_t> background;
    int last = 0;
    for (const Command& c : cmds) {
        const int st = run(c, background);
        if (!c.background) last = st;
    }
    // Background jobs nobody waited for are reaped before the shell ends.
    for (pid_t pid : background) {
        int st = 0;
        sys::waitpid(pid, &st, 0);
    }
    return last;
}

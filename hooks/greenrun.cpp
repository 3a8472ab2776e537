// greenrun: runs an unmodified program with green's hook library preloaded — the counterpart of
// `python -m gevent.monkey script.py`. It only prepares the environment (LD_PRELOAD and the
// GREEN_* options) and execs the program; everything else happens inside libgreen_preload.so.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "hook_interface.hpp"

namespace {

namespace rt = green::hooks::rt;

constexpr const char* kLibName = "libgreen_preload.so";

void usage(std::FILE* out) {
    std::fprintf(
        out,
        "usage: greenrun [options] [--] program [args...]\n"
        "Runs program with green's hooks preloaded: blocking sleeps, socket, pipe and file\n"
        "I/O, poll/select/epoll and name lookups become cooperative, and (unless\n"
        "--no-threads) pthreads become fibers on one hub (--hubs N: spread over N).\n"
        "\n"
        "options:\n"
        "  --backend epoll|io_uring  I/O backend (GREEN_BACKEND; default io_uring)\n"
        "  --no-threads              keep real threads; patch I/O only (GREEN_PATCH=io)\n"
        "  --hubs N                  spread the threads over N hubs, one OS thread each\n"
        "                            (1 to 256; GREEN_HUBS; default 1)\n"
        "  --file-io uring|offload|off  regular-file I/O: io_uring operations, the offload\n"
        "                            pool, or plain blocking calls (GREEN_FILE_IO; default\n"
        "                            uring on io_uring, offload on epoll)\n"
        "  --monitor MS              report a fiber that runs MS ms (1 to 3600000) without\n"
        "                            yielding (GREEN_MONITOR_MS)\n"
        "  --stack-size N[k|m|g]     default fiber stack size, 16k to 1g (GREEN_STACK_SIZE)\n"
        "  --dump-signal SIG         print every fiber to stderr on signal SIG (USR2,\n"
        "                            SIGUSR2 or a number; GREEN_DUMP_SIGNAL)\n"
        "  -h, --help                this text\n"
        "  --version                 print greenrun's version\n"
        "environment: GREEN_PRELOAD_LIB overrides the path of %s\n",
        kLibName);
}

[[noreturn]] void fail(const char* fmt, const char* arg) {
    std::fprintf(stderr, "greenrun: ");
    std::fprintf(stderr, fmt, arg);
    std::fprintf(stderr, "\n(greenrun --help for usage)\n");
    std::exit(2);
}

bool exists(const std::string& path) {
    return ::access(path.c_str(), R_OK) == 0;
}

std::string self_dir() {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    std::string p(buf, static_cast<std::size_t>(n));
    const auto slash = p.rfind('/');
    return slash == std::string::npos ? "." : p.substr(0, slash);
}

// Next to greenrun (the build tree), then the install layout (bin/../lib).
std::string find_library() {
    if (const char* forced = ::secure_getenv("GREEN_PRELOAD_LIB"); forced && *forced) {
        if (!exists(forced)) fail("GREEN_PRELOAD_LIB=%s does not exist", forced);
        return forced;
    }
    const std::string dir = self_dir();
    for (const std::string& candidate :
         {dir + "/" + kLibName, dir + "/" GREEN_BIN_TO_LIBDIR "/" + kLibName}) {
        if (exists(candidate)) {
            char real[PATH_MAX];
            return ::realpath(candidate.c_str(), real) ? std::string(real) : candidate;
        }
    }
    fail("cannot find %s next to greenrun or in the install libdir", kLibName);
}

// --stack-size and --monitor take what GREEN_STACK_SIZE and GREEN_MONITOR_MS take (the same
// parsers and limits as the runtime: config_parse.cpp), but a bad flag is refused, not warned
// about: the user is at the keyboard.
void check_stack_size(const std::string& v) {
    std::uint64_t n = 0;
    switch (rt::parse_size(v, rt::kMinStackSize, rt::kMaxStackSize, n)) {
        case rt::ParseError::None:
            return;
        case rt::ParseError::Malformed:
            fail("--stack-size wants bytes with an optional k, m or g suffix, not '%s'", v.c_str());
        case rt::ParseError::TooSmall:
        case rt::ParseError::TooLarge:
            fail("--stack-size %s is out of range (16k to 1g)", v.c_str());
    }
}

void check_monitor(const std::string& v) {
    std::uint64_t n = 0;
    if (rt::parse_count(v, 1, rt::kMaxMonitorMs, n) != rt::ParseError::None)
        fail("--monitor wants milliseconds from 1 to 3600000, not '%s'", v.c_str());
}

void check_hubs(const std::string& v) {
    std::uint64_t n = 0;
    if (rt::parse_count(v, 1, rt::kMaxHubs, n) != rt::ParseError::None)
        fail("--hubs wants a number of hubs from 1 to 256, not '%s'", v.c_str());
}

void set(const char* name, const std::string& value) {
    if (::setenv(name, value.c_str(), 1) != 0) {
        std::perror("greenrun: setenv");
        std::exit(2);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string backend, monitor, stack, dump_signal, file_io, hubs;
    bool no_threads = false;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&](const char* opt) -> std::string {
            if (i + 1 >= argc) fail("%s needs a value", opt);
            return argv[++i];
        };
        if (a == "--") {
            ++i;
            break;
        }
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        }
        if (a == "--version") {
            std::printf("greenrun %s\n", GREEN_VERSION);
            return 0;
        }
        if (a == "--no-threads") {
            no_threads = true;
        } else if (a == "--backend") {
            backend = value("--backend");
            if (backend != "epoll" && backend != "io_uring")
                fail("unknown backend '%s' (epoll or io_uring)", backend.c_str());
        } else if (a == "--file-io") {
            file_io = value("--file-io");
            if (file_io != "uring" && file_io != "offload" && file_io != "off")
                fail("unknown --file-io '%s' (uring, offload or off)", file_io.c_str());
        } else if (a == "--hubs") {
            hubs = value("--hubs");
            check_hubs(hubs);
        } else if (a == "--monitor") {
            monitor = value("--monitor");
            check_monitor(monitor);
        } else if (a == "--dump-signal") {
            dump_signal = value("--dump-signal");
            int signo = 0;
            if (rt::parse_signal(dump_signal, signo) != rt::ParseError::None)
                fail(
                    "--dump-signal wants a signal that can be caught (USR2, SIGUSR2, 12), not "
                    "'%s'",
                    dump_signal.c_str());
        } else if (a == "--stack-size") {
            stack = value("--stack-size");
            check_stack_size(stack);
        } else if (!a.empty() && a[0] == '-') {
            fail("unknown option '%s'", argv[i]);
        } else {
            break;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }

    const std::string lib = find_library();
    std::string preload = lib;
    if (const char* old = std::getenv("LD_PRELOAD"); old && *old) {
        if (std::string_view(old).find(lib) != std::string_view::npos)
            preload = old;
        else
            preload += std::string(":") + old;
    }
    set("LD_PRELOAD", preload);
    if (no_threads) set("GREEN_PATCH", "io");
    if (!backend.empty()) set("GREEN_BACKEND", backend);
    if (!monitor.empty()) set("GREEN_MONITOR_MS", monitor);
    if (!stack.empty()) set("GREEN_STACK_SIZE", stack);
    if (!dump_signal.empty()) set("GREEN_DUMP_SIGNAL", dump_signal);
    if (!file_io.empty()) set("GREEN_FILE_IO", file_io);
    if (!hubs.empty()) set("GREEN_HUBS", hubs);

    ::execvp(argv[i], argv + i);
    const int err = errno;
    std::fprintf(stderr, "greenrun: cannot run '%s': %s\n", argv[i], std::strerror(err));
    return err == ENOENT ? 127 : 126;
}

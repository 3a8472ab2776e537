// Reads every GREEN_* variable once per process into one Config. A value that cannot be used
// gets one line on stderr naming the variable and what is used instead; nothing here
// allocates, so the hooks may read the configuration while they handle a lock.
#include "config.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace green::detail {

namespace {

using Getenv = const char* (*)(const char*);

struct Reader {
    Getenv get;
    int warn_fd;

    // Unset and empty are the same: the default, without a word.
    const char* value(const char* name) const noexcept {
        const char* v = get(name);
        return v && *v ? v : nullptr;
    }

    void warn(const char* name, const char* value, const char* problem,
              const char* used) const noexcept {
        char line[320];
        const int n = std::snprintf(line, sizeof line, "green: %s=%.64s%s %s; using %s\n", name,
                                    value, std::strlen(value) > 64 ? "..." : "", problem, used);
        if (n > 0)
            (void)!::write(warn_fd, line,
                           static_cast<std::size_t>(n) < sizeof line ? n : sizeof line - 1);
    }
};

// 131072 -> "128k": how sizes are written in the warnings and the documentation.
void format_size(std::uint64_t bytes, char* out, std::size_t cap) noexcept {
    if (bytes && bytes % (1u << 30) == 0)
        std::snprintf(out, cap, "%llug", static_cast<unsigned long long>(bytes >> 30));
    else if (bytes && bytes % (1u << 20) == 0)
        std::snprintf(out, cap, "%llum", static_cast<unsigned long long>(bytes >> 20));
    else if (bytes && bytes % (1u << 10) == 0)
        std::snprintf(out, cap, "%lluk", static_cast<unsigned long long>(bytes >> 10));
    else
        std::snprintf(out, cap, "%llu", static_cast<unsigned long long>(bytes));
}

// Returns true and sets `out` when `name` holds a usable size; otherwise warns (if set).
bool read_size(const Reader& r, const char* name, std::uint64_t min, std::uint64_t max,
               const char* used, std::uint64_t& out) noexcept {
    const char* v = r.value(name);
    if (!v) return false;
    switch (parse_size(v, min, max, out)) {
        case ParseError::None:
            return true;
        case ParseError::Malformed:
            r.warn(name, v, "is not a size (digits with an optional k, m or g suffix)", used);
            return false;
        case ParseError::TooSmall:
        case ParseError::TooLarge: {
            char lo[24], hi[24], problem[96];
            format_size(min, lo, sizeof lo);
            format_size(max, hi, sizeof hi);
            std::snprintf(problem, sizeof problem, "is out of range (%s to %s)", lo, hi);
            r.warn(name, v, problem, used);
            return false;
        }
    }
    return false;
}

bool read_count(const Reader& r, const char* name, std::uint64_t min, std::uint64_t max,
                const char* used, std::uint64_t& out) noexcept {
    const char* v = r.value(name);
    if (!v) return false;
    switch (parse_count(v, min, max, out)) {
        case ParseError::None:
            return true;
        case ParseError::Malformed:
            r.warn(name, v, "is not a count (decimal digits)", used);
            return false;
        case ParseError::TooSmall:
        case ParseError::TooLarge: {
            char problem[96];
            std::snprintf(problem, sizeof problem, "is out of range (%llu to %llu)",
                          static_cast<unsigned long long>(min),
                          static_cast<unsigned long long>(max));
            r.warn(name, v, problem, used);
            return false;
        }
    }
    return false;
}

template <class E>
struct Choice {
    const char* text;
    E value;
};

template <class E, std::size_t N>
E read_choice(const Reader& r, const char* name, const Choice<E> (&choices)[N], E fallback,
              const char* problem, const char* used) noexcept {
    const char* v = r.value(name);
    if (!v) return fallback;
    for (const auto& c : choices)
        if (std::strcmp(v, c.text) == 0) return c.value;
    r.warn(name, v, problem, used);
    return fallback;
}

}  // namespace

Config load_config(const char* (*getenv)(const char*), int warn_fd) noexcept {
    const Reader r{getenv, warn_fd};
    Config c;
    std::uint64_t n = 0;

    char def[24];
    format_size(kDefaultStackSize, def, sizeof def);
    if (read_size(r, "GREEN_STACK_SIZE", kMinStackSize, kMaxStackSize, def, n)) {
        c.stack_size = static_cast<std::size_t>(n);
        c.stack_size_set = true;
    }

    static constexpr Choice<BackendChoice> backends[] = {{"epoll", BackendChoice::Epoll},
                                                         {"io_uring", BackendChoice::IoUring}};
    c.backend = read_choice(r, "GREEN_BACKEND", backends, BackendChoice::Auto,
                            "is not a backend (epoll or io_uring)",
                            "io_uring (epoll where io_uring is unavailable)");

    if (read_count(r, "GREEN_OFFLOAD_THREADS", 1, kMaxOffloadThreads, "8", n))
        c.offload_threads = static_cast<std::size_t>(n);

    if (read_count(r, "GREEN_MONITOR_MS", 1, kMaxMonitorMs, "no monitor", n))
        c.monitor_ms = static_cast<std::uint32_t>(n);

    if (read_count(r, "GREEN_GUARD_PAGES", 0, kMaxGuardPages,
                   "the default (a guard page for every stack where the kernel has guard "
                   "regions, else for the first 8192)",
                   n)) {
        c.guard_pages = static_cast<std::size_t>(n);
        c.guard_pages_set = true;
    }

    if (read_count(r, "GREEN_WARM_STACKS", 0, kMaxWarmStacks, "1024", n))
        c.warm_stacks = static_cast<std::size_t>(n);

    static constexpr Choice<PatchChoice> patches[] = {
        {"all", PatchChoice::All}, {"io", PatchChoice::Io}, {"none", PatchChoice::None}};
    c.patch = read_choice(r, "GREEN_PATCH", patches, PatchChoice::Default,
                          "is not one of all, io, none", "the default");

    static constexpr Choice<NetRecvChoice> recvs[] = {{"poll", NetRecvChoice::Poll},
                                                      {"waitfirst", NetRecvChoice::WaitFirst},
                                                      {"op", NetRecvChoice::Op}};
    c.net_recv = read_choice(r, "GREEN_NET_RECV", recvs, NetRecvChoice::Default,
                             "is not one of poll, waitfirst, op", "the backend's default");

    static constexpr Choice<FileIoChoice> file_ios[] = {{"uring", FileIoChoice::Uring},
                                                        {"offload", FileIoChoice::Offload},
                                                        {"off", FileIoChoice::Off}};
    c.file_io = read_choice(r, "GREEN_FILE_IO", file_ios, FileIoChoice::Default,
                            "is not one of uring, offload, off",
                            "the default (uring on io_uring, offload on epoll)");

    static constexpr Choice<bool> stack_modes[] = {{"compact", true}, {"default", false}};
    c.compact_stacks = read_choice(r, "GREEN_STACK_MODE", stack_modes, false,
                                   "is not one of compact, default", "default");

    if (read_count(r, "GREEN_HUBS", 1, kMaxHubs, "1 hub", n)) c.hubs = static_cast<std::size_t>(n);

    if (read_size(r, "GREEN_MAX_MEMORY", kMinMaxMemory, kMaxMaxMemory, "no memory threshold", n))
        c.max_memory = n;

    if (const char* v = r.value("GREEN_DUMP_SIGNAL")) {
        int signo = 0;
        if (parse_signal(v, signo) == ParseError::None)
            c.dump_signal = signo;
        else
            r.warn("GREEN_DUMP_SIGNAL", v, "is not a signal that can be caught (USR2, SIGUSR2, 12)",
                   "no dump signal");
    }
    return c;
}

const char* green_env(const char* name) noexcept {
    return ::secure_getenv(name);
}

const Config& config() noexcept {
    static const Config c = load_config(&green_env, STDERR_FILENO);
    return c;
}

}  // namespace green::detail

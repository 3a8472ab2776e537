// The GREEN_* configuration: the two parsers, one warning line per unusable value naming the
// variable and what is used instead, the values the runtime then uses (config_probe, run with
// each environment), and a setuid program ignoring GREEN_* altogether.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "config.hpp"
#include "support/files.hpp"

extern char** environ;

namespace {

using green::detail::parse_count;
using green::detail::parse_size;
using green::detail::ParseError;

ParseError size_of(const char* text, std::uint64_t& out) {
    return parse_size(text, green::detail::kMinStackSize, green::detail::kMaxStackSize, out);
}

}  // namespace

TEST(ConfigParse, SizesWithSuffixes) {
    std::uint64_t n = 0;
    EXPECT_EQ(size_of("131072", n), ParseError::None);
    EXPECT_EQ(n, 131072u);
    EXPECT_EQ(size_of("64k", n), ParseError::None);
    EXPECT_EQ(n, 64u << 10);
    EXPECT_EQ(size_of("8M", n), ParseError::None);
    EXPECT_EQ(n, 8u << 20);
    EXPECT_EQ(size_of("1g", n), ParseError::None);
    EXPECT_EQ(n, 1u << 30);
    EXPECT_EQ(size_of("16K", n), ParseError::None);
    EXPECT_EQ(n, 16u << 10);
}

TEST(ConfigParse, MalformedSizesAreRejected) {
    std::uint64_t n = 42;
    for (const char* bad : {"", "abc", "-1", "+5", " 5", "5 ", "12q", "1kb", "k", "1.5m", "0x10",
                            "99999999999gg", "1k\n"})
        EXPECT_EQ(size_of(bad, n), ParseError::Malformed) << '"' << bad << '"';
    EXPECT_EQ(n, 42u);  // untouched on failure
}

TEST(ConfigParse, OutOfRangeSizesAreRejected) {
    std::uint64_t n = 42;
    EXPECT_EQ(size_of("1023", n), ParseError::TooSmall);
    EXPECT_EQ(size_of("15k", n), ParseError::TooSmall);
    EXPECT_EQ(size_of("0", n), ParseError::TooSmall);
    EXPECT_EQ(size_of("1025m", n), ParseError::TooLarge);
    EXPECT_EQ(size_of("999999g", n), ParseError::TooLarge);
    EXPECT_EQ(size_of("99999999999g", n), ParseError::TooLarge);          // past 2^64 after g
    EXPECT_EQ(size_of("1152921504606846976", n), ParseError::TooLarge);   // 2^60
    EXPECT_EQ(size_of("18446744073709551616", n), ParseError::TooLarge);  // 2^64: overflows
    EXPECT_EQ(size_of("99999999999999999999999k", n), ParseError::TooLarge);
    EXPECT_EQ(n, 42u);
}

TEST(ConfigParse, Counts) {
    std::uint64_t n = 0;
    EXPECT_EQ(parse_count("8", 1, 1024, n), ParseError::None);
    EXPECT_EQ(n, 8u);
    EXPECT_EQ(parse_count("0", 1, 1024, n), ParseError::TooSmall);
    EXPECT_EQ(parse_count("1025", 1, 1024, n), ParseError::TooLarge);
    EXPECT_EQ(parse_count("-3", 1, 1024, n), ParseError::Malformed);
    EXPECT_EQ(parse_count("abc", 1, 1024, n), ParseError::Malformed);
    EXPECT_EQ(parse_count("4k", 1, 1024, n), ParseError::Malformed);  // counts take no suffix
    EXPECT_EQ(parse_count("", 0, 10, n), ParseError::Malformed);
    EXPECT_EQ(parse_count("0", 0, 10, n), ParseError::None);
    EXPECT_EQ(n, 0u);
}

// ---- load_config with a fake environment ---------------------------------------------------

namespace {

std::map<std::string, std::string> g_fake_env;

const char* fake_getenv(const char* name) {
    auto it = g_fake_env.find(name);
    return it == g_fake_env.end() ? nullptr : it->second.c_str();
}

struct Loaded {
    green::detail::Config config;
    std::vector<std::string> warnings;
};

Loaded load(std::map<std::string, std::string> env) {
    g_fake_env = std::move(env);
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    Loaded r;
    r.config = green::detail::load_config(&fake_getenv, fds[1]);
    ::close(fds[1]);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
    ::close(fds[0]);
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) r.warnings.push_back(line);
    return r;
}

// One line naming the variable and its value, and what is used instead.
void expect_one_warning(const Loaded& r, const std::string& var_eq_value, const std::string& used) {
    ASSERT_EQ(r.warnings.size(), 1u) << var_eq_value;
    const std::string& w = r.warnings[0];
    EXPECT_EQ(w.rfind("green: " + var_eq_value + " ", 0), 0u) << w;
    EXPECT_NE(w.find("; using " + used), std::string::npos) << w;
}

}  // namespace

TEST(ConfigLoad, DefaultsWithoutAWord) {
    auto r = load({});
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(r.config.stack_size, green::detail::kDefaultStackSize);
    EXPECT_FALSE(r.config.stack_size_set);
    EXPECT_EQ(r.config.backend, green::detail::BackendChoice::Auto);
    EXPECT_EQ(r.config.offload_threads, 8u);
    EXPECT_EQ(r.config.monitor_ms, 0u);
    EXPECT_FALSE(r.config.guard_pages_set);
    EXPECT_EQ(r.config.warm_stacks, 1024u);
    EXPECT_EQ(r.config.patch, green::detail::PatchChoice::Default);
    EXPECT_EQ(r.config.net_recv, green::detail::NetRecvChoice::Default);
    EXPECT_EQ(r.config.file_io, green::detail::FileIoChoice::Default);
    EXPECT_EQ(r.config.max_memory, 0u);
    // Empty is unset too.
    r = load({{"GREEN_STACK_SIZE", ""}, {"GREEN_BACKEND", ""}});
    EXPECT_TRUE(r.warnings.empty());
}

TEST(ConfigLoad, GoodValues) {
    auto r = load({{"GREEN_STACK_SIZE", "256k"},
                   {"GREEN_BACKEND", "epoll"},
                   {"GREEN_OFFLOAD_THREADS", "3"},
                   {"GREEN_MONITOR_MS", "250"},
                   {"GREEN_GUARD_PAGES", "0"},
                   {"GREEN_WARM_STACKS", "16"},
                   {"GREEN_PATCH", "io"},
                   {"GREEN_NET_RECV", "poll"},
                   {"GREEN_FILE_IO", "offload"},
                   {"GREEN_MAX_MEMORY", "512m"}});
    EXPECT_TRUE(r.warnings.empty());
    EXPECT_EQ(r.config.stack_size, 256u << 10);
    EXPECT_TRUE(r.config.stack_size_set);
    EXPECT_EQ(r.config.backend, green::detail::BackendChoice::Epoll);
    EXPECT_EQ(r.config.offload_threads, 3u);
    EXPECT_EQ(r.config.monitor_ms, 250u);
    EXPECT_TRUE(r.config.guard_pages_set);
    EXPECT_EQ(r.config.guard_pages, 0u);
    EXPECT_EQ(r.config.warm_stacks, 16u);
    EXPECT_EQ(r.config.patch, green::detail::PatchChoice::Io);
    EXPECT_EQ(r.config.net_recv, green::detail::NetRecvChoice::Poll);
    EXPECT_EQ(r.config.file_io, green::detail::FileIoChoice::Offload);
    EXPECT_EQ(r.config.max_memory, 512u << 20);
    EXPECT_EQ(load({{"GREEN_FILE_IO", "uring"}}).config.file_io,
              green::detail::FileIoChoice::Uring);
    EXPECT_EQ(load({{"GREEN_FILE_IO", "off"}}).config.file_io, green::detail::FileIoChoice::Off);
}

TEST(ConfigLoad, BadStackSizes) {
    for (const char* bad :
         {"abc", "-1", "999999g", "99999999999g", "1152921504606846976", "12q", "1000"}) {
        auto r = load({{"GREEN_STACK_SIZE", bad}});
        expect_one_warning(r, std::string("GREEN_STACK_SIZE=") + bad, "128k");
        EXPECT_EQ(r.config.stack_size, green::detail::kDefaultStackSize) << bad;
        EXPECT_FALSE(r.config.stack_size_set);
    }
    auto r = load({{"GREEN_STACK_SIZE", "999999g"}});
    EXPECT_NE(r.warnings[0].find("out of range (16k to 1g)"), std::string::npos);
}

TEST(ConfigLoad, BadCounts) {
    for (const char* bad : {"0", "-3", "abc", "1025", "8x"}) {
        auto r = load({{"GREEN_OFFLOAD_THREADS", bad}});
        expect_one_warning(r, std::string("GREEN_OFFLOAD_THREADS=") + bad, "8");
        EXPECT_EQ(r.config.offload_threads, 8u);
    }
    for (const char* bad : {"-5", "0", "abc", "3600001"}) {
        auto r = load({{"GREEN_MONITOR_MS", bad}});
        expect_one_warning(r, std::string("GREEN_MONITOR_MS=") + bad, "no monitor");
        EXPECT_EQ(r.config.monitor_ms, 0u);
    }
    for (const char* bad : {"-1", "x", "5000000000"}) {
        auto r = load({{"GREEN_GUARD_PAGES", bad}});
        expect_one_warning(r, std::string("GREEN_GUARD_PAGES=") + bad, "the default");
        EXPECT_FALSE(r.config.guard_pages_set);
    }
    for (const char* bad : {"x", "-1"}) {
        auto r = load({{"GREEN_WARM_STACKS", bad}});
        expect_one_warning(r, std::string("GREEN_WARM_STACKS=") + bad, "1024");
        EXPECT_EQ(r.config.warm_stacks, 1024u);
    }
    for (const char* bad : {"abc", "0", "-1", "9999", "257"}) {
        auto r = load({{"GREEN_HUBS", bad}});
        expect_one_warning(r, std::string("GREEN_HUBS=") + bad, "1 hub");
        EXPECT_EQ(r.config.hubs, 1u);
    }
}

TEST(ConfigLoad, Hubs) {
    EXPECT_EQ(load({}).config.hubs, 1u);
    EXPECT_EQ(load({{"GREEN_HUBS", "2"}}).config.hubs, 2u);
    EXPECT_EQ(load({{"GREEN_HUBS", "256"}}).config.hubs, 256u);
}

TEST(ConfigLoad, BadMemoryThresholds) {
    for (const char* bad : {"abc", "-1", "512", "1023k", "65537g", "99999999999g", "2mb"}) {
        auto r = load({{"GREEN_MAX_MEMORY", bad}});
        expect_one_warning(r, std::string("GREEN_MAX_MEMORY=") + bad, "no memory threshold");
        EXPECT_EQ(r.config.max_memory, 0u) << bad;
    }
    auto r = load({{"GREEN_MAX_MEMORY", "512"}});
    EXPECT_NE(r.warnings[0].find("out of range (1m to 65536g)"), std::string::npos)
        << r.warnings[0];
    EXPECT_EQ(load({{"GREEN_MAX_MEMORY", "1m"}}).config.max_memory, 1u << 20);
    EXPECT_EQ(load({{"GREEN_MAX_MEMORY", "2G"}}).config.max_memory, std::uint64_t{2} << 30);
}

TEST(ConfigLoad, BadChoices) {
    for (const char* bad : {"foo", "garbage", "EPOLL", "io-uring"}) {
        auto r = load({{"GREEN_BACKEND", bad}});
        expect_one_warning(r, std::string("GREEN_BACKEND=") + bad, "io_uring");
        EXPECT_EQ(r.config.backend, green::detail::BackendChoice::Auto);
    }
    auto r = load({{"GREEN_PATCH", "threads"}});
    expect_one_warning(r, "GREEN_PATCH=threads", "the default");
    EXPECT_EQ(r.config.patch, green::detail::PatchChoice::Default);
    r = load({{"GREEN_NET_RECV", "fast"}});
    expect_one_warning(r, "GREEN_NET_RECV=fast", "the backend's default");
    EXPECT_EQ(r.config.net_recv, green::detail::NetRecvChoice::Default);
    for (const char* bad : {"io_uring", "URING", "threads", "0"}) {
        r = load({{"GREEN_FILE_IO", bad}});
        expect_one_warning(r, std::string("GREEN_FILE_IO=") + bad,
                           "the default (uring on io_uring");
        EXPECT_EQ(r.config.file_io, green::detail::FileIoChoice::Default) << bad;
    }
}

TEST(ConfigLoad, StackMode) {
    EXPECT_FALSE(load({}).config.compact_stacks);
    EXPECT_TRUE(load({{"GREEN_STACK_MODE", "compact"}}).config.compact_stacks);
    EXPECT_FALSE(load({{"GREEN_STACK_MODE", "default"}}).config.compact_stacks);
    for (const char* bad : {"Compact", "copy", "1", "compact "}) {
        auto r = load({{"GREEN_STACK_MODE", bad}});
        expect_one_warning(r, std::string("GREEN_STACK_MODE=") + bad, "default");
        EXPECT_FALSE(r.config.compact_stacks) << bad;
    }
}

TEST(ConfigLoad, OneLinePerBadVariableAndLongValuesCut) {
    auto r = load({{"GREEN_STACK_SIZE", "abc"},
                   {"GREEN_BACKEND", "foo"},
                   {"GREEN_OFFLOAD_THREADS", "0"},
                   {"GREEN_MONITOR_MS", "-5"},
                   {"GREEN_GUARD_PAGES", "-1"},
                   {"GREEN_WARM_STACKS", "x"}});
    EXPECT_EQ(r.warnings.size(), 6u);
    r = load({{"GREEN_STACK_SIZE", std::string(5000, '9')}});
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_LT(r.warnings[0].size(), 300u);
    EXPECT_NE(r.warnings[0].find("999... is out of range"), std::string::npos) << r.warnings[0];
}

// ---- the runtime with each environment (config_probe in a child process) -------------------

namespace {

struct ProbeRun {
    std::map<std::string, std::string> values;
    std::string err;
    int status = -1;
};

// Runs `argv` (the probe, possibly behind setpriv) with this process's environment minus
// GREEN_* and LD_PRELOAD (a setuid program would complain about it), plus `env`.
ProbeRun run(std::vector<std::string> argv, const std::vector<std::string>& env) {
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e)
        if (std::strncmp(*e, "GREEN_", 6) != 0 && std::strncmp(*e, "LD_PRELOAD=", 11) != 0)
            envs.emplace_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> envp, args;
    for (auto& s : envs) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (auto& s : argv) args.push_back(s.data());
    args.push_back(nullptr);

    char dir[] = "/tmp/green_config_XXXXXX";
    EXPECT_NE(::mkdtemp(dir), nullptr);
    const std::string out = std::string(dir) + "/out", err = std::string(dir) + "/err";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    ProbeRun r;
    if (::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data()) == 0)
        ::waitpid(pid, &r.status, 0);
    posix_spawn_file_actions_destroy(&fa);
    std::istringstream lines(green_test::read_file(out));
    for (std::string line; std::getline(lines, line);) {
        const auto eq = line.find('=');
        if (eq != std::string::npos) r.values[line.substr(0, eq)] = line.substr(eq + 1);
    }
    r.err = green_test::read_file(err);
    ::unlink(out.c_str());
    ::unlink(err.c_str());
    ::rmdir(dir);
    return r;
}

ProbeRun probe(const std::vector<std::string>& env) {
    return run({GREEN_CONFIG_PROBE}, env);
}

int count_lines(const std::string& s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

TEST(ConfigProcess, DefaultsAreSilent) {
    auto r = probe({});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.values["default_stack_size"], "131072");
    EXPECT_EQ(r.values["offload_threads"], "8");
    EXPECT_EQ(r.values["fiber_guarded"], "1");
}

TEST(ConfigProcess, GoodValuesTakeEffect) {
    auto r = probe({"GREEN_STACK_SIZE=1m", "GREEN_BACKEND=epoll", "GREEN_OFFLOAD_THREADS=3",
                    "GREEN_GUARD_PAGES=0", "GREEN_MAX_MEMORY=3g"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_EQ(r.values["default_stack_size"], "1048576");
    EXPECT_EQ(r.values["backend"], "epoll");
    EXPECT_EQ(r.values["offload_threads"], "3");
    EXPECT_EQ(r.values["fiber_guarded"], "0");
    EXPECT_EQ(r.values["memory_threshold"], "3221225472");  // the runtime watches it
}

TEST(ConfigProcess, EachBadValueGetsOneLineAndTheDefault) {
    struct Case {
        const char* env;
        const char* key;
        const char* expect;
    } cases[] = {
        {"GREEN_STACK_SIZE=abc", "default_stack_size", "131072"},
        {"GREEN_STACK_SIZE=-1", "default_stack_size", "131072"},
        {"GREEN_STACK_SIZE=999999g", "default_stack_size", "131072"},
        {"GREEN_STACK_SIZE=99999999999g", "default_stack_size", "131072"},
        {"GREEN_OFFLOAD_THREADS=0", "offload_threads", "8"},
        {"GREEN_OFFLOAD_THREADS=-3", "offload_threads", "8"},
        {"GREEN_OFFLOAD_THREADS=abc", "offload_threads", "8"},
        {"GREEN_MONITOR_MS=-5", "monitor_ms", "0"},
        {"GREEN_GUARD_PAGES=-1", "guard_pages", "default:0"},
        {"GREEN_WARM_STACKS=x", "warm_stacks", "1024"},
        {"GREEN_MAX_MEMORY=12q", "memory_threshold", "0"},
        {"GREEN_MAX_MEMORY=100", "memory_threshold", "0"},
    };
    for (const auto& c : cases) {
        auto r = probe({c.env});
        ASSERT_EQ(r.status, 0) << c.env << ": " << r.err;
        EXPECT_EQ(count_lines(r.err), 1) << c.env << ": " << r.err;
        EXPECT_EQ(r.err.rfind(std::string("green: ") + c.env + " ", 0), 0u) << r.err;
        EXPECT_NE(r.err.find("; using "), std::string::npos) << r.err;
        EXPECT_EQ(r.values[c.key], c.expect) << c.env;
    }
}

// GREEN_BACKEND=garbage used to mean io_uring silently; now it says so, and the hub runs on
// the default backend.
TEST(ConfigProcess, UnknownBackendIsNamed) {
    for (const char* bad : {"GREEN_BACKEND=foo", "GREEN_BACKEND=garbage"}) {
        auto r = probe({bad});
        ASSERT_EQ(r.status, 0) << r.err;
        EXPECT_EQ(r.err.rfind(std::string("green: ") + bad + " is not a backend", 0), 0u) << r.err;
        const auto& backend = r.values["backend"];
        EXPECT_TRUE(backend == "io_uring" || backend == "epoll") << backend;
    }
}

// A setuid program must not take GREEN_* from whoever runs it (nor crash on a hostile value).
TEST(ConfigProcess, SetuidProgramIgnoresTheEnvironment) {
    if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0)
        GTEST_SKIP() << "needs root and setpriv to run a setuid program as another user";
    char dir[] = "/tmp/green_setuid_XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    ::chmod(dir, 0755);
    const std::string copy = std::string(dir) + "/config_probe";
    {
        std::ifstream in(GREEN_CONFIG_PROBE, std::ios::binary);
        std::ofstream out(copy, std::ios::binary);
        out << in.rdbuf();
    }
    ASSERT_EQ(::chmod(copy.c_str(), 04755), 0);
    auto r = run({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copy},
                 {"GREEN_STACK_SIZE=1m", "GREEN_OFFLOAD_THREADS=abc"});
    ::unlink(copy.c_str());
    ::rmdir(dir);
    if (r.values["at_secure"] != "1")
        GTEST_SKIP() << "setuid bit not honoured here (nosuid mount?): " << r.err;
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.values["default_stack_size"], "131072");
    EXPECT_EQ(r.values["offload_threads"], "8");
    EXPECT_EQ(r.err, "");  // ignored, not even read: no warning either
}

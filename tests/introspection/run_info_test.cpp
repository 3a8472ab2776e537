// format_run_info: every fiber of the hub, with its state, what it waits for, who spawned it.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <alloca.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "config.hpp"
#include "support/command.hpp"
#include "support/pipe.hpp"

using namespace std::chrono_literals;

namespace {

// The line of the fiber named `name` (quoted as the dump quotes it), or "".
std::string line_of(const std::string& dump, const std::string& name) {
    const auto at = dump.find("'" + name + "'");
    if (at == std::string::npos) return "";
    const auto begin = dump.rfind('\n', at);
    const auto end = dump.find('\n', at);
    return dump.substr(begin == std::string::npos ? 0 : begin + 1,
                       end == std::string::npos ? std::string::npos : end - begin - 1);
}

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// The "deepest" figure of a dump line, in KiB (-1 when absent); `bound` says whether it was
// "at most" (a reused stack).
double deepest_kib(const std::string& line, bool* bound = nullptr) {
    const auto at = line.find(", deepest ");
    if (at == std::string::npos) return -1;
    std::string rest = line.substr(at + 10);
    const bool at_most = rest.rfind("at most ", 0) == 0;
    if (bound) *bound = at_most;
    if (at_most) rest = rest.substr(8);
    return std::stod(rest);
}

// Recurses `n` frames of at least 1 KiB each. alloca, not an array: AddressSanitizer may move
// an array to its fake stack, but never an alloca.
[[gnu::noinline]] int recurse(int n) {
    volatile char* buf = static_cast<volatile char*>(alloca(1024));
    buf[0] = static_cast<char>(n | 1);
    buf[1023] = 1;
    if (n == 0) return buf[0];
    return recurse(n - 1) + buf[1023];
}

green::SpawnOptions named(const char* name) {
    green::SpawnOptions o;
    o.name = name;
    return o;
}

}  // namespace

TEST(RunInfo, NamesEveryParkedFiberWithItsReason) {
    green_test::Pipe pipe;
    green::Event event;
    green::Lock lock;
    green::Queue<int> queue;
    lock.acquire();
    auto sleeper = green::spawn(named("sleeper"), [] { green::sleep(60s); });
    auto reader = green::spawn(named("reader"), [&] { green::wait_fd(pipe.r, POLLIN); });
    auto waiter = green::spawn(named("event-waiter"), [&] { event.wait(); });
    auto locker = green::spawn(named("locker"), [&] {
        lock.acquire();
        lock.release();
    });
    auto getter = green::spawn(named("getter"), [&] { (void)queue.get(); });
    auto joiner = green::spawn(named("joiner"), [&] {
        auto child = green::spawn(named("child"), [&] { event.wait(); });
        child.join();
    });
    green::sleep(20ms);  // every one parks

    const std::string dump = green::format_run_info();
    SCOPED_TRACE(dump);
    EXPECT_TRUE(has(dump, "Hub on thread "));
    const std::string main_line = line_of(dump, "main");
    EXPECT_TRUE(has(main_line, "running")) << main_line;

    const struct {
        const char* name;
        const char* reason;
    } expected[] = {{"sleeper", ": sleep"}, {"reader", ": io fd "},    {"event-waiter", ": event"},
                    {"locker", ": lock"},   {"getter", ": queue get"}, {"joiner", ": join"},
                    {"child", ": event"}};
    for (const auto& e : expected) {
        const std::string l = line_of(dump, e.name);
        EXPECT_TRUE(has(l, " parked for ")) << e.name << ": " << l;
        EXPECT_TRUE(has(l, e.reason)) << e.name << ": " << l;
        EXPECT_TRUE(has(l, "; stack ")) << e.name << ": " << l;
    }
    EXPECT_TRUE(has(line_of(dump, "reader"), "fd " + std::to_string(pipe.r) + " in"));
    EXPECT_TRUE(has(line_of(dump, "sleeper"), "deadline in "));
    EXPECT_EQ(line_of(dump, "sleeper").rfind("  #", 0), 0u);
    for (const char* n : {"sleeper", "reader", "event-waiter", "locker", "getter", "joiner"})
        EXPECT_TRUE(has(line_of(dump, n), "spawned by main")) << n;
    const std::string joiner_line = line_of(dump, "joiner");
    const std::string joiner_id = joiner_line.substr(2, joiner_line.find(' ', 2) - 2);  // "#N"
    EXPECT_TRUE(has(line_of(dump, "child"), "spawned by " + joiner_id + ";")) << joiner_id;

    // Wake them all; once reaped they are no longer listed.
    event.set();
    lock.release();
    queue.put(1);
    sleeper.kill();
    reader.kill();
    green::joinall({sleeper, reader, waiter, locker, getter, joiner}, 5s);
    const std::string after = green::format_run_info();
    EXPECT_EQ(line_of(after, "sleeper"), "") << after;
    EXPECT_EQ(line_of(after, "child"), "") << after;
}

TEST(RunInfo, RunnableAndCreatedFibers) {
    auto later = green::spawn_later(named("later"), 60s, [] {});
    auto queued = green::spawn(named("queued"), [] {});
    const std::string dump = green::format_run_info();
    SCOPED_TRACE(dump);
    EXPECT_TRUE(has(line_of(dump, "queued"), " runnable"));
    EXPECT_TRUE(has(line_of(dump, "later"), " created"));
    later.kill();
    queued.join();
}

TEST(RunInfo, TenThousandParkedFibers) {
    green::Event go;
    std::vector<green::Greenlet<void>> fibers;
    for (int i = 0; i < 10000; ++i) fibers.push_back(green::spawn([&] { go.wait(); }));
    green::sleep(10ms);
    const std::string dump = green::format_run_info();
    std::size_t parked = 0;
    for (std::size_t at = dump.find(": event"); at != std::string::npos;
         at = dump.find(": event", at + 1))
        ++parked;
    EXPECT_EQ(parked, 10000u);
    go.set();
    for (auto& g : fibers) g.join();
}

TEST(RunInfo, ListsOtherHubs) {
    std::atomic<bool> stop{false};
    std::thread t([&] {
        auto g = green::spawn(named("on-other-hub"), [&] {
            while (!stop.load()) green::sleep(2ms);
        });
        g.join();
    });
    std::string dump;
    for (int i = 0; i < 200 && !has(line_of(dump, "on-other-hub"), ": sleep"); ++i) {
        green::sleep(5ms);
        dump = green::format_run_info();
    }
    EXPECT_TRUE(has(line_of(dump, "on-other-hub"), ": sleep")) << dump;
    EXPECT_NE(dump.find("Hub on thread", dump.find("Hub on thread") + 1), std::string::npos)
        << dump;  // two hubs
    stop = true;
    t.join();
}

TEST(RunInfo, PrintRunInfoWritesTheDump) {
    auto g = green::spawn(named("printed"), [] { green::sleep(60s); });
    green::sleep(1ms);
    char* buf = nullptr;
    std::size_t len = 0;
    FILE* f = ::open_memstream(&buf, &len);
    ASSERT_NE(f, nullptr);
    green::print_run_info(f);
    std::fclose(f);
    const std::string text(buf, len);
    std::free(buf);
    EXPECT_TRUE(has(line_of(text, "printed"), ": sleep")) << text;
    g.kill();
}

TEST(RunInfo, DumpSignalPrintsAndTheProgramContinues) {
    const auto r = green_test::run_command(std::string("GREEN_DUMP_SIGNAL=USR2 ") +
                                           GREEN_DUMP_PROGRAM + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(has(line_of(r.out, "dump-sleeper"), ": sleep")) << r.out;
    EXPECT_TRUE(has(line_of(r.out, "dump-waiter"), ": event")) << r.out;
    EXPECT_TRUE(has(r.out, "still running")) << r.out;
}

TEST(RunInfo, DumpSignalByNumber) {
    const auto r = green_test::run_command("GREEN_DUMP_SIGNAL=" + std::to_string(SIGUSR2) + " " +
                                           GREEN_DUMP_PROGRAM + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(has(r.out, "'dump-sleeper'")) << r.out;
}

TEST(RunInfo, TheProgramsOwnHandlerIsKept) {
    const auto r = green_test::run_command(std::string("GREEN_DUMP_SIGNAL=SIGUSR2 ") +
                                           GREEN_DUMP_PROGRAM + " own 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(has(r.out, "still running, own handler ran")) << r.out;
    EXPECT_FALSE(has(r.out, "'dump-sleeper'")) << r.out;
}

TEST(RunInfo, ParseSignal) {
    using green::detail::parse_signal;
    using green::detail::ParseError;
    int s = 0;
    EXPECT_EQ(parse_signal("USR2", s), ParseError::None);
    EXPECT_EQ(s, SIGUSR2);
    EXPECT_EQ(parse_signal("sigusr1", s), ParseError::None);
    EXPECT_EQ(s, SIGUSR1);
    EXPECT_EQ(parse_signal("SIGQUIT", s), ParseError::None);
    EXPECT_EQ(s, SIGQUIT);
    EXPECT_EQ(parse_signal("12", s), ParseError::None);
    EXPECT_EQ(s, 12);
    EXPECT_EQ(parse_signal("9", s), ParseError::TooLarge);
    EXPECT_EQ(parse_signal("KILL", s), ParseError::TooLarge);
    EXPECT_EQ(parse_signal("0", s), ParseError::TooSmall);
    EXPECT_EQ(parse_signal("USR3", s), ParseError::Malformed);
    EXPECT_EQ(parse_signal("", s), ParseError::Malformed);
    EXPECT_EQ(parse_signal("SIG", s), ParseError::Malformed);
}

TEST(RunInfo, MoreWaitReasons) {
    green::AsyncResult<int> result;
    green::Semaphore sem(0);
    green::Queue<int> full(1);
    full.put(1);
    green::Event release_offload;
    auto a = green::spawn(named("result-getter"), [&] { (void)result.get(); });
    auto s = green::spawn(named("sem-acquirer"), [&] { sem.acquire(); });
    auto p = green::spawn(named("putter"), [&] { full.put(2); });
    std::atomic<bool> offload_go{false};
    auto o = green::spawn(named("offloader"), [&] {
        green::offload([&] {
            while (!offload_go.load()) std::this_thread::sleep_for(1ms);
        });
    });
    green::sleep(20ms);
    const std::string dump = green::format_run_info();
    SCOPED_TRACE(dump);
    EXPECT_TRUE(has(line_of(dump, "result-getter"), ": async result"));
    EXPECT_TRUE(has(line_of(dump, "sem-acquirer"), ": semaphore"));
    EXPECT_TRUE(has(line_of(dump, "putter"), ": queue put"));
    EXPECT_TRUE(has(line_of(dump, "offloader"), ": offload"));
    result.set(1);
    sem.release();
    (void)full.get();
    offload_go = true;
    green::joinall({a, s, p, o}, 5s);
}

TEST(RunInfo, ForkedChildListsOnlyItsOwnHub) {
    std::atomic<bool> stop{false};
    std::thread t([&] {
        auto g = green::spawn(named("parent-thread-fiber"), [&] {
            while (!stop.load()) green::sleep(2ms);
        });
        g.join();
    });
    auto g = green::spawn(named("forking-hub-fiber"), [] { green::sleep(60s); });
    green::sleep(10ms);
    const pid_t pid = ::fork();
    if (pid == 0) {
        const std::string dump = green::format_run_info();
        const bool one_hub =
            dump.find("Hub on thread", dump.find("Hub on thread") + 1) == std::string::npos;
        const bool ok = one_hub && has(dump, "'forking-hub-fiber'") &&
                        !has(dump, "parent-thread-fiber") && !has(dump, "did not answer");
        ::_exit(ok ? 0 : 1);
    }
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
    stop = true;
    t.join();
    g.kill();
}

// Deepest stack use per fiber: a fiber that recursed 48 KiB deep and returned shows it, one that
// did not shows a few KiB. A fiber on a stack an earlier fiber used, with no dump in between,
// gets an "at most" figure that includes the leftovers; a dump zeroes the free stacks, so the
// next fiber on that stack shows its own figure again. On a thread of its own: a fresh hub and
// stack pool, so which stack each spawn takes (LIFO) is known.
TEST(RunInfo, DeepestStackUseIsEachFibersOwn) {
    std::atomic<bool> done{false};
    std::thread t([&] {
        green::Event go;
        auto deep = green::spawn(named("deep"), [&] {
            (void)recurse(48);
            go.wait();
        });
        auto shallow = green::spawn(named("shallow"), [&] { go.wait(); });
        green::sleep(10ms);
        std::string dump = green::format_run_info();
        bool bound = true;
        EXPECT_GE(deepest_kib(line_of(dump, "deep"), &bound), 48.0) << dump;
        EXPECT_FALSE(bound) << dump;
        const double own = deepest_kib(line_of(dump, "shallow"), &bound);
        EXPECT_GT(own, 0.0) << dump;
        EXPECT_LT(own, 16.0) << dump;
        EXPECT_FALSE(bound) << dump;

        // shallow's stack, then deep's, go back to the pool; the next spawn takes deep's.
        shallow.kill();
        shallow.join();
        go.set();
        deep.join();
        green::Event stop;
        auto reuser = green::spawn(named("reuser"), [&] { stop.wait(); });
        green::sleep(10ms);
        dump = green::format_run_info();
        EXPECT_GE(deepest_kib(line_of(dump, "reuser"), &bound), 48.0) << dump;
        EXPECT_TRUE(bound) << dump;
        EXPECT_TRUE(has(line_of(dump, "reuser"), "(reused stack)")) << dump;

        // That stack again, after a dump cleaned it while it was free.
        reuser.kill();
        reuser.join();
        (void)green::format_run_info();
        auto later = green::spawn(named("later"), [&] { stop.wait(); });
        green::sleep(10ms);
        dump = green::format_run_info();
        const double again = deepest_kib(line_of(dump, "later"), &bound);
        EXPECT_GT(again, 0.0) << dump;
        EXPECT_LT(again, 16.0) << dump;
        EXPECT_FALSE(bound) << dump;
        later.kill();
        later.join();
        done = true;
    });
    // This thread's hub keeps turning, so it answers the other thread's dumps at once.
    for (int i = 0; i < 30000 && !done.load(); ++i) green::sleep(1ms);
    t.join();
}

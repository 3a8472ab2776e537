// Backtraces in the run info: every fiber that is not running is unwound from its saved context
// and its frames are named (function, file:line), the waiting user function among them.
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "support/command.hpp"
#include "support/pipe.hpp"

using namespace std::chrono_literals;

namespace {

bool has(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// The fiber line of `name` and the backtrace lines under it.
std::string section_of(const std::string& dump, const std::string& name) {
    const auto at = dump.find("'" + name + "'");
    if (at == std::string::npos) return "";
    const auto begin = dump.rfind('\n', at) + 1;
    auto end = dump.find('\n', at);
    while (end != std::string::npos && dump.compare(end + 1, 5, "    #") == 0)
        end = dump.find('\n', end + 1);
    return dump.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
}

green::SpawnOptions named(const char* name) {
    green::SpawnOptions o;
    o.name = name;
    return o;
}

// The user functions that wait: each must appear in its fiber's backtrace.
[[gnu::noinline]] void waits_for_event(green::Event& e) {
    e.wait();
    asm volatile("");  // not a tail call
}
[[gnu::noinline]] void sleeps_a_minute() {
    green::sleep(60s);
    asm volatile("");
}
[[gnu::noinline]] void naps() {
    green::sleep(2ms);
    asm volatile("");
}
[[gnu::noinline]] void reads_the_pipe(int fd) {
    green::wait_fd(fd, POLLIN);
    asm volatile("");
}
[[gnu::noinline]] void takes_the_lock(green::Lock& lock) {
    lock.acquire();
    lock.release();
    asm volatile("");
}
[[gnu::noinline]] void main_joins(green::Greenlet<void>& g) {
    g.join();
    asm volatile("");
}

// Forced into its caller, at any optimisation level: a fiber parked here has no frame of its
// own, only the caller's with an inlined call in its debug information.
[[gnu::always_inline]] inline void forced_inline_wait(green::Event& e) {
    e.wait();
}
constexpr int kInlinedCallLine = __LINE__ + 2;  // the line of the call below
[[gnu::noinline]] void noinline_caller(green::Event& e) {
    forced_inline_wait(e);
    asm volatile("");
}

// A compact fiber parked two calls deep: its backtrace must walk both frames out of the heap
// copy its stack is kept in while it is switched out.
[[gnu::noinline]] void compact_caller_of_wait(green::Event& e) {
    waits_for_event(e);
    asm volatile("");
}

green::SpawnOptions compact_named(const char* name) {
    green::SpawnOptions o = named(name);
    o.stack_mode = green::StackMode::Compact;
    return o;
}

// The line of `dump` that contains `part`, from `from` on; empty if none.
std::string line_with(const std::string& dump, const std::string& part, std::size_t from = 0) {
    const auto at = dump.find(part, from);
    if (at == std::string::npos) return "";
    const auto begin = dump.rfind('\n', at) + 1;
    return dump.substr(begin, dump.find('\n', at) - begin);
}

}  // namespace

TEST(Backtrace, EveryParkedFiberShowsTheFunctionThatWaits) {
    green_test::Pipe pipe;
    green::Event event;
    green::Lock lock;
    lock.acquire();
    auto a = green::spawn(named("bt-event"), [&] { waits_for_event(event); });
    auto b = green::spawn(named("bt-sleep"), [] { sleeps_a_minute(); });
    auto c = green::spawn(named("bt-pipe"), [&] { reads_the_pipe(pipe.r); });
    auto d = green::spawn(named("bt-lock"), [&] { takes_the_lock(lock); });
    green::sleep(20ms);
    const std::string dump = green::format_run_info();
    SCOPED_TRACE(dump);
    ASSERT_FALSE(has(dump, "no backtraces")) << dump;
    const struct {
        const char* fiber;
        const char* function;
    } expected[] = {{"bt-event", "waits_for_event"},
                    {"bt-sleep", "sleeps_a_minute"},
                    {"bt-pipe", "reads_the_pipe"},
                    {"bt-lock", "takes_the_lock"}};
    for (const auto& e : expected) {
        const std::string s = section_of(dump, e.fiber);
        EXPECT_TRUE(has(s, "    #0 0x")) << s;
        EXPECT_TRUE(has(s, e.function)) << s;
    }
    // Debug information names the file and line of the waiting call.
    EXPECT_TRUE(has(section_of(dump, "bt-event"), "backtrace_test.cpp:")) << dump;
    EXPECT_TRUE(has(section_of(dump, "bt-pipe"), "backtrace_test.cpp:")) << dump;
    lock.release();
    event.set();
    b.kill();
    c.kill();
    green::joinall({a, b, c, d}, 5s);
}

// A parked compact fiber's stack is a heap copy (its run stack holds another fiber's frames, or
// the checked builds' pattern): it is unwound from that copy, like a default fiber's.
TEST(Backtrace, ParkedCompactFibersShowTheFunctionThatWaits) {
    green::Event event;
    auto a =
        green::spawn(compact_named("bt-compact-event"), [&] { compact_caller_of_wait(event); });
    auto b = green::spawn(compact_named("bt-compact-sleep"), [] { sleeps_a_minute(); });
    // A third compact fiber runs on the shared run stack while the dump is made, so the stack
    // the others' addresses name holds its frames, not theirs.
    std::string dump;
    auto c = green::spawn(compact_named("bt-compact-dumper"), [&] {
        green::sleep(5ms);
        dump = green::format_run_info();
    });
    c.join();
    SCOPED_TRACE(dump);
    ASSERT_FALSE(has(dump, "no backtraces")) << dump;
    const std::string event_section = section_of(dump, "bt-compact-event");
    EXPECT_TRUE(has(event_section, "compact (")) << event_section;
    EXPECT_TRUE(has(event_section, "    #0 0x")) << event_section;
    EXPECT_TRUE(has(event_section, "waits_for_event")) << event_section;
    EXPECT_TRUE(has(event_section, "compact_caller_of_wait")) << event_section;
    EXPECT_TRUE(has(event_section, "backtrace_test.cpp:")) << event_section;
    // The waiting function's frame comes before its caller's.
    EXPECT_LT(event_section.find("waits_for_event"), event_section.find("compact_caller_of_wait"));
    const std::string sleep_section = section_of(dump, "bt-compact-sleep");
    EXPECT_TRUE(has(sleep_section, "sleeps_a_minute")) << sleep_section;
    event.set();
    b.kill();
    green::joinall({a, b}, 5s);
}

TEST(Backtrace, TheParkedMainFiberFromAnotherFiber) {
    std::string dump;
    auto g = green::spawn(named("bt-dumper"), [&] {
        green::sleep(5ms);
        dump = green::format_run_info();
    });
    main_joins(g);
    SCOPED_TRACE(dump);
    EXPECT_TRUE(has(section_of(dump, "main"), "main_joins")) << section_of(dump, "main");
    // The running fiber has no saved context: no frames under it.
    EXPECT_FALSE(has(section_of(dump, "bt-dumper"), "    #0")) << section_of(dump, "bt-dumper");
}

TEST(Backtrace, OtherHubsAreUnwoundOnTheirOwnThread) {
    std::atomic<bool> stop{false};
    std::thread t([&] {
        auto g = green::spawn(named("bt-other-hub"), [&] {
            for (int i = 0; i < 10000 && !stop; ++i) naps();
        });
        g.join();
    });
    std::string dump;
    for (int i = 0; i < 200 && !has(section_of(dump, "bt-other-hub"), "naps()"); ++i) {
        green::sleep(5ms);
        dump = green::format_run_info();
    }
    EXPECT_TRUE(has(section_of(dump, "bt-other-hub"), "naps()")) << dump;
    stop = true;
    t.join();
}

// An inlined call is a frame of its own (as gdb and Go print it), innermost first, named from
// DWARF and placed at the line of the call it makes; the function it was inlined into follows,
// at the line that calls the inlined function.
TEST(Backtrace, InlinedCallsAreFramesOfTheirOwn) {
    green::Event event;
    auto g = green::spawn(named("bt-inlined"), [&] { noinline_caller(event); });
    green::sleep(5ms);
    const std::string s = section_of(green::format_run_info(), "bt-inlined");
    SCOPED_TRACE(s);
    const std::string inlined = line_with(s, " forced_inline_wait");
    // (Named as DWARF has it: without parameters where the compiler gave no linkage name.)
    EXPECT_TRUE(has(inlined, "backtrace_test.cpp:")) << inlined;
    EXPECT_TRUE(has(inlined, " (inlined)")) << inlined;
    const auto inlined_at = s.find(inlined);
    const std::string caller = line_with(s, "noinline_caller(green::Event&)+0x", inlined_at);
    EXPECT_TRUE(has(caller, "backtrace_test.cpp:" + std::to_string(kInlinedCallLine)))
        << "caller line: " << caller;
    // Both frames are the same program counter, numbered one after the other.
    const auto pc_of = [](const std::string& line) { return line.substr(line.find(" 0x")); };
    const auto number_of = [](const std::string& line) {
        return std::atoi(line.c_str() + line.find('#') + 1);
    };
    ASSERT_FALSE(inlined.empty());
    ASSERT_FALSE(caller.empty());
    EXPECT_EQ(pc_of(inlined).substr(0, pc_of(inlined).find(' ', 1)),
              pc_of(caller).substr(0, pc_of(caller).find(' ', 1)));
    EXPECT_EQ(number_of(caller), number_of(inlined) + 1);
    event.set();
    g.join();
}

// The dump time of 10,000 parked fibers with backtraces is measured in bench/core; here it
// only has to complete, with a frame under every one.
// A dump while 100,000 fibers exist (10,000 under AddressSanitizer) completes and names the
// waiting function in every one's backtrace. bench/introspection has its time (a few seconds).
TEST(Backtrace, AHundredThousandParkedFibers) {
#ifdef __SANITIZE_ADDRESS__
    constexpr std::size_t kFibers = 10000;
#else
    constexpr std::size_t kFibers = 100000;
#endif
    green::Event go;
    std::vector<green::Greenlet<void>> fibers;
    fibers.reserve(kFibers);
    for (std::size_t i = 0; i < kFibers; ++i)
        fibers.push_back(green::spawn([&] { waits_for_event(go); }));
    green::sleep(10ms);
    const std::string dump = green::format_run_info();
    std::size_t named_frames = 0, stack_figures = 0;
    for (std::size_t at = dump.find("waits_for_event"); at != std::string::npos;
         at = dump.find("waits_for_event", at + 1))
        ++named_frames;
    for (std::size_t at = dump.find("stack 128 KiB, deepest "); at != std::string::npos;
         at = dump.find("stack 128 KiB, deepest ", at + 1))
        ++stack_figures;
    EXPECT_EQ(named_frames, kFibers);
    EXPECT_EQ(stack_figures, kFibers);
    go.set();
    for (auto& g : fibers) g.join();
}

// The blocking monitor's report: the stalled fiber's name, its stack (captured on the hub's
// thread by a signal) with the spinning function, and what it last waited for.
TEST(Backtrace, TheMonitorPrintsTheStalledFibersStack) {
    const auto r = green_test::run_command(std::string("GREEN_MONITOR_MS=50 ") +
                                           GREEN_MONITOR_PROGRAM + " 2>&1");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_TRUE(has(r.out, "green: monitor: fiber 'stalling-fiber' has run for")) << r.out;
    EXPECT_TRUE(has(r.out, "    #0 0x")) << r.out;
    EXPECT_TRUE(has(r.out, "spins_without_yielding")) << r.out;
    EXPECT_TRUE(has(r.out, "it last waited ")) << r.out;
    EXPECT_TRUE(has(r.out, "ago, for: event 0x")) << r.out;
    // One episode, one report.
    EXPECT_EQ(r.out.find("green: monitor:"), r.out.rfind("green: monitor:")) << r.out;
}

// One hot operation repeated N times, for instruction counting under callgrind (instr_compare.sh).
// Wall time on a shared VM drifts by more than the 3 % a hot-path change is judged by; the
// instruction count of N and 2N repetitions does not, and their difference over N is the
// operation's own cost with set-up and exit cancelled out.
//
//   instr_ops OPERATION N        (instr_ops --list names the operations)
//
// It uses only API that has not changed since the runtime's first wave, so that the same source
// links against an older tree's library for a before/after comparison.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <green/green.hpp>
#include <vector>

#include "hot_ops.hpp"

namespace {

volatile long g_sink;

void spawn_join(long n) {
    long x = 0;
    for (long i = 0; i < n; ++i) green::spawn([&x] { ++x; }).join();
    g_sink = x;
}

// BM_Sleepers100k's path per fiber (spawn, a timed sleep, wake, exit, join), in batches of 1,000
// sleeping at once, so that the timer heap and the stack pool work as they do there.
void spawn_sleep_join(long n) {
    constexpr long kBatch = 1000;
    std::vector<green::Greenlet<void>> batch;
    batch.reserve(kBatch);
    for (long done = 0; done < n; done += kBatch) {
        for (long i = 0; i < kBatch && done + i < n; ++i)
            batch.push_back(green::spawn([] { green::sleep(std::chrono::milliseconds(1)); }));
        for (auto& g : batch) g.join();
        batch.clear();
    }
}

// N repetitions of an operation's body.
auto times(long n) {
    return [n](auto&& body) {
        for (long i = 0; i < n; ++i) body();
    };
}

struct Operation {
    const char* name;
    void (*run)(long n);
};

#if __has_include(<green/stack_mode.hpp>)
// Two compact greenlets (green/stack_mode.hpp) yielding to each other: every switch copies the
// leaving one out and the other one in. Only where the tree has compact stacks.
void yield_ping_pong_compact(long n) {
    const green::SpawnOptions compact{.stack_mode = green::StackMode::Compact};
    bool stop = false;
    auto other = green::spawn(compact, [&] {
        while (!stop) green::yield();
    });
    auto self = green::spawn(compact, [&] {
        for (long i = 0; i < n; ++i) green::yield();
        stop = true;
    });
    self.join();
    other.join();
}
// The same between two default greenlets (the main fiber is not one): its baseline.
void yield_ping_pong_greenlets(long n) {
    bool stop = false;
    auto other = green::spawn([&] {
        while (!stop) green::yield();
    });
    auto self = green::spawn([&] {
        for (long i = 0; i < n; ++i) green::yield();
        stop = true;
    });
    self.join();
    other.join();
}
#define GREEN_HAS_COMPACT_OPS 1
#endif

const Operation kOperations[] = {
    {"spawn_join", spawn_join},
    {"spawn_sleep_join", spawn_sleep_join},
    {"yield_ping_pong", [](long n) { hot_ops::yield_ping_pong(times(n)); }},
    {"queue_ping_pong", [](long n) { g_sink = hot_ops::ping_pong<green::Queue<int>>(times(n)); }},
    {"channel_ping_pong",
     [](long n) { g_sink = hot_ops::ping_pong<green::Channel<int>>(times(n)); }},
    {"queue_stream_1", [](long n) { g_sink = hot_ops::queue_stream(1, times(n)); }},
    {"queue_stream_128", [](long n) { g_sink = hot_ops::queue_stream(128, times(n)); }},
    {"event_round_trip", [](long n) { hot_ops::event_round_trip(times(n)); }},
    {"lock_uncontended", [](long n) { hot_ops::lock_uncontended(times(n)); }},
    {"lock_contended", [](long n) { hot_ops::lock_contended(times(n)); }},
#ifdef GREEN_HAS_COMPACT_OPS
    {"yield_ping_pong_greenlets", yield_ping_pong_greenlets},
    {"yield_ping_pong_compact", yield_ping_pong_compact},
#endif
};

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {
        for (const auto& op : kOperations) std::printf("%s\n", op.name);
        return 0;
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s OPERATION N | --list\n", argv[0]);
        return 2;
    }
    const long n = std::strtol(argv[2], nullptr, 10);
    for (const auto& op : kOperations) {
        if (std::strcmp(op.name, argv[1]) != 0) continue;
        green::yield();  // the hub exists before the first measured operation
        op.run(n);
        return 0;
    }
    std::fprintf(stderr, "%s: no operation '%s' (--list names them)\n", argv[0], argv[1]);
    return 2;
}

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

namespace {

volatile long g_sink;

void spawn_join(long n) {
    long x = 0;
    for (long i = 0; i < n; ++i) green::spawn([&x] { ++x; }).join();
    g_sink = x;
}

// Main and one fiber taking turns: one iteration is a round of two switches.
void yield_ping_pong(long n) {
    bool stop = false;
    auto other = green::spawn([&] {
        while (!stop) green::yield();
    });
    for (long i = 0; i < n; ++i) green::yield();
    stop = true;
    other.join();
}

template <class Q>
void ping_pong(long n) {
    Q to, from;
    auto echo = green::spawn([&] {
        for (;;) {
            int v = to.get();
            if (v < 0) return;
            from.put(v);
        }
    });
    int v = 0;
    for (long i = 0; i < n; ++i) {
        to.put(v);
        v = from.get();
    }
    to.put(-1);
    echo.join();
    g_sink = v;
}

void queue_stream(long n, std::size_t bound) {
    green::Queue<int> q(bound);
    auto consumer = green::spawn([&] {
        long sum = 0;
        for (int v : q) sum += v;
        return sum;
    });
    for (long i = 0; i < n; ++i) q.put(1);
    q.close();
    g_sink = consumer.get();
}

void event_round_trip(long n) {
    green::Event ping, pong;
    bool stop = false;
    auto other = green::spawn([&] {
        for (;;) {
            ping.wait();
            ping.clear();
            if (stop) return;
            pong.set();
        }
    });
    for (long i = 0; i < n; ++i) {
        ping.set();
        pong.wait();
        pong.clear();
    }
    stop = true;
    ping.set();
    other.join();
}

void lock_uncontended(long n) {
    green::Lock lock;
    for (long i = 0; i < n; ++i) {
        lock.acquire();
        lock.release();
    }
}

// Each holder yields with the lock held: every acquisition waits for a hand-off.
void lock_contended(long n) {
    green::Lock lock;
    bool stop = false;
    auto other = green::spawn([&] {
        while (!stop) {
            lock.acquire();
            green::yield();
            lock.release();
        }
    });
    green::yield();
    for (long i = 0; i < n; ++i) {
        lock.acquire();
        green::yield();
        lock.release();
    }
    stop = true;
    other.join();
}

struct Operation {
    const char* name;
    void (*run)(long n);
};

const Operation kOperations[] = {
    {"spawn_join", spawn_join},
    {"yield_ping_pong", yield_ping_pong},
    {"queue_ping_pong", ping_pong<green::Queue<int>>},
    {"channel_ping_pong", ping_pong<green::Channel<int>>},
    {"queue_stream_1", [](long n) { queue_stream(n, 1); }},
    {"queue_stream_128", [](long n) { queue_stream(n, 128); }},
    {"event_round_trip", event_round_trip},
    {"lock_uncontended", lock_uncontended},
    {"lock_contended", lock_contended},
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

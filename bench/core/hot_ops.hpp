// The hot operations of the coordination layer, written once for the two ways they are measured:
// wall time under Google Benchmark (bench/sync/sync_bench.cpp) and instruction counts under
// callgrind (bench/core/instr_ops.cpp). `repeat(body)` runs body as often as its caller measures.
// Only API unchanged since the runtime's first wave: instr_compare.sh builds this against an
// older tree's headers too.
#pragma once

#include <cstddef>
#include <green/green.hpp>

namespace hot_ops {

// Main and one fiber taking turns: one repetition is a round of two switches.
template <class Repeat>
void yield_ping_pong(Repeat repeat) {
    bool stop = false;
    auto other = green::spawn([&] {
        while (!stop) green::yield();
    });
    repeat([] { green::yield(); });
    stop = true;
    other.join();
}

// One round trip through two queues (Queue or Channel): main puts, the echo fiber gets and puts
// back. Returns the last value, for the caller to keep alive.
template <class Q, class Repeat>
int ping_pong(Repeat repeat) {
    Q to, from;
    auto echo = green::spawn([&] {
        for (;;) {
            int v = to.get();
            if (v < 0) return;
            from.put(v);
        }
    });
    int v = 0;
    repeat([&] {
        to.put(v);
        v = from.get();
    });
    to.put(-1);
    echo.join();
    return v;
}

// Streaming through a bounded queue: cost per item when hand-offs batch up. Returns the sum.
template <class Repeat>
long queue_stream(std::size_t bound, Repeat repeat) {
    green::Queue<int> q(bound);
    auto consumer = green::spawn([&] {
        long sum = 0;
        for (int v : q) sum += v;
        return sum;
    });
    repeat([&] { q.put(1); });
    q.close();
    return consumer.get();
}

// Event set -> wake -> set back -> wake.
template <class Repeat>
void event_round_trip(Repeat repeat) {
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
    repeat([&] {
        ping.set();
        pong.wait();
        pong.clear();
    });
    stop = true;
    ping.set();
    other.join();
}

template <class Repeat>
void lock_uncontended(Repeat repeat) {
    green::Lock lock;
    repeat([&] {
        lock.acquire();
        lock.release();
    });
}

// Each holder yields with the lock held: every acquisition waits for a hand-off.
template <class Repeat>
void lock_contended(Repeat repeat) {
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
    repeat([&] {
        lock.acquire();
        green::yield();
        lock.release();
    });
    stop = true;
    other.join();
}

}  // namespace hot_ops

// Cross-hub hand-offs (issue 15): a round trip through two Queues / Channels between fibers of
// two HubPool hubs, each wake-up a mailbox post to the other hub, next to the same round trip
// between two fibers of one pool hub (the same shared-mode objects, no mailbox), and a Lock
// passed between two hubs, and a green::select over two Channels answering a driver on another
// hub. Wall time per round trip; on a 2-core machine the two hubs' threads share the cores with
// everything else. go_channels.go is the Go baseline (run_go.sh). Two floors in the same run: two
// OS threads bouncing one cache line (what any cross-core hand-off costs at least) and two OS
// threads handing off through a mutex and condition variable (what a thread per task pays).
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <atomic>
#include <condition_variable>
#include <green/green.hpp>
#include <mutex>
#include <optional>
#include <thread>

namespace {

template <class Q>
void round_trips(benchmark::State& state, std::size_t echo_hub, bool shared = false) {
    green::HubPool pool(2);
    Q to, from;
    if (shared) {  // used by both hubs once: shared mode (lock, mailbox wakes) from then on
        for (std::size_t hub : {0, 1})
            pool.spawn(hub,
                       [&] {
                           (void)to.try_get();
                           (void)from.try_get();
                       })
                .join();
    }
    auto echo = pool.spawn(echo_hub, [&] {
        for (;;) {
            int v = to.get();
            if (v < 0) return;
            from.put(v);
        }
    });
    auto driver = pool.spawn(0, [&] {
        int v = 0;
        for (auto _ : state) {
            to.put(v + 1);
            v = from.get();
        }
        to.put(-1);
        benchmark::DoNotOptimize(v);
    });
    driver.join();
    echo.join();
}

void BM_CrossHubQueuePingPong(benchmark::State& state) {
    round_trips<green::Queue<int>>(state, 1);
}
BENCHMARK(BM_CrossHubQueuePingPong)->UseRealTime();

void BM_CrossHubChannelPingPong(benchmark::State& state) {
    round_trips<green::Channel<int>>(state, 1);
}
BENCHMARK(BM_CrossHubChannelPingPong)->UseRealTime();

// Both fibers on hub 0: the queues stay single-hub, the floor the cross-hub figure adds to.
void BM_OneHubQueuePingPongInPool(benchmark::State& state) {
    round_trips<green::Queue<int>>(state, 0);
}
BENCHMARK(BM_OneHubQueuePingPongInPool)->UseRealTime();

// Both fibers on hub 0: what Go's runtime measures in go_channels.go, where the woken goroutine
// goes to the waker's P (runnext) and the two mostly share one P.
void BM_OneHubChannelPingPongInPool(benchmark::State& state) {
    round_trips<green::Channel<int>>(state, 0);
}
BENCHMARK(BM_OneHubChannelPingPongInPool)->UseRealTime();

// Both fibers on hub 0, the Channels shared (both hubs used them before): the shared mode's
// own work (the lock, the wait's bookkeeping) without a line crossing cores, the part of the
// cross-hub round trip that is not the hardware's.
void BM_SharedChannelPingPongOnOneHub(benchmark::State& state) {
    round_trips<green::Channel<int>>(state, 0, true);
}
BENCHMARK(BM_SharedChannelPingPongOnOneHub)->UseRealTime();

// The hardware's floor: two OS threads spinning on two cache lines, each round trip one line
// moved to the other core and one moved back. A hub-to-hub hand-off moves several lines (the
// queue's, the waiter's node, the mailbox's) each way.
void BM_CacheLineRoundTrip(benchmark::State& state) {
    struct alignas(64) Line {
        std::atomic<long> v{0};
    };
    Line ping, pong;
    // Yields now and then: with the two threads on one core (a loaded machine), a pure spin
    // would wait out a whole time slice per round trip.
    const auto pause = [](unsigned& spins) {
        if (++spins % 1024 == 0)
            std::this_thread::yield();
        else
            _mm_pause();
    };
    std::thread echo([&] {
        for (long i = 1;; ++i) {
            long seen;
            unsigned spins = 0;
            while ((seen = ping.v.load(std::memory_order_acquire)) != i && seen >= 0) pause(spins);
            if (seen < 0) return;
            pong.v.store(i, std::memory_order_release);
        }
    });
    long i = 0;
    for (auto _ : state) {
        ping.v.store(++i, std::memory_order_release);
        unsigned spins = 0;
        while (pong.v.load(std::memory_order_acquire) != i) pause(spins);
    }
    ping.v.store(-1, std::memory_order_release);
    echo.join();
}
BENCHMARK(BM_CacheLineRoundTrip)->UseRealTime();

// Two OS threads, a mutex and a condition variable: each hand-off wakes a thread blocked in the
// kernel (futex), as Go's goroutines locked to their threads (runtime.LockOSThread) do.
void BM_ThreadCondVarPingPong(benchmark::State& state) {
    std::mutex mu;
    std::condition_variable cv;
    long turn = 0;  // odd: the echo thread's turn; < 0: stop
    std::thread echo([&] {
        std::unique_lock lk(mu);
        for (;;) {
            cv.wait(lk, [&] { return turn < 0 || (turn & 1); });
            if (turn < 0) return;
            ++turn;
            cv.notify_one();
        }
    });
    {
        std::unique_lock lk(mu);
        for (auto _ : state) {
            ++turn;
            cv.notify_one();
            cv.wait(lk, [&] { return !(turn & 1); });
        }
        turn = -1;
        cv.notify_one();
    }
    echo.join();
}
BENCHMARK(BM_ThreadCondVarPingPong)->UseRealTime();

// The echo fiber selects over two Channels (the driver alternates between them) and answers on a
// third: each round trip is one select woken from the other hub plus one plain hand-off back,
// next to BM_CrossHubChannelPingPong's two plain hand-offs.
void select_round_trips(benchmark::State& state, std::size_t echo_hub) {
    green::HubPool pool(2);
    green::Channel<int> a, b, back;
    auto echo = pool.spawn(echo_hub, [&] {
        for (;;) {
            std::optional<int> x, y;
            const int i = green::select(green::recv(a, x), green::recv(b, y));
            const int v = i == 0 ? *x : *y;
            if (v < 0) return;
            back.put(v);
        }
    });
    auto driver = pool.spawn(0, [&] {
        int v = 0;
        for (auto _ : state) {
            ((v & 1) ? a : b).put(v + 1);
            v = back.get();
        }
        a.put(-1);
        benchmark::DoNotOptimize(v);
    });
    driver.join();
    echo.join();
}

void BM_CrossHubSelectTwoChannels(benchmark::State& state) {
    select_round_trips(state, 1);
}
BENCHMARK(BM_CrossHubSelectTwoChannels)->UseRealTime();

// Both fibers on hub 0: the select's queues stay single-hub (no lock).
void BM_OneHubSelectTwoChannelsInPool(benchmark::State& state) {
    select_round_trips(state, 0);
}
BENCHMARK(BM_OneHubSelectTwoChannelsInPool)->UseRealTime();

// Two hubs each taking the Lock, holding it across a yield: the FIFO hand-off goes back and
// forth between the hubs on every acquire.
void BM_CrossHubLockHandOff(benchmark::State& state) {
    green::HubPool pool(2);
    green::Lock lock;
    std::atomic<bool> stop{false};
    auto other = pool.spawn(1, [&] {
        while (!stop.load(std::memory_order_relaxed)) {
            lock.acquire();
            green::yield();
            lock.release();
        }
    });
    auto driver = pool.spawn(0, [&] {
        for (auto _ : state) {
            lock.acquire();
            green::yield();
            lock.release();
        }
        stop = true;
    });
    driver.join();
    other.join();
}
BENCHMARK(BM_CrossHubLockHandOff)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();

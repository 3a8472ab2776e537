// Cross-hub hand-offs (issue 15): a round trip through two Queues / Channels between fibers of
// two HubPool hubs, each wake-up a mailbox post to the other hub, next to the same round trip
// between two fibers of one pool hub (the same shared-mode objects, no mailbox), and a Lock
// passed between two hubs. Wall time per round trip; on a 2-core machine the two hubs' threads
// share the cores with everything else.
#include <benchmark/benchmark.h>

#include <green/green.hpp>

namespace {

template <class Q>
void round_trips(benchmark::State& state, std::size_t echo_hub) {
    green::HubPool pool(2);
    Q to, from;
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

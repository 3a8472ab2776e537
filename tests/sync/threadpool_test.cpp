// ThreadPool and offload: results and exceptions come back, other fibers keep running,
// kill/Timeout while offloading, many fibers offloading at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <green/green.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// On a pool thread: waits until `c` reaches `n` (true), or gives up after 10 s (false). The
// tests below prove overlap by counts, never by elapsed time: a job that waits for something
// only a concurrent job (or the running hub) can do fails instead of finishing late.
bool await_count(const std::atomic<int>& c, int n) {
    for (int i = 0; i < 10000; ++i) {
        if (c.load() >= n) return true;
        std::this_thread::sleep_for(1ms);
    }
    return false;
}

TEST(Offload, ReturnsTheResultFromAnotherThread) {
    auto caller = std::this_thread::get_id();
    auto [value, tid] =
        green::offload([](int x) { return std::make_pair(x * 2, std::this_thread::get_id()); }, 21);
    EXPECT_EQ(value, 42);
    EXPECT_NE(tid, caller);
}

TEST(Offload, ExceptionsTravelBack) {
    try {
        green::offload([] { throw std::domain_error("in the pool"); });
        FAIL() << "no exception";
    } catch (const std::domain_error& e) {
        EXPECT_STREQ(e.what(), "in the pool");
    }
    green::ThreadPool pool(1);
    EXPECT_THROW(pool.apply([]() -> int { throw std::runtime_error("x"); }), std::runtime_error);
    EXPECT_EQ(pool.apply([] { return 5; }), 5);  // the pool survives
}

TEST(Offload, OtherFibersRunWhileOneWaits) {
    std::atomic<int> ticks{0};
    auto ticker = green::spawn([&] {
        for (int i = 0; i < 10; ++i) {
            green::sleep(1ms);
            ++ticks;
        }
    });
    // The job can only see 10 ticks if the hub keeps running the ticker meanwhile.
    EXPECT_TRUE(green::offload([&] { return await_count(ticks, 10); }));
    ticker.join();
}

TEST(Offload, KillWhileOffloadingReturnsPromptly) {
    std::atomic<bool> finished{false};
    std::atomic<int> started{0}, kill_returned{0};
    bool saw_kill_return = false;
    auto g = green::spawn([&] {
        green::offload([&] {
            ++started;
            // kill() must return while the job still runs: the job outlives it by waiting for it.
            saw_kill_return = await_count(kill_returned, 1);
            finished = true;
        });
        ADD_FAILURE() << "offload returned after kill";
    });
    while (started.load() == 0) green::sleep(1ms);
    g.kill();
    kill_returned = 1;
    EXPECT_TRUE(g.killed());
    // The call finishes in the background; its late completion must be harmless.
    while (!finished) green::sleep(1ms);
    green::sleep(20ms);
    EXPECT_TRUE(saw_kill_return);
}

TEST(Offload, DeadlineAndScopedTimeout) {
    green::ThreadPool pool(2);
    EXPECT_THROW(
        pool.apply_until(green::Deadline(20ms), [] { std::this_thread::sleep_for(200ms); }),
        green::Timeout);
    green::Timeout t(20ms);
    try {
        pool.apply([] { std::this_thread::sleep_for(200ms); });
        FAIL() << "no timeout";
    } catch (const green::Timeout& e) {
        EXPECT_TRUE(e.is(t));
    }
}

TEST(Offload, ManyFibersOverlapOnThePoolThreads) {
    green::ThreadPool pool(8);
    std::vector<green::Greenlet<int>> gs;
    std::atomic<int> arrived{0}, overlapped{0};
    for (int i = 0; i < 32; ++i)
        gs.push_back(green::spawn([&, i] {
            return pool.apply([&, i] {
                // Each of the first eight calls returns only once all eight run at once.
                if (++arrived <= 8 && await_count(arrived, 8)) ++overlapped;
                return i;
            });
        }));
    int sum = 0;
    for (auto& g : gs) sum += g.get();
    EXPECT_EQ(sum, 31 * 32 / 2);
    EXPECT_EQ(overlapped.load(), 8);
    EXPECT_LE(pool.started_threads(), 8u);
}

TEST(ThreadPool, BurstsStartMoreThreadsWhenAllAreBusy) {
    green::ThreadPool pool(4);
    pool.apply([] {});  // one thread now exists and goes idle
    EXPECT_EQ(pool.started_threads(), 1u);
    std::vector<green::GreenletHandle> gs;
    std::atomic<int> arrived{0}, overlapped{0};
    // Four calls that each return only once all four run at once, not one after another on the
    // single idle thread.
    for (int i = 0; i < 4; ++i)
        gs.push_back(green::spawn([&] {
            pool.apply([&] {
                ++arrived;
                if (await_count(arrived, 4)) ++overlapped;
            });
        }));
    green::joinall(gs);
    EXPECT_EQ(overlapped.load(), 4);
    EXPECT_EQ(pool.started_threads(), 4u);
}

TEST(ThreadPool, SubmitRunsFireAndForget) {
    std::atomic<int> n{0};
    {
        green::ThreadPool pool(2);
        for (int i = 0; i < 100; ++i) pool.submit([&] { ++n; });
    }  // the destructor finishes queued work
    EXPECT_EQ(n.load(), 100);
}

}  // namespace

TEST(Offload, WaitingForAPoolThreadIsNotLoopExit) {
    // The only thing pending is the pool thread: the hub must wait for it, not raise LoopExit.
    EXPECT_EQ(green::offload([] {
                  std::this_thread::sleep_for(50ms);
                  return 7;
              }),
              7);
}

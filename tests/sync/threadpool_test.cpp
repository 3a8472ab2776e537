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
    int ticks = 0;
    auto ticker = green::spawn([&] {
        for (int i = 0; i < 10; ++i) {
            green::sleep(5ms);
            ++ticks;
        }
    });
    green::offload([] { std::this_thread::sleep_for(100ms); });
    EXPECT_GE(ticks, 5);
    ticker.join();
}

TEST(Offload, KillWhileOffloadingReturnsPromptly) {
    std::atomic<bool> finished{false};
    auto g = green::spawn([&] {
        green::offload([&] {
            std::this_thread::sleep_for(300ms);
            finished = true;
        });
        ADD_FAILURE() << "offload returned after kill";
    });
    green::sleep(20ms);
    auto t0 = green::Clock::now();
    g.kill();
    EXPECT_LT(green::Clock::now() - t0, 200ms);
    EXPECT_TRUE(g.killed());
    // The call finishes in the background; its late completion must be harmless.
    while (!finished) green::sleep(10ms);
    green::sleep(20ms);
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
    auto t0 = green::Clock::now();
    for (int i = 0; i < 32; ++i)
        gs.push_back(green::spawn([&pool, i] {
            return pool.apply([i] {
                std::this_thread::sleep_for(50ms);
                return i;
            });
        }));
    int sum = 0;
    for (auto& g : gs) sum += g.get();
    auto took = green::Clock::now() - t0;
    EXPECT_EQ(sum, 31 * 32 / 2);
    // 32 calls of 50 ms on 8 threads: about 200 ms; one thread would need 1.6 s.
    EXPECT_LT(took, 1200ms);
    EXPECT_LE(pool.started_threads(), 8u);
}

TEST(ThreadPool, BurstsStartMoreThreadsWhenAllAreBusy) {
    green::ThreadPool pool(4);
    pool.apply([] {});  // one thread now exists and goes idle
    EXPECT_EQ(pool.started_threads(), 1u);
    std::vector<green::GreenletHandle> gs;
    auto t0 = green::Clock::now();
    for (int i = 0; i < 4; ++i)
        gs.push_back(green::spawn([&] { pool.apply([] { std::this_thread::sleep_for(100ms); }); }));
    green::joinall(gs);
    // Four 100 ms calls in parallel, not one after another on the single idle thread.
    EXPECT_LT(green::Clock::now() - t0, 350ms);
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

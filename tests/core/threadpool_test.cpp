// Offloading blocking work to real threads: results, exceptions, concurrency, kill, timeouts.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <green/green.hpp>

using namespace std::chrono_literals;

TEST(ThreadPool, OffloadReturnsValueFromAnotherThread) {
    auto caller = std::this_thread::get_id();
    auto [value, tid] =
        green::offload([](int x) { return std::make_pair(x * 2, std::this_thread::get_id()); }, 21);
    EXPECT_EQ(value, 42);
    EXPECT_NE(tid, caller);
}

TEST(ThreadPool, ExceptionTravelsBack) {
    EXPECT_THROW(green::offload([] { throw std::domain_error("thread side"); }), std::domain_error);
}

TEST(ThreadPool, OtherFibersRunWhileOneBlocksInAThread) {
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

TEST(ThreadPool, ManyFibersShareAPool) {
    green::ThreadPool pool(4);
    std::vector<green::Greenlet<int>> gs;
    auto t0 = green::Clock::now();
    for (int i = 0; i < 16; ++i)
        gs.push_back(green::spawn([&pool, i] {
            return pool.apply([i] {
                std::this_thread::sleep_for(50ms);
                return i;
            });
        }));
    int sum = 0;
    for (auto& g : gs) sum += g.get();
    EXPECT_EQ(sum, 120);
    EXPECT_LE(pool.started_threads(), 4u);
    EXPECT_LT(green::Clock::now() - t0, 2s);  // 4 waves of 50 ms, not 16 sequential
}

TEST(ThreadPool, KillWhileOffloadedReturnsPromptly) {
    auto g = green::spawn([] { green::offload([] { std::this_thread::sleep_for(300ms); }); });
    green::sleep(10ms);
    auto t0 = green::Clock::now();
    g.kill();
    EXPECT_TRUE(g.killed());
    EXPECT_LT(green::Clock::now() - t0, 200ms);
}

TEST(ThreadPool, DeadlineThrowsTimeout) {
    green::ThreadPool pool(1);
    EXPECT_THROW(pool.apply_until(20ms, [] { std::this_thread::sleep_for(200ms); }),
                 green::Timeout);
}

TEST(ThreadPool, WaitingForOffloadIsNotLoopExit) {
    // The only thing pending is the pool thread: the hub must wait, not raise LoopExit.
    EXPECT_EQ(green::offload([] {
                  std::this_thread::sleep_for(50ms);
                  return 7;
              }),
              7);
}

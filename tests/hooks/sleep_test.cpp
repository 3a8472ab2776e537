// Linked hooks, time: plain sleep/usleep/nanosleep/clock_nanosleep inside fibers overlap instead
// of blocking the thread; errno is each fiber's own; outside a hub the calls are libc's.
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <green/green.hpp>

#include "scheduler.hpp"
#include "support/overlap.hpp"
#include "support/stopwatch.hpp"

using namespace std::chrono_literals;
using namespace green_test;

TEST(SleepHooks, UsleepInFibersOverlaps) {
    const auto t0 = green::Clock::now();
    Overlap overlap;
    std::vector<green::Greenlet<void>> gs;
    for (int i = 0; i < 10; ++i) {
        gs.push_back(green::spawn([&] {
            overlap.enter();
            ::usleep(200 * 1000);
            overlap.woke();
        }));
    }
    green::joinall(gs);
    EXPECT_GE(since(t0), 200ms);
    EXPECT_EQ(overlap.started_before_first_wake(), 10);
}

TEST(SleepHooks, SleepSecondsOverlaps) {
    const auto t0 = green::Clock::now();
    Overlap overlap;
    auto sleeper = [&] {
        overlap.enter();
        const unsigned left = ::sleep(1);
        overlap.woke();
        return left;
    };
    auto a = green::spawn(sleeper);
    auto b = green::spawn(sleeper);
    EXPECT_EQ(a.get(), 0u);
    EXPECT_EQ(b.get(), 0u);
    EXPECT_GE(since(t0), 1s);
    EXPECT_EQ(overlap.started_before_first_wake(), 2);
}

TEST(SleepHooks, NanosleepAndClockNanosleepOverlap) {
    const auto t0 = green::Clock::now();
    Overlap overlap;
    // Each sleep checks in before it blocks and out when it wakes.
    auto watched = [&](auto sleep) {
        return [&overlap, sleep] {
            overlap.enter();
            const int rc = sleep();
            overlap.woke();
            return rc;
        };
    };
    std::vector<green::Greenlet<int>> gs;
    for (int i = 0; i < 4; ++i) {
        gs.push_back(green::spawn(watched([] {
            timespec ts{0, 150 * 1000 * 1000};
            return ::nanosleep(&ts, nullptr);
        })));
        gs.push_back(green::spawn(watched([] {
            timespec ts{0, 150 * 1000 * 1000};
            return ::clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
        })));
        gs.push_back(green::spawn(watched([] {
            timespec until;
            ::clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 150 * 1000 * 1000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_nsec -= 1000000000;
                ++until.tv_sec;
            }
            return ::clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &until, nullptr);
        })));
    }
    for (auto& g : gs) EXPECT_EQ(g.get(), 0);
    EXPECT_GE(since(t0), 140ms);
    EXPECT_EQ(overlap.started_before_first_wake(), 12);
}

TEST(SleepHooks, AbsoluteDeadlineInThePastReturnsAtOnce) {
    auto g = green::spawn([] {
        timespec past{1, 0};
        return ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &past, nullptr);
    });
    EXPECT_EQ(g.get(), 0);
}

TEST(SleepHooks, InvalidArgumentsAreReportedLikeLibc) {
    auto g = green::spawn([] {
        timespec bad{0, 2000000000};
        errno = 0;
        EXPECT_EQ(::nanosleep(&bad, nullptr), -1);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_EQ(::clock_nanosleep(CLOCK_MONOTONIC, 0, &bad, nullptr), EINVAL);
    });
    g.get();
}

TEST(SleepHooks, ErrnoIsPerFiberAcrossSleeps) {
    auto a = green::spawn([] {
        errno = 1234;
        ::usleep(30 * 1000);
        return errno;
    });
    auto b = green::spawn([] {
        errno = 99;
        ::usleep(10 * 1000);
        errno = 77;
        ::usleep(40 * 1000);
        return errno;
    });
    EXPECT_EQ(a.get(), 1234);
    EXPECT_EQ(b.get(), 77);
}

TEST(SleepHooks, ZeroSleepLetsOthersRun) {
    int other = 0;
    auto bg = green::spawn([&] {
        for (int i = 0; i < 5; ++i) {
            ++other;
            green::yield();
        }
    });
    auto spinner = green::spawn([&] {
        for (int i = 0; i < 100 && other < 5; ++i) ::usleep(0);
        return other;
    });
    EXPECT_EQ(spinner.get(), 5);
    bg.join();
}

TEST(SleepHooks, ThreadWithoutHubUsesLibc) {
    bool had_hub = true;
    green::Duration took{};
    std::thread t([&] {
        const auto t0 = green::Clock::now();
        ::usleep(50 * 1000);
        took = since(t0);
        had_hub = green::detail::Hub::peek() != nullptr;
    });
    t.join();
    EXPECT_FALSE(had_hub);  // the hook did not create a hub for a plain thread
    EXPECT_GE(took, 50ms);
}

namespace {
std::atomic<int> g_sleep_signals{0};
void count_signal(int) {
    g_sleep_signals.fetch_add(1);
}
}  // namespace

// glibc's sleep() returns the whole seconds not slept, truncated: interrupted after 0.2 s of a
// 2 s sleep it returns 1 (1.8 s left), with errno EINTR.
TEST(SleepHooks, InterruptedSleepReturnsTheWholeSecondsLeftLikeGlibc) {
    struct sigaction sa {};
    sa.sa_handler = count_signal;
    sigemptyset(&sa.sa_mask);
    ASSERT_EQ(::sigaction(SIGUSR2, &sa, nullptr), 0);
    auto raiser = green::spawn([] {
        green::sleep(200ms);
        ::raise(SIGUSR2);
    });
    auto sleeper = green::spawn([] {
        errno = 0;
        const unsigned left = ::sleep(2);
        return std::make_pair(left, errno);
    });
    const auto [left, err] = sleeper.get();
    raiser.join();
    ::signal(SIGUSR2, SIG_DFL);
    EXPECT_EQ(g_sleep_signals.load(), 1);
    EXPECT_EQ(left, 1u);
    EXPECT_EQ(err, EINTR);
}

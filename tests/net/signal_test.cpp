// Signals as hub events: on_signal callbacks run in greenlets, signal_wait parks a fiber, a
// signal caught by another OS thread is forwarded, and cancelling restores the old disposition.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <green/green.hpp>

using namespace std::chrono_literals;

TEST(Signal, CallbackRunsInAGreenlet) {
    int calls = 0;
    bool in_greenlet = false;
    auto h = green::on_signal(SIGUSR1, [&] {
        ++calls;
        in_greenlet = static_cast<bool>(green::getcurrent());
    });
    ASSERT_EQ(::raise(SIGUSR1), 0);
    for (int i = 0; i < 500 && calls == 0; ++i) green::sleep(1ms);
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(in_greenlet);
    ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);  // process-directed too
    for (int i = 0; i < 500 && calls == 1; ++i) green::sleep(1ms);
    EXPECT_EQ(calls, 2);
}

TEST(Signal, UnrefHandlerDoesNotKeepTheHubAlive) {
    {
        auto h = green::on_signal(
            SIGUSR1, [] {}, /*ref=*/false);
        green::Event never;
        EXPECT_THROW(never.wait(), green::LoopExit);
    }
    // A handler that keeps the hub alive: a wait only a signal can end blocks for the signal.
    green::Event got;
    auto h = green::on_signal(SIGUSR1, [&] { got.set(); });
    std::thread sender([] {
        std::this_thread::sleep_for(20ms);
        ::kill(::getpid(), SIGUSR1);
    });
    EXPECT_NO_THROW(got.wait());
    sender.join();
}

TEST(Signal, WaitReturnsTheSignalOrZero) {
    EXPECT_EQ(green::signal_wait({SIGUSR2}, 20ms), 0);
    auto sender = green::spawn([] {
        green::sleep(10ms);
        ::raise(SIGUSR2);
    });
    EXPECT_EQ(green::signal_wait({SIGUSR1, SIGUSR2}, 5s), SIGUSR2);
    sender.get();
}

TEST(Signal, ForwardedFromAnotherThread) {
    // A real thread that exists before the signal is blocked here (so it does not block it).
    std::atomic<bool> go{false};
    std::thread other([&] {
        while (!go.load()) std::this_thread::sleep_for(1ms);
        ::raise(SIGUSR1);  // thread-directed at this thread: the forwarder resends it
    });
    auto waiter = green::spawn([] { return green::signal_wait({SIGUSR1}, 5s); });
    green::sleep(1ms);
    go.store(true);
    EXPECT_EQ(waiter.get(), SIGUSR1);
    other.join();
}

TEST(Signal, RuntimeThreadsTakeNoSignals) {
    // The offload pool's threads block asynchronous signals: a signal raised in one stays
    // pending there instead of running a handler in a thread the program never made.
    EXPECT_TRUE(green::offload([] {
        sigset_t now;
        ::pthread_sigmask(SIG_BLOCK, nullptr, &now);
        return sigismember(&now, SIGTERM) == 1 && sigismember(&now, SIGUSR1) == 1 &&
               sigismember(&now, SIGSEGV) == 0;
    }));
}

TEST(Signal, CancelRestoresPreviousHandler) {
    static std::atomic<int> plain{0};
    struct sigaction sa {
    }, old{};
    sa.sa_handler = [](int) { ++plain; };
    ::sigaction(SIGUSR2, &sa, &old);
    {
        auto h = green::on_signal(SIGUSR2, [] {});
        int seen = 0;
        auto h2 = green::on_signal(SIGUSR2, [&] { ++seen; });
        ::raise(SIGUSR2);
        for (int i = 0; i < 500 && seen == 0; ++i) green::sleep(1ms);
        EXPECT_EQ(seen, 1);
        EXPECT_EQ(plain, 0);
    }
    ::raise(SIGUSR2);  // back to the plain handler, delivered synchronously
    EXPECT_EQ(plain, 1);
    ::sigaction(SIGUSR2, &old, nullptr);
}

TEST(Signal, BadSignals) {
    EXPECT_THROW((void)green::on_signal(SIGKILL, [] {}), std::invalid_argument);
    EXPECT_THROW((void)green::on_signal(0, [] {}), std::invalid_argument);
    EXPECT_THROW((void)green::on_signal(SIGINT, nullptr), std::invalid_argument);
}

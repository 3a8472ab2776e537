// Fibers: per-fiber errno and C++ exception state, large fiber counts, stack sizes, overflow
// reports (death tests: the process must abort with the fiber's name, not corrupt memory).
#include <gtest/gtest.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "scheduler.hpp"

using namespace std::chrono_literals;

TEST(Fiber, ErrnoSurvivesSwitches) {
    std::vector<green::Greenlet<bool>> gs;
    for (int i = 1; i <= 50; ++i) {
        gs.push_back(green::spawn([i] {
            errno = i;
            for (int k = 0; k < 5; ++k) {
                green::sleep(0ms);
                if (errno != i) return false;
                green::sleep(1ms);
                if (errno != i) return false;
            }
            return true;
        }));
    }
    errno = 777;
    green::joinall(gs);
    EXPECT_EQ(errno, 777);
    for (auto& g : gs) EXPECT_TRUE(g.get());
}

TEST(Fiber, SwitchInsideCatchWhileAnotherFiberThrows) {
    // Each fiber holds a caught exception across switches; another throws and catches its own
    // meanwhile. std::current_exception and uncaught_exceptions must stay per fiber.
    std::vector<std::string> seen;
    green::WaitQueue thrower_done;
    auto holder = green::spawn([&] {
        try {
            throw std::runtime_error("held");
        } catch (const std::exception&) {
            thrower_done.wait(5s);  // the other fiber throws and catches meanwhile
            try {
                throw;  // rethrow needs our own caught-exception stack
            } catch (const std::runtime_error& e) {
                seen.push_back(e.what());
            }
            EXPECT_EQ(std::uncaught_exceptions(), 0);
        }
    });
    auto thrower = green::spawn([&] {
        for (int i = 0; i < 3; ++i) {
            try {
                throw std::logic_error("other");
            } catch (const std::logic_error& e) {
                green::sleep(1ms);
                seen.push_back(e.what());
            }
        }
        thrower_done.notify_one();
    });
    green::joinall({holder, thrower}, 5s);
    ASSERT_TRUE(holder.successful());
    ASSERT_TRUE(thrower.successful());
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen.back(), "held");
    EXPECT_EQ(std::current_exception(), nullptr);
}

TEST(Fiber, DestructorDuringUnwindCanSwitch) {
    // A fiber whose destructor runs during stack unwinding (uncaught_exceptions()==1) and waits.
    int unwinding_seen = -1;
    struct Waiter {
        int& out;
        ~Waiter() {
            green::sleep(1ms);
            out = std::uncaught_exceptions();
        }
    };
    auto g = green::spawn([&] {
        Waiter w{unwinding_seen};
        throw std::runtime_error("unwind");
    });
    auto other = green::spawn([] {
        try {
            throw 1;
        } catch (int) {
        }
        EXPECT_EQ(std::uncaught_exceptions(), 0);
    });
    green::joinall({g, other});
    EXPECT_EQ(unwinding_seen, 1);
    EXPECT_FALSE(g.successful());
}

TEST(Fiber, HundredThousandFibers) {
    constexpr int kN = 100000;
    long sum = 0;
    std::vector<green::Greenlet<void>> gs;
    gs.reserve(kN);
    for (int i = 0; i < kN; ++i)
        gs.push_back(green::spawn([&sum, i] {
            green::sleep(1ms);
            sum += i;
        }));
    auto done = green::joinall(gs, 60s);
    EXPECT_EQ(done.size(), static_cast<std::size_t>(kN));
    EXPECT_EQ(sum, static_cast<long>(kN) * (kN - 1) / 2);
}

TEST(Fiber, SpawnFromInsideFibers) {
    int leaves = 0;
    std::function<void(int)> tree = [&](int depth) {
        if (depth == 0) {
            ++leaves;
            return;
        }
        auto a = green::spawn(tree, depth - 1);
        auto b = green::spawn(tree, depth - 1);
        green::joinall({a, b});
    };
    green::spawn(tree, 10).join();
    EXPECT_EQ(leaves, 1024);
}

TEST(Fiber, PerSpawnStackSize) {
    // 1 MiB of locals needs a larger stack than the default 128 KiB.
    auto g = green::spawn(green::SpawnOptions{"big", 2 << 20}, [] {
        volatile char buf[1 << 20];
        for (std::size_t i = 0; i < sizeof buf; i += 4096) buf[i] = static_cast<char>(i);
        return static_cast<int>(buf[4096]);
    });
    EXPECT_EQ(g.get(), static_cast<char>(4096));
}

namespace {
int recurse(int n) {
    volatile char pad[512];
    pad[0] = static_cast<char>(n);
    return n <= 0 ? pad[0] : recurse(n - 1) + pad[0];
}
}  // namespace

TEST(FiberDeathTest, StackOverflowIsReportedByName) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            auto g = green::spawn(green::SpawnOptions{"deep-recursion", 64 * 1024},
                                  [] { return recurse(1 << 20); });
            g.join();
        },
        "stack overflow in fiber 'deep-recursion'");
}

TEST(FiberDeathTest, OverflowWithoutGuardPageCaughtByCanary) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    // With no guard-page budget, the zero canary at the bottom of the stack catches a fiber that
    // reached it, at its next switch. Simulate the deepest frame by writing the canary area.
    // Set before the death test starts: the child process reads it with the rest of the
    // configuration, which may happen before the statement runs (a preloaded hook library).
    setenv("GREEN_GUARD_PAGES", "0", 1);
    EXPECT_DEATH(
        {
            auto g = green::spawn(green::SpawnOptions{"canary-victim", 64 * 1024}, [] {
                auto* self = green::detail::Hub::get().current();
                static_cast<volatile char*>(self->stack().base)[8] = 1;
                green::sleep(1ms);
            });
            g.join();
        },
        "stack overflow in fiber 'canary-victim'");
    unsetenv("GREEN_GUARD_PAGES");
}

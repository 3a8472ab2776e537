// AsyncResult<T>: values and exceptions to many waiters, timeouts, move-only values, void.
#include <gtest/gtest.h>

#include <chrono>
#include <green/green.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(AsyncResult, ValueReachesEveryWaiter) {
    green::AsyncResult<std::string> r;
    std::vector<std::string> got;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 4; ++i) gs.push_back(green::spawn([&] { got.push_back(r.get()); }));
    green::sleep(0ms);
    EXPECT_FALSE(r.ready());
    r.set("hello");
    green::joinall(gs);
    EXPECT_EQ(got, std::vector<std::string>(4, "hello"));
    EXPECT_TRUE(r.ready());
    EXPECT_TRUE(r.successful());
    EXPECT_EQ(r.exception(), nullptr);
    EXPECT_EQ(r.get_nowait(), "hello");
}

TEST(AsyncResult, ExceptionIsRethrownToEveryWaiter) {
    green::AsyncResult<int> r;
    int caught = 0;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 3; ++i)
        gs.push_back(green::spawn([&] {
            try {
                r.get();
            } catch (const std::out_of_range& e) {
                EXPECT_STREQ(e.what(), "boom");
                ++caught;
            }
        }));
    green::sleep(0ms);
    r.set_exception(std::out_of_range("boom"));
    green::joinall(gs);
    EXPECT_EQ(caught, 3);
    EXPECT_TRUE(r.ready());
    EXPECT_FALSE(r.successful());
    EXPECT_NE(r.exception(), nullptr);
    EXPECT_THROW(r.get(), std::out_of_range);
    EXPECT_THROW(r.set_exception(std::exception_ptr()), std::invalid_argument);
}

TEST(AsyncResult, TimeoutsThrowGreenTimeout) {
    green::AsyncResult<int> r;
    EXPECT_THROW(r.get(0s), green::Timeout);
    EXPECT_THROW(r.get(-1s), green::Timeout);
    EXPECT_THROW(r.get_nowait(), green::Timeout);
    auto t0 = green::Clock::now();
    EXPECT_THROW(r.get(40ms), green::Timeout);
    EXPECT_GE(green::Clock::now() - t0, 39ms);
    EXPECT_FALSE(r.wait(10ms));
    auto setter = green::spawn([&] {
        green::sleep(10ms);
        r.set(7);
    });
    EXPECT_EQ(r.get(5s), 7);
    setter.join();
}

TEST(AsyncResult, MoveOnlyValue) {
    green::AsyncResult<std::unique_ptr<int>> r;
    auto g = green::spawn([&] { r.set(std::make_unique<int>(42)); });
    std::unique_ptr<int> p = std::move(r.get());
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 42);
    g.join();
}

TEST(AsyncResult, VoidResult) {
    green::AsyncResult<void> r;
    bool done = false;
    auto g = green::spawn([&] {
        r.get();
        done = true;
    });
    green::sleep(0ms);
    EXPECT_FALSE(done);
    r.set();
    g.join();
    EXPECT_TRUE(done);
}

TEST(AsyncResult, SettingAgainReplacesTheValue) {
    green::AsyncResult<int> r;
    r.set(1);
    EXPECT_EQ(r.get(), 1);
    r.set(2);
    EXPECT_EQ(r.get(), 2);
    r.set_exception(std::runtime_error("later"));
    EXPECT_THROW(r.get(), std::runtime_error);
}

TEST(AsyncResult, KilledWaiterDoesNotDisturbOthers) {
    green::AsyncResult<int> r;
    int got = 0;
    auto victim = green::spawn([&] { r.get(); });
    auto other = green::spawn([&] { got = r.get(); });
    green::sleep(0ms);
    victim.kill();
    r.set(5);
    other.join();
    EXPECT_EQ(got, 5);
    EXPECT_TRUE(victim.killed());
}

TEST(AsyncResult, WaitableForIwait) {
    green::AsyncResult<int> a, b;
    auto g = green::spawn([&] {
        green::sleep(5ms);
        a.set(1);
        green::sleep(5ms);
        b.set_exception(std::runtime_error("x"));
    });
    std::vector<green::Waitable*> order;
    for (auto* w : green::iwait({b, a}, 5s)) order.push_back(w);
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0], &a);
    EXPECT_EQ(order[1], &b);
    g.join();
}

}  // namespace

// green::local<T>: one value per fiber (main fiber included), destroyed when its greenlet
// finishes, when the local dies, or at thread exit for the main fiber; never inherited by a
// later fiber at the same address.
#include <gtest/gtest.h>

#include <chrono>
#include <green/green.hpp>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

int g_alive = 0;

struct Counted {
    Counted() { ++g_alive; }
    Counted(const Counted&) { ++g_alive; }
    ~Counted() { --g_alive; }
    std::string text;
};

TEST(Local, EachFiberSeesItsOwnValue) {
    green::local<std::string> name;
    *name = "main";
    std::vector<std::string> seen;
    std::vector<green::GreenletHandle> gs;
    for (int i = 0; i < 3; ++i)
        gs.push_back(green::spawn([&, i] {
            EXPECT_EQ(*name, "");  // fresh per fiber
            *name = "g" + std::to_string(i);
            green::sleep(1ms);  // others run and set theirs meanwhile
            seen.push_back(*name);
        }));
    green::joinall(gs);
    EXPECT_EQ(seen, (std::vector<std::string>{"g0", "g1", "g2"}));
    EXPECT_EQ(*name, "main");
}

TEST(Local, ValueDestroyedWhenTheGreenletFinishes) {
    g_alive = 0;
    green::local<Counted> c;
    green::Event hold;
    auto g = green::spawn([&] {
        c->text = "x";
        hold.wait();
    });
    green::sleep(0ms);
    EXPECT_EQ(g_alive, 1);
    hold.set();
    g.join();
    EXPECT_EQ(g_alive, 0);

    auto killed = green::spawn([&] {
        c->text = "y";
        green::sleep(10s);
    });
    green::sleep(0ms);
    EXPECT_EQ(g_alive, 1);
    killed.kill();
    EXPECT_EQ(g_alive, 0);
}

TEST(Local, FactoryAndResetAndHasValue) {
    int made = 0;
    green::local<int> v([&] { return ++made * 100; });
    EXPECT_FALSE(v.has_value());
    EXPECT_EQ(*v, 100);
    EXPECT_TRUE(v.has_value());
    v.reset();
    EXPECT_FALSE(v.has_value());
    EXPECT_EQ(*v, 200);
    EXPECT_EQ(green::spawn([&] { return *v; }).get(), 300);
}

TEST(Local, DestroyingTheLocalDestroysItsValues) {
    g_alive = 0;
    {
        green::local<Counted> c;
        c.get();
        green::Event hold;
        auto g = green::spawn([&] {
            c.get();
            hold.wait();
        });
        green::sleep(0ms);
        EXPECT_EQ(g_alive, 2);
        hold.set();
        g.join();
        EXPECT_EQ(g_alive, 1);
    }
    EXPECT_EQ(g_alive, 0);
}

TEST(Local, MainFiberValueDiesWithItsThread) {
    g_alive = 0;
    static green::local<Counted> shared;  // outlives the thread
    std::thread t([] {
        shared->text = "thread main";
        EXPECT_EQ(g_alive, 1);
    });
    t.join();
    EXPECT_EQ(g_alive, 0);
}

TEST(Local, NewFibersNeverInheritAFinishedFibersValue) {
    green::local<int> v;
    for (int round = 0; round < 200; ++round) {
        auto g = green::spawn([&] {
            EXPECT_FALSE(v.has_value());
            *v = round + 1;
        });
        g.join();
    }
}

TEST(Local, RawGreenletIsRefusedClearly) {
    green::local<int> v;
    bool threw = false;
    green::RawGreenlet raw([&] {
        try {
            v.get();
        } catch (const std::logic_error&) {
            threw = true;
        }
    });
    raw.switch_to();
    EXPECT_TRUE(threw);
}

}  // namespace

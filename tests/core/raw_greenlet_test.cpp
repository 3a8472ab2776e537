// The raw greenlet layer: explicit switches, values, parents, throw_into, interplay with the hub.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <green/green.hpp>

using namespace std::chrono_literals;

TEST(RawGreenlet, PingPongOrder) {
    std::vector<std::string> out;
    green::RawGreenlet* gr2 = nullptr;
    green::RawGreenlet gr1([&] {
        out.push_back("test1,first");
        gr2->switch_to();
        out.push_back("test1,second");
        gr2->switch_to();
    });
    green::RawGreenlet g2([&] {
        out.push_back("test2,first");
        gr1.switch_to();
        out.push_back("test2,second");
    });
    gr2 = &g2;
    gr1.switch_to();
    EXPECT_EQ(out, (std::vector<std::string>{"test1,first", "test2,first", "test1,second",
                                             "test2,second"}));
    EXPECT_FALSE(gr1.dead());  // gr1 is paused at its second switch; g2 finished into main
    EXPECT_TRUE(g2.dead());
}

TEST(RawGreenlet, ValuesTravelOnSwitch) {
    green::RawGreenlet echo(green::RawGreenlet::Function([](std::any first) -> std::any {
        auto n = std::any_cast<int>(first);
        auto next = green::RawGreenlet::current().parent()->switch_to(n + 1);
        return std::any_cast<int>(next) * 10;
    }));
    EXPECT_EQ(std::any_cast<int>(echo.switch_to(1)), 2);
    EXPECT_EQ(std::any_cast<int>(echo.switch_to(5)), 50);  // the function's result
    EXPECT_TRUE(echo.dead());
}

TEST(RawGreenlet, ExceptionGoesToParent) {
    green::RawGreenlet bad([] { throw std::runtime_error("to parent"); });
    EXPECT_THROW(bad.switch_to(), std::runtime_error);
    EXPECT_TRUE(bad.dead());
}

TEST(RawGreenlet, ThrowIntoPausedGreenlet) {
    bool unwound = false;
    green::RawGreenlet g([&] {
        struct Mark {
            bool& b;
            ~Mark() { b = true; }
        } m{unwound};
        green::RawGreenlet::current().parent()->switch_to();
    });
    g.switch_to();
    EXPECT_FALSE(unwound);
    g.throw_into(std::make_exception_ptr(green::GreenletExit()));
    EXPECT_TRUE(unwound);
    EXPECT_TRUE(g.dead());
}

TEST(RawGreenlet, DestroyingPausedGreenletUnwindsIt) {
    bool unwound = false;
    {
        green::RawGreenlet g([&] {
            struct Mark {
                bool& b;
                ~Mark() { b = true; }
            } m{unwound};
            green::RawGreenlet::current().parent()->switch_to();
        });
        g.switch_to();
    }
    EXPECT_TRUE(unwound);
}

TEST(RawGreenlet, SwitchToDeadIsAnError) {
    green::RawGreenlet g([] {});
    g.switch_to();
    EXPECT_THROW(g.switch_to(), std::logic_error);
}

TEST(RawGreenlet, ExplicitParent) {
    std::vector<int> order;
    green::RawGreenlet parent([&] {
        order.push_back(1);
        green::RawGreenlet child([&] { order.push_back(2); }, &green::RawGreenlet::current());
        child.switch_to();  // child ends and returns here
        order.push_back(3);
    });
    parent.switch_to();
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(RawGreenlet, CanSleepThroughTheHub) {
    bool other_ran = false;
    auto other = green::spawn([&] {
        other_ran = true;
        green::sleep(20ms);
    });
    green::RawGreenlet g([&] {
        green::sleep(20ms);
        EXPECT_TRUE(other_ran);  // the hub ran the other greenlet during this sleep
    });
    g.switch_to();  // sleeps cooperatively, then finishes back into main
    EXPECT_TRUE(g.dead());
    other.join();
}

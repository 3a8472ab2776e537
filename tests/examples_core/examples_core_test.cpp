// Runs the greenlet and gevent teaching examples as separate processes and checks what they
// print: exact order for the explicit switches, overlap (not sum) for the cooperative sleeps.
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "support/command.hpp"

namespace {

// Its stdout and how long it took; it must exit with 0.
green_test::CommandRun run(const std::string& cmd) {
    green_test::CommandRun r = green_test::run_command(cmd);
    EXPECT_EQ(r.status, 0) << cmd;
    return r;
}

}  // namespace

TEST(Examples, GreenletPingPongExactOrder) {
    auto r = run(std::string(PING_PONG) + " 50");
    EXPECT_EQ(r.out, "test1,first\ntest2,first\ntest1,second\ntest2,second\n");
}

TEST(Examples, GreenletArgumentsOnFirstSwitch) {
    auto r = run(std::string(SWITCH_ARGS) + " 50");
    EXPECT_EQ(r.out, "egon eat food 1\nalex play phone 1\negon eat food 2\nalex play phone 2\n");
}

TEST(Examples, EatPlayTakesTheLongestWaitNotTheSum) {
    auto r = run(std::string(EAT_PLAY) + " 0.1");  // 0.3 s and 0.5 s
    EXPECT_NE(
        r.out.find(
            "点菜。。。 (ordering)\n玩手机。。。 (playing with the phone)\n吃菜。。。 (eating)\n"
            "看NBA... (watching NBA)\n主线程 (main)\n"),
        std::string::npos)
        << r.out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("total ([0-9.]+) s")));
    double total = std::stod(m[1]);
    EXPECT_GE(total, 0.49);
    EXPECT_LT(total, 0.75);  // the sum would be 0.8
}

TEST(Examples, SyncInOrderAsyncConcurrent) {
    auto r = run(std::string(SYNC_ASYNC) + " 0.2");  // tasks sleep 0.1 s
    auto sync_part = r.out.substr(0, r.out.find("Asynchronous:"));
    std::string expected = "Synchronous:\n";
    for (int i = 0; i < 10; ++i) expected += "Task " + std::to_string(i) + " done\n";
    EXPECT_EQ(sync_part.substr(0, expected.size()), expected);
    std::smatch m;
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("synchronous took ([0-9.]+) s")));
    EXPECT_GE(std::stod(m[1]), 0.99);
    ASSERT_TRUE(std::regex_search(r.out, m, std::regex("asynchronous took ([0-9.]+) s")));
    EXPECT_LT(std::stod(m[1]), 0.5);  // ten 0.1 s sleeps overlap
    int async_done = 0;
    for (std::size_t pos = r.out.find("Asynchronous:");
         (pos = r.out.find(" done", pos + 1)) != std::string::npos;)
        ++async_done;
    EXPECT_EQ(async_done, 10);
}

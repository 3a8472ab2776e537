// The seed's process lessons as programs: each must print exactly the expected lines and exit
// 0, natively and under greenrun (where every process runs its own hub and the pipes between
// processes are waited on cooperatively).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/command.hpp"

namespace {

// The program's stdout natively and then under greenrun (not under ASan), each checked.
void expect_output(const std::string& command, const std::string& expected) {
    std::vector<std::string> prefixes = {""};
#ifndef GREEN_SANITIZED
    prefixes.push_back(std::string(GREENRUN) + " -- ");
#endif
    for (const auto& prefix : prefixes) {
        const auto run = green_test::run_command("timeout 60 " + prefix + command);
        EXPECT_EQ(run.status, 0) << prefix << command;
        EXPECT_EQ(run.out, expected) << prefix << command;
    }
}

TEST(ProcessExamples, DuplexPipeBetweenTwoApps) {
    expect_output(PIPE_LOGIN,
                  "启动app1, 请登录\n"
                  "请求app2授权\n"
                  "app1 可以用你的账号登录吗? \n"
                  "登录成功:  ('Joy', '123')\n");
}

TEST(ProcessExamples, PoolMapsAThousandItemsInOrder) {
    std::string squares = "[";
    for (long i = 0; i < 1000; ++i) squares += (i ? ", " : "") + std::to_string(i * i);
    expect_output(std::string(PROCESS_POOL) + " 4 1000",
                  squares + "]\n1000 results in order from a pool of 4 processes\n");
}

TEST(ProcessExamples, SharedCounterUnderAProcessSharedMutex) {
    expect_output(std::string(SHARED_COUNTER) + " 4 10000", "余额: 45000 (5000 + 4 x 10000)\n");
}

}  // namespace

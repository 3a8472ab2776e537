// Runs each threading lesson as a program and checks its output: exactly where the seed shows
// it, by property (five at a time, order of production and consumption) where it is random.
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/command.hpp"

namespace {

// Its stdout and stderr, exit code and time taken.
green_test::CommandRun run(const std::string& cmd) {
    return green_test::run_command(cmd + " 2>&1");
}

std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::istringstream in(s);
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

TEST(ThreadingExamples, CounterWithoutLockIs99) {
    auto r = run(THREADING_COUNTER);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "Result:  99\n");
    EXPECT_LT(r.seconds, 5.0);  // the 100 sleeps overlap
}

TEST(ThreadingExamples, CounterWithLockIs0) {
    auto r = run(std::string(THREADING_COUNTER) + " --lock --sleep-ms 10");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "result:  0\n");
    EXPECT_GE(r.seconds, 0.99);  // serialised: 100 x 10 ms
}

TEST(ThreadingExamples, SemaphoreLetsFiveInAtATime) {
    auto r = run(std::string(THREADING_SEMAPHORE) + " --sleep-ms 300");
    ASSERT_EQ(r.status, 0) << r.out;
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 21u) << r.out;
    EXPECT_EQ(ls.back(), "at most 5 inside at once");
    std::regex re(R"(\[\s*([0-9.]+)\] Thread-(\d+) get semaphore)");
    std::vector<double> times;
    std::vector<int> ids;
    for (size_t i = 0; i < 20; ++i) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(ls[i], m, re)) << ls[i];
        times.push_back(std::stod(m[1]));
        ids.push_back(std::stoi(m[2]));
    }
    // FIFO: workers enter in the order they were started, five per 0.3 s batch.
    for (int i = 0; i < 20; ++i) EXPECT_EQ(ids[i], i + 1);
    for (int batch = 0; batch < 4; ++batch) {
        for (int k = 0; k < 5; ++k) {
            double t = times[batch * 5 + k];
            EXPECT_NEAR(t, times[batch * 5], 0.1) << "line " << batch * 5 + k;
        }
        if (batch > 0) {
            EXPECT_GE(times[batch * 5] - times[batch * 5 - 1], 0.25);
        }
    }
}

TEST(ThreadingExamples, EventLetsWorkersConnectAfterTheCheck) {
    auto r = run(std::string(THREADING_EVENT) + " --unit-ms 20");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "Thread-1 等待连接mysql。。。\n"
              "Thread-2 等待连接mysql。。。\n"
              "正在检查mysql。。。\n"
              "Mysql初始化成功，Thread-1开始连接。。。\n"
              "Mysql初始化成功，Thread-2开始连接。。。\n");
}

TEST(ThreadingExamples, EventRetryCountsAttempts) {
    // The database comes up after 0.5 s: attempts at 0, 0.2 and 0.4 s.
    auto r = run(std::string(THREADING_EVENT_RETRY) + " --check-ms 500");
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "Thread-1 第 <1> 次尝试连接。。。\n"
              "Thread-2 第 <1> 次尝试连接。。。\n"
              "正在检查mysql。。。\n"
              "Thread-1 第 <2> 次尝试连接。。。\n"
              "Thread-2 第 <2> 次尝试连接。。。\n"
              "Thread-1 第 <3> 次尝试连接。。。\n"
              "Thread-2 第 <3> 次尝试连接。。。\n"
              "Mysql初始化成功，Thread-1 开始连接。。。\n"
              "Mysql初始化成功，Thread-2 开始连接。。。\n");
}

TEST(ThreadingExamples, TimerRunsHelloAfterASecond) {
    auto r = run(THREADING_TIMER);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out, "hello, world\n");
    EXPECT_GE(r.seconds, 0.99);
    EXPECT_LT(r.seconds, 5.0);
}

TEST(ThreadingExamples, QueuesPrintTheSeedsOrders) {
    auto r = run(THREADING_QUEUES);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "first\nsecond\nthird\n"
              "third\nsecond\nfirst\n"
              "(10, 'b')\n(20, 'a')\n(30, 'c')\n");
}

TEST(ThreadingExamples, ProducerConsumerEatsEveryBaoziInOrder) {
    auto r = run(std::string(THREADING_PRODUCER_CONSUMER) + " --unit-ms 5");
    ASSERT_EQ(r.status, 0) << r.out;
    auto ls = lines(r.out);
    ASSERT_FALSE(ls.empty());
    EXPECT_EQ(ls.back(), "ending!");
    std::map<int, size_t> produced_at, eaten_at;
    std::regex made(R"(Producer A has produced (\d+) baozi\.\.)");
    std::regex ate(R"(Consumer B has eat (\d+) baozi\.\.\.)");
    int next_made = 0, next_eaten = 0, making = 0, ok = 0;
    for (size_t i = 0; i < ls.size(); ++i) {
        std::smatch m;
        if (std::regex_match(ls[i], m, made)) {
            EXPECT_EQ(std::stoi(m[1]), next_made++);
            produced_at[std::stoi(m[1])] = i;
        } else if (std::regex_match(ls[i], m, ate)) {
            EXPECT_EQ(std::stoi(m[1]), next_eaten++);
            eaten_at[std::stoi(m[1])] = i;
        } else if (ls[i] == "making....") {
            ++making;
        } else if (ls[i] == "ok....") {
            ++ok;
        } else {
            EXPECT_EQ(ls[i], "ending!") << "unexpected line " << i;
        }
    }
    EXPECT_EQ(next_made, 10);
    EXPECT_EQ(next_eaten, 10);
    EXPECT_EQ(making, 10);
    EXPECT_EQ(ok, 10);
    // Nothing is eaten before it was produced ("produced" is printed right after put(), before
    // the producer yields to anyone).
    for (int i = 0; i < 10; ++i) EXPECT_GT(eaten_at[i], produced_at[i]) << "baozi " << i;
}

TEST(ThreadingExamples, TwoLocksDeadlockRaisesLoopExitInsteadOfHanging) {
    auto r = run(std::string(THREADING_DEADLOCK) + " --sleep-ms 20");
    EXPECT_EQ(r.status, 1);
    EXPECT_EQ(r.out,
              "Thread-1 拿到A锁\n"
              "Thread-1 拿到B锁\n"
              "Thread-1 拿到B锁\n"
              "Thread-2 拿到A锁\n"
              "然后就卡住，死锁了: green::LoopExit: this operation would block forever\n");
    EXPECT_LT(r.seconds, 10.0);
}

TEST(ThreadingExamples, OneRLockLetsAllTenFinish) {
    auto r = run(std::string(THREADING_DEADLOCK) + " --rlock --sleep-ms 5");
    ASSERT_EQ(r.status, 0) << r.out;
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 41u) << r.out;
    EXPECT_EQ(ls.back(), "all ten finished");
    // Each thread takes A, B, B, A in that order (func1 then func2), whatever the interleaving.
    std::map<int, std::string> order;
    std::regex re(R"(Thread-(\d+) 拿到([AB])锁)");
    for (size_t i = 0; i + 1 < ls.size(); ++i) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(ls[i], m, re)) << ls[i];
        order[std::stoi(m[1])] += m[2];
    }
    ASSERT_EQ(order.size(), 10u);
    for (auto& [n, taken] : order) EXPECT_EQ(taken, "ABBA") << "Thread-" << n;
}

TEST(ThreadingExamples, LocalKeepsOneValuePerGreenlet) {
    auto r = run(THREADING_LOCAL);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.out,
              "one (inThread-A)内存地址独立\n"
              "two (inThread-B)内存地址独立\n"
              "主线程的值为main-Thread\n");
}

TEST(ThreadingExamples, PoolAndThreadPoolMapInOrder) {
    auto r = run(std::string(THREADING_POOL_MAP) + " --task-ms 50");
    ASSERT_EQ(r.status, 0) << r.out;
    auto ls = lines(r.out);
    ASSERT_EQ(ls.size(), 3u) << r.out;
    EXPECT_EQ(ls[0],
              "Pool(5).map: 0 1 4 9 16 25 36 49 64 81 100 121 144 169 196 225 256 289 324 361");
    EXPECT_EQ(ls[1],
              "ThreadPool(4): 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 "
              "116 117 118 119");
    // Five at a time: 4 task times ideally; one at a time would take 20.
    std::smatch m;
    ASSERT_TRUE(std::regex_search(ls[2], m, std::regex(R"(Pool\(5\) took ([0-9.]+) task times)")));
    EXPECT_LT(std::stod(m[1]), 15.0);
}

TEST(ThreadingExamples, DaemonThreadEndsWithTheProcess) {
    std::vector<std::string> prefixes = {""};
#ifdef GREENRUN
    prefixes.push_back(std::string(GREENRUN) + " -- ");
#endif
    for (const auto& prefix : prefixes) {
        // A joined thread keeps the process alive: the daemon's line comes first.
        auto r = run(prefix + THREADING_DAEMON + " --unit-ms 300");
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.out, "主线程\n这是线程1\n这是线程2\n") << prefix;
        // Nothing to wait for: the process ends, the daemon with it, before it prints.
        // (The daemon sleeps 4 s, far longer than even a sanitizer's exit takes.)
        r = run(prefix + THREADING_DAEMON + " --unit-ms 2000 --alone");
        EXPECT_EQ(r.status, 0);
        EXPECT_EQ(r.out, "主线程\n") << prefix;
        EXPECT_LT(r.seconds, 3.5) << prefix;  // it did not wait for the daemon
    }
}

}  // namespace

// Linked hooks, waiting for children: fibers each blocked in waitpid (or wait4, waitid) on a
// child of their own overlap, and the hub keeps running other fibers meanwhile.
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include <green/green.hpp>

namespace {

// A child that sleeps ms (a raw nanosleep: nothing of the parent's hub runs in it), then exits.
pid_t child_exiting(int ms, int code) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1000000L};
        ::syscall(SYS_nanosleep, &ts, nullptr);
        ::_exit(code);
    }
    return pid;
}

// A fiber that counts 10 ms sleeps until stopped: it moves only while the hub runs it.
struct Ticker {
    int ticks = 0;
    bool done = false;
    green::Greenlet<void> fiber = green::spawn([this] {
        while (!done) {
            ::usleep(10 * 1000);
            ++ticks;
        }
    });
    void stop() {
        done = true;
        fiber.join();
    }
};

}  // namespace

TEST(ProcessHooks, FibersWaitForTheirChildrenConcurrently) {
    constexpr int kFibers = 8;
    Ticker ticker;
    // Overlap, counted: how many fibers had started their child when the first wait ended.
    // Waits that blocked the hub would run one after another: 1.
    int forked = 0, forked_at_first_return = -1;
    std::vector<green::Greenlet<int>> waiters;
    for (int i = 0; i < kFibers; ++i) {
        waiters.push_back(green::spawn([i, &forked, &forked_at_first_return] {
            const pid_t pid = child_exiting(200, i + 1);
            if (pid < 0) return -1;
            ++forked;
            struct FirstReturn {
                int& forked;
                int& at_first;
                ~FirstReturn() {
                    if (at_first < 0) at_first = forked;
                }
            } first_return{forked, forked_at_first_return};
            int status = 0;
            pid_t r = -1;
            if (i % 3 == 0) {
                r = ::waitpid(pid, &status, 0);
            } else if (i % 3 == 1) {
                r = ::wait4(pid, &status, 0, nullptr);
            } else {
                siginfo_t si{};
                if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED) != 0) return -2;
                return si.si_status;
            }
            return r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -3;
        }));
    }
    for (int i = 0; i < kFibers; ++i) EXPECT_EQ(waiters[static_cast<std::size_t>(i)].get(), i + 1);
    ticker.stop();
    EXPECT_EQ(forked_at_first_return, kFibers);  // every child ran while every fiber waited
    // and the hub ran the ticker meanwhile (about 20 ticks, fewer on a loaded machine)
    EXPECT_GE(ticker.ticks, 3);
}

TEST(ProcessHooks, AnyChildWaitParksOnlyTheReaper) {
    for (int i = 0; i < 3; ++i) ASSERT_GT(child_exiting(200 + 100 * i, 30 + i), 0);
    Ticker ticker;
    auto reaper = green::spawn([] {
        std::vector<int> codes;
        int status = 0;
        while (::waitpid(-1, &status, 0) > 0) codes.push_back(WEXITSTATUS(status));
        codes.push_back(errno == ECHILD ? -1 : -2);
        return codes;
    });
    EXPECT_EQ(reaper.get(), (std::vector<int>{30, 31, 32, -1}));
    ticker.stop();
    EXPECT_GE(ticker.ticks, 3);  // a hub blocked in the reaper's waits: one tick at most
}

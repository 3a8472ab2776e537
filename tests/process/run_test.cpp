// green::subprocess::run: captured output, check=true, the deadline (child killed and reaped),
// and many runs from fibers at once.
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/child_gate.hpp"
#include "support/ticker.hpp"

using namespace std::chrono_literals;
namespace sp = green::subprocess;

namespace {

// No child of this process is left, running or zombie.
bool no_children_left() {
    return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

}  // namespace

TEST(Run, CapturesOutputAndReturnsTheCode) {
    auto r = sp::run({"sh", "-c", "echo out; echo err >&2; exit 7"}, {.capture_output = true});
    EXPECT_EQ(r.args, (std::vector<std::string>{"sh", "-c", "echo out; echo err >&2; exit 7"}));
    EXPECT_EQ(r.returncode, 7);
    EXPECT_EQ(r.out, "out\n");
    EXPECT_EQ(r.err, "err\n");
    EXPECT_THROW(r.check_returncode(), green::CalledProcessError);
    EXPECT_EQ(sp::run({"true"}).returncode, 0);
    EXPECT_EQ(sp::run({"tr", "a-z", "A-Z"}, {.out = sp::PIPE, .input = "shout"}).out, "SHOUT");
    EXPECT_TRUE(no_children_left());
}

TEST(Run, CheckThrowsWithTheCapturedOutput) {
    try {
        sp::run({"sh", "-c", "echo partial; echo why >&2; exit 2"},
                {.capture_output = true, .check = true});
        FAIL() << "no exception";
    } catch (const green::CalledProcessError& e) {
        EXPECT_EQ(e.returncode, 2);
        EXPECT_EQ(e.out, "partial\n");
        EXPECT_EQ(e.err, "why\n");
        EXPECT_EQ(e.cmd.at(0), "sh");
        EXPECT_NE(std::string(e.what()).find("returned non-zero exit status 2"), std::string::npos);
    }
    try {
        sp::run({"sh", "-c", "kill -TERM $$"}, {.check = true});
        FAIL() << "no exception";
    } catch (const green::CalledProcessError& e) {
        EXPECT_EQ(e.returncode, -SIGTERM);
        EXPECT_NE(std::string(e.what()).find("died with signal 15"), std::string::npos);
    }
    EXPECT_NO_THROW(sp::run({"true"}, {.check = true}));
    EXPECT_THROW(sp::run({"true"}, {.out = sp::PIPE, .capture_output = true}),
                 std::invalid_argument);
}

TEST(Run, TheDeadlineKillsAndReapsTheChild) {
    try {
        sp::run({"sh", "-c", "echo begun; exec sleep 10"},
                {.capture_output = true, .timeout = 200ms});
        FAIL() << "no timeout";
    } catch (const green::TimeoutExpired& e) {
        EXPECT_EQ(e.out, "begun\n");
    }
    EXPECT_TRUE(no_children_left());
}

// Ten children run from ten fibers at once: every one has started before the first ends (a hub
// blocked in one child's wait would run them one after another), and they end only once a
// ticker fiber ticked 10 times with all ten fibers waiting.
TEST(Run, ManyFibersRunChildrenConcurrently) {
    constexpr int kFibers = 10;
    green_test::Ticker ticker;
    green_test::ChildGate gate;  // the children inherit its read end: close_fds off
    int started = 0, started_at_first_end = -1;
    std::vector<green::Greenlet<std::string>> runs;
    for (int i = 0; i < kFibers; ++i) {
        runs.push_back(green::spawn([&, i] {
            green::Popen p({"sh", "-c", gate.shell_wait() + " && echo " + std::to_string(i)},
                           {.out = sp::PIPE, .close_fds = false});
            ++started;
            auto out = p.communicate().first;
            if (started_at_first_end < 0) started_at_first_end = started;
            return out;
        }));
    }
    // The gate opens once all ten children started and the ticker then ticked 10 times with
    // every fiber parked in communicate. A wait that blocked the hub would stop the opener: the
    // children would give up after 10 s, with no output.
    auto opener = green::spawn([&] {
        while (started < kFibers) green::yield();
        ticker.wait_ticks(10);
        gate.open();
    });
    for (int i = 0; i < kFibers; ++i)
        EXPECT_EQ(runs[static_cast<std::size_t>(i)].get(), std::to_string(i) + "\n");
    opener.join();
    EXPECT_EQ(started_at_first_end, kFibers);
}

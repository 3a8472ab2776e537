// green::Popen: starting children (and failing to), pipes in every direction, communicate
// without deadlocks, wait/poll with deadlines, signals and return codes.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <system_error>
#include <vector>

#include <green/green.hpp>

#include "support/child_gate.hpp"
#include "support/ticker.hpp"

using namespace std::chrono_literals;
using green::subprocess::DEVNULL;
using green::subprocess::PIPE;
using green::subprocess::STDOUT;

TEST(Popen, CommunicateReadsBothStreamsAndTheExitStatus) {
    green::Popen p({"sh", "-c", "echo out; echo err >&2; exit 3"}, {.out = PIPE, .err = PIPE});
    EXPECT_GT(p.pid(), 0);
    EXPECT_GE(p.stdout_fd(), 3);
    EXPECT_EQ(p.stdin_fd(), -1);
    auto [out, err] = p.communicate();
    EXPECT_EQ(out, "out\n");
    EXPECT_EQ(err, "err\n");
    EXPECT_EQ(p.returncode(), 3);
    EXPECT_EQ(p.wait(), 3);  // again: the saved code
}

TEST(Popen, InputGoesToStdinAndStderrCanFollowStdout) {
    green::Popen p({"sh", "-c", "cat; echo done >&2"}, {.in = PIPE, .out = PIPE, .err = STDOUT});
    auto [out, err] = p.communicate("hello\n");
    EXPECT_EQ(out, "hello\ndone\n");
    EXPECT_EQ(err, "");
    EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, StdinPipeWithoutInputIsClosedByCommunicate) {
    green::Popen p({"cat"}, {.in = PIPE, .out = PIPE});
    EXPECT_EQ(p.communicate().first, "");
    EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, DevNull) {
    green::Popen p({"sh", "-c", "cat; echo x; echo y >&2"},
                   {.in = DEVNULL, .out = PIPE, .err = DEVNULL});
    EXPECT_EQ(p.communicate().first, "x\n");
}

// The child fills its stderr pipe before it reads any input, then echoes 4 MB of input: a parent
// that wrote all input before reading would wait on the child forever, and the child on it.
TEST(Popen, CommunicateMovesLargeDataBothWaysWithoutDeadlock) {
    std::string input(4 << 20, '\0');
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
    green::Popen p({"sh", "-c", "head -c 1048576 /dev/zero >&2; cat"},
                   {.in = PIPE, .out = PIPE, .err = PIPE});
    auto [out, err] = p.communicate(input, 30s);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    EXPECT_EQ(err, std::string(1 << 20, '\0'));
    EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, AChildThatStopsReadingDropsTheRestOfTheInput) {
    std::string input(1 << 20, 'x');  // more than a pipe holds
    green::Popen p({"sh", "-c", "head -c 10 >/dev/null; echo read"}, {.in = PIPE, .out = PIPE});
    EXPECT_EQ(p.communicate(input).first, "read\n");  // EPIPE (and SIGPIPE) absorbed
    EXPECT_EQ(p.returncode(), 0);
}

TEST(Popen, ExecFailureIsAnExceptionInTheParent) {
    try {
        green::Popen p({"/nonexistent/green-no-such-program"});
        FAIL() << "started";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOENT);
        EXPECT_NE(std::string(e.what()).find("green-no-such-program"), std::string::npos);
    }
    try {
        green::Popen p({"green-no-such-program-on-path"});
        FAIL() << "started";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOENT);
    }
    try {
        green::Popen p({"/etc/passwd"});  // not executable
        FAIL() << "started";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EACCES);
    }
    try {
        green::Popen p({"true"}, {.cwd = "/nonexistent-green-dir"});
        FAIL() << "started";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), ENOENT);
        EXPECT_NE(std::string(e.what()).find("/nonexistent-green-dir"), std::string::npos);
    }
    EXPECT_THROW(green::Popen({}), std::invalid_argument);
    EXPECT_THROW(green::Popen({"true"}, {.out = STDOUT}), std::invalid_argument);
    green::Popen p({"true"});
    EXPECT_THROW(p.communicate("input, but no stdin pipe"), std::invalid_argument);
    EXPECT_EQ(p.wait(), 0);
}

TEST(Popen, EnvironmentAndWorkingDirectory) {
    green::Popen p(
        {"sh", "-c", "echo \"$GREEN_X\"; pwd; echo \"${HOME-unset}\""},
        {.out = PIPE, .env = std::vector<std::string>{"GREEN_X=forty two"}, .cwd = "/tmp"});
    EXPECT_EQ(p.communicate().first, "forty two\n/tmp\nunset\n");
}

TEST(Popen, CloseFdsClosesInheritedDescriptors) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);  // not close-on-exec: a child inherits it unless close_fds
    const std::string check =
        "test -e /proc/self/fd/" + std::to_string(fds[1]) + " && echo open || echo closed";
    {
        green::Popen p({"sh", "-c", check}, {.out = PIPE});
        EXPECT_EQ(p.communicate().first, "closed\n");
    }
    {
        green::Popen p({"sh", "-c", check}, {.out = PIPE, .close_fds = false});
        EXPECT_EQ(p.communicate().first, "open\n");
    }
    ::close(fds[0]);
    ::close(fds[1]);
}

TEST(Popen, WaitAndPollWithDeadlines) {
    green::Popen p({"sleep", "10"});
    EXPECT_EQ(p.poll(), std::nullopt);
    const auto t0 = green::Clock::now();
    EXPECT_THROW(p.wait(50ms), green::TimeoutExpired);
    EXPECT_GE(green::Clock::now() - t0, 50ms);
    EXPECT_EQ(p.returncode(), std::nullopt);
    p.terminate();
    EXPECT_EQ(p.wait(), -SIGTERM);
    EXPECT_EQ(p.poll(), -SIGTERM);
    p.kill();  // reaped already: nothing happens
    EXPECT_EQ(p.returncode(), -SIGTERM);
}

TEST(Popen, ReturncodeOfASignalIsNegative) {
    green::Popen p({"sh", "-c", "kill -KILL $$"});
    EXPECT_EQ(p.wait(), -SIGKILL);
    green::Popen q({"sleep", "10"});
    q.send_signal(SIGINT);  // a clean signal state: not blocked or ignored in the child
    EXPECT_EQ(q.wait(), -SIGINT);
}

TEST(Popen, CommunicateTimesOutAndCarriesOn) {
    green::Popen p({"sh", "-c", "echo a; sleep 0.3; echo b"}, {.out = PIPE});
    try {
        p.communicate({}, 100ms);
        FAIL() << "no timeout";
    } catch (const green::TimeoutExpired& e) {
        EXPECT_EQ(e.out, "a\n");
    }
    EXPECT_EQ(p.communicate().first, "a\nb\n");  // all of it, as Python returns
    EXPECT_EQ(p.returncode(), 0);
}

// Reading a child's output never blocks the hub: the child writes its line only once a ticker
// fiber ticked 5 times with this fiber parked in communicate (the opener's count starts then). A
// read that held the hub would stop the opener, and the child would give up at the gate after
// 10 s without its line.
TEST(Popen, ReadingOutputLeavesTheHubRunning) {
    green_test::Ticker ticker;
    green_test::ChildGate gate;  // the child inherits its read end: close_fds off
    green::Popen p({"sh", "-c", gate.shell_wait() + " && echo late"},
                   {.out = PIPE, .close_fds = false});
    auto opener = ticker.after_ticks(5, [&] { gate.open(); });
    EXPECT_EQ(p.communicate().first, "late\n");
    EXPECT_EQ(p.returncode(), 0);
    opener.join();
}

TEST(Popen, Movable) {
    std::vector<green::Popen> children;
    for (int i = 0; i < 3; ++i)
        children.emplace_back(std::vector<std::string>{"sh", "-c", "exit " + std::to_string(i)});
    green::Popen moved = std::move(children[2]);
    EXPECT_EQ(moved.wait(), 2);
    EXPECT_EQ(children[0].wait(), 0);
    EXPECT_EQ(children[1].wait(), 1);
}

// A fiber killed (or timed out by a green::Timeout) inside communicate, wait or run: the child
// is killed and reaped by the time the Popen is gone, its pipes are closed, nothing is leaked.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include <green/green.hpp>

using namespace std::chrono_literals;
namespace sp = green::subprocess;

namespace {

int open_fds() {
    int n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (::readdir(d)) ++n;
    ::closedir(d);
    return n;
}

// Gone: not running, not a zombie (kill(pid, 0) succeeds on both).
bool gone(pid_t pid) {
    return ::kill(pid, 0) == -1 && errno == ESRCH;
}

// No child of this process is left, running or zombie, within `limit`.
bool children_gone_within(green::Duration limit) {
    const green::Deadline deadline(limit);
    while (!(::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD)) {
        if (deadline.expired()) return false;
        green::sleep(10ms);
    }
    return true;
}

// Runs body(pid) in a fiber and kills the fiber once body has started its child (the start runs
// on the offload pool and can take a while on a loaded machine) and waits in it.
template <class Body>
pid_t kill_inside(Body body) {
    pid_t pid = -1;
    auto g = green::spawn([&] { body(pid); });
    const green::Deadline started(10s);
    while (pid <= 0 && !started.expired()) green::sleep(5ms);
    EXPECT_GT(pid, 0);
    green::sleep(50ms);
    EXPECT_FALSE(g.ready());
    g.kill();
    EXPECT_TRUE(g.killed());
    return pid;
}

}  // namespace

TEST(PopenKill, KilledInsideCommunicate) {
    green::sleep(0s);  // the hub's own descriptors exist before counting
    const int before = open_fds();
    const pid_t pid = kill_inside([](pid_t& pid) {
        green::Popen p({"sh", "-c", "echo hi; exec sleep 10"},
                       {.in = sp::PIPE, .out = sp::PIPE, .err = sp::PIPE});
        pid = p.pid();
        p.communicate(std::string(1 << 20, 'x'));  // sleep never reads: the write waits too
    });
    EXPECT_TRUE(gone(pid));
    EXPECT_EQ(open_fds(), before);
}

TEST(PopenKill, KilledInsideWait) {
    green::sleep(0s);
    const int before = open_fds();
    const pid_t pid = kill_inside([](pid_t& pid) {
        green::Popen p({"sleep", "10"}, {.out = sp::PIPE});
        pid = p.pid();
        p.wait();
    });
    EXPECT_TRUE(gone(pid));
    EXPECT_EQ(open_fds(), before);
}

// Killed while the start itself runs on the offload pool: the start finishes in the background
// and the child it made, which no Popen took, is killed and reaped, its pipes closed.
TEST(PopenKill, KilledWhileStarting) {
    green::sleep(0s);
    green::offload([] {});  // the pool's threads exist before counting descriptors
    const int before = open_fds();
    auto g = green::spawn([] {
        green::Popen p({"sleep", "10"}, {.in = sp::PIPE, .out = sp::PIPE});
        p.wait();
    });
    green::sleep(0s);  // g runs up to the start's wait, then is killed there
    g.kill();
    EXPECT_TRUE(g.killed());
    // The start may not have begun yet (no child, no pipes): wait until the pool has run it.
    const green::Deadline started(10s);
    for (auto s = green::hub_stats(); (s.offload_busy || s.offload_queued) && !started.expired();
         s = green::hub_stats())
        green::sleep(5ms);
    EXPECT_TRUE(children_gone_within(10s));
    const green::Deadline closed(10s);
    while (open_fds() != before && !closed.expired()) green::sleep(10ms);
    EXPECT_EQ(open_fds(), before);
}

TEST(PopenKill, KilledInsideRun) {
    green::sleep(0s);
    const int before = open_fds();
    auto g = green::spawn([] { sp::run({"sh", "-c", "exec sleep 10"}, {.capture_output = true}); });
    const green::Deadline started(10s);  // until run's child exists (waitpid: 0, not ECHILD)
    while (::waitpid(-1, nullptr, WNOHANG) != 0 && !started.expired()) green::sleep(5ms);
    green::sleep(50ms);
    EXPECT_FALSE(g.ready());
    g.kill();
    EXPECT_TRUE(g.killed());
    EXPECT_TRUE(::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD);  // reaped
    EXPECT_EQ(open_fds(), before);
}

TEST(PopenKill, GreenTimeoutInsideCommunicateLeavesTheChildToItsPopen) {
    green::Popen p({"sh", "-c", "sleep 0.3; echo finally"}, {.out = sp::PIPE});
    {
        green::Timeout t(50ms);
        EXPECT_THROW(p.communicate(), green::Timeout);
    }
    EXPECT_EQ(p.poll(), std::nullopt);  // still running: only the wait was cut short
    EXPECT_EQ(p.communicate().first, "finally\n");
    EXPECT_EQ(p.returncode(), 0);
}

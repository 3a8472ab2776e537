// Linked hooks, fork: the child gets an event loop of its own (gevent's reinit) — its fibers
// sleep and do I/O — while the parent's registrations are untouched by whatever the child does
// with the descriptors they share; exec from a forked fiber works.
#include <netdb.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <green/green.hpp>

#include "support/fd_pair.hpp"
#include "support/stopwatch.hpp"

using namespace std::chrono_literals;
using namespace green_test;

namespace {

int wait_child(pid_t pid) {
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(ForkHooks, ChildRunsFibersOnAFreshLoopAndParentIsUndisturbed) {
    Fds shared = make_pipe();
    // The parent waits on shared.a across the fork.
    auto parent_reader = green::spawn([&] {
        char buf[8] = {};
        const ssize_t n = ::read(shared.a, buf, sizeof buf);
        return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    });
    green::sleep(10ms);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        // Child: close the shared read end (a parent registration must survive this), then
        // run fibers that sleep and talk over a new pipe.
        ::close(shared.a);
        Fds mine = make_pipe();
        auto a = green::spawn([] { ::usleep(50 * 1000); });
        auto b = green::spawn([&] {
            char c = 0;
            return ::read(mine.a, &c, 1) == 1 && c == 'k';
        });
        auto c = green::spawn([&] {
            ::usleep(20 * 1000);
            return ::write(mine.b, "k", 1) == 1;
        });
        a.join();
        const bool ok = b.get() && c.get();
        ::_exit(ok ? 0 : 3);
    }
    EXPECT_EQ(wait_child(pid), 0);
    EXPECT_FALSE(parent_reader.ready());
    EXPECT_EQ(::write(shared.b, "after", 5), 5);
    EXPECT_EQ(parent_reader.get(), "after");
}

TEST(ForkHooks, ForkFromAFiberThenExec) {
    auto g = green::spawn([] {
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::execl("/bin/sh", "sh", "-c", "exit 7", static_cast<char*>(nullptr));
            ::_exit(99);
        }
        return wait_child(pid);
    });
    EXPECT_EQ(g.get(), 7);
    // The parent's hub still works.
    const auto t0 = green::Clock::now();
    ::usleep(10 * 1000);
    EXPECT_GE(since(t0), 10ms);
}

TEST(ForkHooks, ChildCanResolveNamesAfterTheParentStartedItsPool) {
    // Make sure the offload pool has threads in the parent.
    green::offload([] { return 1; });
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        auto g = green::spawn([] {
            addrinfo* res = nullptr;
            const int rc = ::getaddrinfo("localhost", nullptr, nullptr, &res);
            if (rc == 0) ::freeaddrinfo(res);
            return rc;
        });
        ::_exit(g.get() == 0 ? 0 : 4);
    }
    EXPECT_EQ(wait_child(pid), 0);
}

// Linked hooks, waiting for children: fibers each blocked in waitpid (or wait4, waitid) on a
// child of their own overlap, and the hub keeps running other fibers meanwhile.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include <green/green.hpp>

#include "support/child_gate.hpp"
#include "support/overlap.hpp"
#include "support/ticker.hpp"

using namespace green_test;

namespace {

// A child that waits at the gate (raw system calls: nothing of the parent's hub runs in it),
// then exits with code; with 99 if the gate stayed shut.
pid_t child_exiting_at(const ChildGate& gate, int code) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(gate.wait_in_forked_child() ? code : 99);
    return pid;
}

// Waits for child pid with waitpid, wait4 or waitid (by how % 3): its exit code, or < 0.
int wait_child(pid_t pid, int how) {
    int status = 0;
    pid_t r = -1;
    if (how % 3 == 0) {
        r = ::waitpid(pid, &status, 0);
    } else if (how % 3 == 1) {
        r = ::wait4(pid, &status, 0, nullptr);
    } else {
        siginfo_t si{};
        if (::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED) != 0) return -2;
        return si.si_status;
    }
    return r == pid && WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

// A shell command run with system() (output discarded) or popen() (its one line checked
// against i): the shell's exit code, or < 0.
int shell_exit(const std::string& cmd, bool use_popen, int i) {
    if (!use_popen) {
        const int s = ::system(("{ " + cmd + "; } >/dev/null").c_str());
        return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    }
    FILE* f = ::popen(cmd.c_str(), "r");
    if (!f) return -2;
    char line[16] = {};
    const bool read = std::fgets(line, sizeof line, f) != nullptr;
    const int s = ::pclose(f);
    if (!read || std::atoi(line) != i) return -3;
    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
}

}  // namespace

TEST(ProcessHooks, FibersWaitForTheirChildrenConcurrently) {
    constexpr int kFibers = 8;
    Ticker ticker;
    ChildGate gate;
    // Overlap, counted: how many fibers had started their child when the first wait ended.
    // Waits that blocked the hub would run one after another: 1.
    Overlap overlap;
    std::vector<green::Greenlet<int>> waiters;
    for (int i = 0; i < kFibers; ++i) {
        waiters.push_back(green::spawn([i, &gate, &overlap] {
            const pid_t pid = child_exiting_at(gate, i + 1);
            if (pid < 0) return -1;
            overlap.enter();
            const int code = wait_child(pid, i);
            overlap.woke();
            return code;
        }));
    }
    // The children end only once the gate opens, and the opener (queued after every waiter)
    // opens it after the ticker ticked 10 times with every fiber parked in its wait. A wait that
    // blocked the hub would stop both: its child would exit 99 after 10 s.
    auto opener = ticker.after_ticks(10, [&] { gate.open(); });
    for (int i = 0; i < kFibers; ++i) EXPECT_EQ(waiters[static_cast<std::size_t>(i)].get(), i + 1);
    opener.join();
    EXPECT_EQ(overlap.started_before_first_wake(), kFibers);  // every child ran while all waited
}

TEST(ProcessHooks, AnyChildWaitParksOnlyTheReaper) {
    ChildGate gates[3];
    for (int i = 0; i < 3; ++i) ASSERT_GT(child_exiting_at(gates[i], 30 + i), 0);
    Ticker ticker;
    std::vector<int> codes;
    auto reaper = green::spawn([&codes] {
        int status = 0;
        while (::waitpid(-1, &status, 0) > 0) codes.push_back(WEXITSTATUS(status));
        codes.push_back(errno == ECHILD ? -1 : -2);
    });
    // One child at a time ends, each after the ticker ticked 10 times with the reaper parked:
    // a hub blocked in the reaper's waits would stop the opener, and each child would exit 99.
    auto opener = green::spawn([&] {
        for (std::size_t i = 0; i < 3; ++i) {
            ticker.wait_ticks(10);
            gates[i].open();
            while (codes.size() <= i) green::yield();
        }
    });
    reaper.join();
    opener.join();
    EXPECT_EQ(codes, (std::vector<int>{30, 31, 32, -1}));
}

// system() and popen() from fibers: the shells start on the offload pool and are waited for
// cooperatively, so ten calls overlap (counted, as above) and the ticker runs meanwhile.
TEST(ProcessHooks, SystemAndPopenFromFibersOverlap) {
    constexpr int kFibers = 10;
    for (bool use_popen : {false, true}) {
        Ticker ticker;
        ChildGate gate;
        Overlap overlap;
        std::vector<green::Greenlet<int>> callers;
        for (int i = 0; i < kFibers; ++i) {
            callers.push_back(green::spawn([i, use_popen, &gate, &overlap] {
                overlap.enter();
                const int code = shell_exit(gate.shell_wait() + " && echo " + std::to_string(i) +
                                                " && exit " + std::to_string(i + 1),
                                            use_popen, i);
                overlap.woke();
                return code;
            }));
        }
        // The shells end only once the gate opens, after the ticker ticked 10 times with every
        // caller parked (the opener is queued after them): a call that blocked the hub would
        // stop both, and its shell would give up after 10 s with status 124.
        auto opener = ticker.after_ticks(10, [&] { gate.open(); });
        for (int i = 0; i < kFibers; ++i)
            EXPECT_EQ(callers[static_cast<std::size_t>(i)].get(), i + 1) << use_popen;
        opener.join();
        EXPECT_EQ(overlap.started_before_first_wake(), kFibers) << use_popen;
    }
}

// A fiber killed in system(): the shell is killed and reaped (no zombie, no child left), and
// the caller's signal state is restored.
TEST(ProcessHooks, KilledSystemCallerReapsItsShell) {
    sigset_t before;
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, nullptr, &before), 0);
    auto caller = green::spawn([] { return ::system("sleep 5"); });
    green::sleep(std::chrono::milliseconds(100));
    caller.kill();
    EXPECT_TRUE(caller.ready());
    errno = 0;
    EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
    EXPECT_EQ(errno, ECHILD);
    sigset_t after;
    ASSERT_EQ(::sigprocmask(SIG_BLOCK, nullptr, &after), 0);
    EXPECT_EQ(sigismember(&after, SIGCHLD), sigismember(&before, SIGCHLD));
    struct sigaction intr {};
    ASSERT_EQ(::sigaction(SIGINT, nullptr, &intr), 0);
    EXPECT_NE(intr.sa_handler, SIG_IGN);
}

// A POSIX record lock held by another process: the fiber's F_SETLKW waits in the kernel on a
// helper thread while the hub runs the ticker; a killed waiter unwinds once the helper's call
// was ended, and never takes the lock.
TEST(ProcessHooks, RecordLockWaitsInTheKernelBesideOtherFibers) {
    char path[] = "/tmp/green_lock_test.XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    ChildGate release;
    const pid_t holder = ::fork();
    if (holder == 0) {
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        const int cfd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, O_RDWR));
        if (cfd < 0 || ::syscall(SYS_fcntl, cfd, F_SETLK, &fl) != 0) ::_exit(3);
        (void)!::syscall(SYS_write, ready[1], "x", 1);
        ::_exit(release.wait_in_forked_child() ? 0 : 4);
    }
    ASSERT_GT(holder, 0);
    char x;
    ASSERT_EQ(::read(ready[0], &x, 1), 1);
    ::close(ready[0]);
    ::close(ready[1]);
    auto lock = [fd] {
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        return ::fcntl(fd, F_SETLKW, &fl);
    };
    auto killed = green::spawn(lock);
    green::sleep(std::chrono::milliseconds(50));
    killed.kill();
    EXPECT_TRUE(killed.ready());
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    ASSERT_EQ(::fcntl(fd, F_GETLK, &probe), 0);
    EXPECT_EQ(probe.l_pid, holder);  // still the holder's: the killed wait took nothing
    Ticker ticker;
    auto waiter = green::spawn(lock);
    // The holder lets go once the ticker ticked 10 times with the waiter parked in F_SETLKW: a
    // wait that held the hub would stop the opener, and the holder would exit 4 after 10 s.
    auto opener = ticker.after_ticks(10, [&] { release.open(); });
    EXPECT_EQ(waiter.get(), 0);
    opener.join();
    int status = 0;
    EXPECT_EQ(::waitpid(holder, &status, 0), holder);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ::close(fd);
    ::unlink(path);
}

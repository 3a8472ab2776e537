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

// system() and popen() from fibers: the shells start on the offload pool and are waited for
// cooperatively, so ten calls overlap (counted, as above) and the ticker runs meanwhile.
TEST(ProcessHooks, SystemAndPopenFromFibersOverlap) {
    constexpr int kFibers = 10;
    for (bool use_popen : {false, true}) {
        Ticker ticker;
        int started = 0, started_at_first_return = -1;
        std::vector<green::Greenlet<int>> callers;
        for (int i = 0; i < kFibers; ++i) {
            callers.push_back(green::spawn([i, use_popen, &started, &started_at_first_return] {
                ++started;
                struct FirstReturn {
                    int& started;
                    int& at_first;
                    ~FirstReturn() {
                        if (at_first < 0) at_first = started;
                    }
                } first_return{started, started_at_first_return};
                const std::string cmd =
                    "sleep 0.2; echo " + std::to_string(i) + "; exit " + std::to_string(i + 1);
                if (!use_popen) {
                    const int s = ::system((cmd + " >/dev/null").c_str());
                    return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
                }
                FILE* f = ::popen(cmd.c_str(), "r");
                if (!f) return -2;
                char line[16] = {};
                const bool read = std::fgets(line, sizeof line, f) != nullptr;
                const int s = ::pclose(f);
                if (!read || std::atoi(line) != i) return -3;
                return WIFEXITED(s) ? WEXITSTATUS(s) : -1;
            }));
        }
        for (int i = 0; i < kFibers; ++i)
            EXPECT_EQ(callers[static_cast<std::size_t>(i)].get(), i + 1) << use_popen;
        ticker.stop();
        EXPECT_EQ(started_at_first_return, kFibers) << use_popen;
        EXPECT_GE(ticker.ticks, 3) << use_popen;
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
    const pid_t holder = ::fork();
    if (holder == 0) {
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        const int cfd = static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, O_RDWR));
        if (cfd < 0 || ::syscall(SYS_fcntl, cfd, F_SETLK, &fl) != 0) ::_exit(3);
        (void)!::syscall(SYS_write, ready[1], "x", 1);
        timespec ts{0, 400 * 1000000L};
        ::syscall(SYS_nanosleep, &ts, nullptr);
        ::_exit(0);
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
    EXPECT_EQ(waiter.get(), 0);
    ticker.stop();
    EXPECT_GE(ticker.ticks, 3);
    int status = 0;
    EXPECT_EQ(::waitpid(holder, &status, 0), holder);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ::close(fd);
    ::unlink(path);
}

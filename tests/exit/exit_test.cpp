// Ending the process from inside a fiber: std::exit, quick_exit and _exit must end it as they
// would from a plain thread — the status passed, buffered stdout flushed, atexit handlers run —
// on the main thread's hub and on another thread's, with other fibers parked. Each case runs in
// a forked child whose stdout (a pipe, so fully buffered) the test reads back.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include <green/event.hpp>
#include <green/greenlet.hpp>
#include <green/hub.hpp>
#include <green/raw_greenlet.hpp>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

using namespace std::chrono_literals;

namespace {

struct ChildResult {
    int status = -1;  // as from waitpid
    std::string out;  // everything the child wrote to stdout
};

// Runs `body` in a forked child with stdout on a pipe; the child must end the process itself
// (returning from `body` exits with 99). A child that hangs is killed by its alarm after 10 s.
ChildResult run_child(const std::function<void()>& body) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::alarm(10);
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
        body();
        std::_Exit(99);
    }
    ::close(fds[1]);
    ChildResult r;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    EXPECT_EQ(::waitpid(pid, &r.status, 0), pid);
    return r;
}

int exit_code(const ChildResult& r) {
    if (WIFEXITED(r.status)) return WEXITSTATUS(r.status);
    return WIFSIGNALED(r.status) ? 1000 + WTERMSIG(r.status) : -1;  // 1011: SIGSEGV
}

void print_at_exit() {
    std::printf("atexit\n");
}
void print_at_quick_exit() {
    std::printf("at_quick_exit\n");
    std::fflush(stdout);  // quick_exit does not flush stdio
}

// Fibers parked in each kind of wait, which the exit must not trip over. A process that exits
// never unwinds fibers left parked, so what only their stacks reference stays allocated; their
// stacks are not thread stacks, so LeakSanitizer would call that a leak.
void park_some_fibers(green::Event& never) {
#ifdef __SANITIZE_ADDRESS__
    __lsan_disable();  // for this thread, from here on: the child ends without enabling it
#endif
    for (int i = 0; i < 3; ++i) green::spawn([] { green::sleep(1h); });
    green::spawn([&never] { never.wait(); });
    green::spawn([] {
        green::Timeout t(1h);
        green::sleep(2h);
    });
    green::sleep(0ms);  // let them all park
}

TEST(ExitFromFiber, ExitFlushesStdoutAndRunsAtexitHandlers) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);
        std::printf("before\n");
        green::spawn([] {
            std::printf("x\n");
            std::exit(3);
        }).join();
    });
    EXPECT_EQ(exit_code(r), 3);
    EXPECT_EQ(r.out, "before\nx\natexit\n");
}

TEST(ExitFromFiber, ExitWhileOtherFibersAreParked) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);
        green::Event never;
        park_some_fibers(never);
        green::spawn([] {
            std::printf("x\n");
            green::sleep(1ms);
            std::exit(4);
        }).join();
    });
    EXPECT_EQ(exit_code(r), 4);
    EXPECT_EQ(r.out, "x\natexit\n");
}

TEST(ExitFromFiber, ExitFromANestedFiberWhileItsParentIsParked) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);
        green::spawn([] {
            green::spawn([] {
                std::printf("inner\n");
                std::exit(5);
            }).join();
        }).join();
    });
    EXPECT_EQ(exit_code(r), 5);
    EXPECT_EQ(r.out, "inner\natexit\n");
}

TEST(ExitFromFiber, ExitFromARawGreenlet) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);
        green::RawGreenlet g([] {
            std::printf("raw\n");
            std::exit(6);
        });
        g.switch_to();
    });
    EXPECT_EQ(exit_code(r), 6);
    EXPECT_EQ(r.out, "raw\natexit\n");
}

TEST(ExitFromFiber, QuickExitRunsItsHandlers) {
    const auto r = run_child([] {
        std::at_quick_exit(print_at_quick_exit);
        std::atexit(print_at_exit);  // not run by quick_exit
        green::Event never;
        park_some_fibers(never);
        green::spawn([] { std::quick_exit(7); }).join();
    });
    EXPECT_EQ(exit_code(r), 7);
    EXPECT_EQ(r.out, "at_quick_exit\n");
}

TEST(ExitFromFiber, UnderscoreExitEndsAtOnce) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);  // not run by _exit
        green::spawn([] {
            std::printf("x\n");
            std::fflush(stdout);
            ::_exit(8);
        }).join();
    });
    EXPECT_EQ(exit_code(r), 8);
    EXPECT_EQ(r.out, "x\n");
}

TEST(ExitFromFiber, ExitFromAFiberOfAnotherThreadsHub) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);
        green::Event never;
        park_some_fibers(never);  // the main thread's hub has parked fibers too
        std::thread t([] {
            green::Event also_never;
            park_some_fibers(also_never);
            green::spawn([] {
                std::printf("x\n");
                std::exit(9);
            }).join();
        });
        t.join();
    });
    EXPECT_EQ(exit_code(r), 9);
    EXPECT_EQ(r.out, "x\natexit\n");
}

TEST(ExitFromFiber, ExitFromTheMainFiberWhileFibersAreParked) {
    const auto r = run_child([] {
        std::atexit(print_at_exit);
        green::Event never;
        park_some_fibers(never);
        std::printf("main\n");
        std::exit(10);
    });
    EXPECT_EQ(exit_code(r), 10);
    EXPECT_EQ(r.out, "main\natexit\n");
}

TEST(ExitFromFiber, AtexitHandlerMayUseGreenAfterAFiberExited) {
    // The handler runs on the exiting fiber's stack after the hub was set aside: sleeping there
    // must still work (it gets a fresh hub or plain libc) rather than crash.
    const auto r = run_child([] {
        std::atexit([] {
            green::sleep(1ms);
            std::printf("handler slept\n");
        });
        green::spawn([] { std::exit(11); }).join();
    });
    EXPECT_EQ(exit_code(r), 11);
    EXPECT_EQ(r.out, "handler slept\n");
}

}  // namespace

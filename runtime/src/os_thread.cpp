#include "os_thread.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <system_error>

namespace green::detail {

PthreadCreateFn real_pthread_create = &::pthread_create;

std::thread start_os_thread(std::function<void()> fn) {
    // std::thread would call the (possibly interposed) pthread_create; start the thread through
    // the real one and hand it to std::thread's handle type via native_handle semantics.
    struct Start {
        std::function<void()> fn;
    };
    auto* start = new Start{std::move(fn)};
    pthread_t tid;
    // The runtime's threads take no asynchronous signal: a process-directed signal goes to a
    // thread of the program (natively there is no such extra thread to catch it). They inherit
    // a full mask; the synchronous ones stay deliverable. Raw calls: the hooks' mask emulation
    // must not see them.
    sigset_t all, old;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS}) sigdelset(&all, s);
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, &old, _NSIG / 8);
    int rc = real_pthread_create(
        &tid, nullptr,
        [](void* p) -> void* {
            std::unique_ptr<Start> s(static_cast<Start*>(p));
            s->fn();
            return nullptr;
        },
        start);
    ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, _NSIG / 8);
    if (rc != 0) {
        delete start;
        throw std::system_error(rc, std::generic_category(), "pthread_create");
    }
    std::thread t;
    // libstdc++'s std::thread is exactly one pthread_t; adopt the running thread.
    static_assert(sizeof(std::thread) == sizeof(pthread_t));
    *reinterpret_cast<pthread_t*>(&t) = tid;
    return t;
}

}  // namespace green::detail

// sigaction and signal hooks: the program's handler functions are installed behind a trampoline
// that counts the signal and writes to each hub's wake-up eventfd (async-signal-safe: an atomic
// add and write(2)), then calls the program's handler exactly as the kernel would have. Queries
// return the program's own action. Synchronous fault signals (SIGSEGV, SIGBUS, ...) never
// interrupt a wait and are not wrapped.
#include "signal_hooks.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "green/hub.hpp"
#include "patch_config.hpp"
#include "real_symbols.hpp"

namespace green::hooks {

namespace {

constexpr int kMaxHubs = 64;

std::atomic<std::uint64_t> g_count{0};
std::atomic<bool> g_handled{false};
std::atomic<int> g_wake_fds[kMaxHubs];

struct Action {
    std::atomic<bool> wrapped{false};
    struct sigaction act {};
};
Action g_actions[NSIG];
std::mutex g_actions_mu;  // writers only; the trampoline reads without it

bool wrappable(int sig) noexcept {
    switch (sig) {
        case SIGSEGV:
        case SIGBUS:
        case SIGILL:
        case SIGFPE:
        case SIGTRAP:
        case SIGSYS:
        case SIGKILL:
        case SIGSTOP:
            return false;
        default:
            return sig > 0 && sig < NSIG;
    }
}

bool is_function(const struct sigaction& a) noexcept {
    if (a.sa_flags & SA_SIGINFO) return a.sa_sigaction != nullptr;
    return a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN && a.sa_handler != nullptr;
}

void trampoline(int sig, siginfo_t* info, void* uctx) {
    const int saved = errno;
    g_count.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t one = 1;
    for (auto& slot : g_wake_fds) {
        const int fd = slot.load(std::memory_order_relaxed);
        if (fd >= 0) (void)!::syscall(SYS_write, fd, &one, sizeof one);
    }
    Action& a = g_actions[sig];
    const struct sigaction act = a.act;
    if (act.sa_flags & SA_RESETHAND) a.wrapped.store(false, std::memory_order_relaxed);
    errno = saved;
    if (act.sa_flags & SA_SIGINFO) {
        if (act.sa_sigaction) act.sa_sigaction(sig, info, uctx);
    } else if (act.sa_handler != SIG_DFL && act.sa_handler != SIG_IGN && act.sa_handler) {
        act.sa_handler(sig);
    }
    errno = saved;
}

int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old) noexcept {
    if (auto f = GREEN_REAL(sigaction)) return f(sig, act, old);
    errno = ENOSYS;
    return -1;
}

// The hub thread's slot in g_wake_fds and its eventfd.
struct WakeFd {
    int fd = -1;
    int slot = -1;
    void acquire() noexcept {
        fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) return;
        for (int i = 0; i < kMaxHubs; ++i) {
            int expect = -1;
            if (g_wake_fds[i].compare_exchange_strong(expect, fd)) {
                slot = i;
                return;
            }
        }
        ::syscall(SYS_close, fd);  // more hubs than slots: this one is not interruptible
        fd = -1;
    }
    // notify: tell this thread's hub (not in a forked child, whose hub still holds the
    // parent's event loop when this runs).
    void release(bool notify) noexcept {
        if (slot >= 0) g_wake_fds[slot].store(-1);
        if (fd >= 0) {
            if (notify) green::notify_close(fd);
            ::syscall(SYS_close, fd);
        }
        fd = slot = -1;
    }
    ~WakeFd() { release(true); }
};

thread_local WakeFd* t_wake = nullptr;

__attribute__((constructor(103))) void init_wake_slots() {
    for (auto& s : g_wake_fds) s.store(-1);
    // A forked child keeps only the forking thread, and its eventfds are shared with the parent:
    // forget every slot; the forking thread makes a fresh one when it next waits.
    ::pthread_atfork(nullptr, nullptr, [] {
        for (auto& s : g_wake_fds) s.store(-1);
        if (t_wake) {
            t_wake->slot = -1;
            t_wake->release(false);
        }
    });
}

}  // namespace

bool signals_handled() noexcept {
    return g_handled.load(std::memory_order_relaxed);
}

std::uint64_t signal_count() noexcept {
    return g_count.load(std::memory_order_acquire);
}

int hub_signal_fd() noexcept {
    thread_local WakeFd wake;
    if (wake.fd < 0) wake.acquire();
    t_wake = &wake;
    return wake.fd;
}

void drain_signal_fd(int fd) noexcept {
    std::uint64_t n;
    while (::syscall(SYS_read, fd, &n, sizeof n) > 0) {
    }
}

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int sigaction(int sig, const struct sigaction* act, struct sigaction* old) noexcept {
    if (!patch_config().io || !wrappable(sig)) return real_sigaction(sig, act, old);
    std::lock_guard lk(g_actions_mu);
    Action& a = g_actions[sig];
    struct sigaction previous {};
    const bool was_wrapped = a.wrapped.load();
    if (was_wrapped) {
        previous = a.act;
    } else if (old && real_sigaction(sig, nullptr, &previous) != 0) {
        return -1;
    }
    if (act) {
        if (is_function(*act)) {
            struct sigaction ours = *act;
            ours.sa_flags |= SA_SIGINFO;
            ours.sa_sigaction = trampoline;
            a.act = *act;  // before the kernel can deliver through the trampoline
            if (real_sigaction(sig, &ours, nullptr) != 0) {
                if (was_wrapped) a.act = previous;
                return -1;
            }
            a.wrapped.store(true);
            g_handled.store(true, std::memory_order_relaxed);
        } else {
            if (real_sigaction(sig, act, nullptr) != 0) return -1;
            a.wrapped.store(false);
        }
    }
    if (old) *old = previous;
    return 0;
}

// signal(2) as glibc does it (BSD semantics: restart, block the signal in its own handler),
// through the sigaction hook so that handlers installed this way are wrapped too.
sighandler_t signal(int sig, sighandler_t handler) noexcept {
    struct sigaction act {
    }, old{};
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < NSIG) sigaddset(&act.sa_mask, sig);
    act.sa_flags = SA_RESTART;
    if (sigaction(sig, &act, &old) != 0) return SIG_ERR;
    return old.sa_handler;
}

}  // extern "C"

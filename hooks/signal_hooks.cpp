// sigaction and signal hooks: the program's handler functions are installed behind a trampoline.
// On a hub thread the trampoline hands the signal to the delivery logic (signal_delivery.cpp),
// which picks the one fiber that receives it, as the kernel picks one thread; elsewhere it calls
// the program's handler as the kernel would have. Queries return the program's own action.
// Synchronous fault signals (SIGSEGV, SIGBUS, ...) belong to the faulting code and are not
// wrapped.
#include "signal_hooks.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "real_symbols.hpp"
#include "route.hpp"
#include "signal_state.hpp"

namespace green::hooks {

namespace {

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

int real_sigaction(int sig, const struct sigaction* act, struct sigaction* old) noexcept {
    if (auto f = GREEN_REAL(sigaction)) return f(sig, act, old);
    errno = ENOSYS;
    return -1;
}

void call_program_handler(const struct sigaction& act, int sig, siginfo_t* info, void* uctx) {
    if (act.sa_flags & SA_SIGINFO) {
        if (act.sa_sigaction) act.sa_sigaction(sig, info, uctx);
    } else if (signals::is_handler(act)) {
        act.sa_handler(sig);
    }
}

// tgkill by this process's code (abort's raise, a real thread's pthread_kill) while a fiber
// thread runs: aimed at that thread, as raise() is.
signals::ThreadSignals* directed_at(signals::HubSignals& hs, const siginfo_t& info) noexcept {
    if (!signals::emulating() || info.si_code != SI_TKILL || info.si_pid != ::getpid())
        return nullptr;
    return &signals::self(hs);
}

void trampoline(int sig, siginfo_t* info, void* uctx) {
    const int saved = errno;
    signals::HubSignals* hs = signals::here();
    if (!hs) {
        // No fiber stands for a thread here (a real thread, or a hub that never waited).
        const struct sigaction act = signals::program_action(sig);
        if (act.sa_flags & SA_RESETHAND) g_actions[sig].wrapped.store(false);
        errno = saved;
        call_program_handler(act, sig, info, uctx);
        errno = saved;
        return;
    }
    if (hs->busy) {
        hs->deferred_info[sig - 1] = *info;
        hs->deferred.fetch_or(signals::bit(sig));
        errno = saved;
        return;
    }
    signals::Delivery d;
    {
        signals::Busy b(*hs, /*in_handler=*/true);
        d = signals::decide(*hs, sig, *info, true, directed_at(*hs, *info));
    }
    signals::run(*hs, d, uctx);
    errno = saved;
}

}  // namespace

std::atomic<bool> g_signals_handled{false};

namespace signals {

bool is_handler(const struct sigaction& a) noexcept {
    if (a.sa_flags & SA_SIGINFO) return a.sa_sigaction != nullptr;
    return a.sa_handler != SIG_DFL && a.sa_handler != SIG_IGN && a.sa_handler != nullptr;
}

// The kernel's struct sigaction (rt_sigaction(2) with the raw system call, which is
// async-signal-safe), not glibc's.
struct KernelSigaction {
    void* handler;
    unsigned long flags;
    void* restorer;
    Mask mask;
};

struct sigaction program_action(int sig) noexcept {
    struct sigaction a {};
    if (sig <= 0 || sig >= NSIG) return a;
    if (g_actions[sig].wrapped.load(std::memory_order_acquire)) return g_actions[sig].act;
    // Not wrapped: the kernel holds the program's action.
    KernelSigaction k{};
    if (::syscall(SYS_rt_sigaction, sig, nullptr, &k, sizeof(Mask)) == 0) {
        a.sa_handler = reinterpret_cast<sighandler_t>(k.handler);
        a.sa_flags = static_cast<int>(k.flags);
        to_sigset(k.mask, &a.sa_mask);
    }
    return a;
}

void reset_action(int sig) noexcept {
    // The kernel resets its own disposition when it delivers; for a delivery it did not make,
    // do it here (the raw call: this may run in a handler).
    g_actions[sig].wrapped.store(false);
    KernelSigaction k{};
    ::syscall(SYS_rt_sigaction, sig, &k, nullptr, sizeof(Mask));
}

}  // namespace signals

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int sigaction(int sig, const struct sigaction* act, struct sigaction* old) noexcept {
    if (!patched(Need::Io) || !wrappable(sig)) return real_sigaction(sig, act, old);
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
        if (signals::is_handler(*act)) {
            struct sigaction ours = *act;
            ours.sa_flags |= SA_SIGINFO;
            ours.sa_sigaction = trampoline;
            a.act = *act;  // before the kernel can deliver through the trampoline
            if (real_sigaction(sig, &ours, nullptr) != 0) {
                if (was_wrapped) a.act = previous;
                return -1;
            }
            a.wrapped.store(true);
            g_signals_handled.store(true, std::memory_order_relaxed);
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

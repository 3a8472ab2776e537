// Per-thread signal calls for fiber threads: pthread_sigmask/sigprocmask change the calling
// fiber's own mask; sigpending sees what is held for it; sigwait, sigwaitinfo, sigtimedwait,
// sigsuspend and pause park only the calling fiber; raise and pthread_kill reach one fiber.
// Without thread patching the mask calls are libc's, and the waits still park only the fiber.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "green/hub.hpp"
#include "hook_common.hpp"
#include "saturating_time.hpp"
#include "signal_state.hpp"
#include "sync_table.hpp"

namespace green::hooks::signals {

namespace {

long real_sigtimedwait(const sigset_t* set, siginfo_t* info, const timespec* ts) noexcept {
    return ::syscall(SYS_rt_sigtimedwait, set, info, ts, _NSIG / 8);
}

bool valid_how(int how) noexcept {
    return how == SIG_BLOCK || how == SIG_UNBLOCK || how == SIG_SETMASK;
}

// pthread_sigmask for the calling fiber thread; an errno value.
int fiber_sigmask(int how, const sigset_t* set, sigset_t* old) noexcept {
    if (set && !valid_how(how)) return EINVAL;
    HubSignals* hs;
    try {
        hs = &made(*rt::hub());
    } catch (...) {
        return ENOMEM;
    }
    ThreadSignals& me = self(*hs);
    const Mask before = me.mask;
    if (set) {
        const Mask s = to_mask(*set);
        Busy b(*hs);
        set_mask(*hs, me, how == SIG_BLOCK ? before | s : how == SIG_UNBLOCK ? before & ~s : s);
    }
    if (old) to_sigset(before, old);  // after reading *set: they may be the same object
    if (set) deliver_unblocked(*hs, me);
    return 0;
}

// The sigwait family in a fiber: one signal of `want`, taken from what is held for this thread,
// what the kernel holds (blocked everywhere), or what arrives while it waits.
int fiber_sigtimedwait(const sigset_t* set, siginfo_t* info, const timespec* ts) {
    if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
        errno = EINVAL;
        return -1;
    }
    cancel::act_if_pending();  // a cancellation point (POSIX), even with a signal at hand
    ErrnoKeeper keep;
    rt::Hub& hub = *rt::hub();
    HubSignals& hs = made(hub);
    const Mask want = to_mask(*set) & ~(kUnblockable | kReserved);
    const Deadline deadline = ts ? Deadline(saturating_duration(*ts)) : Deadline();
    struct SignalFd {
        int fd = -1;
        ~SignalFd() {
            if (fd < 0) return;
            green::notify_close(fd);
            ::syscall(SYS_close, fd);
        }
    } sfd;
    siginfo_t local;
    if (!info) info = &local;
    for (;;) {
        int sig;
        {
            Busy b(hs);
            sig = take_pending(hs, self(hs), want, info);
        }
        if (sig) return keep.ok(sig);
        const timespec zero{0, 0};
        const long r = real_sigtimedwait(set, info, &zero);
        if (r > 0) return keep.ok(static_cast<int>(r));
        if (deadline.expired()) {
            errno = EAGAIN;
            return -1;
        }
        // Readable when the kernel holds one of them for this thread or the process.
        if (sfd.fd < 0) sfd.fd = ::signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
        Registration reg(hs, want);
        try {
            // A cancellation point: pthread_cancel wakes the wait and ends the thread.
            cancellable(
                [&] {
                    if (sfd.fd >= 0)
                        (void)green::wait_fd(sfd.fd, POLLIN, deadline);
                    else
                        green::sleep(
                            std::min<Duration>(deadline.remaining(), std::chrono::milliseconds(5)));
                    return 0;
                },
                0);
        } catch (const SignalWake&) {
        }
        const Delivery d = reg.finish();
        if (d.sig && (want & bit(d.sig))) {
            *info = d.info;
            return keep.ok(d.sig);
        }
        if (d.sig) {  // a handler for another signal ran: the wait fails, as natively
            run(hs, d, nullptr);
            errno = EINTR;
            return -1;
        }
    }
}

// Parks until a handler runs for this fiber (sigsuspend, pause): always -1 with EINTR.
int wait_for_handler(HubSignals& hs) {
    cancel::act_if_pending();
    for (;;) {
        if (deliver_unblocked(hs, self(hs))) break;
        // A cancellation point (sigsuspend, pause): pthread_cancel wakes it and ends the thread.
        const int r = cancellable(
            [] {
                return interruptible(Restart::Never, [] {
                    green::sleep(std::chrono::hours(24));
                    return 0;
                });
            },
            0);
        if (r == -EINTR) break;
    }
    errno = EINTR;
    return -1;
}

}  // namespace

CallMask::CallMask(const sigset_t* mask) {
    if (!mask || !emulating()) return;
    hs_ = &made(*rt::hub());
    me_ = &self(*hs_);
    before_ = me_->mask;
    {
        Busy b(*hs_);
        set_mask(*hs_, *me_, to_mask(*mask));
    }
}

bool CallMask::deliver_held() noexcept {
    return me_ && deliver_unblocked(*hs_, *me_);
}

CallMask::~CallMask() {
    if (!me_) return;
    Busy b(*hs_);
    set_mask(*hs_, *me_, before_);  // what the call's mask let through stays pending
}

int send_to_thread(ThreadSignals& t, rt::Fiber& f, int sig) noexcept {
    (void)f;
    if (sig < 0 || sig >= NSIG) return EINVAL;
    if (sig == 0) return 0;
    HubSignals* hs = here();
    if (!hs || t.hub != hs || sig == SIGKILL || sig == SIGSTOP) {
        // Not a thread this hub tracks, or a signal no thread can catch: the OS thread gets it.
        return ::syscall(SYS_tgkill, ::getpid(), ::gettid(), sig) == 0 ? 0 : errno;
    }
    Delivery d;
    {
        Busy b(*hs);
        d = decide(*hs, sig, tkill_info(sig), false, &t);
    }
    run(*hs, d, nullptr);
    return 0;
}

bool send_to_hub_thread(pthread_t id, int sig, int& rc) noexcept {
    if (!emulating()) return false;
    HubSignals* hs = here();
    if (!hs || !pthread_equal(id, GREEN_REAL(pthread_self)())) return false;
    rc = send_to_thread(hs->base, rt::main_fiber(*hs->hub), sig);
    return true;
}

}  // namespace green::hooks::signals

using namespace green::hooks;
using namespace green::hooks::signals;

extern "C" {

int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) noexcept {
    if (!emulating()) return GREEN_REAL(pthread_sigmask)(how, set, old);
    return fiber_sigmask(how, set, old);
}

int sigprocmask(int how, const sigset_t* set, sigset_t* old) noexcept {
    if (!emulating()) return GREEN_REAL(sigprocmask)(how, set, old);
    if (const int e = fiber_sigmask(how, set, old)) {
        errno = e;
        return -1;
    }
    return 0;
}

int sigpending(sigset_t* set) noexcept {
    if (!emulating()) return GREEN_REAL(sigpending)(set);
    Mask real = 0;
    if (::syscall(SYS_rt_sigpending, &real, sizeof real) != 0) return -1;
    HubSignals& hs = made(*rt::hub());
    to_sigset(real | self(hs).pending | hs.process_pending, set);
    return 0;
}

int sigsuspend(const sigset_t* mask) {
    if (!emulating()) return GREEN_REAL(sigsuspend)(mask);
    const CallMask swapped(mask);  // wait_for_handler delivers what it lets through
    return wait_for_handler(made(*rt::hub()));
}

int pause() {
    if (!route(Need::Io)) return GREEN_REAL(pause)();
    return wait_for_handler(made(*rt::hub()));
}

int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* ts) {
    if (!route(Need::Io)) return GREEN_REAL(sigtimedwait)(set, info, ts);
    return fiber_sigtimedwait(set, info, ts);
}

int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
    if (!route(Need::Io)) return GREEN_REAL(sigwaitinfo)(set, info);
    return fiber_sigtimedwait(set, info, nullptr);
}

int sigwait(const sigset_t* set, int* sig) {
    if (!route(Need::Io)) return GREEN_REAL(sigwait)(set, sig);
    for (;;) {
        const int r = fiber_sigtimedwait(set, nullptr, nullptr);
        if (r > 0) {
            *sig = r;
            return 0;
        }
        if (errno != EINTR) return errno;  // sigwait itself never fails with EINTR
    }
}

int raise(int sig) noexcept {
    if (!emulating()) return GREEN_REAL(raise)(sig);
    HubSignals& hs = made(*rt::hub());
    if (const int e = send_to_thread(self(hs), *rt::current(*hs.hub), sig)) {
        errno = e;
        return -1;
    }
    return 0;
}

}  // extern "C"

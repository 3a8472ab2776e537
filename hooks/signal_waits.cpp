// Interruptible waits: a hooked call registers its fiber as a candidate for signals while it
// parks (Registration), and is woken with SignalWake when a signal is delivered to it. Inside a
// signal handler the hub cannot be touched, so there a per-hub dispatcher fiber does the waking.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "signal_state.hpp"

namespace green::hooks::signals {

namespace {

void dispatch_loop(HubSignals* hs, int fd) {
    rt::current(rt::hub_or_create())->set_ref(false);  // never what keeps the hub alive
    for (;;) {
        const int r = green::wait_fd(fd, POLLIN);
        if (r < 0 || hs->event_fd != fd) return;
        std::uint64_t n;
        while (::syscall(SYS_read, fd, &n, sizeof n) > 0) {
        }
        Busy b(*hs);
        for (Waiter* w = hs->waiters; w; w = w->next) {
            if (!w->wake) continue;
            w->wake = false;
            wake(*hs, *w, false);
        }
    }
}

// The fiber that wakes waiters chosen inside a signal handler (where the hub cannot be touched).
void ensure_dispatcher(HubSignals& hs) {
    if (hs.event_fd >= 0) return;
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return;  // handlers then still run; parked fibers just are not interrupted
    // The runtime's: the daemon idiom "close every descriptor from 3 up" must leave it open.
    rt::runtime_fd_acquired(fd);
    hs.event_fd = fd;
    try {
        hs.dispatcher = green::spawn(
            green::SpawnOptions{"green-signal-dispatch", 0, true, green::StackMode::Default},
            [&hs, fd] {
                try {
                    dispatch_loop(&hs, fd);
                } catch (...) {
                }
            });
    } catch (...) {
        hs.event_fd = -1;
        rt::runtime_fd_released(fd);
        ::close(fd);
    }
}

}  // namespace

Registration::Registration(HubSignals& hs, Mask want) noexcept
    : hs_(hs),
      heap_(rt::current(*hs.hub)->compact() ? new Waiter : nullptr),
      w_(heap_ ? *heap_ : own_) {
    w_.fiber = rt::current(*hs.hub);
    w_.owner = &self(hs);
    w_.want = want;
    Busy b(hs_);
    w_.prev = hs_.last_waiter;
    if (hs_.last_waiter)
        hs_.last_waiter->next = &w_;
    else
        hs_.waiters = &w_;
    hs_.last_waiter = &w_;
    linked_ = true;
}

Delivery Registration::finish() noexcept {
    Delivery d;
    if (!linked_) return d;
    Busy b(hs_);
    if (w_.prev)
        w_.prev->next = w_.next;
    else
        hs_.waiters = w_.next;
    if (w_.next)
        w_.next->prev = w_.prev;
    else
        hs_.last_waiter = w_.prev;
    linked_ = false;
    // A wake-up that came too late to be thrown must not be thrown at some later wait.
    rt::withdraw_interrupt(*rt::current(*hs_.hub), hs_.wake_exc);
    if (w_.got) {
        d.sig = w_.got;
        d.info = w_.info;
        d.act = w_.act;
        d.as = w_.owner;
    }
    return d;
}

Registration::~Registration() {
    // Left by an exception (kill, Timeout, cancellation): a signal it had been given goes to
    // another thread, as if it had arrived a moment later.
    const Delivery d = finish();
    if (!d.sig) return;
    Delivery again;
    {
        Busy b(hs_);
        again = decide(hs_, d.sig, d.info, false, nullptr);
    }
    run(hs_, again, nullptr);
}

}  // namespace green::hooks::signals

namespace green::hooks {

using namespace signals;

int interruptible(Restart restart, int (*park)(void*), void* ctx, bool polls, bool (*settle)(void*),
                  void* settle_ctx) {
    rt::Hub* h = rt::hub();
    if (!h || rt::in_loop_fiber(*h)) return park(ctx);
    HubSignals& hs = made(*h);
    ensure_dispatcher(hs);
    Registration reg(hs, 0);
    int r = 0;
    bool woken = false;
    try {
        r = park(ctx);
    } catch (const SignalWake&) {
        woken = true;
    }
    const Delivery d = reg.finish();
    if (!d.sig) return woken ? 1 : r;
    const bool settled = settle && settle(settle_ctx);
    run(hs, d, nullptr);
    if (settled) return 1;
    if (!woken && !polls) return r;
    if (restart == Restart::WithSaRestart && (d.act.sa_flags & SA_RESTART)) return 1;
    return -EINTR;
}

int interruptible_wait_fd_slow(int fd, short events, const Deadline& deadline) {
    return interruptible(deadline.infinite() ? Restart::WithSaRestart : Restart::Never,
                         [&] { return green::wait_fd(fd, events, deadline); });
}

Duration interruptible_sleep(Duration d) {
    if (d <= Duration::zero() || !signals_handled()) {
        green::sleep(d);
        return Duration::zero();
    }
    const Deadline deadline(detail::after_now(d));  // saturates: a huge d is "forever"
    const int r = interruptible(Restart::Never, [&] {
        green::sleep(deadline.remaining());
        return 0;
    });
    if (r == -EINTR) return std::max<Duration>(deadline.remaining(), Duration(1));
    return Duration::zero();
}

}  // namespace green::hooks

// Where a signal goes: to one fiber, chosen as the kernel chooses a thread (a sigwaiter for it,
// else the main thread when it does not block it, else a thread parked in an interruptible call,
// else the running one, else any that does not block it), never to all of them. The chosen
// fiber, if parked in an interruptible call, is woken with SignalWake and runs the handler on
// its own stack; otherwise the handler runs at once. Also the real-mask bookkeeping: the hub
// thread blocks for real exactly what every fiber thread blocks, so a signal no fiber takes stays
// pending in the kernel (sigpending, sigwait and signalfd see it) and nothing else is held back.
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fiber_thread.hpp"
#include "green/hub.hpp"
#include "signal_state.hpp"
#include "sync_table.hpp"

namespace green::hooks::signals {

namespace {

thread_local HubSignals* t_signals __attribute__((tls_model("initial-exec"))) = nullptr;

long real_sigprocmask(int how, Mask m, Mask* old) noexcept {
    return ::syscall(SYS_rt_sigprocmask, how, &m, old, sizeof(Mask));
}

Mask real_mask() noexcept {
    Mask m = 0;
    real_sigprocmask(SIG_BLOCK, 0, &m);
    return m;
}

void link_thread(HubSignals& hs, ThreadSignals& t) noexcept {
    t.hub = &hs;
    t.prev = nullptr;
    t.next = hs.threads;
    if (hs.threads) hs.threads->prev = &t;
    hs.threads = &t;
    ++hs.thread_count;
    for (Mask m = t.mask; m; m &= m - 1) ++hs.blockers[lowest(m) - 1];
    hs.blocked_somewhere |= t.mask;
}

// Blocks for real what every thread blocks, unblocks the rest (of what it blocked itself).
void update_real(HubSignals& hs) noexcept {
    if (!patched(Need::Threads)) return;  // masks are the OS thread's own, untouched
    Mask want = 0;
    for (Mask m = hs.blocked_somewhere; m; m &= m - 1) {
        const int i = lowest(m) - 1;
        if (hs.blockers[i] == hs.thread_count) want |= Mask{1} << i;
    }
    want &= ~(kUnblockable | kReserved);
    if (want == hs.real_blocked) return;
    const Mask block = want & ~hs.real_blocked;
    const Mask unblock = hs.real_blocked & ~want;
    hs.real_blocked = want;
    if (block) real_sigprocmask(SIG_BLOCK, block, nullptr);
    if (unblock) real_sigprocmask(SIG_UNBLOCK, unblock, nullptr);
}

bool blocks(const ThreadSignals& t, int sig) noexcept {
    return ((t.mask | t.handling) & bit(sig)) != 0;
}

ThreadSignals* state_of(HubSignals& hs, rt::Fiber* f) noexcept {
    if (f && patched(Need::Threads)) {
        if (auto* t = dynamic_cast<threads::ThreadCore*>(f); t && t->signals.hub == &hs)
            return &t->signals;
    }
    return &hs.base;
}

// The running fiber's thread, or null while the hub's loop (or nothing) runs.
ThreadSignals* running(HubSignals& hs) noexcept {
    if (rt::in_loop_fiber(*hs.hub)) return nullptr;
    return state_of(hs, rt::current(*hs.hub));
}

Waiter* take_waiter(Waiter* w, int sig, const siginfo_t& info,
                    const struct sigaction& act) noexcept {
    w->got = sig;
    w->info = info;
    w->act = act;
    return w;
}

// Default actions the kernel would ignore; the others end or stop the process.
bool default_ignored(int sig) noexcept {
    return sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT;
}

// The default action, for a signal delivered without the kernel: let the kernel take it.
void default_action(int sig) noexcept {
    if (default_ignored(sig)) return;
    Mask old = 0;
    real_sigprocmask(SIG_UNBLOCK, bit(sig), &old);
    ::syscall(SYS_tgkill, ::getpid(), ::gettid(), sig);
    real_sigprocmask(SIG_SETMASK, old, nullptr);
}
__attribute__((constructor(103))) void init_fork_handler() {
    // A forked child keeps only the forking thread; its dispatcher waits in the parent's event
    // loop, and its eventfd is shared with the parent: make fresh ones on next use.
    ::pthread_atfork(nullptr, nullptr, [] {
        if (HubSignals* hs = t_signals) {
            if (hs->event_fd >= 0) {
                // No longer the runtime's: the child may get the number back from open().
                rt::runtime_fd_released(hs->event_fd);
                ::syscall(SYS_close, hs->event_fd);
            }
            hs->event_fd = -1;
        }
    });
}

}  // namespace

void wake(HubSignals& hs, Waiter& w, bool in_handler) noexcept {
    if (!in_handler) {
        // A fiber of this hub, between switches: safe to touch the run queue. A waiter that is
        // not parked (woken already, or running), or parked until an operation completes (a
        // cancelled io_uring op), sees `got` as it unregisters. One with an interrupt pending
        // already (kill, Timeout) leaves with that, and its Registration passes the signal on.
        if (w.fiber->interruptible_now()) rt::interrupt(*hs.hub, *w.fiber, hs.wake_exc);
        return;
    }
    // In a handler the hub may be mid-switch: the dispatcher fiber wakes it instead.
    w.wake = true;
    const std::uint64_t one = 1;
    if (hs.event_fd >= 0) (void)!::syscall(SYS_write, hs.event_fd, &one, sizeof one);
}

Mask to_mask(const sigset_t& s) noexcept {
    Mask m = 0;
    for (int sig = 1; sig <= 64; ++sig)
        if (sigismember(&s, sig) == 1) m |= bit(sig);
    return m;
}

void to_sigset(Mask m, sigset_t* out) noexcept {
    sigemptyset(out);
    for (; m; m &= m - 1) sigaddset(out, lowest(m));
}

siginfo_t tkill_info(int sig) noexcept {
    siginfo_t info;
    std::memset(&info, 0, sizeof info);
    info.si_signo = sig;
    info.si_code = SI_TKILL;
    info.si_pid = ::getpid();
    info.si_uid = ::getuid();
    return info;
}

HubSignals::HubSignals(rt::Hub& h, Mask base_mask) noexcept : hub(&h), base(base_mask) {
    link_thread(*this, base);
    real_blocked = base_mask & ~(kUnblockable | kReserved);
}

HubSignals* here() noexcept {
    HubSignals* hs = t_signals;
    return hs && hs->hub == rt::hub() ? hs : nullptr;
}

HubSignals& made(rt::Hub& hub) {
    if (HubSignals* hs = here()) return *hs;
    // With thread patching the main fiber starts with the mask the thread has now.
    const Mask base = patched(Need::Threads) ? real_mask() : 0;
    auto* hs = new HubSignals(hub, base);  // never freed: handlers may look at it at any time
    hs->wake_exc = std::make_exception_ptr(SignalWake{});
    t_signals = hs;
    return *hs;
}

bool emulating() noexcept {
    return route(Need::Threads) && patched(Need::Io);
}

ThreadSignals& self(HubSignals& hs) noexcept {
    return *state_of(hs, rt::current(*hs.hub));
}

// ---- threads -------------------------------------------------------------------------------

namespace {

// The calling hub's signal state for a patched thread to join; null: the thread stays untracked
// (it then neither blocks nor receives anything).
HubSignals* tracking_hub() noexcept {
    rt::Hub* h = rt::hub();
    if (!h || !patched(Need::Threads)) return nullptr;
    try {
        return &made(*h);
    } catch (...) {
        return nullptr;
    }
}

}  // namespace

ThreadSignals::ThreadSignals() noexcept {
    HubSignals* hs = tracking_hub();
    if (!hs) return;
    Busy b(*hs);
    // pthread_create's inheritance; while every thread has one mask there is nothing to look up
    // and the intersection stays what it is.
    if (hs->uniform) {
        mask = hs->base.mask;
        link_thread(*hs, *this);
        return;
    }
    mask = (rt::in_loop_fiber(*hs->hub) ? hs->base : self(*hs)).mask;
    link_thread(*hs, *this);
    update_real(*hs);
}

void ThreadSignals::join_here() noexcept {
    HubSignals* hs = tracking_hub();
    if (!hs) return;
    Busy b(*hs);
    link_thread(*hs, *this);
    if (mask != hs->base.mask) hs->uniform = false;
    if (!hs->uniform) update_real(*hs);
}

void ThreadSignals::exited() noexcept {
    HubSignals* hs = hub;
    if (!hs || hs != here()) {
        hub = nullptr;
        return;
    }
    Busy b(*hs);
    if (prev) prev->next = next;
    if (next) next->prev = prev;
    if (hs->threads == this) hs->threads = next;
    --hs->thread_count;
    for (Mask m = mask; m; m &= m - 1) --hs->blockers[lowest(m) - 1];
    hub = nullptr;
    pending = 0;  // what was sent to this thread dies with it
    if (!hs->uniform) update_real(*hs);
}

void set_mask(HubSignals& hs, ThreadSignals& t, Mask m) noexcept {
    m &= ~(kUnblockable | kReserved);
    if (m == t.mask) return;
    if (t.hub != &hs) {
        t.mask = m;
        return;
    }
    for (Mask a = m & ~t.mask; a; a &= a - 1) ++hs.blockers[lowest(a) - 1];
    for (Mask r = t.mask & ~m; r; r &= r - 1) --hs.blockers[lowest(r) - 1];
    hs.blocked_somewhere |= m;
    t.mask = m;
    // From here on the threads' masks differ (for good), unless base is the only thread.
    if (&t != &hs.base || hs.thread_count > 1) hs.uniform = false;
    update_real(hs);
}

int take_pending(HubSignals& hs, ThreadSignals& t, Mask want, siginfo_t* info) noexcept {
    if (Mask m = t.pending & want) {
        const int sig = lowest(m);
        t.pending &= ~bit(sig);
        if (info) *info = tkill_info(sig);
        return sig;
    }
    if (Mask m = hs.process_pending & want) {
        const int sig = lowest(m);
        hs.process_pending &= ~bit(sig);
        if (info) *info = hs.process_info[sig - 1];
        return sig;
    }
    return 0;
}

bool deliver_unblocked(HubSignals& hs, ThreadSignals& t) noexcept {
    bool any = false;
    for (;;) {
        Delivery d;
        {
            Busy b(hs);
            siginfo_t info;
            const int sig = take_pending(hs, t, ~t.mask, &info);
            if (!sig) return any;
            d.sig = sig;
            d.info = info;
            d.act = program_action(sig);
            d.as = &t;
            if (d.act.sa_flags & SA_RESETHAND) reset_action(sig);
        }
        run(hs, d, nullptr);
        any = true;
    }
}

// ---- busy sections -------------------------------------------------------------------------

Busy::Busy(HubSignals& hs, bool in_handler) noexcept : hs_(hs), in_handler_(in_handler) {
    hs_.busy = 1;
    std::atomic_signal_fence(std::memory_order_seq_cst);
}

Busy::~Busy() {
    for (;;) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
        hs_.busy = 0;
        std::atomic_signal_fence(std::memory_order_seq_cst);
        if (hs_.deferred.load(std::memory_order_relaxed) == 0) return;
        const Mask d = hs_.deferred.exchange(0);
        for (Mask m = d; m; m &= m - 1) {
            const int sig = lowest(m);
            hs_.busy = 1;
            std::atomic_signal_fence(std::memory_order_seq_cst);
            const siginfo_t info = hs_.deferred_info[sig - 1];
            const Delivery x = decide(hs_, sig, info, in_handler_, nullptr);
            std::atomic_signal_fence(std::memory_order_seq_cst);
            hs_.busy = 0;
            run(hs_, x, nullptr);
        }
    }
}

// ---- choosing the receiver -----------------------------------------------------------------

Delivery decide(HubSignals& hs, int sig, const siginfo_t& info, bool in_handler,
                ThreadSignals* directed) noexcept {
    Delivery none;
    const Mask b = bit(sig);
    const struct sigaction act = program_action(sig);
    // A sigwait for it takes it, handled or not.
    for (Waiter* w = hs.waiters; w; w = w->next) {
        if ((w->want & b) && !w->got && (!directed || w->owner == directed)) {
            wake(hs, *take_waiter(w, sig, info, act), in_handler);
            return none;
        }
    }
    ThreadSignals* to = directed;
    if (!to) {
        if (!blocks(hs.base, sig)) {
            to = &hs.base;  // the kernel offers a process-directed signal to the main thread first
        } else {
            for (Waiter* w = hs.waiters; w && !to; w = w->next)
                if (!w->got && !blocks(*w->owner, sig)) to = w->owner;
            ThreadSignals* cur = running(hs);
            if (!to && cur && !blocks(*cur, sig)) to = cur;
            for (ThreadSignals* t = hs.threads; t && !to; t = t->next)
                if (!blocks(*t, sig)) to = t;
        }
    }
    if (!to) {  // every thread blocks it: it waits for one to unblock or sigwait it
        hs.process_pending |= b;
        hs.process_info[sig - 1] = info;
        return none;
    }
    if (blocks(*to, sig)) {
        to->pending |= b;
        return none;
    }
    if (is_handler(act)) {
        if (act.sa_flags & SA_RESETHAND) reset_action(sig);
        // Its thread parked in an interruptible call: that call is what the signal interrupts.
        for (Waiter* w = hs.waiters; w; w = w->next) {
            if (w->owner == to && !w->got) {
                wake(hs, *take_waiter(w, sig, info, act), in_handler);
                return none;
            }
        }
    }
    Delivery d;
    d.sig = sig;
    d.info = info;
    d.act = act;
    d.as = to;
    return d;
}

void run(HubSignals& hs, const Delivery& d, void* uctx) noexcept {
    if (!d.sig) return;
    const struct sigaction& act = d.act;
    if (!is_handler(act)) {
        if (act.sa_handler == SIG_DFL && !(act.sa_flags & SA_SIGINFO)) default_action(d.sig);
        return;
    }
    const int saved = errno;
    // The handler runs with its sa_mask (and the signal itself) blocked in its thread.
    ThreadSignals* as = d.as;
    const Mask before = as ? as->handling : 0;
    const Mask mask_before = as ? as->mask : 0;
    if (as) {
        Mask extra = to_mask(act.sa_mask);
        if (!(act.sa_flags & SA_NODEFER)) extra |= bit(d.sig);
        as->handling |= extra & ~(kUnblockable | kReserved);
    }
    siginfo_t info = d.info;
    if (act.sa_flags & SA_SIGINFO) {
        ucontext_t uc;
        if (!uctx && ::getcontext(&uc) == 0) uctx = &uc;
        act.sa_sigaction(d.sig, &info, uctx);
    } else {
        act.sa_handler(d.sig);
    }
    if (as) {
        // The kernel restores the thread's mask when a handler returns, undoing what the
        // handler changed with pthread_sigmask.
        as->handling = before;
        if (as->mask != mask_before && as->hub == &hs) {
            Busy b(hs);
            set_mask(hs, *as, mask_before);
        }
    }
    errno = saved;
}

}  // namespace green::hooks::signals

// The signal emulation's per-hub state, shared by the sigaction hooks (signal_hooks.cpp), the
// delivery logic (signal_delivery.cpp) and the mask and sigwait hooks (signal_mask_hooks.cpp).
// Everything here is touched by one hub thread only, and by that thread's signal handler: code
// that changes it marks the state busy, and a handler arriving meanwhile only records the signal
// for the busy code to act on when it leaves (Busy).
#pragma once

#include <signal.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>

#include "green/greenlet.hpp"
#include "hook_interface.hpp"
#include "signal_hooks.hpp"

namespace green::hooks::signals {

constexpr Mask bit(int sig) noexcept {
    return Mask{1} << (sig - 1);
}
constexpr Mask kUnblockable = bit(SIGKILL) | bit(SIGSTOP);
constexpr Mask kReserved = bit(32) | bit(33);  // glibc's SIGCANCEL and SIGSETXID
inline int lowest(Mask m) noexcept {
    return __builtin_ctzll(m) + 1;
}
Mask to_mask(const sigset_t& s) noexcept;
void to_sigset(Mask m, sigset_t* out) noexcept;

// The program's own action for `sig` (async-signal-safe), and SA_RESETHAND's reset for a
// delivery made without the kernel (signal_hooks.cpp).
struct sigaction program_action(int sig) noexcept;
void reset_action(int sig) noexcept;
bool is_handler(const struct sigaction& a) noexcept;

// A fiber inside an interruptible call or a sigwait; lives in that call's frame.
struct Waiter {
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
    rt::Fiber* fiber = nullptr;
    ThreadSignals* owner = nullptr;
    Mask want = 0;  // sigwait family: these are taken, not handled
    int got = 0;    // the signal delivered to it while registered
    siginfo_t info{};
    struct sigaction act {};  // the action as it was at delivery (SA_RESETHAND may reset it)
    bool wake = false;        // the dispatcher must wake it (the signal came in a handler)
};

// A handler to run now, as thread `as` (nothing when sig is 0).
struct Delivery {
    int sig = 0;
    siginfo_t info{};
    struct sigaction act {};
    ThreadSignals* as = nullptr;
};

struct HubSignals {
    explicit HubSignals(rt::Hub& h, Mask base_mask) noexcept;

    rt::Hub* hub;
    ThreadSignals base;                // the main fiber and plain greenlets
    ThreadSignals* threads = nullptr;  // every live thread of the hub, base included
    unsigned thread_count = 0;
    bool uniform = true;  // every thread still has base's mask (creation and exit change nothing)
    std::uint32_t blockers[64] = {};  // threads blocking each signal
    Mask blocked_somewhere = 0;       // signals with blockers > 0
    Mask real_blocked = 0;            // what this thread's real mask blocks for the emulation
    Mask process_pending = 0;         // process-directed, arrived while every thread blocked it
    siginfo_t process_info[64];
    Waiter* waiters = nullptr;  // oldest first
    Waiter* last_waiter = nullptr;
    int event_fd = -1;            // written by the handler; read by the dispatcher fiber
    GreenletHandle dispatcher;    // kept: it lives as long as the hub
    std::exception_ptr wake_exc;  // the one SignalWake thrown at waiters (no allocation)
    volatile sig_atomic_t busy = 0;
    std::atomic<Mask> deferred{0};  // arrived while busy
    siginfo_t deferred_info[64];
};

// This hub thread's state (nullptr when none was made yet, or it belongs to a hub that is gone:
// then only plain handler calls happen). made(): created on first use, on a hub thread.
HubSignals* here() noexcept;
HubSignals& made(rt::Hub& hub);
// Whether masks are emulated per fiber (threads patched, the caller a fiber of a hub).
bool emulating() noexcept;
// The thread the running fiber stands for.
ThreadSignals& self(HubSignals& hs) noexcept;

// Marks the state busy for its lifetime; signals that arrive meanwhile are acted on as it ends.
class Busy {
  public:
    explicit Busy(HubSignals& hs, bool in_handler = false) noexcept;
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;
    ~Busy();

  private:
    HubSignals& hs_;
    bool in_handler_;
};

// Under Busy: makes a waiter's fiber leave its wait (from a handler: through the dispatcher).
void wake(HubSignals& hs, Waiter& w, bool in_handler) noexcept;
// Under Busy: who receives `sig`, and what happens now. `directed`: pthread_kill/raise's target.
Delivery decide(HubSignals& hs, int sig, const siginfo_t& info, bool in_handler,
                ThreadSignals* directed) noexcept;
// Outside Busy: runs a Delivery's handler (or the default action) as its thread.
void run(HubSignals& hs, const Delivery& d, void* uctx) noexcept;

// Under Busy: sets a thread's mask (keeping the real mask the intersection of all of them).
void set_mask(HubSignals& hs, ThreadSignals& t, Mask m) noexcept;
// Under Busy: takes one signal of `want` held for t (thread first, then process), 0 if none.
int take_pending(HubSignals& hs, ThreadSignals& t, Mask want, siginfo_t* info) noexcept;
// Outside Busy: runs the handlers of signals held for the running thread that it no longer
// blocks, as the kernel does on the way out of sigprocmask. True if any ran.
bool deliver_unblocked(HubSignals& hs, ThreadSignals& t) noexcept;

// Registers the running fiber as a waiter for the scope of a wait.
class Registration {
  public:
    Registration(HubSignals& hs, Mask want) noexcept;
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration();
    // Unregisters; the signal delivered meanwhile, if any.
    Delivery finish() noexcept;
    Waiter& waiter() noexcept { return w_; }

  private:
    HubSignals& hs_;
    // A compact fiber's waiter is on the heap: the hub's list and the signal's delivery write
    // into it while the fiber's stack is copied away (green/stack_mode.hpp).
    std::unique_ptr<Waiter> heap_;
    Waiter own_;
    Waiter& w_;
    bool linked_ = false;
};

// siginfo for a signal sent by this process with tgkill (pthread_kill, raise).
siginfo_t tkill_info(int sig) noexcept;

}  // namespace green::hooks::signals

// Signals for fibers that stand in for threads. A handled signal goes to ONE fiber, as the kernel
// gives a process-directed signal to one thread: a fiber parked in an interruptible hooked call
// is woken (SignalWake), runs the handler on its own stack and fails with EINTR, or restarts the
// call when the handler has SA_RESTART and the call is one the kernel restarts. With thread
// patching each fiber thread also has its own signal mask (ThreadSignals).
#pragma once

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdint>
#include <type_traits>

#include "green/clock.hpp"
#include "green/hub.hpp"
#include "hook_interface.hpp"

namespace green::hooks {

// True once the program installed a handler function for some signal (one load, inlined into
// the wait paths). While false, no hooked call registers itself as interruptible.
extern std::atomic<bool> g_signals_handled __attribute__((visibility("hidden")));
inline bool signals_handled() noexcept {
    return g_signals_handled.load(std::memory_order_relaxed);
}

// Whether an interrupted call restarts when the handler was installed with SA_RESTART (read,
// recv, accept, connect, write... without a timeout) or always fails with EINTR (sleep, poll,
// select, epoll_wait, sigsuspend, calls with a timeout), as signal(7) lists them.
enum class Restart : bool { Never, WithSaRestart };

// Thrown (through Hub::interrupt) into a fiber parked in an interruptible call that was chosen
// for a signal; interruptible() catches it. Never leaves the hook library.
struct SignalWake {};

// The interruption point of every blocking hook: runs `park` (a runtime wait returning an int:
// >0 woken/ready, 0 deadline, <0 -errno) with the calling fiber registered as a candidate for
// handled signals. Returns park's result; or, when a signal was delivered to this fiber while it
// waited, runs the handler here and returns -EINTR (the call must fail) or 1 (restart: look
// again). A signal that arrives as the wait ends on its own runs its handler and park's result
// stands, as when the kernel delivers a signal on the way out of a completed call. A poll
// (`polls`: park only sleeps until the caller looks again, as the file-lock waits do) completes
// nothing, so a signal that lands as it ends interrupts it all the same.
// `settle` (may be null; with it park is a poll between the caller's looks): for a call whose
// outcome the kernel fixes before it looks at pending signals (waitpid reports a child that is
// waitable by then, not EINTR). Run when a signal came, before the handler: true, and the call
// completed (settle keeps the outcome), the handler runs and 1 is returned. Run after the handler
// instead, it would let whatever the handler sets off (another thread ending the child) decide
// a result the kernel had fixed (tests/preload/threads/waitpid_signal.c, under load).
int interruptible(Restart restart, int (*park)(void*), void* ctx, bool polls = false,
                  bool (*settle)(void*) = nullptr, void* settle_ctx = nullptr);
template <class Park>
int interruptible(Restart restart, Park&& park, bool polls = false) {
    if (!signals_handled()) [[likely]]
        return park();
    return interruptible(
        restart, [](void* p) { return (*static_cast<Park*>(p))(); }, static_cast<void*>(&park),
        polls);
}
template <class Park, class Settle>
int interruptible_settled(Restart restart, Park&& park, Settle&& settle) {
    if (!signals_handled()) [[likely]]
        return park();
    using P = std::remove_reference_t<Park>;
    using S = std::remove_reference_t<Settle>;
    return interruptible(
        restart, [](void* p) { return (*static_cast<P*>(p))(); },
        const_cast<void*>(static_cast<const void*>(&park)), true,
        [](void* p) { return (*static_cast<S*>(p))(); },
        const_cast<void*>(static_cast<const void*>(&settle)));
}

// wait_fd as an interruptible call: restartable without a deadline (a plain blocking call),
// never with one (SO_RCVTIMEO/SO_SNDTIMEO make the kernel fail with EINTR too).
int interruptible_wait_fd_slow(int fd, short events, const Deadline& deadline);
inline int interruptible_wait_fd(int fd, short events, const Deadline& deadline) {
    if (!signals_handled()) [[likely]]
        return green::wait_fd(fd, events, deadline);
    return interruptible_wait_fd_slow(fd, events, deadline);
}

// A sleep that a handled signal ends early: zero, or the time left when it was interrupted.
Duration interruptible_sleep(Duration d);

namespace signals {

// Signal sets as the kernel keeps them: bit (sig - 1) of 64.
using Mask = std::uint64_t;

struct HubSignals;

// One patched thread's signal state: its mask (pthread_sigmask) and the signals sent to it
// (pthread_kill, raise) while it blocks them. A member of the hooks' fiber-thread object; the
// hub's main fiber (and plain greenlets) share one more, kept by the hub's signal state. Made in
// the creating thread, whose mask it inherits, as pthread_create does.
class ThreadSignals {
  public:
    ThreadSignals() noexcept;
    explicit ThreadSignals(Mask m) noexcept : mask(m) {}  // the hub's own (main fiber)
    ThreadSignals(const ThreadSignals&) = delete;
    ThreadSignals& operator=(const ThreadSignals&) = delete;
    ~ThreadSignals() { exited(); }
    // The thread ended: it no longer receives or blocks anything (idempotent).
    void exited() noexcept;
    // Several hubs: a thread made on one hub (inheriting its creator's mask) that runs on
    // another leaves the creator's hub with exited(), then joins its own with this, there.
    void join_here() noexcept;

    Mask mask = 0;
    Mask handling = 0;          // blocked while one of its handlers runs (sa_mask and the signal)
    Mask pending = 0;           // thread-directed, held while blocked
    HubSignals* hub = nullptr;  // null: not tracked (no hub, or threads not patched)
    ThreadSignals* prev = nullptr;
    ThreadSignals* next = nullptr;
};

// ppoll, pselect, epoll_pwait and sigsuspend wait with the mask they are given in place of the
// thread's, as the kernel swaps the two for the call. Emulated per fiber thread (threads
// patched): its mask is `mask` for this object's lifetime. deliver_held() then runs the handlers
// of signals held for it that `mask` unblocks (true if any ran: the call fails with EINTR unless
// something is ready). Otherwise (nullptr, or masks not emulated) it does nothing and the caller
// watches the real mask.
class CallMask {
  public:
    explicit CallMask(const sigset_t* mask);
    CallMask(const CallMask&) = delete;
    CallMask& operator=(const CallMask&) = delete;
    ~CallMask();
    bool emulated() const noexcept { return me_ != nullptr; }
    bool deliver_held() noexcept;

  private:
    HubSignals* hs_ = nullptr;
    ThreadSignals* me_ = nullptr;
    Mask before_ = 0;
};

// pthread_kill / raise for a fiber thread of the calling hub: the signal goes to that thread
// alone (held if it blocks it). Returns 0 or an errno value.
int send_to_thread(ThreadSignals& t, rt::Fiber& f, int sig) noexcept;
// pthread_kill on a real pthread_t: when it names the hub's own OS thread (the main thread, as
// fiber threads see it), the signal goes to the main fiber's thread alone; `rc` gets the result.
// False: not such a thread, libc's pthread_kill applies.
bool send_to_hub_thread(pthread_t id, int sig, int& rc) noexcept;

}  // namespace signals

}  // namespace green::hooks

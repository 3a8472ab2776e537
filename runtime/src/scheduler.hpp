// The per-thread scheduler. One Hub per OS thread, created on first use. The thread's own stack
// is the main fiber; the loop runs in a fiber of its own (as in gevent). Fibers switch directly
// to the next runnable one; the loop fiber runs only to fire timers, poll I/O and take posts
// from other threads — when the run queue is empty, or every kTicksPerPoll switches.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core_cache.hpp"
#include "green/clock.hpp"
#include "green/detail/fiber.hpp"
#include "green/detail/timer.hpp"
#include "green/hub.hpp"
#include "green/stats.hpp"
#include "green/wait_queue.hpp"
#include "io_backend.hpp"
#include "sanitizer.hpp"
#include "stack_pool.hpp"
#include "timer_heap.hpp"

// The switch path is inlined into its few callers (yield, park, raw_switch, the loop):
// boost's jump_fcontext returns with a jmp, leaving the CPU's return-stack predictor one entry
// off, so every extra call level on the way back out costs a mispredicted return.
#define GREEN_HOT_INLINE [[gnu::always_inline]] inline

// Debug and sanitizer builds check every fiber state change against the table in
// detail/fiber.hpp and abort on an illegal one (a scheduler bug), as marl's ASSERT_FIBER_STATE.
#if !defined(NDEBUG) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define GREEN_CHECK_FIBER_STATES 1
#else
#define GREEN_CHECK_FIBER_STATES 0
#endif

namespace green::detail {

// Adds one to an eventfd that wakes a hub. The raw system call: it is async-signal-safe (the
// dump signal's handler calls it) and, with the hook library loaded, libc's write would lead
// back into the hooks.
inline void poke_event_fd(int fd) noexcept {
    const std::uint64_t one = 1;
    (void)!::syscall(SYS_write, fd, &one, sizeof one);
}

#if GREEN_CHECK_FIBER_STATES
// Tests only (checked builds): runs in post_wake between the push and the look at `sleeping`,
// to hold a poster there while the woken hub exits.
inline void (*g_after_wake_push_for_test)() = nullptr;
#endif

// A hub's inbox for other OS threads. Shared with HubHandles so it outlives the hub safely.
// Its memory is never given back, only reused by a later hub (make()): post_wake() reads
// `sleeping` and `event_fd` after its push, when the woken fiber may already have run, its hub
// exited and the last reference gone, and a reused mailbox at worst takes a spurious poke.
struct Mailbox {
    static std::shared_ptr<Mailbox> make();
    bool post(std::function<void()> fn);
    // Swaps what was posted into `out` (empty; its capacity goes back to the mailbox).
    void take(std::vector<std::function<void()>>& out);
    // A waiter's wake-up decided on another hub (RemoteWakes): its node is pushed on a lock-free
    // stack, linked through next_wake, instead of a std::function under the mutex: no allocation
    // and no lock per hand-off. The waiter's hub stays alive while it waits (keeps_hub).
    void post_wake(WaitQueue::Node& n) noexcept;
    // Every node posted so far, oldest first; the hub's thread only.
    WaitQueue::Node* take_wakes() noexcept;
    // Something may wait in items or wakes. seq_cst where the hub makes its last look before it
    // blocks (see `sleeping`).
    bool pending(std::memory_order order) const noexcept {
        return has_items.load(order) || wakes.load(order) != nullptr;
    }

    // The line other hubs write on every hand-off, and all the hub reads to notice one: the wake
    // stack, the flags and `sleeping`, which a poster reads right after its push. Nothing the hub
    // writes on its own turns shares it (own_waits, the mutex), so a hand-off moves this one
    // line from the poster's core to the hub's and back, no more.
    alignas(64) std::atomic<WaitQueue::Node*> wakes{nullptr};
    // items may hold something. Set (seq_cst) by post() after has_posts; post_wake() does not
    // touch it: a push is seen through `wakes` itself.
    std::atomic<bool> has_items{false};
    // items may hold something: a turn that finds only wakes skips the mutex. Stored (seq_cst)
    // before has_items by post(); read by the hub after it cleared has_items.
    std::atomic<bool> has_posts{false};
    // True while the hub blocks (or is about to) in its backend: only then does a post write
    // the eventfd. The hub stores it (seq_cst) before its last look at has_items and wakes; a
    // poster makes its seq_cst store (post) or RMW (post_wake) before it reads `sleeping`
    // (seq_cst): in the single total order one of the two comes first, so either the hub sees
    // the post and does not block, or the poster sees `sleeping` and writes the eventfd.
    std::atomic<bool> sleeping{false};

    // The hub's own line. keep_alive: HubHandle::KeepAlive, from any thread.
    alignas(64) std::atomic<long> keep_alive{0};
    // Waits of this hub's own fibers that another hub may end (shared-mode waiters, selects):
    // they keep the hub alive too. Only the hub's thread counts them, so a plain counter, no
    // locked instruction per park (while its thread runs, nobody else reads it: alive()).
    long own_waits = 0;
    std::mutex mu;
    std::vector<std::function<void()>> items;
    bool open = true;   // guarded by mu
    int event_fd = -1;  // open for the life of the process (see make())

    // In a forked child: the mailboxes made before the fork share their eventfds with the
    // parent's, so none is reused; free ones are closed, the rest when their last reference goes.
    static void forget_after_fork() noexcept;

  private:
    Mailbox();
    ~Mailbox();             // only a mailbox made before a fork, in the child
    void reset() noexcept;  // back to a new mailbox's state, for the next hub
    Mailbox* next_free_ = nullptr;
    unsigned fork_epoch_;
};

// HubHead (green/detail/hub_head.hpp) first: current_, the running fiber, at the Hub's address.
class Hub : public HubHead {
  public:
    // The calling thread's hub, created on first use.
    static Hub& get() {
        if (t_hub) [[likely]]
            return *t_hub;
        return create();
    }
    // The calling thread's hub, or nullptr if it has none yet.
    static Hub* peek() noexcept { return t_hub; }

    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;
    ~Hub();

    // Fibers run between two turns of the loop while others are runnable. An I/O backend takes
    // at most this many completions per poll and leaves the rest queued in the kernel, so the
    // run queue stays about this long and a fiber runs soon after its completion is taken:
    // with 10,000 busy connections a run queue of all of them made every resume cold
    // (bench/echo/README.md).
    static constexpr unsigned kTicksPerPoll = 64;

    Fiber* current() const noexcept { return current_; }
    // True while the loop fiber itself runs (timer callbacks, posts, polling): hooks must pass
    // such calls straight to libc.
    bool in_loop_fiber() const noexcept { return current_ == loop_.get(); }
    Fiber& main_fiber() noexcept { return main_; }

    // Scheduling. ready(): the wake-up of a parked fiber — Parked becomes Runnable. A fiber
    // already Runnable is left queued once: its deadline or an interrupt woke it first, and the
    // event that came second (a notification, an I/O completion, an offload job) finds it
    // still registered until it runs. Any other state is a bug (checked).
    // launch(): a Created fiber is queued to start.
    void ready(Fiber& f) noexcept;
    GREEN_HOT_INLINE void ready_inline(Fiber& f) noexcept;  // hub_switch.hpp
    void launch(Fiber& f) noexcept;
    // Every change of a fiber's state goes through here. Checked builds abort on a transition
    // the table in detail/fiber.hpp does not allow, or one made from another OS thread.
    GREEN_HOT_INLINE static void transition(Fiber& f, FiberState to) noexcept {
        if constexpr (GREEN_CHECK_FIBER_STATES) check_transition(f, to);
        f.state_ = to;
    }
    void yield();
    // Parks the current fiber until ready() (true) or the deadline (false). Throws a pending
    // interrupt (kill, Timeout) instead of parking, or after waking; never parks on an expired
    // deadline. Callers clean up with RAII, since park may throw.
    bool park(const Deadline& deadline);
    // park(), inline (hub_switch.hpp): for the waits that park in a loop.
    GREEN_HOT_INLINE bool park_inline(const Deadline& deadline);
    // park() with a finite deadline that does not throw a pending interrupt before parking,
    // only after waking (sleep tests once, then parks in a loop).
    bool park_until(const Deadline& deadline);
    // Parks until ready(), ignoring interrupts (they stay pending). For waits that must not be
    // abandoned, such as an io_uring operation whose memory the kernel still owns.
    void park_uninterruptible();
    // park() with an interrupt caught into `interrupted` (woke: false) instead of thrown, for
    // waits that must settle under their object's lock before the exception leaves.
    bool park_capturing(const Deadline& deadline, std::exception_ptr& interrupted) noexcept;
    // Blocks the OS thread on the mailbox's eventfd alone until a post or a signal (the hooks,
    // when every fiber waits for another OS thread; hub_spin.cpp).
    void sleep_until_posted() noexcept;
    // Delivers `e` to `f` at its next resume point, waking it if it is parked. Interrupts that
    // arrive before the first is thrown queue up, kills ahead of Timeouts; each later one is
    // thrown at the resume point after the previous was (timeout.hpp).
    void interrupt(Fiber& f, std::exception_ptr e) noexcept;
    // The same for the expiry of the Timeout with this identity (timeout_id != 0); 0: a kill.
    void interrupt(Fiber& f, std::exception_ptr e, std::uint64_t timeout_id) noexcept;
    // Takes back an expiry of that Timeout not yet thrown (its scope ended first).
    static void withdraw_timeout(Fiber& f, std::uint64_t timeout_id) noexcept;
    // Takes back the interrupt `e` if it has not been thrown yet (a wake-up that came too late).
    static void withdraw_interrupt(Fiber& f, const std::exception_ptr& e) noexcept;
    void throw_if_interrupted() {
        if (current_->pending_ && !current_->uninterruptible_) [[unlikely]]
            throw_pending();
    }
    // Explicit switch (raw greenlets): current becomes Suspended, `to` runs.
    void raw_switch(Fiber& to);

    void add_timer(Timer& t) { timers_.add(t); }
    void cancel_timer(Timer& t) noexcept { timers_.cancel(t); }

    IoBackend& io() noexcept { return *io_; }
    StackPool& stacks() noexcept { return stacks_; }
    const std::shared_ptr<Mailbox>& mailbox() const noexcept { return mailbox_; }
    HubHandle handle() const { return HubHandle(mailbox_); }
    WaitQueue& idle_waiters() noexcept { return idle_; }

    std::size_t default_stack_size() const noexcept { return default_stack_size_; }
    // The kernel's id of the hub's OS thread (the blocking monitor signals it to capture the
    // stack of a stalled fiber).
    pid_t os_tid() const noexcept { return os_tid_; }
    // Its counters (green::stats()). Hub thread only.
    HubStats stats() const noexcept;

    // A hub of a HubPool: its greenlets may be joined, killed and linked from any thread.
    bool pooled() const noexcept { return pooled_; }
    void set_pooled() noexcept { pooled_ = true; }

    // Context switches so far. Read from another thread by the blocking monitor (monitor.cpp).
    std::uint64_t switch_count() const noexcept {
        return switches_.load(std::memory_order_relaxed);
    }
    // In a forked child: gives the calling thread's hub an event loop of its own. The parent's
    // io_uring ring, epoll set and eventfd are shared with the child and are never touched again;
    // fibers that were blocked on I/O at the fork stay blocked (their waits live there).
    static void reinit_after_fork() noexcept;
    // In a forked child whose fibers are the program's threads (thread patching): every fiber
    // but the running one and the loop stays where it is and never runs again, as the threads
    // a fork leaves behind. The run queue is emptied and each parked fiber is marked runnable
    // without a queue entry, so the wake-ups still to come (timers, notifications) take it for
    // one already queued and leave it.
    void abandon_others_after_fork() noexcept;
    void set_default_stack_size(std::size_t n) noexcept { default_stack_size_ = n; }
    // Recomputes slow_switch_: at every loop turn (an event hook set on another thread is seen
    // there), when the count of compact fibers changes, and when this thread sets the hook.
    void refresh_slow_switch() noexcept;

    // The thread is exiting on a fiber's stack and the hub is left in place (hub.cpp,
    // HubOwner): keeps the thread's own stack visible to LeakSanitizer.
    void keep_thread_stack_visible() noexcept;

    // spawn: promises f a stack (StackPool::reserve), so that an impossible size or no memory
    // throws to spawn's caller; it is taken when f first runs. A compact fiber's is checked
    // against the run stack at once.
    void reserve_stack(Fiber& f) {
        if (f.compact_) [[unlikely]]
            return take_stack(f);
        if (f.stack_.base || f.stack_reserved_) return;
        if (!f.stack_size_) f.stack_size_ = default_stack_size_;  // taken with this size
        stacks_.reserve(f.stack_size_);
        f.stack_reserved_ = true;
        register_fiber(f);
    }
    // Gives f its stack if it has none yet (its first switch, or the run queue's look ahead).
    // reap(): gives a dead or never-run fiber's stack back and calls its reaped().
    [[gnu::noinline]] void take_stack(Fiber& f) {  // once per fiber: kept out of yield()
        if (f.stack_.base) return;
        if (f.compact_) [[unlikely]] {
            f.stack_ = run_stack_for(f);
        } else if (f.stack_reserved_) {
            f.stack_reserved_ = false;
            f.stack_ = stacks_.take_reserved(f.stack_size_);
        } else {
            f.stack_ = stacks_.allocate(f.stack_size_ ? f.stack_size_ : default_stack_size_);
        }
        register_fiber(f);
    }
    // Out of line, as are create() and prepare_stack(): yield() is flattened, and inlined into
    // it they tripled its code around the few hot lines (bench_core's yield ping-pong ran 8 %
    // slower at 3 % more instructions).
    [[gnu::noinline]] void reap(Fiber& dead) noexcept;

    // Every fiber of this hub that holds or was promised a stack (spawned, not yet reaped; the
    // loop fiber included, the main fiber not). Hub thread only.
    const IntrusiveList<FiberLink>& fibers() const noexcept { return fibers_; }
    const Fiber& loop_fiber() const noexcept { return *loop_; }
    // GREEN_STACK_MODE=compact: greenlets that do not choose are compact.
    bool compact_by_default() const noexcept { return compact_by_default_; }
    // The shared run stack of compact fibers (an empty slot until the first one spawns).
    const StackSlot& run_stack() const noexcept { return run_stack_; }
    CoreCache& core_cache() noexcept { return core_cache_; }

    // Ends the current fiber (after its body returned) and runs the next one.
    [[noreturn]] void exit_current() noexcept;

  private:
    // Into the registry of live fibers (fibers()), once.
    void register_fiber(Fiber& f) noexcept {
        if (fibers_.contains(f.registry_link_)) return;
        fibers_.push_back(f.registry_link_);
        ++spawned_;
    }
    // The parked fiber's run-info record (since when, until when, counted by reason), then the
    // state change; the caller switches away next.
    GREEN_HOT_INLINE void note_park(Fiber& f, std::int64_t deadline_ns) noexcept {
        f.wait_.since_ns = turn_ns_;
        ++parks_[static_cast<unsigned>(f.wait_.kind)];
        f.wait_.deadline_ns = deadline_ns;
        transition(f, FiberState::Parked);
    }
    Hub();
    [[gnu::cold, gnu::noinline]] static Hub& create();
    class LoopFiber;
    static void entry(void* transfer_fctx, void* transfer_data) noexcept;

    void loop();
    GREEN_HOT_INLINE void schedule();
    GREEN_HOT_INLINE void switch_to(Fiber& to) noexcept;
    GREEN_HOT_INLINE void resumed(void* fctx, void* data) noexcept;
    void resumed_out_of_line(void* fctx, void* data) noexcept;  // for compact_switch.cpp
    [[gnu::noinline]] void prepare_stack(Fiber& f);
    // Tell the sanitizers about a switch (sanitizer.hpp; nothing in other builds): before the
    // jump from `from` (null when it has ended) to `to`, and on landing in `self` from `prev`.
    void announce_switch(Fiber* from, Fiber& to) noexcept {
        const bool main = &to == &main_;
        asan::start_switch(from ? &from->sanitizer_ : nullptr,
                           main ? main_stack_.base : to.stack_.base,
                           main ? main_stack_.size : to.stack_.size);
        tsan::switch_to(to.sanitizer_);
    }
    void switch_landed(Fiber& self, Fiber& prev) noexcept {
        // Compiled away in other builds: `left` stays unset there, and the test and store cost
        // 4-5 instructions on every switch (callgrind, bench_core yield ping-pong).
        if constexpr (asan::kEnabled) {
            StackSlot left;
            std::size_t left_size = 0;
            asan::finish_switch(self.sanitizer_, const_cast<const void**>(&left.base), &left_size);
            left.size = saturate_u32(left_size);
            if (&prev == &main_) main_stack_ = left;  // the thread's stack, as ASan knows it
        } else {
            (void)self, (void)prev;
        }
    }
    // The scheduler's own work between two fibers (a first context, a dead fiber's reaping, a
    // compact image) runs as the loop: what it allocates may reach the hooks (a program's malloc
    // that locks a pthread mutex), which must then call libc as they do for the loop's own
    // calls (hooks/route.hpp). As the fiber being switched from, already parked, a contended
    // lock parked it again from inside its switch, which recursed until the stack overflowed.
    class AsLoop {
      public:
        explicit AsLoop(Hub& h) noexcept : h_(h), was_(h.current_) { h.current_ = h.loop_.get(); }
        ~AsLoop() { h_.current_ = was_; }
        AsLoop(const AsLoop&) = delete;
        AsLoop& operator=(const AsLoop&) = delete;

      private:
        Hub& h_;
        Fiber* was_;
    };
    // Compact stack mode (compact_switch.cpp). The run stack, made on first use; throws
    // std::length_error when f asked for more than it holds.
    StackSlot run_stack_for(const Fiber& f);
    // switch_to's path when either side is compact: a compact fiber leaves through the relay,
    // which copies it out once its registers are saved and then puts the next one in place.
    // `to` is current and Running already; `dying`: from has ended. Either may be compact.
    [[gnu::noinline]] void compact_switch(Fiber& from, Fiber& to, bool dying) noexcept;
    // switch_to's rare paths behind slow_switch_: reports the switch to the event hook and, with
    // compact fibers on this hub, makes it through compact_switch (true: switched and resumed).
    [[gnu::noinline]] bool switch_rare(Fiber& from, Fiber& to, bool dying) noexcept;
    static void relay_entry(void* fctx, void* data) noexcept;
    // Copies a compact fiber in (or makes its first context) / out; the run stack must be
    // vacant / the fiber switched out.
    void place_on_run_stack(Fiber& f) noexcept;
    void vacate_run_stack(Fiber& f) noexcept;
    [[noreturn]] void throw_pending();
    // After pending_ was thrown or withdrawn: the first queued interrupt becomes pending.
    static void promote_queued(Fiber& f) noexcept;
    template <class Match>
    static void withdraw_first(Fiber& f, Match&& match) noexcept;
    static void check_transition(const Fiber& f, FiberState to) noexcept;
    [[noreturn]] static void bad_state(const Fiber& f, FiberState to, const char* why) noexcept;
    GREEN_HOT_INLINE Fiber* pop_runnable() noexcept;
    GREEN_HOT_INLINE void prefetch_next() noexcept;
    GREEN_HOT_INLINE void enqueue(Fiber& f) noexcept;
    void run_due_timers();
    void run_posts();
    // Before blocking up to `timeout` with other hubs alive: a short wait in user space for a
    // post (hub_spin.cpp). True when one came.
    bool spin_for_post(Duration timeout) noexcept;
    // Blocks in the backend up to `timeout`, telling posters to write the eventfd meanwhile.
    void sleep_in_backend(Duration timeout);

    bool alive() const noexcept;
    void deliver_loop_exit();

    // Cache lines of a parked fiber's stack, from its saved context up, that it touches first
    // when resumed (its context, the park and wait frames): measured ~600 bytes.
    static constexpr int kPrefetchLines = 10;

    // First, so destroyed last: the teardown below may still free cores into it.
    CoreCache core_cache_;
    Fiber main_;
    std::unique_ptr<Fiber> loop_;
    Fiber* runq_head_ = nullptr;
    Fiber* runq_tail_ = nullptr;
    std::uint64_t loop_due_ = kTicksPerPoll;  // switch_count() at which the loop gets a turn
    TimerHeap timers_;
    StackPool stacks_;
    std::unique_ptr<IoBackend> io_;
    std::shared_ptr<Mailbox> mailbox_;
    WaitQueue idle_{WaitKind::Idle};  // green::idle()'s waiters, labelled Idle
    std::size_t default_stack_size_;
    std::atomic<std::uint64_t> switches_{0};
    void* eh_globals_;
    int* errno_;  // this thread's errno (its address never changes)
    void* alt_stack_ = nullptr;
    StackSlot main_stack_{};  // ASan builds: the thread's own stack (main_ has no stack_)
    bool pooled_ = false;
    IntrusiveList<FiberLink> fibers_;  // the registry: fibers holding a stack
    // Compact stack mode: the shared run stack, the relay fiber that runs between a compact
    // fiber and the next one (its own small stack), and where the relay goes next.
    StackSlot run_stack_{};
    std::unique_ptr<Fiber> relay_;
    Fiber* relay_to_ = nullptr;
    // Checked builds: the run stack is vacant and filled with a pattern from here to its top
    // since `vacated_by_` (a fiber id, 0 for none) was copied out; null when it is occupied.
    char* vacated_from_ = nullptr;
    std::uint64_t vacated_by_ = 0;
    bool compact_by_default_ = false;
    // Compact fibers holding the run stack (spawned, not reaped): while there are any, every
    // switch takes compact_switch, which handles a switch between default fibers as usual.
    std::size_t compact_fibers_ = 0;
    // compact_fibers_ != 0 or an event hook set: switch_to tests this one byte for both.
    bool slow_switch_ = false;
    // CLOCK_MONOTONIC_COARSE at the loop's latest turn: when a fiber parks it is stamped with
    // this (one load) rather than a clock read per park; accurate to a loop turn.
    std::int64_t turn_ns_ = 0;
    pid_t os_tid_;
    // Counters for green::stats(): plain increments on paths that do more anyway.
    std::uint64_t spawned_ = 0;
    std::uint64_t finished_ = 0;
    std::uint64_t loop_turns_ = 0;
    std::uint64_t parks_[kParkReasonCount] = {};
    // Spins before the hub sleeps still allowed (hub_spin.cpp): refilled whenever waiting paid
    // off (a post came, or a spin found an I/O completion), spent by spins that found nothing.
    // A hub that other hubs talk to, or whose I/O keeps it busy, spins; one that went quiet soon
    // sleeps at once, and tries one spin a second (kSpinRetryNs) to see whether it is busy again.
    static constexpr int kSpinCredit = 4;
    static constexpr Duration kSpinLimit = std::chrono::microseconds(20);
    static constexpr std::int64_t kSpinRetryNs = 1'000'000'000;
    int spin_credit_ = kSpinCredit;
    std::int64_t spin_retry_ns_ = 0;  // turn_ns_ when the credit was last given one more spin
    std::vector<std::function<void()>> spare_posts_;  // run_posts: the capacity it keeps
};

// The mailbox of a shared-mode waiter's hub, where a notifier of another hub posts its wake-up.
inline Mailbox& home_mailbox(const WaitQueue::Node& n) noexcept {
    return n.mailbox ? *n.mailbox : *n.fiber->hub()->mailbox();
}

// Hubs alive in the process. With more than one, a wait on a primitive that another hub may use
// keeps its hub alive (no LoopExit): which hubs will touch an object is not known in advance.
extern std::atomic<int> g_live_hubs;

// CLOCK_MONOTONIC_COARSE in nanoseconds: a few nanoseconds through the vDSO, the resolution of
// a tick. Read once per loop turn; a fiber that parks is stamped with the turn's (run_info).
std::int64_t coarse_now_ns() noexcept;
// What a fiber waits (or last waited) for, as the run info words it: "event 0x...",
// "io fd 7 in, deadline in 1.000s". `kind` is w.kind, or the kind of its last wait.
void append_wait(std::string& out, const WaitInfo& w, WaitKind kind, std::int64_t steady_now);
// GREEN_DUMP_SIGNAL: installs the handler (once, at the first hub) and, on the loop's turn,
// prints the run info when the signal came (run_info.cpp).
void dump_signal_hub_created(Hub& hub) noexcept;
// In a forked child: the calling thread's hub is the only one (the list of hubs is reset) and the
// dump signal, if it was the parent's first hub, targets its new eventfd.
void run_info_after_fork(Hub& hub) noexcept;
extern std::atomic<bool> g_dump_requested;
void dump_requested(Hub& hub) noexcept;

}  // namespace green::detail

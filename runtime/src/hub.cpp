// Scheduler core: context switches (Boost.Context fcontext), the run queue, parking, and the
// loop fiber. Per-fiber C/C++ thread state (errno, the C++ exception-handling globals) is
// saved and restored on every switch, so each fiber sees its own.
#include "scheduler.hpp"

#include "green/hub.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cxxabi.h>
#include <algorithm>
#include <boost/context/detail/fcontext.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <utility>

#include "config.hpp"
#include "event_hook.hpp"
#include "green/detail/park_local.hpp"
#include "green/errors.hpp"
#include "green/timeout.hpp"
#include "hub_list.hpp"
#include "hub_monitor.hpp"
#include "hub_switch.hpp"
#include "overflow_guard.hpp"
#include "owned_fds.hpp"
#include "sanitizer.hpp"
#include "stack_copy.hpp"

namespace ctx = boost::context::detail;

namespace green::detail {

namespace {

static_assert(sizeof(EhState) == 2 * sizeof(void*), "copied as one block per switch");

// Hubs set aside by a thread that ended on a fiber's stack (see HubOwner). A global root, so
// that LeakSanitizer sees them as reachable rather than leaked.
struct AbandonedHub {
    Hub* hub;
    AbandonedHub* next;
};
std::atomic<AbandonedHub*> g_abandoned_hubs{nullptr};

// Owns the calling thread's hub and destroys it when the thread's thread_local objects are.
// exit() runs those destructors on the stack of whichever fiber called it, and destroying the
// hub there would unmap the very stack the process is still exiting on (and the atexit handlers
// and stdio flushing still to come). So a hub whose thread is on a fiber stack at that point is
// deliberately leaked, still installed and usable: the process is ending, and only the kernel
// needs to reclaim it. On the thread's own stack (main returned, exit() from the main fiber, a
// thread ending normally) the hub is destroyed as usual.
struct HubOwner {
    Hub* hub = nullptr;
    HubOwner() = default;
    HubOwner(const HubOwner&) = delete;
    HubOwner& operator=(const HubOwner&) = delete;
    ~HubOwner() {
        if (!hub) return;
        if (hub->current() != &hub->main_fiber()) {
            hub->keep_thread_stack_visible();
            auto* node = new (std::nothrow) AbandonedHub{hub, nullptr};
            if (node) {
                node->next = g_abandoned_hubs.load(std::memory_order_relaxed);
                while (!g_abandoned_hubs.compare_exchange_weak(node->next, node)) {
                }
            }
            return;
        }
        delete hub;
    }
};
thread_local HubOwner t_hub_owner;

std::size_t initial_stack_size() {
    return config().stack_size;  // GREEN_STACK_SIZE, validated (config.cpp)
}

std::unique_ptr<IoBackend> choose_backend(Hub& hub) {
    const BackendChoice want = config().backend;
    if (want == BackendChoice::Epoll) return make_epoll_backend(hub);
    const char* why = nullptr;
    if (auto uring = make_uring_backend(hub, &why)) return uring;
    if (want == BackendChoice::IoUring)
        std::fprintf(stderr,
                     "green: GREEN_BACKEND=io_uring but io_uring is unavailable (%s); "
                     "using epoll\n",
                     why ? why : "unknown");
    return make_epoll_backend(hub);
}

}  // namespace

class Hub::LoopFiber final : public Fiber {
  public:
    explicit LoopFiber(Hub& h) : hub(h) {}
    void body() noexcept override { hub.loop(); }
    std::string name() const override { return "Hub"; }
    Hub& hub;
};

constinit thread_local Hub* t_hub __attribute__((tls_model("initial-exec"))) = nullptr;
std::atomic<int> g_live_hubs{0};

Hub& Hub::create() {
    // gevent's reinit: a forked child must not share its parent's event loop.
    static const bool fork_handler_set =
        ::pthread_atfork(nullptr, nullptr, [] { Hub::reinit_after_fork(); }) == 0;
    (void)fork_handler_set;
    auto* hub = new Hub();
    t_hub_owner.hub = hub;
    t_hub = hub;
    return *t_hub;
}

Hub::Hub()
    : HubHead{&main_},
      core_cache_(config().warm_stacks),
      mailbox_(Mailbox::make()),
      default_stack_size_(initial_stack_size()),
      eh_globals_(abi::__cxa_get_globals()),
      errno_(&errno),
      turn_ns_(coarse_now_ns()),
      os_tid_(static_cast<pid_t>(::syscall(SYS_gettid))) {
    // running_fiber() reads the head through a Hub*, which is the head's address only here.
    if (static_cast<HubHead*>(this) != reinterpret_cast<HubHead*>(this)) std::abort();
    main_.hub_ = this;
    main_.sanitizer_ = tsan::current();
    main_.state_ = FiberState::Running;  // born running: the thread's own stack (t_hub is not
                                         // set yet, so not through transition())
    loop_ = std::make_unique<LoopFiber>(*this);
    loop_->hub_ = this;
    loop_->stack_size_ = 256 * 1024;
    compact_by_default_ = config().compact_stacks;
    io_ = choose_backend(*this);
    io_->watch_wakeup(mailbox_->event_fd);
    install_overflow_guard(&alt_stack_);
    hub_list_add(*this);
    monitor_hub_created(*this);
    dump_signal_hub_created(*this);
    g_live_hubs.fetch_add(1, std::memory_order_relaxed);
    refresh_slow_switch();  // a hook set before this hub existed
}

Hub::~Hub() {
    // Greenlets killed before they ran wait dead in the run queue for the loop to reap them;
    // when the thread ends first (spawn, kill, return from main) nobody else frees them.
    for (Fiber* f = runq_head_; f;) {
        Fiber* next = f->next_;
        if (f->state_ == FiberState::Dead) reap(*f);
        f = next;
    }
    runq_head_ = runq_tail_ = nullptr;
    g_live_hubs.fetch_sub(1, std::memory_order_relaxed);
    // From here on hooked libc calls made by the teardown (closing the backend's fds) must see
    // no hub on this thread and go straight to libc.
    t_hub = nullptr;
    {
        std::vector<std::function<void()>> dropped;  // destroyed unlocked (Mailbox::post)
        std::lock_guard lk(mailbox_->mu);
        mailbox_->open = false;
        mailbox_->items.swap(dropped);
    }
    (void)fibers_.take_all();          // fibers still parked here are never reaped
    tsan::destroy(loop_->sanitizer_);  // run on the thread's own stack, never the loop's
    io_.reset();
    release_alt_stack(alt_stack_);
}

void Hub::keep_thread_stack_visible() noexcept {
#ifdef GREEN_ASAN
    // The fiber annotations told ASan that this thread's stack is now the fiber's, so
    // LeakSanitizer's check at the end of exit() would not scan the thread's own stack, and all
    // it references would look leaked. Declare it a root.
    if (main_stack_.base && main_stack_.size)
        __lsan_register_root_region(main_stack_.base, main_stack_.size);
#endif
}

void Hub::reinit_after_fork() noexcept {
    Mailbox::forget_after_fork();
    Hub* h = t_hub;
    if (!h) return;
    try {
        auto io = choose_backend(*h);
        auto mailbox = Mailbox::make();
        io->watch_wakeup(mailbox->event_fd);
        // The old backend is leaked on purpose: its fds are close-on-exec, and a fiber still
        // parked in it at the fork would touch it on wake-up.
        (void)h->io_.release();
        h->io_ = std::move(io);
        h->mailbox_ = std::move(mailbox);
        h->os_tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
        g_live_hubs.store(1, std::memory_order_relaxed);  // the other threads did not fork
        run_info_after_fork(*h);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "green: cannot set up the event loop in a forked child: %s\n",
                     e.what());
        std::abort();
    }
}

void Hub::abandon_others_after_fork() noexcept {
    runq_head_ = runq_tail_ = nullptr;
    auto abandon = [this](Fiber& f) {
        if (&f != current_ && &f != loop_.get() && f.state_ == FiberState::Parked)
            transition(f, FiberState::Runnable);
    };
    abandon(main_);
    for (FiberLink* l = fibers_.front(); l; l = l->next) abandon(Fiber::of(*l));
}

// ---- switching ----------------------------------------------------------------------------

void Hub::prepare_stack(Fiber& f) {
    const AsLoop as_loop(*this);  // switch_to calls it with the fiber it leaves still current
    take_stack(f);
    if (!f.sanitizer_) f.sanitizer_ = tsan::create();
    char* top = StackPool::top(f.stack_);
    const auto usable = static_cast<std::size_t>(top - static_cast<char*>(f.stack_.base));
    f.ctx_ = ctx::make_fcontext(top, usable, [](ctx::transfer_t t) { entry(t.fctx, t.data); });
}

bool Hub::switch_rare(Fiber& from, Fiber& to, bool dying) noexcept {
    if (g_event_hook.load(std::memory_order_relaxed))
        emit_fiber_event(RuntimeEventKind::SwitchIn, to, os_tid_);
    if (!compact_fibers_) return false;
    compact_switch(from, to, dying);
    return true;
}

void Hub::refresh_slow_switch() noexcept {
    slow_switch_ = compact_fibers_ != 0 || g_event_hook.load(std::memory_order_relaxed);
}

void Hub::resumed_out_of_line(void* fctx, void* data) noexcept {
    resumed(fctx, data);
}

void Hub::entry(void* fctx, void* data) noexcept {
    Hub& h = *static_cast<Fiber*>(data)->hub_;
    h.resumed(fctx, data);
    h.current_->body();
    h.exit_current();
}

void Hub::reap(Fiber& dead) noexcept {
    const AsLoop as_loop(*this);  // resumed() calls it on the fiber it switched to
    if (fibers_.contains(dead.registry_link_)) ++finished_;
    fibers_.remove(dead.registry_link_);
    if (dead.stack_reserved_) {  // it ended before it ran
        stacks_.unreserve(dead.stack_size_);
        dead.stack_reserved_ = false;
    }
    if (dead.compact_) [[unlikely]] {
        release_image(dead.extras_->image);  // the run stack stays the hub's
        if (dead.stack_.base) {
            --compact_fibers_;
            refresh_slow_switch();
        }
    } else
        stacks_.release(dead.stack_);
    tsan::destroy(dead.sanitizer_);
    dead.sanitizer_ = nullptr;
    dead.stack_ = StackSlot{};
    dead.ctx_ = nullptr;
    dead.reaped();
}

void Hub::exit_current() noexcept {
    Fiber* self = current_;
    if (!self->timeouts_.empty()) [[unlikely]] {
        // Timeouts this fiber armed that outlive it (held by a longer-lived object): disarm
        // them, or they would fire into the freed fiber.
        TimeoutLink* l = self->timeouts_.take_all();
        while (l) {
            TimeoutLink* next = l->next;
            Timeout::fiber_ended(*l);
            l = next;
        }
    }
    transition(*self, FiberState::Dead);
    if (g_event_hook.load(std::memory_order_relaxed)) [[unlikely]]
        emit_fiber_event(RuntimeEventKind::Finish, *self, os_tid_);
    Fiber* parent = self->parent();
    if (parent &&
        (parent->state_ == FiberState::Suspended || parent->state_ == FiberState::Created)) {
        switch_to(*parent);
    } else {
        schedule();
    }
    std::abort();  // unreachable: a dead fiber is never resumed
}

// ---- run queue and parking ---------------------------------------------------------------

void Hub::ready(Fiber& f) noexcept {
    ready_inline(f);
}

void Hub::launch(Fiber& f) noexcept {
    if constexpr (GREEN_CHECK_FIBER_STATES)
        if (f.state_ != FiberState::Created)
            bad_state(f, FiberState::Runnable, "launch() of a fiber that was started already");
    transition(f, FiberState::Runnable);
    enqueue(f);
    if (g_event_hook.load(std::memory_order_relaxed)) [[unlikely]]
        emit_fiber_event(RuntimeEventKind::Spawn, f, os_tid_);
}

namespace {
constexpr unsigned bit(FiberState s) {
    return 1u << static_cast<unsigned>(s);
}
// The transitions of the table in detail/fiber.hpp: kAllowed[from] holds the states `to`.
constexpr unsigned kAllowed[] = {
    /* Created   */ bit(FiberState::Runnable) | bit(FiberState::Running) | bit(FiberState::Dead),
    /* Runnable  */ bit(FiberState::Running) | bit(FiberState::Dead),
    /* Running   */ bit(FiberState::Runnable) | bit(FiberState::Parked) |
        bit(FiberState::Suspended) | bit(FiberState::Dead),
    /* Parked    */ bit(FiberState::Runnable),
    /* Suspended */ bit(FiberState::Running) | bit(FiberState::Runnable),
    /* Dead      */ 0,
};
const char* state_name(FiberState s) {
    static const char* const names[] = {"Created", "Runnable",  "Running",
                                        "Parked",  "Suspended", "Dead"};
    return names[static_cast<unsigned>(s)];
}
}  // namespace

void Hub::check_transition(const Fiber& f, FiberState to) noexcept {
    if (!(kAllowed[static_cast<unsigned>(f.state_)] & bit(to)))
        bad_state(f, to, "not a transition of the fiber state machine");
    if (f.hub_ && f.hub_ != t_hub) bad_state(f, to, "made from an OS thread other than its hub's");
}

void Hub::bad_state(const Fiber& f, FiberState to, const char* why) noexcept {
    std::fprintf(stderr, "green: bug: fiber %p (%s) %s -> %s: %s\n", static_cast<const void*>(&f),
                 f.name().c_str(), state_name(f.state_), state_name(to), why);
    std::abort();
}

void Hub::promote_queued(Fiber& f) noexcept {
    if (!f.extras_ || f.extras_->queued.empty()) return;
    auto& q = f.extras_->queued;
    f.pending_ = std::move(q.front().error);
    f.pending_timeout_ = q.front().timeout_id;
    q.erase(q.begin());
}

void Hub::throw_pending() {
    Fiber& f = *current_;
    std::exception_ptr e = std::move(f.pending_);
    f.pending_ = nullptr;
    f.pending_timeout_ = 0;
    promote_queued(f);  // the next one waits for the next resume point
    std::rethrow_exception(e);
}

void Hub::yield() {
    throw_if_interrupted();
    Fiber* self = current_;
    transition(*self, FiberState::Runnable);
    enqueue(*self);
    schedule();
    throw_if_interrupted();
}

bool Hub::park(const Deadline& deadline) {
    return park_inline(deadline);
}

bool Hub::park_until(const Deadline& deadline) {
    if (deadline.expired()) return false;
    Fiber* self = current_;
    const ParkLocal<Timer> parked_timer(self);  // compact fibers: on the heap
    Timer& timer = *parked_timer;
    timer.when = deadline.when();
    timer.arg = self;
    timer.ref = self->ref_;
    timer.fire = [](Timer& t) {
        auto* f = static_cast<Fiber*>(t.arg);
        if (f->state_ != FiberState::Parked || f->uninterruptible_) return;
        f->wake_ = WakeReason::TimedOut;
        f->hub_->ready(*f);
    };
    timers_.add(timer);
    self->wake_ = WakeReason::Notified;
    note_park(*self, std::chrono::duration_cast<std::chrono::nanoseconds>(
                         deadline.when().time_since_epoch())
                         .count());
    schedule();
    timers_.cancel(timer);
    throw_if_interrupted();
    return self->wake_ != WakeReason::TimedOut;
}

bool Hub::park_capturing(const Deadline& deadline, std::exception_ptr& interrupted) noexcept {
    try {
        return park(deadline);
    } catch (...) {
        interrupted = std::current_exception();
        return false;
    }
}

void Hub::park_uninterruptible() {
    Fiber* self = current_;
    self->uninterruptible_ = true;
    note_park(*self, 0);
    schedule();
    self->uninterruptible_ = false;
}

void Hub::interrupt(Fiber& f, std::exception_ptr e) noexcept {
    std::uint64_t timeout_id = 0;
    try {
        std::rethrow_exception(e);
    } catch (const Timeout& t) {
        timeout_id = t.id_;
    } catch (...) {
    }
    interrupt(f, std::move(e), timeout_id);
}

// Every interrupt is kept until it is thrown or withdrawn; none is dropped. Kills go before
// Timeouts (a kill ends the fiber whatever deadline it is under; the Timeouts it unwinds
// through withdraw theirs), each kind in the order it came. The first one sits in pending_, the
// field every resume point tests; the rest queue behind it.
void Hub::interrupt(Fiber& f, std::exception_ptr e, std::uint64_t timeout_id) noexcept {
    if (f.state_ == FiberState::Dead) return;
    if (!f.pending_) {
        f.pending_ = std::move(e);
        f.pending_timeout_ = timeout_id;
    } else {
        auto& q = f.extras().queued;
        Interrupt in{std::move(e), timeout_id};
        if (timeout_id != 0) {
            q.push_back(std::move(in));
        } else if (f.pending_timeout_ != 0) {  // a kill overtakes a pending Timeout
            std::swap(in.error, f.pending_);
            std::swap(in.timeout_id, f.pending_timeout_);
            q.insert(q.begin(), std::move(in));
        } else {  // behind the kills already queued, before the Timeouts
            auto at = q.begin();
            while (at != q.end() && at->timeout_id == 0) ++at;
            q.insert(at, std::move(in));
        }
    }
    if (f.state_ == FiberState::Parked && !f.uninterruptible_) ready(f);
}

// Removes the first interrupt `match` picks, pending or queued; the next queued one becomes
// pending.
template <class Match>
void Hub::withdraw_first(Fiber& f, Match&& match) noexcept {
    if (f.pending_ && match(f.pending_, f.pending_timeout_)) {
        f.pending_ = nullptr;
        f.pending_timeout_ = 0;
        promote_queued(f);
        return;
    }
    if (!f.extras_) return;
    auto& q = f.extras_->queued;
    for (auto it = q.begin(); it != q.end(); ++it) {
        if (match(it->error, it->timeout_id)) {
            q.erase(it);
            return;
        }
    }
}

void Hub::withdraw_timeout(Fiber& f, std::uint64_t timeout_id) noexcept {
    withdraw_first(
        f, [timeout_id](const std::exception_ptr&, std::uint64_t id) { return id == timeout_id; });
}

void Hub::withdraw_interrupt(Fiber& f, const std::exception_ptr& e) noexcept {
    withdraw_first(f, [&e](const std::exception_ptr& x, std::uint64_t) { return x == e; });
}

void Hub::raw_switch(Fiber& to) {
    Fiber* self = current_;
    transition(*self, FiberState::Suspended);
    switch_to(to);
    throw_if_interrupted();
}

// ---- the loop ----------------------------------------------------------------------------

// At most kTicksPerPoll timers per loop turn: the fibers they wake then run while what firing
// touched (the timer in the fiber's frame, its stack page's TLB entry) is still cached. With
// 100,000 sleepers due at once, firing them all first paid every fiber's cache and TLB misses
// twice. The rest fire next turn, after which the loop does not block (the top is due).
void Hub::run_due_timers() {
    if (!timers_.top()) return;
    const auto now = Clock::now();
    for (unsigned n = 0; n < kTicksPerPoll; ++n) {
        Timer* t = timers_.pop_due(now);
        if (!t) break;
        t->fire(*t);
    }
}

void Hub::run_posts() {
    Mailbox& mb = *mailbox_;
    if (!mb.pending(std::memory_order_acquire)) return;
    spin_credit_ = kSpinCredit;
    // Wakes first: they are the hand-offs another hub's fiber waits on the answer to. A wake
    // pushed after the exchange stays for the next turn (wakes is non-null then).
    for (WaitQueue::Node* n = mb.take_wakes(); n;) {
        WaitQueue::Node* next = n->next_wake;
        Fiber* f = n->fiber;
        // This thread's word that the notifier's writes (notified, the item) are visible here:
        // the waiter reads it instead of taking the object's lock again (WaitQueue).
        n->delivered = true;
        // Once this is false the waiter may return and its node go: read it all first.
        n->wake_in_flight.store(false, std::memory_order_release);
        ready(*f);
        n = next;
    }
    if (!mb.has_items.load(std::memory_order_acquire)) return;
    // The callbacks trade places with the mailbox's vector, so each keeps its capacity: a post
    // to an emptied mailbox does not allocate (under the mutex) on every turn. A callback that
    // runs a nested turn finds spare_posts_ empty and allocates as before.
    std::vector<std::function<void()>> posted;
    posted.swap(spare_posts_);
    mb.take(posted);
    for (auto& fn : posted) {
        try {
            fn();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "green: a posted callback failed: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "green: a posted callback failed\n");
        }
    }
    posted.clear();
    spare_posts_.swap(posted);
}

bool Hub::alive() const noexcept {
    return timers_.refs() > 0 || io_->waiters() > 0 || !idle_.empty() ||
           mailbox_->keep_alive.load(std::memory_order_relaxed) > 0 || mailbox_->own_waits > 0 ||
           mailbox_->pending(std::memory_order_relaxed);
}

void Hub::deliver_loop_exit() {
    // As in gevent, the main greenlet learns that its wait can never end.
    if (main_.state_ == FiberState::Parked || main_.state_ == FiberState::Suspended) {
        main_.pending_ = std::make_exception_ptr(LoopExit());
        main_.uninterruptible_ = false;
        transition(main_, FiberState::Runnable);
        transition(*loop_, FiberState::Runnable);  // leaves; resumed by the next schedule()
        switch_to(main_);
        return;
    }
    std::fprintf(stderr, "green: hub has nothing to run and no way to wake up\n");
    std::abort();
}

void Hub::loop() {
    for (;;) {
        loop_due_ = switch_count() + kTicksPerPoll;
        refresh_slow_switch();
        turn_ns_ = coarse_now_ns();
        ++loop_turns_;
        run_due_timers();
        run_posts();
        if (g_dump_requested.load(std::memory_order_relaxed)) [[unlikely]]
            dump_requested(*this);
        if (!runq_head_) {
            if (!idle_.empty()) {
                idle_.notify_all();
                io_->poll(Duration::zero());
            } else if (!alive()) {
                deliver_loop_exit();
                continue;
            } else {
                // Idle: a good moment to give cold stack pages back. Timed by the turn's
                // coarse clock (the same CLOCK_MONOTONIC, a tick's resolution, for a check once
                // a second): a full clock read costs ~50 ns on a VM, and a hub that other hubs
                // keep busy comes here on every hand-off.
                stacks_.trim(Clock::time_point(std::chrono::nanoseconds(turn_ns_)));
                Duration timeout{-1};
                if (Timer* t = timers_.top()) {
                    // Capped: a timer saturated to "forever" (detail::after_now) must not
                    // overflow a backend's conversion; waking once a day costs nothing.
                    timeout = std::min<Duration>(t->when - Clock::now(), std::chrono::hours(24));
                    if (timeout < Duration::zero()) timeout = Duration::zero();
                }
                // A spin that found a post lasted less than the coarse clock's tick: turn_ns_
                // stays right.
                if (!spin_for_post(timeout)) {
                    sleep_in_backend(timeout);
                    turn_ns_ = coarse_now_ns();  // after a wait of any length
                }
                run_due_timers();
                run_posts();
                if (g_dump_requested.load(std::memory_order_relaxed)) [[unlikely]]
                    dump_requested(*this);
            }
        } else if (io_->parked() > 0) {
            io_->poll(Duration::zero());
        }
        if (Fiber* next = pop_runnable()) {
            // The loop is never queued, but it leaves Running like any fiber that switches
            // away (it is always ready to run again).
            transition(*loop_, FiberState::Runnable);
            switch_to(*next);
        }
    }
}

HubStats Hub::stats() const noexcept {
    HubStats s;
    s.os_tid = os_tid_;
    s.fibers_live = fibers_.size();
    s.fibers_spawned = spawned_;
    s.fibers_finished = finished_;
    s.switches = switch_count();
    s.loop_turns = loop_turns_;
    for (int i = 0; i < kParkReasonCount; ++i) {
        s.parks_by_reason[i] = parks_[i];
        s.parks += parks_[i];
    }
    s.timers_armed = timers_.size();
    s.io_waits_started = io_->waits_started();
    s.io_waiting = io_->parked();
    return s;
}

// ---- cross-thread mailbox ----------------------------------------------------------------

namespace {
// Mailboxes no hub uses any more. A spin lock, not a mutex: the last reference may drop inside
// a hook, where a hooked pthread mutex would re-enter the scheduler; the section is a pointer.
SpinLock g_free_mailboxes_lock;
Mailbox* g_free_mailboxes = nullptr;
// Forks seen by this process: a mailbox made under an older count is not reused.
std::atomic<unsigned> g_fork_epoch{0};
}  // namespace

Mailbox::Mailbox()
    : event_fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      fork_epoch_(g_fork_epoch.load(std::memory_order_relaxed)) {
    if (event_fd < 0) {
        std::perror("green: eventfd");
        std::abort();
    }
    runtime_fd_acquired(event_fd);
}

Mailbox::~Mailbox() {
    runtime_fd_released(event_fd);
    ::close(event_fd);
}

std::shared_ptr<Mailbox> Mailbox::make() {
    Mailbox* m;
    {
        std::lock_guard lk(g_free_mailboxes_lock);
        m = g_free_mailboxes;
        if (m) g_free_mailboxes = m->next_free_;
    }
    if (!m) m = new Mailbox();
    return std::shared_ptr<Mailbox>(m, [](Mailbox* done) {
        if (done->fork_epoch_ != g_fork_epoch.load(std::memory_order_relaxed)) {
            delete done;  // the child's copy; its hub and posters stayed in the parent
            return;
        }
        done->reset();
        std::lock_guard lk(g_free_mailboxes_lock);
        done->next_free_ = g_free_mailboxes;
        g_free_mailboxes = done;
    });
}

void Mailbox::forget_after_fork() noexcept {
    g_fork_epoch.fetch_add(1, std::memory_order_relaxed);
    g_free_mailboxes_lock.unlock();  // another thread of the parent may have held it
    for (Mailbox* m = std::exchange(g_free_mailboxes, nullptr); m;)
        delete std::exchange(m, m->next_free_);
}

void Mailbox::reset() noexcept {
    wakes.store(nullptr, std::memory_order_relaxed);
    has_items.store(false, std::memory_order_relaxed);
    has_posts.store(false, std::memory_order_relaxed);
    sleeping.store(false, std::memory_order_relaxed);
    keep_alive.store(0, std::memory_order_relaxed);
    own_waits = 0;
    std::vector<std::function<void()>>().swap(items);  // a hub that never ran its loop
    open = true;  // a poke still on the eventfd costs the next hub one spurious turn
}

bool Mailbox::post(std::function<void()> fn) {
    // Nothing is allocated or freed under `mu`: with the hooks loaded that reaches the
    // program's malloc, whose pthread mutex unlock may wake waiters of this very hub by posting
    // here (hooks/hub_set.cpp, wake_others): a second lock of `mu` on this thread, which hung.
    // A full vector grows into `grown`, reserved with the lock dropped; the old buffer leaves
    // in `grown` and is freed after the unlock.
    std::vector<std::function<void()>> grown;
    bool was_empty;
    for (;;) {
        std::size_t want;
        {
            std::lock_guard lk(mu);
            if (!open) return false;
            if (items.size() == items.capacity() && grown.capacity() > items.size()) {
                grown.insert(grown.end(), std::make_move_iterator(items.begin()),
                             std::make_move_iterator(items.end()));
                items.swap(grown);
            }
            if (items.size() < items.capacity()) {
                was_empty = items.empty();
                items.push_back(std::move(fn));
                has_posts.store(true, std::memory_order_seq_cst);
                has_items.store(true, std::memory_order_seq_cst);
                break;
            }
            want = std::max<std::size_t>(8, 2 * items.size());
        }
        grown.reserve(want);
    }
    if (was_empty && sleeping.load(std::memory_order_seq_cst)) poke_event_fd(event_fd);
    return true;
}

void Mailbox::post_wake(WaitQueue::Node& n) noexcept {
    WaitQueue::Node* head = wakes.load(std::memory_order_relaxed);
    do {
        n.next_wake = head;
    } while (!wakes.compare_exchange_weak(head, &n, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
#if GREEN_CHECK_FIBER_STATES
    if (g_after_wake_push_for_test) g_after_wake_push_for_test();
#endif
    // The seq_cst CAS above is this poster's half of the `sleeping` pair: the hub stores
    // `sleeping` before its last look at `wakes`. Onto a non-empty stack: whoever pushed first
    // has woken the hub, or it is awake and will find both.
    if (!head && sleeping.load(std::memory_order_seq_cst)) poke_event_fd(event_fd);
}

WaitQueue::Node* Mailbox::take_wakes() noexcept {
    if (!wakes.load(std::memory_order_relaxed)) return nullptr;  // no RMW on an empty stack
    WaitQueue::Node* n = wakes.exchange(nullptr, std::memory_order_acquire);
    WaitQueue::Node* fifo = nullptr;
    while (n) {
        WaitQueue::Node* next = n->next_wake;
        n->next_wake = fifo;
        fifo = n;
        n = next;
    }
    return fifo;
}

void Mailbox::take(std::vector<std::function<void()>>& out) {
    // A post that set has_posts before this clear of has_items is seen below; one after it
    // leaves has_items set for the next turn.
    has_items.store(false, std::memory_order_seq_cst);
    if (!has_posts.load(std::memory_order_seq_cst)) return;
    std::lock_guard lk(mu);
    has_posts.store(false, std::memory_order_relaxed);
    items.swap(out);
}

void drain_eventfd(int fd) noexcept {
    std::uint64_t n;
    while (::read(fd, &n, sizeof n) > 0) {
    }
}

}  // namespace green::detail

namespace green {

// Defined here, beside the switch path, so that the whole yield is one call deep: see
// GREEN_HOT_INLINE in hub.hpp.
[[gnu::flatten]] void yield() {
    detail::Hub::get().yield();
}

}  // namespace green

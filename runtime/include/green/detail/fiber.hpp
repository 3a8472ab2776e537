// The unit the hub schedules: a suspended execution context with its own stack.
// Greenlets and raw greenlets derive from Fiber; users never see it directly.
// Invariant: a Fiber is touched only by the OS thread of its hub.
//
// The state machine. Every change goes through Hub::transition(), which checked builds (Debug,
// sanitizers) verify against this table, and against the thread, aborting on a violation.
// Every transition is made on the OS thread of the fiber's hub.
//
//   from       to         by                                   when
//   Created    Runnable   Hub::launch                          spawn(), or spawn_later's timer
//   Created    Running    Hub::switch_to                       first switch into a raw greenlet,
//                                                              or the hub's loop fiber first runs
//   Created    Dead       finish_unstarted (greenlet.cpp)      killed before it started
//   Runnable   Running    Hub::switch_to (schedule, loop)      its turn in the run queue
//   Runnable   Dead       finish_unstarted                     killed while queued, never ran
//   Running    Runnable   Hub::yield; the loop fiber itself    it yields; the loop hands over
//   Running    Parked     Hub::park, park_uninterruptible      it waits (event, timer, I/O)
//   Running    Suspended  Hub::raw_switch                      an explicit raw-greenlet switch
//   Running    Dead       Hub::exit_current                    its body returned
//   Parked     Runnable   Hub::ready (wake-ups, its deadline,  what it waits for happened, its
//                         Hub::interrupt)                      deadline passed, or kill/Timeout
//   Suspended  Running    Hub::switch_to                       switched back to (raw greenlets)
//   Suspended  Runnable   Hub::deliver_loop_exit               the main fiber gets LoopExit
//
// Hub::ready on a Runnable fiber is the one tolerated no-op: two wake-ups in one turn (a deadline
// and the event it guarded) queue the fiber once. ready() in any other state, launch() of a
// started fiber and any transition not listed are bugs. The main fiber is born Running.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "green/detail/intrusive_list.hpp"

namespace green {
class Timeout;
class RawGreenlet;
}  // namespace green

namespace green::detail {

class Hub;

struct StackSlot {
    void* base = nullptr;  // lowest usable address (the stack grows down towards it)
    std::size_t size = 0;  // usable bytes above base
    bool guarded = false;  // a PROT_NONE page sits below base; otherwise a canary does
};

enum class FiberState : std::uint8_t {
    Created,   // not started; owns no stack yet
    Runnable,  // in the run queue
    Running,
    Parked,     // waiting for ready() (an event, a timer, I/O)
    Suspended,  // left by an explicit raw-greenlet switch; only a switch resumes it
    Dead,
};

// Mirror of libstdc++/libc++abi's __cxa_eh_globals (stable ABI): the caught-exception stack and
// the uncaught count. Copied whole, padding included, as one 16-byte move per switch.
struct EhState {
    void* caught_exceptions = nullptr;
    unsigned int uncaught_exceptions = 0;
};

// An interrupt queued behind the pending one: a kill (timeout_id 0) or a Timeout's expiry.
struct Interrupt {
    std::exception_ptr error;
    std::uint64_t timeout_id = 0;
};

// Links a Timeout into the list of the fiber that armed it: a fiber that ends disarms the ones
// still armed, so a Timeout that outlives its fiber never fires into freed memory.
struct TimeoutLink {
    TimeoutLink* prev = nullptr;
    TimeoutLink* next = nullptr;
    bool linked = false;
    Timeout* owner = nullptr;
};

enum class WakeReason : std::uint8_t { None, Notified, TimedOut };

class Fiber {
  public:
    Fiber() = default;
    Fiber(const Fiber&) = delete;
    Fiber& operator=(const Fiber&) = delete;
    virtual ~Fiber() {
        if (raw_view_deleter_) raw_view_deleter_(raw_view_);
        delete queued_;
    }

    // The fiber's body; runs on its own stack. Must not let exceptions escape.
    virtual void body() noexcept {}
    // Called on another stack after this fiber died and its stack was released.
    virtual void reaped() noexcept {}
    virtual std::string name() const { return "fiber"; }

    FiberState state() const noexcept { return state_; }
    Hub* hub() const noexcept { return hub_; }
    // gevent's ref: false when its timed and I/O waits must not keep the hub alive.
    bool ref() const noexcept { return ref_; }
    void set_ref(bool ref) noexcept { ref_ = ref; }
    // Its stack (empty before it first runs and after it is reaped) and the size requested.
    const StackSlot& stack() const noexcept { return stack_; }
    std::size_t stack_size() const noexcept { return stack_size_; }
    // True from its first run until it is reaped: it has (or had) a stack and a context.
    bool has_context() const noexcept { return ctx_ != nullptr; }
    // Parked, and an interrupt would wake it now: none is pending yet and it is not parked until
    // an operation finishes.
    bool interruptible_now() const noexcept {
        return state_ == FiberState::Parked && !pending_ && !uninterruptible_;
    }
    // Before it is started: the hub it will run on, its stack size (0: the hub's default) and
    // ref.
    void prepare(Hub& hub, std::size_t stack_size, bool ref) noexcept {
        hub_ = &hub;
        stack_size_ = stack_size;
        ref_ = ref;
    }

  private:
    // Implementation state: the scheduler's, and that of the few classes that build on it.
    friend class Hub;
    friend class RawFiber;
    friend class green::RawGreenlet;
    friend class green::Timeout;

    void* ctx_ = nullptr;    // fcontext of the suspended fiber
    Fiber* next_ = nullptr;  // run-queue link
    Hub* hub_ = nullptr;
    Fiber* parent_ = nullptr;                   // raw greenlets: who runs when this one ends
    std::exception_ptr pending_;                // thrown at the next resume point (kill, Timeout)
    std::uint64_t pending_timeout_ = 0;         // the Timeout pending_ is the expiry of; 0: a kill
    std::vector<Interrupt>* queued_ = nullptr;  // interrupts behind pending_, in throwing order
    IntrusiveList<TimeoutLink> timeouts_;       // Timeouts this fiber armed and has not dropped
    StackSlot stack_;
    std::size_t stack_size_ = 0;  // requested size; 0 = the hub's default
    FiberState state_ = FiberState::Created;
    WakeReason wake_ = WakeReason::None;
    bool uninterruptible_ = false;  // parked until an operation finishes; kill waits
    bool ref_ = true;  // false: its timed and I/O waits do not keep the hub alive (ref=False)
    int saved_errno_ = 0;
    EhState eh_;  // C++ EH globals of this fiber while it is switched out
    void* asan_fake_stack_ = nullptr;
    const void* asan_bottom_ = nullptr;
    std::size_t asan_size_ = 0;
    void* raw_view_ = nullptr;  // RawGreenlet view of this fiber, if one was made
    void (*raw_view_deleter_)(void*) = nullptr;
};

}  // namespace green::detail

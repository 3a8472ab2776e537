// The unit the hub schedules: a suspended execution context with its own stack.
// Greenlets and raw greenlets derive from Fiber; users never see it directly.
// Invariant: a Fiber is touched only by the OS thread of its hub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "green/detail/intrusive_list.hpp"

namespace green {
class Timeout;
}

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

    // Implementation state, owned by the hub (public for the runtime's own files).
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

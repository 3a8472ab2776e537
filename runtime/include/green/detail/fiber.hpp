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
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "green/detail/intrusive_list.hpp"
#include "green/detail/wait_reason.hpp"

namespace green {
class Timeout;
class RawGreenlet;
}  // namespace green

namespace green::detail {

class Hub;
class Fiber;

// A byte count in the 32 bits a stack size is kept in, the largest one when it does not fit
// (the stack pool refuses anything above kMaxStackSize, 1 GiB, anyway).
inline std::uint32_t saturate_u32(std::size_t n) noexcept {
    return n > UINT32_MAX ? UINT32_MAX : static_cast<std::uint32_t>(n);
}

struct StackSlot {
    void* base = nullptr;    // lowest usable address (the stack grows down towards it)
    std::uint32_t size = 0;  // usable bytes above base (at most kMaxStackSize, 1 GiB)
    bool guarded = false;    // a PROT_NONE page sits below base; otherwise a canary does
    bool zeroed = false;     // all zero when handed out: its deepest use is its fiber's own
};

// A compact fiber's stack while it is switched out (stack_copy.hpp): the `size` bytes from its
// saved context up to its stack top, kept at `data` (a heap buffer of `cap` bytes).
struct StackImage {
    char* data = nullptr;
    std::uint32_t size = 0;
    std::uint32_t cap = 0;
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

// Links a fiber into its hub's registry of live fibers (Hub::fibers()): from spawn (or its
// first switch) until it is reaped. Never touched by a switch. Its fiber: Fiber::of(). No
// `linked` flag: the registry tells membership from the links (IntrusiveList::contains).
struct FiberLink {
    FiberLink* prev = nullptr;
    FiberLink* next = nullptr;
};

// What a parked fiber waits for. kind/object/fd/events are set by the waiting primitive
// (WaitNote), since_ns and the deadline by Hub::park. Meaningful only while it is Parked.
struct WaitInfo {
    std::int64_t since_ns = 0;     // CLOCK_MONOTONIC_COARSE (its hub's loop turn) when it parked
    std::int64_t deadline_ns = 0;  // steady_clock, ns since its epoch; 0: none
    const void* object = nullptr;  // the primitive waited on (its wait queue), if any
    int fd = -1;
    short events = 0;
    WaitKind kind = WaitKind::None;
    WaitKind last_kind = WaitKind::None;  // the label of its latest wait (the blocking monitor)
};

// Who spawned a fiber, in Fiber::spawned_by_: a greenlet id, or one of these.
inline constexpr std::uint64_t kSpawnedByUnknown = 0;
inline constexpr std::uint64_t kSpawnedByMain = ~std::uint64_t{0};
inline constexpr std::uint64_t kSpawnedByOther = ~std::uint64_t{0} - 1;  // a raw greenlet, the loop

enum class WakeReason : std::uint8_t { None, Notified, TimedOut };

// Deletes a RawGreenlet made by RawGreenlet::view_of (raw_greenlet.cpp): the fiber that owns
// it cannot name the type here.
void destroy_raw_view(void* view) noexcept;

class Fiber {
  public:
    Fiber() = default;
    Fiber(const Fiber&) = delete;
    Fiber& operator=(const Fiber&) = delete;
    virtual ~Fiber() {
        if (extras_) [[unlikely]]
            drop_extras();
    }

    // The fiber's body; runs on its own stack. Must not let exceptions escape.
    virtual void body() noexcept {}
    // Called on another stack after this fiber died and its stack was released.
    virtual void reaped() noexcept {}
    virtual std::string name() const { return "fiber"; }
    // A greenlet's id (green::Greenlet::id); 0 for the other fibers (main, loop, raw greenlets).
    virtual std::uint64_t id() const noexcept { return 0; }

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
    // The registers its last switch saved, on its stack (null before it started; stale while it
    // runs): where a backtrace of a fiber that is not running starts.
    const void* saved_context() const noexcept { return ctx_; }
    // Parked, and an interrupt would wake it now: none is pending yet and it is not parked until
    // an operation finishes.
    bool interruptible_now() const noexcept {
        return state_ == FiberState::Parked && !pending_ && !uninterruptible_;
    }
    // Before it is started: the hub it will run on, its stack size (0: the hub's default) and
    // ref. A size beyond 32 bits is kept as the largest one, which the stack pool refuses as it
    // refuses anything above kMaxStackSize.
    void prepare(Hub& hub, std::size_t stack_size, bool ref) noexcept {
        hub_ = &hub;
        stack_size_ = saturate_u32(stack_size);
        ref_ = ref;
    }

    // Compact stack mode (green/stack_mode.hpp): it runs on its hub's shared run stack and
    // keeps only image() while switched out. Chosen before it starts.
    bool compact() const noexcept { return compact_; }
    void set_compact(bool compact) {
        if (compact) (void)extras();  // its image lives there: made now, where spawn may throw
        compact_ = compact;
    }
    const StackImage& image() const noexcept { return extras_ ? extras_->image : kNoImage; }

    // Introspection (run_info.hpp). What it waits for while parked, and who spawned it.
    const WaitInfo& wait_info() const noexcept { return wait_; }
    std::uint64_t spawned_by() const noexcept { return spawned_by_; }
    // Records `spawner` as the fiber that spawned this one.
    void set_spawned_by(const Fiber* spawner, const Fiber* main) noexcept {
        if (!spawner) return;
        if (spawner == main)
            spawned_by_ = kSpawnedByMain;
        else if (std::uint64_t id = spawner->id())
            spawned_by_ = id;
        else
            spawned_by_ = kSpawnedByOther;
    }

    // The fiber a registry link belongs to (Hub::fibers()).
    static Fiber& of(const FiberLink& link) noexcept;

  private:
    // Implementation state: the scheduler's, and that of the few classes that build on it.
    friend class Hub;
    friend class RawFiber;
    friend class green::RawGreenlet;
    friend class green::Timeout;

    // What few fibers use, behind one pointer (made on first use, freed with the fiber), so
    // that the fields every fiber writes stay in one small block: every parked greenlet's core
    // fits malloc's 256-byte chunks.
    struct Extras {
        Fiber* parent = nullptr;        // raw greenlets: who runs when this one ends
        std::vector<Interrupt> queued;  // interrupts behind pending_, in throwing order
        void* raw_view = nullptr;       // RawGreenlet view of this fiber, if one was made
        bool owns_raw_view = false;     // raw_view was made for this fiber (RawGreenlet::view_of)
        StackImage image;               // compact fibers: the copied-out stack
    };
    Extras& extras() {
        if (!extras_) [[unlikely]]
            extras_ = new Extras;
        return *extras_;
    }
    Fiber* parent() const noexcept { return extras_ ? extras_->parent : nullptr; }
    void drop_extras() noexcept {
        if (extras_->owns_raw_view) destroy_raw_view(extras_->raw_view);
        std::free(extras_->image.data);
        delete extras_;
        extras_ = nullptr;
    }
    static constexpr StackImage kNoImage{};

    void* ctx_ = nullptr;    // fcontext of the suspended fiber
    Fiber* next_ = nullptr;  // run-queue link
    Hub* hub_ = nullptr;
    std::exception_ptr pending_;          // thrown at the next resume point (kill, Timeout)
    std::uint64_t pending_timeout_ = 0;   // the Timeout pending_ is the expiry of; 0: a kill
    IntrusiveBag<TimeoutLink> timeouts_;  // Timeouts this fiber armed and has not dropped
    Extras* extras_ = nullptr;
    StackSlot stack_;
    FiberState state_ = FiberState::Created;
    WakeReason wake_ = WakeReason::None;
    bool uninterruptible_ = false;  // parked until an operation finishes; kill waits
    bool ref_ = true;       // false: its timed and I/O waits do not keep the hub alive (ref=False)
    bool compact_ = false;  // on the hub's run stack, copied out while switched out
    bool stack_reserved_ = false;  // spawned: a stack of stack_size_ is promised, not taken yet
    int saved_errno_ = 0;
    std::uint32_t stack_size_ = 0;  // requested size; 0 = the hub's default
    EhState eh_;                    // C++ EH globals of this fiber while it is switched out
    // Sanitizer builds only (sanitizer.hpp), one field for both since they never meet: ASan's
    // fake stack saved when the fiber switches away, or ThreadSanitizer's fiber context. The
    // stack bounds ASan is told are stack_'s (the main fiber's: Hub::main_stack_).
    void* sanitizer_ = nullptr;
    FiberLink registry_link_;  // in its hub's registry while it has a stack
    WaitInfo wait_;            // why it is parked
    std::uint64_t spawned_by_ = kSpawnedByUnknown;
    friend class WaitNote;
    friend class WaitLabel;
};

// The link is a member of Fiber itself (no virtual base), so its offset is the same in every
// fiber; a pointer back would cost each fiber 8 bytes (a million parked fibers: 8 MB).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
inline Fiber& Fiber::of(const FiberLink& link) noexcept {
    auto* at = reinterpret_cast<const char*>(&link) - offsetof(Fiber, registry_link_);
    return *const_cast<Fiber*>(reinterpret_cast<const Fiber*>(at));
}
#pragma GCC diagnostic pop

// Labels the waits of fiber `f` in its scope (the first label wins: an Event's label is kept
// when the Event waits through a WaitQueue). Cleared on exit. The fd and events are read only
// for Io and Offload waits (run_info.cpp), so the other labels do not write them.
class WaitNote {
  public:
    WaitNote(Fiber* f, WaitKind kind, const void* object = nullptr) noexcept
        : f_(f->wait_.kind == WaitKind::None ? f : nullptr) {
        if (!f_) return;
        f_->wait_.kind = kind;
        f_->wait_.object = object;
    }
    WaitNote(Fiber* f, WaitKind kind, const void* object, int fd, short events = 0) noexcept
        : WaitNote(f, kind, object) {
        if (!f_) return;
        f_->wait_.fd = fd;
        f_->wait_.events = events;
    }
    WaitNote(const WaitNote&) = delete;
    WaitNote& operator=(const WaitNote&) = delete;
    ~WaitNote() {
        if (!f_) return;
        f_->wait_.last_kind = f_->wait_.kind;
        f_->wait_.kind = WaitKind::None;
    }

  private:
    Fiber* f_;
};

// WaitNote's form for a wait that is never nested in another labelled one (a WaitQueue's own
// wait: idle() labels through its queue's kind): it writes without looking for an outer label,
// a few stores on the path of every lock, queue and event wait.
class WaitLabel {
  public:
    WaitLabel(Fiber& f, WaitKind kind, const void* object) noexcept : f_(f), kind_(kind) {
        f.wait_.kind = kind;
        f.wait_.object = object;
    }
    WaitLabel(const WaitLabel&) = delete;
    WaitLabel& operator=(const WaitLabel&) = delete;
    ~WaitLabel() {
        f_.wait_.last_kind = kind_;
        f_.wait_.kind = WaitKind::None;
    }

  private:
    Fiber& f_;
    WaitKind kind_;
};

}  // namespace green::detail

// The per-thread scheduler. One Hub per OS thread, created on first use. The thread's own stack
// is the main fiber; the loop runs in a fiber of its own (as in gevent). Fibers switch directly
// to the next runnable one; the loop fiber runs only to fire timers, poll I/O and take posts
// from other threads — when the run queue is empty, or every kTicksPerPoll switches.
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "green/clock.hpp"
#include "green/detail/fiber.hpp"
#include "green/detail/timer.hpp"
#include "green/wait_queue.hpp"
#include "io_backend.hpp"
#include "stack_pool.hpp"
#include "timer_heap.hpp"

namespace green::detail {

// A hub's inbox for other OS threads. Shared with HubHandles so it outlives the hub safely.
struct Mailbox {
    Mailbox();
    ~Mailbox();
    bool post(std::function<void()> fn);
    std::vector<std::function<void()>> take();

    std::mutex mu;
    std::vector<std::function<void()>> items;
    std::atomic<bool> has_items{false};
    std::atomic<long> keep_alive{0};
    bool open = true;  // guarded by mu
    int event_fd = -1;
};

class Hub {
  public:
    // The calling thread's hub, created on first use.
    static Hub& get();
    // The calling thread's hub, or nullptr if it has none yet.
    static Hub* peek() noexcept;

    Hub(const Hub&) = delete;
    Hub& operator=(const Hub&) = delete;
    ~Hub();

    Fiber* current() const noexcept { return current_; }
    // True while the loop fiber itself runs (timer callbacks, posts, polling): hooks must pass
    // such calls straight to libc.
    bool in_loop_fiber() const noexcept { return current_ == loop_.get(); }
    Fiber& main_fiber() noexcept { return main_; }

    // Scheduling. ready(): a Parked fiber becomes runnable (no-op in any other state).
    // launch(): a Created fiber is queued to start.
    void ready(Fiber& f) noexcept;
    void launch(Fiber& f) noexcept;
    void yield();
    // Parks the current fiber until ready() (true) or the deadline (false). Throws a pending
    // interrupt (kill, Timeout) instead of parking, or after waking; never parks on an expired
    // deadline. Callers clean up with RAII, since park may throw.
    bool park(const Deadline& deadline);
    // Parks until ready(), ignoring interrupts (they stay pending). For waits that must not be
    // abandoned, such as an io_uring operation whose memory the kernel still owns.
    void park_uninterruptible();
    // Delivers `e` to `f` at its next resume point, waking it if it is parked.
    void interrupt(Fiber& f, std::exception_ptr e) noexcept;
    void throw_if_interrupted();
    // Explicit switch (raw greenlets): current becomes Suspended, `to` runs.
    void raw_switch(Fiber& to);

    void add_timer(Timer& t) { timers_.add(t); }
    void cancel_timer(Timer& t) noexcept { timers_.cancel(t); }

    IoBackend& io() noexcept { return *io_; }
    StackPool& stacks() noexcept { return stacks_; }
    const std::shared_ptr<Mailbox>& mailbox() const noexcept { return mailbox_; }
    WaitQueue& idle_waiters() noexcept { return idle_; }

    std::size_t default_stack_size() const noexcept { return default_stack_size_; }
    void set_default_stack_size(std::size_t n) noexcept { default_stack_size_ = n; }

    // Ends the current fiber (after its body returned) and runs the next one.
    [[noreturn]] void exit_current() noexcept;

  private:
    Hub();
    class LoopFiber;
    static void entry(void* transfer_fctx, void* transfer_data) noexcept;

    void loop();
    void schedule();
    void switch_to(Fiber& to) noexcept;
    void resumed(void* fctx, void* data) noexcept;
    void prepare_stack(Fiber& f);
    void reap(Fiber& dead) noexcept;
    Fiber* pop_runnable() noexcept;
    void enqueue(Fiber& f) noexcept;
    void run_due_timers();
    void run_posts();
    bool alive() const noexcept;
    void deliver_loop_exit();

    static constexpr unsigned kTicksPerPoll = 64;

    Fiber main_;
    std::unique_ptr<Fiber> loop_;
    Fiber* current_;
    Fiber* runq_head_ = nullptr;
    Fiber* runq_tail_ = nullptr;
    unsigned ticks_ = 0;
    TimerHeap timers_;
    StackPool stacks_;
    std::unique_ptr<IoBackend> io_;
    std::shared_ptr<Mailbox> mailbox_;
    WaitQueue idle_;
    std::size_t default_stack_size_;
    void* eh_globals_;
    void* alt_stack_ = nullptr;
};

}  // namespace green::detail

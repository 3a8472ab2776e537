// The per-thread hub as users see it: sleeping, yielding, readiness waits on file descriptors,
// and the thread-safe handle other OS threads use to hand work to a hub.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "green/clock.hpp"

namespace green {

// Sleeps the current fiber (or the main thread's stack) while others run.
// sleep(0) or a negative duration yields: every other runnable fiber runs first.
void sleep(Duration d);
template <class Rep, class Period>
void sleep(std::chrono::duration<Rep, Period> d) {
    if (d <= d.zero()) return sleep(Duration::zero());
    // Round up so that a sleep never ends early.
    sleep(std::chrono::ceil<Duration>(d));
}
// gevent's spelling, seconds as a number: sleep(0) yields, sleep(0.25) sleeps a quarter of a
// second. NaN is std::invalid_argument; beyond ~285 years (or infinity) it sleeps that long.
void sleep(double seconds);
void yield();
// Waits until the hub has nothing else to run (gevent.idle).
void idle();

// The active I/O backend of this thread's hub: "io_uring" or "epoll".
const char* backend_name();

// Readiness wait, the primitive under every cooperative socket and hook.
// events: POLLIN / POLLOUT bits. Returns the ready bits (>0), 0 when the deadline passed, or
// -errno (-EBADF when the fd is invalid or was closed with notify_close while waiting).
// Readiness may be spurious: callers retry their non-blocking call and wait again on EAGAIN.
int wait_fd(int fd, short events, Deadline deadline = {});
// Tell the hub an fd is about to be closed: its waiters wake with EBADF and no stale readiness
// survives for a later fd with the same number. Call before close(2).
void notify_close(int fd) noexcept;

// Stack size for fibers spawned without an explicit one (GREEN_STACK_SIZE, default 128 KiB).
std::size_t default_stack_size() noexcept;
void set_default_stack_size(std::size_t bytes);

namespace detail {
struct Mailbox;
class Hub;
}  // namespace detail

// A thread-safe handle to one hub. Any OS thread may post() a function; the hub runs it on its
// own thread at the next loop turn. Posting to a hub whose thread has exited returns false.
class HubHandle {
  public:
    HubHandle() = default;
    bool post(std::function<void()> fn) const;
    explicit operator bool() const noexcept { return mailbox_ != nullptr; }
    // True when this is the calling thread's hub.
    bool is_current() const noexcept;

    // While a KeepAlive lives, the hub counts it as something that may still wake it, so a
    // fiber waiting for another thread's post() does not get LoopExit.
    class KeepAlive {
      public:
        KeepAlive() = default;
        explicit KeepAlive(const HubHandle& h);
        KeepAlive(KeepAlive&& o) noexcept : mailbox_(std::move(o.mailbox_)) {}
        KeepAlive& operator=(KeepAlive&& o) noexcept;
        ~KeepAlive();

      private:
        std::shared_ptr<detail::Mailbox> mailbox_;
    };

  private:
    friend class detail::Hub;  // Hub::handle() makes them
    explicit HubHandle(std::shared_ptr<detail::Mailbox> m) : mailbox_(std::move(m)) {}
    std::shared_ptr<detail::Mailbox> mailbox_;
};

// The calling thread's hub (created on first use).
HubHandle current_hub();

}  // namespace green

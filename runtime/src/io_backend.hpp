// The I/O backend interface under the hub: readiness waits with deadlines, close notification,
// and one poll per loop turn. Two implementations: io_uring (default) and epoll (fallback).
#pragma once

#include <cerrno>
#include <cstddef>
#include <memory>

#include "green/clock.hpp"

namespace green::detail {

class Hub;

class IoBackend {
  public:
    explicit IoBackend(Hub& hub) : hub_(hub) {}
    IoBackend(const IoBackend&) = delete;
    IoBackend& operator=(const IoBackend&) = delete;
    virtual ~IoBackend() = default;

    virtual const char* name() const noexcept = 0;
    // Parks the current fiber until `fd` is ready for `events` (POLLIN/POLLOUT). Returns the
    // ready bits (>0), 0 at the deadline, -EBADF if the fd is invalid or closed meanwhile.
    // Throws pending interrupts after cleaning up.
    virtual int wait_fd(int fd, short events, const Deadline& deadline) = 0;
    // `fd` is about to be closed: wake its waiters with EBADF, forget its state.
    virtual void fd_closed(int fd) noexcept = 0;
    // One loop turn: submit queued work, wait up to `timeout` (negative: forever, zero: do not
    // block) and make the fibers whose I/O completed runnable.
    virtual void poll(Duration timeout) = 0;
    // Watch the hub's cross-thread eventfd; the backend drains it when it fires.
    virtual void watch_wakeup(int event_fd) = 0;

    // Optional whole-operation receive (io_uring): the kernel runs recv(2) as soon as data is
    // there and the fiber parks until it completes. Returns the byte count or -errno: -EBADF
    // when the fd is closed meanwhile, -ETIME at the deadline, -ENOSYS when this backend only
    // waits for readiness (callers then use wait_fd and retry). `buf` belongs to the kernel
    // until this returns or throws; if a kill/Timeout interrupts it, `landed` is set to the
    // bytes a too-late cancel still received, so the caller can keep them.
    virtual long recv_op(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
                         long& landed) {
        (void)fd, (void)buf, (void)len, (void)flags, (void)deadline;
        landed = 0;
        return -ENOSYS;
    }

    // A stream read just drained `fd`'s queue (a short read): may the next receive park on
    // readiness before trying recv(2), saving a system call that would almost surely say EAGAIN?
    // Only if whatever is already pending (data, or the peer's end of stream) still wakes that
    // wait. io_uring's poll is level-triggered, so always; epoll overrides this.
    virtual bool wait_before_recv_ok(int fd) const noexcept {
        (void)fd;
        return true;
    }

    // Fibers parked in an I/O wait that keep the hub alive (those spawned with ref=false don't).
    std::size_t waiters() const noexcept { return waiters_; }
    // Fibers parked in an I/O wait, counted or not: while there are any, the loop polls.
    std::size_t parked() const noexcept { return parked_; }

  protected:
    // Counts a fiber as parked for as long as it is parked in this backend, cancellation
    // included, and as a waiter keeping the hub alive unless it was spawned with ref=false.
    class CountedWaiter {
      public:
        CountedWaiter(IoBackend& b, bool counts) noexcept : b_(b), counts_(counts) {
            ++b_.parked_;
            if (counts_) ++b_.waiters_;
        }
        ~CountedWaiter() {
            --b_.parked_;
            if (counts_) --b_.waiters_;
        }
        CountedWaiter(const CountedWaiter&) = delete;
        CountedWaiter& operator=(const CountedWaiter&) = delete;

      private:
        IoBackend& b_;
        bool counts_;
    };

    Hub& hub_;
    std::size_t waiters_ = 0;
    std::size_t parked_ = 0;
};

// nullptr (with `why` set) when io_uring cannot be set up here.
std::unique_ptr<IoBackend> make_uring_backend(Hub& hub, const char** why);
std::unique_ptr<IoBackend> make_epoll_backend(Hub& hub);

// Reads an eventfd to zero (both backends use one for cross-thread wake-ups).
void drain_eventfd(int fd) noexcept;

}  // namespace green::detail

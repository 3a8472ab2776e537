// How an idle hub of several waits: a short spin in user space before it blocks (watching its
// mailbox and its I/O completions, and giving the core up to anything else runnable there
// between looks), and an eventfd write from a poster only when the hub really blocks. Waking a
// thread blocked in the kernel costs tens of microseconds on a VM (a reschedule and an IPI on each
// side); a hand-off between two hubs that are both awake costs a cache line. Go's scheduler keeps
// spinning Ms for the same reason (proc.go, findrunnable).
#include <immintrin.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "scheduler.hpp"

namespace green::detail {

bool Hub::spin_for_post(Duration timeout) noexcept {
    // Alone in the process nobody posts but the dump signal and plain threads: no spin (a lone
    // hub busy with I/O hardly ever runs dry: 50-120 context switches in 2 s of the 1-hub echo
    // server, bench/echo/wakeups.sh). Nor once several spins in a row found nothing, but for one a
    // second.
    if (g_live_hubs.load(std::memory_order_relaxed) < 2) return false;
    if (timeout >= Duration::zero() && timeout < kSpinLimit) return false;
    if (spin_credit_ <= 0) {
        if (turn_ns_ - spin_retry_ns_ < kSpinRetryNs) return false;
        spin_retry_ns_ = turn_ns_;
        spin_credit_ = 1;
    }
    const Mailbox& mb = *mailbox_;
    // One clock read to start, then one per 64 pauses (a few µs): the reads fall while the
    // other hub is still on its way to the answer, and a post found returns at once, with no
    // clock read after it. (Spinning longer than kSpinLimit costs more than it saves when the
    // cores are shared with other work: the other hub's thread may be waiting for this core.)
    const auto until = Clock::now() + kSpinLimit;
    // I/O counts as much as a post: the waits the hub's fibers just queued go to the kernel
    // first, and a completion found ends the spin (before, the sqes waited unsubmitted and
    // completions untaken until the spin ran out).
    for (;;) {
        for (int i = 0; i < 64; ++i) {
            if (mb.pending(std::memory_order_relaxed)) return true;
            // A hub of a pool that serves sockets: with its core shared (the load generator
            // beside a 2-hub echo server), blocking here made it sleep and wake once every
            // three round trips, 1.12-1.19x one hub's CPU per round trip; refilling the credit
            // here, 0.98-0.99x (bench/echo/README.md).
            if ((i & 7) == 0 && io_->completions_waiting()) {
                io_->poll(Duration::zero());
                spin_credit_ = kSpinCredit;
                return true;
            }
            _mm_pause();
        }
        // Whatever else the kernel has runnable on this core (a client on the same machine,
        // the other hub's thread) gets it now rather than at the end of the spin. memcached -t 4
        // under --hubs 2 with its load generator on the same two cores: +3 to 6 % req/s
        // (bench/preload/README.md). With nothing else runnable the call returns at once.
        (void)::syscall(SYS_sched_yield);
        // What ran meanwhile may have readied I/O: look before the clock ends the spin (and
        // spends credit on a spin that did find work). epoll sees readiness only here, through
        // a system call, once per 64 pauses.
        if (io_->poll_spinning()) {
            spin_credit_ = kSpinCredit;
            return true;
        }
        if (Clock::now() >= until) break;
    }
    --spin_credit_;
    return false;
}

void Hub::sleep_in_backend(Duration timeout) {
    Mailbox& mb = *mailbox_;
    mb.sleeping.store(true, std::memory_order_seq_cst);
    // A post that came before the store above did not write the eventfd: do not block.
    if (mb.pending(std::memory_order_seq_cst)) timeout = Duration::zero();
    io_->poll(timeout);
    mb.sleeping.store(false, std::memory_order_relaxed);
}

void Hub::sleep_until_posted() noexcept {
    Mailbox& mb = *mailbox_;
    mb.sleeping.store(true, std::memory_order_seq_cst);
    // Drained first so an old wake-up does not return at once; a post after the drain writes
    // the eventfd again, one before it is seen through pending(). Raw system calls: with the
    // hooks loaded, read and ppoll would become one more fiber wait.
    std::uint64_t n;
    while (::syscall(SYS_read, mb.event_fd, &n, sizeof n) > 0) {
    }
    if (!mb.pending(std::memory_order_seq_cst)) {
        pollfd p{mb.event_fd, POLLIN, 0};
        ::syscall(SYS_ppoll, &p, 1, nullptr, nullptr, 0);
    }
    mb.sleeping.store(false, std::memory_order_relaxed);
}

}  // namespace green::detail

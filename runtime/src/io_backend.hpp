// The I/O backend interface under the hub, and the contract every backend implements: readiness
// waits, whole operations (receive, read, write) parked until they complete, close notification
// and one poll per loop turn. Two implementations: io_uring (default) and epoll (fallback, also
// taken over at run time when io_uring stops working after setup).
//
// The contract, in the manner of Go's runtime/netpoll.go:
//
// Who calls what.
//   A backend belongs to one hub and so to one OS thread; nothing here is thread-safe, and every
//   method is called on that thread only. Other threads reach a hub through its mailbox, whose
//   eventfd the backend watches (watch_wakeup).
//   - wait_fd, recv, submit: from a fiber of the hub other than the loop fiber. They park the
//     calling fiber (Hub::park), so the caller must be a fiber that may be parked.
//   - poll: from the hub's loop fiber only, once per loop turn. It must not park.
//   - fd_closed: from any fiber of the hub (the loop fiber included), before the fd is closed.
//   - name, waiters, parked, wait_before_recv_ok: anywhere on the hub's thread.
//
// What a wait returns.
//   Results are values, never errno: the byte count or ready bits, or -errno. At the deadline a
//   readiness wait returns 0 and an operation -ETIME; an fd closed meanwhile (fd_closed) gives
//   -EBADF. An interrupt (kill, green::Timeout) is thrown after the wait has been cleaned up;
//   an already expired deadline never parks (the backend checks once without blocking).
//
// Memory.
//   An operation's memory (its record, the caller's buffer) belongs to the kernel from
//   submission until its completion arrives. A cancelled operation — deadline, interrupt,
//   fd_closed — keeps its memory valid until that completion arrives: the backend parks the
//   fiber uninterruptibly until then, so a stack frame holding the buffer cannot unwind early.
//   Bytes a cancelled receive still took are reported (`landed`), so the caller can keep them.
//
// Keeping the hub alive.
//   A fiber parked in a backend counts as a waiter (the hub is alive while there are any),
//   unless it was spawned with ref=false; a cancellation in flight always counts.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>

#include <sys/socket.h>

#include "green/clock.hpp"

namespace green::detail {

class Hub;

// How a receive waits when no data is there (GREEN_NET_RECV, measured in bench/echo):
//   Poll:      recv(2); on EAGAIN park on readiness, then retry.
//   WaitFirst: like Poll, but after a short read park first (the queue was empty a moment ago,
//              so an immediate recv(2) would almost surely say EAGAIN), when the backend says
//              that is sound (wait_before_recv_ok).
//   Op:        the receive itself is an operation the kernel runs when data is there (io_uring).
enum class RecvPolicy : std::uint8_t { Poll, WaitFirst, Op };

// The GREEN_NET_RECV override, read once per process: the backend's default when unset.
RecvPolicy configured_recv_policy(RecvPolicy backend_default) noexcept;

// What a socket keeps between receives for the backend's receive policy.
struct RecvHint {
    bool stream = false;   // SOCK_STREAM: a short read proves the receive queue empty
    bool drained = false;  // the last read was short: the queue was empty a moment ago
    long landed = 0;       // bytes a receive cut short by an interrupt still took (see above)
};

// What one read(2), write(2) or sendfile(2) moves at most (the kernel's MAX_RW_COUNT).
inline constexpr std::size_t kMaxRwCount = 0x7ffff000;

// One whole operation for IoBackend::submit.
struct IoOp {
    enum class Kind : std::uint8_t {
        Read,    // read(2) / pread(2): `offset` < 0 reads at the file position
        Write,   // write(2) / pwrite(2)
        Recv,    // recv(2) with `flags`
        Send,    // send(2) with `flags` (MSG_NOSIGNAL is the caller's to add)
        ReadV,   // preadv2(2): `buf` is the iovec array, `len` its count, `flags` the RWF_* flags
        WriteV,  // pwritev2(2), likewise
        Fsync,   // fsync(2), or fdatasync(2) when `flags` is kDataSync
        // copy_file_range(2) from `fd` (`buf` is the CopyRangeArgs, `len` the count, `flags`
        // its flags): io_uring has no such operation, so it always runs on the offload pool
        CopyRange,
        // A function of the hook library's (`buf` is the PoolCall; `fd` unused, -1): calls that
        // hold their OS thread without waiting for any fd (posix_spawn until the child exec'd)
        Call,
    };
    static constexpr int kDataSync = 1;
    Kind kind;
    int fd;
    void* buf;
    std::size_t len;
    int flags = 0;
    std::int64_t offset = -1;
    long landed = 0;    // out: bytes an interrupted read/recv still took
    bool pool = false;  // run it on the offload pool even where the backend could submit it
    // The record and its buffers are on the heap even though a compact fiber submits it
    // (compact_io.cpp's heap twin): the backend may leave it with the kernel or the pool.
    bool off_stack = false;
};

// copy_file_range(2)'s arguments beyond the input fd, the count and the flags (IoOp::CopyRange).
struct CopyRangeArgs {
    int fd_out;
    std::int64_t* off_in;  // nullptr: the file position, as in the system call
    std::int64_t* off_out;
};

// IoOp::Call's function and its argument; its result is the operation's (a count or -errno).
struct PoolCall {
    long (*fn)(void*) noexcept;
    void* ctx;
};

// The kinds only regular files and block devices take: always "ready", their calls wait for
// the disk, not for readiness.
inline bool is_file_op(IoOp::Kind k) noexcept {
    return k == IoOp::Kind::ReadV || k == IoOp::Kind::WriteV || k == IoOp::Kind::Fsync ||
           k == IoOp::Kind::CopyRange;
}
// The kinds no backend submits itself: the offload pool's thread makes the call.
inline bool pool_only(IoOp::Kind k) noexcept {
    return k == IoOp::Kind::CopyRange || k == IoOp::Kind::Call;
}
// Whether `op` moves data in (readiness it would wait for: POLLIN) rather than out.
inline bool is_input(IoOp::Kind k) noexcept {
    return k == IoOp::Kind::Read || k == IoOp::Kind::Recv || k == IoOp::Kind::ReadV;
}

// Makes `op` with a blocking system call, as a count or -errno (Recv/Send with MSG_DONTWAIT).
long run_blocking(const IoOp& op) noexcept;

class IoBackend {
  public:
    explicit IoBackend(Hub& hub) : hub_(hub) {}
    IoBackend(const IoBackend&) = delete;
    IoBackend& operator=(const IoBackend&) = delete;
    virtual ~IoBackend() = default;

    virtual const char* name() const noexcept = 0;

    // Parks the current fiber until `fd` is ready for `events` (POLLIN/POLLOUT). Returns the
    // ready bits (>0), 0 at the deadline, -EBADF if the fd is invalid or closed meanwhile.
    virtual int wait_fd(int fd, short events, const Deadline& deadline) = 0;

    // One receive on a non-blocking socket, waiting as this backend's receive policy says.
    // Returns the byte count, or -errno: -ETIME at the deadline, -EAGAIN at once with
    // MSG_DONTWAIT. `hint` is the socket's: it carries `drained` from one receive to the next.
    virtual long recv(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
                      RecvHint& hint);

    // Runs `op` and parks until it completes: io_uring submits the operation itself; epoll
    // waits for readiness and then makes the call (a regular file, which is always "ready",
    // is read or written by the offload pool so that a slow disk does not stall the hub).
    // The fd may be in blocking mode: the call is made only when it cannot block. Returns the
    // result or -errno, -ETIME at the deadline with nothing transferred. `op.pool` and the file
    // kinds on epoll run on the offload pool, uninterruptibly (see offload()).
    virtual long submit(IoOp& op, const Deadline& deadline) = 0;

    // `fd` is about to be closed: wake its waiters with EBADF, forget its state.
    virtual void fd_closed(int fd) noexcept = 0;
    // One loop turn: submit queued work, wait up to `timeout` (negative: forever, zero: do not
    // block) and make the fibers whose I/O completed runnable.
    virtual void poll(Duration timeout) = 0;
    // Watch the hub's cross-thread eventfd; the backend drains it when it fires. The fd stays
    // the mailbox's (open for the life of the process, reused by later hubs): never closed here.
    virtual void watch_wakeup(int event_fd) = 0;
    // For an idle hub's spin (hub_spin.cpp), called in a loop: hands the kernel what is queued
    // without waiting, and says whether completions wait for poll() to take them. A backend
    // that cannot tell without a system call says false (and is asked poll_spinning() instead).
    virtual bool completions_waiting() noexcept { return false; }
    // For the same spin, once every few microseconds: makes runnable, without waiting, the
    // fibers whose I/O is ready and says whether there were any. May cost a system call, which
    // is how epoll, whose completions_waiting() cannot tell, sees readiness.
    virtual bool poll_spinning() {
        if (!completions_waiting()) return false;
        poll(Duration::zero());
        return true;
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
    std::size_t waiters() const noexcept { return counts_->waiters; }
    // Fibers parked in an I/O wait, counted or not: while there are any, the loop polls.
    std::size_t parked() const noexcept { return counts_->parked; }
    // I/O waits started so far (an operation submitted, or a readiness wait): green::stats().
    std::uint64_t waits_started() const noexcept { return counts_->started; }

  protected:
    struct Counts {
        std::size_t waiters = 0;
        std::size_t parked = 0;
        std::uint64_t started = 0;
    };

    // Counts a fiber as parked for as long as it is parked in this backend, cancellation
    // included, and as a waiter keeping the hub alive unless it was spawned with ref=false.
    class CountedWaiter {
      public:
        CountedWaiter(IoBackend& b, bool counts) noexcept : c_(*b.counts_), counts_(counts) {
            ++c_.parked;
            ++c_.started;
            if (counts_) ++c_.waiters;
        }
        ~CountedWaiter() {
            --c_.parked;
            if (counts_) --c_.waiters;
        }
        CountedWaiter(const CountedWaiter&) = delete;
        CountedWaiter& operator=(const CountedWaiter&) = delete;

      private:
        Counts& c_;
        bool counts_;
    };

    // A backend that takes over from another (io_uring failing after setup) counts into the
    // one the hub holds, so that the hub's view of waiters stays whole.
    void count_into(IoBackend& owner) noexcept { counts_ = owner.counts_; }
    Counts& counts() noexcept { return *counts_; }

    // Runs `op` on the offload pool (run_blocking) and parks until it is done. Uninterruptibly:
    // the pool thread works on the caller's buffer, which must outlive the call (a disk
    // operation always ends). A kill or Timeout that came meanwhile is thrown afterwards.
    long offload(IoOp& op);
    // submit() for a compact fiber (compact_io.cpp): nothing on its stack is left with the
    // kernel or the offload pool while it waits, since its stack is copied away meanwhile.
    long submit_compact(IoOp& op, const Deadline& deadline);
    bool compact_caller() const noexcept;
    bool compact_caller(const IoOp& op) const noexcept { return !op.off_stack && compact_caller(); }

    // The readiness-based receive both backends share (RecvPolicy Poll and WaitFirst).
    long recv_by_readiness(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
                           RecvHint& hint);

    Hub& hub_;
    RecvPolicy recv_policy_ = RecvPolicy::WaitFirst;

  private:
    Counts own_counts_;
    Counts* counts_ = &own_counts_;
};

// nullptr (with `why` set) when io_uring cannot be set up here.
std::unique_ptr<IoBackend> make_uring_backend(Hub& hub, const char** why);
// `counts_owner`: the backend whose waiter counts this one keeps (see count_into).
std::unique_ptr<IoBackend> make_epoll_backend(Hub& hub, IoBackend* counts_owner = nullptr);

// Reads an eventfd to zero (both backends use one for cross-thread wake-ups).
void drain_eventfd(int fd) noexcept;

// Whether a completed receive of `n` bytes (of `len` asked) proves the queue empty: only a short
// stream read that consumed data does (a datagram says nothing about the next; MSG_PEEK leaves
// the data).
inline bool drained_by(const RecvHint& hint, long n, std::size_t len, int flags) noexcept {
    return hint.stream && n > 0 && static_cast<std::size_t>(n) < len && !(flags & MSG_PEEK);
}

}  // namespace green::detail

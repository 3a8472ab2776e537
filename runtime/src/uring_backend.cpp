// io_uring backend. Each readiness wait is one IORING_OP_POLL_ADD; submissions are batched and
// sent with the loop's single io_uring_enter per turn. An abandoned wait (timeout, kill) is
// cancelled and the fiber stays parked until the kernel's completion for it arrives, so the
// kernel never completes into memory that is gone. If io_uring_enter starts failing after setup
// (a seccomp filter installed later, say), the backend hands over to epoll: one warning line,
// the ring is closed (which cancels what the kernel still holds) and every parked operation is
// woken to run again on epoll.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "green/detail/intrusive_list.hpp"
#include "green/detail/park_local.hpp"
#include "io_backend.hpp"
#include "io_call.hpp"
#include "owned_fds.hpp"
#include "poll_once.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {

constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kCloseCancelTag = 2;  // fd_closed's cancel of every op on the fd
constexpr unsigned kEntries = 4096;
// Completions wait in the CQ ring until the loop takes them (Hub::kTicksPerPoll per turn), so
// it must hold one per waiting fiber: 16,384 before the kernel's slower overflow list is used.
constexpr unsigned kCqEntries = 4 * kEntries;

struct Op {
    Op* prev = nullptr;  // in the backend's list of operations in flight
    Op* next = nullptr;
    bool linked = false;
    bool done = false;
    bool retry = false;  // the ring failed: run it again on the epoll backend that took over
    Fiber* fiber = nullptr;
    int res = 0;
};

// io_uring_enter's errors that say "not now" rather than "never".
bool transient(int rc) noexcept {
    return rc >= 0 || rc == -ETIME || rc == -EINTR || rc == -EAGAIN || rc == -EBUSY;
}

class UringBackend final : public IoBackend {
  public:
    UringBackend(Hub& hub, io_uring ring) : IoBackend(hub), ring_(ring) {
        recv_policy_ = configured_recv_policy(RecvPolicy::Op);
        runtime_fd_acquired(ring_.ring_fd);
    }
    ~UringBackend() override {
        if (!fallback_) close_ring();
    }

    const char* name() const noexcept override {
        return fallback_ ? fallback_->name() : "io_uring";
    }

    void watch_wakeup(int event_fd) override {
        wake_fd_ = event_fd;  // the mailbox's: marked runtime-owned there
        if (fallback_) return fallback_->watch_wakeup(event_fd);
        arm_wakeup();
    }

    int wait_fd(int fd, short events, const Deadline& deadline) override {
        if (fallback_) [[unlikely]]
            return fallback_->wait_fd(fd, events, deadline);
        if (fd < 0) return -EBADF;
        if (deadline.expired()) return poll_once(fd, events);
        const OpOutcome r = run_op(
            fd,
            [&](io_uring_sqe* sqe) {
                io_uring_prep_poll_add(sqe, fd, static_cast<unsigned>(events));
            },
            deadline, nullptr);
        if (r.retry) [[unlikely]]
            return fallback_->wait_fd(fd, events, deadline);
        if (r.fd_closed) return -EBADF;
        if (r.res == -ECANCELED) return 0;  // the deadline passed
        if (r.res < 0) return r.res;
        if (r.res & POLLNVAL) return -EBADF;
        return r.res;
    }

    long recv(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
              RecvHint& hint) override {
        if (fallback_) [[unlikely]]
            return fallback_->recv(fd, buf, len, flags, deadline, hint);
        // An expired deadline or MSG_DONTWAIT: a plain non-blocking attempt does that best.
        // A compact fiber's buffer may be on its stack, which is copied away while it waits.
        if (recv_policy_ != RecvPolicy::Op || (flags & MSG_DONTWAIT) || deadline.expired() ||
            compact_caller())
            return recv_by_readiness(fd, buf, len, flags, deadline, hint);
        hint.landed = 0;
        if (fd < 0) return -EBADF;
        const OpOutcome r = run_op(
            fd,
            // No IORING_RECVSEND_POLL_FIRST even right after a short read: the kernel tries the
            // recv when the loop turn submits it, and under load the peer's next message is
            // often there by then, which saves arming a poll (measured in bench/echo/README.md).
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf, len, flags); }, deadline,
            &hint.landed);
        if (r.retry) [[unlikely]]
            return fallback_->recv(fd, buf, len, flags, deadline, hint);
        if (r.res >= 0) {  // data may have landed even as the deadline passed
            hint.drained = drained_by(hint, r.res, len, flags);
            return r.res;
        }
        if (r.fd_closed) return -EBADF;
        if (r.res == -ECANCELED || r.res == -EINTR) return -ETIME;
        // A socket the program made non-blocking behind our back: wait for readiness instead.
        if (r.res == -EAGAIN) return recv_by_readiness(fd, buf, len, flags, deadline, hint);
        return r.res;
    }

    long submit(IoOp& op, const Deadline& deadline) override {
        if (fallback_) [[unlikely]]
            return fallback_->submit(op, deadline);
        if (compact_caller(op)) [[unlikely]]
            return submit_compact(op, deadline);
        op.landed = 0;
        if (op.fd < 0 && op.kind != IoOp::Kind::Call) return -EBADF;
        if (op.pool || pool_only(op.kind)) return offload(op);
        if (deadline.expired()) return submit_now(op);
        const OpOutcome r = run_op(
            op.fd,
            [&](io_uring_sqe* sqe) {
                const auto off = static_cast<std::uint64_t>(op.offset);  // -1: the file position
                // At most what one read(2) transfers.
                const auto n = static_cast<unsigned>(std::min(op.len, kMaxRwCount));
                switch (op.kind) {
                    case IoOp::Kind::Read:
                        io_uring_prep_read(sqe, op.fd, op.buf, n, off);
                        break;
                    case IoOp::Kind::Write:
                        io_uring_prep_write(sqe, op.fd, op.buf, n, off);
                        break;
                    case IoOp::Kind::Recv:
                        io_uring_prep_recv(sqe, op.fd, op.buf, op.len, op.flags);
                        break;
                    case IoOp::Kind::Send:
                        io_uring_prep_send(sqe, op.fd, op.buf, op.len, op.flags);
                        break;
                    case IoOp::Kind::ReadV:
                        io_uring_prep_readv2(sqe, op.fd, static_cast<const iovec*>(op.buf),
                                             static_cast<unsigned>(op.len), off, op.flags);
                        break;
                    case IoOp::Kind::WriteV:
                        io_uring_prep_writev2(sqe, op.fd, static_cast<const iovec*>(op.buf),
                                              static_cast<unsigned>(op.len), off, op.flags);
                        break;
                    case IoOp::Kind::Fsync:
                        io_uring_prep_fsync(
                            sqe, op.fd, op.flags == IoOp::kDataSync ? IORING_FSYNC_DATASYNC : 0);
                        break;
                    case IoOp::Kind::CopyRange:  // pool_only: offloaded above
                    case IoOp::Kind::Call:
                        break;
                }
                // A file operation goes to io_uring's workers at once: its first try inline
                // would submit the file's readahead from this thread (the block layer can make
                // that wait for free requests), and the retry after the page lock would copy
                // the data in this thread's task work.
                if (is_file_op(op.kind)) sqe->flags |= IOSQE_ASYNC;
            },
            deadline, &op.landed);
        if (r.retry) [[unlikely]]
            return fallback_->submit(op, deadline);
        if (r.res >= 0) return r.res;
        if (r.fd_closed) return -EBADF;
        if (r.res == -ECANCELED || r.res == -EINTR) return -ETIME;
        // An fd in non-blocking mode: the kernel says EAGAIN rather than waiting; so do we.
        // (A file operation's EAGAIN is its answer: RWF_NOWAIT, which readiness cannot change.)
        if (r.res == -EAGAIN && !is_file_op(op.kind)) {
            const short events = is_input(op.kind) ? POLLIN : POLLOUT;
            return io_call(*this, op.fd, events, deadline, [&] { return submit_now(op); });
        }
        return r.res;
    }

    void fd_closed(int fd) noexcept override {
        if (fallback_) [[unlikely]]
            return fallback_->fd_closed(fd);
        if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
        FdSlot& slot = fds_[fd];
        ++slot.generation;
        if (slot.inflight == 0) return;
        // Cancel by fd must reach the kernel before close(2): it resolves the fd at submit time.
        io_uring_sqe* sqe = get_sqe();
        if (!sqe) return fallback_->fd_closed(fd);
        io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, kCloseCancelTag);
        // Until that cancel completes, the fibers whose operations it ends are still to be
        // woken: the hub stays alive for them even if they were spawned with ref=false.
        ++counts().waiters;
        ++close_cancels_;
        const int rc = io_uring_submit(&ring_);
        if (!transient(rc)) fail_over(rc);
    }

    void poll(Duration timeout) override {
        if (fallback_) [[unlikely]]
            return fallback_->poll(timeout);
        int rc = 0;
        if (timeout == Duration::zero()) {
            // Enter the kernel only with something to submit or deferred completions to run.
            const unsigned flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
            if (io_uring_sq_ready(&ring_) > 0 ||
                (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)))
                rc = io_uring_submit_and_get_events(&ring_);
        } else {
            io_uring_cqe* cqe = nullptr;
            if (timeout < Duration::zero()) {
                rc = io_uring_submit_and_wait(&ring_, 1);
            } else {
                const auto ns =
                    std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
                __kernel_timespec ts{ns / 1000000000, ns % 1000000000};
                rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
            }
        }
        if (!transient(rc)) [[unlikely]]
            return fail_over(rc);
        reap_completions();
    }

    bool completions_waiting() noexcept override {
        if (fallback_) [[unlikely]]
            return false;
        // Submitted once (the sqes a parking fiber queued), then only loads: the flag is how
        // deferred task work (DEFER_TASKRUN) shows, the ring's tail how completions do.
        if (io_uring_sq_ready(&ring_) > 0) {
            const int rc = io_uring_submit(&ring_);
            if (!transient(rc)) [[unlikely]]
                return true;  // poll() fails over
        }
        const unsigned flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
        return (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) || io_uring_cq_ready(&ring_);
    }

  private:
    struct FdSlot {
        std::uint32_t generation = 0;
        std::uint32_t inflight = 0;
    };

    struct OpOutcome {
        int res;         // the completion's result (-ECANCELED when the deadline cancelled it)
        bool fd_closed;  // notify_close() ran for this fd meanwhile
        bool retry;      // the ring failed: the caller runs it again on fallback_
    };

    // Submits one operation on `fd` (filled in by `prep`), parks until it completes or the
    // deadline passes, and on a timeout or an interrupt cancels it and stays parked until the
    // kernel's completion arrives: only then may the operation's memory (a poll, a receive
    // buffer) go away. When an interrupt unwinds a receive, `landed` gets the bytes that still
    // arrived, so the caller can keep them.
    template <class Prep>
    OpOutcome run_op(int fd, Prep&& prep, const Deadline& deadline, long* landed) {
        if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(fd + 1024);
        const std::uint32_t gen = fds_[fd].generation;
        const ParkLocal<Op> parked_op(hub_.current());  // compact fibers: on the heap
        Op& op = *parked_op;
        op.fiber = hub_.current();
        io_uring_sqe* sqe = get_sqe();
        if (!sqe) [[unlikely]]
            return {0, false, true};
        prep(sqe);
        short events = 0;  // for run_info
        switch (sqe->opcode) {
            case IORING_OP_POLL_ADD:
                events = static_cast<short>(sqe->poll32_events);
                break;
            case IORING_OP_RECV:
            case IORING_OP_READ:
            case IORING_OP_READV:
                events = POLLIN;
                break;
            case IORING_OP_SEND:
            case IORING_OP_WRITE:
            case IORING_OP_WRITEV:
                events = POLLOUT;
                break;
            default:
                break;
        }
        const WaitNote note(op.fiber, WaitKind::Io, nullptr, fd, events);
        io_uring_sqe_set_data(sqe, &op);
        ++fds_[fd].inflight;
        inflight_.push_back(op);
        const CountedWaiter counted(*this, op.fiber->ref());
        struct Cleanup {
            UringBackend& b;
            Op& op;
            int fd;
            long* landed;
            ~Cleanup() {
                if (!op.done) b.cancel_and_wait(op);
                if (landed && op.res > 0) *landed = op.res;
                --b.fds_[fd].inflight;
                b.inflight_.remove(op);
            }
        } cleanup{*this, op, fd, landed};
        while (!op.done) {
            if (!hub_.park(deadline)) break;
        }
        if (!op.done) cancel_and_wait(op);
        return {op.res, fds_[fd].generation != gen, op.retry};
    }

    // A free submission entry, flushing a full queue to the kernel; nullptr once the ring has
    // failed (fallback_ has taken over).
    io_uring_sqe* get_sqe() noexcept {
        for (;;) {
            if (fallback_) [[unlikely]]
                return nullptr;
            if (io_uring_sqe* sqe = io_uring_get_sqe(&ring_)) [[likely]]
                return sqe;
            const int rc = io_uring_submit(&ring_);
            if (!transient(rc)) fail_over(rc);
        }
    }

    // The operation made at once, without parking: what an expired deadline asks for, and the
    // retry of an fd in non-blocking mode. -EAGAIN when it would block.
    static long submit_now(IoOp& op) noexcept {
        const int ready = poll_once(op.fd, is_input(op.kind) ? POLLIN : POLLOUT);
        if (ready == 0) return -ETIME;
        if (ready < 0) return ready;
        return run_blocking(op);
    }

    // io_uring_enter failed for good: hand over to epoll. Closing the ring makes the kernel
    // cancel everything it still holds for us (so no late completion writes into a buffer), and
    // every parked operation wakes up to be run again on epoll.
    void fail_over(int rc) noexcept {
        if (fallback_) return;
        std::fprintf(stderr, "green: io_uring_enter failed (%s); switching this hub to epoll\n",
                     std::strerror(-rc));
        try {
            fallback_ = make_epoll_backend(hub_, this);
            if (wake_fd_ >= 0) fallback_->watch_wakeup(wake_fd_);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "green: cannot fall back to epoll: %s\n", e.what());
            std::abort();
        }
        close_ring();
        counts().waiters -= close_cancels_;  // those completions will never come
        close_cancels_ = 0;
        while (Op* op = inflight_.front()) {
            inflight_.remove(*op);
            op->retry = true;
            op->done = true;
            hub_.ready(*op->fiber);
        }
    }

    void close_ring() noexcept {
        runtime_fd_released(ring_.ring_fd);
        io_uring_queue_exit(&ring_);
    }

    void arm_wakeup() noexcept {
        io_uring_sqe* sqe = get_sqe();
        if (!sqe) return;
        io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
        io_uring_sqe_set_data64(sqe, kWakeTag);
    }

    void cancel_and_wait(Op& op) noexcept {
        io_uring_sqe* sqe = get_sqe();
        if (!sqe) return;  // the ring failed: fail_over has already woken every operation
        io_uring_prep_cancel64(sqe, reinterpret_cast<std::uint64_t>(&op), 0);
        io_uring_sqe_set_data64(sqe, 0);
        // Counted even for a ref=false fiber: the completion is sure to come, and until it
        // does the hub must not declare itself dead (a kill waiting on this fiber would get
        // LoopExit).
        const CountedWaiter counted(*this, true);
        while (!op.done) hub_.park_uninterruptible();
    }

    // Takes at most Hub::kTicksPerPoll completions. Each one's record lives on its fiber's stack,
    // a different page per fiber, usually out of the TLB and the cache: touch them all first,
    // so that the misses overlap instead of coming one per completion.
    void reap_completions() noexcept {
        io_uring_cqe* cqes[Hub::kTicksPerPoll];
        const unsigned n = io_uring_peek_batch_cqe(&ring_, cqes, Hub::kTicksPerPoll);
        for (unsigned i = 0; i < n; ++i) {
            if (cqes[i]->user_data > kCloseCancelTag)
                __builtin_prefetch(reinterpret_cast<const void*>(cqes[i]->user_data), 1, 3);
        }
        bool rearm = false;
        for (unsigned i = 0; i < n; ++i) {
            const io_uring_cqe* cqe = cqes[i];
            const std::uint64_t data = cqe->user_data;
            if (data == 0) continue;  // a cancel request's own completion
            if (data == kCloseCancelTag) {
                --counts().waiters;
                --close_cancels_;
                continue;
            }
            if (data == kWakeTag) {
                drain_eventfd(wake_fd_);
                if (!(cqe->flags & IORING_CQE_F_MORE)) rearm = true;
                continue;
            }
            auto* op = reinterpret_cast<Op*>(data);
            op->res = cqe->res;
            op->done = true;
            hub_.ready(*op->fiber);
        }
        io_uring_cq_advance(&ring_, n);
        if (rearm) arm_wakeup();
    }

    io_uring ring_;
    int wake_fd_ = -1;
    std::vector<FdSlot> fds_;
    IntrusiveList<Op> inflight_;
    std::size_t close_cancels_ = 0;        // fd_closed's cancels not completed yet
    std::unique_ptr<IoBackend> fallback_;  // epoll, once the ring has failed
};

}  // namespace

std::unique_ptr<IoBackend> make_uring_backend(Hub& hub, const char** why) {
    io_uring ring;
    io_uring_params params;
    // Completions' task work runs only when the hub enters the ring for events (DEFER_TASKRUN,
    // Linux 6.1), not whenever the kernel interrupts the thread: the hub takes its completions
    // in batches at its poll anyway, and only its own thread ever enters the ring (SINGLE_ISSUER).
    // TASKRUN_FLAG still shows pending work to poll()'s zero-timeout look. Older kernels get
    // cooperative task work (5.19), then none of these flags.
    constexpr unsigned kFlagSets[] = {
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQSIZE,
        IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQSIZE,
        IORING_SETUP_CQSIZE,
    };
    int rc = -EINVAL;
    for (unsigned flags : kFlagSets) {
        std::memset(&params, 0, sizeof params);
        params.flags = flags;
        params.cq_entries = kCqEntries;
        rc = io_uring_queue_init_params(kEntries, &ring, &params);
        if (rc != -EINVAL) break;  // EINVAL: a kernel without one of the flags
    }
    if (rc < 0) {
        *why = std::strerror(-rc);
        return nullptr;
    }
    if (!(params.features & IORING_FEAT_EXT_ARG)) {
        io_uring_queue_exit(&ring);
        *why = "kernel lacks IORING_FEAT_EXT_ARG (needs Linux 5.11+)";
        return nullptr;
    }
    // A forked child must never write into the parent's rings (they are shared memory): keep
    // them out of the child altogether; the child builds its own ring (Hub::reinit_after_fork).
    io_uring_ring_dontfork(&ring);
    return std::make_unique<UringBackend>(hub, ring);
}

}  // namespace green::detail

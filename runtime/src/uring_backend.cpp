// io_uring backend. Each readiness wait is one IORING_OP_POLL_ADD; submissions are batched and
// sent with the loop's single io_uring_enter per turn. An abandoned wait (timeout, kill) is
// cancelled and the fiber stays parked until the kernel's completion for it arrives, so the
// kernel never completes into memory that is gone.
#include <liburing.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "hub.hpp"
#include "io_backend.hpp"
#include "poll_once.hpp"

namespace green::detail {

namespace {

constexpr std::uint64_t kWakeTag = 1;
constexpr std::uint64_t kCloseCancelTag = 2;  // fd_closed's cancel of every op on the fd
constexpr unsigned kEntries = 4096;
// Completions wait in the CQ ring until the loop takes them (Hub::kTicksPerPoll per turn), so
// it must hold one per waiting fiber: 16,384 before the kernel's slower overflow list is used.
constexpr unsigned kCqEntries = 4 * kEntries;

struct Op {
    Fiber* fiber = nullptr;
    int res = 0;
    bool done = false;
};

class UringBackend final : public IoBackend {
  public:
    UringBackend(Hub& hub, io_uring ring) : IoBackend(hub), ring_(ring) {}
    ~UringBackend() override { io_uring_queue_exit(&ring_); }

    const char* name() const noexcept override { return "io_uring"; }

    void watch_wakeup(int event_fd) override {
        wake_fd_ = event_fd;
        arm_wakeup();
    }

    int wait_fd(int fd, short events, const Deadline& deadline) override {
        if (fd < 0) return -EBADF;
        if (deadline.expired()) return poll_once(fd, events);
        const OpOutcome r = run_op(
            fd,
            [&](io_uring_sqe* sqe) {
                io_uring_prep_poll_add(sqe, fd, static_cast<unsigned>(events));
            },
            deadline, nullptr);
        if (r.fd_closed) return -EBADF;
        if (r.res == -ECANCELED) return 0;  // the deadline passed
        if (r.res < 0) return r.res;
        if (r.res & POLLNVAL) return -EBADF;
        return r.res;
    }

    long recv_op(int fd, void* buf, std::size_t len, int flags, const Deadline& deadline,
                 long& landed) override {
        landed = 0;
        if (fd < 0) return -EBADF;
        if (deadline.expired()) return -ENOSYS;  // a plain non-blocking attempt does that best
        const OpOutcome r = run_op(
            fd,
            // No IORING_RECVSEND_POLL_FIRST even right after a short read: the kernel tries the
            // recv when the loop turn submits it, and under load the peer's next message is
            // often there by then, which saves arming a poll (measured in bench/echo/README.md).
            [&](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf, len, flags); }, deadline,
            &landed);
        if (r.res >= 0) return r.res;  // data may have landed even as the deadline passed
        if (r.fd_closed) return -EBADF;
        if (r.res == -ECANCELED || r.res == -EINTR) return -ETIME;
        return r.res;
    }

    void fd_closed(int fd) noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
        FdSlot& slot = fds_[fd];
        ++slot.generation;
        if (slot.inflight == 0) return;
        // Cancel by fd must reach the kernel before close(2): it resolves the fd at submit time.
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_cancel_fd(sqe, fd, IORING_ASYNC_CANCEL_ALL);
        io_uring_sqe_set_data64(sqe, kCloseCancelTag);
        // Until that cancel completes, the fibers whose operations it ends are still to be
        // woken: the hub stays alive for them even if they were spawned with ref=false.
        ++waiters_;
        io_uring_submit(&ring_);
    }

    void poll(Duration timeout) override {
        if (timeout == Duration::zero()) {
            // Enter the kernel only with something to submit or deferred completions to run.
            const unsigned flags = IO_URING_READ_ONCE(*ring_.sq.kflags);
            if (io_uring_sq_ready(&ring_) > 0 ||
                (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)))
                io_uring_submit_and_get_events(&ring_);
        } else {
            io_uring_cqe* cqe = nullptr;
            if (timeout < Duration::zero()) {
                io_uring_submit_and_wait(&ring_, 1);
            } else {
                const auto ns =
                    std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
                __kernel_timespec ts{ns / 1000000000, ns % 1000000000};
                io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
            }
        }
        reap_completions();
    }

  private:
    struct FdSlot {
        std::uint32_t generation = 0;
        std::uint32_t inflight = 0;
    };

    struct OpOutcome {
        int res;         // the completion's result (-ECANCELED when the deadline cancelled it)
        bool fd_closed;  // notify_close() ran for this fd meanwhile
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
        Op op;
        op.fiber = hub_.current();
        io_uring_sqe* sqe = get_sqe();
        prep(sqe);
        io_uring_sqe_set_data(sqe, &op);
        ++fds_[fd].inflight;
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
            }
        } cleanup{*this, op, fd, landed};
        while (!op.done) {
            if (!hub_.park(deadline)) break;
        }
        if (!op.done) cancel_and_wait(op);
        return {op.res, fds_[fd].generation != gen};
    }

    io_uring_sqe* get_sqe() noexcept {
        io_uring_sqe* sqe;
        // A full submission queue is flushed to the kernel, then we retry.
        while (!(sqe = io_uring_get_sqe(&ring_))) io_uring_submit(&ring_);
        return sqe;
    }

    void arm_wakeup() noexcept {
        io_uring_sqe* sqe = get_sqe();
        io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
        io_uring_sqe_set_data64(sqe, kWakeTag);
    }

    void cancel_and_wait(Op& op) noexcept {
        io_uring_sqe* sqe = get_sqe();
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
                --waiters_;
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
};

}  // namespace

std::unique_ptr<IoBackend> make_uring_backend(Hub& hub, const char** why) {
    io_uring ring;
    io_uring_params params;
    std::memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
                   IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_CQSIZE;
    params.cq_entries = kCqEntries;
    int rc = io_uring_queue_init_params(kEntries, &ring, &params);
    if (rc == -EINVAL) {  // an older kernel without those flags
        std::memset(&params, 0, sizeof params);
        params.flags = IORING_SETUP_CQSIZE;
        params.cq_entries = kCqEntries;
        rc = io_uring_queue_init_params(kEntries, &ring, &params);
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

// epoll backend, in the style of Go's netpoll: each fd is registered once, edge-triggered, and
// tagged with a sequence number so readiness for a closed fd never reaches the fd's next owner.
// An edge that arrives while nobody waits is kept as a one-shot "ready" token.
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <vector>

#include "fd_generation.hpp"
#include "green/detail/intrusive_list.hpp"
#include "green/detail/park_local.hpp"
#include "io_backend.hpp"
#include "io_call.hpp"
#include "owned_fds.hpp"
#include "poll_once.hpp"
#include "scheduler.hpp"

namespace green::detail {

namespace {

constexpr std::uint64_t kWakeKey = ~std::uint64_t{0};

struct FdWaiter {
    FdWaiter* prev = nullptr;
    FdWaiter* next = nullptr;
    Fiber* fiber = nullptr;
    short events = 0;
    int result = 0;  // ready bits, or -EBADF
    bool linked = false;
};

struct FdState {
    std::uint32_t seq = 0;
    std::uint32_t generation = 0;  // the number's fd_generation when registered
    bool registered = false;
    bool always_ready = false;  // regular files: epoll refuses them, and they never block
    bool read_token = false;
    bool write_token = false;
    // A hang-up or error was seen for this fd (sticky until close): see wait_before_recv_ok.
    bool hangup_seen = false;
    IntrusiveList<FdWaiter> waiters;
};

class EpollBackend final : public IoBackend {
  public:
    explicit EpollBackend(Hub& hub) : IoBackend(hub), epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
        if (epfd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
        recv_policy_ = configured_recv_policy(RecvPolicy::WaitFirst);
        runtime_fd_acquired(epfd_);
    }
    ~EpollBackend() override {
        runtime_fd_released(epfd_);
        ::close(epfd_);
    }

    const char* name() const noexcept override { return "epoll"; }

    void adopt_counts(IoBackend& owner) noexcept { count_into(owner); }

    void watch_wakeup(int event_fd) override {
        wake_fd_ = event_fd;  // the mailbox's: marked runtime-owned there
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kWakeKey;
        ::epoll_ctl(epfd_, EPOLL_CTL_ADD, event_fd, &ev);
    }

    int wait_fd(int fd, short events, const Deadline& deadline) override {
        if (fd < 0) return -EBADF;
        if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(fd + 1024);
        FdState& st = fds_[fd];
        if (!registered(fd, st)) [[unlikely]] {
            if (int err = register_fd(fd, st)) return -err;
        }
        if (st.always_ready) return events & (POLLIN | POLLOUT);
        short got = 0;
        if ((events & POLLIN) && st.read_token) got |= POLLIN;
        if ((events & POLLOUT) && st.write_token) got |= POLLOUT;
        if (got) {
            if (got & POLLIN) st.read_token = false;
            if (got & POLLOUT) st.write_token = false;
            return got;
        }
        if (deadline.expired()) return poll_once(fd, events);

        const ParkLocal<FdWaiter> waiter(hub_.current());  // compact fibers: on the heap
        FdWaiter& w = *waiter;
        w.fiber = hub_.current();
        w.events = events;
        const WaitNote note(w.fiber, WaitKind::Io, nullptr, fd, events);
        link(fd, w);
        const CountedWaiter counted(*this, w.fiber->ref());
        struct Cleanup {
            EpollBackend& b;
            int fd;
            FdWaiter& w;
            ~Cleanup() { b.unlink(fd, w); }
        } cleanup{*this, fd, w};
        while (w.linked) {
            if (!hub_.park(deadline)) break;
        }
        return w.result;
    }

    long submit(IoOp& op, const Deadline& deadline) override {
        if (compact_caller(op)) [[unlikely]]
            return submit_compact(op, deadline);
        op.landed = 0;
        if (op.fd < 0 && op.kind != IoOp::Kind::Call) return -EBADF;
        const int fd = op.fd;
        switch (op.kind) {
            case IoOp::Kind::Recv:
                return io_call(*this, fd, POLLIN, deadline, [&] {
                    return sys_result(::recv(fd, op.buf, op.len, op.flags | MSG_DONTWAIT));
                });
            case IoOp::Kind::Send:
                return io_call(*this, fd, POLLOUT, deadline, [&] {
                    return sys_result(::send(fd, op.buf, op.len, op.flags | MSG_DONTWAIT));
                });
            default:
                break;
        }
        // A regular file is always "ready" and its operations still wait for the disk.
        if (op.pool || is_file_op(op.kind) || regular_file(fd)) return offload(op);
        const short events = is_input(op.kind) ? POLLIN : POLLOUT;
        auto call = [&] { return run_blocking(op); };
        return io_call(*this, fd, events, deadline, when_ready_attempt(fd, events, call));
    }

    void fd_closed(int fd) noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return;
        FdState& st = fds_[fd];
        if (st.registered && !st.always_ready) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
        forget(st);
        while (FdWaiter* w = st.waiters.front()) {
            unlink(fd, *w);
            w->result = -EBADF;
            hub_.ready(*w->fiber);
        }
    }

    // Edge-triggered: an edge spent on waking a reader before its short read is not repeated.
    // New data after that read raises a new edge, but an end of stream that came with the spent
    // edge would not: that is the one case where the reader must try recv(2) first. A harvested
    // event reports the socket's state at harvest time, so a hang-up already there shows in it.
    bool wait_before_recv_ok(int fd) const noexcept override {
        if (fd < 0 || static_cast<std::size_t>(fd) >= fds_.size()) return false;
        const FdState& st = fds_[fd];
        return current(fd, st) && !st.always_ready && !st.hangup_seen;
    }

    void poll(Duration timeout) override { (void)harvest(timeout); }

    bool poll_spinning() override { return harvest(Duration::zero()) > 0; }

  private:
    // Waits up to `timeout` and dispatches what the kernel reports; returns how many events.
    int harvest(Duration timeout) {
        // At most Hub::kTicksPerPoll: the rest stay on the kernel's ready list for the next turn.
        constexpr int kMax = Hub::kTicksPerPoll;
        epoll_event events[kMax];
        int n;
        if (timeout < Duration::zero()) {
            n = ::epoll_wait(epfd_, events, kMax, -1);
        } else {
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
            timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
            n = pwait2_ ? ::epoll_pwait2(epfd_, events, kMax, &ts, nullptr) : -1;
            if (n < 0 && errno == ENOSYS) {
                pwait2_ = false;
                // Millisecond resolution, rounded up so that timers are never early.
                n = ::epoll_wait(epfd_, events, kMax, static_cast<int>((ns + 999999) / 1000000));
            }
        }
        for (int i = 0; i < n; ++i) dispatch(events[i]);
        return n;
    }

    bool regular_file(int fd) noexcept {
        if (static_cast<std::size_t>(fd) >= fds_.size()) fds_.resize(fd + 1024);
        FdState& st = fds_[fd];
        if (!registered(fd, st) && register_fd(fd, st) != 0) return false;  // the call reports it
        return st.always_ready;
    }

    static std::uint64_t key(int fd, std::uint32_t seq) noexcept {
        return (std::uint64_t{seq} << 32) | static_cast<std::uint32_t>(fd);
    }

    // Registered, and the number still names the file it was registered for. Otherwise it was
    // closed (on another hub, or where no hook saw it) and maybe reused: the kernel dropped the
    // old file from the set, and its readiness tokens are forgotten. Waiters stay: register_fd
    // adds the number again (or re-keys it, if the file is the same after all), and the kernel
    // reports the file's current readiness on the add, which at worst wakes them spuriously.
    bool registered(int fd, FdState& st) noexcept {
        if (current(fd, st)) [[likely]]
            return true;
        if (st.registered) forget(st);
        return false;
    }
    static bool current(int fd, const FdState& st) noexcept {
        return st.registered && st.generation == fd_generation(fd);
    }

    // What was known of an fd's file, gone; events still queued under its old key are stale.
    static void forget(FdState& st) noexcept {
        ++st.seq;
        st.registered = st.always_ready = st.read_token = st.write_token = st.hangup_seen = false;
    }

    int register_fd(int fd, FdState& st) noexcept {
        st.generation = fd_generation(fd);  // before the add: a close after it shows next time
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = key(fd, st.seq);
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
            if (errno == EEXIST) {
                ::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev);
            } else if (errno == EPERM) {
                st.always_ready = true;
            } else {
                return errno;
            }
        }
        st.registered = true;
        return 0;
    }

    void link(int fd, FdWaiter& w) noexcept { fds_[fd].waiters.push_back(w); }
    void unlink(int fd, FdWaiter& w) noexcept { fds_[fd].waiters.remove(w); }

    void dispatch(const epoll_event& ev) noexcept {
        if (ev.data.u64 == kWakeKey) {
            drain_eventfd(wake_fd_);
            return;
        }
        const int fd = static_cast<int>(ev.data.u64 & 0xffffffffu);
        const auto seq = static_cast<std::uint32_t>(ev.data.u64 >> 32);
        if (static_cast<std::size_t>(fd) >= fds_.size()) return;
        FdState& st = fds_[fd];
        if (st.seq != seq || !st.registered) return;  // stale: the fd was closed since
        if (ev.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) st.hangup_seen = true;
        short ready = 0;
        if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ready |= POLLIN;
        if (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ready |= POLLOUT;
        if (ev.events & EPOLLHUP) ready |= POLLHUP;
        if (ev.events & EPOLLERR) ready |= POLLERR;
        short delivered = 0;
        for (FdWaiter* w = st.waiters.front(); w;) {
            FdWaiter* next = w->next;
            short mine = ready & (w->events | POLLHUP | POLLERR);
            if (mine & (POLLIN | POLLOUT | POLLHUP | POLLERR)) {
                delivered |= mine;
                unlink(fd, *w);
                w->result = mine;
                hub_.ready(*w->fiber);
            }
            w = next;
        }
        // An edge nobody consumed is remembered for the next wait in that direction.
        if ((ready & POLLIN) && !(delivered & POLLIN)) st.read_token = true;
        if ((ready & POLLOUT) && !(delivered & POLLOUT)) st.write_token = true;
    }

    int epfd_;
    int wake_fd_ = -1;
    bool pwait2_ = true;
    std::vector<FdState> fds_;
};

}  // namespace

std::unique_ptr<IoBackend> make_epoll_backend(Hub& hub, IoBackend* counts_owner) {
    auto b = std::make_unique<EpollBackend>(hub);
    if (counts_owner) b->adopt_counts(*counts_owner);
    return b;
}

}  // namespace green::detail

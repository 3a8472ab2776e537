// wait_any: a cooperative wait on many descriptors. The temporary epoll set is level-triggered
// and holds exactly the caller's interest, so a wake-up means "poll again" and nothing is lost
// between the caller's zero-timeout check and the wait.
#include "wait_any.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <utility>
#include <vector>

#include "green/hub.hpp"

namespace green::hooks {

namespace {

std::uint32_t to_epoll(short ev) noexcept {
    std::uint32_t e = 0;
    if (ev & (POLLIN | POLLRDNORM)) e |= EPOLLIN;
    if (ev & (POLLPRI | POLLRDBAND)) e |= EPOLLPRI;
    if (ev & (POLLOUT | POLLWRNORM | POLLWRBAND)) e |= EPOLLOUT;
    if (ev & POLLRDHUP) e |= EPOLLRDHUP;
    return e;
}

short to_wait(std::uint32_t e) noexcept {
    short w = 0;
    if (e & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) w |= POLLIN;
    if (e & EPOLLOUT) w |= POLLOUT;
    return w;
}

// Sleep until the deadline (poll with no descriptors is a sleep); "forever" keeps a timer
// armed so the hub does not mistake the wait for a deadlock.
int sleep_until(const Deadline& deadline) {
    if (!deadline.infinite()) {
        green::sleep(deadline.remaining());
        return 0;
    }
    for (;;) green::sleep(std::chrono::hours(24));
}

class TempEpoll {
  public:
    TempEpoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {}
    ~TempEpoll() {
        if (fd_ < 0) return;
        green::notify_close(fd_);  // the hub registered it while we waited
        ::syscall(SYS_close, fd_);
    }
    int fd() const noexcept { return fd_; }

  private:
    int fd_;
};

}  // namespace

int wait_any(const pollfd* fds, nfds_t n, std::initializer_list<int> extra,
             const Deadline& deadline) {
    std::vector<std::pair<int, std::uint32_t>> want;
    want.reserve(n + 1);
    for (nfds_t i = 0; i < n; ++i)
        if (fds[i].fd >= 0) want.emplace_back(fds[i].fd, to_epoll(fds[i].events));
    for (int fd : extra)
        if (fd >= 0) want.emplace_back(fd, EPOLLIN);
    if (want.empty()) return sleep_until(deadline);
    if (want.size() == 1) {
        const int w = green::wait_fd(want[0].first, to_wait(want[0].second), deadline);
        if (w == -EBADF) return 1;  // poll itself reports POLLNVAL
        return w > 0 ? 1 : w;
    }
    std::sort(want.begin(), want.end());
    TempEpoll ep;
    if (ep.fd() < 0) return -errno;
    for (std::size_t i = 0; i < want.size();) {
        std::size_t j = i;
        std::uint32_t events = 0;
        for (; j < want.size() && want[j].first == want[i].first; ++j) events |= want[j].second;
        epoll_event ev{};
        ev.events = events;
        ev.data.fd = want[i].first;
        if (::epoll_ctl(ep.fd(), EPOLL_CTL_ADD, want[i].first, &ev) != 0) {
            // EPERM: a regular file, always ready; EBADF: poll reports POLLNVAL. Either way the
            // caller's next zero-timeout poll has an answer.
            if (errno == EPERM || errno == EBADF) return 1;
            // Anything else (an fd epoll cannot watch): degrade to a short sleep, then look again.
            green::sleep(std::min<Duration>(deadline.remaining(), std::chrono::milliseconds(10)));
            return 1;
        }
        i = j;
    }
    const int w = green::wait_fd(ep.fd(), POLLIN, deadline);
    return w > 0 ? 1 : w;
}

int signal_wake_fd(const sigset_t* mask) noexcept {
    if (!mask) return -1;
    sigset_t blocked;
    if (::pthread_sigmask(SIG_SETMASK, nullptr, &blocked) != 0) return -1;
    sigset_t wake;
    sigemptyset(&wake);
    bool any = false;
    for (int s = 1; s < NSIG; ++s) {
        if (sigismember(&blocked, s) == 1 && sigismember(mask, s) == 0) {
            sigaddset(&wake, s);
            any = true;
        }
    }
    if (!any) return -1;
    // Never read: it only tells us a signal is pending, which the caller's zero-timeout
    // ppoll/pselect/epoll_pwait with the program's mask then delivers (EINTR).
    return ::signalfd(-1, &wake, SFD_CLOEXEC | SFD_NONBLOCK);
}

void close_wake_fd(int fd) noexcept {
    if (fd < 0) return;
    green::notify_close(fd);
    ::syscall(SYS_close, fd);
}

}  // namespace green::hooks

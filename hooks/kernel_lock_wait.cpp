// kernel_lock_wait: the helper thread, its wake-up signal and the fiber's side of the wait. The
// kernel ends a lock wait only for a signal, so the helper unblocks one signal (SIGRTMAX, with a
// handler installed without SA_RESTART that does nothing for our own wake-ups) and the fiber,
// when it must stop waiting, queues that signal to the helper until the call has returned.
#include "kernel_lock_wait.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>

#include "hook_common.hpp"
#include "spin_lock.hpp"

// glibc's own sigaction: under the preload `sigaction` is the hooks' (program handlers run from
// their dispatch); the helper's handler must be the kernel's, on the helper thread.
extern "C" int __sigaction(int, const struct sigaction*, struct sigaction*);

namespace green::hooks {

namespace {

// Marks a wake-up as ours in si_value: the handler ignores only those.
char g_cookie;
SpinLock g_install_lock;

int wake_signal() noexcept {
    return SIGRTMAX;
}

void on_wake(int sig, siginfo_t* info, void*) {
    if (info && info->si_code == SI_QUEUE && info->si_pid == ::getpid() &&
        info->si_value.sival_ptr == &g_cookie)
        return;  // ours: its only job was to end the helper's system call
    // Anybody else's (kill -RTMAX): the program never handled it, so the default action
    // (termination) it would have had, delivered once this handler returns.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    __sigaction(sig, &dfl, nullptr);
    ::syscall(SYS_tgkill, ::getpid(), ::syscall(SYS_gettid), sig);
}

bool is_ours(const struct sigaction& sa) noexcept {
    return (sa.sa_flags & SA_SIGINFO) && sa.sa_sigaction == &on_wake;
}

// Our handler on the wake-up signal: installed while the signal is at its default, kept while
// it is ours; false when the program handles or ignores it (the caller polls then).
bool wake_handler_installed() {
    const int sig = wake_signal();
    struct sigaction cur {};
    if (__sigaction(sig, nullptr, &cur) != 0) return false;
    if (is_ours(cur)) return true;
    std::lock_guard lk(g_install_lock);
    if (__sigaction(sig, nullptr, &cur) != 0) return false;
    if (is_ours(cur)) return true;
    if ((cur.sa_flags & SA_SIGINFO) || cur.sa_handler != SIG_DFL) return false;
    struct sigaction sa {};
    sa.sa_sigaction = &on_wake;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_SIGINFO;  // no SA_RESTART: the kernel must end the lock wait with EINTR
    return __sigaction(sig, &sa, nullptr) == 0;
}

// What the fiber and its helper share.
struct HelperCall {
    std::function<int()> blocking;
    int done_fd = -1;  // eventfd the helper writes once the call returned (its last use of it)
    std::atomic<pid_t> tid{0};
    std::atomic<bool> stop{false};
    std::atomic<int> result{0};
    std::atomic<int> error{0};
};

void run_helper(const std::shared_ptr<HelperCall>& c) {
    c->tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal());
    ::syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &wake, nullptr, _NSIG / 8);
    int r = -1, e = EINTR;
    // A wake-up that was not for this call (a queued signal left for an earlier helper with
    // the same thread id) must not end it: only `stop` does.
    while (!c->stop.load()) {
        errno = 0;
        r = c->blocking();
        e = errno;
        if (!(r < 0 && e == EINTR)) break;
    }
    ::syscall(SYS_rt_sigprocmask, SIG_BLOCK, &wake, nullptr, _NSIG / 8);
    c->result.store(r);
    c->error.store(e);
    const std::uint64_t one = 1;
    (void)!::syscall(SYS_write, c->done_fd, &one, sizeof one);
}

// The fiber's end: the eventfd, and stopping the helper however the wait ends.
class HelperWait {
  public:
    explicit HelperWait(std::shared_ptr<HelperCall> c) : c_(std::move(c)) {}
    HelperWait(const HelperWait&) = delete;
    HelperWait& operator=(const HelperWait&) = delete;
    // Unwinding (pthread_cancel, a fiber's kill): the helper's call is ended before the caller's
    // lock description goes away.
    ~HelperWait() {
        if (!finished_) stop();
        ::close(c_->done_fd);
    }

    // Whether the helper's call returned (its eventfd written); never blocks.
    bool finished() noexcept {
        if (finished_) return true;
        std::uint64_t n;
        finished_ = ::syscall(SYS_read, c_->done_fd, &n, sizeof n) == sizeof n;
        return finished_;
    }

    // Ends the helper's call: the wake-up signal, queued again every millisecond until the call
    // returned (one queued before the helper entered the call is lost). The hub waits the few
    // microseconds the kernel takes to end the call; no park, so this works while unwinding.
    void stop() noexcept {
        c_->stop.store(true);
        while (!finished()) {
            if (const pid_t tid = c_->tid.load()) {
                siginfo_t info{};
                info.si_signo = wake_signal();
                info.si_code = SI_QUEUE;
                info.si_pid = ::getpid();
                info.si_uid = ::getuid();
                info.si_value.sival_ptr = &g_cookie;
                ::syscall(SYS_rt_tgsigqueueinfo, ::getpid(), tid, wake_signal(), &info);
            }
            struct pollfd p {
                c_->done_fd, POLLIN, 0
            };
            struct timespec ms {
                0, 1000000
            };
            ::syscall(SYS_ppoll, &p, 1, &ms, nullptr, _NSIG / 8);
        }
    }

  private:
    std::shared_ptr<HelperCall> c_;
    bool finished_ = false;
};

}  // namespace

bool kernel_lock_wait(const std::function<int()>& blocking, int& result) {
    if (!wake_handler_installed()) return false;
    auto call = std::make_shared<HelperCall>();
    call->blocking = blocking;
    call->done_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (call->done_fd < 0) return false;
    try {
        rt::start_os_thread([call] { run_helper(call); }).detach();
    } catch (...) {
        ::close(call->done_fd);
        return false;
    }
    HelperWait wait(call);
    for (;;) {
        const int p = hook_park(call->done_fd, POLLIN, Deadline());
        if (wait.finished()) break;
        // A handler without SA_RESTART ran: the call ends with EINTR, unless it got the lock
        // first. With SA_RESTART (p > 0) the kernel restarts the wait: the helper is still in it.
        if (p < 0) {
            wait.stop();
            break;
        }
    }
    result = call->result.load();
    errno = call->error.load();
    return true;
}

}  // namespace green::hooks

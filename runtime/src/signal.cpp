// on_signal / signal_wait: registered signals are blocked in the hub's thread and read from one
// signalfd by a watcher fiber. Other threads (offload workers started earlier) may still have
// them unblocked, so a tiny forwarding handler re-sends any signal they catch to the hub thread.
#include "green/signal.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "green/greenlet.hpp"
#include "green/hub.hpp"
#include "green/wait_queue.hpp"
#include "scheduler.hpp"

namespace green {

namespace {

std::atomic<pid_t> g_hub_tid{0};

// The hub thread's real mask, with the raw system calls: under thread patching the hooks make
// pthread_sigmask and sigtimedwait per-fiber emulations, and this must act on the thread itself.
int thread_sigmask(int how, const sigset_t* set, sigset_t* old) noexcept {
    return static_cast<int>(::syscall(SYS_rt_sigprocmask, how, set, old, _NSIG / 8));
}

int take_now(const sigset_t* set) noexcept {
    const timespec zero{0, 0};
    return static_cast<int>(::syscall(SYS_rt_sigtimedwait, set, nullptr, &zero, _NSIG / 8));
}

void forward_to_hub(int signo) {
    const int saved = errno;
    const pid_t tid = g_hub_tid.load(std::memory_order_relaxed);
    if (tid > 0) ::syscall(SYS_tgkill, ::getpid(), tid, signo);
    errno = saved;
}

struct SignalWaiter {
    WaitQueue queue{detail::WaitKind::Signal};
    int got = 0;
};

struct Registration {
    std::uint64_t id;
    int signo;
    std::function<void()> callback;  // run in a new greenlet; or:
    SignalWaiter* waiter;            // woken directly (signal_wait)
    bool ref;                        // keeps the hub alive (on_signal's ref=false: not)
};

struct SignalSlot {
    int count = 0;
    struct sigaction previous_action {};
    bool was_blocked = false;
};

class Registry {
  public:
    static Registry& get() {
        static Registry* r = new Registry();  // never destroyed: signals may outlive main
        return *r;
    }

    std::uint64_t add(int signo, std::function<void()> cb, SignalWaiter* waiter, bool ref) {
        check_thread();
        if (signo <= 0 || signo >= NSIG || signo == SIGKILL || signo == SIGSTOP)
            throw std::invalid_argument("green::on_signal: cannot handle signal " +
                                        std::to_string(signo));
        SignalSlot& slot = slots_[signo];
        if (slot.count == 0) enable(signo, slot);
        ++slot.count;
        regs_.push_back(Registration{next_id_++, signo, std::move(cb), waiter, ref});
        return regs_.back().id;
    }

    void remove(std::uint64_t id) noexcept {
        for (auto it = regs_.begin(); it != regs_.end(); ++it) {
            if (it->id != id) continue;
            const int signo = it->signo;
            regs_.erase(it);
            SignalSlot& slot = slots_[signo];
            if (--slot.count == 0) disable(signo, slot);
            return;
        }
    }

  private:
    void check_thread() {
        if (owner_ == std::thread::id()) {
            owner_ = std::this_thread::get_id();
            g_hub_tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
        } else if (owner_ != std::this_thread::get_id()) {
            throw std::logic_error(
                "green::on_signal: signals are already handled by another thread's hub");
        }
    }

    void enable(int signo, SignalSlot& slot) {
        sigset_t one, old;
        sigemptyset(&one);
        sigaddset(&one, signo);
        thread_sigmask(SIG_BLOCK, &one, &old);
        slot.was_blocked = sigismember(&old, signo) == 1;
        sigaddset(&mask_, signo);
        if (!update_fd()) {
            const int err = errno;
            sigdelset(&mask_, signo);
            if (!slot.was_blocked) thread_sigmask(SIG_UNBLOCK, &one, nullptr);
            throw std::system_error(err, std::system_category(), "signalfd");
        }
        struct sigaction sa {};
        sa.sa_handler = &forward_to_hub;
        sigfillset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        ::sigaction(signo, &sa, &slot.previous_action);
    }

    void disable(int signo, SignalSlot& slot) noexcept {
        ::sigaction(signo, &slot.previous_action, nullptr);
        sigdelset(&mask_, signo);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, signo);
        // Instances that arrived for the removed handler are consumed, not redelivered with the
        // old disposition (which may be "terminate") once the signal is unblocked.
        while (take_now(&one) == signo) {
        }
        if (!slot.was_blocked) thread_sigmask(SIG_UNBLOCK, &one, nullptr);
        if (regs_.empty()) {
            stop_watcher();
        } else {
            update_fd();
        }
    }

    bool update_fd() {
        if (fd_ >= 0) return ::signalfd(fd_, &mask_, 0) >= 0;
        fd_ = ::signalfd(-1, &mask_, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd_ < 0) return false;
        const int fd = fd_;
        const std::uint64_t gen = ++generation_;
        watcher_ =
            spawn(SpawnOptions{"green-signal-watcher", 0}, [this, fd, gen] { watch(fd, gen); });
        return true;
    }

    void stop_watcher() noexcept {
        if (fd_ < 0) return;
        ++generation_;
        // The watcher wakes with EBADF and ends; it owns nothing else. Let it end now, so a
        // program that returns from main right after this leaves no fiber behind.
        notify_close(fd_);
        ::close(fd_);
        fd_ = -1;
        GreenletHandle watcher = std::exchange(watcher_, {});
        if (watcher && !watcher.dead() && !(getcurrent() == watcher)) {
            try {
                watcher.join();
            } catch (...) {
                // Interrupted (kill/Timeout pending here): the watcher still ends on its own.
            }
        }
    }

    void watch(int fd, std::uint64_t gen) {
        for (;;) {
            // Stopped while this fiber was not waiting (its fd is closed, maybe reused): done.
            if (gen != generation_) return;
            // The watcher's wait keeps the hub alive only for handlers that asked to.
            bool any_ref = false;
            for (const auto& reg : regs_) any_ref = any_ref || reg.ref;
            detail::Hub::get().current()->set_ref(any_ref);
            const int r = wait_fd(fd, POLLIN);
            // Closed (no handlers left), or closed and replaced by a newer watcher's fd.
            if (r < 0 || gen != generation_) return;
            signalfd_siginfo info[8];
            for (;;) {
                const ssize_t n = ::read(fd, info, sizeof info);
                if (n <= 0) break;
                for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof info[0]; ++i)
                    dispatch(static_cast<int>(info[i].ssi_signo));
            }
        }
    }

    void dispatch(int signo) {
        for (auto& reg : regs_) {
            if (reg.signo != signo) continue;
            if (reg.waiter) {
                if (!reg.waiter->got) reg.waiter->got = signo;
                reg.waiter->queue.notify_all();
            } else {
                spawn(SpawnOptions{"signal-" + std::to_string(signo), 0}, reg.callback);
            }
        }
    }

    Registry() { sigemptyset(&mask_); }

    std::thread::id owner_;
    std::vector<Registration> regs_;
    SignalSlot slots_[NSIG];
    sigset_t mask_;
    int fd_ = -1;
    std::uint64_t next_id_ = 1;
    std::uint64_t generation_ = 0;
    GreenletHandle watcher_;
};

}  // namespace

SignalHandler& SignalHandler::operator=(SignalHandler&& o) noexcept {
    if (this != &o) {
        cancel();
        ids_ = std::move(o.ids_);
        o.ids_.clear();
    }
    return *this;
}

void SignalHandler::cancel() noexcept {
    for (auto id : ids_) Registry::get().remove(id);
    ids_.clear();
}

SignalHandler on_signal(std::initializer_list<int> signals, std::function<void()> callback,
                        bool ref) {
    if (!callback) throw std::invalid_argument("green::on_signal: empty callback");
    SignalHandler h;
    for (int signo : signals) h.ids_.push_back(Registry::get().add(signo, callback, nullptr, ref));
    return h;
}

int signal_wait(std::initializer_list<int> signals, Deadline deadline) {
    SignalWaiter waiter;
    struct Unregister {
        std::vector<std::uint64_t> ids;
        ~Unregister() {
            for (auto id : ids) Registry::get().remove(id);
        }
    } reg;
    for (int signo : signals) reg.ids.push_back(Registry::get().add(signo, nullptr, &waiter, true));
    while (!waiter.got) {
        if (!waiter.queue.wait(deadline)) break;
    }
    return waiter.got;
}

}  // namespace green

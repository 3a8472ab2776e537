// capture_thread: SIGURG to the thread, whose handler records the interrupted stack with the
// async-signal-safe capture_here (libgcc's unwinder) into one slot, and a bounded wait for it.
#include "stall_capture.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <thread>

// glibc's own sigaction under its internal name: under the preload the hooks wrap `sigaction`
// (program handlers run from their dispatch); this handler must run on the interrupted thread,
// at once.
extern "C" int __sigaction(int, const struct sigaction*, struct sigaction*);

namespace green::detail {

namespace {

enum : int { Idle, Requested, Capturing, Done };

struct Slot {
    std::atomic<int> state{Idle};
    std::atomic<pid_t> tid{0};
    Frames frames;
};
Slot g_slot;
struct sigaction g_previous {};  // what SIGURG did before ours: forwarded to
std::mutex g_mu;                 // one capture at a time
bool g_refused = false;          // the program handles SIGURG: no captures

void on_signal(int sig, siginfo_t* info, void* uc) {
    const int saved = errno;
    int expected = Requested;
    if (g_slot.tid.load(std::memory_order_relaxed) == static_cast<pid_t>(::syscall(SYS_gettid)) &&
        g_slot.state.compare_exchange_strong(expected, Capturing, std::memory_order_acquire)) {
        std::uintptr_t pcs[kMaxFrames + 8];
        const int n = capture_here(pcs, kMaxFrames + 8);
        // Drop this handler and the kernel's signal trampoline: from the interrupted
        // instruction on (the unwinder reports it exactly, not as a return address).
        int from = 0;
#if defined(__x86_64__)
        const auto rip =
            static_cast<std::uintptr_t>(static_cast<ucontext_t*>(uc)->uc_mcontext.gregs[REG_RIP]);
        for (int i = 0; i < n; ++i)
            if (pcs[i] == rip) {
                from = i;
                break;
            }
#endif
        Frames& f = g_slot.frames;
        f.n = 0;
        for (int i = from; i < n && f.n < kMaxFrames; ++i) f.pc[f.n++] = pcs[i];
        g_slot.state.store(Done, std::memory_order_release);
    } else if (g_previous.sa_flags & SA_SIGINFO) {
        if (g_previous.sa_sigaction) g_previous.sa_sigaction(sig, info, uc);
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
        g_previous.sa_handler(sig);
    }
    errno = saved;
}

bool ours_installed() {
    struct sigaction now {};
    if (__sigaction(SIGURG, nullptr, &now) != 0) return false;
    return (now.sa_flags & SA_SIGINFO) && now.sa_sigaction == &on_signal;
}

bool install() {
    if (g_refused) return false;
    static const bool installed = [] {
        struct sigaction old {};
        if (__sigaction(SIGURG, nullptr, &old) != 0) return false;
        const bool program_handles = (old.sa_flags & SA_SIGINFO)
                                         ? old.sa_sigaction != nullptr
                                         : old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN;
        if (program_handles) return false;
        g_previous = old;
        struct sigaction sa {};
        sa.sa_sigaction = &on_signal;
        sigemptyset(&sa.sa_mask);
        // The hub's alternate stack (overflow_guard) where it has one: a fiber deep in its stack
        // still has room for the unwinder.
        sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
        return __sigaction(SIGURG, &sa, nullptr) == 0;
    }();
    if (!installed) g_refused = true;
    // A program may install its own SIGURG handler later: it wins, and captures stop.
    return installed && ours_installed();
}

}  // namespace

bool capture_thread(pid_t tid, Frames& out, Duration wait) noexcept {
    std::lock_guard lk(g_mu);
    if (!install()) return false;
    g_slot.tid.store(tid, std::memory_order_relaxed);
    g_slot.state.store(Requested, std::memory_order_release);
    if (::syscall(SYS_tgkill, ::getpid(), tid, SIGURG) != 0) {
        g_slot.state.store(Idle, std::memory_order_relaxed);
        return false;
    }
    const auto until = Clock::now() + wait;
    for (;;) {
        int s = g_slot.state.load(std::memory_order_acquire);
        if (s == Done) break;
        if (s == Requested && Clock::now() >= until) {
            // Withdraw it; a handler that started meanwhile finishes first.
            if (g_slot.state.compare_exchange_strong(s, Idle)) return false;
            continue;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    out = g_slot.frames;
    g_slot.state.store(Idle, std::memory_order_relaxed);
    return true;
}

}  // namespace green::detail

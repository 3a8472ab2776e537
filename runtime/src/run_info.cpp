// format_run_info / print_run_info, and the dump signal (GREEN_DUMP_SIGNAL).
//
// A hub's fibers are read on the hub's own thread only: the registry (Hub::fibers()) and the
// wait records are plain fields of the hub's thread. Other hubs are asked through their
// mailbox. The signal handler only sets a flag and writes the first hub's eventfd; that hub's
// loop does the printing.
#include "green/run_info.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "backtrace.hpp"
#include "config.hpp"
#include "hub_list.hpp"
#include "scheduler.hpp"
#include "stack_pool.hpp"
#include "stack_use.hpp"

// glibc's sigaction under its internal name: under the preload the hooks wrap `sigaction`, and
// a handler installed through them runs later, from a fiber; this one must run at once and only
// poke the hub (async-signal-safe).
extern "C" int __sigaction(int, const struct sigaction*, struct sigaction*);

namespace green {

namespace detail {

std::atomic<bool> g_dump_requested{false};

const char* wait_kind_name(WaitKind k) noexcept {
    switch (k) {
        case WaitKind::None:
            return "unknown";
        case WaitKind::Sleep:
            return "sleep";
        case WaitKind::Io:
            return "io";
        case WaitKind::Event:
            return "event";
        case WaitKind::AsyncResult:
            return "async result";
        case WaitKind::Lock:
            return "lock";
        case WaitKind::Semaphore:
            return "semaphore";
        case WaitKind::QueueGet:
            return "queue get";
        case WaitKind::QueuePut:
            return "queue put";
        case WaitKind::QueuePeek:
            return "queue peek";
        case WaitKind::QueueJoin:
            return "queue join";
        case WaitKind::Join:
            return "join";
        case WaitKind::Offload:
            return "offload";
        case WaitKind::Idle:
            return "idle";
        case WaitKind::Signal:
            return "signal";
        case WaitKind::WaitQueue:
            return "wait queue";
        case WaitKind::Select:
            return "select";
    }
    return "unknown";
}

std::int64_t coarse_now_ns() noexcept {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

namespace {

std::string events_text(short ev) {
    std::string s;
    if (ev & POLLIN) s += "in";
    if (ev & POLLOUT) s += s.empty() ? "out" : "|out";
    if (s.empty()) s = std::to_string(ev);
    return s;
}

void append_seconds(std::string& out, std::int64_t ns) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3fs", static_cast<double>(ns) / 1e9);
    out += buf;
}

}  // namespace

void append_wait(std::string& out, const WaitInfo& w, WaitKind kind, std::int64_t steady_now) {
    char buf[48];
    out += wait_kind_name(kind);
    if (kind == WaitKind::Io) {
        out += " fd " + std::to_string(w.fd) + " " + events_text(w.events);
    } else if (kind == WaitKind::Offload && w.fd >= 0) {
        out += " fd " + std::to_string(w.fd);
    }
    if (w.object) {
        std::snprintf(buf, sizeof buf, " %p", w.object);
        out += buf;
    }
    if (w.deadline_ns) {
        out += ", deadline in ";
        append_seconds(out, w.deadline_ns - steady_now > 0 ? w.deadline_ns - steady_now : 0);
    }
}

namespace {

// The dump signal's target: the first hub's eventfd, kept open by holding its mailbox.
std::atomic<int> g_dump_fd{-1};
Hub* g_dump_hub = nullptr;  // written before the handler is installed, and after a fork
std::shared_ptr<Mailbox>* g_dump_mailbox = nullptr;

void on_dump_signal(int) {
    const int saved = errno;
    g_dump_requested.store(true, std::memory_order_relaxed);
    const int fd = g_dump_fd.load(std::memory_order_relaxed);
    if (fd >= 0) poke_event_fd(fd);
    errno = saved;
}

const char* state_word(const Fiber& f, const Hub& hub) {
    if (&f == hub.current()) return "running";
    switch (f.state()) {
        case FiberState::Created:
            return "created";
        case FiberState::Runnable:
            return "runnable";
        case FiberState::Running:
            return "running";
        case FiberState::Parked:
            return "parked";
        case FiberState::Suspended:
            return "suspended";
        case FiberState::Dead:
            return "dead";
    }
    return "?";
}

void append_fiber(std::string& out, const Fiber& f, const Hub& hub, bool is_main,
                  std::int64_t coarse_now, std::int64_t steady_now, Backtracer& bt,
                  StackUseMeter& meter) {
    char buf[160];
    out += "  ";
    if (is_main) {
        out += "main";
    } else if (&f == &hub.loop_fiber()) {
        out += "hub";
    } else if (const std::uint64_t id = f.id()) {
        out += "#" + std::to_string(id);
    } else {
        std::snprintf(buf, sizeof buf, "raw@%p", static_cast<const void*>(&f));
        out += buf;
    }
    std::string name;
    try {
        name = is_main ? std::string("main") : f.name();
    } catch (...) {
        name = "?";
    }
    out += " '" + name + "' ";
    out += state_word(f, hub);
    const WaitInfo& w = f.wait_info();
    if (f.state() == FiberState::Parked && &f != hub.current()) {
        out += " for ";
        append_seconds(out, coarse_now - w.since_ns > 0 ? coarse_now - w.since_ns : 0);
        out += ": ";
        append_wait(out, w, w.kind, steady_now);
    }
    const std::uint64_t by = f.spawned_by();
    if (by == kSpawnedByMain)
        out += "; spawned by main";
    else if (by == kSpawnedByOther)
        out += "; spawned by a raw greenlet";
    else if (by != kSpawnedByUnknown)
        out += "; spawned by #" + std::to_string(by);
    const std::size_t stack = f.stack().size ? f.stack().size : f.stack_size();
    if (stack && !is_main) {
        std::snprintf(buf, sizeof buf, "; stack %zu KiB", stack / 1024);
        out += buf;
    }
    if (f.compact()) {
        // Its stack is the hub's shared run stack; switched out, only its image is its own.
        std::snprintf(buf, sizeof buf, ", compact (%u bytes kept)", f.image().size);
        out += buf;
    } else if (f.stack().base && !is_main) {
        const StackSlot& s = f.stack();
        const double kib = static_cast<double>(meter.deepest(s, StackPool::top(s))) / 1024;
        std::snprintf(buf, sizeof buf,
                      s.zeroed ? ", deepest %.1f KiB" : ", deepest at most %.1f KiB (reused stack)",
                      kib);
        out += buf;
    }
    out += '\n';
    // Every fiber that is not running and has run has a saved context to unwind from.
    const FiberState st = f.state();
    if (&f != hub.current() && f.saved_context() &&
        (st == FiberState::Parked || st == FiberState::Runnable || st == FiberState::Suspended))
        bt.append(out, bt.unwind_fiber(f, is_main), "    ");
}

// The run info of the calling thread's hub.
std::string format_hub(Hub& hub) {
    std::string out;
    char thread_name[32] = "";
    (void)::pthread_getname_np(::pthread_self(), thread_name, sizeof thread_name);
    const long tid = ::syscall(SYS_gettid);
    out += "Hub on thread " + std::to_string(tid) + " '" + thread_name + "' (" + hub.io().name() +
           "), " + std::to_string(hub.fibers().size() + 1) + " fibers:\n";
    const std::int64_t coarse_now = coarse_now_ns();
    const std::int64_t steady_now =
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
            .count();
    Backtracer bt;
    StackUseMeter meter;
    if (!bt.unavailable().empty()) out += "  (no backtraces: " + bt.unavailable() + ")\n";
    append_fiber(out, hub.main_fiber(), hub, true, coarse_now, steady_now, bt, meter);
    for (const FiberLink* l = hub.fibers().front(); l; l = l->next)
        append_fiber(out, Fiber::of(*l), hub, false, coarse_now, steady_now, bt, meter);
    // Fibers spawned from now on get stacks whose deepest use is their own.
    hub.stacks().clean_free(meter);
    return out;
}

}  // namespace

void dump_signal_hub_created(Hub& hub) noexcept {
    const int signo = config().dump_signal;
    if (!signo) return;
    static bool installed = [&] {
        struct sigaction old {};
        if (__sigaction(signo, nullptr, &old) != 0) return false;
        // The program's own handler (or its choice to ignore the signal) wins.
        if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler != SIG_DFL) return false;
        if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction) return false;
        g_dump_mailbox = new std::shared_ptr<Mailbox>(hub.mailbox());  // keeps the eventfd open
        g_dump_hub = &hub;
        g_dump_fd.store((*g_dump_mailbox)->event_fd, std::memory_order_relaxed);
        struct sigaction sa {};
        sa.sa_handler = &on_dump_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        return __sigaction(signo, &sa, nullptr) == 0;
    }();
    (void)installed;
}

void run_info_after_fork(Hub& hub) noexcept {
    if (g_dump_mailbox) {
        *g_dump_mailbox = hub.mailbox();
        g_dump_hub = &hub;
        g_dump_fd.store(hub.mailbox()->event_fd, std::memory_order_relaxed);
    }
}

void dump_requested(Hub& hub) noexcept {
    if (&hub != g_dump_hub) return;
    if (!g_dump_requested.exchange(false, std::memory_order_relaxed)) return;
    try {
        print_run_info(stderr);
    } catch (...) {
        std::fprintf(stderr, "green: cannot format the run info\n");
    }
}

}  // namespace detail

std::string format_run_info() {
    using namespace detail;
    Hub& mine = Hub::get();
    std::string out = format_hub(mine);
    for (auto& text : ask_other_hubs<std::string>(mine, [](Hub& h) { return format_hub(h); }))
        out += text ? *text
                    : "A hub that did not answer within 1s (busy or blocked in a system call)\n";
    return out;
}

void print_run_info(std::FILE* out) {
    const std::string s = format_run_info();
    std::fwrite(s.data(), 1, s.size(), out);
    std::fflush(out);
}

}  // namespace green

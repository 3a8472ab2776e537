// The pre-fork master: forks workers with plain fork(2) while the process has one thread and no
// hub (so nothing in the copy is half-changed by another thread, and no event loop or fiber is
// copied), waits for SIGCHLD/SIGTERM/SIGINT/SIGQUIT with sigtimedwait (no hub, no handler), and
// replaces workers that die. Each worker builds its own hub after the fork.
#include "green/prefork.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "green/greenlet.hpp"
#include "green/signal.hpp"
#include "scheduler.hpp"

namespace green {

namespace {

using namespace std::chrono_literals;

constexpr Duration kFirstRestartDelay = 100ms, kMaxRestartDelay = 5s;

// num_threads, the 20th field of /proc/self/stat (after the parenthesised command name).
long thread_count() {
    std::ifstream f("/proc/self/stat");
    const std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::size_t pos = close + 2;  // field 3 (state)
    for (int field = 3; field < 20; ++field) {
        pos = stat.find(' ', pos);
        if (pos == std::string::npos) return -1;
        ++pos;
    }
    return std::strtol(stat.c_str() + pos, nullptr, 10);
}

void describe_exit(char* out, std::size_t len, int status) {
    if (WIFEXITED(status)) {
        std::snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        std::snprintf(out, len, "was killed by signal %d (%s)", WTERMSIG(status),
                      ::strsignal(WTERMSIG(status)));
    } else {
        std::snprintf(out, len, "ended (wait status %#x)", status);
    }
}

struct WorkerSlot {
    pid_t pid = 0;
    Clock::time_point started{};
    Clock::time_point restart_at{};  // when pid is 0: not before this
    Duration delay = Duration::zero();
};

class Master {
  public:
    Master(std::size_t n, Socket& listener, WorkerMain& main, const PreforkOptions& o)
        : listener_(listener), main_(main), options_(o), workers_(n) {}

    int run() {
        sigemptyset(&handled_);
        for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGQUIT}) sigaddset(&handled_, s);
        ::sigprocmask(SIG_BLOCK, &handled_, &old_mask_);
        // An ignored SIGCHLD would reap the workers behind our back; take it back meanwhile.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        ::sigaction(SIGCHLD, &dfl, &old_chld_);
        struct Restore {
            Master& m;
            ~Restore() {
                ::sigaction(SIGCHLD, &m.old_chld_, nullptr);
                ::sigprocmask(SIG_SETMASK, &m.old_mask_, nullptr);
            }
        } restore{*this};

        for (std::size_t i = 0; i < workers_.size(); ++i) start(i);
        for (;;) {
            const int sig = wait_signal(next_restart());
            if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) break;
            reap(false);
            const auto now = Clock::now();
            for (std::size_t i = 0; i < workers_.size(); ++i)
                if (workers_[i].pid == 0 && workers_[i].restart_at <= now) start(i);
        }
        return stop();
    }

  private:
    // The time until the earliest restart that is due, or a second (reaping never depends on
    // it: SIGCHLD stays pending while blocked).
    Duration next_restart() const {
        Duration wait = 1s;
        const auto now = Clock::now();
        for (auto& w : workers_)
            if (w.pid == 0) wait = std::min(wait, std::max(Duration::zero(), w.restart_at - now));
        return wait;
    }

    // The next handled signal, or 0 when `timeout` passed.
    int wait_signal(Duration timeout) {
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
        const timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
        siginfo_t info;
        const int sig = ::sigtimedwait(&handled_, &info, &ts);
        return sig < 0 ? 0 : sig;
    }

    void start(std::size_t i) {
        WorkerSlot& w = workers_[i];
        std::fflush(nullptr);  // or buffered output would be written again by each worker
        const pid_t master = ::getpid();
        const pid_t pid = ::fork();
        if (pid == 0) run_worker(master);
        if (pid < 0) {
            std::fprintf(stderr, "green: prefork: fork failed: %s; trying again\n",
                         std::strerror(errno));
            schedule_restart(w, true);
            return;
        }
        w.pid = pid;
        w.started = Clock::now();
    }

    void schedule_restart(WorkerSlot& w, bool quick_death) {
        w.pid = 0;
        w.delay = quick_death ? std::clamp(w.delay * 2, kFirstRestartDelay, kMaxRestartDelay)
                              : Duration::zero();
        w.restart_at = Clock::now() + w.delay;
    }

    // Reaps every worker that ended; while running, schedules its replacement. Returns how many
    // ended with a status other than 0.
    int reap(bool stopping) {
        int failed = 0;
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            WorkerSlot& w = workers_[i];
            if (w.pid == 0) continue;
            int status = 0;
            const pid_t r = ::waitpid(w.pid, &status, WNOHANG);
            if (r == 0 || (r < 0 && errno == EINTR)) continue;
            // r < 0 (ECHILD): reaped by someone else; nothing to report but its absence.
            const bool clean = r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!clean) ++failed;
            if (stopping) {
                if (!clean && r > 0) log(i, w.pid, status, "");
                w.pid = 0;
                continue;
            }
            if (r > 0) log(i, w.pid, status, "; starting another");
            schedule_restart(w, Clock::now() - w.started < options_.min_uptime);
        }
        return failed;
    }

    void log(std::size_t i, pid_t pid, int status, const char* what) {
        char how[96];
        describe_exit(how, sizeof how, status);
        std::fprintf(stderr, "green: prefork: worker %zu (pid %d) %s%s\n", i, static_cast<int>(pid),
                     how, what);
    }

    bool any_alive() const {
        return std::any_of(workers_.begin(), workers_.end(), [](auto& w) { return w.pid != 0; });
    }

    int stop() {
        for (auto& w : workers_)
            if (w.pid) ::kill(w.pid, SIGTERM);
        int failed = reap(true);
        const auto deadline = detail::after_now(options_.stop_timeout);
        while (any_alive()) {
            const auto now = Clock::now();
            if (now >= deadline) break;
            wait_signal(std::min<Duration>(deadline - now, 100ms));
            failed += reap(true);
        }
        for (std::size_t i = 0; i < workers_.size(); ++i) {
            WorkerSlot& w = workers_[i];
            if (w.pid == 0) continue;
            std::fprintf(stderr,
                         "green: prefork: worker %zu (pid %d) still runs after %.1f s: "
                         "killing it\n",
                         i, static_cast<int>(w.pid),
                         std::chrono::duration<double>(options_.stop_timeout).count());
            ::kill(w.pid, SIGKILL);
            while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
            }
            w.pid = 0;
            ++failed;
        }
        return failed ? 1 : 0;
    }

    // The child: never returns into the caller's frames (they belong to the master's logic).
    [[noreturn]] void run_worker(pid_t master) {
        int status = 0;
        try {
            // No orphans: a worker gets SIGTERM when the master dies, even by SIGKILL.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != master) ::_exit(1);  // it died before prctl took effect
            // The caller's signal state, except that the stop signals stay blocked until the
            // hub's own handler reads them (one sent right after the fork is not lost).
            ::sigaction(SIGCHLD, &old_chld_, nullptr);
            sigset_t mask = old_mask_;
            for (int s : {SIGTERM, SIGINT, SIGQUIT}) sigaddset(&mask, s);
            ::sigprocmask(SIG_SETMASK, &mask, nullptr);
            auto worker = spawn([this] { main_(std::move(listener_)); });
            auto on_stop = on_signal({SIGTERM, SIGINT, SIGQUIT}, [&] { worker.kill(false); });
            worker.join();
            on_stop.cancel();
            if (!worker.successful()) status = 1;  // the runtime reported the exception
        } catch (const std::exception& e) {
            std::fprintf(stderr, "green: prefork: worker %d failed: %s\n", ::getpid(), e.what());
            status = 1;
        } catch (...) {
            status = 1;
        }
        // _exit, not exit: atexit handlers and static destructors belong to the master (they
        // would run once per worker, e.g. removing the master's files).
        std::fflush(nullptr);
        ::_exit(status);
    }

    Socket& listener_;
    WorkerMain& main_;
    const PreforkOptions& options_;
    std::vector<WorkerSlot> workers_;
    sigset_t handled_{};
    sigset_t old_mask_{};
    struct sigaction old_chld_ {};
};

}  // namespace

int prefork(std::size_t workers, Socket listener, WorkerMain worker_main, PreforkOptions options) {
    if (workers == 0) throw std::invalid_argument("green::prefork: needs at least one worker");
    if (!worker_main) throw std::invalid_argument("green::prefork: empty worker function");
    if (!listener) throw std::invalid_argument("green::prefork: invalid socket");
    if (listener.type() == SOCK_STREAM && listener.getsockopt(SOL_SOCKET, SO_ACCEPTCONN) == 0)
        throw std::invalid_argument("green::prefork: the stream socket does not listen");
    if (detail::g_live_hubs.load(std::memory_order_relaxed) != 0)
        throw std::logic_error(
            "green::prefork: a hub exists already; call prefork before green is used (each "
            "worker would inherit that hub's fibers)");
    if (thread_count() != 1)
        throw std::logic_error(
            "green::prefork: the process has other threads; fork copies only the calling one, "
            "and locks the others hold would stay locked in every worker");
    Master master(workers, listener, worker_main, options);
    return master.run();
}

int prefork(std::size_t workers, const Address& address, WorkerMain worker_main,
            PreforkOptions options) {
    Socket s(address.family(), SOCK_STREAM);
    if (address.is_ip()) s.set_reuseaddr();
    s.bind(address);
    s.listen(options.backlog);
    return prefork(workers, std::move(s), std::move(worker_main), options);
}

}  // namespace green

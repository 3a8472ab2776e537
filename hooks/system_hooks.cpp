// system(): glibc's, step for step, with the wait made cooperative. glibc waits for the shell
// inside libc (no hook reaches that waitpid), so in a fiber the whole call is done here: while
// any system() runs, SIGINT and SIGQUIT are ignored (the first caller saves their actions, the
// last restores them); SIGCHLD is blocked in the calling thread (per fiber thread under thread
// patching); the shell starts with the caller's old mask and SIGINT/SIGQUIT at their default
// unless they were ignored before; the shell is started on the offload pool (shell_child.hpp)
// and waited for with the cooperative waitpid; a shell that cannot be started reads as exit
// status 127; system(NULL) says whether a shell runs at all.
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <mutex>

#include "hook_common.hpp"
#include "shell_child.hpp"
#include "spin_lock.hpp"

namespace green::hooks {

namespace {

// glibc's static state: how many system() calls run, and the actions they replaced.
SpinLock g_lock;
int g_running = 0;
struct sigaction g_intr, g_quit;

void ignore_interactive_signals() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    std::lock_guard lk(g_lock);
    if (g_running++ == 0) {
        ::sigaction(SIGINT, &ignore, &g_intr);
        ::sigaction(SIGQUIT, &ignore, &g_quit);
    }
}

void restore_interactive_signals() noexcept {
    std::lock_guard lk(g_lock);
    if (--g_running == 0) {
        ::sigaction(SIGINT, &g_intr, nullptr);
        ::sigaction(SIGQUIT, &g_quit, nullptr);
    }
}

// Restores what system() changed in the caller however the wait ends (a cancelled or killed
// caller too: glibc leaves its mask alone then, as the thread is ending; a fiber killed in
// linked mode is not, and its OS thread's mask must not keep SIGCHLD blocked).
class CallerSignals {
  public:
    CallerSignals() {
        ignore_interactive_signals();
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &chld, &old_mask_);
    }
    CallerSignals(const CallerSignals&) = delete;
    CallerSignals& operator=(const CallerSignals&) = delete;
    ~CallerSignals() {
        restore_interactive_signals();
        ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    const sigset_t& old_mask() const noexcept { return old_mask_; }

  private:
    sigset_t old_mask_;
};

int cooperative_system(const char* line) {
    int status = -1;
    int spawn_error = 0;
    {
        CallerSignals caller;
        sigset_t reset;
        sigemptyset(&reset);
        if (g_intr.sa_handler != SIG_IGN) sigaddset(&reset, SIGINT);
        if (g_quit.sa_handler != SIG_IGN) sigaddset(&reset, SIGQUIT);
        posix_spawnattr_t attr;
        ::posix_spawnattr_init(&attr);
        ::posix_spawnattr_setsigmask(&attr, &caller.old_mask());
        ::posix_spawnattr_setsigdefault(&attr, &reset);
        ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        ReapOnUnwind reap;
        spawn_error = start_shell(reap.slot(), nullptr, &attr, line);
        ::posix_spawnattr_destroy(&attr);
        if (spawn_error == 0) {
            const pid_t pid = reap.pid();
            pid_t r;
            do {
                r = ::waitpid(pid, &status, 0);  // the cooperative one, a cancellation point
            } while (r == -1 && errno == EINTR);
            reap.dismiss();
            if (r != pid) status = -1;
        } else {
            status = W_EXITCODE(127, 0);  // POSIX: as if the shell had run _exit(127)
        }
    }
    if (spawn_error != 0) errno = spawn_error;
    return status;
}

}  // namespace

}  // namespace green::hooks

using namespace green::hooks;

extern "C" {

int system(const char* line) {
    if (!patched(Need::Io)) return GREEN_REAL(system)(line);
    cancel::act_if_pending();  // system() is a cancellation point
    if (line == nullptr) return cooperative_system("exit 0") == 0;
    return cooperative_system(line);
}

}  // extern "C"
